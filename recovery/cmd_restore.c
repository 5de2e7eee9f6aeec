/* muletto restore: from a repository image, a bare casync index, or a raw image. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cmd.h"
#include "muletto/err.h"
#include "muletto/repo.h"
#include "muletto/restore.h"
#include "muletto/util.h"

static const char restore_usage[] =
	"muletto restore REPO NAME --to DEVICE|FILE|auto [--disk N] [--yes] [--json]\n"
	"       muletto restore IMAGE-URL --to DEVICE|FILE [--yes]   (.img, .img.zst)\n"
	"       muletto restore INDEX.caibx --store STORE --to DEVICE|FILE [--yes]\n"
	"  options: --seed FILE|DEVICE (take chunks from a local copy), --no-seed (fetch every\n"
	"  chunk), --verify (read the disk back), --trust PUBKEY (only images signed by it),\n"
	"  --threads N, --progress auto|bar|json|none";

struct restore_args {
	const char *to, *store, *trust;
	char *auto_to; /* the disk --to auto picked */
	int disk, yes, json;
	struct restore_opts o;
};

static int restore_parse(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 'o' },	   { "store", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },  { "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },	   { "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ "seed", required_argument, NULL, 'S' },  { "no-seed", no_argument, NULL, 'N' },
		{ "verify", no_argument, NULL, 'V' },	   { "trust", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "o:s:d:yj", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->to = optarg; break;
		case 's': a->store = optarg; break;
		case 'd':
			a->disk = (int)strtol(optarg, &end, 10);
			if (*end || a->disk < 0)
				return cmd_bad_option("--disk %s: give the disk's number (0, 1, ...) "
						      "as 'muletto ls' shows it", optarg);
			break;
		case 'y': a->yes = 1; break;
		case 'j': a->json = 1; break;
		case 't': a->o.threads = atoi(optarg); break;
		case 'p':
			if (progress_mode_parse(optarg, &a->o.progress) < 0)
				return cmd_bad_option("%s", err_msg());
			break;
		case 'S': a->o.seed = optarg; break;
		case 'N': a->o.no_seed = 1; break;
		case 'V': a->o.verify = 1; break;
		case 'T': a->trust = optarg; break;
		case 'h': printf("usage: %s\n", restore_usage); return -1;
		default: return cmd_usage(restore_usage);
		}
	}
	if (!a->to || argc - optind < 1 || argc - optind > 2)
		return cmd_usage(restore_usage);
	if (a->json && a->o.progress == PROGRESS_AUTO)
		a->o.progress = PROGRESS_NONE;
	return 0;
}

/* Shows what is on the target and asks; 0 to go on. */
static int restore_confirm(const struct restore_args *a, uint64_t need)
{
	struct disk_info info;
	char size[32], want[32], answer[32];
	int is_block = 0, exists = 0, r;
	size_t i;

	r = target_inspect(a->to, &info, &is_block, &exists);
	if (r < 0)
		return r;
	if (a->yes || (!is_block && (!exists || info.size == 0))) {
		disk_info_clear(&info);
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		disk_info_clear(&info);
		return err_set(-EPERM, "refusing to overwrite %s without confirmation: run "
				       "on a terminal to be asked, or pass --yes", a->to);
	}
	human_size(info.size, size, sizeof(size));
	human_size(need, want, sizeof(want));
	fprintf(stderr, "About to overwrite %s: %s", a->to,
		info.model[0] ? info.model : (is_block ? "unknown model" : "image file"));
	if (info.serial[0])
		fprintf(stderr, " (serial %s)", info.serial);
	fprintf(stderr, ", %s%s%s\n", size, info.transport[0] ? ", " : "", info.transport);
	for (i = 0; i < info.nparts; i++) {
		const struct disk_part *p = &info.parts[i];
		human_size(p->size, size, sizeof(size));
		fprintf(stderr, "  partition %d  %-10s %-8s %s%s%s\n", p->number, size,
			p->fs[0] ? p->fs : "-", p->label[0] ? "\"" : "", p->label,
			p->label[0] ? "\"" : "");
	}
	if (!info.nparts)
		fprintf(stderr, "  (no partitions found)\n");
	fprintf(stderr, "The image (%s) replaces everything on it. Type 'yes' to continue: ",
		want);
	disk_info_clear(&info);
	if (!fgets(answer, sizeof(answer), stdin) || strcmp(answer, "yes\n"))
		return err_set(-ECANCELED, "not confirmed: %s was left unchanged", a->to);
	return 0;
}

static void restore_report(const struct restore_args *a, const struct restore_stats *s,
			   const char *what)
{
	char tot[32], fetched[32], rate[32];

	if (a->json) {
		json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
				      "image", what, "target", a->to, "bytes_total",
				      (json_int_t)s->bytes_total, "bytes_written",
				      (json_int_t)s->bytes_written, "bytes_fetched",
				      (json_int_t)s->bytes_fetched, "chunks_total",
				      (json_int_t)s->chunks_total, "chunks_fetched",
				      (json_int_t)s->chunks_fetched, "chunks_seeded",
				      (json_int_t)s->chunks_seeded, "chunks_zero",
				      (json_int_t)s->chunks_zero, "seconds", s->seconds);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return;
	}
	human_size(s->bytes_total, tot, sizeof(tot));
	human_size(s->bytes_fetched, fetched, sizeof(fetched));
	human_size(s->seconds > 0 ? (uint64_t)((double)s->bytes_total / s->seconds) : 0, rate,
		   sizeof(rate));
	printf("restored %s to %s: %s in %.1f s (%s/s), %s fetched", what, a->to, tot, s->seconds,
	       rate, fetched);
	if (s->chunks_total)
		printf(", %llu of %llu chunks fetched, %llu empty",
		       (unsigned long long)s->chunks_fetched, (unsigned long long)s->chunks_total,
		       (unsigned long long)s->chunks_zero);
	putchar('\n');
}

/* Writes idx to the target, after the confirmation and the safety checks. */
static int restore_write(struct restore_args *a, const struct caibx *idx, const char *store,
			 const char *what)
{
	struct restore_stats st;
	struct target *t = NULL;
	char label[96];
	double t0;
	int r, r2;

	if (!strcmp(a->to, "auto")) {
		r = target_pick_auto(caibx_blob_size(idx), &a->auto_to);
		if (r < 0)
			return r;
		a->to = a->auto_to;
	}
	r = restore_confirm(a, caibx_blob_size(idx));
	if (r < 0)
		return r;
	r = target_open(a->to, caibx_blob_size(idx), restore_data_bytes(idx), &t);
	if (r < 0)
		return r;
	snprintf(label, sizeof(label), "restore %s", what);
	a->o.label = label;
	t0 = now_seconds();
	r = restore_index(idx, store, t, &a->o, &st);
	if (r == 0 && a->o.verify)
		r = restore_verify(idx, t, &a->o);
	r2 = target_close(t, r == 0);
	st.seconds = now_seconds() - t0; /* the final flush is part of the restore */
	if (r == 0)
		r = r2;
	if (r < 0) {
		char cause[ERR_MSG_MAX];
		str_copy(cause, sizeof(cause), err_msg());
		return err_set(r, "%s; %s now holds a partly restored image: run the same "
				  "command again once that is fixed", cause, a->to);
	}
	restore_report(a, &st, what);
	return 0;
}

static int restore_from_repo(struct restore_args *a, const char *url, const char *name)
{
	struct manifest *m = NULL;
	struct caibx *idx = NULL;
	struct repo *repo = NULL;
	char what[300];
	size_t i;
	int r;

	r = repo_open(url, &repo);
	if (r < 0)
		return r;
	if (a->trust && (r = repo_set_trust(repo, a->trust)) < 0)
		goto out;
	r = repo_load_manifest(repo, name, &m);
	if (r < 0)
		goto out;
	for (i = 0; i < m->ndisks && m->disks[i].index != a->disk; i++)
		;
	if (i == m->ndisks) {
		r = err_set(-ENOENT, "image '%s' has %zu disk(s), numbered 0 to %zu: there is no "
				     "--disk %d", name, m->ndisks, m->ndisks ? m->ndisks - 1 : 0,
			    a->disk);
		goto out;
	}
	r = repo_load_index(repo, name, &m->disks[i], &idx);
	if (r < 0)
		goto out;
	if (caibx_blob_size(idx) != m->disks[i].size) {
		r = err_set(-EBADMSG, "image '%s': disk%d's index covers %llu bytes but the "
				      "manifest says %llu: the image is damaged; capture it again",
			    name, a->disk, (unsigned long long)caibx_blob_size(idx),
			    (unsigned long long)m->disks[i].size);
		goto out;
	}
	snprintf(what, sizeof(what), "%s disk%d", name, a->disk);
	r = restore_write(a, idx, repo->store_url, what);
out:
	caibx_free(idx);
	manifest_free(m);
	repo_close(repo);
	return r;
}

/* Raw images and bare indexes carry no signature: not where only signed
 * images may be written. */
static int restore_unsigned_allowed(const struct restore_args *a, const char *url)
{
	_cleanup_free_ char *trust = NULL;
	int r = a->trust ? 0 : repo_default_trust(&trust);

	if (r < 0)
		return r;
	if (a->trust || trust)
		return err_set(-EPERM, "%s cannot be signed, and only images signed by %s are "
				       "trusted here: restore a signed image from a repository",
			       url, a->trust ? a->trust : trust);
	return 0;
}

static int restore_from_caibx(struct restore_args *a, const char *url)
{
	_cleanup_free_ char *parent = NULL, *name = NULL;
	_cleanup_free_ void *buf = NULL;
	struct source *src = NULL;
	struct caibx *idx = NULL;
	size_t len = 0;
	int r;

	if (!a->store)
		return err_set(-EINVAL, "%s is a bare casync index: say where its chunks are "
					"with --store PATH-OR-URL", url);
	r = restore_unsigned_allowed(a, url);
	if (r == 0)
		r = source_split_url(url, &parent, &name);
	if (r == 0)
		r = source_open(parent, &src);
	if (r == 0)
		r = source_get(src, name, &buf, &len);
	if (r == -ENOENT)
		r = err_set(r, "%s does not exist: check the path", url);
	if (r == 0) {
		r = caibx_adopt(buf, len, url, &idx);
		buf = NULL;
	}
	if (r == 0)
		r = restore_write(a, idx, a->store, name);
	caibx_free(idx);
	source_close(src);
	return r;
}

static int restore_from_raw(struct restore_args *a, const char *url)
{
	struct restore_stats st;
	static const char *const exts[] = { ".img", ".raw", ".bin", ".dd", ".zst", ".zstd" };
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(exts) && !str_ends_with(url, exts[i]); i++)
		;
	if (i == ARRAY_SIZE(exts))
		return err_set(-EINVAL, "'%s' is neither a raw image (.img, .img.zst) nor a casync "
					"index (.caibx); to restore from a repository, name the "
					"image too: muletto restore REPO NAME --to ...", url);
	r = restore_unsigned_allowed(a, url);
	if (r == 0)
		r = restore_confirm(a, 0);
	if (r < 0)
		return r;
	a->o.label = "restore";
	r = restore_raw(url, a->to, &a->o, &st);
	if (r < 0)
		return r;
	restore_report(a, &st, url);
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	struct restore_args a = { 0 };
	const char *first;
	int r = restore_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	first = argv[optind];
	if (argc - optind == 2)
		r = restore_from_repo(&a, first, argv[optind + 1]);
	else if (str_ends_with(first, ".caibx"))
		r = restore_from_caibx(&a, first);
	else
		r = restore_from_raw(&a, first);
	free(a.auto_to);
	return r < 0 ? cmd_fail("%s", err_msg()) : 0;
}
