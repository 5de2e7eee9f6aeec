/* An image's disk served as a block device before it has arrived: reads of
 * chunks that are not local are fetched first (and verified), writes land on
 * the local target, and a background walk brings in the rest (hydration),
 * seeding from what the target holds. Or, with a copy-on-write layer instead
 * of a target, nothing is written but the client's own writes, thrown away at
 * the end. Or read-only, with neither.
 *
 * The map of local chunks (serve/chunkmap.h) lives in --state FILE, else next
 * to a file target (TARGET.muletto-map), else on a disk target just after the
 * image's end when the disk has room; a disk without room needs --state. */
#ifndef MULETTO_SERVE_SERVED_H
#define MULETTO_SERVE_SERVED_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/serve/nbd.h"

struct serve_opts {
	int disk;	   /* the image's disk */
	const char *to;	   /* the local target (disk or file), or NULL */
	const char *cow;   /* "ram" or a FILE: a throw-away layer for the client's writes */
	const char *state; /* where the chunk map lives (see above), or NULL */
	const char *trust; /* only images signed by this key (default: repo_default_trust) */
	int threads;	   /* background fetches; 0: 8 */
	/* Before the target is written, as restore asks: 0 to go on. NULL: no question. */
	int (*confirm)(void *ctx, const char *target, uint64_t need);
	void *ctx;
};

struct served;

/* Opens the image's disk and its target or layer; nothing is written yet
 * except the target's safety checks passed. */
int served_open(const char *repo, const char *name, const struct serve_opts *o,
		struct served **ret);
/* The NBD export of it (callbacks into s). */
void served_export(struct served *s, struct nbd_export *e);
/* Starts the background walk (with a target) and the commits of the map
 * every second. Reports op "hydrate" progress, and FINISHED when every chunk
 * is local. */
int served_start(struct served *s);
/* Stops the walk, commits the map, closes. Returns the first error. */
int served_close(struct served *s);
/* What it serves: "web01 disk0", its size, where it lives. */
const char *served_name(const struct served *s);
uint64_t served_size(const struct served *s);
/* The disk's logical sector size as captured (512 when not known). */
uint32_t served_sector_size(const struct served *s);
/* 1 once every chunk is local. */
int served_complete(struct served *s);
/* Where hydration stands. */
struct served_status {
	uint64_t local, total; /* bytes of the image on the target, of all */
	uint64_t fetched;      /* bytes that came over the network */
	const char *target;    /* NULL without one */
};
void served_status(struct served *s, struct served_status *ret);

#endif
