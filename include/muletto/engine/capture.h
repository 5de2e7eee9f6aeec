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

struct capture_opts {
	uint64_t chunk_size; /* fixed chunk size, power of two, CAPTURE_CHUNK_MIN..MAX */
	int level;	     /* zstd level, 1..19 */
	int threads;	     /* 0: one per CPU */
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

#endif
