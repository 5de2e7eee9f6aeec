/* Where an image's bytes land on a target laid out by a plan: each
 * partition's bytes at its new start, the MBR's boot code (and, on an MBR
 * disk with sectors of the same size, the gap before the first partition,
 * where a BIOS boot loader lives) where they were; the old partition table
 * and whatever lay outside the partitions dropped (the new table is written
 * afterwards), and so is a swap partition that is made anew. */
#ifndef MULETTO_LAYOUT_MAP_H
#define MULETTO_LAYOUT_MAP_H

#include "muletto/disk/dio.h"
#include "muletto/format/manifest.h"
#include "muletto/layout/plan.h"

#define LAYOUT_BOOT_CODE 440 /* bytes of an MBR before its disk signature */

struct layout_map {
	struct dio_map map;
	struct dio_seg *segs;
};

/* The map for plan pl of disk d onto io (the target, without a map). A
 * partition that shrinks has its bytes beyond its new size go to tails[i]
 * (for pl->p[i]; an overflow file, from its start), and one made anew from
 * a copy (PLAN_FROM_COPY) has all its bytes go there; tails may be NULL. */
int layout_map_make(const struct plan *pl, const struct manifest_disk *d, const struct dio *io,
		    const struct dio *const *tails, struct layout_map *ret);
void layout_map_free(struct layout_map *m);

#endif
