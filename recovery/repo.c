/* Repository access: manifests and indexes, with errors that say what is wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/repo.h"
#include "muletto/sign.h"
#include "muletto/util.h"

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

int repo_open(const char *url, struct repo **ret)
{
	struct repo *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	e = source_open(url, &r->src);
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
	const char *p;

	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strlen(name) > 200)
		goto bad;
	for (p = name; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			goto bad;
	return 0;
bad:
	return err_set(-EINVAL, "'%s' is not a valid image name: use letters, digits, '-', '_' "
				"and '.', without '/'", name);
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

/* Before a byte of the manifest is believed: its signature, by the trusted key. */
static int repo_check_signature(struct repo *r, const char *name, const char *where,
				const void *buf, size_t len)
{
	_cleanup_free_ char *path = repo_image_path(name, "manifest.json.sig");
	_cleanup_free_ void *sig = NULL;
	size_t slen = 0;
	int e;

	if (!path)
		return -ENOMEM;
	e = source_get(r->src, path, &sig, &slen);
	if (e == -ENOENT)
		return err_set(-EPERM, "image '%s' in %s is not signed, and only images signed by "
				       "%s are trusted here: refusing it", name, r->url, r->trust);
	if (e < 0)
		return e;
	return sign_check(r->trust, buf, len, sig, where);
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
	e = source_get(r->src, path, &buf, &len);
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
	char hex[65];
	size_t len = 0;
	int e;

	path = repo_image_path(name, d->file);
	where = path ? path_join(r->url, path) : NULL;
	if (!where)
		return -ENOMEM;
	e = source_get(r->src, path, &buf, &len);
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
	e = caibx_adopt(buf, len, where, ret);
	buf = NULL; /* adopted */
	return e;
}
