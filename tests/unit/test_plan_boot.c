/* Layout plans: the boot partition a machine of the other firmware needs
 * (an ESP for BIOS -> UEFI, a BIOS boot partition for UEFI -> BIOS). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/layout/plan.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

static struct manifest_part parts[5];
static struct manifest_disk disk;

static void part(int i, int number, uint64_t start, uint64_t size, const char *fs,
		 const char *role, const char *type)
{
	parts[i] = (struct manifest_part){ .number = number, .start = start, .size = size };
	strcpy(parts[i].fs, fs);
	strcpy(parts[i].role, role);
	strcpy(parts[i].type, type);
}

/* A BIOS machine's GPT disk of 3 GiB, full: BIOS boot 1 MiB at 1 MiB, ext4
 * root 2 GiB at 2 MiB (1 GiB data, least root_min), swap 1021 MiB after it. */
static struct manifest_disk *bios_gpt(uint64_t root_min)
{
	memset(parts, 0, sizeof(parts));
	memset(&disk, 0, sizeof(disk));
	part(0, 1, MIB, MIB, "", "bios_boot", "21686148-6449-6e6f-744e-656564454649");
	part(1, 2, 2 * MIB, 2 * GIB, "ext4", "data", "0fc63daf-8483-4772-8e79-3d69d8477de4");
	parts[1].used = GIB;
	parts[1].min_size = root_min;
	part(2, 3, 2 * MIB + 2 * GIB, 1021 * MIB, "swap", "swap",
	     "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f");
	disk.size = 3 * GIB;
	disk.logical_sector_size = 512;
	strcpy(disk.pt_type, "gpt");
	disk.nparts = 3;
	disk.parts = parts;
	return &disk;
}

/* A UEFI machine's GPT disk of 3 GiB: ESP 100 MiB at first, ext4 root after it. */
static struct manifest_disk *uefi_gpt(uint64_t esp_start)
{
	memset(parts, 0, sizeof(parts));
	memset(&disk, 0, sizeof(disk));
	part(0, 1, esp_start, 100 * MIB, "vfat", "esp", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
	part(1, 2, esp_start + 100 * MIB, 2 * GIB, "ext4", "data",
	     "0fc63daf-8483-4772-8e79-3d69d8477de4");
	parts[1].used = GIB;
	parts[1].min_size = GIB + 100 * MIB;
	disk.size = 3 * GIB;
	disk.logical_sector_size = 512;
	strcpy(disk.pt_type, "gpt");
	disk.nparts = 2;
	disk.parts = parts;
	return &disk;
}

/* Every partition 1 MiB aligned, one after another, before the backup GPT. */
static int inside(const struct plan *p, uint64_t size)
{
	uint64_t end = MIB;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->p[i].new_start < end || p->p[i].new_start % MIB)
			return 0;
		end = p->p[i].new_start + p->p[i].new_size;
	}
	return end <= size - 33 * 512;
}

static void which_partition_a_firmware_needs(void)
{
	CHECK(plan_boot_needed(bios_gpt(0), "bios", "uefi") == PLAN_BOOT_ESP);
	CHECK(plan_boot_needed(bios_gpt(0), "bios", "bios") == PLAN_BOOT_NONE);
	CHECK(plan_boot_needed(bios_gpt(0), "unknown", "uefi") == PLAN_BOOT_NONE);
	CHECK(plan_boot_needed(uefi_gpt(MIB), "bios", "uefi") == PLAN_BOOT_NONE); /* has one */
	CHECK(plan_boot_needed(uefi_gpt(MIB), "uefi", "bios") == PLAN_BOOT_BIOS);
	CHECK(plan_boot_needed(bios_gpt(0), "uefi", "bios") == PLAN_BOOT_NONE); /* has one */
	strcpy(uefi_gpt(MIB)->pt_type, "dos"); /* MBR: GRUB lives in the gap */
	CHECK(plan_boot_needed(&disk, "uefi", "bios") == PLAN_BOOT_NONE);
}

static void esp_from_the_room_of_a_larger_disk(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(bios_gpt(GIB + 100 * MIB), 4 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_ESP) == 0);
	CHECK(p->n == 4 && inside(p, 4 * GIB));
	/* the root grows by what is left after the ESP; the ESP after it, swap at the end */
	CHECK(p->p[1].src->number == 2 && p->p[1].action == PLAN_GROW);
	CHECK(p->p[1].new_size == 3 * GIB - 260 * MIB);
	CHECK(p->p[2].action == PLAN_CREATE && p->p[2].src->number == 4);
	CHECK(p->p[2].new_start == 2 * MIB + p->p[1].new_size && p->p[2].new_size == 260 * MIB);
	CHECK(!strcmp(p->p[2].src->type, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
	CHECK(!strcmp(p->p[2].src->name, "EFI System") && !strcmp(p->p[2].src->fs, "vfat"));
	CHECK(p->p[3].action == PLAN_COPY && p->p[3].new_size == 1021 * MIB);
	CHECK(p->p[3].new_start == 3074 * MIB);
	CHECK(!strcmp(plan_action_name(p->p[2].action), "create") && !p->identity);
	plan_free(p);
	/* --layout same on a larger disk: the ESP in the room after the last partition */
	CHECK(plan_make(bios_gpt(GIB + 100 * MIB), 4 * GIB, 0, PLAN_SAME, &p) == 0);
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_ESP) == 0);
	CHECK(p->n == 4 && p->p[3].action == PLAN_CREATE && p->p[3].new_start == 3 * GIB - MIB);
	CHECK(p->p[1].action == PLAN_COPY && p->p[2].action == PLAN_COPY);
	plan_free(p);
}

static void esp_from_a_shrink_on_a_disk_of_the_same_size(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(bios_gpt(GIB + 100 * MIB), 3 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && p->identity);
	CHECK(plan_add_boot(p, &disk, PLAN_BOOT_ESP) == 0);
	CHECK(!p->identity && p->n == 4 && inside(p, 3 * GIB));
	/* the root gives 260 MiB; nothing else moves */
	CHECK(p->p[1].action == PLAN_SHRINK && p->p[1].new_size == 2 * GIB - 260 * MIB);
	CHECK(p->p[2].action == PLAN_CREATE && p->p[2].new_start == 2 * MIB + 2 * GIB - 260 * MIB);
	CHECK(p->p[3].action == PLAN_COPY && p->p[3].new_start == parts[2].start);
	CHECK(p->p[0].action == PLAN_COPY && p->p[0].new_start == MIB);
	plan_free(p);
}

static void no_room_for_an_esp_says_the_numbers(void)
{
	struct plan *p = NULL;

	CHECK(plan_make(bios_gpt(2 * GIB - 100 * MIB), 3 * GIB, 0, PLAN_AUTO, &p) == 0);
	err_clear();
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_ESP) == -ENOSPC);
	CHECK(!strcmp(err_msg(),
		      "the new machine's firmware needs an ESP (260 MiB) that image disk 0 has not, "
		      "and there is no room for one: the partitions end at 3.0 GiB, the disk has "
		      "room up to 3.0 GiB (1008 KiB free), and no partition can give up 260 MiB: "
		      "partition 1 (bios_boot) keeps its 1.0 MiB, partition 2 (ext4) can shrink "
		      "from 2.0 GiB to 1.9 GiB, partition 3 (swap) keeps its 1021 MiB; choose a "
		      "disk of at least 3.2 GiB, or boot the machine in BIOS (legacy) mode"));
	/* the plan is as it was */
	CHECK(p->n == 3 && p->identity && p->p[1].new_size == 2 * GIB && !p->made);
	plan_free(p);
}

static void mbr_with_four_primaries_is_refused(void)
{
	struct plan *p = NULL;
	size_t i;

	bios_gpt(0);
	strcpy(disk.pt_type, "dos");
	for (i = 0; i < 3; i++)
		sprintf(parts[i].type, "0x%x", i ? 0x83 : 0x82);
	part(3, 4, 3 * GIB - MIB, 100 * MIB, "ext4", "data", "0x83");
	disk.nparts = 4;
	CHECK(plan_make(&disk, 4 * GIB, 0, PLAN_SAME, &p) == 0);
	err_clear();
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_ESP) == -ENOSPC);
	CHECK(strstr(err_msg(), "its MBR table has all four primary partitions taken"));
	plan_free(p);
	/* three: the ESP is the fourth, type 0xef */
	disk.nparts = 3;
	CHECK(plan_make(&disk, 4 * GIB, 0, PLAN_SAME, &p) == 0);
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_ESP) == 0);
	CHECK(p->n == 4 && !strcmp(p->p[3].src->type, "0xef") && p->p[3].src->number == 4 &&
	      !p->p[3].src->name[0]);
	plan_free(p);
}

static void bios_boot_partition_in_the_gap(void)
{
	struct plan *p = NULL;

	/* the ESP starts at 2 MiB: the BIOS boot partition takes [1 MiB, 2 MiB) */
	CHECK(plan_make(uefi_gpt(2 * MIB), 3 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_BIOS) == 0);
	CHECK(p->n == 3 && p->p[0].action == PLAN_CREATE && p->p[0].new_start == MIB &&
	      p->p[0].new_size == MIB && p->p[0].src->number == 3);
	CHECK(!strcmp(p->p[0].src->type, "21686148-6449-6E6F-744E-656564454649"));
	CHECK(!strcmp(p->p[0].src->name, "BIOS boot partition") && !p->p[0].src->fs[0]);
	CHECK(p->p[1].action == PLAN_COPY && p->p[1].new_start == 2 * MIB);
	CHECK(p->p[2].action == PLAN_COPY && p->p[2].new_start == 102 * MIB);
	plan_free(p);
	/* the ESP at 1 MiB: no gap; the room after the root */
	CHECK(plan_make(uefi_gpt(MIB), 3 * GIB, 0, PLAN_AUTO, &p) == 0);
	CHECK(p && plan_add_boot(p, &disk, PLAN_BOOT_BIOS) == 0);
	CHECK(p->n == 3 && p->p[2].action == PLAN_CREATE &&
	      p->p[2].new_start == 101 * MIB + 2 * GIB && inside(p, 3 * GIB));
	CHECK(p->p[0].action == PLAN_COPY && p->p[1].action == PLAN_COPY);
	plan_free(p);
}

int main(void)
{
	RUN(which_partition_a_firmware_needs);
	RUN(esp_from_the_room_of_a_larger_disk);
	RUN(esp_from_a_shrink_on_a_disk_of_the_same_size);
	RUN(no_room_for_an_esp_says_the_numbers);
	RUN(mbr_with_four_primaries_is_refused);
	RUN(bios_boot_partition_in_the_gap);
	CHECK_EXIT();
}
