/* Settings and secrets: environment, muletto.conf, the terminal. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/util.h"

#define CRED_TYPED_MAX 8

/* Passwords typed at the prompt, kept so that every worker's connection uses
 * the one the technician typed once. Guarded by cred_lock. */
static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *prompt, *value;
} cred_typed[CRED_TYPED_MAX];

static const char *cred_conf_path(void)
{
	const char *p = getenv("MULETTO_CONF");

	if (p && *p)
		return p;
	if (access("/run/muletto.conf", F_OK) == 0)
		return "/run/muletto.conf";
	return "/etc/muletto.conf";
}

/* The last "key=value" line for key in the file (later lines win, as in the
 * boot environment's settings). */
static int cred_conf_lookup(const char *path, const char *key, int secret, char **ret)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0, klen = strlen(key);
	struct stat st;
	ssize_t n;

	if (!f)
		return errno == ENOENT ? -ENOENT :
			err_set(-errno, "cannot read %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (strncmp(line, key, klen) || line[klen] != '=')
			continue;
		cred_free(found);
		if (!(found = strdup(line + klen + 1)))
			break;
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	if (found && secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		fclose(f);
		cred_free(found);
		return err_set(-EPERM, "%s holds %s but other users can read it: run 'chmod 600 "
				       "%s'", path, key, path);
	}
	fclose(f);
	if (!found)
		return -ENOENT;
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

static int cred_read_tty(const char *prompt, char **ret)
{
	struct termios old, quiet;
	char buf[512];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), ok;
	ssize_t n;

	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -ENOTTY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	dprintf(fd, "%s: ", prompt);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	n = read(fd, buf, sizeof(buf) - 1);
	tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	ok = n > 0;
	if (ok) {
		buf[n] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		*ret = strdup(buf);
	}
	explicit_bzero(buf, sizeof(buf));
	if (!ok)
		return -ECANCELED;
	return *ret ? 0 : -ENOMEM;
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
	} else if (!isatty(STDIN_FILENO) || cred_read_tty(prompt, &v) < 0) {
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

void cred_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
