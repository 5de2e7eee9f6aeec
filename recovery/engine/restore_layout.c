/* A restore onto a disk of another size or sector size: the plan shown and
 * confirmed, each partition's bytes written at its new place, the partition
 * table written anew with the same identities, swap made anew, and file
 * systems fitted to their partitions, each checked afterwards. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/fs.h"
#include "muletto/disk/lvm.h"
#include "muletto/disk/machine.h"
#include "muletto/disk/md.h"
#include "muletto/disk/overflow.h"
#include "muletto/engine/restore.h"
#include "muletto/layout/map.h"
#include "muletto/layout/table.h"

/* The size and sector size of the target as it is: a disk's, or an existing
 * file's (0 when the file does not exist or is empty: it takes the image's). */
static int layout_target_size(const char *path, uint64_t *size, uint32_t *sector, int *block)
{
	struct disk_info info;
	int exists = 0, r = target_inspect(path, &info, block, &exists);

	if (r < 0)
		return r;
	*size = exists ? info.size : 0;
	*sector = *block && info.logical_sector_size ? info.logical_sector_size : 0;
	disk_info_clear(&info);
	return 0;
}

/* Onto a disk with larger sectors: every file system must be able to live on
 * them (a FAT is made anew, swap has no sectors of its own). */
static int layout_sectors_ok(const struct plan *pl, const char *target)
{
	size_t i;

	if (pl->new_sector <= pl->old_sector)
		return 0;
	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		const char *fix = !strncmp(s->fs, "ext", 3) ?
					  " (ext2/3/4 with 1 KiB blocks, as mkfs makes them under "
					  "512 MiB, e.g. a separate /boot: make it anew with "
					  "mkfs.ext4 -b 4096 and copy its files)" :
				  !strcmp(s->fs, "xfs") ? " (XFS made with 512-byte sectors: make it "
							  "anew with mkfs.xfs -s size=4096)" : "";
		if (!s->fs[0] || !strcmp(s->fs, "vfat") || !strcmp(s->fs, "swap"))
			continue;
		if (!s->fs_block_size)
			return err_set(-EOPNOTSUPP, "%s has %u-byte sectors and the image %u-byte "
						    "ones, and the image does not say whether partition "
						    "%d (%s) can live on them (it was captured by an "
						    "older muletto): capture it again, or choose a disk "
						    "with %u-byte sectors", target, pl->new_sector,
				       pl->old_sector, s->number, s->fs, pl->old_sector);
		if (s->fs_block_size < pl->new_sector)
			return err_set(-EOPNOTSUPP, "partition %d (%s%s%s) has %llu-byte blocks, "
						    "which a disk with %u-byte sectors like %s cannot "
						    "hold%s; choose a disk with %u-byte sectors",
				       s->number, s->fs, s->label[0] ? " " : "", s->label,
				       (unsigned long long)s->fs_block_size, pl->new_sector,
				       target, fix, pl->old_sector);
	}
	return 0;
}

/* An MD member the plan resizes: one whose superblock is at the start,
 * alone in the image, of an array that one member holds whole. */
static int layout_md_ok(const struct manifest *m, const struct plan_part *p, const char *target)
{
	const struct manifest_part *s = p->src;
	char why[ERR_MSG_MAX];
	size_t i, k;

	if (md_why_fixed(s->number, s->md_metadata, why, sizeof(why)))
		return err_set(-EOPNOTSUPP, "%s", why);
	if (!s->md_metadata[0])
		return err_set(-EOPNOTSUPP, "partition %d is an MD member the image says nothing "
					    "more of (captured by an older muletto): restore with "
					    "--layout same or onto a disk of the same size", s->number);
	for (k = 0; k < m->ndisks; k++)
		for (i = 0; i < m->disks[k].nparts; i++) {
			const struct manifest_part *o = &m->disks[k].parts[i];
			if (o != s && !strcmp(o->fs, s->fs) && !strcmp(o->fs_uuid, s->fs_uuid))
				return err_set(-EOPNOTSUPP, "partition %d and partition %d of "
							    "image disk %d are members of the same MD "
							    "array, which muletto resizes only when one "
							    "member is in the image: restore with "
							    "--layout same", s->number, o->number,
					       m->disks[k].index);
		}
	if (strcmp(s->md_level, "raid1"))
		return err_set(-EOPNOTSUPP, "partition %d is a member of an MD %s array, which one "
					    "member does not hold whole: restore onto %s with "
					    "--layout same", s->number, s->md_level, target);
	return 0;
}

/* What a plan may not ask for yet, refused before anything is written. */
static int layout_supported(const struct restore_request *q, const struct plan *pl,
			    const struct manifest *m, const struct manifest_disk *d,
			    const char *target)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		if (!strcmp(s->role, "extended"))
			return err_set(-EOPNOTSUPP, "image disk %d has an MBR table with logical "
						    "partitions, whose layout muletto cannot change yet: "
						    "restore onto a disk of its size (%" PRIu64 " bytes) "
						    "with --layout same", d->index, d->size);
		int resize = pl->p[i].action == PLAN_GROW || pl->p[i].action == PLAN_SHRINK;
		int r;
		if (pl->p[i].action == PLAN_GROW && !strcmp(s->fs, "LVM2_member") && q->grow_lv &&
		    !lvm_have_device_mapper())
			return err_set(-EOPNOTSUPP, "--grow-lv needs device-mapper to grow the file "
						    "system of partition %d's last logical volume, "
						    "and this kernel has none (not in /proc/misc, no "
						    "dm-mod module): restore from muletto's boot "
						    "environment, or without --grow-lv (the room "
						    "stays free in the volume group)", s->number);
		if (resize && !strcmp(s->fs, "linux_raid_member")) {
			if ((r = layout_md_ok(m, &pl->p[i], target)) < 0)
				return r;
			continue;
		}
		if (resize && !(pl->p[i].action == PLAN_GROW ? fs_can_grow(s->fs) : fs_can_shrink(s->fs)))
			return err_set(-EOPNOTSUPP, "the plan for %s would %s partition %d, which "
						    "holds %s that muletto cannot resize: use --layout "
						    "same on a disk of at least %" PRIu64 " bytes",
				       target, plan_action_name(pl->p[i].action), s->number,
				       s->fs[0] ? s->fs : "no known file system", d->size);
	}
	return layout_sectors_ok(pl, target);
}

/* The boot partition the image's first disk needs for the firmware the
 * restored system boots with, when the image's machine booted the other way. */
static enum plan_boot layout_boot(const struct restore_request *q, const struct manifest *m,
				  const struct manifest_disk *d)
{
	const char *now = q->firmware ? q->firmware :
			  machine_is_uefi() ? "uefi" : "bios";

	if (!m->ndisks || d != &m->disks[0])
		return PLAN_BOOT_NONE;
	return plan_boot_needed(d, m->firmware, now);
}

/* The plan for q's target (its path in to: "auto" picked), or NULL when a
 * plain restore does. */
static int layout_plan(const struct restore_request *q, const struct manifest *m,
		       const struct manifest_disk *d, char *to, size_t to_size, struct plan **ret)
{
	enum plan_policy policy = PLAN_AUTO;
	enum plan_boot boot = layout_boot(q, m, d);
	uint64_t size = 0;
	uint32_t sector = 0;
	int block = 0, r = 0;

	*ret = NULL;
	str_copy(to, to_size, q->to);
	if (q->layout && !q->nsizes && (r = plan_policy_parse(q->layout, &policy)) < 0)
		return r;
	if (!strcmp(q->to, "auto")) {
		char *picked = NULL;
		/* without --layout, a disk the image fits as it is (restore_job.c);
		 * with it, the one disk that holds at least what the plan needs */
		if ((!q->layout && !q->plan_only && !boot) || !d->nparts || !d->pt_type[0])
			return 0;
		if ((r = target_pick_auto(plan_least(d), &picked)) < 0)
			return r;
		event_state("restore", NULL, "target", RESTORE_AUTO_PICKED "%s", picked);
		str_copy(to, to_size, picked);
		free(picked);
	}
	if ((r = layout_target_size(to, &size, &sector, &block)) < 0)
		return r;
	if (!d->nparts || !d->pt_type[0])
		return 0; /* no partitions: nothing to place */
	if (!q->layout && !q->nsizes && !q->plan_only && !boot &&
	    (!block || (size == d->size && (!sector || sector == d->logical_sector_size))))
		return 0;
	if (!size)
		size = d->size; /* a new file: the image's size, unless the plan says otherwise */
	r = q->nsizes ? plan_make_sized(d, size, sector, q->sizes, q->nsizes, ret) :
			plan_make(d, size, sector, policy, ret);
	if (r == 0 && (r = plan_add_boot(*ret, d, boot)) < 0) {
		plan_free(*ret);
		*ret = NULL;
	}
	if (r < 0) {
		char cause[ERR_MSG_MAX];
		str_copy(cause, sizeof(cause), err_msg());
		return err_set(r, "target %s: %s", to, cause);
	}
	if (r == 0 && (*ret)->identity && !q->plan_only) {
		plan_free(*ret);
		*ret = NULL;
	}
	return r;
}

/* Bytes of data (chunks that are not all zero) idx holds in [a, b). */
static uint64_t layout_data_in(const struct caibx *idx, uint64_t a, uint64_t b)
{
	enum hash_kind kind = caibx_hash_kind(idx);
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < idx->n; i++) {
		uint64_t cs = caibx_chunk_start(idx, i), ce = cs + caibx_chunk_size(idx, i);
		if (ce <= a || cs >= b || chunk_id_is_zero(kind, &idx->e[i].id, ce - cs))
			continue;
		sum += MIN(ce, b) - MAX(cs, a);
	}
	return sum;
}

/* An overflow file for each partition that shrinks: where its bytes beyond
 * the new size go until its file system is shrunk. */
static int layout_overflows(const struct plan *pl, const struct caibx *idx,
			    struct overflow **ov, const struct dio **tails)
{
	size_t i;
	int r;

	for (i = 0; i < pl->n; i++) {
		const struct plan_part *p = &pl->p[i];
		char what[64];
		uint64_t from;
		if (p->action == PLAN_SHRINK)
			from = p->new_size; /* what lies beyond the new end */
		else if (p->action == PLAN_REBUILD && plan_made_from(p) == PLAN_FROM_COPY)
			from = 0; /* all of it: the new one is made where the old one lands */
		else
			continue;
		snprintf(what, sizeof(what), "partition %d", p->src->number);
		r = overflow_new(p->src->size - from,
				 layout_data_in(idx, p->src->start + from,
						p->src->start + p->src->size),
				 what, &ov[i]);
		if (r < 0)
			return r;
		tails[i] = overflow_io(ov[i]);
	}
	return 0;
}

/* Fits the file system of partition p at off of path (room bytes there) to
 * size: in its MD array for a member. */
static int layout_fit(const struct plan_part *p, const char *path, uint64_t off, uint64_t room,
		      uint64_t size, char *verdict, size_t n)
{
	if (!strcmp(p->src->fs, "linux_raid_member"))
		return md_fit(path, off, room, size, p->src->md_data_offset, p->src->md_fs, verdict,
			      n);
	return fs_fit(path, off, room, size, p->src->fs, verdict, n);
}

/* Shrinks partition p's file system in its place joined with its overflow. */
static int layout_shrink(const struct plan_part *p, struct overflow *ov, struct target *t,
			 char *verdict, size_t n)
{
	char path[4400];
	int r = overflow_join(ov, t->fd, p->new_start, p->new_size, path, sizeof(path));

	if (r < 0)
		return r;
	r = layout_fit(p, path, 0, p->src->size, p->new_size, verdict, n);
	overflow_unjoin(ov);
	return r;
}

/* File systems that say where their partition starts, told its new start;
 * after their resize, which may rewrite the copy at their end. */
static int layout_moved(const struct plan *pl, struct target *t)
{
	size_t i;
	int r = 0;

	for (i = 0; i < pl->n && r == 0; i++)
		if (pl->p[i].new_start != pl->p[i].src->start || pl->p[i].action != PLAN_COPY)
			r = fs_moved(t->fd, pl->p[i].new_start, pl->p[i].src->fs,
				     pl->p[i].new_start / pl->new_sector);
	if (r < 0)
		return err_set(r, "%s: cannot write where partitions start into their boot "
				  "sectors: %s", t->path, strerror(-r));
	return 0;
}

/* A physical volume that grew: its volume group's last logical volume given
 * the room (--grow-lv), or the room said to stay free. */
static int layout_grow_lv(const struct restore_request *q, const struct plan_part *p,
			  struct target *t, struct restore_result *res)
{
	char v[ERR_MSG_MAX], sz[32];
	double t0 = now_seconds();
	int r;

	human_size(p->new_size - p->src->size, sz, sizeof(sz));
	if (!q->grow_lv) {
		event_notice("partition %d: its volume group gains %s, left free (--grow-lv gives "
			     "it to its last logical volume)", p->src->number, sz);
		return 0;
	}
	event_notice("partition %d: giving the volume group's %s to its last logical volume...",
		     p->src->number, sz);
	r = lvm_grow_last(t->path, p->new_start, p->new_size, v, sizeof(v));
	if (r == 0)
		event_notice("partition %d: %s", p->src->number, v);
	if (r == 0 && res->nfits < RESTORE_FIT_MAX) { /* its own line in --json's "layout" */
		struct restore_fit *f = &res->fits[res->nfits++];
		f->number = p->src->number;
		str_copy(f->action, sizeof(f->action), "grow-lv");
		str_copy(f->verdict, sizeof(f->verdict), v);
		f->seconds = now_seconds() - t0;
	}
	return r;
}

/* The first MiB of a partition the image had not, zeroed: whatever the
 * target held there says nothing to libblkid or GRUB. */
static int layout_zero_head(struct target *t, const struct plan_part *p)
{
	size_t n = (size_t)MIN(p->new_size, (uint64_t)PLAN_ALIGN);
	void *z = NULL;
	int r;

	if (posix_memalign(&z, 4096, PLAN_ALIGN))
		return -ENOMEM;
	memset(z, 0, PLAN_ALIGN);
	r = pwrite_full(t->fd, z, n, p->new_start);
	free(z);
	if (r < 0)
		return err_set(r, "%s: cannot clear partition %d at %" PRIu64 ": %s", t->path,
			       p->src->number, p->new_start, strerror(-r));
	return 0;
}

/* The partition table, swap made anew, and file systems fitted, after the data. */
static int layout_finish(const struct restore_request *q, const struct plan *pl,
			 const struct manifest_disk *d, struct target *t, struct overflow **ov,
			 struct restore_result *res)
{
	double t0 = now_seconds();
	size_t i;
	int r;

	r = layout_table_write(pl, d, t->fd, t->path);
	for (i = 0; i < pl->n && r == 0; i++) {
		const struct plan_part *p = &pl->p[i];
		if (p->action == PLAN_CREATE)
			r = layout_zero_head(t, p);
		else if (p->action == PLAN_REBUILD && plan_made_from(p) == PLAN_FROM_NOTHING)
			r = fs_swap_make(t->fd, t->path, p->new_start, p->new_size, p->src->fs_uuid,
					 p->src->label);
	}
	if (r == 0 && fsync(t->fd) < 0)
		r = err_set(-errno, "cannot flush %s: %s", t->path, strerror(errno));
	if (r == 0)
		r = target_share(t);
	for (i = 0; i < pl->n && r == 0; i++) {
		const struct plan_part *p = &pl->p[i];
		struct restore_fit *f = &res->fits[res->nfits];
		double t1 = now_seconds();
		char sz[32], sz2[32];
		if (p->action == PLAN_COPY || res->nfits >= RESTORE_FIT_MAX)
			continue;
		f->number = p->src->number;
		str_copy(f->action, sizeof(f->action), plan_action_name(p->action));
		if (p->action == PLAN_CREATE) {
			event_notice("partition %d: %s made, %s at %s...", p->src->number,
				     plan_boot_name(!strcmp(p->src->role, "esp") ? PLAN_BOOT_ESP :
								PLAN_BOOT_BIOS),
				     (human_size(p->new_size, sz, sizeof(sz)), sz),
				     (human_size(p->new_start, sz2, sizeof(sz2)), sz2));
			if (!strcmp(p->src->role, "esp"))
				r = fs_fat_make(t->path, p->new_start, p->new_size, pl->new_sector,
						f->verdict, sizeof(f->verdict));
			else
				str_copy(f->verdict, sizeof(f->verdict),
					 "made, empty, for GRUB's core.img");
		} else if (p->action == PLAN_REBUILD && !strcmp(p->src->fs, "vfat")) {
			event_notice("partition %d (vfat%s%s): making the FAT anew in %s for "
				     "%u-byte sectors...", p->src->number,
				     p->src->label[0] ? " " : "", p->src->label,
				     (human_size(p->new_size, sz, sizeof(sz)), sz), pl->new_sector);
			r = fs_fat_rebuild(plan_made_from(p) == PLAN_FROM_COPY ?
						   overflow_path(ov[i]) : NULL,
					   p->src->size, t->path, p->new_start, p->new_size,
					   pl->new_sector,
					   p->src->label, p->src->fs_uuid, f->verdict,
					   sizeof(f->verdict));
		} else if (p->action == PLAN_REBUILD && plan_made_from(p) == PLAN_FROM_COPY) {
			event_notice("partition %d (%s%s%s): making it anew in %s and copying its "
				     "files...", p->src->number, p->src->fs,
				     p->src->label[0] ? " " : "", p->src->label,
				     (human_size(p->new_size, sz, sizeof(sz)), sz));
			r = fs_xfs_copy(overflow_path(ov[i]), p->src->size, t->path, p->new_start,
					p->new_size, p->src->fs_uuid, p->src->label, f->verdict,
					sizeof(f->verdict));
		} else if (p->action == PLAN_REBUILD) {
			str_copy(f->verdict, sizeof(f->verdict), "made anew (mkswap)");
		} else {
			event_notice("partition %d (%s%s%s): %s to fit %s...", p->src->number,
				     p->src->fs, p->src->label[0] ? " " : "", p->src->label,
				     p->action == PLAN_GROW ? "growing the file system" :
							      "shrinking the file system",
				     (human_size(p->new_size, sz, sizeof(sz)), sz));
			if (p->action == PLAN_SHRINK)
				r = layout_shrink(p, ov[i], t, f->verdict, sizeof(f->verdict));
			else
				r = layout_fit(p, t->path, p->new_start, p->new_size, p->new_size,
					       f->verdict, sizeof(f->verdict));
		}
		f->seconds = now_seconds() - t1;
		res->nfits++;
		if (r == 0)
			event_notice("partition %d: %s, %s in %.1f s", f->number, f->action, f->verdict,
				     f->seconds);
		if (r == 0 && p->action == PLAN_GROW && !strcmp(p->src->fs, "LVM2_member"))
			r = layout_grow_lv(q, p, t, res);
	}
	if (r == 0)
		r = layout_moved(pl, t);
	res->fit_seconds = now_seconds() - t0;
	return r;
}

int restore_layout(const struct restore_request *q, struct restore_result *res,
		   const struct manifest *m, const struct manifest_disk *d, const struct caibx *idx,
		   const char *store, const char *image, int *done)
{
	struct plan *pl = NULL;
	struct target *t = NULL;
	struct layout_map lm = { 0 };
	struct overflow **ov = NULL;
	const struct dio **tails = NULL;
	struct dio raw;
	char to[256];
	double t0;
	int r, r2;

	*done = 0;
	r = layout_plan(q, m, d, to, sizeof(to), &pl);
	if (r < 0 || !pl)
		return r;
	*done = 1;
	str_copy(res->target, sizeof(res->target), to);
	if (q->show_plan)
		q->show_plan(q->ctx, to, pl, d);
	if (q->plan_only) {
		res->planned_only = 1;
		plan_free(pl);
		return 0;
	}
	ov = calloc(pl->n ? pl->n : 1, sizeof(*ov));
	tails = calloc(pl->n ? pl->n : 1, sizeof(*tails));
	r = layout_supported(q, pl, m, d, to);
	if (r == 0 && q->confirm)
		r = q->confirm(q->ctx, to, pl->new_disk);
	if (r == 0)
		r = ov && tails ? layout_overflows(pl, idx, ov, tails) : -ENOMEM;
	if (r == 0)
		r = target_open(to, pl->new_disk, restore_data_bytes(idx), &t);
	if (r < 0) {
		for (size_t i = 0; ov && i < pl->n; i++)
			overflow_free(ov[i]);
		free(ov);
		free(tails);
		plan_free(pl);
		return r;
	}
	res->laid_out = 1;
	t0 = now_seconds();
	raw = t->io;
	r = layout_map_make(pl, d, &raw, tails, &lm);
	if (r == 0) {
		t->io.map = &lm.map;
		r = restore_index(idx, store, t, &q->o, image, d->index, &res->st);
		if (r == 0 && q->o.verify)
			r = restore_verify(idx, t, image, d->index);
		t->io.map = NULL;
	}
	if (r == 0)
		r = layout_finish(q, pl, d, t, ov, res);
	for (size_t i = 0; ov && i < pl->n; i++)
		overflow_free(ov[i]);
	free(ov);
	free(tails);
	r2 = target_close(t, r == 0);
	res->st.seconds = now_seconds() - t0;
	if (r == 0)
		r = r2;
	layout_map_free(&lm);
	plan_free(pl);
	return r < 0 ? restore_partly(r, res->target) : 0;
}
