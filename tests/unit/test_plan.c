/* Layout plans: a disk of another size or sector size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/layout/plan.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

/* ESP 40 MiB, ext4 root 2 GiB (1 GiB data, min 1.1 GiB), swap 512 MiB at the end */
static struct manifest_disk *sample(void)
{
	static struct manifest_part parts[3];
	static struct manifest_disk d;

	memset(parts, 0, sizeof(parts));
	memset(&d, 0, sizeof(d));
	parts[0] = (struct manifest_part){ .number = 1, .start = MIB, .size = 40 * MIB };
	strcpy(parts[0].fs, "vfat");
	strcpy(parts[0].role, "esp");
	parts[1] = (struct manifest_part){ .number = 2, .start = 41 * MIB, .size = 2 * GIB,
					   .used = GIB, .min_size = GIB + 100 * MIB };
	strcpy(parts[1].fs, "ext4");
	strcpy(parts[1].role, "data");
	parts[2] = (struct manifest_part){ .number = 3, .start = 41 * MIB + 2 * GIB, .size = 512 * MIB };
	strcpy(parts[2].fs, "swap");
	strcpy(parts[2].role, "swap");
	d.size = 3 * GIB;
	d.logical_sector_size = 512;
	strcpy(d.pt_type, "gpt");
	d.nparts = 3;
	d.parts = parts;
	return &d;
}

static int inside(const struct plan *p, uint64_t disk)
{
	uint64_t end = MIB;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->p[i].new_start < end || p->p[i].new_start % MIB)
			return 0;
		end = p->p[i].new_start + p->p[i].new_size;
	}
	return end <= disk - 33 * 512;
}

static void same_size_is_a_plain_restore(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(sample(), 3 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->identity);
	plan_free(p);
}

static void larger_disk_grows_the_last_data_partition(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(sample(), 4608 * MIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(!p->identity && inside(p, 4608 * MIB));
	CHECK(p->p[0].action == PLAN_COPY && p->p[0].new_start == MIB);
	CHECK(p->p[1].action == PLAN_GROW && p->p[1].new_size > 3 * GIB);
	CHECK(p->p[2].action == PLAN_COPY && p->p[2].new_size == 512 * MIB); /* swap moved, kept */
	CHECK(p->p[2].new_start + p->p[2].new_size > 4 * GIB);
	plan_free(p);
}

static void smaller_disk_shrinks_what_has_room(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(sample(), 2 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(inside(p, 2 * GIB));
	CHECK(p->p[0].action == PLAN_COPY && p->p[0].new_size == 40 * MIB);
	CHECK(p->p[1].action == PLAN_SHRINK && p->p[1].new_size >= GIB + 100 * MIB);
	CHECK(p->p[2].new_size == 512 * MIB);
	plan_free(p);
}

static void too_small_says_the_numbers(void)
{
	struct plan *p = NULL;

	err_clear();
	CHECK(plan_make(sample(), 1 * GIB, 0, PLAN_AUTO, &p) == -ENOSPC);
	CHECK(strstr(err_msg(), "need at least") && strstr(err_msg(), "partition 2 (ext4) can shrink to"));
	CHECK(strstr(err_msg(), "partition 1 (vfat) keeps its"));
	CHECK(plan_make(sample(), 2 * GIB, 0, PLAN_SAME, &p) == -ENOSPC);
}

static void least_is_the_smallest_disk_a_plan_fits(void)
{
	struct plan *p = NULL;
	uint64_t least = plan_least(sample());

	CHECK(least > GIB + 552 * MIB && least < 2 * GIB);
	CHECK(plan_make(sample(), least, 0, PLAN_AUTO, &p) == 0 && inside(p, least));
	plan_free(p);
	p = NULL;
	CHECK(plan_make(sample(), least - MIB, 0, PLAN_AUTO, &p) == -ENOSPC);
}

static void sectors_of_4k(void)
{
	struct plan *p = NULL;
	size_t i;

	CHECK(plan_make(sample(), 4 * GIB, 4096, PLAN_AUTO, &p) == 0);
	CHECK(inside(p, 4 * GIB) && p->new_sector == 4096);
	for (i = 0; i < p->n; i++)
		CHECK(p->p[i].new_start % 4096 == 0 && p->p[i].new_size % 4096 == 0);
	plan_free(p);
}

static void proportional_grows_every_data_partition(void)
{
	struct manifest_disk *d = sample();
	struct plan *p = NULL;

	strcpy(d->parts[2].fs, "ext4"); /* a second data partition instead of swap */
	strcpy(d->parts[2].role, "data");
	CHECK(plan_make(d, 6 * GIB, 0, PLAN_PROPORTIONAL, &p) == 0);
	CHECK(inside(p, 6 * GIB));
	CHECK(p->p[1].action == PLAN_GROW && p->p[2].action == PLAN_GROW);
	CHECK(p->p[1].new_size > 3 * p->p[2].new_size); /* 4:1 as they were */
	plan_free(p);
}

/* The swap turned into an MD member of the given superblock version with
 * ext4 inside (1 GiB used). */
static struct manifest_disk *with_md(const char *metadata)
{
	struct manifest_disk *d = sample();
	struct manifest_part *m = &d->parts[2];

	strcpy(m->fs, "linux_raid_member");
	strcpy(m->role, "md");
	strcpy(m->md_metadata, metadata);
	strcpy(m->md_level, "raid1");
	strcpy(m->md_fs, strcmp(metadata, "1.0") ? "ext4" : "");
	m->md_data_offset = strcmp(metadata, "1.0") ? MIB : 0;
	m->min_size = strcmp(metadata, "1.0") ? 300 * MIB : 0;
	return d;
}

static void md_members_resize_only_with_their_superblock_at_the_start(void)
{
	struct plan_size grow3 = { 3, GIB };
	struct manifest_disk *d;
	struct plan *p = NULL;

	/* 1.2: the last one that can grow takes the room; shrinks with ext4 */
	CHECK(plan_make(with_md("1.2"), 6 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->p[2].action == PLAN_GROW && p->p[1].action == PLAN_COPY);
	plan_free(p);
	CHECK(plan_make(with_md("1.2"), 2 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->p[2].action == PLAN_SHRINK && p->p[2].new_size >= 300 * MIB);
	plan_free(p);
	/* 1.0 (and 0.90): kept at its size, moved to the end; root grows instead */
	CHECK(plan_make(with_md("1.0"), 6 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->p[2].action == PLAN_COPY && p->p[2].new_size == 512 * MIB);
	CHECK(p && p->p[1].action == PLAN_GROW && inside(p, 6 * GIB));
	plan_free(p);
	p = NULL;
	err_clear();
	CHECK(plan_make_sized(with_md("0.90"), 6 * GIB, 0, &grow3, 1, &p) == -EINVAL && !p);
	CHECK(strstr(err_msg(), "partition 3: MD superblock 0.90 lives at the end of the partition"));
	/* an older manifest says nothing of the member: kept */
	d = with_md("1.2");
	d->parts[2].md_metadata[0] = 0;
	CHECK(plan_make(d, 6 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->p[2].action == PLAN_COPY && p->p[1].action == PLAN_GROW);
	plan_free(p);
}

int main(void)
{
	RUN(md_members_resize_only_with_their_superblock_at_the_start);
	RUN(same_size_is_a_plain_restore);
	RUN(larger_disk_grows_the_last_data_partition);
	RUN(smaller_disk_shrinks_what_has_room);
	RUN(too_small_says_the_numbers);
	RUN(least_is_the_smallest_disk_a_plan_fits);
	RUN(sectors_of_4k);
	RUN(proportional_grows_every_data_partition);
	CHECK_EXIT();
}
