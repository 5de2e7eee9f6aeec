/* Repository sources: the scheme table and the wrappers every caller uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/err.h"
#include "muletto/source.h"
#include "muletto/util.h"

static const struct source_ops *const source_table[] = {
	&source_file_ops,
	&source_http_ops,
	&source_https_ops,
	&source_s3_ops,
	&source_sftp_ops,
	&source_smb_ops,
	&source_nfs_ops,
	&source_label_ops,
	&source_uuid_ops,
};

/* "http://user:secret@host/x" -> "http://user@host/x": messages never hold a password. */
static char *url_without_password(const char *url)
{
	const char *scheme_end = strstr(url, "://"), *host, *at, *colon;
	char *s;

	if (!scheme_end)
		return strdup(url);
	host = scheme_end + 3;
	at = strchr(host, '@');
	if (!at || (strchr(host, '/') && strchr(host, '/') < at))
		return strdup(url);
	colon = memchr(host, ':', (size_t)(at - host));
	if (!colon)
		return strdup(url);
	s = malloc(strlen(url) + 1);
	if (!s)
		return NULL;
	memcpy(s, url, (size_t)(colon - url));
	strcpy(s + (colon - url), at);
	return s;
}

static const struct source_ops *source_lookup(const char *url, const char **ret_rest)
{
	const char *sep = strstr(url, "://");
	size_t i, n;

	if (!sep) {
		*ret_rest = url;
		return &source_file_ops;
	}
	n = (size_t)(sep - url);
	for (i = 0; i < ARRAY_SIZE(source_table); i++)
		if (strlen(source_table[i]->scheme) == n &&
		    !strncasecmp(url, source_table[i]->scheme, n)) {
			*ret_rest = source_table[i] == &source_file_ops ? sep + 3 : url;
			return source_table[i];
		}
	return NULL;
}

int source_open(const char *url, struct source **ret)
{
	const struct source_ops *ops;
	const char *rest = NULL;
	struct source *s;
	int r;

	ops = source_lookup(url, &rest);
	if (!ops) {
		const char *sep = strstr(url, "://");
		return err_set(-EPROTONOSUPPORT, "%s: unsupported repository type '%.*s'; use a "
						 "path, file://, http://, https://, s3://, sftp://, smb://, nfs://, label:// or uuid://", url,
			       (int)(sep - url), url);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->url = url_without_password(url);
	s->base = strdup(rest);
	s->priv = ops->priv_size ? calloc(1, ops->priv_size) : NULL;
	if (!s->url || !s->base || (ops->priv_size && !s->priv)) {
		source_close(s);
		return -ENOMEM;
	}
	r = ops->open(s);
	if (r < 0) {
		source_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close && s->priv)
		s->ops->close(s);
	free(s->priv);
	free(s->url);
	free(s->base);
	free(s);
}

int source_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	if (!s->ops->list)
		return err_set(-EOPNOTSUPP, "%s cannot list folders", s->url);
	return s->ops->list(s, dir, ret_names, ret_n);
}

int source_get(struct source *s, const char *path, void **ret_buf, size_t *ret_len)
{
	return s->ops->get_object(s, path, ret_buf, ret_len);
}

int source_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx)
{
	return s->ops->stream(s, path, cb, ctx);
}

int source_put(struct source *s, const char *path, const void *buf, size_t len)
{
	if (!s->ops->put_object)
		return err_set(-EROFS, "%s is read-only here: capture to a folder or a file:// "
				       "path", s->url);
	return s->ops->put_object(s, path, buf, len);
}

int source_sync(struct source *s)
{
	return s->ops->sync ? s->ops->sync(s) : 0;
}

int source_exists(struct source *s, const char *path)
{
	return s->ops->exists(s, path);
}

int source_size(struct source *s, const char *path, uint64_t *ret)
{
	return s->ops->size(s, path, ret);
}

static int source_write_wanted;

void source_want_write(void)
{
	source_write_wanted = 1;
}

int source_writable(void)
{
	return source_write_wanted;
}

void source_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int source_split_url(const char *url, char **ret_parent, char **ret_name)
{
	const char *sep = strstr(url, "://"), *start = sep ? sep + 3 : url;
	const char *slash = strrchr(start, '/');
	char *parent, *name;

	if (!slash) {
		if (sep)
			return err_set(-EINVAL, "%s names no file", url);
		parent = strdup(".");
		name = strdup(url);
	} else {
		parent = slash == url ? strdup("/") : strndup(url, (size_t)(slash - url));
		name = strdup(slash + 1);
	}
	if (!parent || !name || !*name) {
		int r = (!parent || !name) ? -ENOMEM : err_set(-EINVAL, "%s names no file", url);
		free(parent);
		free(name);
		return r;
	}
	*ret_parent = parent;
	*ret_name = name;
	return 0;
}
