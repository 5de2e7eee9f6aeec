/* muletto ls REPO [--json] [--trust PUBKEY]: the images in a repository. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/repo.h"

static const char ls_usage[] = "muletto ls REPO [--json] [--trust PUBKEY]";

static void ls_totals(const struct manifest *m, uint64_t *size, uint64_t *used)
{
	size_t i;

	*size = *used = 0;
	for (i = 0; m && i < m->ndisks; i++) {
		*size += m->disks[i].size;
		*used += m->disks[i].bytes_used;
	}
}

static json_t *ls_json_disks(const struct manifest *m)
{
	json_t *disks = json_array();
	size_t k;

	for (k = 0; m && k < m->ndisks; k++) {
		const struct manifest_disk *d = &m->disks[k];
		json_array_append_new(disks, json_pack("{s:i, s:I, s:o, s:i, s:o}", "index", d->index,
						       "size", (json_int_t)d->size, "file",
						       show_json_string(d->file), "partitions",
						       (int)d->nparts, "partition_table",
						       show_json_string(d->pt_type)));
	}
	return disks;
}

static void ls_print_json(const struct repo_image *e, size_t n)
{
	json_t *arr = json_array(), *o;
	uint64_t size, used;
	size_t i;

	for (i = 0; i < n; i++) {
		ls_totals(e[i].m, &size, &used);
		o = json_pack("{s:o, s:o, s:o, s:I, s:I, s:s}", "name", show_json_string(e[i].name),
			      "created", show_json_string(e[i].m ? e[i].m->created : ""), "disks",
			      ls_json_disks(e[i].m), "size", (json_int_t)size, "bytes_used",
			      (json_int_t)used, "status", e[i].status);
		json_object_set_new(o, "signed_by",
				    e[i].sig.signed_ ? json_string(e[i].sig.key) : json_null());
		if (e[i].sig.trusted >= 0)
			json_object_set_new(o, "trusted", json_boolean(e[i].sig.trusted));
		if (e[i].sig.trusted == 0)
			json_object_set_new(o, "refused", show_json_string(e[i].sig.why));
		if (e[i].m)
			json_object_set_new(o, "consistency",
					    json_string(manifest_consistency_name(e[i].m->consistency)));
		if (e[i].error[0])
			json_object_set_new(o, "error", show_json_string(e[i].error));
		json_array_append_new(arr, o);
	}
	show_json_pretty(json_pack("{s:o}", "images", arr));
}

/* What a NOTES column says of an image ("" for most). */
static const char *ls_note(const struct repo_image *e)
{
	return e->m && e->m->consistency == MANIFEST_LIVE ? "live (may be inconsistent)" : "";
}

static void ls_print_row(const struct repo_image *e, int trust)
{
	const char *note = ls_note(e);
	char size[32], used[32], name[1024], created[1024], why[2 * ERR_MSG_MAX];
	uint64_t s, u;

	show_safe(e->name, name, sizeof(name));
	if (!e->m) {
		printf("%-24s %s: %s\n", name, e->status, show_safe(e->error, why, sizeof(why)));
		return;
	}
	ls_totals(e->m, &s, &u);
	human_size(s, size, sizeof(size));
	human_size(u, used, sizeof(used));
	printf("%-24s %-20s %5zu %10s %10s  %-*.16s%-*s%s%s\n", name,
	       show_safe(e->m->created, created, sizeof(created)), e->m->ndisks, size, used,
	       trust || note[0] ? 16 : 1, e->sig.signed_ ? e->sig.key : "-",
	       trust && note[0] ? 8 : 0, !trust ? "" : e->sig.trusted > 0 ? " yes" : " REFUSED",
	       note[0] ? " " : "", note);
	if (trust && e->sig.trusted == 0)
		printf("%24s refused: %s\n", "", show_safe(e->sig.why, why, sizeof(why)));
}

/* A NOTES column only when an image has a note: the usual table stays as it was. */
static void ls_print_table(const struct repo_image *e, size_t n, int trust)
{
	size_t i;
	int notes = 0;

	for (i = 0; i < n; i++)
		notes |= ls_note(&e[i])[0] != 0;
	printf("%-24s %-20s %5s %10s %10s  %-*s%-*s%s\n", "NAME", "CREATED", "DISKS", "SIZE",
	       "USED", trust || notes ? 16 : 1, "SIGNED BY", trust && notes ? 8 : 0,
	       trust ? " TRUSTED" : "", notes ? " NOTES" : "");
	for (i = 0; i < n; i++)
		ls_print_row(&e[i], trust);
}

static int ls_run(const char *url, const char *trust, int json)
{
	struct repo_image *e = NULL;
	struct repo *repo = NULL;
	size_t n = 0;
	int r;

	r = repo_open(url, 0, &repo);
	if (r == 0 && trust)
		r = repo_set_trust(repo, trust);
	if (r == 0)
		r = repo_list(repo, &e, &n);
	if (r < 0)
		goto out;
	if (json) {
		ls_print_json(e, n);
	} else if (!n) {
		printf("no images in %s yet\n", repo->url);
	} else {
		ls_print_table(e, n, repo->trust != NULL);
	}
out:
	repo_list_free(e, n);
	repo_close(repo);
	return r;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "trust", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *trust = NULL;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'T': trust = optarg; break;
		case 'h': printf("usage: %s\n", ls_usage); return 0;
		default: return cmd_usage(ls_usage);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(ls_usage);
	c = ls_run(argv[optind], trust, json);
	return c < 0 ? cmd_fail("%s", err_text(c)) : 0;
}
