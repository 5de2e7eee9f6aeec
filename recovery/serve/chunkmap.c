/* The chunk map: states in memory, the local set in two alternating slots. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/hash.h"
#include "muletto/core/util.h"
#include "muletto/serve/chunkmap.h"

#define MAP_MAGIC "MULMAP01"
#define MAP_HEAD 96 /* magic 8, sequence 8, chunks 8, image 64 hex, reserved 8 */
#define MAP_ALIGN 4096

struct chunkmap {
	size_t n;
	uint8_t *state;	       /* enum chunk_state per chunk; guarded by lock */
	size_t nlocal;	       /* guarded by lock */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a chunk left CHUNK_INFLIGHT */
	pthread_mutex_t commit_lock; /* one commit at a time; guards the fields below */
	int fd;		       /* -1: not kept */
	uint64_t off, seq;
	char image[CHUNK_ID_HEX_SIZE];
	char *where;
	uint8_t *slot;	       /* one slot's bytes */
};

static size_t map_bitmap_bytes(size_t n)
{
	return (n + 7) / 8;
}

static size_t map_slot_size(size_t n)
{
	size_t raw = MAP_HEAD + map_bitmap_bytes(n) + CHUNK_ID_SIZE;

	return (raw + MAP_ALIGN - 1) / MAP_ALIGN * MAP_ALIGN;
}

uint64_t chunkmap_area(size_t n)
{
	return 2 * (uint64_t)map_slot_size(n);
}

int chunkmap_new(size_t n, struct chunkmap **ret)
{
	struct chunkmap *m = calloc(1, sizeof(*m));

	if (!m || !(m->state = calloc(n ? n : 1, 1)) ||
	    !(m->slot = buf_alloc_aligned(map_slot_size(n)))) {
		chunkmap_free(m);
		return -ENOMEM;
	}
	m->n = n;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->changed, NULL);
	pthread_mutex_init(&m->commit_lock, NULL);
	*ret = m;
	return 0;
}

void chunkmap_free(struct chunkmap *m)
{
	if (!m)
		return;
	free(m->state);
	free(m->slot);
	free(m->where);
	if (m->state) {
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->changed);
		pthread_mutex_destroy(&m->commit_lock);
	}
	free(m);
}

/* A slot read from storage: 1 when whole and of this map, with its sequence. */
static int map_slot_valid(const struct chunkmap *m, const uint8_t *p, uint64_t *ret_seq,
			  int *ret_other_image)
{
	size_t body = MAP_HEAD + map_bitmap_bytes(m->n);
	struct chunk_id sum;
	uint64_t v;

	if (memcmp(p, MAP_MAGIC, 8))
		return 0;
	if (hash_buf(HASH_SHA256, p, body, &sum) < 0 || memcmp(sum.b, p + body, CHUNK_ID_SIZE))
		return 0;
	memcpy(&v, p + 16, 8);
	if (le64toh(v) != m->n || memcmp(p + 24, m->image, 64)) {
		*ret_other_image = 1;
		return 0;
	}
	memcpy(&v, p + 8, 8);
	*ret_seq = le64toh(v);
	return 1;
}

static void map_load_bits(struct chunkmap *m, const uint8_t *bits)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (bits[i / 8] & (1u << (i % 8))) {
			m->state[i] = CHUNK_LOCAL;
			m->nlocal++;
		}
}

int chunkmap_attach(struct chunkmap *m, int fd, uint64_t off, const char *image,
		    const char *where)
{
	size_t size = map_slot_size(m->n), got;
	uint64_t seq[2] = { 0, 0 };
	int valid[2] = { 0, 0 }, other = 0, k, r;

	str_copy(m->image, sizeof(m->image), image);
	if (!(m->where = strdup(where)))
		return -ENOMEM;
	for (k = 0; k < 2; k++) {
		r = pread_full(fd, m->slot, size, off + (uint64_t)k * size, &got);
		if (r < 0)
			return err_set(r, "cannot read the chunk map at %s: %s", where, strerror(-r));
		valid[k] = got == size && map_slot_valid(m, m->slot, &seq[k], &other);
	}
	if (!valid[0] && !valid[1] && other)
		return err_set(-ESTALE, "%s holds the chunk map of another image: this target was "
					"served another image; choose another target or --state "
					"file, or remove that one", where);
	k = valid[1] && (!valid[0] || seq[1] > seq[0]);
	if (valid[k]) {
		r = pread_full(fd, m->slot, size, off + (uint64_t)k * size, &got);
		if (r < 0)
			return err_set(r, "cannot read the chunk map at %s: %s", where, strerror(-r));
		map_load_bits(m, m->slot + MAP_HEAD);
		m->seq = seq[k];
		debug_log("serve", "%s: %zu of %zu chunks local (map %llu)", where, m->nlocal, m->n,
			  (unsigned long long)m->seq);
	}
	m->fd = fd;
	m->off = off;
	return 0;
}

/* The next slot's bytes: the local set now. */
static void map_fill_slot(struct chunkmap *m, uint64_t seq)
{
	size_t body = MAP_HEAD + map_bitmap_bytes(m->n), i;
	uint64_t v;
	struct chunk_id sum;

	memset(m->slot, 0, map_slot_size(m->n));
	memcpy(m->slot, MAP_MAGIC, 8);
	v = htole64(seq);
	memcpy(m->slot + 8, &v, 8);
	v = htole64(m->n);
	memcpy(m->slot + 16, &v, 8);
	memcpy(m->slot + 24, m->image, 64);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (m->state[i] == CHUNK_LOCAL)
			m->slot[MAP_HEAD + i / 8] |= (uint8_t)(1u << (i % 8));
	pthread_mutex_unlock(&m->lock);
	hash_buf(HASH_SHA256, m->slot, body, &sum);
	memcpy(m->slot + body, sum.b, CHUNK_ID_SIZE);
}

int chunkmap_commit(struct chunkmap *m, int (*sync_data)(void *ctx), void *ctx)
{
	size_t size = map_slot_size(m->n);
	int r;

	pthread_mutex_lock(&m->commit_lock);
	if (m->fd >= 0)
		map_fill_slot(m, m->seq + 1); /* the snapshot first: then its data is made durable */
	r = sync_data ? sync_data(ctx) : 0;
	if (r == 0 && m->fd >= 0) {
		/* the older slot is overwritten: the newer stays whole whatever happens */
		r = pwrite_full(m->fd, m->slot, size, m->off + ((m->seq + 1) % 2) * size);
		if (r == 0 && fdatasync(m->fd) < 0)
			r = -errno;
		if (r < 0)
			err_set(r, "cannot write the chunk map at %s: %s", m->where, strerror(-r));
		else
			m->seq++;
	}
	pthread_mutex_unlock(&m->commit_lock);
	return r;
}

enum chunk_state chunkmap_claim(struct chunkmap *m, size_t i)
{
	enum chunk_state s;

	pthread_mutex_lock(&m->lock);
	while (m->state[i] == CHUNK_INFLIGHT)
		pthread_cond_wait(&m->changed, &m->lock);
	s = (enum chunk_state)m->state[i];
	if (s == CHUNK_ABSENT)
		m->state[i] = CHUNK_INFLIGHT;
	pthread_mutex_unlock(&m->lock);
	return s;
}

int chunkmap_try_claim(struct chunkmap *m, size_t i)
{
	int claimed;

	pthread_mutex_lock(&m->lock);
	claimed = m->state[i] == CHUNK_ABSENT;
	if (claimed)
		m->state[i] = CHUNK_INFLIGHT;
	pthread_mutex_unlock(&m->lock);
	return claimed;
}

void chunkmap_release(struct chunkmap *m, size_t i, int local)
{
	pthread_mutex_lock(&m->lock);
	m->state[i] = local ? CHUNK_LOCAL : CHUNK_ABSENT;
	if (local)
		m->nlocal++;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
}

enum chunk_state chunkmap_state(struct chunkmap *m, size_t i)
{
	enum chunk_state s;

	pthread_mutex_lock(&m->lock);
	s = (enum chunk_state)m->state[i];
	pthread_mutex_unlock(&m->lock);
	return s;
}

size_t chunkmap_local(struct chunkmap *m)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->nlocal;
	pthread_mutex_unlock(&m->lock);
	return n;
}

size_t chunkmap_count(const struct chunkmap *m)
{
	return m->n;
}

size_t chunkmap_next_absent(struct chunkmap *m, size_t i)
{
	pthread_mutex_lock(&m->lock);
	while (i < m->n && m->state[i] != CHUNK_ABSENT)
		i++;
	pthread_mutex_unlock(&m->lock);
	return i;
}
