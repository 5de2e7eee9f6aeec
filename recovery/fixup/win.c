/* Windows made to boot where it landed (see win.h): the volume mounted with
 * ntfs-3g, refused when Windows did not shut down (hibernation, Fast
 * Startup) or is encrypted, then the SYSTEM hive, the BCD store and the
 * report in C:\muletto-fixup.txt. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/fixup/report_text.h"
#include "muletto/fixup/win.h"
#include "muletto/fixup/win_hive.h"

#define NTFS_VOLUME_HIBERNATED 14 /* ntfs-3g's exit status: Windows holds it */
#define ESP_GUID	       "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

static const char win_hibernated[] =
	"Windows was hibernated or shut down with Fast Startup, so its disk holds changes "
	"it has not written yet: start it (on the old machine, or as a VM with muletto run), "
	"shut it down with 'shutdown /s /f /t 0', capture it again, then run muletto fixup";
static const char win_bitlocker[] =
	"the volume is encrypted with BitLocker, which muletto cannot open: suspend BitLocker "
	"in Windows before capturing it (manage-bde -protectors -disable C:), or repair the "
	"boot from Windows' recovery environment with the recovery key";

struct win_vol {
	char dir[64]; /* ours: the mount point and copies below it */
	char mnt[80];
	int mounted;
	const char *dev;
};

/* rel ("Windows/System32/config/SYSTEM") below root, each name in any case
 * (ntfs-3g matches names exactly); 1 with the path in out. */
static int win_find(const char *root, const char *rel, char *out, size_t n)
{
	char path[4096], part[256];
	const char *s = rel, *e;
	struct dirent *de;
	DIR *dir;

	str_copy(path, sizeof(path), root);
	while (*s) {
		e = strchrnul(s, '/');
		snprintf(part, sizeof(part), "%.*s", (int)(e - s), s);
		dir = opendir(path);
		if (!dir)
			return 0;
		while ((de = readdir(dir)) && strcasecmp(de->d_name, part))
			;
		if (de)
			snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s",
				 de->d_name);
		closedir(dir);
		if (!de)
			return 0;
		s = *e ? e + 1 : e;
	}
	str_copy(out, n, path);
	return 1;
}

/* ntfs-3g mounted read-only or read-write; -EROFS (no message) when Windows
 * holds the volume. */
static int win_mount(struct win_vol *v, int rw)
{
	const char *argv[] = { "ntfs-3g", "-o",	  rw ? "rw,nodev,nosuid" : "ro,nodev,nosuid",
			       v->dev,	  v->mnt, NULL };
	char out[512];
	int r = spawn_run_ok(argv, 255, out, sizeof(out));

	if (r == NTFS_VOLUME_HIBERNATED)
		return -EROFS;
	if (r > 0)
		return err_set(-EIO, "ntfs-3g cannot mount %s (exit status %d)", v->dev, r);
	if (r == 0)
		v->mounted = 1;
	return r < 0 ? err_prefix(r, "mounting the Windows volume %s", v->dev) : 0;
}

/* Unmounted, and ntfs-3g gone: it holds the device open (exclusively) until
 * it has written everything. */
static int win_umount(struct win_vol *v)
{
	int i, fd;

	if (!v->mounted)
		return 0;
	for (i = 0; umount(v->mnt) < 0; i++) {
		if (errno != EBUSY || i == 50)
			return err_set(-errno, "cannot unmount %s from %s: %s", v->dev, v->mnt,
				       strerror(errno));
		sleep_ms(100);
	}
	v->mounted = 0;
	for (i = 0; i < 300; i++) {
		fd = open(v->dev, O_RDONLY | O_EXCL | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		sleep_ms(100);
	}
	return err_set(-EBUSY, "ntfs-3g still holds %s 30 s after it was unmounted", v->dev);
}

static int win_vol_open(struct win_vol *v, const struct disk_part *p)
{
	const char *tmp = getenv("MULETTO_TMPDIR");

	v->dev = p->dev;
	if (!p->dev[0] || access(p->dev, F_OK) < 0)
		return err_set(-ENODEV, "partition %d has no block device to mount (%s)", p->number,
			       p->dev[0] ? p->dev : "none");
	snprintf(v->dir, sizeof(v->dir), "%s/muletto-win.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(v->dir))
		return err_set(-errno, "cannot make a folder to mount %s in: %s", p->dev,
			       strerror(errno));
	snprintf(v->mnt, sizeof(v->mnt), "%s/c", v->dir);
	if (mkdir(v->mnt, 0700) < 0) {
		rmdir(v->dir);
		return err_set(-errno, "cannot make %s: %s", v->mnt, strerror(errno));
	}
	return 0;
}

static int win_vol_close(struct win_vol *v)
{
	int r = win_umount(v);

	if (r == 0) {
		rmdir(v->mnt);
		rmdir(v->dir);
	}
	return r;
}

static int win_bitlocker_signature(const struct disk_part *p, const char *disk)
{
	char sig[11] = "";
	size_t got = 0;
	int fd;

	if (!strcasecmp(p->fs, "BitLocker"))
		return 1;
	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	pread_full(fd, sig, sizeof(sig), p->start, &got);
	close(fd);
	return got == sizeof(sig) && !memcmp(sig + 3, "-FVE-FS-", 8);
}

/* Windows' name from the SOFTWARE hive, or "Windows". */
static void win_name(const char *mnt, char *name, size_t n)
{
	char sw[4200];

	if (!win_find(mnt, "Windows/System32/config/SOFTWARE", sw, sizeof(sw)) ||
	    win_hive_product(sw, name, n) < 0)
		str_copy(name, n, "Windows");
	err_clear();
}

/* hiberfil.sys that starts with "hibr": a hibernated Windows, or one shut
 * down with Fast Startup (ntfs-3g refuses to write to both). */
static int win_hibernated_file(const char *mnt)
{
	char path[4200], head[4] = "";
	size_t got = 0;
	int fd;

	if (!win_find(mnt, "hiberfil.sys", path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	pread_full(fd, head, sizeof(head), 0, &got);
	close(fd);
	return got == 4 && !strncasecmp(head, "hibr", 4);
}

int fixup_windows_probe(const struct disk_part *p, char *name, size_t n)
{
	struct win_vol v = { 0 };
	char sys[4200];
	int r;

	if (!strcasecmp(p->fs, "BitLocker")) {
		str_copy(name, n, "Windows (BitLocker-encrypted)");
		return 1;
	}
	r = win_vol_open(&v, p);
	if (r < 0)
		return r;
	r = win_mount(&v, 0);
	if (r == 0 && (r = win_find(v.mnt, "Windows/System32/config/SYSTEM", sys, sizeof(sys))))
		win_name(v.mnt, name, n);
	if (r == -EROFS)
		r = err_set(-EIO, "ntfs-3g refuses %s even read-only", p->dev);
	if (win_vol_close(&v) < 0 && r >= 0)
		r = -EBUSY;
	return r;
}

static const struct disk_part *win_esp(const struct disk_info *d)
{
	size_t i;

	for (i = 0; i < d->nparts; i++)
		if (!strcasecmp(d->parts[i].type, ESP_GUID) || !strcmp(d->parts[i].type, "0xef"))
			return &d->parts[i];
	return NULL;
}

/* BIOS: the BCD store in \Boot of the partition the BIOS boots, a small
 * NTFS "System Reserved" one beside Windows' (active): 1 when q holds it. */
static int win_reserved(const struct disk_info *d, const struct disk_part *q,
			const struct disk_part *win, const struct fixup_opts *o,
			struct fixup_report *r)
{
	struct win_vol v = { 0 };
	char bcd[4200], where[300];
	int k, c;

	if ((k = win_vol_open(&v, q)) < 0)
		return k;
	k = win_mount(&v, !o->dry_run);
	if (k == -EROFS)
		k = err_set(-EIO, "ntfs-3g refuses the System Reserved partition %s", q->dev);
	if (k == 0 && (k = win_find(v.mnt, "Boot/BCD", bcd, sizeof(bcd)))) {
		snprintf(where, sizeof(where), "System Reserved (%s)", q->dev);
		c = win_bcd_fix(bcd, where, d, q, win, o->dry_run, r);
		k = c < 0 ? c : 1;
	}
	c = win_vol_close(&v);
	return k < 0 ? k : c < 0 ? c : k;
}

/* The BCD store: on the ESP (UEFI), else in \Boot of the Windows volume or
 * of an active NTFS partition beside it (BIOS). */
static int win_boot(const struct disk_info *d, const struct disk_part *p, struct win_vol *v,
		    const struct fixup_opts *o, struct fixup_report *r)
{
	const struct disk_part *esp = win_esp(d);
	char bcd[4200];
	size_t i;
	int k = 0;

	if (esp && (k = win_esp_fix(d, esp, p, v->dir, o->dry_run, r)) < 0)
		return k;
	if (k) {
		str_copy(r->boot_mode, sizeof(r->boot_mode), "uefi");
	} else if (win_find(v->mnt, "Boot/BCD", bcd, sizeof(bcd))) {
		str_copy(r->boot_mode, sizeof(r->boot_mode), "bios");
		k = win_bcd_fix(bcd, "C:", d, p, p, o->dry_run, r);
		if (k < 0)
			return k;
	} else {
		for (i = 0; i < d->nparts && k == 0; i++)
			if (&d->parts[i] != p && !strcmp(d->parts[i].fs, "ntfs") &&
			    (d->parts[i].attributes & 0x80))
				k = win_reserved(d, &d->parts[i], p, o, r);
		if (k < 0)
			return k;
		if (k == 0) {
			fixup_note(r, FIXUP_FAILED, "BCD",
				   "no boot store on the ESP, in C:\\Boot nor on an active NTFS "
				   "partition: run bcdboot C:\\Windows from Windows' installer");
			return 0;
		}
		str_copy(r->boot_mode, sizeof(r->boot_mode), "bios");
	}
	if (o->uefi && !strcmp(r->boot_mode, "bios"))
		fixup_note(r, FIXUP_FAILED, "firmware",
			   "this Windows boots BIOS and the machine UEFI: switch the firmware to "
			   "legacy (CSM) boot");
	else if (!o->uefi && !strcmp(r->boot_mode, "uefi"))
		fixup_note(r, FIXUP_FAILED, "firmware",
			   "this Windows boots UEFI and the machine BIOS: switch the firmware to "
			   "UEFI boot");
	return 0;
}

static int win_write_report(struct win_vol *v, struct fixup_report *r)
{
	_cleanup_free_ char *path = path_join(v->mnt, "muletto-fixup.txt");
	_cleanup_free_ char *text = NULL;
	int rc;

	if (!path)
		return -ENOMEM;
	fixup_note(r, FIXUP_CHANGED, "C:\\muletto-fixup.txt", "this report");
	text = fixup_report_string(r, 1);
	if (!text)
		return -ENOMEM;
	rc = file_write_atomic(path, text, strlen(text), 1);
	if (rc < 0) {
		r->items[r->n - 1].state = FIXUP_FAILED;
		return err_set(rc, "cannot write %s: %s", path, strerror(-rc));
	}
	return 0;
}

static void win_refuse(struct fixup_report *r, const char *why)
{
	r->refused = 1;
	fixup_note(r, FIXUP_FAILED, "volume", "%s", why);
}

/* Mounted read-only: found, named, and checked that Windows let go of it. */
static int win_open(const struct disk_part *p, struct win_vol *v, const struct fixup_opts *o,
		    struct fixup_report *r)
{
	char sys[4200], name[128];
	int k = win_mount(v, 0);

	if (k == -EROFS)
		return err_set(-EIO, "ntfs-3g refuses %s even read-only", p->dev);
	if (k < 0)
		return k;
	if (!win_find(v->mnt, "Windows/System32/config/SYSTEM", sys, sizeof(sys)))
		return 0;
	win_name(v->mnt, name, sizeof(name));
	memset(r, 0, sizeof(*r));
	str_copy(r->kind, sizeof(r->kind), "windows");
	str_copy(r->name, sizeof(r->name), name);
	str_copy(r->partition, sizeof(r->partition), p->dev);
	if (win_hibernated_file(v->mnt)) {
		win_refuse(r, win_hibernated);
		return 1;
	}
	if (o->dry_run)
		return 1;
	if ((k = win_umount(v)) < 0)
		return k;
	k = win_mount(v, 1);
	if (k == -EROFS)
		win_refuse(r, win_hibernated);
	return k < 0 && k != -EROFS ? k : 1;
}

int fixup_windows(const struct disk_info *d, const struct disk_part *p, const struct fixup_opts *o,
		  struct fixup_report *r)
{
	struct win_vol v = { 0 };
	char sys[4200];
	int k, c;

	if (win_bitlocker_signature(p, d->dev)) {
		memset(r, 0, sizeof(*r));
		str_copy(r->kind, sizeof(r->kind), "windows");
		str_copy(r->name, sizeof(r->name), "Windows (BitLocker-encrypted)");
		str_copy(r->partition, sizeof(r->partition), p->dev);
		win_refuse(r, win_bitlocker);
		return 1;
	}
	k = win_vol_open(&v, p);
	if (k < 0)
		return k;
	k = win_open(p, &v, o, r);
	if (k == 1 && !r->refused) {
		if (!win_find(v.mnt, "Windows/System32/config/SYSTEM", sys, sizeof(sys)))
			k = err_set(-ENOENT, "the SYSTEM hive went away from %s", p->dev);
		if (k == 1 && (c = win_system_fix(sys, d, p, o->dry_run, r)) < 0)
			k = c;
		if (k == 1 && (c = win_boot(d, p, &v, o, r)) < 0)
			k = c;
		if (k == 1 && !o->dry_run && (c = win_write_report(&v, r)) < 0)
			k = c;
	}
	c = win_vol_close(&v);
	return k < 0 ? k : c < 0 ? c : k;
}
