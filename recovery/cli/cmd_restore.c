/* muletto restore: from a repository image, a bare casync index, or a raw image. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/cli/show_fixup.h"
#include "muletto/cli/show_plan.h"
#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/machine.h"
#include "muletto/engine/restore.h"
#include "muletto/ui/job.h"

#define RESTORE_THREADS_MAX 256

static const char restore_usage[] =
	"muletto restore REPO NAME --to DEVICE|FILE|auto [--disk N] [--yes] [--json]\n"
	"       muletto restore REPO NAME --disk N=DEVICE|FILE [--disk M=...]... [--yes]\n"
	"       muletto restore IMAGE-URL --to DEVICE|FILE [--yes]   (.img, .img.zst)\n"
	"       muletto restore INDEX.caibx --store STORE --to DEVICE|FILE [--yes]\n"
	"  options: --seed FILE|DEVICE (take chunks from a local copy), --no-seed (fetch every\n"
	"  chunk), --verify (read the disk back), --trust PUBKEY (only images signed by it),\n"
	"  --threads N, --progress auto|bar|json|none,\n"
	"  --layout auto|same|grow-last|proportional|FILE (partitions on a disk of another\n"
	"  size; FILE: a plan from --plan-only --json with new_size edited),\n"
	"  --plan-only (show the plan, write nothing),\n"
	"  --grow-lv (an LVM physical volume that grows gives the room to its volume group's\n"
	"  last logical volume and its file system; without it the room stays free),\n"
	"  --firmware bios|uefi (the firmware the system will boot with, default this\n"
	"  machine's: the first disk gets the ESP or BIOS boot partition it then needs),\n"
	"  --no-fixup (do not make the restored system boot on this machine: by default\n"
	"  muletto fixup runs when the machine or the disk differs from the captured one)";

#define RESTORE_DISKS_MAX 64
#define RESTORE_SIZES_MAX 128

struct restore_args {
	int yes; /* first: cmd_confirm_target takes the context as an int */
	int json;
	size_t ndisks; /* --disk N=TARGET, one restore each */
	int disks[RESTORE_DISKS_MAX];
	const char *targets[RESTORE_DISKS_MAX];
	enum show_mode progress;
	int no_fixup;
	struct restore_request q;
};

/* A size in a layout file: bytes, or a string with K, M, G or T (binary). */
static int restore_size_value(json_t *v, uint64_t *ret)
{
	const char *s = json_string_value(v);
	char *end = NULL;
	double n;
	int shift = 0;

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*ret = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!s || !(n = strtod(s, &end)) || n < 0 || end == s)
		return -EINVAL;
	switch (*end) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 0: break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	*ret = (uint64_t)(n * (double)(1ULL << shift));
	return 0;
}

/* --layout POLICY, or --layout FILE: a plan as --plan-only --json prints it
 * ({"plan": {"partitions": [{"number": 2, "new_size": ...}]}}) with the sizes
 * edited, or just {"partitions": [{"number": 2, "size": "40G"}]}. */
static int restore_layout_option(struct restore_args *a, const char *arg)
{
	static struct plan_size sizes[RESTORE_SIZES_MAX];
	json_error_t e;
	json_t *root, *parts, *p;
	size_t i, n = 0;

	if (plan_policy_parse(arg, &(enum plan_policy){ 0 }) == 0) {
		a->q.layout = arg;
		return 0;
	}
	if (access(arg, F_OK) < 0)
		return cmd_bad_option("--layout %s: use auto, same, grow-last or proportional, or "
				      "name a layout file", arg);
	if (!(root = json_load_file(arg, 0, &e)))
		return cmd_bad_option("--layout %s: not a layout (line %d: %s)", arg, e.line, e.text);
	parts = json_object_get(json_object_get(root, "plan") ?: root, "partitions");
	json_array_foreach(parts, i, p) {
		json_t *num = json_object_get(p, "number"), *sz = json_object_get(p, "new_size");
		const char *act = json_string_value(json_object_get(p, "action"));
		if (act && !strcmp(act, "create"))
			continue; /* an ESP or BIOS boot partition: the plan makes it again */
		if (!sz)
			sz = json_object_get(p, "size");
		if (!json_is_integer(num) || n == RESTORE_SIZES_MAX ||
		    restore_size_value(sz, &sizes[n].size) < 0) {
			json_decref(root);
			return cmd_bad_option("--layout %s: partition %zu needs a \"number\" and a "
					      "\"new_size\" (bytes, or \"40G\")", arg, i + 1);
		}
		sizes[n++].number = (int)json_integer_value(num);
	}
	json_decref(root);
	if (!n)
		return cmd_bad_option("--layout %s: no partitions in it", arg);
	a->q.sizes = sizes;
	a->q.nsizes = n;
	a->q.layout = arg;
	return 0;
}

/* --disk N, or --disk N=TARGET (several: each disk of the image onto its own target). */
static int restore_disk_option(struct restore_args *a, char *arg)
{
	char *eq = strchr(arg, '=');
	int n;

	if (eq)
		*eq = 0;
	if (parse_int(arg, 0, INT32_MAX, &n) < 0 || (eq && !eq[1]))
		return cmd_bad_option("--disk %s%s%s: give the disk's number (0, 1, ...) as 'muletto "
				      "ls' shows it, or NUMBER=TARGET", arg, eq ? "=" : "",
				      eq ? eq + 1 : "");
	if (!eq) {
		a->q.disk = n;
		return 0;
	}
	if (a->ndisks == RESTORE_DISKS_MAX)
		return cmd_bad_option("--disk: at most %d disks in one restore", RESTORE_DISKS_MAX);
	for (size_t i = 0; i < a->ndisks; i++)
		if (a->disks[i] == n || !strcmp(a->targets[i], eq + 1))
			return cmd_bad_option("--disk %d=%s: %s named twice", n, eq + 1,
					      a->disks[i] == n ? "that disk is" : "that target is");
	a->disks[a->ndisks] = n;
	a->targets[a->ndisks++] = eq + 1;
	return 0;
}

static int restore_parse(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 'o' },	   { "store", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },  { "yes", no_argument, NULL, 'y' },
		{ "json", no_argument, NULL, 'j' },	   { "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ "seed", required_argument, NULL, 'S' },  { "no-seed", no_argument, NULL, 'N' },
		{ "verify", no_argument, NULL, 'V' },	   { "trust", required_argument, NULL, 'T' },
		{ "layout", required_argument, NULL, 'L' }, { "plan-only", no_argument, NULL, 'P' },
		{ "grow-lv", no_argument, NULL, 'G' },	   { "no-fixup", no_argument, NULL, 'F' },
		{ "firmware", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "o:s:d:yj", opts, NULL)) != -1) {
		switch (c) {
		case 'o': a->q.to = optarg; break;
		case 's': a->q.store = optarg; break;
		case 'd':
			if ((r = restore_disk_option(a, optarg)))
				return r;
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
		case 'L':
			if ((r = restore_layout_option(a, optarg)))
				return r;
			break;
		case 'P': a->q.plan_only = 1; break;
		case 'F': a->no_fixup = 1; break;
		case 'G': a->q.grow_lv = 1; break;
		case 'f':
			if (strcmp(optarg, "bios") && strcmp(optarg, "uefi"))
				return cmd_bad_option("--firmware %s: use bios or uefi", optarg);
			a->q.firmware = optarg;
			break;
		case 'h': printf("usage: %s\n", restore_usage); return -1;
		default: return cmd_usage(restore_usage);
		}
	}
	if (a->ndisks && a->q.to)
		return cmd_bad_option("--to and --disk N=TARGET: name each disk's target with "
				      "--disk N=TARGET only");
	if (a->ndisks && argc - optind != 2)
		return cmd_bad_option("--disk N=TARGET needs an image of a repository (REPO NAME)");
	if ((!a->q.to && !a->ndisks) || argc - optind < 1 || argc - optind > 2)
		return cmd_usage(restore_usage);
	if ((a->q.layout || a->q.plan_only) && argc - optind != 2)
		return cmd_bad_option("--layout and --plan-only need an image of a repository "
				      "(REPO NAME): only its manifest says where the partitions are");
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

static void restore_report(const struct restore_args *a, const struct restore_result *res,
			   json_t *fixup)
{
	const struct restore_stats *s = &res->st;
	char tot[32], fetched[32], rate[32], what[1200];

	if (res->planned_only) {
		if (!a->json)
			printf("plan only: nothing was written to %s\n", res->target);
		return;
	}
	if (a->json) {
		json_t *o = json_pack("{s:o, s:o}", "image", show_json_string(res->what), "target",
				      show_json_string(res->target));
		show_counts(o, s, restore_counts, ARRAY_SIZE(restore_counts), s->seconds);
		if (res->laid_out) {
			json_t *fits = json_array();
			for (size_t i = 0; i < res->nfits; i++)
				json_array_append_new(fits, json_pack("{s:i, s:s, s:s, s:f}", "number",
								      res->fits[i].number, "action",
								      res->fits[i].action, "verdict",
								      res->fits[i].verdict, "seconds",
								      res->fits[i].seconds));
			json_object_set_new(o, "layout", fits);
			json_object_set_new(o, "layout_seconds", json_real(res->fit_seconds));
		}
		if (res->differs[0])
			json_object_set_new(o, "differs", show_json_string(res->differs));
		if (fixup)
			json_object_set_new(o, "fixup", json_incref(fixup));
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
	if (res->laid_out)
		printf("partitions placed by the plan; table and file systems done in %.1f s\n",
		       res->fit_seconds);
}

/* muletto fixup on what was restored, when the machine or the disk differs
 * from the captured one: *js its report for the JSON result (or NULL). 0, or
 * the code of a fix-up that failed (the restore itself is done). */
static int restore_fixup(const struct restore_args *a, const struct restore_result *res,
			 json_t **js)
{
	struct fixup_opts o = { .uefi = a->q.firmware ? !strcmp(a->q.firmware, "uefi") :
						      machine_is_uefi() };
	struct fixup_report *reps;
	char why[ERR_MSG_MAX];
	struct stat st;
	size_t n = 0;
	int r;

	*js = NULL;
	if (a->no_fixup || !res->differs[0] || res->planned_only)
		return 0;
	if (stat(res->target, &st) < 0 || !S_ISBLK(st.st_mode)) {
		event_notice("this machine differs from the captured one (%s): to make the system "
			     "boot on it, attach %s (losetup -P --find --show) and run muletto "
			     "fixup on the loop device", res->differs, res->target);
		return 0;
	}
	if (!(reps = calloc(FIXUP_SYSTEMS_MAX, sizeof(*reps))))
		return -ENOMEM;
	event_notice("this machine differs from the captured one (%s): fixing up the restored "
		     "system (--no-fixup leaves it as it was)", res->differs);
	r = fixup_disk(res->target, &o, reps, FIXUP_SYSTEMS_MAX, &n);
	str_copy(why, sizeof(why), r < 0 ? err_msg() : "");
	if (r == -ENOENT && n == 0) { /* nothing to fix: a data disk */
		event_notice("fixup: %s", why);
		r = 0;
	}
	if (a->json)
		*js = show_fixup_json(reps, n, &o, r < 0 ? why : NULL);
	else if (n)
		show_fixup(reps, n, &o);
	free(reps);
	if (r < 0)
		err_set(r, "%s is restored, but the fix-up failed: %s; the report above says what "
			   "was done; fix the cause and run muletto fixup %s", res->target, why,
			res->target);
	return r;
}

static void restore_plan_shown(void *ctx, const char *target, const struct plan *pl,
			       const struct manifest_disk *d)
{
	const struct restore_args *a = ctx;
	char sz[32];
	size_t i;

	show_plan(a->q.name, target, pl, d, a->json);
	for (i = 0; i < pl->n && !a->json; i++) /* where a growing volume group's room goes */
		if (pl->p[i].action == PLAN_GROW && !strcmp(pl->p[i].src->fs, "LVM2_member")) {
			human_size(pl->p[i].new_size - pl->p[i].src->size, sz, sizeof(sz));
			printf("  partition %d: its volume group gains %s, %s\n", pl->p[i].src->number,
			       sz, a->q.grow_lv ? "given to its last logical volume (--grow-lv)" :
						  "left free (--grow-lv gives it to its last "
						  "logical volume)");
		}
}

/* The result, with the fix-up when one is due. */
static int restore_done(const struct restore_args *a, const struct restore_result *res,
			const char *which)
{
	json_t *fix = NULL;
	int r;

	if (!a->json) { /* what was restored, then what was fixed */
		restore_report(a, res, NULL);
		fflush(stdout);
	}
	r = restore_fixup(a, res, &fix);
	if (a->json)
		restore_report(a, res, fix);
	json_decref(fix);
	if (r < 0)
		return cmd_fail("%s%s%s", which ? which : "", which ? ": " : "", err_text(r));
	return 0;
}

/* The restore, one disk or each named disk in turn. */
static int restore_all(struct restore_args *a)
{
	struct restore_result res = { 0 };
	int r;

	if (!a->ndisks) {
		r = restore_run(&a->q, &res);
		job_restore_result(cmd_job_current(), &res, r, a->q.to);
		if (r < 0)
			return cmd_fail("%s", err_text(r));
		return restore_done(a, &res, NULL);
	}
	/* each disk of the image onto its target, each planned, one after another */
	for (size_t i = 0; i < a->ndisks; i++) {
		a->q.disk = a->disks[i];
		a->q.to = a->targets[i];
		r = restore_run(&a->q, &res);
		job_restore_result(cmd_job_current(), &res, r, a->targets[i]);
		if (r < 0)
			return cmd_fail("disk %d onto %s: %s%s", a->disks[i], a->targets[i], err_text(r),
					i ? " (the disks before it are restored)" : "");
		if ((r = restore_done(a, &res, a->targets[i])))
			return r;
	}
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	struct restore_args a = { .q.confirm = cmd_confirm_target, .q.show_plan = restore_plan_shown };
	int r = restore_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.ctx = &a;
	a.q.from = argv[optind];
	a.q.name = argc - optind == 2 ? argv[optind + 1] : NULL;
	show_start(a.progress, NULL);
	if (a.q.plan_only)
		return restore_all(&a);
	cmd_job_begin("restore", a.q.from, a.q.name, a.q.to ? a.q.to : "several disks");
	r = restore_all(&a);
	job_restore_record(cmd_job_current(), a.q.from, a.q.name, r == 0, cmd_last_error());
	return cmd_job_end(r);
}
