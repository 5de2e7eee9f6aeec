/* muletto: command dispatch. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/cred.h"
#include "muletto/core/util.h"

static const char usage_text[] =
	"usage: muletto COMMAND [OPTIONS]\n"
	"\n"
	"  disks [--json]                       list the disks of this machine\n"
	"  capture DEVICE|FILE... REPO --name NAME [--json] [--sign KEY]\n"
	"                                       store disks as an image in a repository\n"
	"  ls REPO [--json]                     list the images in a repository\n"
	"  restore REPO NAME --to DEVICE|FILE|auto [--disk N] [--yes] [--json] [--verify]\n"
	"          [--seed FILE|DEVICE] [--no-seed] [--trust PUBKEY]\n"
	"  restore IMAGE-URL --to DEVICE|FILE [--yes]        (raw .img or .img.zst)\n"
	"  restore INDEX.caibx --store STORE --to DEVICE|FILE [--yes]\n"
	"                                       write an image to a disk\n"
	"  verify REPO NAME                     check every chunk of an image\n"
	"  serve REPO NAME --nbd unix:PATH|tcp:ADDR:PORT [--to DEVICE|FILE | --cow ram|FILE]\n"
	"                                       an image's disk as a block device (NBD) at once\n"
	"  run REPO NAME --to DEVICE|FILE [--detach] [--net none|user] [--firmware uefi|bios]\n"
	"                                       the image as a VM, while its disks arrive\n"
	"  status [--json] | stop NAME [--force] | console NAME\n"
	"                                       the VMs muletto runs\n"
	"  mount REPO NAME [--disk N] [--partition P] [--foreground] DIR\n"
	"                                       a partition of an image, read-only at DIR\n"
	"  umount DIR                           ends a mount made by muletto mount\n"
	"  fixup DISK [--dry-run] [--firmware bios|uefi]\n"
	"                                       make a restored system boot on this machine\n"
	"  keygen FILE                          make a key pair for signing images\n"
	"  tui                                  the guided screens (restore step by step)\n"
	"\n"
	"REPO is a folder, or a file://, http://, https://, s3://, sftp://, smb://, nfs://,\n"
	"label:// or uuid:// URL.\n"
	"'muletto COMMAND --help' shows a command's options.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "disks", cmd_disks },	    { "capture", cmd_capture }, { "ls", cmd_ls },
		{ "restore", cmd_restore }, { "verify", cmd_verify },	{ "keygen", cmd_keygen },
		{ "serve", cmd_serve },	    { "run", cmd_run },		{ "status", cmd_status },
		{ "stop", cmd_stop },	    { "console", cmd_console }, { "mount", cmd_mount },
		{ "umount", cmd_umount },   { "fixup", cmd_fixup },	{ "tui", cmd_tui },
	};
	size_t i;
	int r;

	opterr = 0;
	show_start(SHOW_AUTO, NULL);
	cred_set_asker(cmd_ask_password, NULL);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("muletto %s\n", MULETTO_VERSION);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			r = cmd_check_environment();
			return r ? r : cmds[i].fn(argc - 1, argv + 1);
		}
	return cmd_bad_option("unknown command '%s'; run 'muletto --help' for the list", argv[1]);
}
