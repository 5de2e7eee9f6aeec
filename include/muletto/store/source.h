/* Where a repository's bytes come from (and go to, for capture).
 *
 * A source is opened on a repository URL or path; object paths are relative to
 * it ("images/web01/manifest.json", "store/3f2a/3f2a...cacnk"). Each kind of
 * source is one file (source_file.c, source_http.c, ...) that declares its
 * schemes and what it can do in a struct source_ops and registers it with
 * SOURCE_BACKEND: adding a kind of repository is adding a file.
 * A source is used by one thread at a time; workers open their own. */
#ifndef MULETTO_STORE_SOURCE_H
#define MULETTO_STORE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/store/url.h"

struct source;

/* Called with successive pieces of an object, in order; return 0 to go on or a
 * negative code to stop (passed back from source_stream). */
typedef int (*source_stream_cb)(void *ctx, const void *buf, size_t len);

/* What a kind of source can do. Every source can read objects. */
enum source_cap {
	SOURCE_CAN_LIST = 1 << 0,  /* folders can be listed (ls) */
	SOURCE_CAN_WRITE = 1 << 1, /* objects can be stored (capture) */
	SOURCE_MOUNTS = 1 << 2,	   /* the kernel mounts it (a share, a local disk) */
};

/* How a source is opened. */
enum source_flag {
	SOURCE_WRITE = 1 << 0, /* to store objects: shares are mounted read-write */
};

struct source_ops {
	const char *const *schemes; /* "http", "https", ...; NULL-terminated */
	const char *form;	    /* how its URLs look, for messages */
	unsigned caps;		    /* enum source_cap */
	size_t priv_size;	    /* bytes of private state allocated for the source */
	int (*open)(struct source *s);
	/* SOURCE_CAN_LIST: names in a folder (no "." or ".."; no trailing slash). */
	int (*list)(struct source *s, const char *dir, char ***ret_names, size_t *ret_n);
	/* Whole object into a new malloc'd buffer (NUL added past len); more than
	 * max bytes: -EFBIG with a message (a broken or hostile server). */
	int (*get_object)(struct source *s, const char *path, size_t max, void **ret_buf,
			  size_t *ret_len);
	/* Whole object, piece by piece, in order (for large raw images). */
	int (*stream)(struct source *s, const char *path, source_stream_cb cb, void *ctx);
	/* SOURCE_CAN_WRITE: stores an object atomically (temporary name, then
	 * rename); not yet durable, see sync. */
	int (*put_object)(struct source *s, const char *path, const void *buf, size_t len);
	/* SOURCE_CAN_WRITE: makes every object put so far durable. */
	int (*sync)(struct source *s);
	/* 1 if the object (or folder) exists, 0 if not. */
	int (*exists)(struct source *s, const char *path);
	/* Total size of an object, for progress; -ENOENT if missing. */
	int (*size)(struct source *s, const char *path, uint64_t *ret);
	void (*close)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	struct url *u;	 /* the repository's URL, parsed */
	const char *url; /* u->text: for messages (never holds a password) */
	unsigned flags;	 /* enum source_flag */
	void *priv;	 /* priv_size bytes, zeroed */
};

/* Registers a backend: "SOURCE_BACKEND(web_ops) = { .schemes = ..., ... };" */
#define SOURCE_BACKEND(name)                                                               \
	static const struct source_ops name;                                               \
	static const struct source_ops *const name##_entry                                 \
		__attribute__((used, section("muletto_sources"))) = &name;                 \
	static const struct source_ops name

/* Opens a source for a repository given as a path or URL; flags: enum
 * source_flag. -EPROTONOSUPPORT (with a message) for unknown schemes, -EROFS
 * for SOURCE_WRITE on a kind that cannot store. */
int source_open(const char *url, unsigned flags, struct source **ret);
void source_close(struct source *s);

int source_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n);
int source_get(struct source *s, const char *path, size_t max, void **ret_buf, size_t *ret_len);
int source_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx);
int source_put(struct source *s, const char *path, const void *buf, size_t len);
int source_sync(struct source *s);
int source_exists(struct source *s, const char *path);
int source_size(struct source *s, const char *path, uint64_t *ret);
void source_free_names(char **names, size_t n);

/* A list of names being built (listings): appended one by one. */
struct source_names {
	char **v;
	size_t n, cap;
};
/* Appends len bytes of name (a copy); unique: not when already there. */
int source_names_add(struct source_names *l, const char *name, size_t len, int unique);
/* Hands the list over as ret_names and ret_n (empty: NULL, 0). */
void source_names_take(struct source_names *l, char ***ret_names, size_t *ret_n);
void source_names_clear(struct source_names *l);

#endif
