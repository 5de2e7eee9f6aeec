/* A restored Linux system made to boot where it landed (see linux.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/fixup/linux.h"
#include "muletto/fixup/names.h"
#include "muletto/fixup/nic.h"

#define LX_MOUNTS 12
#define LX_OUT (256 * 1024) /* what a tool prints: update-initramfs, lsinitramfs */
#define LX_FILE_MAX (1024 * 1024) /* fstab, grub's defaults: more is not a system file */

/* Storage drivers an initramfs needs when the controller cannot be told: the
 * ones a replacement machine, virtual or not, most likely has. */
static const char *const lx_generic[] = { "ahci", "nvme", "virtio_blk", "sd_mod" };

struct lx {
	const struct disk_info *disk;
	const struct disk_part *root;
	const struct fixup_opts *o;
	struct fixup_report *r;
	char dir[64];		/* the root, mounted */
	char root_disk[256];	/* its disk's name on the old machine ("" unknown) */
	char mnt[LX_MOUNTS][PATH_MAX];
	int nmnt;
	int grub_stale;		/* grub.cfg must be made anew */
	const struct disk_part *esp;
	char *out;		/* a tool's output */
	int made_dev_disk;	/* /dev/disk was made here, to be removed */
	int esp_unread;		/* dry run: the ESP could not be mounted here */
};

static const char *lx_done(const struct lx *x)
{
	return x->o->dry_run ? "would be" : "was";
}

static enum fixup_state lx_change(const struct lx *x)
{
	return x->o->dry_run ? FIXUP_WOULD : FIXUP_CHANGED;
}

/* path below the system's root */
static void lx_path(const struct lx *x, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", x->dir, rel[0] == '/' ? rel + 1 : rel);
}

/* Mounts dev (file system fs) at dir; read-only without replaying a journal
 * in a dry run (nothing written to the disk). */
static int lx_mount(struct lx *x, const char *dev, const char *fs, const char *dir)
{
	unsigned long flags = x->o->dry_run ? MS_RDONLY : 0;
	const char *data = NULL;

	if (x->nmnt >= LX_MOUNTS)
		return err_set(-E2BIG, "too many mounts for one system");
	if (x->o->dry_run && !strncmp(fs, "ext", 3))
		data = "noload";
	else if (x->o->dry_run && !strcmp(fs, "xfs"))
		data = "norecovery";
	if (mount(dev, dir, fs, flags, data) < 0 && (!data || mount(dev, dir, fs, flags, NULL) < 0))
		return err_set(-errno, "cannot mount %s (%s) at %s: %s", dev, fs, dir, strerror(errno));
	str_copy(x->mnt[x->nmnt++], sizeof(x->mnt[0]), dir);
	return 0;
}

/* One link dir/value -> the partition's node; values with a '/' are not names. */
static void lx_link(const char *dir, const char *value, const char *dev)
{
	char at[PATH_MAX];

	if (!value[0] || strchr(value, '/'))
		return;
	mkdir(dir, 0755);
	snprintf(at, sizeof(at), "%s/%s", dir, value);
	if (symlink(dev, at) < 0 && errno != EEXIST)
		event_warning("cannot link %s: %s", at, strerror(errno));
}

/* /dev/disk/by-{uuid,partuuid,label,partlabel} of the target's partitions, in
 * memory over the system's /dev/disk: the tools inside look there for a
 * file system's UUID (grub-mkconfig names the root by UUID only when its link
 * exists), and neither this boot environment nor a loop device on a host
 * without udev has them. */
static int lx_dev_links(struct lx *x)
{
	char at[PATH_MAX], dir[PATH_MAX + 16];
	size_t i;

	lx_path(x, "/dev/disk", at, sizeof(at));
	if (mkdir(at, 0755) == 0)
		x->made_dev_disk = 1;
	if (x->nmnt >= LX_MOUNTS || mount("tmpfs", at, "tmpfs", 0, "mode=0755") < 0)
		return err_set(-errno, "cannot make %s: %s", at, strerror(errno));
	str_copy(x->mnt[x->nmnt++], sizeof(x->mnt[0]), at);
	for (i = 0; i < x->disk->nparts; i++) {
		const struct disk_part *p = &x->disk->parts[i];
		snprintf(dir, sizeof(dir), "%s/by-uuid", at);
		lx_link(dir, p->fs_uuid, p->dev);
		snprintf(dir, sizeof(dir), "%s/by-partuuid", at);
		lx_link(dir, p->uuid, p->dev);
		snprintf(dir, sizeof(dir), "%s/by-label", at);
		lx_link(dir, p->label, p->dev);
		snprintf(dir, sizeof(dir), "%s/by-partlabel", at);
		lx_link(dir, p->name, p->dev);
	}
	return 0;
}

/* The machine's /dev, /proc, /sys and /run inside the system, for its tools,
 * each made private so that nothing mounted below them shows in the
 * machine's own; a /tmp of its own (in memory) so that they can write there
 * in a dry run; /dev/disk's links to the target's partitions. */
static int lx_bind(struct lx *x)
{
	static const char *const binds[] = { "/dev", "/proc", "/sys", "/run" };
	char at[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(binds) && x->nmnt < LX_MOUNTS; i++) {
		lx_path(x, binds[i], at, sizeof(at));
		if (mount(binds[i], at, NULL, MS_BIND | MS_REC, NULL) < 0)
			return err_set(-errno, "cannot bind %s into the system at %s: %s (is it a "
					       "Linux root file system?)", binds[i], at, strerror(errno));
		str_copy(x->mnt[x->nmnt++], sizeof(x->mnt[0]), at);
		if (mount(NULL, at, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return err_set(-errno, "cannot make %s private: %s", at, strerror(errno));
	}
	lx_path(x, "/tmp", at, sizeof(at));
	if (x->nmnt < LX_MOUNTS && mount("tmpfs", at, "tmpfs", 0, "mode=1777") == 0)
		str_copy(x->mnt[x->nmnt++], sizeof(x->mnt[0]), at);
	return lx_dev_links(x);
}

static void lx_unmount(struct lx *x)
{
	char at[PATH_MAX];

	while (x->nmnt > 0) {
		const char *m = x->mnt[--x->nmnt];
		if (umount2(m, 0) < 0 && umount2(m, MNT_DETACH) < 0)
			event_warning("cannot unmount %s: %s", m, strerror(errno));
		if (x->made_dev_disk && strstr(m, "/dev/disk")) {
			lx_path(x, "/dev/disk", at, sizeof(at));
			rmdir(at);
		}
	}
	if (x->dir[0])
		rmdir(x->dir);
}

/* Runs argv inside the system (chroot), its output in x->out. */
static int lx_run(struct lx *x, const char *const argv[])
{
	/* TMPDIR: the system's /tmp, in memory here, so that building an
	 * initramfs does not fill the restored disk with its staging copy */
	const char *a[24] = { "chroot", x->dir, "/usr/bin/env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			      "LC_ALL=C", "TMPDIR=/tmp" };
	size_t i, k = 6;

	for (i = 0; argv[i] && k + 1 < ARRAY_SIZE(a); i++)
		a[k++] = argv[i];
	a[k] = NULL;
	return spawn_run(a, x->out, LX_OUT);
}

/* Whether the system has a program (in its own /usr/sbin, /sbin, ...). */
static int lx_has(const struct lx *x, const char *prog)
{
	static const char *const dirs[] = { "usr/sbin", "usr/bin", "sbin", "bin" };
	char p[PATH_MAX], rel[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dirs[i], prog);
		lx_path(x, rel, p, sizeof(p));
		if (access(p, X_OK) == 0)
			return 1;
	}
	return 0;
}

static int lx_exists(const struct lx *x, const char *rel)
{
	char p[PATH_MAX];

	lx_path(x, rel, p, sizeof(p));
	return access(p, F_OK) == 0;
}

/* A file of the system into a new string ("" when it does not exist). */
static char *lx_read(const struct lx *x, const char *rel, int *exists)
{
	char p[PATH_MAX];
	void *buf = NULL;
	size_t len;

	lx_path(x, rel, p, sizeof(p));
	*exists = file_read_all(p, LX_FILE_MAX, &buf, &len) == 0;
	return *exists ? buf : strdup("");
}

static int lx_write(const struct lx *x, const char *rel, const char *text)
{
	char p[PATH_MAX];
	int r;

	lx_path(x, rel, p, sizeof(p));
	r = file_write_atomic(p, text, strlen(text), 1);
	if (r < 0)
		return err_set(r, "cannot write %s of the restored system: %s", rel, strerror(-r));
	return 0;
}

/* The partition of the disk a spec names: UUID=, PARTUUID=, LABEL=,
 * PARTLABEL=, their /dev/disk/by-* links, or the old machine's name. */
static const struct disk_part *lx_find(const struct lx *x, const char *spec)
{
	static const struct {
		const char *key, *link;
		size_t field;
	} keys[] = {
		{ "UUID=", "/dev/disk/by-uuid/", offsetof(struct disk_part, fs_uuid) },
		{ "PARTUUID=", "/dev/disk/by-partuuid/", offsetof(struct disk_part, uuid) },
		{ "LABEL=", "/dev/disk/by-label/", offsetof(struct disk_part, label) },
		{ "PARTLABEL=", "/dev/disk/by-partlabel/", offsetof(struct disk_part, name) },
	};
	size_t i, k;
	int part;

	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		const char *v = !strncmp(spec, keys[k].key, strlen(keys[k].key)) ?
					spec + strlen(keys[k].key) :
				!strncmp(spec, keys[k].link, strlen(keys[k].link)) ?
					spec + strlen(keys[k].link) : NULL;
		char want[DISK_STR];
		if (!v)
			continue;
		str_copy(want, sizeof(want), v);
		if (want[0] == '"' && strlen(want) > 1) { /* UUID="..." */
			memmove(want, want + 1, strlen(want));
			want[strcspn(want, "\"")] = 0;
		}
		for (i = 0; i < x->disk->nparts; i++)
			if (!strcasecmp((const char *)&x->disk->parts[i] + keys[k].field, want))
				return &x->disk->parts[i];
		return NULL;
	}
	part = names_partition(x->root_disk, spec);
	for (i = 0; part && i < x->disk->nparts; i++)
		if (x->disk->parts[i].number == part)
			return &x->disk->parts[i];
	return NULL;
}

/* names.h's resolver: what a partition of the root's disk is called now. */
static int lx_resolve(void *ctx, int part, char *out, size_t n)
{
	const struct lx *x = ctx;
	size_t i;

	for (i = 0; i < x->disk->nparts; i++) {
		const struct disk_part *p = &x->disk->parts[i];
		if (p->number != part)
			continue;
		if (p->fs_uuid[0])
			snprintf(out, n, "UUID=%s", p->fs_uuid);
		else if (p->uuid[0])
			snprintf(out, n, "PARTUUID=%s", p->uuid);
		else
			return 0;
		return 1;
	}
	return 0;
}

struct lx_note {
	struct lx *x;
	const char *file;
};

static void lx_renamed(void *ctx, const char *old, const char *now)
{
	struct lx_note *n = ctx;

	fixup_note(n->x->r, lx_change(n->x), n->file, "%s -> %s (the old machine's name for the "
			"disk; it changes with the controller)", old, now);
}

/* A resolver with the note's context (lx_note first holds the lx). */
static int lx_resolve_note(void *ctx, int part, char *out, size_t n)
{
	return lx_resolve(((struct lx_note *)ctx)->x, part, out, n);
}

/* fstab's root line: its device spec, to know the old name of root's disk. */
static void lx_root_spec(const char *fstab, char *spec, size_t n)
{
	const char *line = fstab;

	spec[0] = 0;
	while (line && *line) {
		char dev[256], mp[256];
		if (sscanf(line, " %255s %255s", dev, mp) == 2 && dev[0] != '#' && !strcmp(mp, "/")) {
			str_copy(spec, n, dev);
			return;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
}

/* A table of device names (fstab: field 1; crypttab: field 2) rewritten. */
static int lx_table(struct lx *x, const char *rel, int field)
{
	struct lx_note n = { x, rel };
	int exists, changed = 0, r = 0;
	char *text = lx_read(x, rel, &exists), *out;

	if (!text)
		return -ENOMEM;
	if (!exists) {
		free(text);
		return 0;
	}
	out = names_rewrite_table(text, field, x->root_disk, lx_resolve_note, &n, lx_renamed,
				  &changed);
	if (!out)
		r = -ENOMEM;
	else if (!changed)
		fixup_note(x->r, FIXUP_KEPT, rel, "names its disks by what travels with them");
	else if (!x->o->dry_run)
		r = lx_write(x, rel, out);
	free(out);
	free(text);
	return r;
}

/* initramfs-tools' resume file: RESUME=/dev/sda2 (where hibernation's image is). */
static int lx_resume(struct lx *x)
{
	const char *rel = "/etc/initramfs-tools/conf.d/resume";
	struct lx_note n = { x, rel };
	int exists, changed = 0, r = 0;
	char *text = lx_read(x, rel, &exists), *out = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;

	if (!text || !exists || !(f = open_memstream(&out, &len))) {
		free(text);
		return text ? 0 : -ENOMEM;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int c = 0;
		char *mid = names_rewrite_cmdline(line, x->root_disk, lx_resolve_note, &n,
						  lx_renamed, &c);
		fprintf(f, "%s\n", mid ? mid : line);
		changed += c;
		free(mid);
	}
	fclose(f);
	if (changed && !x->o->dry_run)
		r = lx_write(x, rel, out);
	free(out);
	free(text);
	return r;
}

/* /etc/default/grub: the kernel command lines' disk names; and
 * GRUB_DISABLE_LINUX_UUID=true, with which grub.cfg would name the root by
 * this machine's name for it, turned off. */
static int lx_grub_defaults(struct lx *x)
{
	const char *rel = "/etc/default/grub";
	struct lx_note n = { x, rel };
	int exists, changed = 0, r = 0, total = 0;
	char *text = lx_read(x, rel, &exists), *line, *save = NULL, *copy;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!text)
		return -ENOMEM;
	if (!exists) {
		free(text);
		return 0;
	}
	if (!(f = open_memstream(&out, &len)) || !(copy = strdup(text))) {
		if (f)
			fclose(f);
		free(out);
		free(text);
		return -ENOMEM;
	}
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *q1, *q2, *mid;
		if ((!strncmp(line, "GRUB_CMDLINE_LINUX=", 19) ||
		     !strncmp(line, "GRUB_CMDLINE_LINUX_DEFAULT=", 27)) &&
		    (q1 = strchr(line, '"')) && (q2 = strrchr(line, '"')) && q2 > q1) {
			*q2 = 0;
			mid = names_rewrite_cmdline(q1 + 1, x->root_disk, lx_resolve_note, &n,
						    lx_renamed, &changed);
			fprintf(f, "%.*s\"%s\"%s\n", (int)(q1 - line), line, mid ? mid : q1 + 1,
				q2 + 1);
			total += changed;
			free(mid);
			continue;
		}
		if (!strncmp(line, "GRUB_DISABLE_LINUX_UUID=", 24) && strstr(line, "true")) {
			fprintf(f, "#%s # muletto fixup: grub.cfg names the root by its UUID\n", line);
			fixup_note(x->r, lx_change(x), rel, "GRUB_DISABLE_LINUX_UUID=true turned off: "
				   "grub.cfg would name the root by this machine's name for its disk");
			total++;
			continue;
		}
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	free(copy);
	if (total) {
		x->grub_stale = 1;
		if (!x->o->dry_run)
			r = lx_write(x, rel, out);
	}
	free(out);
	free(text);
	return r;
}

void fixup_storage_modules(const char *dev, char *out, size_t n)
{
	char link[PATH_MAX], path[PATH_MAX], mod[PATH_MAX];
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	size_t k = 0;

	out[0] = 0;
	snprintf(link, sizeof(link), "/sys/block/%s/device", name);
	if (!realpath(link, path))
		return; /* loop devices, image files: nothing drives them */
	/* the device and each parent: the module of the driver bound to it */
	while (strlen(path) > strlen("/sys/devices")) {
		char drv[PATH_MAX + 16], *slash;
		ssize_t m;
		snprintf(drv, sizeof(drv), "%s/driver/module", path);
		m = readlink(drv, mod, sizeof(mod) - 1);
		if (m > 0) {
			const char *base;
			mod[m] = 0;
			base = strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
			if (!strstr(out, base) && k + strlen(base) + 2 < n)
				k += (size_t)snprintf(out + k, n - k, "%s%s", k ? " " : "", base);
		}
		if (!(slash = strrchr(path, '/')))
			break;
		*slash = 0;
	}
}

/* Whether an initramfs image holds module mod (mod.ko, compressed or not). */
static int lx_initrd_has(const char *list, const char *mod)
{
	char a[96], b[96];
	const char *p = list;

	snprintf(a, sizeof(a), "/%s.ko", mod);
	snprintf(b, sizeof(b), "/%s.ko", mod);
	for (char *c = b; *c; c++) /* modules may be named with - or _ */
		if (*c == '_')
			*c = '-';
	while ((p = strstr(p, "/")) != NULL) {
		if (!strncmp(p, a, strlen(a)) || !strncmp(p, b, strlen(b)))
			return 1;
		p++;
	}
	return 0;
}

/* The storage drivers missing from the initramfs of kernel ver, into miss. */
static int lx_initrd_missing(struct lx *x, const char *lister, const char *ver, const char *need,
			     char *miss, size_t n)
{
	char img[128], mods[512], *m, *save = NULL;
	const char *ls[] = { lister, img, NULL };
	size_t k = 0;
	int r;

	snprintf(img, sizeof(img), "/boot/initrd.img-%s", ver);
	if (!lx_exists(x, img))
		snprintf(img, sizeof(img), "/boot/initramfs-%s.img", ver); /* dracut's name */
	miss[0] = 0;
	if (!lx_exists(x, img)) {
		str_copy(miss, n, "(no initramfs)");
		return 0;
	}
	if ((r = lx_run(x, ls)) < 0)
		return r;
	str_copy(mods, sizeof(mods), need);
	for (m = strtok_r(mods, " ", &save); m; m = strtok_r(NULL, " ", &save))
		if (!lx_initrd_has(x->out, m) && k + strlen(m) + 2 < n)
			k += (size_t)snprintf(miss + k, n - k, "%s%s", k ? " " : "", m);
	return 0;
}

/* The kernels the system has (from /boot/vmlinuz-VERSION). */
static size_t lx_kernels(const struct lx *x, char vers[][96], size_t max)
{
	char boot[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	lx_path(x, "/boot", boot, sizeof(boot));
	if (!(d = opendir(boot)))
		return 0;
	while ((e = readdir(d)) && n < max)
		if (!strncmp(e->d_name, "vmlinuz-", 8) && strlen(e->d_name + 8) < 96)
			str_copy(vers[n++], 96, e->d_name + 8);
	closedir(d);
	return n;
}

/* The initramfs: rebuilt with generic storage drivers when it lacks one this
 * disk's controller needs. */
static int lx_initramfs(struct lx *x)
{
	const char *rel = "initramfs";
	char need[512], miss[512], vers[8][96], gen[128] = "";
	int tools = lx_has(x, "update-initramfs") ? 1 : lx_has(x, "dracut") ? 2 : 0, r = 0;
	const char *lister = tools == 1 ? "lsinitramfs" : "lsinitrd";
	size_t nk = lx_kernels(x, vers, ARRAY_SIZE(vers)), i, k = 0, bad = 0;

	fixup_storage_modules(x->disk->dev, need, sizeof(need));
	if (!need[0])
		for (i = 0; i < ARRAY_SIZE(lx_generic); i++)
			k += (size_t)snprintf(gen + k, sizeof(gen) - k, "%s%s", k ? " " : "",
					      lx_generic[i]);
	if (!need[0])
		str_copy(need, sizeof(need), gen);
	if (!tools) {
		fixup_note(x->r, FIXUP_SKIPPED, rel, "neither initramfs-tools nor dracut is installed "
			   "in the system: its initramfs is left as it is");
		return 0;
	}
	if (!nk) {
		fixup_note(x->r, FIXUP_SKIPPED, rel, "no kernel in /boot");
		return 0;
	}
	for (i = 0; i < nk && r == 0; i++) {
		r = lx_initrd_missing(x, lister, vers[i], need, miss, sizeof(miss));
		if (r == 0 && miss[0]) {
			bad++;
			fixup_note(x->r, lx_change(x), rel, "initramfs of %s lacks %s: %s rebuilt with "
				   "generic storage drivers (%s)", vers[i], miss, lx_done(x),
				   tools == 1 ? "MODULES=most" : "dracut --no-hostonly");
		} else if (r == 0) {
			fixup_note(x->r, FIXUP_KEPT, rel, "initramfs of %s holds %s", vers[i], need);
		}
	}
	if (r < 0) {
		fixup_note(x->r, FIXUP_FAILED, rel, "cannot list the initramfs: %s", err_msg());
		return r;
	}
	if (!bad || x->o->dry_run)
		return 0;
	event_notice("%s: rebuilding the initramfs with generic storage drivers...",
		     x->root->dev);
	if (tools == 1) {
		const char *upd[] = { "update-initramfs", "-u", "-k", "all", NULL };
		r = lx_write(x, "/etc/initramfs-tools/conf.d/zz-muletto-fixup.conf",
			     "# muletto fixup: every storage driver, for the machine this system "
			     "was restored onto\nMODULES=most\n");
		if (r == 0)
			r = lx_run(x, upd);
	} else {
		const char *dracut[] = { "dracut", "-f", "--regenerate-all", "--no-hostonly", NULL };
		r = lx_run(x, dracut);
	}
	for (i = 0; i < nk && r == 0; i++) /* and checked */
		if ((r = lx_initrd_missing(x, lister, vers[i], need, miss, sizeof(miss))) == 0 &&
		    miss[0])
			r = err_set(-EIO, "the rebuilt initramfs of %s still lacks %s: the system's "
					  "kernel has no such module", vers[i], miss);
	if (r < 0)
		fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
	return r;
}

/* The partition of the disk with role ESP, or NULL. */
static const struct disk_part *lx_esp(const struct lx *x)
{
	size_t i;

	for (i = 0; i < x->disk->nparts; i++)
		if (!strcasecmp(x->disk->parts[i].type, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b") ||
		    !strcasecmp(x->disk->parts[i].type, "0xef"))
			return &x->disk->parts[i];
	return NULL;
}

static int lx_bios_boot_ok(const struct lx *x)
{
	size_t i;

	if (strcmp(x->disk->pt_type, "gpt"))
		return 1; /* MBR: GRUB lives in the gap before the first partition */
	for (i = 0; i < x->disk->nparts; i++)
		if (!strcasecmp(x->disk->parts[i].type, "21686148-6449-6e6f-744e-656564454649"))
			return 1;
	return 0;
}

/* The distribution's id (os-release ID=), for the ESP's folder. */
static void lx_os_id(const struct lx *x, char *id, size_t n)
{
	int exists;
	char *t = lx_read(x, "/etc/os-release", &exists), *p;

	str_copy(id, n, "linux");
	if (t && (p = strstr(t, "\nID=")) && p[4]) {
		p += 4;
		p += *p == '"';
		snprintf(id, n, "%.*s", (int)strcspn(p, "\"\n"), p);
	}
	free(t);
}

/* The line after line in a text, or NULL at its end. */
static const char *lx_next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

/* The package that holds GRUB's files for the firmware (BIOS: i386-pc;
 * UEFI: x86_64-efi) in the system's distribution (os-release ID, ID_LIKE). */
static const char *lx_grub_package(const struct lx *x)
{
	static const struct {
		const char *ids[4], *bios, *uefi;
	} pkgs[] = {
		{ { "debian", "ubuntu" }, "grub-pc-bin (Debian, Ubuntu)",
		  "grub-efi-amd64-bin (Debian, Ubuntu)" },
		{ { "rhel", "fedora", "centos" }, "grub2-pc-modules (RHEL, Fedora)",
		  "grub2-efi-x64 (RHEL, Fedora)" },
		{ { "suse", "opensuse", "sles" }, "grub2-i386-pc (SUSE)", "grub2-x86_64-efi (SUSE)" },
	};
	int exists;
	char *t = lx_read(x, "/etc/os-release", &exists);
	const char *found = NULL, *line;
	size_t i, k;

	for (line = t && *t ? t : NULL; line && !found; line = lx_next_line(line)) {
		if (strncmp(line, "ID=", 3) && strncmp(line, "ID_LIKE=", 8))
			continue;
		for (i = 0; i < ARRAY_SIZE(pkgs) && !found; i++)
			for (k = 0; k < ARRAY_SIZE(pkgs[i].ids) && pkgs[i].ids[k] && !found; k++) {
				const char *v = strchr(line, '=') + 1, *w;
				size_t len = strlen(pkgs[i].ids[k]), end = strcspn(v, "\n");
				for (w = v; (w = strstr(w, pkgs[i].ids[k])) && w < v + end; w++)
					if ((w == v || strchr("\" ", w[-1])) && strchr("\" \n", w[len]))
						found = x->o->uefi ? pkgs[i].uefi : pkgs[i].bios;
			}
	}
	free(t);
	if (found)
		return found;
	return x->o->uefi ? "grub-efi-amd64-bin (Debian, Ubuntu), grub2-efi-x64 (RHEL, Fedora) or "
			    "grub2-x86_64-efi (SUSE)" :
			    "grub-pc-bin (Debian, Ubuntu), grub2-pc-modules (RHEL, Fedora) or "
			    "grub2-i386-pc (SUSE)";
}

/* Before anything is changed: a system whose GRUB cannot boot this firmware
 * (its files for it not installed) is refused whole, naming the package, so
 * that nothing is left half done. */
static int lx_grub_ready(struct lx *x)
{
	const char *dir = x->o->uefi ? "/usr/lib/grub/x86_64-efi" : "/usr/lib/grub/i386-pc";

	if (!lx_has(x, "grub-install") || lx_exists(x, dir))
		return 0;
	x->r->refused = 1;
	fixup_note(x->r, FIXUP_FAILED, "boot loader", "this machine boots %s and the system has "
		   "no GRUB for it: install %s in it, or boot the machine in %s mode; nothing "
		   "was changed", x->o->uefi ? "UEFI" : "BIOS", lx_grub_package(x),
		   x->o->uefi ? "BIOS (legacy)" : "UEFI");
	return err_set(-ENOENT, "the system has no GRUB for %s (no %s): install %s in it",
		       x->o->uefi ? "UEFI" : "BIOS", dir, lx_grub_package(x));
}

/* An ESP the system's fstab does not mount (one muletto made for a system
 * that booted BIOS): mounted at /boot/efi by its UUID, as Debian's
 * installer writes it. */
static int lx_fstab_esp(struct lx *x)
{
	const char *rel = "/etc/fstab", *line;
	char *text, *fstab;
	size_t len;
	int r = 0, exists;

	if (!x->o->uefi || !x->esp)
		return 0;
	if (!(fstab = lx_read(x, rel, &exists))) /* as lx_table left it */
		return -ENOMEM;
	for (line = *fstab ? fstab : NULL; line; line = lx_next_line(line)) {
		char dev[256], mp[256];
		if (sscanf(line, " %255s %255s", dev, mp) == 2 && dev[0] != '#' &&
		    (!strcmp(mp, "/boot/efi") || !strcmp(mp, "/efi"))) {
			free(fstab);
			return 0; /* it has one: lx_table names it rightly */
		}
	}
	if (!x->esp->fs_uuid[0]) {
		free(fstab);
		fixup_note(x->r, FIXUP_FAILED, rel, "the ESP (%s) has no file system UUID to "
			   "mount it by: make it FAT32 (mkfs.vfat -F 32)", x->esp->dev);
		return err_set(-ENOENT, "the ESP %s has no file system", x->esp->dev);
	}
	fixup_note(x->r, lx_change(x), rel, "UUID=%s /boot/efi vfat umask=0077 0 1 %s added: "
		   "the ESP (%s) mounted where GRUB for UEFI keeps its files", x->esp->fs_uuid,
		   x->o->dry_run ? "would be" : "was", x->esp->dev);
	if (x->o->dry_run) {
		free(fstab);
		return 0;
	}
	len = strlen(fstab) + 64 + strlen(x->esp->fs_uuid);
	if (!(text = malloc(len))) {
		free(fstab);
		return -ENOMEM;
	}
	snprintf(text, len, "%s%sUUID=%s /boot/efi vfat umask=0077 0 1\n", fstab,
		 fstab[0] && fstab[strlen(fstab) - 1] != '\n' ? "\n" : "", x->esp->fs_uuid);
	r = lx_write(x, rel, text);
	free(text);
	free(fstab);
	if (r < 0)
		fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
	return r;
}

/* GRUB for the firmware the machine boots with. */
static int lx_bootloader(struct lx *x)
{
	const char *rel = "boot loader";
	char disk[DISK_STR], id[64], idarg[96];
	int r = 0;

	str_copy(disk, sizeof(disk), x->disk->dev);
	if (!lx_has(x, "grub-install")) {
		fixup_note(x->r, FIXUP_SKIPPED, rel, "the system has no grub-install: its boot loader "
			   "is left as it is");
		return 0;
	}
	if (!x->o->uefi) {
		const char *argv[] = { "grub-install", "--target=i386-pc", disk, NULL };
		if (!lx_exists(x, "/usr/lib/grub/i386-pc")) {
			fixup_note(x->r, FIXUP_FAILED, rel, "this machine boots BIOS and the system has "
				   "no GRUB for it: install grub-pc-bin (Debian, Ubuntu) or "
				   "grub2-pc-modules (Fedora, RHEL) in it, or boot the machine "
				   "in UEFI mode");
			return err_set(-ENOENT, "the system has no GRUB for BIOS (grub-pc-bin)");
		}
		if (!lx_bios_boot_ok(x)) {
			fixup_note(x->r, FIXUP_FAILED, rel, "a GPT disk booting BIOS needs a BIOS boot "
				   "partition (1 MiB, type ef02) for GRUB, and this one has none");
			return err_set(-ENOSPC, "no BIOS boot partition on the GPT disk");
		}
		fixup_note(x->r, lx_change(x), rel, "GRUB for BIOS %s installed on %s "
			   "(grub-install --target=i386-pc)", lx_done(x), disk);
		x->grub_stale = 1;
		if (!x->o->dry_run && (r = lx_run(x, argv)) < 0)
			fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
		return r;
	}
	if (!x->esp) {
		fixup_note(x->r, FIXUP_FAILED, rel, "this machine boots UEFI and the disk has no ESP: "
			   "restore the image with --firmware uefi (muletto restore makes one), "
			   "or boot the machine in BIOS (legacy) mode");
		return err_set(-ENOENT, "no ESP on the disk for a UEFI boot");
	}
	if (!lx_exists(x, "/usr/lib/grub/x86_64-efi")) {
		fixup_note(x->r, FIXUP_FAILED, rel, "this machine boots UEFI and the system has no "
			   "GRUB for it: install grub-efi-amd64-bin (Debian, Ubuntu) or "
			   "grub2-efi-x64 (Fedora, RHEL) in it, or boot the machine in BIOS mode");
		return err_set(-ENOENT, "the system has no GRUB for UEFI (grub-efi-amd64-bin)");
	}
	lx_os_id(x, id, sizeof(id));
	snprintf(idarg, sizeof(idarg), "--bootloader-id=%s", id);
	{
		const char *efi[] = { "grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi",
				      idarg, "--no-nvram", NULL };
		const char *fallback[] = { "grub-install", "--target=x86_64-efi",
					   "--efi-directory=/boot/efi", "--removable", "--no-nvram",
					   NULL };
		fixup_note(x->r, lx_change(x), rel, "GRUB for UEFI %s installed into the ESP (%s) as "
			   "\\EFI\\%s and as the fallback \\EFI\\BOOT\\BOOTX64.EFI, for firmware "
			   "without a boot entry", lx_done(x), x->esp->dev, id);
		x->grub_stale = 1;
		if (!x->o->dry_run && ((r = lx_run(x, efi)) < 0 || (r = lx_run(x, fallback)) < 0))
			fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
	}
	return r;
}

/* A boot entry in the firmware's NVRAM for the system's loader, when muletto
 * runs on the machine itself in UEFI mode (efivarfs); the old ones of the same
 * name removed first. */
static int lx_nvram(struct lx *x)
{
	const char *rel = "NVRAM";
	char id[64], label[128], loader[160], part[16], *p, *save = NULL, num[8];
	const char *list[] = { "efibootmgr", NULL };
	int r;

	if (!x->o->uefi || !x->esp)
		return 0;
	if (access("/sys/firmware/efi/efivars", F_OK) < 0) {
		fixup_note(x->r, FIXUP_SKIPPED, rel, "muletto did not boot in UEFI mode here, so it "
			   "cannot write the firmware's boot entries: the fallback loader boots");
		return 0;
	}
	lx_os_id(x, id, sizeof(id));
	snprintf(label, sizeof(label), "%s", id);
	snprintf(loader, sizeof(loader), "\\EFI\\%s\\%s", id,
		 lx_exists(x, "/boot/efi/EFI/debian/shimx64.efi") && !strcmp(id, "debian") ?
			 "shimx64.efi" : "grubx64.efi");
	snprintf(part, sizeof(part), "%d", x->esp->number);
	fixup_note(x->r, lx_change(x), rel, "boot entry \"%s\" %s made for %s on %s partition %s",
		   label, lx_done(x), loader, x->disk->dev, part);
	if (x->o->dry_run)
		return 0;
	if ((r = spawn_run(list, x->out, LX_OUT)) < 0) {
		fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
		return r;
	}
	/* "Boot0003* debian\tHD(...)": the entries of that name go first */
	for (p = strtok_r(x->out, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		const char *del[] = { "efibootmgr", "-q", "-b", num, "-B", NULL };
		char name[128];
		if (sscanf(p, "Boot%4[0-9A-Fa-f]%*c %127[^\t]", num, name) == 2 &&
		    !strcmp(name, label) && spawn_run(del, NULL, 0) == 0)
			fixup_note(x->r, FIXUP_CHANGED, rel, "old boot entry Boot%s \"%s\" removed",
				   num, name);
	}
	{
		const char *make[] = { "efibootmgr", "-q", "-c", "-d", x->disk->dev, "-p", part,
				       "-L", label, "-l", loader, NULL };
		if ((r = spawn_run(make, NULL, 0)) < 0)
			fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
	}
	return r;
}

/* The name the restored system's udev gives the card this environment calls
 * kname, with systemd's default policy (onboard, slot, path: eno1, ens3,
 * enp0s3), from the card's PCI address; kname itself when the card is not
 * on PCI. */
static void lx_nic_predictable(const char *kname, char *out, size_t n)
{
	char path[PATH_MAX + 32], link[PATH_MAX], line[64], want[32];
	unsigned dom, bus, slot, fn;
	const char *addr;
	struct dirent *de;
	ssize_t k;
	DIR *d;

	str_copy(out, n, kname);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", kname);
	if (!realpath(path, link))
		return;
	/* a virtio card's device is virtioN, on the PCI device udev names */
	for (k = 0; k < 2; k++) {
		addr = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
		if (sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) == 4)
			break;
		if (strrchr(link, '/'))
			*strrchr(link, '/') = 0;
	}
	if (k == 2)
		return;
	snprintf(path, sizeof(path), "%s/acpi_index", link);
	if (read_line_file(path, line, sizeof(line)) == 0 && atoi(line) > 0) {
		snprintf(out, n, "eno%d", atoi(line));
		return;
	}
	snprintf(path, sizeof(path), "%s/index", link);
	if (read_line_file(path, line, sizeof(line)) == 0 && atoi(line) > 0) {
		snprintf(out, n, "eno%d", atoi(line));
		return;
	}
	snprintf(want, sizeof(want), "%04x:%02x:%02x", dom, bus, slot);
	if ((d = opendir("/sys/bus/pci/slots"))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/bus/pci/slots/%.200s/address", de->d_name);
			if (read_line_file(path, line, sizeof(line)) == 0 && !strcmp(line, want)) {
				snprintf(out, n, "ens%.20s", de->d_name);
				if (fn)
					snprintf(out + strlen(out), n - strlen(out), "f%u", fn);
				closedir(d);
				return;
			}
		}
		closedir(d);
	}
	if (dom)
		snprintf(out, n, "P%uenp%us%u", dom, bus, slot);
	else
		snprintf(out, n, "enp%us%u", bus, slot);
	if (fn)
		snprintf(out + strlen(out), n - strlen(out), "f%u", fn);
}

static int lx_nic_is_kernel_name(const char *name)
{
	return !strncmp(name, "eth", 3) && name[3] && strspn(name + 3, "0123456789") == strlen(name + 3);
}

/* The network configuration's cards mapped onto this machine's: --nic, or
 * the cards it names that are not here paired with the cards here it does
 * not name (same MAC first, then in order), each under the name the restored
 * system will give it (kernel names ethN if the configuration uses them). */
static int lx_nics(struct lx *x)
{
	const char *rel = "network";
	struct nic here[NIC_PAIRS_MAX], old[NIC_PAIRS_MAX], gone[NIC_PAIRS_MAX],
		spare[NIC_PAIRS_MAX];
	struct nic_pair map[NIC_PAIRS_MAX];
	size_t nhere = 0, nold = 0, ngone = 0, nspare = 0, nmap = 0, i, k;
	int r, kernel_names = 1;

	if ((r = nic_machine(NULL, here, ARRAY_SIZE(here), &nhere)) < 0 ||
	    (r = nic_names_in_config(x->dir, old, ARRAY_SIZE(old), &nold)) < 0) {
		fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
		return r;
	}
	for (i = 0; i < nold; i++)
		if (old[i].name[0] && !lx_nic_is_kernel_name(old[i].name))
			kernel_names = 0;
	for (i = 0; i < nhere && !kernel_names; i++) {
		char name[sizeof(here[i].name)];
		lx_nic_predictable(here[i].name, name, sizeof(name));
		str_copy(here[i].name, sizeof(here[i].name), name);
	}
	if (x->o->nic_map) {
		if ((r = nic_map_parse(x->o->nic_map, map, ARRAY_SIZE(map), &nmap)) < 0) {
			fixup_note(x->r, FIXUP_FAILED, rel, "--nic %s: %s", x->o->nic_map, err_msg());
			return r;
		}
	} else {
		for (i = 0; i < nold; i++) { /* named, and not here */
			for (k = 0; k < nhere; k++)
				if (old[i].mac[0] ? !strcmp(old[i].mac, here[k].mac) :
						    !strcmp(old[i].name, here[k].name))
					break;
			if (k == nhere)
				gone[ngone++] = old[i];
		}
		for (k = 0; k < nhere; k++) { /* here, and not named */
			for (i = 0; i < nold; i++)
				if ((old[i].mac[0] && !strcmp(old[i].mac, here[k].mac)) ||
				    (old[i].name[0] && !strcmp(old[i].name, here[k].name)))
					break;
			if (i == nold)
				spare[nspare++] = here[k];
		}
		if (ngone && (r = nic_map_auto(gone, ngone, spare, nspare, map, ARRAY_SIZE(map),
					       &nmap)) < 0) {
			fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
			return r;
		}
	}
	nic_map_fill(map, nmap, old, nold, here, nhere);
	if (!nmap && ngone) {
		fixup_note(x->r, FIXUP_SKIPPED, rel, "the configuration names %s%s, which this "
			   "machine does not have, and it has no other card to take its place; "
			   "name one with --nic OLD=NEW", gone[0].name[0] ? gone[0].name : gone[0].mac,
			   ngone > 1 ? " and more" : "");
		return 0;
	}
	if (!nmap) {
		fixup_note(x->r, FIXUP_KEPT, rel, nold ? "the configuration names only cards this "
			   "machine has" : "no configuration names a network card");
		return 0;
	}
	if ((r = fixup_nics(x->dir, map, nmap, x->o->dry_run, x->r)) < 0)
		return r;
	return 0;
}

/* grub.cfg made anew when it names disks the old way or anything it reads changed. */
static int lx_grub_cfg(struct lx *x)
{
	const char *rel = "/boot/grub/grub.cfg";
	int exists, r = 0;
	char *cfg = lx_read(x, rel, &exists), *p;
	char spec[300];

	if (!cfg)
		return -ENOMEM;
	for (p = cfg; exists && !x->grub_stale && (p = strstr(p, "root=/dev/"));) {
		snprintf(spec, sizeof(spec), "%.*s", (int)strcspn(p + 5, " \t\n'\""), p + 5);
		if (names_partition(x->root_disk, spec))
			x->grub_stale = 1;
		p += 5;
	}
	free(cfg);
	if (!exists || !x->grub_stale) {
		if (exists)
			fixup_note(x->r, FIXUP_KEPT, rel, "names the root by what travels with it");
		return 0;
	}
	fixup_note(x->r, lx_change(x), rel, "%s made anew (%s)", lx_done(x),
		   lx_has(x, "update-grub") ? "update-grub" : "grub-mkconfig");
	if (x->o->dry_run)
		return 0;
	if (lx_has(x, "update-grub")) {
		const char *argv[] = { "update-grub", NULL };
		r = lx_run(x, argv);
	} else {
		const char *argv[] = { "grub-mkconfig", "-o", "/boot/grub/grub.cfg", NULL };
		r = lx_run(x, argv);
	}
	if (r < 0) {
		fixup_note(x->r, FIXUP_FAILED, rel, "%s", err_msg());
		return r;
	}
	/* made here, it must not name the root by this machine's name for it */
	if (!(cfg = lx_read(x, rel, &exists)))
		return -ENOMEM;
	snprintf(spec, sizeof(spec), "root=%s", x->disk->dev);
	if (strstr(cfg, spec)) {
		fixup_note(x->r, FIXUP_FAILED, rel, "made anew, it names the root as %s, a name "
			   "only this boot environment has; set GRUB_DISABLE_LINUX_UUID=false in "
			   "/etc/default/grub and run update-grub", x->root->dev);
		r = err_set(-EIO, "%s names the root by this machine's name for it", rel);
	}
	free(cfg);
	return r;
}

/* The partitions fstab mounts at /boot and /boot/efi (or /efi), mounted in
 * place: the tools above write there. */
static int lx_mount_boot(struct lx *x, const char *fstab)
{
	static const char *const wanted[] = { "/boot", "/boot/efi", "/efi" };
	const char *line = fstab;
	size_t i;

	while (line && *line) {
		char dev[256], mp[256], type[64], at[PATH_MAX];
		if (sscanf(line, " %255s %255s %63s", dev, mp, type) == 3 && dev[0] != '#')
			for (i = 0; i < ARRAY_SIZE(wanted); i++) {
				const struct disk_part *p;
				if (strcmp(mp, wanted[i]))
					continue;
				if (!(p = lx_find(x, dev))) {
					fixup_note(x->r, FIXUP_FAILED, mp, "fstab mounts %s there, "
						   "which is not on this disk", dev);
					return err_set(-ENOENT, "%s: fstab's %s is not on %s", mp,
						       dev, x->disk->dev);
				}
				lx_path(x, mp, at, sizeof(at));
				if (lx_mount(x, p->dev, p->fs[0] ? p->fs : type, at) < 0) {
					/* the ESP without vfat in this kernel: only UEFI needs
					 * it, and a dry run can say the rest without it */
					if (strcmp(mp, "/boot") && (!x->o->uefi || x->o->dry_run)) {
						fixup_note(x->r, FIXUP_SKIPPED, mp, "not mounted (%s); %s",
							   err_msg(), x->o->uefi ? "what it holds is "
							   "not looked at in this dry run" :
							   "a BIOS boot does not need it");
						x->esp = p;
						x->esp_unread = 1;
						continue;
					}
					return -EIO;
				}
				if (strcmp(mp, "/boot"))
					x->esp = p;
			}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 0;
}

/* The report, appended to /var/log/muletto-fixup.log in the system. */
static void lx_log(struct lx *x)
{
	char p[PATH_MAX], when[64];
	time_t now = time(NULL);
	FILE *f;
	size_t i;

	lx_path(x, "/var/log/muletto-fixup.log", p, sizeof(p));
	if (x->o->dry_run || !(f = fopen(p, "a")))
		return;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(f, "muletto fixup, %s: %s on %s, booting %s\n", when, x->r->name, x->root->dev,
		x->o->uefi ? "UEFI" : "BIOS");
	for (i = 0; i < x->r->n; i++)
		fprintf(f, "  %-14s %s: %s\n", fixup_state_name(x->r->items[i].state),
			x->r->items[i].what, x->r->items[i].detail);
	fclose(f);
}

int fixup_linux_probe(const struct disk_part *p, char *name, size_t n)
{
	char dir[] = "/tmp/muletto-probe.XXXXXX", path[PATH_MAX];
	const char *data = !strncmp(p->fs, "ext", 3) ? "noload" :
			   !strcmp(p->fs, "xfs") ? "norecovery" : NULL;
	void *buf = NULL;
	size_t len;
	int r = 0;
	char *v;

	name[0] = 0;
	if (!mkdtemp(dir))
		return err_set(-errno, "cannot make a folder to look into %s: %s", p->dev,
			       strerror(errno));
	if (mount(p->dev, dir, p->fs, MS_RDONLY, data) < 0 &&
	    (!data || mount(p->dev, dir, p->fs, MS_RDONLY, NULL) < 0)) {
		rmdir(dir);
		return 0; /* not a file system this kernel reads: not a Linux root */
	}
	snprintf(path, sizeof(path), "%s/etc/os-release", dir);
	if (file_read_all(path, LX_FILE_MAX, &buf, &len) < 0) {
		snprintf(path, sizeof(path), "%s/usr/lib/os-release", dir);
		if (file_read_all(path, LX_FILE_MAX, &buf, &len) < 0)
			buf = NULL;
	}
	if (buf) {
		snprintf(path, sizeof(path), "%s/etc/fstab", dir);
		r = access(path, F_OK) == 0; /* a root, not a copy of one */
		if (r) {
			str_copy(name, n, "Linux");
			if ((v = strstr(buf, "PRETTY_NAME=")) && v[12]) {
				v += 12;
				v += *v == '"';
				snprintf(name, n, "%.*s", (int)strcspn(v, "\"\n"), v);
			}
		}
		free(buf);
	}
	umount(dir);
	rmdir(dir);
	return r;
}

int fixup_linux(const struct disk_info *disk, const struct disk_part *root,
		const struct fixup_opts *o, struct fixup_report *r)
{
	struct lx x = { .disk = disk, .root = root, .o = o, .r = r };
	char spec[256];
	int exists, rc = 0, step;
	char *fstab = NULL;

	str_copy(r->kind, sizeof(r->kind), "linux");
	str_copy(r->partition, sizeof(r->partition), root->dev);
	if (!(x.out = malloc(LX_OUT)))
		return -ENOMEM;
	str_copy(x.dir, sizeof(x.dir), "/tmp/muletto-fixup.XXXXXX");
	if (!mkdtemp(x.dir)) {
		rc = err_set(-errno, "cannot make a folder to mount %s at: %s", root->dev,
			     strerror(errno));
		x.dir[0] = 0;
		goto out;
	}
	if ((rc = lx_mount(&x, root->dev, root->fs, x.dir)) < 0)
		goto out;
	fstab = lx_read(&x, "/etc/fstab", &exists);
	if (!fstab) {
		rc = -ENOMEM;
		goto out;
	}
	lx_root_spec(fstab, spec, sizeof(spec));
	names_root_disk(spec, x.root_disk, sizeof(x.root_disk));
	if ((rc = lx_grub_ready(&x)) < 0)
		goto out; /* refused before anything changed */
	if ((rc = lx_mount_boot(&x, fstab)) < 0 || (rc = lx_bind(&x)) < 0)
		goto out;
	if (!x.esp)
		x.esp = o->uefi ? lx_esp(&x) : NULL;
	if (o->uefi && x.esp && !x.esp_unread && !lx_exists(&x, "/boot/efi/EFI")) {
		char at[PATH_MAX];
		lx_path(&x, "/boot/efi", at, sizeof(at));
		mkdir(at, 0755);
		if ((rc = lx_mount(&x, x.esp->dev, "vfat", at)) < 0) {
			fixup_note(r, FIXUP_FAILED, "/boot/efi", "cannot mount the ESP: %s", err_msg());
			goto out;
		}
	}
	/* each step goes on after another's failure: the report tells them all */
	step = lx_table(&x, "/etc/fstab", 1);
	rc = rc ? rc : step;
	step = lx_fstab_esp(&x);
	rc = rc ? rc : step;
	step = lx_table(&x, "/etc/crypttab", 2);
	rc = rc ? rc : step;
	step = lx_resume(&x);
	rc = rc ? rc : step;
	step = lx_grub_defaults(&x);
	rc = rc ? rc : step;
	step = lx_initramfs(&x);
	rc = rc ? rc : step;
	step = lx_bootloader(&x);
	rc = rc ? rc : step;
	step = lx_grub_cfg(&x);
	rc = rc ? rc : step;
	step = lx_nvram(&x);
	rc = rc ? rc : step;
	step = lx_nics(&x);
	rc = rc ? rc : step;
	lx_log(&x);
out:
	free(fstab);
	lx_unmount(&x);
	free(x.out);
	return rc;
}
