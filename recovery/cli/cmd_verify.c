/* muletto verify REPO NAME: every chunk of every disk present and matching its id. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/engine/verify.h"

#define VERIFY_THREADS_MAX 256

static const char verify_usage[] =
	"muletto verify REPO NAME [--threads N] [--progress auto|bar|json|none]";

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum show_mode pm = SHOW_AUTO;
	struct verify_result res;
	char tot[32];
	int c, r, threads = 0;

	for (c = 1; c < argc; c++)
		if (!strcmp(argv[c], "--boot"))
			return cmd_verify_boot(argc, argv);

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((r = cmd_int_option("--threads", optarg, 1, VERIFY_THREADS_MAX,
						&threads)))
				return r;
			break;
		case 'p':
			if (show_mode_parse(optarg, &pm) < 0)
				return cmd_bad_option("%s", err_msg());
			break;
		case 'h': printf("usage: %s\n", verify_usage); return 0;
		default: return cmd_usage(verify_usage);
		}
	}
	if (argc - optind != 2)
		return cmd_usage(verify_usage);
	show_start(pm, stdout); /* each bad chunk is a line of the result */
	cmd_job_begin("verify", argv[optind], argv[optind + 1], NULL);
	if ((r = verify_image(argv[optind], argv[optind + 1], threads, &res)) < 0)
		return cmd_job_end(cmd_fail("%s", err_text(r)));
	human_size(res.bytes, tot, sizeof(tot));
	printf("image '%s' in %s is intact: %zu distinct chunks, %s, every one matches its id\n",
	       argv[optind + 1], res.repo, res.chunks, tot);
	return cmd_job_end(0);
}
