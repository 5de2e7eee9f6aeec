/* Verify an image in its repository: each distinct chunk fetched and checked
 * once, on worker threads that each own a store connection. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/pfor.h"
#include "muletto/core/progress.h"
#include "muletto/core/util.h"
#include "muletto/engine/verify.h"
#include "muletto/store/fetch.h"
#include "muletto/store/repo.h"

#define VERIFY_THREADS 8

struct verify_chunk {
	struct chunk_id id;
	uint64_t size;
	int disk;
	uint64_t offset;
};

struct verify_job {
	struct verify_chunk *c;
	size_t n;
	uint64_t chunk_max;
	enum hash_kind kind;
	const char *store_url, *name;
	struct progress *prog;
	atomic_uint_fast64_t done;
	atomic_size_t bad;
};

static int verify_worker_init(void *arg, void **ret)
{
	struct verify_job *j = arg;

	return fetcher_new(j->store_url, j->chunk_max, (struct fetcher **)ret);
}

static void verify_worker_fini(void *arg, void *ws)
{
	(void)arg;
	fetcher_free(ws);
}

static void verify_report_bad(struct verify_job *j, const struct verify_chunk *c,
			      const char *why)
{
	char hex[CHUNK_ID_HEX_SIZE], msg[ERR_MSG_MAX];
	struct event e = { .kind = EVENT_WARNING, .op = "verify", .image = j->name,
			   .disk = c->disk, .eta = -1, .message = msg };

	chunk_id_hex(&c->id, hex);
	atomic_fetch_add(&j->bad, 1);
	snprintf(msg, sizeof(msg), "bad chunk %s (disk%d at offset %llu): %s", hex, c->disk,
		 (unsigned long long)c->offset, why);
	event_emit(&e);
}

static int verify_one(void *arg, void *ws, size_t i)
{
	struct verify_job *j = arg;
	const struct verify_chunk *c = &j->c[i];
	size_t wire = 0;
	int r;

	r = fetcher_get(ws, &c->id, c->size, j->kind, NULL, &wire);
	if (r == -ENOENT || r == -EBADMSG)
		verify_report_bad(j, c, err_msg());
	else if (r < 0)
		return r; /* the store cannot be read at all: stop */
	atomic_fetch_add(&j->done, c->size);
	return 0;
}

static void verify_tick(void *arg)
{
	struct verify_job *j = arg;

	progress_update(j->prog, atomic_load(&j->done));
}

static int verify_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct verify_chunk *)a)->id, &((const struct verify_chunk *)b)->id,
		      CHUNK_ID_SIZE);
}

/* Every distinct chunk of every disk, once. */
static int verify_collect(struct repo *repo, const char *name, const struct manifest *m,
			  struct verify_job *j)
{
	size_t d, i, k;
	int r;

	for (d = 0; d < m->ndisks; d++) {
		struct caibx *idx = NULL;
		struct verify_chunk *nc;
		r = repo_load_index(repo, name, &m->disks[d], &idx);
		if (r < 0)
			return r;
		nc = realloc(j->c, (j->n + idx->n) * sizeof(*nc));
		if (!nc) {
			caibx_free(idx);
			return -ENOMEM;
		}
		j->c = nc;
		for (i = 0; i < idx->n; i++)
			j->c[j->n++] = (struct verify_chunk){ idx->e[i].id, caibx_chunk_size(idx, i),
							      m->disks[d].index,
							      caibx_chunk_start(idx, i) };
		j->chunk_max = MAX(j->chunk_max, idx->chunk_max);
		j->kind = caibx_hash_kind(idx);
		caibx_free(idx);
	}
	qsort(j->c, j->n, sizeof(*j->c), verify_cmp);
	for (i = 0, k = 0; i < j->n; i++)
		if (k == 0 || verify_cmp(&j->c[k - 1], &j->c[i]))
			j->c[k++] = j->c[i];
	j->n = k;
	return 0;
}

int verify_image(const char *repo_url, const char *name, int threads, struct verify_result *res)
{
	static const struct pfor_ops ops = {
		.init = verify_worker_init,
		.fn = verify_one,
		.fini = verify_worker_fini,
		.tick = verify_tick,
	};
	struct verify_job j = { .name = name };
	struct manifest *m = NULL;
	struct repo *repo = NULL;
	size_t i;
	int r;

	memset(res, 0, sizeof(*res));
	r = repo_open(repo_url, 0, &repo);
	if (r == 0)
		r = repo_load_manifest(repo, name, &m);
	if (r == 0)
		r = verify_collect(repo, name, m, &j);
	if (r < 0)
		goto out;
	str_copy(res->repo, sizeof(res->repo), repo->url);
	for (i = 0; i < j.n; i++)
		res->bytes += j.c[i].size;
	j.store_url = repo->store_url;
	j.prog = progress_new("verify", name, -1, res->bytes);
	r = pfor_run(j.n, threads ? threads : VERIFY_THREADS, &ops, &j);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	res->chunks = j.n;
	res->bad = atomic_load(&j.bad);
	if (r == 0 && res->bad)
		r = err_set(-EBADMSG, "image '%s' in %s has %zu bad chunk(s) of %zu: it cannot be "
				      "restored as it is; capture it again or restore another "
				      "image", name, repo->url, res->bad, res->chunks);
out:
	free(j.c);
	manifest_free(m);
	repo_close(repo);
	return r;
}
