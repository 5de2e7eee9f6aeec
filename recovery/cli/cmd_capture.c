/* muletto capture DEVICE|FILE... REPO --name NAME [--json] [--live | --snapshot] */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/engine/capture.h"

#define CAPTURE_THREADS_MAX 256

static const char capture_usage[] =
	"muletto capture DEVICE|FILE... REPO --name NAME [--json] [--chunk-size BYTES] "
	"[--level N] [--threads N] [--progress auto|bar|json|none] [--sign KEY] "
	"[--live | --snapshot [--snapshot-size SIZE|N%]]";

/* Set by SIGINT, SIGTERM and SIGHUP: the capture stops at its next chunk and
 * removes its snapshots (a second signal kills at once). */
static volatile sig_atomic_t capture_stop;

static void capture_on_signal(int sig)
{
	(void)sig;
	capture_stop = 1;
}

/* A signal ignored by whoever started us (nohup, a shell's background job)
 * stays ignored. */
static void capture_catch(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigaction(sig, sa, NULL);
}

struct capture_args {
	int json;
	enum show_mode progress;
	struct capture_request q;
};

static int capture_chunk_size(const char *arg, uint64_t *ret)
{
	if (parse_u64(arg, CAPTURE_CHUNK_MIN, CAPTURE_CHUNK_MAX, ret) < 0 || (*ret & (*ret - 1)))
		return cmd_bad_option("--chunk-size %s: use a power of two from %d to %d", arg,
				      CAPTURE_CHUNK_MIN, CAPTURE_CHUNK_MAX);
	return 0;
}

/* --snapshot-size: 512M, 2G (K, M, G, T: binary, as LVM counts; "MiB" too),
 * a number of bytes, or N% of the volume. */
static int capture_snapshot_size(const char *arg, struct capture_opts *o)
{
	static const char units[] = "KMGT";
	size_t n = strspn(arg, "0123456789");
	const char *rest = arg + n, *u;
	char num[24];
	uint64_t v;
	int shift = 0;

	if (n == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, arg, n);
	num[n] = 0;
	if (!strcmp(rest, "%") && parse_int(num, 1, 100, &o->snapshot_percent) < 0)
		return cmd_bad_option("--snapshot-size %s: a share of the volume is from 1%% to "
				      "100%%", arg);
	if (!strcmp(rest, "%"))
		return 0;
	if (*rest && (u = strchr(units, toupper((unsigned char)*rest)))) {
		shift = 10 * (int)(u - units + 1);
		rest++;
		if (!strcasecmp(rest, "iB") || !strcasecmp(rest, "B"))
			rest += strlen(rest);
	}
	if (*rest || parse_u64(num, 1, UINT64_MAX >> shift, &v) < 0 || (v << shift) < (1 << 20))
		goto bad;
	o->snapshot_size = v << shift;
	return 0;
bad:
	return cmd_bad_option("--snapshot-size %s: give a size of 1 MiB or more (512M, 2G) or a "
			      "share of the volume (20%%)", arg);
}

static int capture_mode_option(struct capture_args *a, enum capture_mode mode)
{
	if (a->q.o.mode != CAPTURE_MODE_NONE && a->q.o.mode != mode)
		return cmd_bad_option("--live and --snapshot exclude each other: choose one");
	a->q.o.mode = mode;
	return 0;
}

static int capture_parse(int argc, char **argv, struct capture_args *a)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' },
		{ "sign", required_argument, NULL, 's' },
		{ "live", no_argument, NULL, 'L' },
		{ "snapshot", no_argument, NULL, 'S' },
		{ "snapshot-size", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	a->q.o.chunk_size = CAPTURE_CHUNK_SIZE;
	a->q.o.level = CAPTURE_LEVEL_DEFAULT;
	while ((c = getopt_long(argc, argv, "n:j", opts, NULL)) != -1 && r == 0) {
		switch (c) {
		case 'n': a->q.name = optarg; break;
		case 'j': a->json = 1; break;
		case 'c': r = capture_chunk_size(optarg, &a->q.o.chunk_size); break;
		case 'l': r = cmd_int_option("--level", optarg, 1, 19, &a->q.o.level); break;
		case 't':
			r = cmd_int_option("--threads", optarg, 1, CAPTURE_THREADS_MAX,
					   &a->q.o.threads);
			break;
		case 's': a->q.sign = optarg; break;
		case 'L': r = capture_mode_option(a, CAPTURE_MODE_LIVE); break;
		case 'S': r = capture_mode_option(a, CAPTURE_MODE_SNAPSHOT); break;
		case 'Z': r = capture_snapshot_size(optarg, &a->q.o); break;
		case 'p':
			if (show_mode_parse(optarg, &a->progress) < 0)
				r = cmd_bad_option("%s", err_msg());
			break;
		case 'h': printf("usage: %s\n", capture_usage); return -1;
		default: return cmd_usage(capture_usage);
		}
	}
	if (r)
		return r;
	if (argc - optind < 2 || !a->q.name)
		return cmd_usage(capture_usage);
	if ((a->q.o.snapshot_size || a->q.o.snapshot_percent) && a->q.o.mode != CAPTURE_MODE_SNAPSHOT)
		return cmd_bad_option("--snapshot-size goes with --snapshot: it is the room for what "
				      "is written to the volume while its snapshot is read");
	if (a->json && a->progress == SHOW_AUTO)
		a->progress = SHOW_NONE;
	return 0;
}

#define COUNT(f) { #f, offsetof(struct capture_stats, f) }
static const struct show_count capture_counts[] = {
	COUNT(bytes_total),  COUNT(bytes_zero), COUNT(bytes_stored),
	COUNT(chunks_total), COUNT(chunks_new), COUNT(chunks_zero),
};
#undef COUNT

static void capture_report(const struct capture_args *a, const struct capture_result *res)
{
	const struct capture_stats *s = &res->st;
	char tot[32], stored[32], zero[32];

	if (a->json) {
		json_t *o = json_pack("{s:s, s:o, s:i}", "name", a->q.name, "repo",
				      show_json_string(res->repo), "disks", a->q.ndevs);
		show_counts(o, s, capture_counts, ARRAY_SIZE(capture_counts), s->seconds);
		show_json_line(o);
		return;
	}
	human_size(s->bytes_total, tot, sizeof(tot));
	human_size(s->bytes_stored, stored, sizeof(stored));
	human_size(s->bytes_zero, zero, sizeof(zero));
	printf("captured '%s' into %s: %d disk(s), %s (%s empty), %llu chunks, %llu new "
	       "(%s stored), in %.1f s\n", a->q.name, res->repo, a->q.ndevs, tot, zero,
	       (unsigned long long)s->chunks_total, (unsigned long long)s->chunks_new, stored,
	       s->seconds);
}

int cmd_capture(int argc, char **argv)
{
	struct capture_args a = { 0 };
	struct sigaction sa = { .sa_handler = capture_on_signal,
				.sa_flags = SA_RESTART | SA_RESETHAND };
	struct capture_result res;
	int r = capture_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.devs = argv + optind;
	a.q.ndevs = argc - optind - 1;
	a.q.repo = argv[argc - 1];
	a.q.o.stop = &capture_stop;
	show_start(a.progress, NULL);
	capture_catch(SIGINT, &sa);
	capture_catch(SIGTERM, &sa);
	capture_catch(SIGHUP, &sa);
	cmd_job_begin("capture", a.q.repo, a.q.name, a.q.repo);
	if ((r = capture_run(&a.q, &res)) < 0)
		return cmd_job_end(cmd_fail("%s", err_text(r)));
	capture_report(&a, &res);
	return cmd_job_end(0);
}
