/* Windows made to boot where it landed: the SYSTEM hive edited offline with
 * libhivex (storage drivers at boot start in every ControlSet, disk filters
 * whose driver is gone dropped, no automatic reboot on a crash), the BCD
 * store's partitions checked against the disk and fixed, the UEFI fallback
 * loader put in place, the report written as C:\muletto-fixup.txt.
 * The NTFS volume is mounted with ntfs-3g (read-only for --dry-run), the ESP
 * read and written with mtools (no vfat module needed). */
#ifndef MULETTO_FIXUP_WIN_H
#define MULETTO_FIXUP_WIN_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/disk/disk.h"
#include "muletto/fixup/fixup.h"

/* Windows on the NTFS partition p of disk d (as disk_probe filled it; p->dev
 * must be a block device, e.g. a loop partition) made to boot on the machine
 * o describes; r is filled (kind "windows"). 1 when p holds Windows: r says
 * what was done, and r->refused is set with the reason as an item when nothing
 * could be (hibernated or Fast-Startup volume, BitLocker). 0 when p holds no
 * Windows (r untouched). A negative errno with a message when it could not
 * look or the hives could not be written. */
int fixup_windows(const struct disk_info *d, const struct disk_part *p, const struct fixup_opts *o,
		  struct fixup_report *r);

/* Whether p holds Windows (Windows/System32/config/SYSTEM, any case): 1 with
 * its name in name ("Windows 10 Pro (build 19045)" from the SOFTWARE hive, or
 * "Windows"), 0 when not, negative with a message when it cannot tell (p is
 * mounted read-only for a moment). A BitLocker volume is Windows by its
 * signature ("Windows (BitLocker-encrypted)"). */
int fixup_windows_probe(const struct disk_part *p, char *name, size_t n);

/* ---- the formats, offline (win_value.c; unit-tested) ---- */

/* A REG_MULTI_SZ (UTF-16LE strings, each NUL-terminated, an empty string
 * ending the list) with the entries keep() says no to dropped, into out (len
 * + 4 bytes: a list cut short is ended). The entries as UTF-8 for keep (non-ASCII as '?'). Returns
 * the bytes of out, and the names dropped, ", "-separated, in dropped. */
size_t win_multisz_filter(const uint8_t *in, size_t len, uint8_t *out,
			  int (*keep)(const char *name, void *ctx), void *ctx, char *dropped,
			  size_t dropped_size);

/* A BCD device element (Objects\{id}\Elements\11000001 or 21000001, value
 * Element), the plain partition kind, 88 bytes little-endian:
 *   0x00 16  zero (a GUID of options; not zero: another kind, not parsed)
 *   0x10 4   device type: 6 = partition (5 boot device, 8 locate, ...)
 *   0x14 4   flags, 0
 *   0x18 4   length of what follows 0x10: 0x48
 *   0x1c 4   0
 *   0x20 16  GPT: the partition's unique GUID; MBR: its byte offset (u64), 0
 *   0x30 4   0
 *   0x34 4   partition style: 0 GPT, 1 MBR
 *   0x38 16  GPT: the disk GUID; MBR: the disk signature (u32), 0
 *   0x48 16  0
 * GUIDs as Windows stores them: the first three fields little-endian. */
#define WIN_BCD_DEVICE_LEN 0x58

struct win_bcd_device {
	int gpt;	    /* 1 GPT, 0 MBR */
	char part_guid[37]; /* GPT: "xxxxxxxx-xxxx-..." lower case */
	char disk_guid[37]; /* GPT */
	uint64_t offset;    /* MBR: the partition's start in bytes */
	uint32_t signature; /* MBR */
};

/* 1 with *dev filled when buf is a plain partition device element, 0 when it
 * is another kind (boot device, ramdisk, locate), -EINVAL when malformed. */
int win_bcd_device_parse(const uint8_t *buf, size_t len, struct win_bcd_device *dev);
/* buf (a parsed plain partition element, WIN_BCD_DEVICE_LEN bytes) made to
 * name dev; the other bytes kept. */
void win_bcd_device_write(uint8_t *buf, const struct win_bcd_device *dev);
/* A volume in the SYSTEM hive's MountedDevices ("\\DosDevices\\C:"): GPT
 * "DMIO:ID:" and the partition's GUID (24 bytes; disk_guid stays ""), MBR the
 * disk signature (u32) and the partition's byte offset (u64), 12 bytes. 1
 * with *dev, 0 for anything else (removable media name themselves in text). */
int win_mounted_parse(const uint8_t *buf, size_t len, struct win_bcd_device *dev);
/* dev as MountedDevices holds it; returns its length (24 or 12). */
size_t win_mounted_make(const struct win_bcd_device *dev, uint8_t out[24]);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" <-> the 16 bytes Windows stores;
 * 0, or -EINVAL for a malformed text. */
int win_guid_parse(const char *s, uint8_t out[16]);
void win_guid_format(const uint8_t in[16], char out[37]);

#endif
