/* The machine an image is captured on: firmware, host name, and the PCI
 * storage and network controllers, for the manifest. */
#ifndef MULETTO_DISK_MACHINE_H
#define MULETTO_DISK_MACHINE_H

#include "muletto/format/manifest.h"

int machine_describe(struct manifest *m);

#endif
