/* fixup_windows driven on a disk, for tests/integration/fixup_windows.sh
 * until muletto fixup calls it: every NTFS partition of DISK (as disk_probe
 * sees it) looked at, each report printed.
 *   fixup_win DISK [--dry-run] [--bios]   exit 0, 1 on a failure (message on
 *   stderr), 2 when no Windows was found, 3 when one was refused
 *   fixup_win --probe DISK                the name of each Windows found */
#include <stdio.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/disk/disk.h"
#include "muletto/fixup/report_text.h"
#include "muletto/fixup/win.h"

int main(int argc, char **argv)
{
	static struct fixup_report r;
	struct fixup_opts o = { .uefi = 1 };
	struct disk_info d = { 0 };
	const char *disk = NULL;
	int i, k, found = 0, refused = 0, probe = 0, rc = 0;
	char name[128];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			o.dry_run = 1;
		else if (!strcmp(argv[i], "--bios"))
			o.uefi = 0;
		else if (!strcmp(argv[i], "--probe"))
			probe = 1;
		else
			disk = argv[i];
	}
	if (!disk || disk_probe(NULL, disk, &d) < 0) {
		fprintf(stderr, "fixup_win: %s\n", disk ? err_msg() : "usage: fixup_win DISK");
		return 1;
	}
	for (i = 0; i < (int)d.nparts && rc == 0; i++) {
		if (strcmp(d.parts[i].fs, "ntfs") && strcasecmp(d.parts[i].fs, "BitLocker"))
			continue;
		k = probe ? fixup_windows_probe(&d.parts[i], name, sizeof(name))
			  : fixup_windows(&d, &d.parts[i], &o, &r);
		if (k < 0) {
			fprintf(stderr, "fixup_win: %s\n", err_msg());
			rc = 1;
		} else if (k == 1) {
			found++;
			if (probe) {
				printf("%s: %s\n", d.parts[i].dev, name);
			} else {
				fixup_report_text(stdout, &r);
				refused += r.refused;
			}
		}
	}
	disk_info_clear(&d);
	return rc ? rc : !found ? 2 : refused ? 3 : 0;
}
