/* muletto fixup DISK: a restored system made to boot on this machine. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/cli/show_fixup.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/machine.h"
#include "muletto/fixup/fixup.h"
#include "muletto/fixup/nic.h"

static const char fixup_usage[] =
	"muletto fixup DISK [--dry-run] [--firmware bios|uefi] [--nic OLD=NEW[,OLD=NEW]] [--json]\n"
	"  finds the operating systems on DISK and makes them boot on this machine:\n"
	"  disk names in fstab and GRUB, the initramfs's storage drivers, the boot loader\n"
	"  for the firmware (default: the one muletto booted with), the boot entry;\n"
	"  --dry-run prints what would change and changes nothing; --nic maps the old\n"
	"  machine's network cards (names or MACs) onto this one's (default: by MAC, then\n"
	"  in order)";

int cmd_fixup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "firmware", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "nic", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fixup_opts o = { .uefi = machine_is_uefi() };
	struct fixup_report *reps;
	char why[ERR_MSG_MAX];
	size_t n = 0;
	int c, r, json = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o.dry_run = 1; break;
		case 'f':
			if (strcmp(optarg, "bios") && strcmp(optarg, "uefi"))
				return cmd_bad_option("--firmware %s: use bios or uefi", optarg);
			o.uefi = !strcmp(optarg, "uefi");
			break;
		case 'j': json = 1; break;
		case 'N': {
			struct nic_pair map[NIC_PAIRS_MAX];
			size_t nmap;
			if (nic_map_parse(optarg, map, NIC_PAIRS_MAX, &nmap) < 0)
				return cmd_bad_option("%s", err_msg());
			o.nic_map = optarg;
			break;
		}
		case 'h': printf("usage: %s\n", fixup_usage); return 0;
		default: return cmd_usage(fixup_usage);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(fixup_usage);
	if (!(reps = calloc(FIXUP_SYSTEMS_MAX, sizeof(*reps))))
		return cmd_fail("out of memory");
	show_start(SHOW_AUTO, stderr);
	r = fixup_disk(argv[optind], &o, reps, FIXUP_SYSTEMS_MAX, &n);
	str_copy(why, sizeof(why), r < 0 ? err_text(r) : "");
	if (json) {
		show_json_line(show_fixup_json(reps, n, &o, r < 0 ? why : NULL));
	}
	else if (n)
		show_fixup(reps, n, &o);
	free(reps);
	if (r < 0)
		return cmd_fail("%s", why);
	return 0;
}
