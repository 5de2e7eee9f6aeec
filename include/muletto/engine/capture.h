/* Capture: disks (or image files) into a repository's chunk store, with one
 * index per disk and the manifest last. capture_run() is the whole sequence;
 * capture_disk() one disk of it. Progress goes out as events. */
#ifndef MULETTO_ENGINE_CAPTURE_H
#define MULETTO_ENGINE_CAPTURE_H

#include <signal.h>
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
	CAPTURE_MODE_SNAPSHOT, /* read an LVM snapshot of it (--snapshot; disk/snapshot.h) */
};

struct capture_opts {
	uint64_t chunk_size; /* fixed chunk size, power of two, CAPTURE_CHUNK_MIN..MAX */
	int level;	     /* zstd level, 1..19 */
	int threads;	     /* 0: one per CPU */
	enum capture_mode mode;
	uint64_t snapshot_size; /* --snapshot-size in bytes, or */
	int snapshot_percent;	/* in percent of the volume; both 0: the default */
	/* When *stop becomes nonzero (a signal), the capture ends at the next
	 * chunk with -EINTR, its snapshots removed and no image stored. May be NULL. */
	const volatile sig_atomic_t *stop;
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
 * chunks and index, then the signature and the manifest. With --snapshot,
 * reads each source's snapshot, taken before the first byte and removed at the
 * end whatever happened; the manifest names the sources, not the snapshots. */
int capture_run(const struct capture_request *q, struct capture_result *res);

/* One disk: reads path, stores every chunk missing from repo_url's store and
 * returns the index (caller frees). Fills the size, sector sizes, partitions,
 * model and serial of *d. image/disk name the work in its events. */
int capture_disk(const char *path, const char *repo_url, const struct capture_opts *o,
		 const char *image, int disk, struct manifest_disk *d, struct caibx **ret,
		 struct capture_stats *st);

/* ---- a source that may be in use (capture_check.c) ---- */

/* Before anything is read: refuses --snapshot where it cannot be taken (a
 * source that is no LVM logical volume, a system without device-mapper or
 * lvm2), and,
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

/* ---- --snapshot (capture_snap.c) ---- */

struct snapshot;

/* One snapshot per source (q->ndevs of them, in *ret), all taken before any
 * is read: as close to one moment as LVM allows. On failure none is left. */
int capture_snapshots_take(const struct capture_request *q, struct snapshot **ret);
/* After the reading ended with r: a snapshot that overflowed turns r (0, or
 * the read error its loss caused) into -ENOSPC saying so; else r. */
int capture_snapshots_check(const struct capture_request *q, struct snapshot *s, int r);
/* Removes and frees them (NULL: nothing); one that cannot be removed is a
 * notice naming the command that removes it. Returns r, the capture's result,
 * with its message kept. */
int capture_snapshots_remove(const struct capture_request *q, struct snapshot *s, int r);

#endif
