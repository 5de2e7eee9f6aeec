/* Capture: a disk (or image file) into a repository's chunk store and index. */
#ifndef MULETTO_CAPTURE_H
#define MULETTO_CAPTURE_H

#include <stdint.h>

#include "muletto/caibx.h"
#include "muletto/manifest.h"
#include "muletto/progress.h"

#define CAPTURE_CHUNK_SIZE (1024 * 1024)

struct capture_opts {
	uint64_t chunk_size; /* fixed chunk size, power of two, 64 KiB..64 MiB */
	int level;	     /* zstd level */
	int threads;	     /* 0: one per CPU */
	enum progress_mode progress;
	const char *label;
};

struct capture_stats {
	uint64_t bytes_total, bytes_zero, bytes_stored;
	uint64_t chunks_total, chunks_new, chunks_zero;
	double seconds;
};

/* Reads the whole of path, stores every chunk missing from repo_url's store
 * and returns the index (caller frees). Fills the size, sector sizes,
 * partitions, model and serial of *d. */
int capture_disk(const char *path, const char *repo_url, const struct capture_opts *o,
		 struct manifest_disk *d, struct caibx **ret, struct capture_stats *st);

/* Firmware type and storage/network controllers of the running machine. */
int machine_describe(struct manifest *m);

#endif
