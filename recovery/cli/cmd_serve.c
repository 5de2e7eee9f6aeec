/* muletto serve REPO NAME --nbd unix:PATH|tcp:ADDR:PORT [--to TARGET | --cow ram|FILE] */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/serve.h"

#define SERVE_THREADS_MAX 64

static const char serve_usage[] =
	"muletto serve REPO NAME --nbd unix:PATH|tcp:ADDR:PORT [--disk N]\n"
	"  [--to DEVICE|FILE [--state FILE] [--yes] | --cow ram|FILE] [--allow-remote]\n"
	"  [--trust PUBKEY] [--threads N] [--json] [--progress auto|bar|json|none]\n"
	"  --to: writes land there and the rest arrives in the background; --cow: writes are\n"
	"  thrown away at the end; neither: read-only";

static volatile sig_atomic_t serve_stop;

static void serve_on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

struct serve_args {
	int yes, json;
	enum show_mode progress;
	struct serve_request q;
};

static int serve_option(struct serve_args *a, int c, const char *arg)
{
	switch (c) {
	case 'n': a->q.nbd = arg; return 0;
	case 'o': a->q.o.to = arg; return 0;
	case 'c': a->q.o.cow = arg; return 0;
	case 's': a->q.o.state = arg; return 0;
	case 'T': a->q.o.trust = arg; return 0;
	case 'R': a->q.allow_remote = 1; return 0;
	case 'y': a->yes = 1; return 0;
	case 'j': a->json = 1; return 0;
	case 'd': return cmd_int_option("--disk", arg, 0, INT32_MAX, &a->q.o.disk);
	case 't': return cmd_int_option("--threads", arg, 1, SERVE_THREADS_MAX, &a->q.o.threads);
	case 'p': return show_mode_parse(arg, &a->progress) < 0 ? cmd_bad_option("%s", err_msg()) : 0;
	default: return cmd_usage(serve_usage);
	}
}

static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "nbd", required_argument, NULL, 'n' },   { "to", required_argument, NULL, 'o' },
		{ "cow", required_argument, NULL, 'c' },   { "state", required_argument, NULL, 's' },
		{ "trust", required_argument, NULL, 'T' }, { "allow-remote", no_argument, NULL, 'R' },
		{ "yes", no_argument, NULL, 'y' },	   { "json", no_argument, NULL, 'j' },
		{ "disk", required_argument, NULL, 'd' },  { "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", serve_usage);
			return -1;
		}
		if ((r = serve_option(a, c, optarg)))
			return r;
	}
	if (argc - optind != 2 || !a->q.nbd)
		return cmd_usage(serve_usage);
	if (a->q.o.to && a->q.o.cow)
		return cmd_bad_option("--to and --cow: choose one (a target that keeps what the "
				      "client writes, or a layer thrown away at the end)");
	if (a->q.o.state && !a->q.o.to)
		return cmd_bad_option("--state goes with --to: it keeps the map of what has arrived "
				      "on the target");
	if (a->json && a->progress == SHOW_AUTO)
		a->progress = SHOW_NONE;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { .q.o.confirm = cmd_confirm_target };
	struct sigaction sa = { .sa_handler = serve_on_signal };
	int r = serve_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.repo = argv[optind];
	a.q.name = argv[optind + 1];
	a.q.o.ctx = &a.yes;
	show_start(a.progress, NULL);
	show_events_json(a.json);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a client that goes away is an error on its socket */
	cmd_job_begin("serve", a.q.repo, a.q.name, a.q.o.to);
	r = serve_run(&a.q, &serve_stop);
	return cmd_job_end(r < 0 ? cmd_fail("%s", err_text(r)) : 0);
}
