/* A partition table written for a plan, keeping what identifies the system:
 * the GPT disk GUID or MBR disk signature, each partition's number, unique
 * GUID, type, name and attribute bits (the MBR's active flag), so that fstab
 * by PARTUUID, EFI boot entries and Windows' boot store still find their
 * partitions.
 *
 * libfdisk (util-linux) writes it: libparted 3.5, the other library at hand,
 * can set none of the GUIDs, types beyond its list of flags, attribute bits
 * or partition numbers, and one writer of the table leaves no moment where
 * half of it is right. 1 MiB alignment is the plan's. */
#ifndef MULETTO_LAYOUT_TABLE_H
#define MULETTO_LAYOUT_TABLE_H

#include "muletto/format/manifest.h"
#include "muletto/layout/plan.h"

/* Writes the table of d, placed by pl, on fd (path names it in messages);
 * the kernel is asked to read it again. */
int layout_table_write(const struct plan *pl, const struct manifest_disk *d, int fd,
		       const char *path);

#endif
