/* A served image: the repository's disk, its target or layer, the chunk map,
 * and the connections chunks are fetched over. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/progress.h"
#include "muletto/core/util.h"
#include "muletto/disk/seed.h"
#include "muletto/engine/restore.h"
#include "served_int.h"

#define SERVED_THREADS 8

struct fetcher *served_fetcher_get(struct served *s)
{
	struct fetcher *f = NULL;

	pthread_mutex_lock(&s->pool_lock);
	if (s->npool)
		f = s->pool[--s->npool];
	pthread_mutex_unlock(&s->pool_lock);
	if (!f && fetcher_new(s->repo->store_url, s->idx->chunk_max, &f) < 0)
		return NULL;
	return f;
}

void served_fetcher_put(struct served *s, struct fetcher *f)
{
	pthread_mutex_lock(&s->pool_lock);
	if (s->npool < SERVED_FETCHERS_MAX && !s->pool_closed) {
		s->pool[s->npool++] = f;
		f = NULL;
	}
	pthread_mutex_unlock(&s->pool_lock);
	fetcher_free(f);
}

size_t served_chunk_at(const struct served *s, uint64_t off)
{
	size_t lo = 0, hi = s->idx->n;

	while (lo < hi) { /* the first chunk that ends after off */
		size_t mid = lo + (hi - lo) / 2;
		if (s->idx->e[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int served_chunk_is_zero(const struct served *s, size_t i)
{
	return chunk_id_is_zero(s->kind, &s->idx->e[i].id, caibx_chunk_size(s->idx, i));
}

int served_make_local(struct served *s, size_t i, struct fetcher *f, int seed, int write)
{
	uint64_t start = caibx_chunk_start(s->idx, i), size = caibx_chunk_size(s->idx, i);
	const struct chunk_id *id = &s->idx->e[i].id;
	void *buf = fetcher_buf(f);
	size_t wire = 0;
	int r;

	if (served_chunk_is_zero(s, i)) {
		memset(buf, 0, (size_t)size);
		return write && !s->blank ? target_zero(s->t, start, size) : 0;
	}
	if (seed && write && !s->blank) {
		r = seed_match(&s->t->io, start, (size_t)size, s->kind, id, 0, buf);
		if (r > 0)
			return 0; /* the target holds it already */
		if (r < 0)
			return err_set(r, "cannot read %s at offset %llu: %s", s->t->path,
				       (unsigned long long)start, strerror(-r));
	}
	r = fetcher_get(f, id, size, s->kind, buf, &wire);
	if (r < 0)
		return r;
	atomic_fetch_add(&s->fetched, wire);
	return write ? target_write(s->t, buf, (size_t)size, start) : 0;
}

int served_sync(void *ctx)
{
	struct served *s = ctx;

	if (!s->t)
		return 0;
	if (fdatasync(s->t->fd) < 0)
		return err_set(-errno, "cannot flush %s: %s", s->t->path, strerror(errno));
	return 0;
}

/* The map's place: --state FILE, next to a file target, or after the image on
 * a disk with room. */
static int served_attach_map(struct served *s, const struct serve_opts *o)
{
	uint64_t area = chunkmap_area(s->idx->n), end = (s->d->size + 4095) / 4096 * 4096;
	_cleanup_free_ char *side = NULL;
	const char *file = o->state;
	char where[600];

	if (!file && !s->t->is_block) {
		if (!(side = str_printf("%s.muletto-map", s->t->path)))
			return -ENOMEM;
		file = side;
	}
	if (file) {
		s->map_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->map_fd < 0)
			return err_set(-errno, "cannot open the chunk map %s: %s", file,
				       strerror(errno));
		return chunkmap_attach(s->map, s->map_fd, 0, s->d->index_sha256, file);
	}
	if (s->t->size < end + area)
		return err_set(-ENOSPC, "%s has no room after the image for the map of what has "
					"arrived (%llu bytes): give --state FILE on a disk that "
					"keeps it (the MULETTO stick)", s->t->path,
			       (unsigned long long)area);
	snprintf(where, sizeof(where), "%s at offset %llu", s->t->path, (unsigned long long)end);
	return chunkmap_attach(s->map, s->t->fd, end, s->d->index_sha256, where);
}

/* A throw-away layer: a file in RAM (memfd) or the FILE given, removed at the end. */
static int served_open_layer(struct served *s, const struct serve_opts *o, uint64_t need)
{
	char path[64];
	int fd, r;

	if (strcmp(o->cow, "ram")) {
		if (access(o->cow, F_OK) == 0)
			return err_set(-EEXIST, "--cow %s exists: the layer is a new file, removed "
						"at the end; name one that does not exist", o->cow);
		if (!(s->cow_path = strdup(o->cow)))
			return -ENOMEM;
		return target_open(o->cow, need, 0, &s->t);
	}
	fd = memfd_create("muletto-cow", MFD_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "cannot make a layer in memory: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = target_open(path, need, 0, &s->t);
	close(fd); /* the target holds its own descriptor */
	return r;
}

static int served_open_target(struct served *s, const struct serve_opts *o)
{
	uint64_t need = s->d->size;
	int r;

	if (o->cow) {
		s->mode = SERVED_COW;
		r = served_open_layer(s, o, need);
	} else if (o->to) {
		_cleanup_free_ char *picked = NULL;
		const char *to = o->to;
		s->mode = SERVED_TARGET;
		if (!strcmp(to, "auto") && (r = target_pick_auto(need, &picked)) < 0)
			return r;
		to = picked ? picked : to;
		r = o->confirm ? o->confirm(o->ctx, to, need) : 0;
		if (r == 0)
			r = target_open(to, need, restore_data_bytes(s->idx), &s->t);
	} else {
		s->mode = SERVED_READ_ONLY;
		return 0;
	}
	if (r < 0)
		return r;
	s->blank = s->t->fresh;
	s->t->fresh = 0; /* from now on the client writes: zeroing must really zero */
	return s->mode == SERVED_TARGET ? served_attach_map(s, o) : 0;
}

static int served_load(struct served *s, const char *repo, const char *name,
		       const struct serve_opts *o)
{
	int r = repo_open(repo, 0, &s->repo);

	if (r == 0 && o->trust)
		r = repo_set_trust(s->repo, o->trust);
	if (r == 0)
		r = repo_load_manifest(s->repo, name, &s->m);
	if (r < 0)
		return r;
	s->d = manifest_find_disk(s->m, o->disk);
	if (!s->d)
		return err_set(-ENOENT, "image '%s' has %zu disk(s), numbered 0 to %zu: there is no "
					"--disk %d", name, s->m->ndisks,
			       s->m->ndisks ? s->m->ndisks - 1 : 0, o->disk);
	r = repo_load_index(s->repo, name, s->d, &s->idx);
	if (r < 0)
		return r;
	s->kind = caibx_hash_kind(s->idx);
	snprintf(s->name, sizeof(s->name), "%s disk%d", name, o->disk);
	return chunkmap_new(s->idx->n, &s->map);
}

int served_open(const char *repo, const char *name, const struct serve_opts *o,
		struct served **ret)
{
	struct served *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->map_fd = -1;
	s->threads = o->threads ? o->threads : SERVED_THREADS;
	s->window = 2;
	s->last_read = (size_t)-1;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_mutex_init(&s->ahead_lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	r = served_load(s, repo, name, o);
	if (r == 0)
		r = served_open_target(s, o);
	if (r < 0) {
		served_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

int served_close(struct served *s)
{
	int r = 0, r2;

	if (!s)
		return 0;
	if (s->started) {
		atomic_store(&s->stop, 1);
		for (int i = 0; i < s->nwalkers; i++)
			pthread_join(s->walkers[i], NULL);
		if (s->started == 2)
			pthread_join(s->committer, NULL);
	}
	if (s->map && s->mode == SERVED_TARGET && s->t)
		r = chunkmap_commit(s->map, served_sync, s);
	r2 = target_close(s->t, s->mode == SERVED_TARGET);
	if (r == 0)
		r = r2;
	if (s->cow_path)
		unlink(s->cow_path);
	if (s->map_fd >= 0)
		close(s->map_fd);
	while (s->npool)
		fetcher_free(s->pool[--s->npool]);
	progress_free(s->prog);
	served_cache_free(s);
	pthread_mutex_destroy(&s->cache_lock);
	chunkmap_free(s->map);
	caibx_free(s->idx);
	manifest_free(s->m);
	repo_close(s->repo);
	free(s->cow_path);
	pthread_mutex_destroy(&s->pool_lock);
	pthread_mutex_destroy(&s->ahead_lock);
	free(s);
	return r;
}

const char *served_name(const struct served *s)
{
	return s->name;
}

uint64_t served_size(const struct served *s)
{
	return s->d->size;
}

uint32_t served_sector_size(const struct served *s)
{
	uint32_t n = s->d->logical_sector_size;

	return n >= 512 && n <= 4096 && !(n & (n - 1)) ? n : 512;
}

int served_complete(struct served *s)
{
	return s->mode == SERVED_TARGET && chunkmap_local(s->map) == chunkmap_count(s->map);
}

void served_status(struct served *s, struct served_status *ret)
{
	size_t n = chunkmap_count(s->map), local = chunkmap_local(s->map);

	ret->total = s->d->size;
	ret->local = n ? (uint64_t)((double)s->d->size * (double)local / (double)n) : 0;
	if (local == n)
		ret->local = ret->total;
	ret->fetched = atomic_load(&s->fetched);
	ret->target = s->t && s->mode == SERVED_TARGET ? s->t->path : NULL;
}
