/* Layout plans: partitions placed on a target of another size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/fs.h"
#include "muletto/disk/md.h"
#include "muletto/layout/plan.h"

#define PLAN_GPT_TAIL 33 /* sectors of the backup GPT at the end of the disk */
#define PLAN_SLACK (PLAN_ALIGN * 16ULL) /* room a shrunk file system keeps beyond its minimum */

static uint64_t up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static uint64_t down(uint64_t v, uint64_t a)
{
	return v / a * a;
}

int plan_policy_parse(const char *s, enum plan_policy *ret)
{
	static const char *const names[] = { "auto", "same", "grow-last", "proportional" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum plan_policy)i;
			return 0;
		}
	return err_set(-EINVAL, "--layout %s: use auto, same, grow-last or proportional", s);
}

const char *plan_action_name(enum plan_action a)
{
	static const char *const names[] = { "copy", "grow", "shrink", "rebuild", "create" };

	return names[a];
}

static int plan_is_swap(const struct manifest_part *p)
{
	return !strcmp(p->fs, "swap") || !strcmp(p->role, "swap");
}

/* Whether the partition's file system can grow, or shrink (shrink: 1), with
 * the tools muletto runs (disk/fs.h); a shrink also needs its minimum size. */
static int plan_can_fs(const struct manifest_part *p, int shrink)
{
	if (!strcmp(p->role, "bios_boot") || !strcmp(p->role, "msr"))
		return 0;
	if (plan_is_swap(p))
		return 1; /* made anew in any size */
	if (!strcmp(p->fs, "linux_raid_member")) /* 1.1/1.2: the file system in its array */
		return p->md_metadata[0] && !md_super_at_end(p->md_metadata) && p->md_fs[0] &&
		       (shrink ? fs_can_shrink(p->md_fs) == 1 && p->min_size : fs_can_grow(p->md_fs));
	return shrink ? fs_can_shrink(p->fs) && p->min_size : fs_can_grow(p->fs);
}

/* The same, for a plan muletto makes by itself: the ESP and swap keep their
 * sizes (changed only when the technician's --layout FILE says so). */
static int plan_can(const struct manifest_part *p, int shrink)
{
	return strcmp(p->role, "esp") && !plan_is_swap(p) && plan_can_fs(p, shrink);
}

/* The least a partition can be. */
static uint64_t plan_min(const struct manifest_part *p)
{
	if (!plan_can(p, 1))
		return p->size;
	return MIN(p->size, up(p->min_size + PLAN_SLACK, PLAN_ALIGN));
}

/* Where the partitions must end on a disk of size bytes: before the backup GPT. */
static uint64_t plan_limit(const struct manifest_disk *d, uint64_t size, uint32_t sector)
{
	uint64_t tail = strcmp(d->pt_type, "gpt") ? 0 : PLAN_GPT_TAIL * (uint64_t)sector;

	return size > tail ? down(size - tail, sector) : 0;
}

static int plan_cmp(const void *a, const void *b)
{
	const struct plan_part *x = a, *y = b;

	return x->src->start < y->src->start ? -1 : x->src->start > y->src->start;
}

/* Packs the partitions one after another from start, with the sizes set. */
static void plan_pack(struct plan *pl, uint64_t start)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		pl->p[i].new_start = up(start, PLAN_ALIGN);
		start = pl->p[i].new_start + pl->p[i].new_size;
	}
}

static uint64_t plan_end(const struct plan *pl)
{
	return pl->n ? pl->p[pl->n - 1].new_start + pl->p[pl->n - 1].new_size : 0;
}

/* grow-last: the last resizable partition takes what is left; the ones after
 * it move to the end. */
static int plan_grow_last(struct plan *pl, uint64_t limit)
{
	size_t i, k = pl->n;
	uint64_t tail = 0;

	for (i = pl->n; i-- > 0;)
		if (plan_can(pl->p[i].src, 0)) {
			k = i;
			break;
		}
	if (k == pl->n)
		return 0; /* nothing can grow: every partition where it was */
	for (i = k + 1; i < pl->n; i++)
		tail += up(pl->p[i].new_size, PLAN_ALIGN);
	pl->p[k].new_size = down(limit - tail - pl->p[k].new_start, PLAN_ALIGN);
	for (i = k + 1; i < pl->n; i++)
		pl->p[i].new_start = up(pl->p[i - 1].new_start + pl->p[i - 1].new_size, PLAN_ALIGN);
	return 0;
}

/* Every resizable partition scaled by the same factor to fill the room:
 * larger (proportional) or smaller, each giving up room in proportion to
 * what it has beyond its minimum (shrink). */
static int plan_scale(struct plan *pl, uint64_t first, uint64_t limit, int shrink)
{
	uint64_t fixed = 0, flex = 0, room, want, given = 0;
	size_t i, last = pl->n;

	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		if (plan_can(s, shrink)) {
			flex += shrink ? s->size - plan_min(s) : s->size;
			fixed += shrink ? plan_min(s) : 0;
			last = i;
		} else {
			fixed += up(s->size, PLAN_ALIGN);
		}
	}
	room = limit - first - PLAN_ALIGN * pl->n; /* what alignment may cost */
	if (last == pl->n || !flex)
		return 0;
	want = room > fixed ? room - fixed : 0;
	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		uint64_t part = shrink ? s->size - plan_min(s) : s->size;
		if (!plan_can(s, shrink))
			continue;
		pl->p[i].new_size = down((shrink ? plan_min(s) : 0) +
					 (uint64_t)((double)want * (double)part / (double)flex),
					 PLAN_ALIGN);
		if (shrink)
			pl->p[i].new_size = MIN(pl->p[i].new_size, s->size);
		given += pl->p[i].new_size;
	}
	plan_pack(pl, first);
	/* what rounding left over goes to the last one */
	if (plan_end(pl) < limit && !shrink)
		pl->p[last].new_size += down(limit - plan_end(pl), PLAN_ALIGN);
	plan_pack(pl, first);
	(void)given;
	return 0;
}

/* Refused with the numbers: what the partitions need at least, what the disk holds. */
static int plan_too_small(const struct plan *pl, uint64_t first, uint64_t limit)
{
	char need[32], have[32], line[ERR_MSG_MAX] = "", a[32], b[32];
	uint64_t least = first;
	size_t i, k = 0;

	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		char md[96] = "";
		least = up(least, PLAN_ALIGN) + plan_min(s);
		human_size(plan_min(s), a, sizeof(a));
		human_size(s->used, b, sizeof(b));
		if (s->md_metadata[0]) /* why an MD member keeps its size, or what shrinks */
			snprintf(md, sizeof(md), "MD %.8s member, %.40s", s->md_metadata,
				 md_super_at_end(s->md_metadata) ? "its superblock at the end" :
				 s->md_fs[0] ? s->md_fs : "no known file system inside");
		k += (size_t)snprintf(line + k, k < sizeof(line) ? sizeof(line) - k : 0,
				      "%spartition %d (%s%s%s) %s %s", i ? ", " : "", s->number,
				      md[0] ? md : s->fs[0] ? s->fs : "no file system",
				      s->label[0] && !md[0] ? " " : "", md[0] ? "" : s->label,
				      plan_can(s, 1) ? "can shrink to" : "keeps its", a);
		if (plan_can(s, 1) && s->used)
			k += (size_t)snprintf(line + k, k < sizeof(line) ? sizeof(line) - k : 0,
					      " (%s of data)", b);
	}
	human_size(least, need, sizeof(need));
	human_size(limit, have, sizeof(have));
	return err_set(-ENOSPC, "the disk is too small for this image even with its file systems "
				"shrunk: its partitions need at least %s, the disk holds %s: %s; "
				"choose a disk of at least %s", need, have, line, need);
}

static int plan_layout(struct plan *pl, enum plan_policy policy, uint64_t first, uint64_t limit)
{
	uint64_t least = first;
	size_t i;

	for (i = 0; i < pl->n; i++)
		least = up(least, PLAN_ALIGN) + plan_min(pl->p[i].src);
	if (policy == PLAN_AUTO)
		policy = pl->new_disk == pl->old_disk && pl->old_sector == pl->new_sector ?
				 PLAN_SAME :
			 pl->new_disk > pl->old_disk ? PLAN_GROW_LAST : PLAN_AUTO;
	if (policy == PLAN_SAME || (policy == PLAN_GROW_LAST && plan_end(pl) > limit))
		return plan_end(pl) <= limit ? 0 : plan_too_small(pl, first, limit);
	if (policy == PLAN_GROW_LAST)
		return plan_grow_last(pl, limit);
	if (least > limit)
		return plan_too_small(pl, first, limit);
	return plan_scale(pl, first, limit, policy == PLAN_AUTO);
}

static void plan_actions(struct plan *pl)
{
	size_t i;

	pl->identity = pl->old_disk == pl->new_disk && pl->old_sector == pl->new_sector;
	for (i = 0; i < pl->n; i++) {
		struct plan_part *p = &pl->p[i];
		if (p->action == PLAN_CREATE) {
			pl->identity = 0;
			continue;
		}
		if (!strcmp(p->src->fs, "vfat") &&
		    (p->new_size != p->src->size ||
		     (pl->new_sector != pl->old_sector && p->src->fs_block_size != pl->new_sector)))
			p->action = PLAN_REBUILD; /* a FAT for sectors, or a partition, of another size */
		else if (p->new_size == p->src->size)
			p->action = PLAN_COPY;
		else if (plan_is_swap(p->src) ||
			 (p->new_size < p->src->size && fs_shrinks_by_copy(p->src->fs)))
			p->action = PLAN_REBUILD; /* swap; an XFS made anew, its files copied */
		else
			p->action = p->new_size > p->src->size ? PLAN_GROW : PLAN_SHRINK;
		if (p->new_start != p->src->start || p->new_size != p->src->size)
			pl->identity = 0;
	}
}

int plan_make(const struct manifest_disk *d, uint64_t size, uint32_t sector,
	      enum plan_policy policy, struct plan **ret)
{
	struct plan *pl = calloc(1, sizeof(*pl));
	uint64_t first, limit;
	size_t i;
	int r;

	if (!pl || !(pl->p = calloc(d->nparts ? d->nparts : 1, sizeof(*pl->p)))) {
		free(pl);
		return -ENOMEM;
	}
	pl->old_disk = d->size;
	pl->new_disk = size;
	pl->old_sector = d->logical_sector_size ? d->logical_sector_size : 512;
	pl->new_sector = sector ? sector : pl->old_sector;
	pl->n = d->nparts;
	for (i = 0; i < pl->n; i++) {
		pl->p[i].src = &d->parts[i];
		pl->p[i].new_start = d->parts[i].start;
		pl->p[i].new_size = up(d->parts[i].size, pl->new_sector);
	}
	qsort(pl->p, pl->n, sizeof(*pl->p), plan_cmp);
	for (i = 0; i < pl->n; i++)
		if (pl->p[i].new_start % pl->new_sector) { /* the disk's sectors are larger */
			plan_pack(pl, MAX(pl->p[0].new_start, (uint64_t)PLAN_ALIGN));
			break;
		}
	first = pl->n ? MAX(pl->p[0].new_start, (uint64_t)PLAN_ALIGN) : PLAN_ALIGN;
	limit = plan_limit(d, size, pl->new_sector);
	r = size > first ? plan_layout(pl, policy, first, limit) : plan_too_small(pl, first, 0);
	if (r < 0) {
		plan_free(pl);
		return r;
	}
	plan_actions(pl);
	*ret = pl;
	return 0;
}

/* Checks one chosen size against what the partition's file system allows. */
static int plan_size_ok(const struct manifest_part *s, uint64_t want)
{
	char a[32], b[32], why[ERR_MSG_MAX];
	uint64_t least;

	if (want != s->size && md_why_fixed(s->number, s->md_metadata, why, sizeof(why)))
		return err_set(-EINVAL, "--layout: %s", why);
	if (want > s->size && !plan_can_fs(s, 0))
		return err_set(-EINVAL, "--layout: partition %d (%s) cannot grow: muletto cannot "
					"grow %s; give it its size, %llu", s->number,
			       s->fs[0] ? s->fs : "no file system", s->fs[0] ? s->fs : "it",
			       (unsigned long long)s->size);
	if (want < s->size && !plan_can_fs(s, 1))
		return err_set(-EINVAL, "--layout: partition %d (%s) cannot shrink; give it at "
					"least its size, %llu", s->number,
			       s->fs[0] ? s->fs : "no file system", (unsigned long long)s->size);
	least = MIN(s->size, up(s->min_size + PLAN_SLACK, PLAN_ALIGN));
	if (want < s->size && want < least) {
		human_size(want, a, sizeof(a));
		human_size(least, b, sizeof(b));
		return err_set(-ENOSPC, "--layout: partition %d (%s) cannot be %s: its file system "
					"needs at least %s (%llu bytes)", s->number, s->fs, a, b,
			       (unsigned long long)least);
	}
	return 0;
}

int plan_make_sized(const struct manifest_disk *d, uint64_t size, uint32_t sector,
		    const struct plan_size *want, size_t nwant, struct plan **ret)
{
	struct plan *pl = NULL;
	uint64_t limit, first;
	char have[32], need[32];
	size_t i, k;
	int r = plan_make(d, MAX(size, d->size), sector, PLAN_SAME, &pl);

	if (r < 0)
		return r;
	pl->new_disk = size;
	for (k = 0; k < nwant; k++) {
		for (i = 0; i < pl->n && pl->p[i].src->number != want[k].number; i++)
			;
		if (i == pl->n) {
			plan_free(pl);
			return err_set(-EINVAL, "--layout: the image's disk %d has no partition %d",
				       d->index, want[k].number);
		}
		if ((r = plan_size_ok(pl->p[i].src, want[k].size)) < 0) {
			plan_free(pl);
			return r;
		}
		pl->p[i].new_size = down(want[k].size, pl->new_sector);
	}
	first = pl->n ? MAX(pl->p[0].src->start, (uint64_t)PLAN_ALIGN) : PLAN_ALIGN;
	plan_pack(pl, first);
	limit = plan_limit(d, size, pl->new_sector);
	if (plan_end(pl) > limit) {
		human_size(plan_end(pl), need, sizeof(need));
		human_size(limit, have, sizeof(have));
		plan_free(pl);
		return err_set(-ENOSPC, "--layout: the partitions as chosen end at %s, and the disk "
					"has room up to %s: make some smaller", need, have);
	}
	plan_actions(pl);
	*ret = pl;
	return 0;
}

uint64_t plan_least(const struct manifest_disk *d)
{
	uint32_t sector = d->logical_sector_size ? d->logical_sector_size : 512;
	uint64_t least = UINT64_MAX;
	size_t i;

	for (i = 0; i < d->nparts; i++) /* from the first one's start */
		least = MIN(least, d->parts[i].start);
	least = MAX(least == UINT64_MAX ? 0 : least, (uint64_t)PLAN_ALIGN);
	for (i = 0; i < d->nparts; i++)
		least = up(least, PLAN_ALIGN) + plan_min(&d->parts[i]);
	return least + (strcmp(d->pt_type, "gpt") ? 0 : PLAN_GPT_TAIL * (uint64_t)sector);
}

enum plan_source plan_made_from(const struct plan_part *p)
{
	if (!strcmp(p->src->fs, "vfat")) /* its files read before it is made anew */
		return p->new_size < p->src->size ? PLAN_FROM_COPY : PLAN_FROM_PLACE;
	if (fs_shrinks_by_copy(p->src->fs))
		return PLAN_FROM_COPY;
	return PLAN_FROM_NOTHING;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->made);
	free(p->p);
	free(p);
}

const char *plan_boot_name(enum plan_boot kind)
{
	return kind == PLAN_BOOT_ESP ? "ESP" : kind == PLAN_BOOT_BIOS ? "BIOS boot partition" : "";
}

static int plan_has_type(const struct manifest_disk *d, const char *role, const char *type)
{
	size_t i;

	for (i = 0; i < d->nparts; i++)
		if (!strcmp(d->parts[i].role, role) || !strcasecmp(d->parts[i].type, type))
			return 1;
	return 0;
}

enum plan_boot plan_boot_needed(const struct manifest_disk *d, const char *was, const char *now)
{
	int gpt = !strcmp(d->pt_type, "gpt");

	if (!d->nparts || !was || !now || !strcmp(was, now))
		return PLAN_BOOT_NONE;
	if (!strcmp(was, "bios") && !strcmp(now, "uefi") && (gpt || !strcmp(d->pt_type, "dos")) &&
	    !plan_has_type(d, "esp", gpt ? PLAN_ESP_TYPE_GPT : PLAN_ESP_TYPE_MBR))
		return PLAN_BOOT_ESP;
	if (!strcmp(was, "uefi") && !strcmp(now, "bios") && gpt &&
	    !plan_has_type(d, "bios_boot", PLAN_BIOS_BOOT_TYPE))
		return PLAN_BOOT_BIOS;
	return PLAN_BOOT_NONE;
}

/* The first partition number the table does not use; 0 when none is free. */
static int plan_free_number(const struct plan *pl, int gpt)
{
	int no, max = gpt ? 128 : 4;
	size_t i;

	for (no = 1; no <= max; no++) {
		for (i = 0; i < pl->n && pl->p[i].src->number != no; i++)
			;
		if (i == pl->n)
			return no;
	}
	return 0;
}

/* Partition k made smaller by need, or a little more so that a partition of
 * need bytes fits 1 MiB aligned after it, before the next one (or limit).
 * The new partition's start in at; 0 when k cannot give that much. */
static int plan_give(struct plan *pl, size_t k, uint64_t need, uint64_t limit, uint64_t *at)
{
	struct plan_part *p = &pl->p[k];
	uint64_t next = k + 1 < pl->n ? pl->p[k + 1].new_start : limit, take, size, floor;
	int grow_only = p->new_size >= p->src->size + need && plan_can(p->src, 0);

	if (!grow_only && !plan_can(p->src, 1))
		return 0;
	floor = grow_only ? p->src->size : plan_min(p->src);
	for (take = need; take <= need + PLAN_ALIGN; take += PLAN_ALIGN) {
		if (p->new_size < take)
			return 0;
		size = down(p->new_size - take, pl->new_sector);
		if (size < floor)
			return 0;
		if (up(p->new_start + size, PLAN_ALIGN) + need <= next) {
			p->new_size = size;
			*at = up(p->new_start + size, PLAN_ALIGN);
			return 1;
		}
	}
	return 0;
}

/* Refused with the numbers: the room there is, what each partition can give. */
static int plan_no_room(const struct plan *pl, const struct manifest_disk *d, enum plan_boot kind,
			uint64_t need, uint64_t limit)
{
	char line[ERR_MSG_MAX] = "", a[32], b[32], c[32], e[32], f[32];
	uint64_t end = plan_end(pl);
	size_t i, k = 0;

	for (i = 0; i < pl->n; i++) {
		const struct manifest_part *s = pl->p[i].src;
		human_size(pl->p[i].new_size, a, sizeof(a));
		human_size(plan_can(s, 1) ? plan_min(s) : pl->p[i].new_size, b, sizeof(b));
		k += (size_t)snprintf(line + k, k < sizeof(line) ? sizeof(line) - k : 0,
				      "%spartition %d (%s) %s %s", i ? ", " : "", s->number,
				      s->fs[0] ? s->fs : s->role[0] ? s->role : "no file system",
				      plan_can(s, 1) ? "can shrink from" : "keeps its", a);
		if (plan_can(s, 1))
			k += (size_t)snprintf(line + k, k < sizeof(line) ? sizeof(line) - k : 0,
					      " to %s", b);
	}
	human_size(need, a, sizeof(a));
	human_size(end, b, sizeof(b));
	human_size(limit, c, sizeof(c));
	human_size(limit > end ? limit - end : 0, e, sizeof(e));
	human_size(plan_least(d) + need, f, sizeof(f));
	return err_set(-ENOSPC, "the new machine's firmware needs %s %s (%s) that image disk %d has "
				"not, and there is no room for one: the partitions end at %s, the "
				"disk has room up to %s (%s free), and no partition can give up %s: "
				"%s; choose a disk of at least %s, or boot the machine in %s mode",
		       kind == PLAN_BOOT_ESP ? "an" : "a", plan_boot_name(kind), a, d->index, b, c,
		       e, a, line, f,
		       kind == PLAN_BOOT_ESP ? "BIOS (legacy)" : "UEFI");
}

/* Where the new partition goes: its start in at, its place in pl->p in idx. */
static int plan_boot_room(struct plan *pl, uint64_t need, uint64_t limit, uint64_t *at,
			  size_t *idx)
{
	size_t i;

	if (!pl->n || (uint64_t)PLAN_ALIGN + need <= pl->p[0].new_start) {
		*at = PLAN_ALIGN; /* the gap before the first partition */
		*idx = 0;
		return 1;
	}
	if (up(plan_end(pl), PLAN_ALIGN) + need <= limit) {
		*at = up(plan_end(pl), PLAN_ALIGN); /* free after the last one */
		*idx = pl->n;
		return 1;
	}
	for (i = pl->n; i-- > 0;) /* room a growing partition gives back */
		if (pl->p[i].action != PLAN_CREATE && pl->p[i].new_size >= pl->p[i].src->size + need &&
		    plan_can(pl->p[i].src, 0) && plan_give(pl, i, need, limit, at)) {
			*idx = i + 1;
			return 1;
		}
	for (i = pl->n; i-- > 0;) /* the last data partition that can shrink that far */
		if (pl->p[i].action != PLAN_CREATE && plan_can(pl->p[i].src, 1) &&
		    plan_give(pl, i, need, limit, at)) {
			*idx = i + 1;
			return 1;
		}
	return 0;
}

int plan_add_boot(struct plan *pl, const struct manifest_disk *d, enum plan_boot kind)
{
	int gpt = !strcmp(d->pt_type, "gpt"), no;
	uint64_t need = kind == PLAN_BOOT_ESP ? PLAN_ESP_SIZE : PLAN_BIOS_BOOT_SIZE;
	uint64_t limit = plan_limit(d, pl->new_disk, pl->new_sector), at = 0;
	struct plan_part *parts, *keep;
	struct manifest_part *m;
	size_t idx = 0;

	if (kind == PLAN_BOOT_NONE)
		return 0;
	if (pl->made)
		return err_set(-EINVAL, "the plan has a partition made for booting already");
	if (!(no = plan_free_number(pl, gpt)))
		return err_set(-ENOSPC, "the new machine's firmware needs an ESP that image disk %d "
					"has not, and its MBR table has all four primary partitions "
					"taken, where an ESP must be one: boot the machine in BIOS "
					"(legacy) mode", d->index);
	if (!(keep = malloc(sizeof(*keep) * (pl->n ? pl->n : 1))))
		return -ENOMEM;
	memcpy(keep, pl->p, sizeof(*keep) * pl->n);
	if (!plan_boot_room(pl, need, limit, &at, &idx)) {
		memcpy(pl->p, keep, sizeof(*keep) * pl->n);
		free(keep);
		return plan_no_room(pl, d, kind, need, limit);
	}
	m = calloc(1, sizeof(*m));
	parts = m ? realloc(pl->p, sizeof(*parts) * (pl->n + 1)) : NULL;
	if (!parts) {
		memcpy(pl->p, keep, sizeof(*keep) * pl->n);
		free(keep);
		free(m);
		return -ENOMEM;
	}
	free(keep);
	pl->p = parts;
	*m = (struct manifest_part){ .number = no, .start = at, .size = need };
	str_copy(m->type, sizeof(m->type), kind == PLAN_BOOT_BIOS ? PLAN_BIOS_BOOT_TYPE :
					   gpt ? PLAN_ESP_TYPE_GPT : PLAN_ESP_TYPE_MBR);
	str_copy(m->name, sizeof(m->name), !gpt ? "" : kind == PLAN_BOOT_ESP ? "EFI System" :
								     "BIOS boot partition");
	str_copy(m->role, sizeof(m->role), kind == PLAN_BOOT_ESP ? "esp" : "bios_boot");
	str_copy(m->fs, sizeof(m->fs), kind == PLAN_BOOT_ESP ? "vfat" : "");
	memmove(&pl->p[idx + 1], &pl->p[idx], sizeof(*parts) * (pl->n - idx));
	pl->p[idx] = (struct plan_part){ .src = m, .new_start = at, .new_size = need,
					 .action = PLAN_CREATE };
	pl->n++;
	pl->made = m;
	plan_actions(pl);
	return 0;
}
