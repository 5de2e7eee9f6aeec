/* The steps of the Windows fix-up (win.c calls them), on files the caller
 * has found: registry hives through libhivex, the ESP through mtools. Inside
 * fixup/ only. */
#ifndef MULETTO_FIXUP_WIN_HIVE_H
#define MULETTO_FIXUP_WIN_HIVE_H

#include <hivex.h>
#include <stddef.h>

#include "muletto/disk/disk.h"
#include "muletto/fixup/fixup.h"
#include "muletto/fixup/win.h"

/* ---- hives (win_hive.c) ---- */

/* The hive at path, for writing unless dry_run; NULL with a message. */
hive_h *win_hive_open(const char *path, int write);
/* Written to a file beside path, then renamed over it: Windows finds the old
 * hive or the new one, never half of one. 0 or negative with a message. */
int win_hive_commit(hive_h *h, const char *path);
/* The key at a "\\"-separated path below node (names in any case), or 0. */
hive_node_h win_hive_key(hive_h *h, hive_node_h node, const char *path);
/* A REG_DWORD value: 1 with *ret, 0 when absent or of another type. */
int win_hive_dword(hive_h *h, hive_node_h node, const char *name, uint32_t *ret);
/* A string value as UTF-8 into out: 1, or 0 when absent or not a string. */
int win_hive_string(hive_h *h, hive_node_h node, const char *name, char *out, size_t n);
/* The value name removed from node, the others kept. 0 or negative. */
int win_hive_remove_value(hive_h *h, hive_node_h node, const char *name);
/* The value set (replaced when it exists). 0 or negative. */
int win_hive_set(hive_h *h, hive_node_h node, const char *name, hive_type t, const void *data,
		 size_t len);
/* "Windows 10 Pro (build 19045)" from a SOFTWARE hive; 0 or negative. */
int win_hive_product(const char *software, char *name, size_t n);

/* ---- the SYSTEM hive (win_system.c) ---- */

/* Every ControlSetNNN of the SYSTEM hive at path: storage drivers at boot
 * start, their StartOverride removed, disk-class filters without a driver
 * dropped, AutoReboot 0; and MountedDevices' \DosDevices\C: made to name
 * win, the partition Windows is on, when it names no partition of d (a
 * partition moved on MBR, a new disk signature, new GUIDs), else Windows
 * would give its own volume another letter. Committed unless dry_run. */
int win_system_fix(const char *path, const struct disk_info *d, const struct disk_part *win,
		   int dry_run, struct fixup_report *r);

/* ---- the BCD store (win_bcd.c) ---- */

/* The identity partition p of d has in a BCD store or MountedDevices (GPT:
 * partition and disk GUIDs; MBR: offset and signature); 0, or -EINVAL when
 * d's table gives none. */
int win_part_identity(const struct disk_info *d, const struct disk_part *p,
		      struct win_bcd_device *id);

/* The BCD hive at path: every partition device element made to name a
 * partition of d: the one it names when that is on d (GPT: by partition GUID;
 * MBR: by offset), else home (where the BCD lives) for the boot manager's
 * device and what names the same, else win (Windows). where: "ESP" or "C:"
 * for the items. Committed unless dry_run: 1 when it was changed, 0 when not
 * (or dry_run), negative with a message. */
int win_bcd_fix(const char *path, const char *where, const struct disk_info *d,
		const struct disk_part *home, const struct disk_part *win, int dry_run,
		struct fixup_report *r);
/* The ESP of d (UEFI): its BCD fixed, the fallback loader put in place. 1 when
 * it holds Windows' boot manager, 0 when not, negative with a message. tmp: a
 * folder for copies. */
int win_esp_fix(const struct disk_info *d, const struct disk_part *esp, const struct disk_part *win,
		const char *tmp, int dry_run, struct fixup_report *r);

#endif
