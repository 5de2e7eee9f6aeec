/* Repository sources: the registered backends and the wrappers every caller uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/source.h"

/* Every SOURCE_BACKEND, gathered by the linker. */
extern const struct source_ops *const __start_muletto_sources[];
extern const struct source_ops *const __stop_muletto_sources[];

static const struct source_ops *source_lookup(const char *scheme)
{
	const struct source_ops *const *o;
	const char *const *s;

	for (o = __start_muletto_sources; o < __stop_muletto_sources; o++)
		for (s = (*o)->schemes; *s; s++)
			if (!strcmp(*s, scheme))
				return *o;
	return NULL;
}

static int source_unsupported(const struct url *u)
{
	const struct source_ops *const *o;
	const char *const *s;
	char kinds[256] = "a path";
	size_t n = strlen(kinds);

	for (o = __start_muletto_sources; o < __stop_muletto_sources; o++)
		for (s = (*o)->schemes; *s; s++)
			n += (size_t)snprintf(kinds + n, n < sizeof(kinds) ? sizeof(kinds) - n : 0,
					      ", %s://", *s);
	return err_set(-EPROTONOSUPPORT, "%s: unsupported repository type '%s'; use %s",
		       u->text, u->scheme, kinds);
}

int source_open(const char *url, unsigned flags, struct source **ret)
{
	const struct source_ops *ops;
	struct source *s;
	struct url *u = NULL;
	int r = url_parse(url, &u);

	if (r < 0)
		return r;
	ops = source_lookup(u->scheme);
	if (!ops) {
		r = source_unsupported(u);
		url_free(u);
		return r;
	}
	if ((flags & SOURCE_WRITE) && !(ops->caps & SOURCE_CAN_WRITE)) {
		r = err_set(-EROFS, "%s is read-only here: capture to a folder, an SMB or NFS "
				    "share, an S3 bucket or an SFTP server", u->text);
		url_free(u);
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s || (ops->priv_size && !(s->priv = calloc(1, ops->priv_size)))) {
		free(s);
		url_free(u);
		return -ENOMEM;
	}
	s->ops = ops;
	s->u = u;
	s->url = u->text;
	s->flags = flags;
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
	if (s->ops->close && s->priv)
		s->ops->close(s);
	free(s->priv);
	url_free(s->u);
	free(s);
}

int source_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	if (!(s->ops->caps & SOURCE_CAN_LIST))
		return err_set(-EOPNOTSUPP, "%s cannot list folders", s->url);
	return s->ops->list(s, dir, ret_names, ret_n);
}

int source_get(struct source *s, const char *path, size_t max, void **ret_buf, size_t *ret_len)
{
	return s->ops->get_object(s, path, max, ret_buf, ret_len);
}

int source_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx)
{
	return s->ops->stream(s, path, cb, ctx);
}

int source_put(struct source *s, const char *path, const void *buf, size_t len)
{
	if (!(s->ops->caps & SOURCE_CAN_WRITE) || !(s->flags & SOURCE_WRITE))
		return err_set(-EROFS, "%s is read-only here: capture to a folder or a file:// "
				       "path", s->url);
	return s->ops->put_object(s, path, buf, len);
}

int source_sync(struct source *s)
{
	if (!(s->ops->caps & SOURCE_CAN_WRITE) || !(s->flags & SOURCE_WRITE))
		return 0;
	return s->ops->sync(s);
}

int source_exists(struct source *s, const char *path)
{
	return s->ops->exists(s, path);
}

int source_size(struct source *s, const char *path, uint64_t *ret)
{
	return s->ops->size(s, path, ret);
}

void source_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int source_names_add(struct source_names *l, const char *name, size_t len, int unique)
{
	size_t i;

	if (unique)
		for (i = 0; i < l->n; i++)
			if (strlen(l->v[i]) == len && !memcmp(l->v[i], name, len))
				return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strndup(name, len)))
		return -ENOMEM;
	l->n++;
	return 0;
}

void source_names_take(struct source_names *l, char ***ret_names, size_t *ret_n)
{
	*ret_names = l->v;
	*ret_n = l->n;
	memset(l, 0, sizeof(*l));
}

void source_names_clear(struct source_names *l)
{
	source_free_names(l->v, l->n);
	memset(l, 0, sizeof(*l));
}
