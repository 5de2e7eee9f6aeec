/* Device nodes for a disk's partitions after its table was written: the
 * kernel is asked to read the table again (BLKRRPART), and where it will not
 * (a loop device without partition scanning, a disk with a partition in
 * use), each missing partition is added the way partx -a does (BLKPG). */
#include <errno.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"

/* Whether the kernel's partition p is where the table says: its start and
 * size in /sys/class/block/NAME (512-byte units). */
static int partnodes_right(const struct disk_part *p)
{
	const char *name = strrchr(p->dev, '/');
	char path[256], line[32];
	unsigned long long start, size;

	if (access(p->dev, F_OK) < 0 || !name)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/block/%s/start", name + 1);
	if (read_line_file(path, line, sizeof(line)) < 0 || sscanf(line, "%llu", &start) != 1)
		return 1; /* the kernel does not say: the node stands */
	snprintf(path, sizeof(path), "/sys/class/block/%s/size", name + 1);
	if (read_line_file(path, line, sizeof(line)) < 0 || sscanf(line, "%llu", &size) != 1)
		return 1;
	return start * 512 == p->start && size * 512 == p->size;
}

static int partnodes_missing(const struct disk_info *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->nparts; i++)
		n += !partnodes_right(&d->parts[i]);
	return (int)n;
}

/* devtmpfs makes a node as the kernel announces the partition; a moment. */
static void partnodes_settle(const struct disk_info *d)
{
	for (int i = 0; i < 50 && partnodes_missing(d); i++)
		usleep(20000);
}

int disk_part_nodes(const char *path, const struct disk_info *d)
{
	size_t i;
	int fd, r = 0;

	if (!partnodes_missing(d))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (ioctl(fd, BLKRRPART) == 0)
		partnodes_settle(d);
	for (i = 0; i < d->nparts && r == 0; i++) {
		const struct disk_part *p = &d->parts[i];
		struct blkpg_partition part = { .start = (long long)p->start,
						.length = (long long)p->size,
						.pno = p->number };
		struct blkpg_ioctl_arg a = { .op = BLKPG_ADD_PARTITION,
					     .datalen = sizeof(part),
					     .data = &part };
		if (partnodes_right(p))
			continue;
		if (access(p->dev, F_OK) == 0) { /* of the table before: moved */
			a.op = BLKPG_DEL_PARTITION;
			if (ioctl(fd, BLKPG, &a) < 0) {
				r = err_set(-errno, "%s's partition %d is not where the new table "
						    "puts it and the kernel keeps it (%s): is it in "
						    "use?", path, p->number, strerror(errno));
				break;
			}
			a.op = BLKPG_ADD_PARTITION;
		}
		if (ioctl(fd, BLKPG, &a) < 0)
			r = err_set(-errno, "cannot make the device node of %s's partition %d: %s",
				    path, p->number, strerror(errno));
	}
	close(fd);
	if (r == 0)
		partnodes_settle(d);
	if (r == 0 && partnodes_missing(d))
		r = err_set(-ENOENT, "%s's partitions have no device nodes where its table puts them, "
				     "after the kernel was told: run 'partx -u %s'", path, path);
	return r;
}
