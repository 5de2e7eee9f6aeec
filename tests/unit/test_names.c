/* Unit tests: disk names of the machine a system came from, rewritten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/fixup/names.h"

static int split_is(const char *name, const char *disk, int part)
{
	char d[256];
	int p = -1;

	if (!names_split(name, d, sizeof(d), &p))
		return disk == NULL;
	return disk && !strcmp(d, disk) && p == part;
}

static void kernel_names_split_into_disk_and_number(void)
{
	CHECK(split_is("/dev/vda3", "/dev/vda", 3));
	CHECK(split_is("/dev/sdab12", "/dev/sdab", 12));
	CHECK(split_is("/dev/xvda1", "/dev/xvda", 1));
	CHECK(split_is("/dev/nvme0n1p2", "/dev/nvme0n1", 2));
	CHECK(split_is("/dev/mmcblk0p1", "/dev/mmcblk0", 1));
	CHECK(split_is("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part1",
		       "/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001", 1));
	CHECK(split_is("/dev/disk/by-path/pci-0000:00:04.0-part3", "/dev/disk/by-path/pci-0000:00:04.0", 3));
	CHECK(split_is("/dev/sda", NULL, 0));
	CHECK(split_is("/dev/nvme0n1", NULL, 0));
	CHECK(split_is("UUID=1234", NULL, 0));
	CHECK(split_is("/dev/mapper/vg-root", NULL, 0));
	CHECK(split_is("/dev/disk/by-uuid/1234-part1", NULL, 0));
	CHECK(split_is("/dev/sda0", NULL, 0));
}

static void the_root_disk_or_any_first_disk(void)
{
	char d[64];

	names_root_disk("/dev/vda3", d, sizeof(d));
	CHECK(!strcmp(d, "/dev/vda"));
	CHECK(names_partition(d, "/dev/vda2") == 2 && names_partition(d, "/dev/vdb1") == 0);
	names_root_disk("UUID=abc", d, sizeof(d));
	CHECK(d[0] == 0);
	CHECK(names_partition(d, "/dev/sda2") == 2 && names_partition(d, "/dev/nvme0n1p1") == 1);
	CHECK(names_partition(d, "/dev/sdb1") == 0);
}

static int resolve(void *ctx, int part, char *out, size_t n)
{
	(void)ctx;
	if (part == 9)
		return 0; /* a partition without a file system */
	snprintf(out, n, "UUID=u%d", part);
	return 1;
}

static void notes(void *ctx, const char *old, const char *now)
{
	char *log = ctx;

	snprintf(log + strlen(log), 512 - strlen(log), "%s>%s;", old, now);
}

static void fstab_is_rewritten_keeping_the_rest(void)
{
	const char *fstab = "# /etc/fstab\n"
			    "/dev/vda3  /          ext4  errors=remount-ro 0 1\n"
			    "/dev/vda2\t/boot/efi\tvfat\tumask=0077\t0 1\n"
			    "UUID=keep  /srv       xfs   defaults 0 2\n"
			    "/dev/vdb1  /data      ext4  defaults 0 2\n"
			    "/dev/vda9  /raw       ext4  defaults 0 2\n"
			    "#/dev/vda4 /old ext4 defaults 0 0\n"
			    "proc /proc proc defaults 0 0";
	char log[512] = "";
	int changed = -1;
	char *out = names_rewrite_table(fstab, 1, "/dev/vda", resolve, log, notes, &changed);

	CHECK(out && changed == 2);
	CHECK(out && !strcmp(out, "# /etc/fstab\n"
				  "UUID=u3  /          ext4  errors=remount-ro 0 1\n"
				  "UUID=u2\t/boot/efi\tvfat\tumask=0077\t0 1\n"
				  "UUID=keep  /srv       xfs   defaults 0 2\n"
				  "/dev/vdb1  /data      ext4  defaults 0 2\n"
				  "/dev/vda9  /raw       ext4  defaults 0 2\n"
				  "#/dev/vda4 /old ext4 defaults 0 0\n"
				  "proc /proc proc defaults 0 0"));
	CHECK(!strcmp(log, "/dev/vda3>UUID=u3;/dev/vda2>UUID=u2;"));
	free(out);
}

static void crypttab_names_its_device_second(void)
{
	int changed = 0;
	char *out = names_rewrite_table("cr_root /dev/sda3 none luks\n", 2, "", resolve, NULL,
					NULL, &changed);

	CHECK(out && changed == 1 && !strcmp(out, "cr_root UUID=u3 none luks\n"));
	free(out);
}

static void cmdline_root_and_resume(void)
{
	int changed = 0;
	char *out = names_rewrite_cmdline("console=ttyS0 root=/dev/vda3  resume=/dev/vda2 quiet",
					  "/dev/vda", resolve, NULL, NULL, &changed);

	CHECK(out && changed == 2);
	CHECK(out && !strcmp(out, "console=ttyS0 root=UUID=u3  resume=UUID=u2 quiet"));
	free(out);
	out = names_rewrite_cmdline("", "", resolve, NULL, NULL, &changed);
	CHECK(out && !strcmp(out, "") && changed == 0);
	free(out);
}

int main(void)
{
	RUN(kernel_names_split_into_disk_and_number);
	RUN(the_root_disk_or_any_first_disk);
	RUN(fstab_is_rewritten_keeping_the_rest);
	RUN(crypttab_names_its_device_second);
	RUN(cmdline_root_and_resume);
	CHECK_EXIT();
}
