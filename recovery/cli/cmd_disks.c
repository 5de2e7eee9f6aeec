/* muletto disks [--json] [--sysroot DIR]: the technician's view of every disk. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cli/cmd.h"
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
	char size[32], flags[128];
	size_t i, k;

	printf("%-14s %9s  %-24s %-20s %-7s %-5s %s\n", "DEVICE", "SIZE", "MODEL", "SERIAL",
	       "BUS", "TABLE", "NOTES");
	for (i = 0; i < n; i++) {
		human_size(d[i].size, size, sizeof(size));
		snprintf(flags, sizeof(flags), "%s%s%s%s%s", d[i].is_boot ? "BOOT " : "",
			 d[i].in_use ? "IN USE " : "", d[i].read_only ? "read-only " : "",
			 d[i].removable ? "removable " : "", d[i].rotational ? "rotational" : "");
		printf("%-14s %9s  %-24.24s %-20.20s %-7s %-5s %s\n", d[i].dev, size,
		       d[i].model[0] ? d[i].model : "-", d[i].serial[0] ? d[i].serial : "-",
		       d[i].transport[0] ? d[i].transport : "-",
		       d[i].pt_type[0] ? d[i].pt_type : "-", flags);
		if (d[i].in_use)
			printf("%14s   in use: %s\n", "", d[i].in_use_why);
		for (k = 0; k < d[i].nparts; k++) {
			const struct disk_part *p = &d[i].parts[k];
			human_size(p->size, size, sizeof(size));
			printf("  %-12s %9s  %-8s %-16s %s\n", p->dev[0] ? p->dev : "-", size,
			       p->fs[0] ? p->fs : "-", p->label[0] ? p->label : "-",
			       gpt_type_name(p->type));
		}
	}
}

static json_t *disk_json(const struct disk_info *d)
{
	json_t *parts = json_array();
	size_t k;

	for (k = 0; k < d->nparts; k++) {
		const struct disk_part *p = &d->parts[k];
		json_array_append_new(
			parts, json_pack("{s:i, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
					 "s:s, s:b}",
					 "number", p->number, "device", p->dev, "start",
					 (json_int_t)p->start, "size", (json_int_t)p->size, "type",
					 p->type, "type_name", gpt_type_name(p->type), "name",
					 p->name, "uuid", p->uuid, "fs", p->fs, "label", p->label,
					 "fs_uuid", p->fs_uuid, "mountpoint", p->mountpoint,
					 "mounted_rw", p->mounted_rw));
	}
	return json_pack("{s:s, s:s, s:I, s:i, s:i, s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:s, "
			 "s:b, s:s, s:b, s:o}",
			 "name", d->name, "device", d->dev, "size", (json_int_t)d->size,
			 "logical_sector_size", (int)d->logical_sector_size,
			 "physical_sector_size", (int)d->physical_sector_size, "model", d->model,
			 "serial", d->serial, "transport", d->transport, "rotational",
			 d->rotational, "removable", d->removable, "read_only", d->read_only,
			 "partition_table", d->pt_type, "partition_table_uuid", d->pt_uuid,
			 "in_use", d->in_use, "in_use_why", d->in_use_why, "boot", d->is_boot,
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
	if (disk_list(sysroot, &d, &n) < 0)
		return cmd_fail("%s", err_msg());
	if (json) {
		json_t *arr = json_array(), *root;
		for (i = 0; i < n; i++)
			json_array_append_new(arr, disk_json(&d[i]));
		root = json_pack("{s:o}", "disks", arr);
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(root);
	} else if (n == 0) {
		printf("no disks found: check that the storage controller's driver is loaded\n");
	} else {
		disks_print_table(d, n);
	}
	disk_list_free(d, n);
	return 0;
}
