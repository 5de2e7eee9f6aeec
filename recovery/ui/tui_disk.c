/* The target disk screen (identity of every disk; the boot medium and disks
 * in use shown, not selectable, with why; the plan when sizes differ) and
 * the confirmation that needs the disk's name typed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "muletto/core/util.h"
#include "tui_int.h"

#define DISK_TEXT 2048

/* Why a disk cannot be a target, or NULL when it can. */
static const char *disk_why_not(const struct disk_info *d)
{
	if (d->is_boot)
		return "the medium this system booted from, or its muletto.conf";
	if (d->in_use)
		return d->in_use_why[0] ? d->in_use_why : "in use";
	if (d->read_only)
		return "read-only";
	return NULL;
}

static void disk_row(const struct disk_info *d, char *out, size_t size)
{
	char model[32], serial[32], sz[32];

	human_size(d->size, sz, sizeof(sz));
	snprintf(out, size, "%-9.9s %-24.24s %-18.18s %9s %-6.6s", d->name,
		 tui_ascii(d->model[0] ? d->model : "-", model, sizeof(model)),
		 tui_ascii(d->serial[0] ? d->serial : "-", serial, sizeof(serial)), sz,
		 d->transport[0] ? d->transport : "-");
}

/* The plan's lines into t->plan (restore_run's show_plan, with plan_only). */
static void disk_plan_shown(void *ctx, const char *target, const struct plan *pl,
			    const struct manifest_disk *d)
{
	struct tui *t = ctx;
	char a[32], b[32], c[32], e[32], fs[40];
	size_t i, k;

	(void)target;
	human_size(pl->old_disk, a, sizeof(a));
	human_size(pl->new_disk, b, sizeof(b));
	k = (size_t)snprintf(t->plan, sizeof(t->plan), "The disks differ (image %s, this disk "
			     "%s): the partitions are placed by this plan:\n", a, b);
	for (i = 0; i < pl->n && k < sizeof(t->plan); i++) {
		const struct plan_part *p = &pl->p[i];
		human_size(p->src->size, a, sizeof(a));
		human_size(p->new_start, c, sizeof(c));
		human_size(p->new_size, e, sizeof(e));
		human_size(p->src->start, b, sizeof(b));
		tui_ascii(p->src->fs[0] ? p->src->fs : p->src->role, fs, sizeof(fs));
		k += (size_t)snprintf(t->plan + k, sizeof(t->plan) - k,
				      "  %2d %-10s %9s at %9s -> %9s at %9s  %s\n", p->src->number,
				      fs, a, b, e, c, plan_action_name(p->action));
	}
	(void)d;
}

/* When the disk's size differs from the image's: the plan, nothing written. */
static int disk_plan(struct tui *t, const struct disk_info *d)
{
	const struct manifest_disk *md = manifest_find_disk(t->image->m, 0);
	struct restore_request q = { .from = t->url, .name = t->image->name, .to = d->dev,
				     .plan_only = 1, .show_plan = disk_plan_shown, .ctx = t };
	struct restore_result res;
	int r;

	t->plan[0] = 0;
	if (!md || md->size == d->size)
		return 0;
	r = restore_run(&q, &res);
	if (r < 0)
		tui_message("Target disk", "%s cannot take this image: %s", d->dev, err_msg());
	return r;
}

static void disk_choose(struct tui *t, const struct disk_info *d)
{
	char row[128];

	str_copy(t->target, sizeof(t->target), d->dev);
	str_copy(t->target_name, sizeof(t->target_name), d->name);
	disk_row(d, row, sizeof(row));
	snprintf(t->target_desc, sizeof(t->target_desc), "%s", row);
}

/* The selectable disks into list, the others into text with why. */
static size_t disk_fill(const struct disk_info *d, size_t n, newtComponent list, char *text,
			size_t size)
{
	char row[128], optical[256], *name, *save = NULL;
	size_t i, k = 0, ok = 0;

	text[0] = 0;
	for (i = 0; i < n; i++) {
		const char *why = disk_why_not(&d[i]);
		disk_row(&d[i], row, sizeof(row));
		if (!why) {
			newtListboxAppendEntry(list, row, (void *)(intptr_t)i);
			ok++;
		} else if (k < size) {
			k += (size_t)snprintf(text + k, size - k, "%-9.9s %.60s\n", d[i].name, why);
		}
	}
	disk_list_optical(NULL, optical, sizeof(optical));
	for (name = strtok_r(optical, " ", &save); name && k < size;
	     name = strtok_r(NULL, " ", &save))
		k += (size_t)snprintf(text + k, size - k, "%-9.9s %.60s\n", name,
				      "CD/DVD, read-only (a muletto CD is the boot medium)");
	return ok;
}

enum tui_step tui_screen_disk(struct tui *t)
{
	newtComponent form, list, tb, next, back, co;
	char text[DISK_TEXT], safe[DISK_TEXT];
	struct disk_info *d = NULL;
	enum tui_step step;
	size_t n = 0, ok;
	int h = 20;

	for (;;) {
		if (disk_list(NULL, &d, &n) < 0) {
			tui_message("Target disk", "%s", err_msg());
			return TUI_BACK;
		}
		newtCenteredWindow(TUI_W, h, "5/6 Target disk");
		form = newtForm(NULL, NULL, 0);
		newtFormAddComponent(form, newtLabel(1, 0, "DISK      MODEL                    "
							   "SERIAL                  SIZE BUS"));
		list = newtListbox(1, 1, 7, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
		newtListboxSetWidth(list, TUI_W - 2);
		ok = disk_fill(d, n, list, text, sizeof(text));
		newtFormAddComponent(form, newtLabel(1, 9, "Not selectable:"));
		tb = newtTextbox(1, 10, TUI_W - 3, h - 14, 0);
		newtTextboxSetText(tb, tui_ascii(text[0] ? text : "(none)", safe, sizeof(safe)));
		newtFormAddComponents(form, list, tb, NULL);
		tui_buttons(form, h, "Next", &next, &back);
		if (!ok)
			newtFormSetCurrent(form, back);
		co = tui_form_run(form, NULL);
		step = co == back ? TUI_BACK : TUI_NEXT;
		if (step == TUI_NEXT && ok) {
			const struct disk_info *c = &d[(intptr_t)newtListboxGetCurrent(list)];
			disk_choose(t, c);
			if (disk_plan(t, c) < 0)
				step = TUI_MENU; /* stay: see below */
		}
		newtFormDestroy(form);
		newtPopWindow();
		disk_list_free(d, n);
		if (step == TUI_BACK || (step == TUI_NEXT && ok))
			return step;
	}
}

enum tui_step tui_screen_confirm(struct tui *t)
{
	newtComponent form, tb, entry, next, back, co;
	char text[DISK_TEXT + TUI_PLAN_MAX], safe[sizeof(text)], name[64], typed[64];
	int h = 20;

	/* a VM's or a served disk arrives as the image is, at its start: no plan */
	snprintf(text, sizeof(text),
		 "Everything on this disk is replaced by disk 0 of image '%s'%s:\n\n  %s\n\n%s"
		 "Type the disk's name (%s) to confirm:", tui_ascii(t->image->name, name, sizeof(name)),
		 t->act == TUI_ACT_RUN ? " while it runs as a VM" : t->act == TUI_ACT_SERVE ?
		 " while it is served over NBD" : "", t->target_desc,
		 t->act != TUI_ACT_RESTORE ? "" : t->plan,
		 t->target_name);
	for (;;) {
		newtCenteredWindow(TUI_W, h, "6/6 Confirm");
		form = newtForm(NULL, NULL, 0);
		tb = newtTextbox(1, 1, TUI_W - 3, h - 8, NEWT_FLAG_WRAP | NEWT_FLAG_SCROLL);
		newtTextboxSetText(tb, tui_ascii(text, safe, sizeof(safe)));
		entry = newtEntry(2, h - 6, "", 20, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
		newtFormAddComponents(form, tb, entry, NULL);
		tui_buttons(form, h, t->act == TUI_ACT_RUN ? "Run" : t->act == TUI_ACT_SERVE ? "Serve" :
			    "Restore", &next, &back);
		newtFormSetCurrent(form, entry);
		co = tui_form_run(form, NULL);
		str_copy(typed, sizeof(typed), newtEntryGetValue(entry));
		newtFormDestroy(form);
		newtPopWindow();
		if (co == back)
			return TUI_BACK;
		if (!strcmp(typed, t->target_name))
			return TUI_NEXT;
		tui_message("Confirm", "'%s' is not the disk's name (%s): nothing was written.",
			    typed, t->target_name);
	}
}
