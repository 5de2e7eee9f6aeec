/* muletto ls REPO [--json]: the images in a repository. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cmd.h"
#include "muletto/err.h"
#include "muletto/repo.h"
#include "muletto/util.h"

static const char ls_usage[] = "muletto ls REPO [--json]";

struct ls_entry {
	char *name;
	struct manifest *m; /* NULL when missing or damaged */
	char status[16];
	char error[ERR_MSG_MAX];
};

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ls_entry *)a)->name, ((const struct ls_entry *)b)->name);
}

static void ls_load(struct repo *repo, struct ls_entry *e)
{
	_cleanup_free_ char *path = repo_image_path(e->name, "manifest.json");
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int r;

	r = path ? source_get(repo->src, path, &buf, &len) : -ENOMEM;
	if (r == -ENOENT) {
		str_copy(e->status, sizeof(e->status), "incomplete");
		str_copy(e->error, sizeof(e->error), "no manifest.json (capture interrupted?)");
	} else if (r < 0 || manifest_parse(buf, len, path, &e->m) < 0) {
		str_copy(e->status, sizeof(e->status), "damaged");
		str_copy(e->error, sizeof(e->error), err_msg());
	} else {
		str_copy(e->status, sizeof(e->status), "ok");
	}
	err_clear();
}

static void ls_totals(const struct manifest *m, uint64_t *size, uint64_t *used)
{
	size_t i;

	*size = *used = 0;
	for (i = 0; m && i < m->ndisks; i++) {
		*size += m->disks[i].size;
		*used += m->disks[i].bytes_used;
	}
}

static void ls_print_json(const struct ls_entry *e, size_t n)
{
	json_t *arr = json_array(), *root;
	size_t i, k;

	for (i = 0; i < n; i++) {
		json_t *disks = json_array(), *o;
		uint64_t size, used;
		ls_totals(e[i].m, &size, &used);
		for (k = 0; e[i].m && k < e[i].m->ndisks; k++) {
			const struct manifest_disk *d = &e[i].m->disks[k];
			json_array_append_new(disks, json_pack("{s:i, s:I, s:s, s:i, s:s}", "index",
							       d->index, "size", (json_int_t)d->size,
							       "file", d->file, "partitions",
							       (int)d->nparts, "partition_table",
							       d->pt_type));
		}
		o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "name", e[i].name, "created",
			      e[i].m ? e[i].m->created : "", "disks", disks, "size",
			      (json_int_t)size, "bytes_used", (json_int_t)used, "status",
			      e[i].status);
		if (e[i].error[0])
			json_object_set_new(o, "error", json_string(e[i].error));
		json_array_append_new(arr, o);
	}
	root = json_pack("{s:o}", "images", arr);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
}

static void ls_print_table(const struct ls_entry *e, size_t n, const char *url)
{
	char size[32], used[32];
	size_t i;

	if (!n) {
		printf("no images in %s yet\n", url);
		return;
	}
	printf("%-24s %-20s %5s %10s %10s\n", "NAME", "CREATED", "DISKS", "SIZE", "USED");
	for (i = 0; i < n; i++) {
		uint64_t s, u;
		if (!e[i].m) {
			printf("%-24s %s: %s\n", e[i].name, e[i].status, e[i].error);
			continue;
		}
		ls_totals(e[i].m, &s, &u);
		human_size(s, size, sizeof(size));
		human_size(u, used, sizeof(used));
		printf("%-24s %-20s %5zu %10s %10s\n", e[i].name, e[i].m->created, e[i].m->ndisks,
		       size, used);
	}
}

static int ls_run(const char *url, int json)
{
	struct ls_entry *e = NULL;
	struct repo *repo = NULL;
	char **names = NULL;
	size_t n = 0, i;
	int r;

	r = repo_open(url, &repo);
	if (r < 0)
		return r;
	r = source_list(repo->src, "images", &names, &n);
	if (r < 0 && r != -ENOENT)
		goto out; /* the server refused or failed: say that, not "no repository" */
	if (r < 0) {
		if (source_exists(repo->src, "store") > 0) {
			n = 0; /* a bare chunk store: no images, not an error */
			r = 0;
		} else {
			r = err_set(-ENOENT, "%s is not a muletto or casync repository (no images/ "
					     "or store/ folder): check the path", repo->url);
			goto out;
		}
	}
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		e[i].name = names[i];
		ls_load(repo, &e[i]);
	}
	qsort(e, n, sizeof(*e), ls_cmp);
	if (json)
		ls_print_json(e, n);
	else
		ls_print_table(e, n, repo->url);
	for (i = 0; i < n; i++)
		manifest_free(e[i].m);
out:
	free(e);
	source_free_names(names, n);
	repo_close(repo);
	return r;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': printf("usage: %s\n", ls_usage); return 0;
		default: return cmd_usage(ls_usage);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(ls_usage);
	return ls_run(argv[optind], json) < 0 ? cmd_fail("%s", err_msg()) : 0;
}
