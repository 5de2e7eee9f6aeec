/* Restoring a disk: from an image in a repository, a bare casync index, or a
 * raw image. restore_run() is the whole sequence a command or a screen asks
 * for (the image, the target and its safety checks, the confirmation, the
 * writing, the read-back); the rest are its stages. Progress and notices go
 * out as events (core/event.h). */
#ifndef MULETTO_ENGINE_RESTORE_H
#define MULETTO_ENGINE_RESTORE_H

#include <stdint.h>

#include "muletto/disk/target.h"
#include "muletto/format/caibx.h"
#include "muletto/format/manifest.h"
#include "muletto/layout/plan.h"

struct restore_opts {
	int threads;	  /* parallel fetches; 0: automatic */
	int no_seed;	  /* fetch every chunk, even those the target already holds */
	const char *seed; /* another local copy to take chunks from (--seed) */
	int verify;	  /* read every chunk back after writing */
};

struct restore_stats {
	uint64_t bytes_total, bytes_written, bytes_fetched;
	uint64_t chunks_total, chunks_fetched, chunks_seeded, chunks_zero;
	double seconds;
};

struct restore_request {
	const char *from;  /* REPO, INDEX.caibx or IMAGE-URL (.img, .img.zst) */
	const char *name;  /* the image in REPO; NULL: from is an index or a raw image */
	const char *store; /* the chunk store of a bare index */
	const char *to;	   /* DEVICE, FILE or "auto" */
	int disk;	   /* the image's disk */
	const char *trust; /* only images signed by this key (default: repo_default_trust) */
	struct restore_opts o;
	/* Called once the image and the target are known, before anything is
	 * written; need is the image's size (0 for a raw image: not known yet).
	 * 0 to go on, or a negative code with a message (not confirmed). NULL:
	 * no question. */
	int (*confirm)(void *ctx, const char *target, uint64_t need);
	void *ctx;
	/* Onto a disk of another size or sector size, or with layout set: the
	 * partitions are placed by a plan (layout/plan.h), shown through
	 * show_plan before the question. layout: auto (NULL), same, grow-last,
	 * proportional. plan_only: show it and write nothing. */
	const char *layout;
	const struct plan_size *sizes; /* --layout FILE: sizes chosen by the technician */
	size_t nsizes;
	int plan_only;
	/* an LVM physical volume that grows: its volume group's last logical
	 * volume takes the free room, its file system grown (--grow-lv); else
	 * the room stays free in the volume group */
	int grow_lv;
	/* the firmware the restored system will boot with: "uefi", "bios";
	 * NULL: the one this machine booted with. When it is not the one the
	 * image's machine booted with, the image's first disk gets the boot
	 * partition it needs (plan_add_boot) */
	const char *firmware;
	void (*show_plan)(void *ctx, const char *target, const struct plan *pl,
			  const struct manifest_disk *d);
};

#define RESTORE_FIT_MAX 128

/* --to auto: the disk picked, said as a STATE event ("target") whose message
 * is this text followed by the disk's path, before anything is written (the
 * job's record shows the disk instead of "auto"). */
#define RESTORE_AUTO_PICKED "--to auto chose "

/* What became of a partition's file system after a layout change. */
struct restore_fit {
	int number;
	char action[16];   /* "grow", "shrink", "rebuild"; "grow-lv": the last logical volume */
	char verdict[64];  /* its checker's: "clean (e2fsck -f -n)" */
	double seconds;
};

struct restore_result {
	char what[300];	  /* "web01 disk0", or the index's or image's name */
	char target[256]; /* what was written ("auto": the disk picked) */
	struct restore_stats st;
	int laid_out;	  /* placed by a plan (below), not byte for byte */
	int planned_only; /* --plan-only: nothing was written */
	size_t nfits;
	struct restore_fit fits[RESTORE_FIT_MAX];
	double fit_seconds; /* table and file systems, after the data */
	/* How the machine and disk written to differ from the captured ones
	 * (machine_differs, and "disk size or sector size" when laid out): what
	 * makes a fix-up worth running. "" when they do not, or not known. */
	char differs[256];
};

/* The whole restore. On failure after writing began, the message says that
 * the target holds a partly restored image and what to do. */
int restore_run(const struct restore_request *q, struct restore_result *res);

/* The stages. store_url: a path or URL of a casync chunk store (folder of
 * XXXX/<id>.cacnk). The target must be open and at least caibx_blob_size(idx)
 * bytes. image/disk name the work in its events. */
int restore_index(const struct caibx *idx, const char *store_url, struct target *t,
		  const struct restore_opts *o, const char *image, int disk,
		  struct restore_stats *st);

/* Flushes the target, drops it from the page cache and reads every chunk back,
 * comparing it with its id: what the disk returns, not what the cache holds. */
int restore_verify(const struct caibx *idx, struct target *t, const char *image, int disk);

/* A raw disk image (.img, or .img.zst / .zst compressed with zstd) at a path
 * or URL, streamed to target_path (which is opened with the usual checks once
 * the image's size is known). */
int restore_raw(const char *url, const char *target_path, const struct restore_opts *o,
		struct restore_stats *st);

/* A restore placed by a plan, when q and the target call for one: 0 with
 * *done 0 when they do not (the plain restore follows). m: the whole image
 * (an MD member is resized only when its array has no other member in it). */
int restore_layout(const struct restore_request *q, struct restore_result *res,
		   const struct manifest *m, const struct manifest_disk *d, const struct caibx *idx,
		   const char *store, const char *image, int *done);

/* r, with the message saying that target now holds a partly restored image
 * and what to do: for a failure once writing began. */
int restore_partly(int r, const char *target);

/* Bytes of an index's chunks that are not all zero (what a file target must
 * find room for). */
uint64_t restore_data_bytes(const struct caibx *idx);

#endif
