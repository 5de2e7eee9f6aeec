/* muletto verify REPO NAME: every chunk of every disk present and matching its id. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/fetch.h"
#include "muletto/cmd.h"
#include "muletto/err.h"
#include "muletto/pfor.h"
#include "muletto/progress.h"
#include "muletto/repo.h"
#include "muletto/util.h"

static const char verify_usage[] =
	"muletto verify REPO NAME [--threads N] [--progress auto|bar|json|none]";

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
	const char *store_url;
	struct progress *prog;
	atomic_uint_fast64_t done;
	pthread_mutex_t lock; /* guards bad and the output */
	size_t bad;
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
	char hex[CHUNK_ID_HEX_SIZE];

	chunk_id_hex(&c->id, hex);
	pthread_mutex_lock(&j->lock);
	j->bad++;
	fflush(stderr);
	printf("bad chunk %s (disk%d at offset %llu): %s\n", hex, c->disk,
	       (unsigned long long)c->offset, why);
	fflush(stdout);
	pthread_mutex_unlock(&j->lock);
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

static int verify_run(const char *url, const char *name, int threads, enum progress_mode pm)
{
	static const struct pfor_ops ops = {
		.init = verify_worker_init,
		.fn = verify_one,
		.fini = verify_worker_fini,
		.tick = verify_tick,
	};
	struct verify_job j = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct manifest *m = NULL;
	struct repo *repo = NULL;
	uint64_t total = 0;
	char tot[32];
	size_t i;
	int r;

	r = repo_open(url, &repo);
	if (r == 0)
		r = repo_load_manifest(repo, name, &m);
	if (r == 0)
		r = verify_collect(repo, name, m, &j);
	if (r < 0)
		goto out;
	for (i = 0; i < j.n; i++)
		total += j.c[i].size;
	j.store_url = repo->store_url;
	j.prog = progress_new("verify", total, pm);
	r = pfor_run(j.n, threads ? threads : 8, &ops, &j);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	if (r < 0)
		goto out;
	human_size(total, tot, sizeof(tot));
	if (j.bad)
		r = err_set(-EBADMSG, "image '%s' in %s has %zu bad chunk(s) of %zu: it cannot be "
				      "restored as it is; capture it again or restore another "
				      "image", name, repo->url, j.bad, j.n);
	else
		printf("image '%s' in %s is intact: %zu distinct chunks, %s, every one matches "
		       "its id\n", name, repo->url, j.n, tot);
out:
	free(j.c);
	manifest_free(m);
	repo_close(repo);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum progress_mode pm = PROGRESS_AUTO;
	int c, threads = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': threads = atoi(optarg); break;
		case 'p':
			if (progress_mode_parse(optarg, &pm) < 0)
				return cmd_bad_option("%s", err_msg());
			break;
		case 'h': printf("usage: %s\n", verify_usage); return 0;
		default: return cmd_usage(verify_usage);
		}
	}
	if (argc - optind != 2)
		return cmd_usage(verify_usage);
	if (verify_run(argv[optind], argv[optind + 1], threads, pm) < 0)
		return cmd_fail("%s", err_msg());
	return 0;
}
