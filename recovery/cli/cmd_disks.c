/* muletto disks [--json] [--sysroot DIR]: the technician's view of every disk. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/disk/disk.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

static const char disks_usage[] = "muletto disks [--json] [--sysroot DIR]";

static const char *gpt_type_name(const char *guid)
{
	static const struct {
		const char *guid, *name;
	} types[] = {
		{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System" },
		{ "0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem" },
		{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap" },
		{ "e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM" },
		{ "a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID" },
		{ "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)" },
		{ "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data" },
		{ "e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved" },
		{ "de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery" },
		{ "21686148-6449-6e6f-744e-656564454649", "BIOS boot" },
		{ "0x83", "Linux" }, { "0x82", "Linux swap" }, { "0x8e", "Linux LVM" },
		{ "0xef", "EFI System" }, { "0x07", "NTFS/exFAT" }, { "0x0c", "FAT32 (LBA)" },
		{ "0x05", "Extended" }, { "0x0f", "Extended (LBA)" }, { "0xfd", "Linux RAID" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcasecmp(guid, types[i].guid))
			return types[i].name;
	return guid;
}

static void disks_print_table(const struct disk_info *d, size_t n)
{
	char size[32], flags[128], s1[4 * DISK_STR], s2[4 * DISK_STR], s3[4 * DISK_STR];
	size_t i, k;

	printf("%-14s %9s  %-24s %-20s %-7s %-5s %s\n", "DEVICE", "SIZE", "MODEL", "SERIAL",
	       "BUS", "TABLE", "NOTES");
	for (i = 0; i < n; i++) {
		human_size(d[i].size, size, sizeof(size));
		snprintf(flags, sizeof(flags), "%s%s%s%s%s", d[i].is_boot ? "BOOT " : "",
			 d[i].in_use ? "IN USE " : "", d[i].read_only ? "read-only " : "",
			 d[i].removable ? "removable " : "", d[i].rotational ? "rotational" : "");
		printf("%-14s %9s  %-24.24s %-20.20s %-7s %-5s %s\n", d[i].dev, size,
		       d[i].model[0] ? show_safe(d[i].model, s1, sizeof(s1)) : "-",
		       d[i].serial[0] ? show_safe(d[i].serial, s2, sizeof(s2)) : "-",
		       d[i].transport[0] ? d[i].transport : "-",
		       d[i].pt_type[0] ? d[i].pt_type : "-", flags);
		if (d[i].in_use)
			printf("%14s   in use: %s\n", "", show_safe(d[i].in_use_why, s1, sizeof(s1)));
		for (k = 0; k < d[i].nparts; k++) {
			const struct disk_part *p = &d[i].parts[k];
			human_size(p->size, size, sizeof(size));
			printf("  %-12s %9s  %-8s %-16s %s\n", p->dev[0] ? p->dev : "-", size,
			       p->fs[0] ? show_safe(p->fs, s1, sizeof(s1)) : "-",
			       p->label[0] ? show_safe(p->label, s2, sizeof(s2)) : "-",
			       show_safe(gpt_type_name(p->type), s3, sizeof(s3)));
		}
	}
}

/* Strings from disks (labels, models, serials) are shown as anything else from
 * outside: JSON strings, never broken UTF-8. */
#define J(x) show_json_string(x)

static json_t *disk_json(const struct disk_info *d)
{
	json_t *parts = json_array();
	size_t k;

	for (k = 0; k < d->nparts; k++) {
		const struct disk_part *p = &d->parts[k];
		json_array_append_new(
			parts, json_pack("{s:i, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
					 "s:o, s:b}",
					 "number", p->number, "device", J(p->dev), "start",
					 (json_int_t)p->start, "size", (json_int_t)p->size, "type",
					 J(p->type), "type_name", J(gpt_type_name(p->type)), "name",
					 J(p->name), "uuid", J(p->uuid), "fs", J(p->fs), "label",
					 J(p->label), "fs_uuid", J(p->fs_uuid), "mountpoint",
					 J(p->mountpoint), "mounted_rw", p->mounted_rw));
	}
	return json_pack("{s:o, s:o, s:I, s:i, s:i, s:o, s:o, s:o, s:b, s:b, s:b, s:o, s:o, "
			 "s:b, s:o, s:b, s:o}",
			 "name", J(d->name), "device", J(d->dev), "size", (json_int_t)d->size,
			 "logical_sector_size", (int)d->logical_sector_size,
			 "physical_sector_size", (int)d->physical_sector_size, "model", J(d->model),
			 "serial", J(d->serial), "transport", J(d->transport), "rotational",
			 d->rotational, "removable", d->removable, "read_only", d->read_only,
			 "partition_table", J(d->pt_type), "partition_table_uuid", J(d->pt_uuid),
			 "in_use", d->in_use, "in_use_why", J(d->in_use_why), "boot", d->is_boot,
			 "partitions", parts);
}

int cmd_disks(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "sysroot", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct disk_info *d = NULL;
	const char *sysroot = NULL;
	size_t n = 0, i;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': sysroot = optarg; break;
		case 'h': printf("usage: %s\n", disks_usage); return 0;
		default: return cmd_usage(disks_usage);
		}
	}
	if (optind != argc)
		return cmd_usage(disks_usage);
	if ((c = disk_list(sysroot, &d, &n)) < 0)
		return cmd_fail("%s", err_text(c));
	if (json) {
		json_t *arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, disk_json(&d[i]));
		show_json_pretty(json_pack("{s:o}", "disks", arr));
	} else if (n == 0) {
		printf("no disks found: check that the storage controller's driver is loaded\n");
	} else {
		disks_print_table(d, n);
	}
	disk_list_free(d, n);
	return 0;
}
