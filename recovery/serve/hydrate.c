/* Hydration: while the client works, worker threads bring in every chunk
 * that is not local yet, read-ahead first, then in order; they yield to the
 * client's requests; the map is committed every second. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/progress.h"
#include "muletto/core/util.h"
#include "muletto/serve/share.h"
#include "served_int.h"

#define HYDRATE_COMMIT_MS 1000
#define HYDRATE_WATCH_MS 50 /* how soon the end of the walk is noticed */
#define HYDRATE_YIELD_MS 20

/* After a read of chunk i that had to be fetched: its next neighbours are
 * taken first by the walk, more of them while reads go on in order. */
void served_read_ahead(struct served *s, size_t i)
{
	size_t k, n;

	pthread_mutex_lock(&s->ahead_lock);
	if (s->last_read != (size_t)-1 && i == s->last_read + 1)
		s->window = MIN(s->window * 2, (size_t)SERVED_AHEAD_MAX);
	else if (s->last_read != (size_t)-1 && i != s->last_read)
		s->window = 2;
	s->last_read = i;
	n = s->window;
	for (k = 1; k <= n && i + k < s->idx->n; k++) {
		if ((s->ahead_tail + 1) % SERVED_AHEAD_QUEUE == s->ahead_head)
			s->ahead_head = (s->ahead_head + 1) % SERVED_AHEAD_QUEUE; /* drop the oldest */
		s->ahead[s->ahead_tail] = i + k;
		s->ahead_tail = (s->ahead_tail + 1) % SERVED_AHEAD_QUEUE;
	}
	pthread_mutex_unlock(&s->ahead_lock);
}

/* The next chunk to bring in, claimed; the chunk count when none is left. */
static size_t hydrate_next(struct served *s)
{
	size_t i, n = s->idx->n;

	for (;;) {
		pthread_mutex_lock(&s->ahead_lock);
		i = n;
		if (s->ahead_head != s->ahead_tail) {
			i = s->ahead[s->ahead_head];
			s->ahead_head = (s->ahead_head + 1) % SERVED_AHEAD_QUEUE;
		}
		pthread_mutex_unlock(&s->ahead_lock);
		if (i == n)
			break;
		if (chunkmap_try_claim(s->map, i))
			return i;
	}
	for (;;) {
		i = chunkmap_next_absent(s->map, atomic_load(&s->cursor));
		if (i >= n) /* something skipped while in flight elsewhere: once more from 0 */
			i = chunkmap_next_absent(s->map, 0);
		if (i >= n)
			return n;
		atomic_store(&s->cursor, i + 1);
		if (chunkmap_try_claim(s->map, i))
			return i;
	}
}

struct walker {
	struct served *s;
	int k; /* the walker's number: 0 never yields */
};

static void *hydrate_walk(void *v)
{
	struct walker *w = v;
	struct served *s = w->s;
	struct fetcher *f = NULL;
	size_t i;
	int r, slot;

	while (!atomic_load(&s->stop) && !atomic_load(&s->err)) {
		/* the chunks a client waits for come first, in every VM of this
		 * muletto (serve/share.h); unshared, this process's own client */
		slot = share_background_begin(&s->stop);
		if (atomic_load(&s->stop))
			break;
		if (slot < 0 && w->k > 0 && atomic_load(&s->client_busy) > 0) {
			sleep_ms(HYDRATE_YIELD_MS);
			continue;
		}
		i = hydrate_next(s);
		if (i >= s->idx->n) {
			share_background_end(slot);
			break;
		}
		if (!f && !(f = served_fetcher_get(s))) {
			chunkmap_release(s->map, i, 0);
			share_background_end(slot);
			atomic_store(&s->err, -EIO);
			break;
		}
		r = served_make_local(s, i, f, 1, 1);
		share_background_end(slot);
		chunkmap_release(s->map, i, r == 0);
		if (r < 0) {
			event_warning("%s: hydration stopped: %s", s->name, err_text(r));
			atomic_store(&s->err, r);
		}
	}
	if (f)
		served_fetcher_put(s, f);
	free(w);
	return NULL;
}

/* Until the next commit: a second, less when the last chunk has arrived, so
 * that "hydrated" (and the repository let go) follows it at once rather than
 * up to a second later. */
static void hydrate_commit_wait(struct served *s, int full_wait)
{
	int t;

	for (t = 0; t < HYDRATE_COMMIT_MS && !atomic_load(&s->stop); t += HYDRATE_WATCH_MS) {
		if (!full_wait && chunkmap_local(s->map) == chunkmap_count(s->map))
			return;
		sleep_ms(HYDRATE_WATCH_MS);
	}
}

/* Every second: the map committed, progress reported; the end said once. */
static void *hydrate_commit(void *v)
{
	struct served *s = v;
	int done = 0, r;

	while (!atomic_load(&s->stop)) {
		uint64_t local = chunkmap_local(s->map), n = chunkmap_count(s->map);
		r = chunkmap_commit(s->map, served_sync, s);
		if (r < 0)
			event_warning("%s: %s", s->name, err_text(r));
		if (!done)
			progress_update(s->prog, n ? (uint64_t)((double)s->d->size * local / n) : 0);
		if (!done && local == n && r == 0) {
			done = 1;
			progress_done(s->prog, s->d->size, 1);
			event_state("serve", s->name, "hydrated", "%s is all on %s: the repository "
				    "is no longer needed", s->name, s->t->path);
			pthread_mutex_lock(&s->pool_lock);
			s->pool_closed = 1;
			while (s->npool)
				fetcher_free(s->pool[--s->npool]);
			pthread_mutex_unlock(&s->pool_lock);
		}
		hydrate_commit_wait(s, done || r < 0); /* a failed commit: retried in a second */
	}
	return NULL;
}

int served_start(struct served *s)
{
	int k;

	if (s->mode != SERVED_TARGET)
		return 0;
	s->prog = progress_new("hydrate", s->name, -1, s->d->size);
	for (k = 0; k < s->threads && k < (int)ARRAY_SIZE(s->walkers); k++) {
		struct walker *w = malloc(sizeof(*w));
		if (!w)
			break;
		*w = (struct walker){ .s = s, .k = k };
		if (pthread_create(&s->walkers[k], NULL, hydrate_walk, w) != 0) {
			free(w);
			break;
		}
		s->nwalkers++;
	}
	s->started = 1;
	if (pthread_create(&s->committer, NULL, hydrate_commit, s) != 0) {
		atomic_store(&s->stop, 1);
		return err_set(-EAGAIN, "cannot start the hydration");
	}
	s->started = 2;
	return 0;
}
