/* muletto tui: the guided screens (ui/tui.h). The exit status tells the boot
 * environment what the technician chose last: 0 a shell, 10 reboot, 11 power
 * off. */
#include <getopt.h>
#include <stdio.h>

#include "muletto/cli/cmd.h"
#include "muletto/core/err.h"
#include "muletto/ui/tui.h"

#define TUI_STATUS_REBOOT 10
#define TUI_STATUS_POWEROFF 11

static const char tui_usage[] =
	"muletto tui [--ascii] [--no-network-changes]\n"
	"  the guided screens: network, repository, image, action, disk, confirmation,\n"
	"  progress, result; F2 opens a shell. Exit status: 0 a shell was chosen,\n"
	"  10 reboot, 11 power off. --ascii: lines drawn with + - | (a terminal that shows\n"
	"  letters or garbage where the boxes should be)";

int cmd_tui(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-network-changes", no_argument, NULL, 'n' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tui_opts o = { 0 };
	enum tui_exit x;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o.no_network_changes = 1; break;
		case 'a': o.ascii = 1; break;
		case 'h': printf("usage: %s\n", tui_usage); return 0;
		default: return cmd_usage(tui_usage);
		}
	}
	if (argc != optind)
		return cmd_usage(tui_usage);
	if ((r = tui_main(&o, &x)) < 0)
		return cmd_fail("%s", err_text(r));
	return x == TUI_EXIT_REBOOT ? TUI_STATUS_REBOOT :
	       x == TUI_EXIT_POWEROFF ? TUI_STATUS_POWEROFF : 0;
}
