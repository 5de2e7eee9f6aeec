/* A layout plan: where each partition of an image's disk goes on a target of
 * another size or sector size, and what becomes of its file system, decided
 * before a byte is written.
 *
 * Policies: same (every partition where it was: the target must be large
 * enough), grow-last (the last data partition takes the room a larger disk
 * has; swap and the like after it move to the end), proportional (every data
 * partition grows in proportion to its size), auto (grow-last on a larger
 * disk, shrink on a smaller one: the partitions that have free space give it
 * up in proportion to it). New partitions start on 1 MiB boundaries; the
 * ESP, BIOS boot, MSR and swap partitions keep their sizes. */
#ifndef MULETTO_LAYOUT_PLAN_H
#define MULETTO_LAYOUT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/format/manifest.h"

#define PLAN_ALIGN (1024 * 1024)

enum plan_policy { PLAN_AUTO, PLAN_SAME, PLAN_GROW_LAST, PLAN_PROPORTIONAL };

enum plan_action {
	PLAN_COPY,   /* the same size: the bytes as they are */
	PLAN_GROW,   /* larger: the bytes, then the file system grown */
	PLAN_SHRINK, /* smaller: the file system shrunk, then its bytes */
	PLAN_REBUILD, /* made anew with the same identity (plan_made_from) */
	PLAN_CREATE   /* a partition the image has not: an ESP, a BIOS boot partition */
};

struct plan_part {
	const struct manifest_part *src;
	uint64_t new_start, new_size;
	enum plan_action action;
};

struct plan {
	uint64_t old_disk, new_disk;	/* bytes */
	uint32_t old_sector, new_sector; /* logical sector sizes */
	int identity;			/* nothing moves: a plain restore */
	size_t n;
	struct plan_part *p;		/* in the order of the image's partitions */
	struct manifest_part *made;	/* what a PLAN_CREATE partition's src points at */
};

/* A partition's size chosen by the technician (--layout FILE). */
struct plan_size {
	int number;
	uint64_t size; /* bytes */
};

int plan_policy_parse(const char *s, enum plan_policy *ret);
/* The plan for d onto a disk of size bytes with sectors of sector bytes
 * (0: the image's). -ENOSPC with a message giving the numbers (which
 * partition, how much data, how much room) when it cannot fit. */
int plan_make(const struct manifest_disk *d, uint64_t size, uint32_t sector,
	      enum plan_policy policy, struct plan **ret);
/* The plan with the sizes the technician chose for some partitions (the
 * others keep theirs), in their order from the first one's start, 1 MiB
 * aligned. Refused with the numbers when a size is below what its file system
 * needs, asks a file system to change that cannot, or when they do not fit. */
int plan_make_sized(const struct manifest_disk *d, uint64_t size, uint32_t sector,
		    const struct plan_size *want, size_t nwant, struct plan **ret);
/* What a partition made anew (PLAN_REBUILD) is made from: nothing (swap:
 * mkswap), its files read from its bytes in place (a FAT for sectors of
 * another size), or its files read from its bytes kept whole outside the
 * target (an XFS onto a smaller partition: it cannot shrink). */
enum plan_source { PLAN_FROM_NOTHING, PLAN_FROM_PLACE, PLAN_FROM_COPY };
enum plan_source plan_made_from(const struct plan_part *p);
/* The least disk, in bytes, a plan for d can fit: every partition at the
 * least its file system allows (--to auto with --layout picks by it). */
uint64_t plan_least(const struct manifest_disk *d);
void plan_free(struct plan *p);

/* A boot partition the firmware of the new machine needs and the image's disk
 * has not: an ESP for a UEFI boot of a system that booted BIOS, a BIOS boot
 * partition (GPT only: on MBR, GRUB lives in the gap) for the reverse.
 *
 * The ESP is 260 MiB: FAT32 needs at least 65525 clusters, which with 4 KiB
 * sectors (a 4Kn disk, one sector a cluster) is 256 MiB plus its FATs, so
 * this is the least size that is FAT32 on any disk, the one Windows makes on
 * 4Kn disks, and a plan stays the same for both sector sizes. The BIOS boot
 * partition is 1 MiB, aligned, where GRUB's core.img goes. */
enum plan_boot { PLAN_BOOT_NONE, PLAN_BOOT_ESP, PLAN_BOOT_BIOS };
#define PLAN_ESP_SIZE (260ULL * 1024 * 1024)
#define PLAN_BIOS_BOOT_SIZE ((uint64_t)PLAN_ALIGN)
#define PLAN_ESP_TYPE_GPT "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define PLAN_ESP_TYPE_MBR "0xef"
#define PLAN_BIOS_BOOT_TYPE "21686148-6449-6E6F-744E-656564454649"

/* What d needs to boot a machine with firmware now ("uefi", "bios") when
 * the image's machine booted with firmware was: an ESP (UEFI, d has none), a
 * BIOS boot partition (BIOS, d is GPT and has none), or nothing. */
enum plan_boot plan_boot_needed(const struct manifest_disk *d, const char *was, const char *now);
/* Adds the partition to pl (d's plan), its number the first free one: in
 * the gap before the first partition when it fits there, else in the room
 * after the last, else in room a growing partition gives back, else in room
 * the last data partition whose file system can shrink gives up. -ENOSPC
 * with the numbers when none can (an MBR with its four primary slots taken:
 * -ENOSPC, saying so); pl is then unchanged. */
int plan_add_boot(struct plan *pl, const struct manifest_disk *d, enum plan_boot kind);
const char *plan_boot_name(enum plan_boot kind);
const char *plan_action_name(enum plan_action a);

#endif
