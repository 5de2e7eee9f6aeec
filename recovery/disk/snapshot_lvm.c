/* An LVM snapshot taken (lvcreate --snapshot), watched (lvs: "I" for a
 * snapshot the kernel dropped when it filled up) and removed (lvremove). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/lvm.h"
#include "muletto/disk/snapshot.h"
#include "snapshot_int.h"

#define SNAPSHOT_DEV_WAIT_MS 5000 /* for udev to make the device's node */

/* What lvs says of a volume and its group (bytes). */
struct lv_facts {
	uint64_t size, vg_free, extent;
	char attr[16]; /* "owi-aos---"; a snapshot's fifth letter is 'I' once invalid */
};

static int lv_facts(const char *vg, const char *lv, struct lv_facts *ret)
{
	char target[2 * SNAPSHOT_NAME_MAX + 2], out[512];
	const char *argv[] = { "lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator",
			       ":", "-o", "lv_size,vg_free,vg_extent_size,lv_attr", target, NULL };
	int r, n;

	snprintf(target, sizeof(target), "%s/%s", vg, lv);
	r = lvm_run(argv, out, sizeof(out));
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	n = sscanf(out, " %" SCNu64 ":%" SCNu64 ":%" SCNu64 ":%15[^:\n]", &ret->size,
		   &ret->vg_free, &ret->extent, ret->attr);
	if (n < 4)
		return err_set(-EIO, "lvs %s: cannot read its answer (\"%.100s\")", target, out);
	return 0;
}

/* The snapshot's size: size bytes, or percent of the volume, or a tenth of
 * it and at least SNAPSHOT_SIZE_MIN; whole extents. */
static uint64_t snap_size(const struct lv_facts *f, uint64_t size, int percent)
{
	uint64_t s = size;

	if (!s && percent > 0)
		s = f->size / 100 * (uint64_t)percent + f->size % 100 * (uint64_t)percent / 100;
	if (!s)
		s = MAX(f->size / 10, SNAPSHOT_SIZE_MIN);
	if (f->extent && s <= UINT64_MAX - f->extent)
		s = (s + f->extent - 1) / f->extent * f->extent;
	return s;
}

/* Room for it in the volume group? (lvcreate never makes a snapshot larger
 * than its volume: it cuts a larger size down.) */
static int check_room(const struct snapshot *s, const struct lv_facts *f, int defaulted)
{
	uint64_t need = MIN(s->size, f->size);
	char free_s[32], need_s[32], have[64];

	if (need <= f->vg_free)
		return 0;
	human_size(f->vg_free, free_s, sizeof(free_s));
	human_size(need, need_s, sizeof(need_s));
	if (f->vg_free)
		snprintf(have, sizeof(have), "has only %s free", free_s);
	else
		str_copy(have, sizeof(have), "has no free space");
	return err_set(-ENOSPC, "cannot take a snapshot of %s: its volume group %s %s, and the "
				"snapshot needs %s (--snapshot-size%s) to hold what is written to "
				"%s/%s while it is read; make room in %s (vgextend %s DEVICE, or "
				"lvreduce another volume), or give a smaller --snapshot-size if "
				"little is written meanwhile", s->origin, s->vg, have, need_s,
		       defaulted ? "; by default a tenth of the volume, at least 64 MiB" : "",
		       s->vg, s->lv, s->vg, s->vg);
}

/* "my-vg" as device-mapper names it: "my--vg". */
static void dm_escape(const char *in, char *out, size_t out_size)
{
	size_t k = 0;

	for (; *in && k + 2 < out_size; in++) {
		if (*in == '-')
			out[k++] = '-';
		out[k++] = *in;
	}
	out[k] = 0;
}

/* The snapshot's device node, once udev (or lvcreate itself) has made it. */
static int find_dev(struct snapshot *s)
{
	char vg[2 * SNAPSHOT_NAME_MAX], name[2 * SNAPSHOT_NAME_MAX], mapper[DISK_STR];
	int waited;

	dm_escape(s->vg, vg, sizeof(vg));
	dm_escape(s->name, name, sizeof(name));
	snprintf(s->dev, sizeof(s->dev), "/dev/%.120s/%.120s", s->vg, s->name);
	snprintf(mapper, sizeof(mapper), "/dev/mapper/%.120s-%.120s", vg, name);
	for (waited = 0; waited <= SNAPSHOT_DEV_WAIT_MS; waited += 100) {
		if (access(s->dev, F_OK) == 0)
			return 0;
		if (access(mapper, F_OK) == 0) {
			str_copy(s->dev, sizeof(s->dev), mapper);
			return 0;
		}
		sleep_ms(100);
	}
	return err_set(-ENOENT, "the snapshot %s/%s was made, but neither %s nor %s appeared",
		       s->vg, s->name, s->dev, mapper);
}

/* After lvcreate failed: did it leave the volume behind? */
static int lv_exists(const char *vg, const char *lv)
{
	struct lv_facts f;
	int r = lv_facts(vg, lv, &f);

	err_clear();
	return r == 0;
}

static int take(struct snapshot *s)
{
	char target[2 * SNAPSHOT_NAME_MAX + 2], size[32], msg[ERR_MSG_MAX];
	const char *argv[] = { "lvcreate", "--snapshot", "--name", s->name, "--size", size,
			       target, NULL };
	struct lv_facts f;
	int r;

	snprintf(target, sizeof(target), "%s/%s", s->vg, s->lv);
	snprintf(size, sizeof(size), "%" PRIu64 "b", s->size);
	r = lvm_run(argv, NULL, 0);
	s->taken = r == 0 || lv_exists(s->vg, s->name);
	if (r == 0) /* what lvcreate made of the size: whole extents, at most what is useful */
		r = lv_facts(s->vg, s->name, &f);
	if (r == 0) {
		s->size = f.size;
		r = find_dev(s);
	}
	if (r < 0 && s->taken) {
		str_copy(msg, sizeof(msg), err_msg());
		snapshot_remove(s);
		err_set(r, "%s", msg);
	}
	return r;
}

int snapshot_create(const char *path, const char *name, uint64_t size, int percent,
		    struct snapshot *ret)
{
	struct snapshot_lvid id;
	struct lv_facts f;
	int r;

	memset(ret, 0, sizeof(*ret));
	str_copy(ret->origin, sizeof(ret->origin), path);
	str_copy(ret->name, sizeof(ret->name), name);
	r = snapshot_identify(path, &id);
	if (r < 0)
		return r;
	str_copy(ret->vg, sizeof(ret->vg), id.vg);
	str_copy(ret->lv, sizeof(ret->lv), id.lv);
	r = lv_facts(ret->vg, ret->lv, &f);
	if (r < 0)
		return err_prefix(r, "cannot take a snapshot of %s", path);
	ret->size = snap_size(&f, size, percent);
	r = check_room(ret, &f, !size && !percent);
	if (r == 0)
		r = take(ret);
	return r;
}

int snapshot_check(const struct snapshot *s)
{
	char size[32], free_s[32];
	struct lv_facts f;
	int r = lv_facts(s->vg, s->name, &f);

	if (r < 0)
		return r;
	if (f.attr[4] != 'I')
		return 0;
	human_size(s->size, size, sizeof(size));
	human_size(f.vg_free, free_s, sizeof(free_s));
	return err_set(-ENOSPC, "the snapshot of %s overflowed: more than its %s was written to "
				"%s/%s while it was read, and the kernel dropped the snapshot; no "
				"image was stored; capture again with a larger --snapshot-size "
				"(volume group %s has %s free)", s->origin, size, s->vg, s->lv, s->vg,
		       free_s);
}

int snapshot_remove(struct snapshot *s)
{
	char target[2 * SNAPSHOT_NAME_MAX + 2], msg[ERR_MSG_MAX];
	const char *argv[] = { "lvremove", "--yes", target, NULL };
	int r, tries;

	if (!s->taken)
		return 0;
	snprintf(target, sizeof(target), "%s/%s", s->vg, s->name);
	/* udev may still have it open for a moment after the capture closed it */
	for (tries = 0; (r = lvm_run(argv, NULL, 0)) < 0 && tries < 2; tries++)
		sleep_ms(1000);
	if (r < 0) {
		str_copy(msg, sizeof(msg), err_msg());
		return err_set(r, "the snapshot %s of %s was not removed (%s): remove it with "
				  "'lvremove %s'", target, s->origin, msg, target);
	}
	s->taken = 0;
	return 0;
}
