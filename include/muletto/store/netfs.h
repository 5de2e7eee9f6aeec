/* Repositories on file systems the kernel mounts: SMB and NFS shares, and a
 * local disk named by label or UUID.
 *
 * The file system is mounted by the tool itself through mount(2) (options,
 * password included, never on a command line), read-only unless the source is
 * opened with SOURCE_WRITE (capture), with nodev, nosuid and noexec, on a
 * private folder under /run/muletto. One mount serves every worker of the
 * process (counted); the last user unmounts it. Everything else goes to the
 * file source on the mounted folder, retried while the server is away
 * (MULETTO_RETRY_SECONDS). */
#ifndef MULETTO_STORE_NETFS_H
#define MULETTO_STORE_NETFS_H

#include "muletto/store/source.h"

struct netfs {
	struct source *inner; /* the file source on the mounted folder */
	char *dir;	      /* the mount point */
	char *root;	      /* the repository's folder inside it */
};

/* What to tell the technician when mount(2) fails, per kind of failure
 * (NULL: a plain "cannot mount"). Each is said after "URL: ". */
struct netfs_words {
	const char *refused;	 /* EACCES, EPERM, EKEYREJECTED */
	const char *missing;	 /* ENOENT, ENXIO: no such share or export */
	const char *unreachable; /* ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT, ... */
	const char *protocol;	 /* EOPNOTSUPP, EPROTONOSUPPORT, EINVAL */
	const char *busy;	 /* EBUSY */
};

/* Mounts (or reuses) fstype from dev with data (options) and opens the file
 * source on subpath inside it. versions: alternative option strings tried in
 * order when the server refuses one ("vers=3.1.1", "vers=3.0", ...); each is
 * appended to data. */
int netfs_attach(struct source *s, const char *fstype, const char *dev, const char *data,
		 const char *const *versions, const char *subpath, const struct netfs_words *w);
void netfs_close(struct source *s);

/* Loads a kernel module (modprobe -q); the boot environment's kernel may not
 * find modprobe by itself. */
void netfs_modprobe(const char *module);
/* The first address of the URL's host as text (for the kernel's ip= and addr=
 * options). */
int netfs_resolve(const struct source *s, char *out, size_t size);

int netfs_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n);
int netfs_get(struct source *s, const char *path, size_t max, void **ret_buf, size_t *ret_len);
int netfs_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx);
int netfs_put(struct source *s, const char *path, const void *buf, size_t len);
int netfs_sync(struct source *s);
int netfs_exists(struct source *s, const char *path);
int netfs_size(struct source *s, const char *path, uint64_t *ret);

/* Registers a mounted kind of repository: its schemes, URL form and open. */
#define NETFS_BACKEND(name, schemes_, form_, open_)                                        \
	SOURCE_BACKEND(name) = {                                                           \
		.schemes = schemes_, .form = form_,                                        \
		.caps = SOURCE_CAN_LIST | SOURCE_CAN_WRITE | SOURCE_MOUNTS,                \
		.priv_size = sizeof(struct netfs), .open = open_, .list = netfs_list,      \
		.get_object = netfs_get, .stream = netfs_stream, .put_object = netfs_put,  \
		.sync = netfs_sync, .exists = netfs_exists, .size = netfs_size,            \
		.close = netfs_close,                                                      \
	}

#endif
