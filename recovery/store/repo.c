/* Repository access: manifests and indexes, with errors that say what is wrong. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/store/repo.h"
#include "muletto/format/sign.h"
#include "muletto/core/util.h"

#define REPO_TRUST_FILE "/etc/muletto/trust.pub"

int repo_default_trust(char **ret)
{
	static const struct cred_key k = { "MULETTO_TRUST", "trust", 0 };
	int r = cred_get(&k, ret);

	if (r != -ENOENT)
		return r;
	err_clear();
	*ret = NULL;
	if (access(REPO_TRUST_FILE, F_OK) == 0 && !(*ret = strdup(REPO_TRUST_FILE)))
		return -ENOMEM;
	return 0;
}

int repo_set_trust(struct repo *r, const char *pubfile)
{
	char *t = strdup(pubfile);

	if (!t)
		return -ENOMEM;
	free(r->trust);
	r->trust = t;
	return 0;
}

int repo_open(const char *url, unsigned flags, struct repo **ret)
{
	struct repo *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	e = source_open(url, flags, &r->src);
	if (e < 0) {
		free(r);
		return e;
	}
	r->url = strdup(r->src->url);
	r->store_url = path_join(url, "store");
	e = repo_default_trust(&r->trust);
	if (e < 0) {
		repo_close(r);
		return e;
	}
	if (!r->url || !r->store_url) {
		repo_close(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void repo_close(struct repo *r)
{
	if (!r)
		return;
	source_close(r->src);
	free(r->url);
	free(r->store_url);
	free(r->trust);
	free(r);
}

int repo_check_name(const char *name)
{
	size_t n = strnlen(name, REPO_NAME_MAX + 1), i;

	if (!n || n > REPO_NAME_MAX || name[0] == '.')
		goto bad;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
			    name[i]))
			goto bad;
	return 0;
bad:
	/* the name may come from a server: shown with its control characters escaped */
	return err_set(-EINVAL, "'%.*s' is not a valid image name: use letters, digits, '-', '_' "
				"and '.' (not first), at most %d", (int)MIN(n, (size_t)64), name,
		       REPO_NAME_MAX);
}

char *repo_image_path(const char *name, const char *file)
{
	char *s;

	if (asprintf(&s, "images/%s/%s", name, file) < 0)
		return NULL;
	return s;
}

/* The manifest is missing: say whether the repository or the image is. */
static int repo_explain_missing(struct repo *r, const char *name)
{
	char **names = NULL, list[512] = "";
	size_t n = 0, i, used = 0;
	int e;

	e = source_list(r->src, "images", &names, &n);
	if (e < 0) {
		if (source_exists(r->src, "store") > 0)
			return err_set(-ENOENT, "%s holds a chunk store but no images/ folder: "
						"restore a bare index with 'muletto restore "
						"INDEX.caibx --store %s/store'", r->url, r->url);
		return err_set(-ENOENT, "%s is not a muletto repository (no images/ folder): "
					"check the path or URL", r->url);
	}
	for (i = 0; i < n && used + 4 < sizeof(list); i++) {
		int k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 names[i]);
		if (k < 0 || (size_t)k >= sizeof(list) - used)
			break;
		used += (size_t)k;
	}
	source_free_names(names, n);
	if (!n)
		return err_set(-ENOENT, "%s holds no images yet: capture one first", r->url);
	return err_set(-ENOENT, "no image '%s' in %s; images there: %s", name, r->url, list);
}

/* manifest.json.sig: -ENOENT when the image is not signed. */
static int repo_get_signature(struct repo *r, const char *name, void **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = repo_image_path(name, "manifest.json.sig");

	return path ? source_get(r->src, path, SIGN_FILE_MAX, ret, ret_len) : -ENOMEM;
}

/* Before a byte of the manifest is believed: its signature, by the trusted key. */
static int repo_check_signature(struct repo *r, const char *name, const char *where,
				const void *buf, size_t len)
{
	_cleanup_free_ void *sig = NULL;
	size_t slen = 0;
	int e = repo_get_signature(r, name, &sig, &slen);

	if (e == -ENOENT)
		return err_set(-EPERM, "image '%s' in %s is not signed, and only images signed by "
				       "%s are trusted here: refusing it", name, r->url, r->trust);
	if (e < 0)
		return e;
	return sign_check(r->trust, buf, len, sig, slen, where);
}

int repo_signature(struct repo *r, const char *name, const void *manifest, size_t len,
		   struct repo_signature *ret)
{
	_cleanup_free_ char *path = repo_image_path(name, "manifest.json");
	_cleanup_free_ void *sig = NULL;
	struct sign_line sl;
	size_t slen = 0;
	int e;

	memset(ret, 0, sizeof(*ret));
	ret->trusted = -1;
	if (!path)
		return -ENOMEM;
	e = repo_get_signature(r, name, &sig, &slen);
	if (e < 0 && e != -ENOENT)
		return e;
	if (e == 0 && sign_parse_line(sig, slen, &sl) == 0) {
		ret->signed_ = 1;
		memcpy(ret->key, sl.key, sizeof(ret->key));
	}
	err_clear();
	if (!r->trust)
		return 0;
	e = repo_check_signature(r, name, path, manifest, len);
	ret->trusted = e == 0;
	if (e < 0)
		str_copy(ret->why, sizeof(ret->why), err_msg());
	err_clear();
	return 0;
}

int repo_load_manifest(struct repo *r, const char *name, struct manifest **ret)
{
	_cleanup_free_ char *path = NULL, *where = NULL;
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int e;

	e = repo_check_name(name);
	if (e < 0)
		return e;
	path = repo_image_path(name, "manifest.json");
	where = path ? path_join(r->url, path) : NULL;
	if (!where)
		return -ENOMEM;
	e = source_get(r->src, path, MANIFEST_MAX, &buf, &len);
	if (e == -ENOENT)
		return repo_explain_missing(r, name);
	if (e < 0)
		return e;
	if (r->trust) {
		e = repo_check_signature(r, name, where, buf, len);
		if (e < 0)
			return e;
	}
	return manifest_parse(buf, len, where, ret);
}

int repo_load_index(struct repo *r, const char *name, const struct manifest_disk *d,
		    struct caibx **ret)
{
	_cleanup_free_ char *path = NULL, *where = NULL;
	_cleanup_free_ void *buf = NULL;
	struct caibx *idx = NULL;
	char hex[CHUNK_ID_HEX_SIZE];
	size_t len = 0;
	int e;

	path = repo_image_path(name, d->file);
	where = path ? path_join(r->url, path) : NULL;
	if (!where)
		return -ENOMEM;
	/* the manifest says how many chunks: the index can be no larger */
	e = source_get(r->src, path, d->chunks ? caibx_file_size(d->chunks) : CAIBX_FILE_MAX, &buf,
		       &len);
	if (e == -ENOENT)
		return err_set(e, "%s is missing: the image '%s' is incomplete; capture it again",
			       where, name);
	if (e < 0)
		return e;
	if (r->trust && !d->index_sha256[0])
		return err_set(-EBADMSG, "%s: its manifest pins no hash for it, so the signature "
					 "does not cover it: refusing it", where);
	if (d->index_sha256[0]) {
		e = hash_sha256_hex(buf, len, hex);
		if (e < 0)
			return e;
		if (strcmp(hex, d->index_sha256))
			return err_set(-EBADMSG, "%s does not match its manifest (SHA-256 %.12s…, "
						 "expected %.12s…): the image is damaged or was "
						 "changed; capture it again", where, hex,
				       d->index_sha256);
	}
	e = caibx_adopt(buf, len, where, &idx);
	buf = NULL; /* adopted */
	if (e < 0)
		return e;
	if (caibx_blob_size(idx) != d->size) {
		e = err_set(-EBADMSG, "image '%s': disk%d's index covers %llu bytes but the "
				      "manifest says %llu: the image is damaged; capture it again",
			    name, d->index, (unsigned long long)caibx_blob_size(idx),
			    (unsigned long long)d->size);
		caibx_free(idx);
		return e;
	}
	*ret = idx;
	return 0;
}

#define BOOT_RECORD_MAX (64 * 1024)

int repo_boot_verified(struct repo *r, const char *name, struct repo_boot *ret)
{
	_cleanup_free_ char *path = repo_image_path(name, BOOT_RECORD_FILE);
	_cleanup_free_ void *buf = NULL;
	const char *date;
	size_t len = 0;
	json_t *o;
	int e;

	memset(ret, 0, sizeof(*ret));
	e = path ? source_get(r->src, path, BOOT_RECORD_MAX, &buf, &len) : -ENOMEM;
	if (e == -ENOENT) {
		err_clear();
		return 0;
	}
	if (e < 0)
		return e;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	date = json_string_value(json_object_get(o, "date"));
	/* only what reads as a record: a boolean and a date that starts YYYY-MM-DD */
	if (json_is_boolean(json_object_get(o, "booted")) && date && strlen(date) >= 10 &&
	    strspn(date, "0123456789") == 4 && date[4] == '-' && strspn(date + 5, "0123456789") == 2 &&
	    date[7] == '-' && strspn(date + 8, "0123456789") >= 2) {
		ret->known = 1;
		ret->booted = json_is_true(json_object_get(o, "booted"));
		memcpy(ret->date, date, 10);
		ret->date[10] = 0;
	}
	json_decref(o);
	return 0;
}

static void repo_list_load(struct repo *r, struct repo_image *e)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int rc;

	if (repo_check_name(e->name) < 0) {
		str_copy(e->status, sizeof(e->status), "bad name");
		str_copy(e->error, sizeof(e->error), err_msg());
		goto out;
	}
	path = repo_image_path(e->name, "manifest.json");
	rc = path ? source_get(r->src, path, MANIFEST_MAX, &buf, &len) : -ENOMEM;
	if (rc == -ENOENT) {
		str_copy(e->status, sizeof(e->status), "incomplete");
		str_copy(e->error, sizeof(e->error), "no manifest.json (capture interrupted?)");
	} else if (rc < 0 || manifest_parse(buf, len, path, &e->m) < 0 ||
		   repo_signature(r, e->name, buf, len, &e->sig) < 0) {
		manifest_free(e->m);
		e->m = NULL;
		str_copy(e->status, sizeof(e->status), "damaged");
		str_copy(e->error, sizeof(e->error), err_msg());
	} else {
		str_copy(e->status, sizeof(e->status), "ok");
	}
out:
	err_clear();
}

static int repo_image_cmp(const void *a, const void *b)
{
	return strcmp(((const struct repo_image *)a)->name, ((const struct repo_image *)b)->name);
}

int repo_list(struct repo *r, struct repo_image **ret, size_t *ret_n)
{
	struct repo_image *v;
	char **names = NULL;
	size_t n = 0, i;
	int e = source_list(r->src, "images", &names, &n);

	if (e == -ENOENT) {
		if (source_exists(r->src, "store") <= 0)
			return err_set(-ENOENT, "%s is not a muletto or casync repository (no "
						"images/ or store/ folder): check the path", r->url);
		n = 0; /* a bare chunk store: no images, not an error */
		err_clear();
	} else if (e < 0) {
		return e; /* the server refused or failed: say that, not "no repository" */
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		source_free_names(names, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		v[i].name = names[i];
		repo_list_load(r, &v[i]);
	}
	free(names); /* the strings now belong to v */
	qsort(v, n, sizeof(*v), repo_image_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

void repo_list_free(struct repo_image *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].name);
		manifest_free(v[i].m);
	}
	free(v);
}
