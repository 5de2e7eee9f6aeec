/* Fix-ups: a restored system made to boot on the machine it landed on
 * (muletto fixup DISK, and restore by itself when the machine differs from
 * the captured one). Each operating system found on the disk gets a report:
 * what was found, what was changed (or, with --dry-run, would be), what was
 * already right, what could not be done and why. The same report is written
 * into the restored system (Linux: /var/log/muletto-fixup.log; Windows:
 * C:\muletto-fixup.txt) and goes into the restore's JSON result. */
#ifndef MULETTO_FIXUP_FIXUP_H
#define MULETTO_FIXUP_FIXUP_H

#include <stddef.h>

#define FIXUP_ITEMS_MAX 96
#define FIXUP_SYSTEMS_MAX 8

enum fixup_state {
	FIXUP_CHANGED, /* done */
	FIXUP_WOULD,   /* --dry-run: would be done */
	FIXUP_KEPT,    /* already right: nothing to do */
	FIXUP_FAILED,  /* tried, and it failed: detail says why and what to do */
	FIXUP_SKIPPED  /* not tried: detail says why */
};

struct fixup_item {
	enum fixup_state state;
	char what[160];	  /* "ControlSet001\\Services\\stornvme\\Start" */
	char detail[320]; /* "3 -> 0 (boot start)", or the reason */
};

/* One operating system on the disk and what fixup did to it. */
struct fixup_report {
	char kind[16];	      /* "linux", "windows" */
	char name[128];	      /* "Debian GNU/Linux 12 (bookworm)", "Windows 10 Pro" */
	char partition[64];   /* where it lives: "/dev/sdb2" or "disk.img partition 2" */
	char boot_mode[8];    /* how it booted when captured: "bios", "uefi", "" unknown */
	int refused;	      /* nothing could be changed: items say why */
	size_t n;
	struct fixup_item items[FIXUP_ITEMS_MAX];
};

/* What fixup is told about the machine it makes the system boot on. */
struct fixup_opts {
	int dry_run;	 /* print what would change; change nothing */
	int uefi;	 /* the machine boots UEFI (the muletto booted so), else BIOS */
	const char *nic_map; /* "--nic OLD=NEW[,OLD=NEW]" or NULL */
};

/* Adds an item to r (the last slot says that more were left out). */
void fixup_note(struct fixup_report *r, enum fixup_state state, const char *what,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *fixup_state_name(enum fixup_state s);

/* Finds the operating systems on the disk at path (a block device whose
 * partitions have device nodes: for an image file, `losetup -P` it first) and
 * fixes each one, its report in out[0..*n). The disk must not be in use and is
 * locked meanwhile. 0 when every system was fixed (or, dry run, could be);
 * -ENOENT with a message when no system is found; another negative code when a
 * fix failed (the reports say which). */
int fixup_disk(const char *path, const struct fixup_opts *o, struct fixup_report *out,
	       size_t max, size_t *n);

#endif
