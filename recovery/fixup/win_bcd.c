/* The BCD store (see win_hive.h): Windows' boot manager finds the partitions
 * to boot by the identities the store names (GPT: partition and disk GUIDs;
 * MBR: the disk signature and the partition's byte offset). A restore that
 * moved a partition, or a disk with a new signature or GUID, leaves it naming
 * nothing: "0xc000000e, a required device isn't connected". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/fixup/win.h"
#include "muletto/fixup/win_hive.h"

#define BCD_BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"

struct win_bcd {
	hive_h *h;
	const struct disk_info *d;
	const struct disk_part *home, *win;
	const char *where;
	int dry_run, changed;
	int have_mgr; /* the boot manager's device, as the store had it */
	uint8_t mgr[WIN_BCD_DEVICE_LEN];
	struct fixup_report *r;
};

int win_part_identity(const struct disk_info *d, const struct disk_part *p,
		      struct win_bcd_device *id)
{
	struct win_bcd_device v = { .gpt = !strcmp(d->pt_type, "gpt") };
	uint8_t g[16];
	char *end;

	if (v.gpt) {
		if (win_guid_parse(p->uuid, g))
			return -EINVAL;
		win_guid_format(g, v.part_guid); /* lower case, as parsed elements */
		if (win_guid_parse(d->pt_uuid, g))
			return -EINVAL;
		win_guid_format(g, v.disk_guid);
	} else if (!strcmp(d->pt_type, "dos")) {
		v.signature = (uint32_t)strtoul(d->pt_uuid, &end, 16);
		if (!d->pt_uuid[0] || *end)
			return -EINVAL;
		v.offset = p->start;
	} else {
		return -EINVAL;
	}
	*id = v;
	return 0;
}

static void win_bcd_describe(const struct win_bcd_device *v, char *out, size_t n)
{
	if (v->gpt)
		snprintf(out, n, "partition %s of GPT disk %s", v->part_guid, v->disk_guid);
	else
		snprintf(out, n, "the partition at byte %" PRIu64 " of MBR disk %08" PRIx32,
			 v->offset, v->signature);
}

/* The partition of d an element names, or NULL. */
static const struct disk_part *win_bcd_named(const struct disk_info *d,
					     const struct win_bcd_device *v)
{
	size_t i;

	for (i = 0; i < d->nparts; i++)
		if (v->gpt ? !strcasecmp(d->parts[i].uuid, v->part_guid)
			   : d->parts[i].start == v->offset)
			return &d->parts[i];
	return NULL;
}

static int win_bcd_element(struct win_bcd *b, hive_node_h elem, const char *what,
			   const uint8_t *mgr)
{
	hive_value_h val = hivex_node_get_value(b->h, elem, "Element");
	_cleanup_free_ char *data = NULL;
	struct win_bcd_device old, want;
	const struct disk_part *q;
	char was[160], now[160];
	hive_type t;
	size_t len;
	int k;

	if (!val || !(data = hivex_value_value(b->h, val, &t, &len)) || t != hive_t_REG_BINARY)
		return 0;
	k = win_bcd_device_parse((uint8_t *)data, len, &old);
	if (k <= 0) {
		if (k < 0)
			fixup_note(b->r, FIXUP_SKIPPED, what, "not a device element muletto knows");
		return 0; /* the boot device, a ramdisk, locate: nothing names a partition */
	}
	q = win_bcd_named(b->d, &old);
	if (!q) /* moved or renamed: by its role */
		q = mgr && !memcmp(mgr, data, WIN_BCD_DEVICE_LEN) ? b->home : b->win;
	if (win_part_identity(b->d, q, &want) < 0) {
		fixup_note(b->r, FIXUP_FAILED, what, "the disk's table gives %s no identity",
			   q->dev);
		return 0;
	}
	win_bcd_describe(&old, was, sizeof(was));
	win_bcd_describe(&want, now, sizeof(now));
	if (!strcmp(was, now)) {
		fixup_note(b->r, FIXUP_KEPT, what, "%s (%s)", now, q->dev);
		return 0;
	}
	fixup_note(b->r, b->dry_run ? FIXUP_WOULD : FIXUP_CHANGED, what, "%s -> %s (%s)", was, now,
		   q->dev);
	if (b->dry_run)
		return 0;
	win_bcd_device_write((uint8_t *)data, &want);
	b->changed = 1;
	return win_hive_set(b->h, elem, "Element", hive_t_REG_BINARY, data, len);
}

static int win_bcd_object(struct win_bcd *b, hive_node_h obj, const char *id)
{
	static const char *const elems[] = { "11000001", "21000001" }; /* device, osdevice */
	hive_node_h el;
	char what[160];
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(elems) && r == 0; i++) {
		el = win_hive_key(b->h, obj, "Elements");
		el = el ? hivex_node_get_child(b->h, el, elems[i]) : 0;
		if (!el)
			continue;
		snprintf(what, sizeof(what), "%s BCD %s %s", b->where, id,
			 i ? "osdevice" : "device");
		r = win_bcd_element(b, el, what, b->have_mgr ? b->mgr : NULL);
	}
	return r;
}

/* The boot manager's device as the store had it: what else names it lives
 * where the boot manager does. */
static void win_bcd_manager(struct win_bcd *b, hive_node_h objects)
{
	hive_node_h el = win_hive_key(b->h, objects, BCD_BOOTMGR "\\Elements\\11000001");
	hive_value_h v = el ? hivex_node_get_value(b->h, el, "Element") : 0;
	_cleanup_free_ char *data = NULL;
	hive_type t;
	size_t len;

	if (v && (data = hivex_value_value(b->h, v, &t, &len)) && len == WIN_BCD_DEVICE_LEN) {
		memcpy(b->mgr, data, len);
		b->have_mgr = 1;
	}
}

int win_bcd_fix(const char *path, const char *where, const struct disk_info *d,
		const struct disk_part *home, const struct disk_part *win, int dry_run,
		struct fixup_report *r)
{
	struct win_bcd b = {
		.d = d, .home = home, .win = win, .where = where, .dry_run = dry_run, .r = r
	};
	_cleanup_free_ hive_node_h *objs = NULL;
	hive_node_h objects;
	size_t i;
	int rc = 0;

	b.h = win_hive_open(path, !dry_run);
	if (!b.h)
		return err_prefix(-EIO, "the BCD store");
	objects = win_hive_key(b.h, hivex_root(b.h), "Objects");
	if (!objects) {
		hivex_close(b.h);
		return err_set(-EINVAL, "%s has no Objects: not a BCD store", path);
	}
	win_bcd_manager(&b, objects);
	objs = hivex_node_children(b.h, objects);
	for (i = 0; objs && objs[i] && rc == 0; i++) {
		_cleanup_free_ char *id = hivex_node_name(b.h, objs[i]);

		if (id)
			rc = win_bcd_object(&b, objs[i], id);
	}
	if (rc == 0 && b.changed)
		rc = win_hive_commit(b.h, path);
	hivex_close(b.h);
	return rc < 0 ? rc : b.changed;
}

/* ---- the ESP, through mtools ---- */

static int win_mtools(const char *prog, const char *img, const char *a, const char *b2,
		      const char *c)
{
	const char *argv[] = { prog, "-i", img, a, b2, c, NULL };
	char out[512];

	return spawn_run(argv, out, sizeof(out));
}

/* 1 when the FAT at img has the file, 0 when not. */
static int win_fat_has(const char *img, const char *path)
{
	const char *argv[] = { "mdir", "-b", "-i", img, path, NULL };
	char out[1024];
	int r = spawn_run(argv, out, sizeof(out));

	err_clear();
	return r == 0;
}

static int win_fallback(const char *img, const char *tmp, int dry_run, struct fixup_report *r)
{
	_cleanup_free_ char *copy = path_join(tmp, "bootmgfw.efi");
	static const char *what = "ESP \\EFI\\BOOT\\BOOTX64.EFI";
	int rc;

	if (!copy)
		return -ENOMEM;
	if (win_fat_has(img, "::/EFI/BOOT/BOOTX64.EFI")) {
		fixup_note(r, FIXUP_KEPT, what, "the firmware's fallback loader is there");
		return 0;
	}
	if (!win_fat_has(img, "::/EFI/Microsoft/Boot/bootmgfw.efi")) {
		fixup_note(r, FIXUP_FAILED, what,
			   "missing, and so is \\EFI\\Microsoft\\Boot\\bootmgfw.efi to copy: "
			   "repair it from Windows' installer (bcdboot C:\\Windows)");
		return 0;
	}
	fixup_note(r, dry_run ? FIXUP_WOULD : FIXUP_CHANGED, what,
		   "copied from \\EFI\\Microsoft\\Boot\\bootmgfw.efi (a firmware without a boot "
		   "entry for Windows starts it)");
	if (dry_run)
		return 0;
	rc = win_mtools("mcopy", img, "-n", "::/EFI/Microsoft/Boot/bootmgfw.efi", copy);
	if (rc == 0 && !win_fat_has(img, "::/EFI/BOOT"))
		rc = win_mtools("mmd", img, "::/EFI/BOOT", NULL, NULL);
	if (rc == 0)
		rc = win_mtools("mcopy", img, copy, "::/EFI/BOOT/BOOTX64.EFI", NULL);
	unlink(copy);
	return rc < 0 ? err_prefix(rc, "the fallback loader") : 0;
}

int win_esp_fix(const struct disk_info *d, const struct disk_part *esp, const struct disk_part *win,
		const char *tmp, int dry_run, struct fixup_report *r)
{
	_cleanup_free_ char *img = str_printf("%s@@%" PRIu64, d->dev, esp->start);
	_cleanup_free_ char *bcd = path_join(tmp, "BCD");
	const char *store = "::/EFI/Microsoft/Boot/BCD", *next = "::/EFI/Microsoft/Boot/BCD.new";
	int rc, changed = 0;

	if (!img || !bcd)
		return -ENOMEM;
	if (!win_fat_has(img, store))
		return 0;
	rc = win_mtools("mcopy", img, "-n", store, bcd);
	if (rc == 0)
		rc = changed = win_bcd_fix(bcd, "ESP", d, esp, win, dry_run, r);
	/* the new store beside the old one, then moved over it */
	if (rc > 0)
		rc = win_mtools("mcopy", img, "-o", bcd, next);
	if (rc == 0 && changed > 0) {
		const char *argv[] = { "mmove", "-D", "o", "-i", img, next, store, NULL };
		char out[512];

		rc = spawn_run(argv, out, sizeof(out));
	}
	unlink(bcd);
	if (rc == 0)
		rc = win_fallback(img, tmp, dry_run, r);
	return rc < 0 ? err_prefix(rc, "the ESP (%s)", esp->dev) : 1;
}
