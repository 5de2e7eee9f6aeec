/* Between snapshot.c (which sources) and snapshot_lvm.c (taking them). */
#ifndef MULETTO_SNAPSHOT_INT_H
#define MULETTO_SNAPSHOT_INT_H

#include "muletto/disk/snapshot.h"

/* An LVM logical volume, as device-mapper names it. */
struct snapshot_lvid {
	char vg[SNAPSHOT_NAME_MAX], lv[SNAPSHOT_NAME_MAX];
	char dm[256]; /* device-mapper's name: "vg-root" */
	int layer;    /* a layer inside a volume ("vg-root-real"), not one itself */
};

/* The device whose sysfs folder is sysdir: -1 when it is no device-mapper
 * device, 0 when LVM does not manage it (or its names are not LVM's), 1 for
 * LVM's, with *ret filled (dm always). */
int snapshot_dm_lv(const char *sysdir, struct snapshot_lvid *ret);

/* snapshot_check_source, with the volume's names in *ret on success. */
int snapshot_identify(const char *path, struct snapshot_lvid *ret);

#endif
