/* muletto restore: from a repository image, a bare casync index, or a raw image. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/engine/restore.h"

#define RESTORE_THREADS_MAX 256

static const char restore_usage[] =
	"muletto restore REPO NAME --to DEVICE|FILE|auto [--disk N] [--yes] [--json]\n"
	"       muletto restore IMAGE-URL --to DEVICE|FILE [--yes]   (.img, .img.zst)\n"
	"       muletto restore INDEX.caibx --store STORE --to DEVICE|FILE [--yes]\n"
	"  options: --seed FILE|DEVICE (take chunks from a local copy), --no-seed (fetch every\n"
	"  chunk), --verify (read the disk back), --trust PUBKEY (only images signed by it),\n"
	"  --threads N, --progress auto|bar|json|none";

struct restore_args {
	int yes, json;
	enum show_mode progress;
	struct restore_request q;
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
	int c, r;

	while ((c = getopt_long(argc, argv, "o:s:d:yj", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->q.to = optarg; break;
		case 's': a->q.store = optarg; break;
		case 'd':
			if (parse_int(optarg, 0, INT32_MAX, &a->q.disk) < 0)
				return cmd_bad_option("--disk %s: give the disk's number (0, 1, ...) "
						      "as 'muletto ls' shows it", optarg);
			break;
		case 'y': a->yes = 1; break;
		case 'j': a->json = 1; break;
		case 't':
			if ((r = cmd_int_option("--threads", optarg, 1, RESTORE_THREADS_MAX,
						&a->q.o.threads)))
				return r;
			break;
		case 'p':
			if (show_mode_parse(optarg, &a->progress) < 0)
				return cmd_bad_option("%s", err_msg());
			break;
		case 'S': a->q.o.seed = optarg; break;
		case 'N': a->q.o.no_seed = 1; break;
		case 'V': a->q.o.verify = 1; break;
		case 'T': a->q.trust = optarg; break;
		case 'h': printf("usage: %s\n", restore_usage); return -1;
		default: return cmd_usage(restore_usage);
		}
	}
	if (!a->q.to || argc - optind < 1 || argc - optind > 2)
		return cmd_usage(restore_usage);
	if (a->json && a->progress == SHOW_AUTO)
		a->progress = SHOW_NONE;
	return 0;
}

#define COUNT(f) { #f, offsetof(struct restore_stats, f) }
static const struct show_count restore_counts[] = {
	COUNT(bytes_total),    COUNT(bytes_written), COUNT(bytes_fetched), COUNT(chunks_total),
	COUNT(chunks_fetched), COUNT(chunks_seeded), COUNT(chunks_zero),
};
#undef COUNT

static void restore_report(const struct restore_args *a, const struct restore_result *res)
{
	const struct restore_stats *s = &res->st;
	char tot[32], fetched[32], rate[32], what[1200];

	if (a->json) {
		json_t *o = json_pack("{s:o, s:o}", "image", show_json_string(res->what), "target",
				      show_json_string(res->target));
		show_counts(o, s, restore_counts, ARRAY_SIZE(restore_counts), s->seconds);
		show_json_line(o);
		return;
	}
	human_size(s->bytes_total, tot, sizeof(tot));
	human_size(s->bytes_fetched, fetched, sizeof(fetched));
	human_size(s->seconds > 0 ? (uint64_t)((double)s->bytes_total / s->seconds) : 0, rate,
		   sizeof(rate));
	printf("restored %s to %s: %s in %.1f s (%s/s), %s fetched",
	       show_safe(res->what, what, sizeof(what)), res->target, tot, s->seconds, rate,
	       fetched);
	if (s->chunks_total)
		printf(", %llu of %llu chunks fetched, %llu empty",
		       (unsigned long long)s->chunks_fetched, (unsigned long long)s->chunks_total,
		       (unsigned long long)s->chunks_zero);
	putchar('\n');
}

int cmd_restore(int argc, char **argv)
{
	struct restore_args a = { .q.confirm = cmd_confirm_target };
	struct restore_result res;
	int r = restore_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.ctx = &a.yes;
	a.q.from = argv[optind];
	a.q.name = argc - optind == 2 ? argv[optind + 1] : NULL;
	show_start(a.progress, NULL);
	if ((r = restore_run(&a.q, &res)) < 0)
		return cmd_fail("%s", err_text(r));
	restore_report(&a, &res);
	return 0;
}
