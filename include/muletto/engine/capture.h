/* Capture: disks (or image files) into a repository's chunk store, with one
 * index per disk and the manifest last. capture_run() is the whole sequence;
 * capture_disk() one disk of it. Progress goes out as events. */
#ifndef MULETTO_ENGINE_CAPTURE_H
#define MULETTO_ENGINE_CAPTURE_H

#include <stdint.h>

#include "muletto/format/caibx.h"
#include "muletto/format/manifest.h"

#define CAPTURE_CHUNK_SIZE (1024 * 1024)
#define CAPTURE_CHUNK_MIN (64 * 1024)
#define CAPTURE_CHUNK_MAX (64 * 1024 * 1024)
#define CAPTURE_LEVEL_DEFAULT 3

/* What to do with a source that something may be writing to. */
enum capture_mode {
	CAPTURE_MODE_NONE = 0, /* refuse one mounted read-write, fail one that changes */
	CAPTURE_MODE_LIVE,     /* read it anyway (--live); the manifest says "live" */
	CAPTURE_MODE_SNAPSHOT, /* read a snapshot of it (--snapshot; disk/snapshot.h) */
};

struct capture_opts {
	uint64_t chunk_size; /* fixed chunk size, power of two, CAPTURE_CHUNK_MIN..MAX */
	int level;	     /* zstd level, 1..19 */
	int threads;	     /* 0: one per CPU */
	enum capture_mode mode;
};

struct capture_stats {
	uint64_t bytes_total, bytes_zero, bytes_stored;
	uint64_t chunks_total, chunks_new, chunks_zero;
	double seconds;
};

struct capture_request {
	char *const *devs; /* disks or image files: disk0, disk1, ... */
	int ndevs;
	const char *repo;  /* where to: a path or URL (a missing folder is made) */
	const char *name;  /* the image's name (repo_check_name) */
	const char *sign;  /* private key to sign the manifest with, or NULL */
	struct capture_opts o;
};

struct capture_result {
	char repo[512]; /* the repository, as messages name it */
	struct capture_stats st; /* summed over the disks */
};

/* The whole capture: refuses an existing image name, stores each disk's
 * chunks and index, then the signature and the manifest. */
int capture_run(const struct capture_request *q, struct capture_result *res);

/* One disk: reads path, stores every chunk missing from repo_url's store and
 * returns the index (caller frees). Fills the size, sector sizes, partitions,
 * model and serial of *d. image/disk name the work in its events. */
int capture_disk(const char *path, const char *repo_url, const struct capture_opts *o,
		 const char *image, int disk, struct manifest_disk *d, struct caibx **ret,
		 struct capture_stats *st);

/* ---- a source that may be in use (capture_check.c) ---- */

/* Before anything is read: refuses --snapshot where it cannot be taken, and,
 * without --live, a source with a file system mounted read-write on it (an
 * image file: on a loop device it backs), naming it and what to do. With
 * --live, the same is a notice. */
int capture_check_sources(const struct capture_request *q);

/* What a source looked like when reading began: a file's size and times, a
 * disk's size, its node's times and the writes the kernel has counted on it. */
struct capture_watch {
	int is_blk;
	uint64_t size;
	int64_t mtime_ns, ctime_ns; /* a disk's: of its device node */
	uint64_t writes;	    /* a disk's sectors written, when have_writes */
	int have_writes;
};

/* Takes the first look at the source open as fd (size bytes); a disk's
 * pending writes are flushed first, so they do not count as new ones. */
int capture_watch_start(int fd, uint64_t size, struct capture_watch *ret);
/* After every chunk is read: -EAGAIN with a message when the source changed
 * (a file's size or times; a disk's size, its first or last chunk read again
 * against idx, writes through its node, or writes that reached it). */
int capture_watch_check(const struct capture_watch *w, const char *path, int fd,
			const struct caibx *idx);

#endif
