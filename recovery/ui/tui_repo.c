/* The repository screen: its kind, address, user and password (masked). The
 * repository is opened and listed before the screen is left: a wrong
 * password or an unreachable server is shown here, and the screen stays. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/cred.h"
#include "muletto/core/util.h"
#include "tui_int.h"

const char *const tui_kinds[TUI_KINDS] = { "http", "https", "smb", "nfs", "sftp", "s3",
					   "local path" };

/* kind://user@address, or the path itself. */
static int repo_url(struct tui *t)
{
	const char *kind = tui_kinds[t->kind];
	const char *a = t->addr;

	if (!a[0])
		return -1;
	if (t->kind == TUI_KINDS - 1 || strstr(a, "://")) {
		str_copy(t->url, sizeof(t->url), a);
		return 0;
	}
	snprintf(t->url, sizeof(t->url), "%s://%s%s%s", kind, t->user, t->user[0] ? "@" : "", a);
	return 0;
}

/* Opens and lists the repository: 0, or a negative code with a message. */
static int repo_try(struct tui *t)
{
	struct repo *repo = NULL;
	int r;

	repo_list_free(t->images, t->nimages);
	free(t->boots);
	t->images = NULL;
	t->boots = NULL;
	t->nimages = 0;
	cred_forget_typed(); /* the password typed now, not the one typed before */
	r = repo_open(t->url, 0, &repo);
	if (r == 0)
		r = repo_list(repo, &t->images, &t->nimages);
	if (r == 0 && !t->nimages)
		r = err_set(-ENOENT, "no images in %s yet", t->url);
	if (r == 0 && !(t->boots = calloc(t->nimages, sizeof(*t->boots))))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < t->nimages; i++)
		if (t->images[i].m && repo_boot_verified(repo, t->images[i].name, &t->boots[i]) < 0)
			err_clear(); /* not known: said so on the screen, as for no record */
	repo_close(repo);
	return r;
}

static void repo_take(struct tui *t, newtComponent kinds, newtComponent addr, newtComponent user,
		      newtComponent pass)
{
	t->kind = (int)(intptr_t)newtListboxGetCurrent(kinds);
	str_copy(t->addr, sizeof(t->addr), newtEntryGetValue(addr));
	/* an empty password field keeps the password typed before for the same user */
	if (t->password && !newtEntryGetValue(pass)[0] && !strcmp(t->user, newtEntryGetValue(user)))
		return;
	str_copy(t->user, sizeof(t->user), newtEntryGetValue(user));
	cred_free(t->password);
	t->password = strdup(newtEntryGetValue(pass));
	/* newt's own copy cleared in place: the password lives in t->password only */
	explicit_bzero(newtEntryGetValue(pass), strlen(newtEntryGetValue(pass)));
}

static newtComponent repo_form(struct tui *t, int at_addr, newtComponent *kinds, newtComponent *addr,
			       newtComponent *user, newtComponent *pass)
{
	newtComponent form = newtForm(NULL, NULL, 0);
	int i;

	newtFormAddComponents(
		form, newtLabel(2, 1, "Kind:"), newtLabel(2, 11, "Address:"),
		newtLabel(2, 12, "User:"), newtLabel(2, 13, "Password:"),
		newtLabel(14, 14, "(host/path, e.g. 192.168.1.10/backups; local: /mnt/x)"),
		newtLabel(46, 13, t->password && t->password[0] ? "(empty: as typed before)" : ""),
		NULL);
	*kinds = newtListbox(14, 1, TUI_KINDS + 2, NEWT_FLAG_BORDER | NEWT_FLAG_RETURNEXIT);
	for (i = 0; i < TUI_KINDS; i++)
		newtListboxAppendEntry(*kinds, tui_kinds[i], (void *)(intptr_t)i);
	newtListboxSetCurrent(*kinds, t->kind);
	/* Enter in any field is Next; Tab goes to the next field */
	*addr = newtEntry(14, 11, t->addr, 56, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
	*user = newtEntry(14, 12, t->user, 30, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
	*pass = newtEntry(14, 13, "", 30, NULL,
			  NEWT_FLAG_SCROLL | NEWT_FLAG_PASSWORD | NEWT_FLAG_RETURNEXIT);
	newtFormAddComponents(form, *kinds, *addr, *user, *pass, NULL);
	if (t->addr[0] || at_addr)
		newtFormSetCurrent(form, t->user[0] ? *pass : *addr);
	return form;
}

enum tui_step tui_screen_repo(struct tui *t)
{
	newtComponent form, kinds, addr, user, pass, next, back, co;
	int h = 21, r, at_addr = 0;

	for (;;) {
		newtCenteredWindow(TUI_W, h, "2/6 Repository");
		form = repo_form(t, at_addr, &kinds, &addr, &user, &pass);
		tui_buttons(form, h, "Next", &next, &back);
		co = tui_form_run(form, NULL);
		repo_take(t, kinds, addr, user, pass);
		newtFormDestroy(form);
		if (co == back) {
			newtPopWindow();
			return TUI_BACK;
		}
		if (co == kinds) { /* Enter on a kind: on to the address */
			newtPopWindow();
			at_addr = 1;
			continue;
		}
		if (repo_url(t) < 0) {
			newtPopWindow();
			tui_message("Repository", "Type the repository's address.");
			continue;
		}
		newtCenteredWindow(40, 3, "Repository");
		form = newtForm(NULL, NULL, 0);
		newtFormAddComponent(form, newtLabel(1, 1, "Connecting..."));
		newtDrawForm(form);
		newtRefresh();
		r = repo_try(t);
		newtFormDestroy(form);
		newtPopWindow();
		newtPopWindow();
		if (r == 0)
			return TUI_NEXT;
		tui_message("Repository: error", "%s\n\nCheck the address, the user and the password.",
			    err_msg());
	}
}
