/* What is on a disk or image: partition table, partitions, file systems (libblkid). */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/disk/disk.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

static void probe_value(blkid_probe pr, const char *name, char *out, size_t n)
{
	const char *v = NULL;

	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		str_copy(out, n, v);
}

/* File system inside [start, start+size) of fd (see disk.h). */
void disk_probe_fs(int fd, struct disk_part *p)
{
	blkid_probe pr = blkid_new_probe();
	char bs[16] = "";

	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)p->start, (blkid_loff_t)p->size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
							      BLKID_SUBLKS_UUID);
		blkid_probe_enable_partitions(pr, 0);
		if (blkid_do_safeprobe(pr) == 0) {
			probe_value(pr, "TYPE", p->fs, sizeof(p->fs));
			probe_value(pr, "LABEL", p->label, sizeof(p->label));
			probe_value(pr, "UUID", p->fs_uuid, sizeof(p->fs_uuid));
			probe_value(pr, "BLOCK_SIZE", bs, sizeof(bs));
			p->fs_block_size = (uint32_t)strtoul(bs, NULL, 10);
		}
	}
	blkid_free_probe(pr);
}

static void part_fill(blkid_partition bp, uint64_t ssz, int is_gpt, struct disk_part *p)
{
	const char *s;

	p->number = blkid_partition_get_partno(bp);
	p->start = (uint64_t)blkid_partition_get_start(bp) * ssz;
	p->size = (uint64_t)blkid_partition_get_size(bp) * ssz;
	if (is_gpt) {
		s = blkid_partition_get_type_string(bp);
		str_copy(p->type, sizeof(p->type), s ? s : "");
	} else {
		snprintf(p->type, sizeof(p->type), "0x%02x", blkid_partition_get_type(bp));
	}
	s = blkid_partition_get_name(bp);
	str_copy(p->name, sizeof(p->name), s ? s : "");
	s = blkid_partition_get_uuid(bp);
	str_copy(p->uuid, sizeof(p->uuid), s ? s : "");
	p->attributes = blkid_partition_get_flags(bp);
}

static int probe_parts(blkid_probe pr, int fd, struct disk_info *d)
{
	blkid_partlist ls = blkid_probe_get_partitions(pr);
	blkid_parttable tab;
	uint64_t ssz = 512; /* libblkid counts partitions in 512-byte sectors */
	int i, n, is_gpt;

	if (!ls || !(tab = blkid_partlist_get_table(ls)))
		return 0;
	str_copy(d->pt_type, sizeof(d->pt_type), blkid_parttable_get_type(tab));
	str_copy(d->pt_uuid, sizeof(d->pt_uuid), blkid_parttable_get_id(tab) ?: "");
	is_gpt = !strcmp(d->pt_type, "gpt");
	n = blkid_partlist_numof_partitions(ls);
	if (n <= 0)
		return 0;
	d->parts = calloc((size_t)n, sizeof(*d->parts));
	if (!d->parts)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct disk_part *p = &d->parts[d->nparts];
		blkid_partition bp = blkid_partlist_get_partition(ls, i);
		if (!bp)
			continue;
		part_fill(bp, ssz, is_gpt, p);
		if (d->dev[0])
			snprintf(p->dev, sizeof(p->dev), "%.200s%s%d", d->dev,
				 d->dev[strlen(d->dev) - 1] >= '0' && d->dev[strlen(d->dev) - 1] <= '9'
					 ? "p" : "", p->number);
		disk_probe_fs(fd, p);
		d->nparts++;
	}
	return 0;
}

int disk_probe_fd(int fd, uint64_t size, struct disk_info *d)
{
	blkid_probe pr = blkid_new_probe();
	int r = 0;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)size) < 0) {
		blkid_free_probe(pr);
		return err_set(-EIO, "cannot probe %s", d->dev[0] ? d->dev : "the image");
	}
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	blkid_probe_enable_superblocks(pr, 0);
	if (blkid_do_fullprobe(pr) == 0)
		r = probe_parts(pr, fd, d);
	blkid_free_probe(pr);
	return r;
}

void disk_info_clear(struct disk_info *d)
{
	free(d->parts);
	d->parts = NULL;
	d->nparts = 0;
}
