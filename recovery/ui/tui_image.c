/* The image screen (what the repository holds, as the manifests say it) and
 * the action screen (what to do with the image chosen). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "muletto/core/util.h"
#include "tui_int.h"

static void image_row(const struct repo_image *e, char *out, size_t size)
{
	char name[64], created[32], sz[32], key[20];
	uint64_t total = 0;
	size_t i;

	tui_ascii(e->name, name, sizeof(name));
	if (!e->m) {
		snprintf(out, size, "%-22.22s %s: %.40s", name, e->status, e->error);
		return;
	}
	for (i = 0; i < e->m->ndisks; i++)
		total += e->m->disks[i].size;
	human_size(total, sz, sizeof(sz));
	tui_ascii(e->m->created, created, sizeof(created));
	snprintf(key, sizeof(key), "%.12s", e->sig.signed_ ? e->sig.key : "-");
	snprintf(out, size, "%-22.22s %-20.20s %5zu %9s %-12s%s", name, created, e->m->ndisks, sz,
		 key, e->sig.trusted == 0 ? " REFUSED" : e->sig.trusted > 0 ? " trusted" : "");
}

/* What the manifest holds of the image, for the line under the list. */
static void image_detail(const struct repo_image *e, char *out, size_t size)
{
	char host[64], fw[32];

	if (!e->m) {
		snprintf(out, size, "%s", e->status);
		return;
	}
	snprintf(out, size, "host %s, firmware %s, %s%s",
		 tui_ascii(e->m->hostname[0] ? e->m->hostname : "?", host, sizeof(host)),
		 tui_ascii(e->m->firmware[0] ? e->m->firmware : "?", fw, sizeof(fw)),
		 manifest_consistency_name(e->m->consistency),
		 e->m->ndisks > 1 ? "; disk 0 is restored here" : "");
}

/* What verify --boot said of it last, as the repository keeps it. */
static void image_boot(const struct repo_image *e, const struct repo_boot *b, char *out,
		       size_t size)
{
	if (!e->m)
		snprintf(out, size, " ");
	else if (!b || !b->known)
		snprintf(out, size, "boot-verified: never (muletto verify --boot %.40s)", e->name);
	else
		snprintf(out, size, "boot-verified: %s on %s", b->booted ? "booted" : "did NOT boot",
			 b->date);
}

static void image_changed(newtComponent list, void *data)
{
	const struct tui *t = data;
	char text[200], safe[200];
	intptr_t i = (intptr_t)newtListboxGetCurrent(list);

	image_detail(&t->images[i], text, sizeof(text));
	newtLabelSetText(t->detail, text);
	image_boot(&t->images[i], t->boots ? &t->boots[i] : NULL, text, sizeof(text));
	newtLabelSetText(t->boot, tui_ascii(text, safe, sizeof(safe)));
	newtRefresh();
}

enum tui_step tui_screen_image(struct tui *t)
{
	newtComponent form, list, next, back, co;
	char row[128];
	int h = 20;
	size_t i;

	for (;;) {
		newtCenteredWindow(TUI_W, h, "3/6 Image");
		form = newtForm(NULL, NULL, 0);
		newtFormAddComponent(form, newtLabel(1, 0, "NAME                   CREATED              "
							   "DISKS      SIZE SIGNED BY"));
		list = newtListbox(1, 1, h - 9, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
		newtListboxSetWidth(list, TUI_W - 2);
		for (i = 0; i < t->nimages; i++) {
			image_row(&t->images[i], row, sizeof(row));
			newtListboxAppendEntry(list, row, (void *)(intptr_t)i);
		}
		t->detail = newtLabel(1, h - 7, "");
		t->boot = newtLabel(1, h - 6, "");
		newtFormAddComponents(form, list, t->detail, t->boot, NULL);
		newtComponentAddCallback(list, image_changed, t);
		tui_buttons(form, h, "Next", &next, &back);
		image_changed(list, t);
		co = tui_form_run(form, NULL);
		i = (size_t)(intptr_t)newtListboxGetCurrent(list);
		newtFormDestroy(form);
		newtPopWindow();
		if (co == back)
			return TUI_BACK;
		if (t->images[i].m && t->images[i].sig.trusted != 0) {
			t->image = &t->images[i];
			return TUI_NEXT;
		}
		tui_message("Image", "This image cannot be restored: %s",
			    t->images[i].error[0] ? t->images[i].error : t->images[i].sig.why);
	}
}

enum tui_step tui_screen_action(struct tui *t)
{
	static const char *const actions[] = {
		"Restore it onto a disk of this machine",
		"Run it as a VM while it arrives",
		"Serve its disk over NBD",
		"Verify every chunk",
		"Mount a partition and copy files out",
	};
	newtComponent form, list, next, back, co;
	intptr_t i;
	int h = 13;

	for (;;) {
		newtCenteredWindow(TUI_W, h, "4/6 Action");
		form = newtForm(NULL, NULL, 0);
		list = newtListbox(2, 1, 5, NEWT_FLAG_RETURNEXIT);
		for (i = 0; i < (intptr_t)ARRAY_SIZE(actions); i++)
			newtListboxAppendEntry(list, actions[i], (void *)i);
		newtFormAddComponent(form, list);
		tui_buttons(form, h, "Next", &next, &back);
		co = tui_form_run(form, NULL);
		i = (intptr_t)newtListboxGetCurrent(list);
		newtFormDestroy(form);
		newtPopWindow();
		if (co == back)
			return TUI_BACK;
		if (i == 0 || i == 1) { /* both write the disk chosen next */
			t->act = i == 1 ? TUI_ACT_RUN : TUI_ACT_RESTORE;
			return TUI_NEXT;
		}
		if (i == 2 && tui_serve_choose(t) == TUI_NEXT)
			return TUI_NEXT; /* onto the disk chosen next */
		if (i == 3 || i == 4)
			(i == 3 ? tui_verify : tui_mount)(t);
	}
}
