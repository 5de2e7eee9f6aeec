/* The SYSTEM hive made to boot on other storage (see win_hive.h). Windows
 * starts only the storage drivers it booted from at boot time; on another
 * controller it stops with INACCESSIBLE_BOOT_DEVICE (0x7B). So every driver
 * of a common controller that is installed starts at boot, in every
 * ControlSet (Select\Current names the one in use, LastKnownGood another). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/fixup/win.h"
#include "muletto/fixup/win_hive.h"

#define DISK_CLASS "Control\\Class\\{4d36e967-e325-11ce-bfc1-08002be10318}"

/* Storage drivers shipped with Windows: AHCI, NVMe, Intel RST, Hyper-V
 * (storvsc, vmbus), and virtio-blk where the guest tools are installed. */
static const char *const win_boot_drivers[] = { "storahci", "stornvme", "iaStorAVC", "iaStorV",
						"storvsc",  "vmbus",	"viostor" };

struct win_set {
	hive_h *h;
	hive_node_h set, services;
	char name[32]; /* "ControlSet001" */
	int dry_run;
	struct fixup_report *r;
};

static enum fixup_state win_change(const struct win_set *s)
{
	return s->dry_run ? FIXUP_WOULD : FIXUP_CHANGED;
}

static int win_driver_start(struct win_set *s, const char *drv)
{
	hive_node_h svc = hivex_node_get_child(s->h, s->services, drv), over;
	static const uint8_t zero[4];
	char what[160];
	uint32_t start = 0;
	int r, have;

	if (!svc)
		return 0; /* not installed: nothing to start */
	snprintf(what, sizeof(what), "%s\\Services\\%s\\Start", s->name, drv);
	have = win_hive_dword(s->h, svc, "Start", &start);
	if (have && start == 0) {
		fixup_note(s->r, FIXUP_KEPT, what, "0 (boot start)");
	} else {
		if (!s->dry_run &&
		    (r = win_hive_set(s->h, svc, "Start", hive_t_REG_DWORD, zero, 4)))
			return r;
		if (have)
			fixup_note(s->r, win_change(s), what, "%u -> 0 (boot start)", start);
		else
			fixup_note(s->r, win_change(s), what, "set to 0 (boot start)");
	}
	over = hivex_node_get_child(s->h, svc, "StartOverride");
	if (over) {
		snprintf(what, sizeof(what), "%s\\Services\\%s\\StartOverride", s->name, drv);
		if (!s->dry_run && hivex_node_delete_child(s->h, over) < 0)
			return err_set(-EIO, "cannot remove %s from the SYSTEM hive", what);
		fixup_note(s->r, win_change(s), what,
			   "removed (it would keep the driver from starting at boot)");
	}
	return 0;
}

static int win_service_exists(const char *name, void *ctx)
{
	struct win_set *s = ctx;

	return hivex_node_get_child(s->h, s->services, name) != 0;
}

/* A disk filter whose driver is gone stops Windows at boot as surely as a
 * missing storage driver (a backup or encryption tool uninstalled on the
 * old machine, or one whose service is not in this ControlSet). */
static int win_filters(struct win_set *s, hive_node_h cls, const char *value)
{
	hive_value_h v = hivex_node_get_value(s->h, cls, value);
	_cleanup_free_ char *data = NULL;
	_cleanup_free_ uint8_t *out = NULL;
	char what[160], dropped[256];
	hive_type t;
	size_t len, n;

	if (!v)
		return 0;
	data = hivex_value_value(s->h, v, &t, &len);
	if (!data || t != hive_t_REG_MULTI_SZ)
		return 0;
	out = malloc(len + 4);
	if (!out)
		return -ENOMEM;
	snprintf(what, sizeof(what), "%s\\" DISK_CLASS "\\%s", s->name, value);
	n = win_multisz_filter((const uint8_t *)data, len, out, win_service_exists, s, dropped,
			       sizeof(dropped));
	if (!dropped[0]) {
		fixup_note(s->r, FIXUP_KEPT, what, "every filter's driver is installed");
		return 0;
	}
	fixup_note(s->r, win_change(s), what, "dropped %s (no such driver in %s\\Services)",
		   dropped, s->name);
	if (s->dry_run)
		return 0;
	if (n <= 2) /* nothing left */
		return win_hive_remove_value(s->h, cls, value);
	return win_hive_set(s->h, cls, value, hive_t_REG_MULTI_SZ, out, n);
}

/* A crash on the new machine stays on its blue screen, with its stop code,
 * instead of rebooting in a loop. */
static int win_crash_stays(struct win_set *s)
{
	hive_node_h cc = win_hive_key(s->h, s->set, "Control\\CrashControl");
	static const uint8_t zero[4];
	char what[160];
	uint32_t v = 0;
	int have;

	if (!cc)
		return 0;
	snprintf(what, sizeof(what), "%s\\Control\\CrashControl\\AutoReboot", s->name);
	have = win_hive_dword(s->h, cc, "AutoReboot", &v);
	if (have && v == 0) {
		fixup_note(s->r, FIXUP_KEPT, what, "0 (a crash stays on its stop screen)");
		return 0;
	}
	if (have)
		fixup_note(s->r, win_change(s), what, "%u -> 0 (a crash stays on its stop screen)",
			   v);
	else
		fixup_note(s->r, win_change(s), what,
			   "set to 0 (a crash stays on its stop screen)");
	return s->dry_run ? 0 : win_hive_set(s->h, cc, "AutoReboot", hive_t_REG_DWORD, zero, 4);
}

static int win_control_set(struct win_set *s)
{
	hive_node_h cls;
	size_t i;
	int r = 0;

	s->services = win_hive_key(s->h, s->set, "Services");
	if (!s->services) {
		fixup_note(s->r, FIXUP_SKIPPED, s->name, "no Services key");
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(win_boot_drivers) && r == 0; i++)
		r = win_driver_start(s, win_boot_drivers[i]);
	cls = win_hive_key(s->h, s->set, DISK_CLASS);
	if (cls && r == 0)
		r = win_filters(s, cls, "UpperFilters");
	if (cls && r == 0)
		r = win_filters(s, cls, "LowerFilters");
	if (r == 0)
		r = win_crash_stays(s);
	return r;
}

/* Whether a MountedDevices identity names a partition of d. */
static int win_mounted_on(const struct disk_info *d, const struct win_bcd_device *v)
{
	struct win_bcd_device id;
	size_t i;

	for (i = 0; i < d->nparts; i++)
		if (win_part_identity(d, &d->parts[i], &id) == 0 && id.gpt == v->gpt &&
		    (v->gpt ? !strcmp(id.part_guid, v->part_guid)
			    : id.offset == v->offset && id.signature == v->signature))
			return 1;
	return 0;
}

/* Every MountedDevices value holding the bytes old (C: and its volume
 * names) set to new: their names first, as setting a value moves the others. */
static int win_mounted_set(hive_h *h, hive_node_h md, const char *old, size_t old_len,
			   const uint8_t *new, size_t new_len)
{
	_cleanup_free_ hive_value_h *vals = hivex_node_values(h, md);
	char *keys[64];
	size_t i, k = 0, len;
	hive_type t;
	int r = 0;

	for (i = 0; vals && vals[i] && k < ARRAY_SIZE(keys); i++) {
		char *key = hivex_value_key(h, vals[i]);
		_cleanup_free_ char *data = hivex_value_value(h, vals[i], &t, &len);

		if (key && data && len == old_len && !memcmp(data, old, len))
			keys[k++] = key;
		else
			free(key);
	}
	for (i = 0; i < k; i++) {
		if (r == 0)
			r = win_hive_set(h, md, keys[i], hive_t_REG_BINARY, new, new_len);
		free(keys[i]);
	}
	return r;
}

static void win_mounted_describe(const struct win_bcd_device *v, char *out, size_t n)
{
	if (v->gpt)
		snprintf(out, n, "partition %s", v->part_guid);
	else
		snprintf(out, n, "byte %" PRIu64 " of MBR disk %08" PRIx32, v->offset,
			 v->signature);
}

static int win_mounted(hive_h *h, const struct disk_info *d, const struct disk_part *win,
		       int dry_run, struct fixup_report *r)
{
	static const char *what = "MountedDevices\\DosDevices\\C:";
	hive_node_h md = win_hive_key(h, hivex_root(h), "MountedDevices");
	hive_value_h v = md ? hivex_node_get_value(h, md, "\\DosDevices\\C:") : 0;
	_cleanup_free_ char *data = NULL;
	struct win_bcd_device old, want;
	char was[96], now[96];
	uint8_t bytes[24];
	size_t len, n;
	hive_type t;

	if (!v || !(data = hivex_value_value(h, v, &t, &len)) ||
	    win_mounted_parse((uint8_t *)data, len, &old) <= 0)
		return 0;
	if (win_mounted_on(d, &old)) {
		fixup_note(r, FIXUP_KEPT, what, "names a partition of this disk");
		return 0;
	}
	if (win_part_identity(d, win, &want) < 0) {
		fixup_note(r, FIXUP_FAILED, what, "the disk's table gives %s no identity",
			   win->dev);
		return 0;
	}
	n = win_mounted_make(&want, bytes);
	win_mounted_describe(&old, was, sizeof(was));
	win_mounted_describe(&want, now, sizeof(now));
	fixup_note(r, dry_run ? FIXUP_WOULD : FIXUP_CHANGED, what,
		   "%s, on no disk here -> %s (%s), so Windows keeps its letter", was, now,
		   win->dev);
	return dry_run ? 0 : win_mounted_set(h, md, data, len, bytes, n);
}

static int win_is_control_set(const char *name)
{
	return strlen(name) == 13 && !strncasecmp(name, "ControlSet", 10) &&
	       strspn(name + 10, "0123456789") == 3;
}

int win_system_fix(const char *path, const struct disk_info *d, const struct disk_part *win,
		   int dry_run, struct fixup_report *r)
{
	struct win_set s = { .dry_run = dry_run, .r = r };
	_cleanup_free_ hive_node_h *sets = NULL;
	uint32_t current;
	size_t i, found = 0;
	int rc = 0;

	s.h = win_hive_open(path, !dry_run);
	if (!s.h)
		return err_prefix(-EIO, "the SYSTEM hive");
	if (win_hive_dword(s.h, win_hive_key(s.h, hivex_root(s.h), "Select"), "Current", &current))
		fixup_note(r, FIXUP_KEPT, "Select\\Current",
			   "ControlSet%03u boots; every ControlSet is fixed alike", current);
	sets = hivex_node_children(s.h, hivex_root(s.h));
	for (i = 0; sets && sets[i] && rc == 0; i++) {
		_cleanup_free_ char *name = hivex_node_name(s.h, sets[i]);

		if (!name || !win_is_control_set(name))
			continue;
		str_copy(s.name, sizeof(s.name), name);
		s.set = sets[i];
		found++;
		rc = win_control_set(&s);
	}
	if (rc == 0 && !found)
		rc = err_set(-EINVAL, "%s has no ControlSet: not a SYSTEM hive", path);
	if (rc == 0)
		rc = win_mounted(s.h, d, win, dry_run, r);
	if (rc == 0 && !dry_run)
		rc = win_hive_commit(s.h, path);
	hivex_close(s.h);
	return rc;
}
