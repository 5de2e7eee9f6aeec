/* A whole restore: which image, which target, the checks and the question,
 * then the writing. From a repository image, a bare casync index or a raw
 * image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/machine.h"
#include "muletto/engine/restore.h"
#include "muletto/store/repo.h"
#include "muletto/store/source.h"
#include "muletto/store/url.h"

/* Picks --to auto, asks, opens: the target ready for idx, or nothing written. */
static int restore_target(const struct restore_request *q, struct restore_result *res,
			  const struct caibx *idx, struct target **ret)
{
	_cleanup_free_ char *picked = NULL;
	int r;

	if (!strcmp(q->to, "auto")) {
		r = target_pick_auto(caibx_blob_size(idx), &picked);
		if (r < 0)
			return r;
		event_state("restore", NULL, "target", RESTORE_AUTO_PICKED "%s", picked);
	}
	str_copy(res->target, sizeof(res->target), picked ? picked : q->to);
	if (q->confirm && (r = q->confirm(q->ctx, res->target, caibx_blob_size(idx))) < 0)
		return r;
	return target_open(res->target, caibx_blob_size(idx), restore_data_bytes(idx), ret);
}

int restore_partly(int r, const char *target)
{
	char cause[ERR_MSG_MAX];

	str_copy(cause, sizeof(cause), err_msg());
	return err_set(r, "%s; %s now holds a partly restored image: run the same command "
			  "again once that is fixed", cause, target);
}

/* Writes idx to the target, after the confirmation and the safety checks. */
static int restore_write(const struct restore_request *q, struct restore_result *res,
			 const struct caibx *idx, const char *store, const char *image,
			 int disk)
{
	struct target *t = NULL;
	double t0;
	int r, r2;

	r = restore_target(q, res, idx, &t);
	if (r < 0)
		return r;
	t0 = now_seconds();
	r = restore_index(idx, store, t, &q->o, image, disk, &res->st);
	if (r == 0 && q->o.verify)
		r = restore_verify(idx, t, image, disk);
	r2 = target_close(t, r == 0);
	res->st.seconds = now_seconds() - t0; /* the final flush is part of the restore */
	if (r == 0)
		r = r2;
	return r < 0 ? restore_partly(r, res->target) : 0;
}

/* What differs from the captured machine (restore_result.differs). */
static void restore_differs(const struct restore_request *q, const struct manifest *m,
			    struct restore_result *res)
{
	size_t len;

	if (machine_differs(m, res->differs, sizeof(res->differs)) < 0) {
		debug_log("restore", "cannot compare the machines: %s", err_msg());
		res->differs[0] = 0;
	}
	len = strlen(res->differs);
	/* --firmware: the machine the system will boot on is not this one */
	if (q->firmware && m->firmware[0] && strcmp(q->firmware, m->firmware) &&
	    !strstr(res->differs, "firmware") && len + 64 < sizeof(res->differs))
		snprintf(res->differs + len, sizeof(res->differs) - len, "%sfirmware %.16s -> %.16s",
			 len ? "; " : "", m->firmware, q->firmware);
	len = strlen(res->differs);
	if (res->laid_out && len + 32 < sizeof(res->differs))
		snprintf(res->differs + len, sizeof(res->differs) - len, "%sdisk size or sector size",
			 len ? "; " : "");
}

static int restore_from_repo(const struct restore_request *q, struct restore_result *res)
{
	struct manifest *m = NULL;
	struct caibx *idx = NULL;
	struct repo *repo = NULL;
	const struct manifest_disk *d;
	int r, laid_out = 0;

	r = repo_open(q->from, 0, &repo);
	if (r < 0)
		return r;
	if (q->trust && (r = repo_set_trust(repo, q->trust)) < 0)
		goto out;
	r = repo_load_manifest(repo, q->name, &m);
	if (r < 0)
		goto out;
	if (m->consistency == MANIFEST_LIVE)
		event_notice("image '%s' was captured live (--live), while its disks were in use: "
			     "its file systems may be inconsistent; check them (fsck) after the "
			     "restore", q->name);
	d = manifest_find_disk(m, q->disk);
	if (!d) {
		r = err_set(-ENOENT, "image '%s' has %zu disk(s), numbered 0 to %zu: there is no "
				     "--disk %d", q->name, m->ndisks, m->ndisks ? m->ndisks - 1 : 0,
			    q->disk);
		goto out;
	}
	r = repo_load_index(repo, q->name, d, &idx);
	if (r < 0)
		goto out;
	snprintf(res->what, sizeof(res->what), "%s disk%d", q->name, q->disk);
	r = restore_layout(q, res, m, d, idx, repo->store_url, q->name, &laid_out);
	if (r == 0 && !laid_out)
		r = restore_write(q, res, idx, repo->store_url, q->name, q->disk);
	if (r == 0 && !res->planned_only)
		restore_differs(q, m, res);
out:
	caibx_free(idx);
	manifest_free(m);
	repo_close(repo);
	return r;
}

/* Raw images and bare indexes carry no signature: not where only signed
 * images may be written. */
static int restore_unsigned_allowed(const struct restore_request *q)
{
	_cleanup_free_ char *trust = NULL;
	int r = q->trust ? 0 : repo_default_trust(&trust);

	if (r < 0)
		return r;
	if (q->trust || trust)
		return err_set(-EPERM, "%s cannot be signed, and only images signed by %s are "
				       "trusted here: restore a signed image from a repository",
			       q->from, q->trust ? q->trust : trust);
	return 0;
}

/* The most a bare index may take: the size the server announces (an
 * endless answer is then cut there), else CAIBX_UNSIZED_MAX. */
static int restore_index_size(struct source *src, const char *name, size_t *ret)
{
	uint64_t size = 0;
	int r = source_size(src, name, &size);

	if (r == -ENOENT)
		return r;
	err_clear();
	*ret = r == 0 ? (size_t)MIN(size, CAIBX_FILE_MAX) : CAIBX_UNSIZED_MAX;
	return 0;
}

static int restore_from_caibx(const struct restore_request *q, struct restore_result *res)
{
	_cleanup_free_ char *parent = NULL, *name = NULL;
	_cleanup_free_ void *buf = NULL;
	struct source *src = NULL;
	struct caibx *idx = NULL;
	size_t len = 0, max = 0;
	int r;

	if (!q->store)
		return err_set(-EINVAL, "%s is a bare casync index: say where its chunks are "
					"with --store PATH-OR-URL", q->from);
	r = restore_unsigned_allowed(q);
	if (r == 0)
		r = url_split(q->from, &parent, &name);
	if (r == 0)
		r = source_open(parent, 0, &src);
	if (r == 0)
		r = restore_index_size(src, name, &max);
	if (r == 0)
		r = source_get(src, name, max, &buf, &len);
	if (r == -ENOENT)
		r = err_set(r, "%s does not exist: check the path", q->from);
	if (r == 0) {
		r = caibx_adopt(buf, len, q->from, &idx);
		buf = NULL;
	}
	if (r == 0) {
		str_copy(res->what, sizeof(res->what), name);
		r = restore_write(q, res, idx, q->store, name, -1);
	}
	caibx_free(idx);
	source_close(src);
	return r;
}

static int restore_from_raw(const struct restore_request *q, struct restore_result *res)
{
	static const char *const exts[] = { ".img", ".raw", ".bin", ".dd", ".zst", ".zstd" };
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(exts) && !str_ends_with(q->from, exts[i]); i++)
		;
	if (i == ARRAY_SIZE(exts))
		return err_set(-EINVAL, "'%s' is neither a raw image (.img, .img.zst) nor a casync "
					"index (.caibx); to restore from a repository, name the "
					"image too: muletto restore REPO NAME --to ...", q->from);
	if (!strcmp(q->to, "auto"))
		return err_set(-EINVAL, "--to auto needs the image's size, which a raw image "
					"does not say beforehand: name the disk");
	r = restore_unsigned_allowed(q);
	if (r == 0 && q->confirm)
		r = q->confirm(q->ctx, q->to, 0);
	if (r < 0)
		return r;
	str_copy(res->what, sizeof(res->what), q->from);
	str_copy(res->target, sizeof(res->target), q->to);
	return restore_raw(q->from, q->to, &q->o, &res->st);
}

int restore_run(const struct restore_request *q, struct restore_result *res)
{
	memset(res, 0, sizeof(*res));
	if (q->name)
		return restore_from_repo(q, res);
	if (str_ends_with(q->from, ".caibx"))
		return restore_from_caibx(q, res);
	return restore_from_raw(q, res);
}
