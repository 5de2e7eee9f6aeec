/* Restoring a disk from a chunk index: every chunk fetched from the store,
 * verified against its id, decompressed and written at its offset. */
#ifndef MULETTO_RESTORE_H
#define MULETTO_RESTORE_H

#include <stdint.h>

#include "muletto/caibx.h"
#include "muletto/progress.h"
#include "muletto/target.h"

struct restore_opts {
	int threads; /* 0: automatic */
	int no_seed; /* fetch every chunk, even those the target already holds */
	const char *seed; /* another local copy to take chunks from (--seed) */
	int verify;	  /* read every chunk back after writing */
	enum progress_mode progress;
	const char *label; /* progress label, e.g. "restore web01 disk0" */
};

struct restore_stats {
	uint64_t bytes_total, bytes_written, bytes_fetched;
	uint64_t chunks_total, chunks_fetched, chunks_seeded, chunks_zero;
	double seconds;
};

/* store_url: a path or URL of a casync chunk store (folder of XXXX/<id>.cacnk).
 * The target must be open and at least caibx_blob_size(idx) bytes. */
int restore_index(const struct caibx *idx, const char *store_url, struct target *t,
		  const struct restore_opts *o, struct restore_stats *st);

/* Flushes the target, drops it from the page cache and reads every chunk back,
 * comparing it with its id: what the disk returns, not what the cache holds. */
int restore_verify(const struct caibx *idx, struct target *t, const struct restore_opts *o);

/* A raw disk image (.img, or .img.zst / .zst compressed with zstd) at a path
 * or URL, streamed to target_path (which is opened with the usual checks once
 * the image's size is known). */
int restore_raw(const char *url, const char *target_path, const struct restore_opts *o,
		struct restore_stats *st);

/* Bytes of an index's chunks that are not all zero (what a file target must
 * find room for). */
uint64_t restore_data_bytes(const struct caibx *idx);

#endif
