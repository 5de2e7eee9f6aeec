/* Kernel-mounted repositories (SMB, NFS): one counted mount per share. */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/store/netfs.h"
#include "muletto/core/util.h"

#define NETFS_RUN_DIR "/run/muletto"

struct netfs_mount {
	char *key; /* fstype, device and options without secrets */
	char *dir;
	int refs;
	struct netfs_mount *next;
};

/* Guards netfs_mounts. */
static pthread_mutex_t netfs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netfs_mount *netfs_mounts;

/* The kernel loads file system modules on demand only when it can find
 * modprobe; ask for it once ourselves. */
void netfs_modprobe(const char *fstype)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("modprobe", "modprobe", "-q", fstype, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

int netfs_resolve(const struct source *s, char *out, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	_cleanup_free_ char *host = url_host_with_zone(s->u);
	int e;

	if (!host)
		return -ENOMEM;
	e = getaddrinfo(host, NULL, &hints, &ai);
	if (e)
		return err_set(-EHOSTUNREACH, "%s: cannot resolve the host name %s (%s): check the "
					      "name and the DNS server", s->url, host, gai_strerror(e));
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, out,
			  (socklen_t)size);
	if (ai->ai_family == AF_INET6 && s->u->zone)
		snprintf(out + strlen(out), size - strlen(out), "%%%s", s->u->zone);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, out,
			  (socklen_t)size);
	freeaddrinfo(ai);
	return 0;
}

static int netfs_mount_dir(char **ret)
{
	char *dir = str_printf("%s/mnt-XXXXXX", NETFS_RUN_DIR);

	if (!dir)
		return -ENOMEM;
	mkdir(NETFS_RUN_DIR, 0700);
	if (!mkdtemp(dir)) {
		int e = errno;
		free(dir);
		return err_set(-e, "cannot make a mount point under %s: %s", NETFS_RUN_DIR,
			       strerror(e));
	}
	*ret = dir;
	return 0;
}

/* mount(2) with each of the versions in turn; the errno of the last try. */
static int netfs_try_mount(const char *fstype, const char *dev, const char *dir, const char *data,
			   const char *const *versions, unsigned long flags, const char **ret_version)
{
	static const char *const none[] = { "", NULL };
	const char *const *v = versions ? versions : none;
	int e = 0, loaded = 0;

	for (; *v; v++) {
		_cleanup_free_ char *opts = str_printf("%s%s%s", data, **v && *data ? "," : "", *v);
		if (!opts)
			return ENOMEM;
		*ret_version = *v;
		if (mount(dev, dir, fstype, flags, opts) == 0) {
			explicit_bzero(opts, strlen(opts));
			return 0;
		}
		e = errno;
		explicit_bzero(opts, strlen(opts));
		if (e == ENODEV && !loaded) {
			netfs_modprobe(fstype);
			loaded = 1;
			v--; /* the same version again, now that the module is there */
			continue;
		}
		/* a refused login or an unreachable server is the same in every
		 * version; anything else may be this version's problem only */
		if (e == EACCES || e == EPERM || e == EKEYREJECTED || e == ECONNREFUSED ||
		    e == EHOSTUNREACH || e == ENETUNREACH || e == ETIMEDOUT)
			break;
	}
	return e;
}

/* mount(2)'s errno in the words of the kind of share. */
static int netfs_explain(struct source *s, int e, const char *version,
			 const struct netfs_words *w)
{
	static const struct {
		int err, code;
		size_t word; /* offset in struct netfs_words */
	} kinds[] = {
		{ EACCES, -EACCES, offsetof(struct netfs_words, refused) },
		{ EPERM, -EACCES, offsetof(struct netfs_words, refused) },
		{ EKEYREJECTED, -EACCES, offsetof(struct netfs_words, refused) },
		{ ENOENT, -ENOENT, offsetof(struct netfs_words, missing) },
		{ ENXIO, -ENOENT, offsetof(struct netfs_words, missing) },
		{ ECONNREFUSED, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ EHOSTUNREACH, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ ETIMEDOUT, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ ENETUNREACH, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ EHOSTDOWN, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ EIO, -ECONNREFUSED, offsetof(struct netfs_words, unreachable) },
		{ EOPNOTSUPP, -EPROTONOSUPPORT, offsetof(struct netfs_words, protocol) },
		{ EPROTONOSUPPORT, -EPROTONOSUPPORT, offsetof(struct netfs_words, protocol) },
		{ EINVAL, -EPROTONOSUPPORT, offsetof(struct netfs_words, protocol) },
		{ EBUSY, -EBUSY, offsetof(struct netfs_words, busy) },
	};
	size_t i;

	if (e == EPERM && geteuid() != 0)
		return err_set(-EPERM, "%s: mounting needs root", s->url);
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		const char *word = *(const char *const *)((const char *)w + kinds[i].word);
		if (kinds[i].err == e && word)
			return err_set(kinds[i].code, "%s: %s (%s)", s->url, word, strerror(e));
	}
	return err_set(-e, "%s: cannot mount it (%s%s%s)", s->url, version, *version ? ": " : "",
		       strerror(e));
}

int netfs_attach(struct source *s, const char *fstype, const char *dev, const char *data,
		 const char *const *versions, const char *subpath, const struct netfs_words *w)
{
	int writable = !!(s->flags & SOURCE_WRITE);
	struct netfs *n = s->priv;
	struct netfs_mount *m;
	_cleanup_free_ char *key = NULL, *path = NULL;
	const char *version = "";
	int e, r = 0;

	/* the key leaves out the options (they hold the password) but not the
	 * device, the user or the mode */
	key = str_printf("%s %s %s %s", fstype, dev, writable ? "rw" : "ro", s->url);
	if (!key)
		return -ENOMEM;
	pthread_mutex_lock(&netfs_lock);
	for (m = netfs_mounts; m && strcmp(m->key, key); m = m->next)
		;
	if (m) {
		m->refs++;
	} else if (!(m = calloc(1, sizeof(*m))) || !(m->key = strdup(key))) {
		free(m);
		m = NULL;
		r = -ENOMEM;
	} else if ((r = netfs_mount_dir(&m->dir)) == 0) {
		unsigned long flags = MS_NODEV | MS_NOSUID | MS_NOEXEC |
				      (writable ? 0 : MS_RDONLY);
		e = netfs_try_mount(fstype, dev, m->dir, data, versions, flags, &version);
		if (e) {
			rmdir(m->dir);
			r = netfs_explain(s, e, version, w);
		} else {
			m->refs = 1;
			m->next = netfs_mounts;
			netfs_mounts = m;
			debug_log("mount", "%s mounted %s on %s %s", s->url,
				  writable ? "read-write" : "read-only", m->dir, version);
		}
	}
	if (r < 0 && m && !m->refs) {
		free(m->dir);
		free(m->key);
		free(m);
		m = NULL;
	}
	pthread_mutex_unlock(&netfs_lock);
	if (r < 0)
		return r;
	if (!(n->dir = strdup(m->dir)) || !(path = str_printf("%s/%s", m->dir, subpath)) ||
	    !(n->root = strdup(path))) {
		netfs_close(s);
		return -ENOMEM;
	}
	r = source_open(path, s->flags, &n->inner);
	if (r < 0)
		netfs_close(s);
	return r;
}

void netfs_close(struct source *s)
{
	struct netfs *n = s->priv;
	struct netfs_mount **pm, *m;

	source_close(n->inner);
	n->inner = NULL;
	if (!n->dir)
		return;
	pthread_mutex_lock(&netfs_lock);
	for (pm = &netfs_mounts; *pm && strcmp((*pm)->dir, n->dir); pm = &(*pm)->next)
		;
	m = *pm;
	if (m && --m->refs == 0) {
		*pm = m->next;
		if (umount2(m->dir, 0) < 0)
			umount2(m->dir, MNT_DETACH);
		rmdir(m->dir);
		free(m->dir);
		free(m->key);
		free(m);
	}
	pthread_mutex_unlock(&netfs_lock);
	free(n->dir);
	free(n->root);
	n->dir = NULL;
	n->root = NULL;
}

/* The mounted share answers for the URL: messages name the URL, not the
 * private folder. */
static int netfs_msg(struct source *s, int r)
{
	struct netfs *n = s->priv;
	const char *at;

	if (r < 0 && n->root && (at = strstr(err_msg(), n->root))) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%.*s%s%s", (int)(at - err_msg()), err_msg(), s->url,
			 at + strlen(n->root));
		err_set(r, "%s", msg);
	}
	return r;
}

/* What the kernel's client says while the server is away or reconnecting. */
static int netfs_transient(int r)
{
	return r == -EHOSTDOWN || r == -ENOTCONN || r == -ECONNRESET || r == -ECONNABORTED ||
	       r == -ETIMEDOUT || r == -EAGAIN || r == -ENETUNREACH ||
	       r == -EHOSTUNREACH;
}

/* Retries an operation while the share is away, as the web sources do
 * (MULETTO_RETRY_SECONDS, 300 s), with the same backoff. */
#define NETFS_RETRY(s, call)                                                               \
	do {                                                                               \
		double start_ = now_seconds();                                             \
		int delay_ = RETRY_DELAY_FIRST_MS, r_, note_ = 0;                          \
		int budget_ = retry_budget_seconds();                                      \
		while (netfs_transient(r_ = (call)) && now_seconds() - start_ < budget_) { \
			if (!note_++)                                                      \
				event_notice("%s: %s; retrying for up to %d s", s->url,     \
					     err_msg(), budget_);                           \
			sleep_ms(delay_);                                                  \
			delay_ = MIN(delay_ * 2, RETRY_DELAY_MAX_MS);                       \
		}                                                                          \
		return netfs_msg(s, r_);                                                   \
	} while (0)

int netfs_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	NETFS_RETRY(s, source_list(((struct netfs *)s->priv)->inner, dir, ret_names, ret_n));
}

int netfs_get(struct source *s, const char *path, size_t max, void **ret_buf, size_t *ret_len)
{
	NETFS_RETRY(s, source_get(((struct netfs *)s->priv)->inner, path, max, ret_buf, ret_len));
}

/* Not retried: what was streamed is already written. */
int netfs_stream(struct source *s, const char *path, source_stream_cb cb, void *ctx)
{
	return netfs_msg(s, source_stream(((struct netfs *)s->priv)->inner, path, cb, ctx));
}

int netfs_put(struct source *s, const char *path, const void *buf, size_t len)
{
	NETFS_RETRY(s, source_put(((struct netfs *)s->priv)->inner, path, buf, len));
}

int netfs_sync(struct source *s)
{
	NETFS_RETRY(s, source_sync(((struct netfs *)s->priv)->inner));
}

int netfs_exists(struct source *s, const char *path)
{
	NETFS_RETRY(s, source_exists(((struct netfs *)s->priv)->inner, path));
}

int netfs_size(struct source *s, const char *path, uint64_t *ret)
{
	NETFS_RETRY(s, source_size(((struct netfs *)s->priv)->inner, path, ret));
}
