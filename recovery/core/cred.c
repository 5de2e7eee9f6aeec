/* Settings and secrets: environment, muletto.conf, the terminal. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

#define CRED_TYPED_MAX 8

/* Passwords typed at the prompt, kept so that every worker's connection uses
 * the one the technician typed once. Guarded by cred_lock. */
static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *prompt, *value;
} cred_typed[CRED_TYPED_MAX];

const char *cred_conf_path(void)
{
	const char *p = getenv("MULETTO_CONF");

	if (p && *p)
		return p;
	if (access("/run/muletto.conf", F_OK) == 0)
		return "/run/muletto.conf";
	return "/etc/muletto.conf";
}

void cred_conf_done(void)
{
	const char *p = getenv("MULETTO_CONF"), *rm = getenv("MULETTO_CONF_REMOVE");

	if (p && *p && rm && !strcmp(rm, "1"))
		unlink(p);
}

int cred_conf_parse(const char *text, size_t len, const char *key, char **ret)
{
	const char *p = text, *end = text + strnlen(text, len), *found = NULL;
	size_t klen = strlen(key), flen = 0;

	/* later lines win, as in the boot environment's settings */
	while (p < end) {
		size_t n = strcspn(p, "\n");
		size_t v = n;
		while (v > 0 && p[v - 1] == '\r')
			v--;
		if (v > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			found = p + klen + 1;
			flen = v - klen - 1;
		}
		p += n + (p[n] == '\n');
	}
	if (!found)
		return -ENOENT;
	*ret = strndup(found, flen);
	return *ret ? 0 : -ENOMEM;
}

/* The setting from the file; a secret only from a file nobody else can read. */
static int cred_conf_lookup(const char *path, const char *key, int secret, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text = NULL, *found = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT :
			err_set(-errno, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return err_set(-errno, "cannot read %s: %s", path, strerror(errno));
	if (st.st_size > CRED_CONF_MAX)
		return err_set(-EFBIG, "%s is larger than %d bytes: it is not a muletto.conf",
			       path, CRED_CONF_MAX);
	r = fd_read_all(fd, CRED_CONF_MAX, (void **)&text, &len);
	if (r < 0)
		return err_set(r, "cannot read %s: %s", path, strerror(-r));
	r = cred_conf_parse(text, len, key, &found);
	explicit_bzero(text, len);
	free(text);
	if (r < 0)
		return r;
	if (secret && (st.st_mode & 077)) {
		cred_free(found);
		return err_set(-EPERM, "%s holds %s but other users can read it: run 'chmod 600 "
				       "%s'", path, key, path);
	}
	*ret = found;
	return 0;
}

int cred_get(const struct cred_key *k, char **ret)
{
	const char *v = k->env ? getenv(k->env) : NULL;

	if (v && *v) {
		if (!(*ret = strdup(v)))
			return -ENOMEM;
		return 0;
	}
	return cred_conf_lookup(cred_conf_path(), k->conf, k->secret, ret);
}

/* How a password is asked for; guarded by cred_lock. */
static cred_ask_fn cred_asker;
static void *cred_asker_ctx;

void cred_set_asker(cred_ask_fn fn, void *ctx)
{
	pthread_mutex_lock(&cred_lock);
	cred_asker = fn;
	cred_asker_ctx = ctx;
	pthread_mutex_unlock(&cred_lock);
}

int cred_password(const struct cred_key *k, const char *prompt, char **ret)
{
	char *v = NULL;
	size_t i;
	int r = cred_get(k, ret);

	if (r != -ENOENT)
		return r;
	pthread_mutex_lock(&cred_lock);
	for (i = 0; i < CRED_TYPED_MAX && cred_typed[i].prompt; i++)
		if (!strcmp(cred_typed[i].prompt, prompt))
			break;
	if (i < CRED_TYPED_MAX && cred_typed[i].prompt) {
		r = (*ret = strdup(cred_typed[i].value)) ? 0 : -ENOMEM;
	} else if (!cred_asker || cred_asker(prompt, &v, cred_asker_ctx) < 0) {
		r = err_set(-ENOENT, "%s: not given; put %s=... in %s (chmod 600)%s%s, or type it "
				     "when asked on a terminal", prompt, k->conf, cred_conf_path(),
			    k->env ? " or set " : "", k->env ? k->env : "");
	} else if (i < CRED_TYPED_MAX && (cred_typed[i].prompt = strdup(prompt))) {
		cred_typed[i].value = v;
		r = (*ret = strdup(v)) ? 0 : -ENOMEM;
	} else {
		*ret = v;
		r = 0;
	}
	pthread_mutex_unlock(&cred_lock);
	return r;
}

void cred_forget_typed(void)
{
	size_t i;

	pthread_mutex_lock(&cred_lock);
	for (i = 0; i < CRED_TYPED_MAX; i++) {
		free(cred_typed[i].prompt);
		cred_free(cred_typed[i].value);
		cred_typed[i].prompt = cred_typed[i].value = NULL;
	}
	pthread_mutex_unlock(&cred_lock);
}

void cred_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
