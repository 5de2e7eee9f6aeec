/* Which chunks of a served image are on the local target: absent, in flight
 * (being fetched, or written whole by the client) or local. A thread that
 * wants a chunk claims it; whoever else wants it waits until it is released.
 *
 * The set of local chunks is kept on stable storage in two alternating slots
 * (a sequence number and a SHA-256 make the newer whole one win), committed
 * only after the data it covers is durable: a crash or a power cut loses no
 * chunk that a commit said was local. */
#ifndef MULETTO_SERVE_CHUNKMAP_H
#define MULETTO_SERVE_CHUNKMAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum chunk_state { CHUNK_ABSENT = 0, CHUNK_INFLIGHT = 1, CHUNK_LOCAL = 2 };

struct chunkmap;

int chunkmap_new(size_t n, struct chunkmap **ret);
void chunkmap_free(struct chunkmap *m);

/* Bytes the two slots take for n chunks (a multiple of 4 KiB). */
uint64_t chunkmap_area(size_t n);
/* Keeps the map at offset off of fd from now on, and loads what a previous
 * run committed there. image: what the map belongs to (the index's SHA-256,
 * hex); a map of another image is refused (-ESTALE, with a message naming
 * where). where names the place in messages. */
int chunkmap_attach(struct chunkmap *m, int fd, uint64_t off, const char *image,
		    const char *where);
/* Makes the local set durable: a snapshot of it, then sync_data(ctx) (the
 * target's data on stable storage), then the slot. Without attach: only
 * sync_data. Serialised: one commit at a time. */
int chunkmap_commit(struct chunkmap *m, int (*sync_data)(void *ctx), void *ctx);

/* Claims chunk i: CHUNK_ABSENT means the caller now holds it (in flight) and
 * must release it; CHUNK_LOCAL means it is local. Waits while another holds it. */
enum chunk_state chunkmap_claim(struct chunkmap *m, size_t i);
/* Claims i only if it is absent, without waiting: 1 when claimed. */
int chunkmap_try_claim(struct chunkmap *m, size_t i);
/* Gives a claimed chunk back: local or still absent. */
void chunkmap_release(struct chunkmap *m, size_t i, int local);
enum chunk_state chunkmap_state(struct chunkmap *m, size_t i);
/* Chunks local, of all. */
size_t chunkmap_local(struct chunkmap *m);
size_t chunkmap_count(const struct chunkmap *m);
/* The first chunk at or after i that is absent, or the count when none is. */
size_t chunkmap_next_absent(struct chunkmap *m, size_t i);

#endif
