/* The machine an image is captured on: firmware, host name, and the PCI
 * storage and network controllers, for the manifest. */
#ifndef MULETTO_DISK_MACHINE_H
#define MULETTO_DISK_MACHINE_H

#include "muletto/format/manifest.h"

int machine_describe(struct manifest *m);

/* 1 when this machine booted UEFI (the kernel shows /sys/firmware/efi), 0 BIOS. */
int machine_is_uefi(void);

/* How this machine differs from the one captured in m, for a system restored
 * from m to boot here: "firmware bios -> uefi", "storage controllers" (their
 * PCI ids and drivers), "network cards" (a recorded MAC that is not here),
 * "; "-separated into why; "" when it does not. A
 * manifest that recorded no firmware counts as different ("machine not
 * recorded"). 0, or a negative code when this machine cannot be read. */
int machine_differs(const struct manifest *m, char *why, size_t n);

#endif
