/* The chunks read last, for a served image without a target: a client reads
 * a chunk in many small pieces (a boot loader in 4 KiB), fetched once. */
#include <stdlib.h>
#include <string.h>

#include "muletto/core/util.h"
#include "served_int.h"

int served_cache_get(struct served *s, size_t i, void *dst, uint64_t from, size_t n)
{
	size_t k;
	int hit = 0;

	pthread_mutex_lock(&s->cache_lock);
	for (k = 0; k < s->ncache && !hit; k++)
		if (s->cache[k].i == i) {
			memcpy(dst, (char *)s->cache[k].buf + from, n);
			s->cache[k].used = ++s->cache_clock;
			hit = 1;
		}
	pthread_mutex_unlock(&s->cache_lock);
	return hit;
}

void served_cache_put(struct served *s, size_t i, const void *buf)
{
	size_t size = (size_t)s->idx->chunk_max, slots, k, old = 0;
	struct served_cached *c;

	slots = MIN((size_t)SERVED_CACHE_MAX, MAX((size_t)4, SERVED_CACHE_BYTES / size));
	pthread_mutex_lock(&s->cache_lock);
	for (k = 0; k < s->ncache; k++) {
		if (s->cache[k].i == i)
			goto out; /* another request brought it meanwhile */
		if (s->cache[k].used < s->cache[old].used)
			old = k;
	}
	if (s->ncache < slots) {
		c = &s->cache[s->ncache];
		if (!(c->buf = malloc(size)))
			goto out;
		s->ncache++;
	} else {
		c = &s->cache[old];
	}
	c->i = i;
	c->used = ++s->cache_clock;
	memcpy(c->buf, buf, (size_t)caibx_chunk_size(s->idx, i));
out:
	pthread_mutex_unlock(&s->cache_lock);
}

void served_cache_free(struct served *s)
{
	size_t k;

	for (k = 0; k < s->ncache; k++)
		free(s->cache[k].buf);
	s->ncache = 0;
}
