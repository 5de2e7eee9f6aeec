/* Where a repository's bytes come from (and go to, for capture).
 *
 * A source is opened on a repository URL or path; object paths are relative to
 * it ("images/web01/manifest.json", "store/3f2a/3f2a...cacnk"). One struct
 * source_ops per scheme, in its own file (source_file.c, source_http.c, ...),
 * listed in the table in source.c: adding a scheme is adding a file.
 * A source is used by one thread at a time; workers open their own. */
#ifndef MULETTO_SOURCE_H
#define MULETTO_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct source;

/* Called with successive pieces of an object, in order; return 0 to go on or a
 * negative code to stop (passed back from source_stream). */
typedef int (*source_stream_cb)(void *ctx, const void *buf, size_t len);

struct source_ops {
	const char *scheme; /* "file", "http", "https", ... */
	size_t priv_size;   /* bytes of private state allocated for the source */
	int (*open)(struct source *s);
	/* Names in a folder (no "." or ".."; folders without a trailing slash). */
	int (*list)(struct source *s, const char *dir, char ***ret_names, size_t *ret_n);
	/* Whole object into a new malloc'd buffer (NUL added past len). */
	int (*get_object)(struct source *s, const char *path, void **ret_buf, size_t *ret_len);
	/* Whole object, piece by piece, in order (for large raw images). */
	int (*stream)(struct source *s, const char *path, source_stream_cb cb, void *ctx);
	/* Stores an object atomically (temporary name, then rename); NULL if
	 * read-only. Not yet durable: see sync. */
	int (*put_object)(struct source *s, const char *path, const void *buf, size_t len);
	/* Makes every object put so far durable (one flush for many chunks). */
	int (*sync)(struct source *s);
	/* 1 if the object exists, 0 if not. */
	int (*exists)(struct source *s, const char *path);
	/* Total size of an object, for progress; -ENOENT if missing. */
	int (*size)(struct source *s, const char *path, uint64_t *ret);
	void (*close)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	char *url;     /* as given, for messages (never holds a password) */
	char *base;    /* scheme-specific base: a folder path, or a URL ending in '/' */
	void *priv;    /* priv_size bytes, zeroed */
};

/* Opens a source for a repository given as a path or URL. -EPROTONOSUPPORT
 * (with a message) for unknown schemes. */
int source_open(const char *url, struct source **ret);
void source_close(struct source *s);

int source_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n);
int source_get(struct source *s, const char *path, void **ret_buf, size_t *ret_len);
int source_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx);
int source_put(struct source *s, const char *path, const void *buf, size_t len);
int source_sync(struct source *s);
int source_exists(struct source *s, const char *path);
int source_size(struct source *s, const char *path, uint64_t *ret);
void source_free_names(char **names, size_t n);

/* Sources opened from now on may be written (capture): network shares are
 * then mounted read-write; otherwise read-only. */
void source_want_write(void);
int source_writable(void);

/* Splits "http://host/a/b/file.img" into the parent URL and the last
 * component; both new strings. Works for paths too. */
int source_split_url(const char *url, char **ret_parent, char **ret_name);

extern const struct source_ops source_file_ops;
extern const struct source_ops source_http_ops;
extern const struct source_ops source_https_ops;
extern const struct source_ops source_s3_ops;
extern const struct source_ops source_sftp_ops;
extern const struct source_ops source_smb_ops;
extern const struct source_ops source_nfs_ops;
extern const struct source_ops source_label_ops;
extern const struct source_ops source_uuid_ops;

#endif
