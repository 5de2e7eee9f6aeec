/* Capture: read a disk in fixed, aligned chunks on worker threads; hash each,
 * store the ones the store lacks (zstd), and build the casync index. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/format/cacnk.h"
#include "muletto/engine/capture.h"
#include "muletto/disk/dio.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/fs.h"
#include "muletto/disk/md.h"
#include "muletto/core/err.h"
#include "muletto/core/pfor.h"
#include "muletto/core/progress.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

struct capture_job {
	const char *path, *repo_url;
	const struct capture_opts *o;
	int fd;
	uint64_t size;
	struct caibx *idx;
	struct progress *prog;
	atomic_uint_fast64_t done, zero, stored, n_new, n_zero;
};

struct capture_worker {
	struct source *repo;
	struct cacnk_ctx *cctx;
	void *buf;
};

static int capture_worker_init(void *arg, void **ret)
{
	struct capture_job *j = arg;
	struct capture_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*ret = w;
	r = source_open(j->repo_url, SOURCE_WRITE, &w->repo);
	if (r < 0)
		return r;
	w->cctx = cacnk_ctx_new(j->o->level);
	w->buf = buf_alloc_aligned(j->o->chunk_size);
	if (!w->cctx || !w->buf)
		return err_set(-ENOMEM, "out of memory for capture buffers");
	return 0;
}

static void capture_worker_fini(void *arg, void *ws)
{
	struct capture_worker *w = ws;

	(void)arg;
	if (!w)
		return;
	source_close(w->repo);
	cacnk_ctx_free(w->cctx);
	free(w->buf);
	free(w);
}

static int capture_store(struct capture_job *j, struct capture_worker *w,
			 const struct chunk_id *id, size_t len)
{
	char rel[128], path[160];
	const void *comp;
	size_t clen;
	int r;

	cacnk_path(id, rel, sizeof(rel));
	snprintf(path, sizeof(path), "store/%s", rel);
	r = source_exists(w->repo, path);
	if (r < 0)
		return r;
	if (r > 0)
		return 0;
	r = cacnk_compress(w->cctx, w->buf, len, &comp, &clen);
	if (r < 0)
		return r;
	r = source_put(w->repo, path, comp, clen);
	if (r < 0)
		return r;
	atomic_fetch_add(&j->stored, clen);
	atomic_fetch_add(&j->n_new, 1);
	return 0;
}

static int capture_one(void *arg, void *ws, size_t i)
{
	struct capture_job *j = arg;
	struct capture_worker *w = ws;
	uint64_t off = (uint64_t)i * j->o->chunk_size;
	size_t len = (size_t)MIN(j->o->chunk_size, j->size - off), got = 0;
	int r;

	if (j->o->stop && *j->o->stop)
		return err_set(-EINTR, "interrupted: the capture stopped before the end of %s, and "
				       "no image was stored", j->path);
	r = pread_full(j->fd, w->buf, len, off, &got);
	if (r < 0)
		return err_set(r, "read error on %s at offset %llu: %s; the source disk may be "
				  "failing", j->path, (unsigned long long)off, strerror(-r));
	if (got != len)
		return err_set(-EIO, "%s ended at %llu bytes, before its size of %llu: it changed "
				     "while being captured", j->path,
			       (unsigned long long)(off + got), (unsigned long long)j->size);
	r = hash_buf(HASH_SHA256, w->buf, len, &j->idx->e[i].id);
	if (r < 0)
		return r;
	j->idx->e[i].end = off + len;
	if (buf_is_zero(w->buf, len)) {
		atomic_fetch_add(&j->zero, len);
		atomic_fetch_add(&j->n_zero, 1);
	}
	/* Zero chunks are stored too (once, deduplicated): casync needs them. */
	r = capture_store(j, w, &j->idx->e[i].id, len);
	if (r < 0)
		return r;
	atomic_fetch_add(&j->done, len);
	return 0;
}

static void capture_tick(void *arg)
{
	struct capture_job *j = arg;

	progress_update(j->prog, atomic_load(&j->done));
}

/* An MD member: its superblock's version and level, and for one whose
 * superblock is at the start, the file system inside and its sizes. */
static void capture_md(const char *path, int fd, struct manifest_part *p)
{
	struct disk_part in;
	struct md_info mi;
	uint64_t used = 0, least = 0;

	if (md_probe(fd, p->start, p->size, &mi) < 0)
		return;
	str_copy(p->md_metadata, sizeof(p->md_metadata), mi.metadata);
	str_copy(p->md_level, sizeof(p->md_level), mi.level);
	if (md_super_at_end(mi.metadata) || !mi.data_offset)
		return;
	p->md_data_offset = mi.data_offset;
	memset(&in, 0, sizeof(in));
	in.start = p->start + mi.data_offset;
	in.size = mi.data_size ? mi.data_size : p->size - mi.data_offset;
	disk_probe_fs(fd, &in);
	str_copy(p->md_fs, sizeof(p->md_fs), in.fs);
	if (in.fs[0] && fs_measure(path, in.start, in.size, in.fs, &used, &least) == 0) {
		p->used = used;
		p->min_size = least ? mi.data_offset + least : 0;
	} else {
		err_clear();
	}
}

static void capture_describe(const char *path, int fd, uint64_t size, struct manifest_disk *d)
{
	struct disk_info info;
	size_t i;

	memset(&info, 0, sizeof(info));
	d->size = size;
	d->logical_sector_size = 512;
	d->physical_sector_size = 512;
	str_copy(d->source, sizeof(d->source), path);
	if (disk_probe(NULL, path, &info) < 0 && disk_probe_fd(fd, size, &info) < 0)
		return; /* no partition table: still a valid image */
	if (info.logical_sector_size)
		d->logical_sector_size = info.logical_sector_size;
	if (info.physical_sector_size)
		d->physical_sector_size = info.physical_sector_size;
	str_copy(d->model, sizeof(d->model), info.model);
	str_copy(d->serial, sizeof(d->serial), info.serial);
	str_copy(d->pt_type, sizeof(d->pt_type), info.pt_type);
	str_copy(d->pt_uuid, sizeof(d->pt_uuid), info.pt_uuid);
	for (i = 0; i < info.nparts; i++) {
		struct manifest_part *p = manifest_disk_add_part(d);
		const struct disk_part *q = &info.parts[i];
		if (!p)
			break;
		p->number = q->number;
		p->start = q->start;
		p->size = q->size;
		str_copy(p->type, sizeof(p->type), q->type);
		str_copy(p->name, sizeof(p->name), q->name);
		str_copy(p->uuid, sizeof(p->uuid), q->uuid);
		str_copy(p->fs, sizeof(p->fs), q->fs);
		str_copy(p->label, sizeof(p->label), q->label);
		str_copy(p->fs_uuid, sizeof(p->fs_uuid), q->fs_uuid);
		p->attributes = q->attributes;
		p->fs_block_size = q->fs_block_size;
		str_copy(p->role, sizeof(p->role), fs_role(p->type, p->fs));
		/* what a restore onto another disk needs to plan; not fatal */
		if (fs_measure(path, p->start, p->size, p->fs, &p->used, &p->min_size) < 0)
			err_clear();
		if (!strcmp(p->role, "md"))
			capture_md(path, fd, p);
	}
	disk_info_clear(&info);
}

/* The index of n chunks, ready for the workers to fill. */
static int capture_job_index(struct capture_job *j)
{
	size_t n;

	if (j->size == 0)
		return err_set(-EINVAL, "%s is empty: nothing to capture", j->path);
	n = (size_t)((j->size + j->o->chunk_size - 1) / j->o->chunk_size);
	j->idx = calloc(1, sizeof(*j->idx));
	if (!j->idx || !(j->idx->e = calloc(n, sizeof(*j->idx->e)))) {
		free(j->idx);
		j->idx = NULL;
		return -ENOMEM;
	}
	j->idx->n = n;
	j->idx->chunk_min = j->idx->chunk_avg = j->idx->chunk_max = j->o->chunk_size;
	return 0;
}

static void capture_job_stats(struct capture_job *j, double t0, struct manifest_disk *d,
			      struct capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->bytes_total = j->size;
	st->bytes_zero = atomic_load(&j->zero);
	st->bytes_stored = atomic_load(&j->stored);
	st->chunks_total = j->idx->n;
	st->chunks_new = atomic_load(&j->n_new);
	st->chunks_zero = atomic_load(&j->n_zero);
	st->seconds = now_seconds() - t0;
	d->chunks = j->idx->n;
	d->chunks_zero = st->chunks_zero;
	d->bytes_used = j->size - st->bytes_zero;
}

int capture_disk(const char *path, const char *repo_url, const struct capture_opts *o,
		 const char *image, int disk, struct manifest_disk *d, struct caibx **ret,
		 struct capture_stats *st)
{
	static const struct pfor_ops ops = {
		.init = capture_worker_init,
		.fn = capture_one,
		.fini = capture_worker_fini,
		.tick = capture_tick,
	};
	struct capture_job j = { .path = path, .repo_url = repo_url, .o = o, .fd = -1 };
	int live = o->mode == CAPTURE_MODE_LIVE;
	struct capture_watch w;
	double t0 = now_seconds();
	int r;

	r = dio_open_read(path, "source", &j.fd, &j.size);
	if (r < 0)
		return r;
	posix_fadvise(j.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = capture_job_index(&j);
	if (r == 0 && !live) /* the first look before the first byte is read */
		r = capture_watch_start(j.fd, j.size, &w);
	if (r < 0) {
		caibx_free(j.idx);
		close(j.fd);
		return r;
	}
	capture_describe(path, j.fd, j.size, d);
	j.prog = progress_new("capture", image, disk, j.size);
	r = pfor_run(j.idx->n, o->threads ? o->threads : cpu_count(), &ops, &j);
	if (r == 0 && !live)
		r = capture_watch_check(&w, path, j.fd, j.idx);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	close(j.fd);
	capture_job_stats(&j, t0, d, st);
	if (r < 0) {
		caibx_free(j.idx);
		return r;
	}
	*ret = j.idx;
	return 0;
}
