/* A whole capture: each disk's chunks and index, then the signature and the
 * manifest, so an interrupted capture never leaves an image that points at
 * missing chunks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/machine.h"
#include "muletto/disk/snapshot.h"
#include "muletto/engine/capture.h"
#include "muletto/format/sign.h"
#include "muletto/store/repo.h"
#include "muletto/store/url.h"

static void capture_add(struct capture_stats *sum, const struct capture_stats *st)
{
	sum->bytes_total += st->bytes_total;
	sum->bytes_zero += st->bytes_zero;
	sum->bytes_stored += st->bytes_stored;
	sum->chunks_total += st->chunks_total;
	sum->chunks_new += st->chunks_new;
	sum->chunks_zero += st->chunks_zero;
}

/* One disk, read from path (the source, or its snapshot): chunks, then its
 * index; fills the manifest's entry. */
static int capture_one_disk(struct repo *repo, const struct capture_request *q, int k,
			    const char *path, struct manifest_disk *d, struct capture_stats *sum)
{
	_cleanup_free_ char *ipath = NULL;
	struct caibx *idx = NULL;
	struct capture_stats st;
	void *buf = NULL;
	size_t len = 0;
	int r;

	d->index = k;
	snprintf(d->file, sizeof(d->file), "disk%d.caibx", k);
	r = capture_disk(path, repo->url, &q->o, q->name, k, d, &idx, &st);
	if (r < 0)
		return r;
	str_copy(d->source, sizeof(d->source), q->devs[k]); /* not the snapshot's name */
	/* Chunks first on stable storage, then the index that points at them. */
	r = source_sync(repo->src);
	if (r == 0)
		r = caibx_serialize(idx, &buf, &len);
	caibx_free(idx);
	if (r == 0)
		r = hash_sha256_hex(buf, len, d->index_sha256);
	if (r == 0)
		r = (ipath = repo_image_path(q->name, d->file)) ? source_put(repo->src, ipath, buf, len)
								: -ENOMEM;
	free(buf);
	if (r == 0)
		capture_add(sum, &st);
	return r;
}

/* The manifest goes last: until it exists, the image does not. Its signature
 * just before it. */
static int capture_finish(struct repo *repo, const struct capture_request *q,
			  const struct manifest *m, const char *mpath)
{
	_cleanup_free_ char *json = NULL, *sig = NULL, *spath = NULL;
	int r = manifest_serialize(m, &json);

	if (r == 0 && q->sign) {
		spath = repo_image_path(q->name, "manifest.json.sig");
		r = spath ? sign_make(q->sign, json, strlen(json), &sig) : -ENOMEM;
		if (r == 0)
			r = source_put(repo->src, spath, sig, strlen(sig));
	}
	if (r == 0)
		r = source_sync(repo->src);
	if (r == 0)
		r = source_put(repo->src, mpath, json, strlen(json));
	if (r == 0)
		r = source_sync(repo->src);
	return r;
}

/* A repository folder that does not exist yet is made. */
static int capture_make_folder(const char *repo)
{
	struct url *u = NULL;
	int r = url_parse(repo, &u);

	if (r == 0 && url_is_local(u) && (r = mkdir_p(u->path, 0755)) < 0)
		err_set(r, "cannot create the repository folder %s: %s", u->path, strerror(-r));
	url_free(u);
	return r;
}

static void capture_describe_image(struct manifest *m, const struct capture_request *q)
{
	str_copy(m->name, sizeof(m->name), q->name);
	iso8601_now(m->created, sizeof(m->created));
	snprintf(m->tool, sizeof(m->tool), "muletto %s", MULETTO_VERSION);
	str_copy(m->hash, sizeof(m->hash), "sha256");
	str_copy(m->compression, sizeof(m->compression), "zstd");
	m->chunk_size = q->o.chunk_size;
	m->consistency = q->o.mode == CAPTURE_MODE_LIVE ? MANIFEST_LIVE : MANIFEST_CONSISTENT;
	machine_describe(m);
}

/* The disks, then (their snapshots still whole) the manifest. */
static int capture_image(struct repo *repo, const struct capture_request *q, struct manifest *m,
			 const char *mpath, struct capture_result *res)
{
	struct snapshot *snaps = NULL;
	int i, r = 0;

	if (q->o.mode == CAPTURE_MODE_SNAPSHOT)
		r = capture_snapshots_take(q, &snaps);
	for (i = 0; i < q->ndevs && r == 0; i++) {
		struct manifest_disk *d = manifest_add_disk(m);
		const char *path = snaps ? snaps[i].dev : q->devs[i];
		r = d ? capture_one_disk(repo, q, i, path, d, &res->st) : -ENOMEM;
	}
	if (snaps)
		r = capture_snapshots_check(q, snaps, r);
	if (r == 0)
		r = capture_finish(repo, q, m, mpath);
	return capture_snapshots_remove(q, snaps, r);
}

int capture_run(const struct capture_request *q, struct capture_result *res)
{
	_cleanup_free_ char *mpath = NULL;
	struct manifest *m = NULL;
	struct repo *repo = NULL;
	char *sig = NULL;
	double t0 = now_seconds();
	int r;

	memset(res, 0, sizeof(*res));
	r = repo_check_name(q->name);
	if (r == 0) /* a source in use read-write is refused before anything is made */
		r = capture_check_sources(q);
	if (r == 0 && q->sign) { /* a key that cannot sign fails now, not after the last chunk */
		r = sign_make(q->sign, "", 0, &sig);
		free(sig);
	}
	if (r == 0)
		r = capture_make_folder(q->repo);
	if (r == 0)
		r = repo_open(q->repo, SOURCE_WRITE, &repo);
	if (r < 0)
		return r;
	str_copy(res->repo, sizeof(res->repo), repo->url);
	mpath = repo_image_path(q->name, "manifest.json");
	if (!mpath || !(m = manifest_new())) {
		r = -ENOMEM;
		goto out;
	}
	if (source_exists(repo->src, mpath) > 0) {
		r = err_set(-EEXIST, "image '%s' already exists in %s: choose another name",
			    q->name, repo->url);
		goto out;
	}
	capture_describe_image(m, q);
	r = capture_image(repo, q, m, mpath, res);
	res->st.seconds = now_seconds() - t0;
out:
	manifest_free(m);
	repo_close(repo);
	return r;
}
