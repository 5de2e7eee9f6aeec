/* MD superblocks: where each version lives, what is read from it, and what
 * is not taken for one. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "muletto/disk/md.h"

#define PART (8ULL << 20) /* the partition: 8 MiB at 1 MiB of the file */
#define OFF (1ULL << 20)

static void put(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A file holding a partition with a 1.x superblock at byte at of it. */
static int with_v1(uint64_t at, int level, uint64_t data_offset)
{
	char name[] = "/tmp/muletto-md.XXXXXX";
	unsigned char sb[256];
	int fd = mkstemp(name);

	unlink(name);
	if (fd < 0 || ftruncate(fd, (off_t)(OFF + PART)) < 0)
		return -1;
	memset(sb, 0, sizeof(sb));
	put(sb, 0xa92b4efc, 4);
	put(sb + 4, 1, 4);
	put(sb + 72, (uint64_t)(int64_t)level, 4);
	put(sb + 92, 2, 4);
	put(sb + 128, data_offset / 512, 8);
	put(sb + 136, (PART - data_offset) / 512 - 16, 8);
	put(sb + 144, at / 512, 8);
	if (pwrite(fd, sb, sizeof(sb), (off_t)(OFF + at)) != (ssize_t)sizeof(sb))
		return -1;
	return fd;
}

static void versions_by_where_the_superblock_is(void)
{
	struct md_info mi;
	int fd;

	fd = with_v1(4096, 1, 1 << 20);
	CHECK(fd >= 0 && md_probe(fd, OFF, PART, &mi) == 0);
	CHECK(!strcmp(mi.metadata, "1.2") && !strcmp(mi.level, "raid1") && mi.raid_disks == 2);
	CHECK(mi.data_offset == 1 << 20 && !md_super_at_end(mi.metadata));
	close(fd);
	fd = with_v1(0, -1, 1 << 20);
	CHECK(fd >= 0 && md_probe(fd, OFF, PART, &mi) == 0);
	CHECK(!strcmp(mi.metadata, "1.1") && !strcmp(mi.level, "linear"));
	close(fd);
	fd = with_v1(((PART / 512 - 16) & ~7ULL) * 512, 1, 0);
	CHECK(fd >= 0 && md_probe(fd, OFF, PART, &mi) == 0);
	CHECK(!strcmp(mi.metadata, "1.0") && md_super_at_end(mi.metadata) && !mi.data_offset);
	close(fd);
}

static void version_090_at_the_end(void)
{
	unsigned char sb[64];
	struct md_info mi;
	int fd = with_v1(PART, 0, 0); /* nothing in the partition itself */

	memset(sb, 0, sizeof(sb));
	put(sb, 0xa92b4efc, 4);
	put(sb + 8, 90, 4);
	put(sb + 28, 1, 4);
	put(sb + 32, 7 * 1024, 4);
	CHECK(fd >= 0 && pwrite(fd, sb, sizeof(sb), (off_t)(OFF + PART - 65536)) == sizeof(sb));
	CHECK(md_probe(fd, OFF, PART, &mi) == 0 && !strcmp(mi.metadata, "0.90"));
	CHECK(md_super_at_end(mi.metadata) && mi.data_size == 7ULL << 20);
	close(fd);
}

static void what_is_not_one(void)
{
	struct md_info mi;
	char why[512];
	int fd;

	/* a superblock that says it is elsewhere, or whose data lies beyond its partition */
	fd = with_v1(4096, 1, 1 << 20);
	CHECK(fd >= 0 && md_probe(fd, OFF + 512, PART, &mi) == -ENOENT);
	close(fd);
	fd = with_v1(4096, 1, PART + 4096);
	CHECK(fd >= 0 && md_probe(fd, OFF, PART, &mi) == -ENOENT);
	close(fd);
	/* a tiny partition: nothing read beyond it */
	fd = with_v1(PART, 1, 0);
	CHECK(fd >= 0 && md_probe(fd, OFF, 100, &mi) == -ENOENT);
	close(fd);
	CHECK(md_why_fixed(3, "1.2", why, sizeof(why)) == NULL);
	CHECK(md_why_fixed(3, "", why, sizeof(why)) == NULL);
	CHECK(md_why_fixed(3, "1.0", why, sizeof(why)) &&
	      !strcmp(why, "partition 3: MD superblock 1.0 lives at the end of the partition; "
			   "resizing it would lose the array: restore with --layout same or onto a "
			   "disk of the same size"));
}

int main(void)
{
	RUN(versions_by_where_the_superblock_is);
	RUN(version_090_at_the_end);
	RUN(what_is_not_one);
	CHECK_EXIT();
}
