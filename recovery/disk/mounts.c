/* /proc/self/mountinfo, read in one place: which device is mounted where, and
 * whether read-write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/disk/mounts.h"
#include "muletto/core/util.h"

/* "rw,relatime" -> 1 */
static int mount_opts_rw(const char *opts)
{
	return !strcmp(opts, "rw") || !strncmp(opts, "rw,", 3);
}

/* The kernel writes a space, tab, newline and backslash in a path as \ooo. */
static void mounts_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
 * The per-mount options and the superblock's both count: a read-only bind of a
 * file system mounted read-write elsewhere can still be written. */
static int mounts_parse_line(const char *line, struct mount_entry *ret)
{
	char opts[512], super[512];
	const char *dash = strstr(line, " - ");

	ret->source[0] = 0;
	if (sscanf(line, "%*s %*s %31s %*s %255s %511s", ret->devno, ret->mp, opts) != 3)
		return -EINVAL;
	ret->rw = mount_opts_rw(opts);
	if (dash && sscanf(dash, " - %*s %255s %511s", ret->source, super) == 2)
		ret->rw = ret->rw || mount_opts_rw(super);
	mounts_unescape(ret->mp);
	mounts_unescape(ret->source);
	return 0;
}

void mounts_read(const char *sysroot, struct mounts *m)
{
	char path[512], line[4096];
	struct mount_entry e;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", sysroot ? sysroot : "");
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct mount_entry *ne;
		if (mounts_parse_line(line, &e) < 0)
			continue;
		ne = array_append((void **)&m->e, &m->n, sizeof(*m->e));
		if (!ne)
			break;
		*ne = e;
	}
	fclose(f);
}

void mounts_free(struct mounts *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

static const char *mounts_lookup(const struct mounts *m, const char *devno, int need_rw)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].devno, devno) && (m->e[i].rw || !need_rw))
			return m->e[i].mp;
	return NULL;
}

const char *mounts_find(const struct mounts *m, const char *devno)
{
	return mounts_lookup(m, devno, 0);
}

const char *mounts_find_rw(const struct mounts *m, const char *devno)
{
	return mounts_lookup(m, devno, 1);
}

const char *mounts_source_at(const struct mounts *m, const char *mp)
{
	size_t i;

	for (i = m->n; i > 0; i--) /* the last one mounted there is the one seen */
		if (!strcmp(m->e[i - 1].mp, mp))
			return m->e[i - 1].source;
	return NULL;
}
