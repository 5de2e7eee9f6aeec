/* What served.c, served_io.c and hydrate.c share: the served image's state. */
#ifndef MULETTO_SERVE_SERVED_INT_H
#define MULETTO_SERVE_SERVED_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "muletto/core/hash.h"
#include "muletto/disk/target.h"
#include "muletto/format/caibx.h"
#include "muletto/format/manifest.h"
#include "muletto/serve/chunkmap.h"
#include "muletto/serve/served.h"
#include "muletto/store/fetch.h"
#include "muletto/store/repo.h"

#define SERVED_FETCHERS_MAX 32
#define SERVED_AHEAD_MAX 32 /* chunks read ahead, at the widest */
#define SERVED_AHEAD_QUEUE 256
#define SERVED_CACHE_BYTES (64u << 20) /* chunks kept for reads without a target */
#define SERVED_CACHE_MAX 256

enum served_mode {
	SERVED_TARGET,	  /* hydrating a local target */
	SERVED_COW,	  /* client writes kept in a throw-away layer */
	SERVED_READ_ONLY, /* nothing written */
};

struct served {
	char name[300];
	enum served_mode mode;
	struct repo *repo;
	struct manifest *m;
	const struct manifest_disk *d;
	struct caibx *idx;
	enum hash_kind kind;
	struct target *t;  /* the target or the layer; NULL read-only */
	int blank;	   /* the target was known to be all zeros when opened */
	char *cow_path;	   /* a layer file to remove at the end */
	struct chunkmap *map;
	int map_fd;	   /* a state file of ours, or -1 */

	pthread_mutex_t pool_lock; /* guards pool and npool */
	struct fetcher *pool[SERVED_FETCHERS_MAX];
	size_t npool;
	int pool_closed;	   /* complete: the repository is no longer needed */

	/* without a target (cow, read-only): the chunks read last, so that small
	 * reads of one chunk fetch it once; guarded by cache_lock */
	pthread_mutex_t cache_lock;
	struct served_cached {
		size_t i;   /* the chunk, or (size_t)-1 */
		void *buf;
		uint64_t used; /* when it was last read */
	} cache[SERVED_CACHE_MAX];
	size_t ncache;
	uint64_t cache_clock;

	/* read-ahead: chunks the walk takes first; guarded by ahead_lock */
	pthread_mutex_t ahead_lock;
	size_t ahead[SERVED_AHEAD_QUEUE], ahead_head, ahead_tail;
	size_t last_read;	   /* the chunk read last, for sequential reads */
	size_t window;		   /* chunks read ahead now */

	/* the walk */
	int threads;
	pthread_t walkers[64], committer;
	int nwalkers, started;
	atomic_int stop;
	atomic_int client_busy;	   /* client requests being served */
	atomic_size_t cursor;	   /* where the walk goes on */
	atomic_int err;		   /* the walk's first failure */
	atomic_uint_fast64_t fetched;
	struct progress *prog;
};

/* served.c */
struct fetcher *served_fetcher_get(struct served *s);
void served_fetcher_put(struct served *s, struct fetcher *f);
size_t served_chunk_at(const struct served *s, uint64_t off);
int served_chunk_is_zero(const struct served *s, size_t i);
/* Brings claimed chunk i: zeros, what the target holds (seed), or fetched
 * and verified; its bytes are then in fetcher_buf(f) (not when seeded), and
 * on the target when write is set. */
int served_make_local(struct served *s, size_t i, struct fetcher *f, int seed, int write);
/* Data on the target durable (for the map's commits). */
int served_sync(void *ctx);

/* served_cache.c: copies the part [from, from+n) of chunk i out of the
 * cache: 1 when it was there. */
int served_cache_get(struct served *s, size_t i, void *dst, uint64_t from, size_t n);
void served_cache_put(struct served *s, size_t i, const void *buf);
void served_cache_free(struct served *s);

/* hydrate.c */
void served_read_ahead(struct served *s, size_t i);

#endif
