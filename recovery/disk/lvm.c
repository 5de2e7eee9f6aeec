/* lvm2's tools, run through core/spawn (see lvm.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/fs.h"
#include "muletto/disk/lvm.h"

/* device-mapper built as a module that is not loaded yet (modprobe dm_mod). */
static int have_dm_module(void)
{
	static const char *const ext[] = { "", ".xz", ".zst", ".gz" };
	char file[512];
	struct utsname u;
	size_t i;

	if (uname(&u) < 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		snprintf(file, sizeof(file), "/lib/modules/%.200s/kernel/drivers/md/dm-mod.ko%s",
			 u.release, ext[i]);
		if (access(file, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* The kernel lists device-mapper's control device in /proc/misc once it is
 * there (a /dev/mapper/control node alone proves nothing: udev or a package
 * script may have made it for a kernel without device-mapper). */
int lvm_have_device_mapper(void)
{
	char line[256];
	FILE *f;
	int found;

	if (have_dm_module())
		return 1;
	f = fopen("/proc/misc", "re");
	if (!f)
		return 0;
	for (found = 0; !found && fgets(line, sizeof(line), f);)
		found = strstr(line, " device-mapper") != NULL;
	fclose(f);
	return found;
}

int lvm_tools_check(void)
{
	static const char *const tools[] = { "lvcreate", "lvremove", "lvs" };
	char file[2300];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (!spawn_find(tools[i], file, sizeof(file)))
			return err_set(-EOPNOTSUPP, "--snapshot needs lvm2's %s, which is not "
						    "installed (apt-get install lvm2)", tools[i]);
	return 0;
}

int lvm_run(const char *const argv[], char *out, size_t out_size)
{
	int r = spawn_run(argv, out, out_size);

	if (r == -ENOENT)
		return err_set(-EOPNOTSUPP, "--snapshot needs lvm2's %s, which is not installed "
					    "(apt-get install lvm2)", argv[0]);
	return r;
}

/* The volume group of the physical volume dev and the logical volume that
 * holds its last allocated extent. */
static int lvm_last_lv(const char *dev, char *vg, size_t vn, char *lv, size_t ln)
{
	const char *pvs[] = { "pvs", "--devices", dev, "--noheadings", "-o", "vg_name", dev, NULL };
	const char *segs[] = { "pvs", "--devices", dev, "--noheadings", "--segments", "-o",
			       "pvseg_start,lv_name", dev, NULL };
	char out[8192], name[256], v[256];
	unsigned long long start, last = 0;
	const char *p;
	int r;

	if ((r = spawn_run(pvs, out, sizeof(out))) < 0)
		return r;
	if (sscanf(out, "%255s", v) != 1)
		return err_set(-ENOENT, "%s: the physical volume belongs to no volume group", dev);
	if ((r = spawn_run(segs, out, sizeof(out))) < 0)
		return r;
	lv[0] = 0;
	for (p = out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		if (sscanf(p, "%llu %255s", &start, name) == 2 && start >= last) {
			last = start;
			str_copy(lv, ln, name);
		}
	if (!lv[0])
		return err_set(-ENOENT, "%s: volume group %s has no logical volume on it", dev, v);
	str_copy(vg, vn, v);
	return 0;
}

/* The file system on the logical volume at dev grown to fill it. */
static int lvm_grow_fs(const char *dev, char *verdict, size_t n)
{
	struct disk_part part;
	uint64_t size = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	memset(&part, 0, sizeof(part));
	if (fd < 0)
		return err_set(-errno, "cannot open %s: %s", dev, strerror(errno));
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		r = err_set(-errno, "cannot read the size of %s: %s", dev, strerror(errno));
	part.size = size;
	if (r == 0)
		disk_probe_fs(fd, &part);
	close(fd);
	if (r == 0 && !fs_can_grow(part.fs))
		r = err_set(-EOPNOTSUPP, "%s holds %s, which muletto cannot grow: the volume is "
					 "larger, its file system is not", dev,
			    part.fs[0] ? part.fs : "no known file system");
	if (r == 0)
		r = fs_fit_dev(dev, 0, part.fs, verdict, n);
	return r;
}

int lvm_grow_last(const char *path, uint64_t off, uint64_t size, char *verdict, size_t n)
{
	char dev[64], vg[256], lv[256], vglv[520], node[600], out[4096], v[64] = "", sz[32] = "";
	const char *extend[] = { "lvextend", "--devices", dev, "-l", "+100%FREE", vglv, NULL };
	const char *on[] = { "vgchange", "--devices", dev, "-ay", vg, NULL };
	const char *off_[] = { "vgchange", "--devices", dev, "-an", vg, NULL };
	const char *lvs[] = { "lvs", "--devices", dev, "--noheadings", "--units", "b", "--nosuffix",
			      "-o", "lv_size", vglv, NULL };
	int loop = -1, r, active = 0;

	verdict[0] = 0;
	if ((r = fs_loop_attach(path, off, size, 0, dev, sizeof(dev), &loop)) < 0)
		return r;
	r = lvm_last_lv(dev, vg, sizeof(vg), lv, sizeof(lv));
	snprintf(vglv, sizeof(vglv), "%s/%s", vg, lv);
	/* "Size of logical volume ... unchanged": no free extents, nothing to do */
	if (r == 0 && (r = spawn_run(extend, out, sizeof(out))) < 0 && strstr(err_msg(), "matches"))
		r = 0;
	if (r == 0 && (r = spawn_run(on, out, sizeof(out))) == 0)
		active = 1;
	snprintf(node, sizeof(node), "/dev/%s", vglv);
	if (r == 0)
		r = lvm_grow_fs(node, v, sizeof(v));
	if (r == 0 && spawn_run(lvs, out, sizeof(out)) == 0)
		human_size(strtoull(out, NULL, 10), sz, sizeof(sz));
	if (active && spawn_run(off_, out, sizeof(out)) < 0 && r == 0)
		r = -EBUSY; /* vgchange's message */
	close(loop);
	if (r == 0)
		snprintf(verdict, n, "%s grown to %s, %s", vglv, sz[0] ? sz : "its PV's room", v);
	return r;
}
