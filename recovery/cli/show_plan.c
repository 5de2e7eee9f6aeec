/* A layout plan on the screen, or as one JSON line. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cli/show.h"
#include "muletto/cli/show_plan.h"
#include "muletto/core/util.h"

static json_t *plan_part_json(const struct plan_part *p)
{
	const struct manifest_part *s = p->src;

	if (p->action == PLAN_CREATE) /* not in the image: no old place */
		return json_pack("{s:i, s:o, s:s, s:s, s:s, s:I, s:I, s:s}", "number", s->number,
				 "fs", show_json_string(s->fs), "role", s->role, "type", s->type,
				 "name", s->name, "new_start", (json_int_t)p->new_start, "new_size",
				 (json_int_t)p->new_size, "action", "create");
	return json_pack("{s:i, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "number",
			 s->number, "fs", show_json_string(s->fs), "label",
			 show_json_string(s->label), "role", show_json_string(s->role), "old_start",
			 (json_int_t)s->start, "old_size", (json_int_t)s->size, "new_start",
			 (json_int_t)p->new_start, "new_size", (json_int_t)p->new_size, "used",
			 (json_int_t)s->used, "min_size", (json_int_t)s->min_size, "action",
			 plan_action_name(p->action));
}

static void plan_json(const char *image, const char *target, const struct plan *pl,
		      const struct manifest_disk *d)
{
	json_t *parts = json_array();
	size_t i;

	for (i = 0; i < pl->n; i++)
		json_array_append_new(parts, plan_part_json(&pl->p[i]));
	show_json_line(json_pack("{s:{s:o, s:i, s:o, s:s, s:I, s:I, s:i, s:i, s:o}}", "plan",
				 "image", show_json_string(image), "disk", d->index, "target",
				 show_json_string(target), "table", d->pt_type,
				 "old_size", (json_int_t)pl->old_disk, "new_size",
				 (json_int_t)pl->new_disk, "old_sector", (int)pl->old_sector,
				 "new_sector", (int)pl->new_sector, "partitions", parts));
}

static const char *sz(uint64_t v, char *buf)
{
	human_size(v, buf, 32);
	return buf;
}

void show_plan(const char *image, const char *target, const struct plan *pl,
	       const struct manifest_disk *d, int json)
{
	char a[32], b[32], c[32], e[32], what[2 * MANIFEST_STR + 2], s1[1200], s2[1200];
	size_t i;

	if (json) {
		plan_json(image, target, pl, d);
		return;
	}
	show_break();
	printf("plan for disk %d of '%s' (%s, %s, %u-byte sectors) onto %s (%s, %u-byte "
	       "sectors):\n", d->index, show_safe(image, s1, sizeof(s1)), sz(pl->old_disk, a),
	       d->pt_type, pl->old_sector, show_safe(target, s2, sizeof(s2)),
	       sz(pl->new_disk, b), pl->new_sector);
	printf("  %4s  %-22s %10s %10s    %10s %10s  %s\n", "part", "file system", "start",
	       "size", "new start", "new size", "action");
	for (i = 0; i < pl->n; i++) {
		const struct plan_part *p = &pl->p[i];
		const struct manifest_part *s = p->src;
		if (p->action == PLAN_CREATE) { /* not in the image */
			printf("  %4d  %-22s %10s %10s -> %10s %10s  create %s\n", s->number,
			       s->role, "-", "-", sz(p->new_start, c), sz(p->new_size, e),
			       !strcmp(s->role, "esp") ? "ESP (FAT32)" : "BIOS boot partition");
			continue;
		}
		snprintf(what, sizeof(what), "%s%s%s", s->fs[0] ? s->fs : s->role,
			 s->label[0] ? " " : "", s->label);
		printf("  %4d  %-22s %10s %10s -> %10s %10s  %s", s->number,
		       show_safe(what, s1, sizeof(s1)), sz(s->start, a), sz(s->size, b),
		       sz(p->new_start, c), sz(p->new_size, e), plan_action_name(p->action));
		if (p->action == PLAN_REBUILD && plan_made_from(p) == PLAN_FROM_COPY)
			printf(" (%s cannot shrink: made anew, its %s copied)", s->fs,
			       sz(s->used, a));
		else if (s->used && p->action != PLAN_COPY)
			printf(" (%s used, file system minimum %s)", sz(s->used, a),
			       s->min_size ? sz(s->min_size, b) : "its size");
		putchar('\n');
	}
	fflush(stdout);
}
