/* Programs run without a shell, their output captured (see spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"

#define SPAWN_ERR_MAX 400 /* what of a program's standard error goes into a message */

extern char **environ;

/* An executable named prog in PATH, /usr/sbin or /sbin (root's tools are not
 * always in a service's PATH): 1 with its path in out. */
int spawn_find(const char *prog, char *out, size_t out_size)
{
	const char *path = getenv("PATH");
	char list[2048], *dir, *save = NULL;

	if (prog[0] == '/') { /* a path already: this very program, say */
		snprintf(out, out_size, "%s", prog);
		return access(out, X_OK) == 0;
	}
	snprintf(list, sizeof(list), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(list, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, out_size, "%s/%s", dir, prog);
		if (dir[0] == '/' && access(out, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* This process's environment with LC_ALL=C (numbers with a '.'), lvm2's
 * complaint about inherited descriptors turned off, and mtools' check of a
 * FAT's geometry against a partition table skipped (it is given partitions,
 * not disks); free() the array only. */
static char **spawn_env(void)
{
	static char *set[] = { "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", "MTOOLS_SKIP_CHECK=1" };
	size_t n = 0, k = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + ARRAY_SIZE(set) + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (n = 0; environ && environ[n]; n++) {
		for (i = 0; i < ARRAY_SIZE(set); i++)
			if (!strncmp(environ[n], set[i], (size_t)(strchr(set[i], '=') - set[i] + 1)))
				break;
		if (i == ARRAY_SIZE(set))
			env[k++] = environ[n];
	}
	for (i = 0; i < ARRAY_SIZE(set); i++)
		env[k++] = set[i];
	return env;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void spawn_child(const char *file, const char *const argv[], char **env, int in,
		      int out, int err)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	setpgid(0, 0); /* the terminal's Ctrl-C goes to muletto, which decides */
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	execve(file, (char *const *)argv, env);
	_exit(127);
}

/* Reads fd into buf (up to size - 1 bytes, the rest read and dropped) until
 * end of file; one call per poll round. 1 while open. */
static int spawn_drain(int fd, char *buf, size_t size, size_t *len)
{
	char sink[4096];
	ssize_t n;

	if (*len + 1 < size)
		n = read(fd, buf + *len, size - 1 - *len);
	else
		n = read(fd, sink, sizeof(sink));
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	if (*len + 1 < size)
		*len += (size_t)n;
	buf[*len] = 0;
	return 1;
}

/* Both pipes until the child closes them. */
static void spawn_collect(int outfd, int errfd, char *out, size_t out_size, char *err,
			size_t err_size)
{
	struct pollfd p[2] = { { .fd = outfd, .events = POLLIN }, { .fd = errfd, .events = POLLIN } };
	size_t olen = 0, elen = 0;

	out[0] = err[0] = 0;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !spawn_drain(outfd, out, out_size, &olen))
			p[0].fd = -1;
		if (p[1].revents && !spawn_drain(errfd, err, err_size, &elen))
			p[1].fd = -1;
	}
}

/* A tool's standard error as one line for a message: lines joined with "; ",
 * control characters as '?', cut at SPAWN_ERR_MAX bytes. */
static void spawn_one_line(const char *in, char *out, size_t out_size)
{
	size_t k = 0, lim = MIN(out_size - 1, (size_t)SPAWN_ERR_MAX);
	int sep = 0;

	for (; *in && k < lim; in++) {
		unsigned char c = *in == '\t' ? ' ' : (unsigned char)*in;
		if (c == '\n' || c == '\r') {
			sep = k > 0;
			continue;
		}
		if (c == ' ' && (k == 0 || sep || out[k - 1] == ' '))
			continue; /* indentation and runs of blanks */
		if (sep && k + 2 < lim) {
			out[k++] = ';';
			out[k++] = ' ';
		}
		sep = 0;
		out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	while (k && out[k - 1] == ' ')
		k--;
	out[k] = 0;
	if (*in && k >= 3)
		memcpy(out + k - 3, "...", 4);
}

/* The failure of argv that exited with status st, as a message. */
static int spawn_failed(const char *const argv[], int st, const char *err)
{
	char cmd[512] = "", line[SPAWN_ERR_MAX + 1];
	size_t i, k;

	for (i = 0; argv[i]; i++) {
		k = strlen(cmd);
		snprintf(cmd + k, sizeof(cmd) - k, "%s%s", i ? " " : "", argv[i]);
	}
	spawn_one_line(err, line, sizeof(line));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && !line[0])
		return err_set(-EIO, "%s: the program could not be started", cmd);
	if (line[0])
		return err_set(-EIO, "%s failed: %s", cmd, line);
	if (WIFSIGNALED(st))
		return err_set(-EIO, "%s was killed by signal %d", cmd, WTERMSIG(st));
	return err_set(-EIO, "%s failed with exit status %d", cmd, WEXITSTATUS(st));
}

int spawn_run_ok(const char *const argv[], int ok_max, char *out, size_t out_size)
{
	char file[2300], err[2048], dummy[256];
	int in = -1, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, st = 0, r = 0;
	char **env = NULL;
	pid_t pid;

	if (!spawn_find(argv[0], file, sizeof(file)))
		return err_set(-ENOENT, "%s is not installed (not in PATH, /usr/sbin or /sbin)",
			       argv[0]);
	if (!out || out_size < 2) {
		out = dummy;
		out_size = sizeof(dummy);
	}
	errno = 0;
	if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(po, O_CLOEXEC) < 0 ||
	    pipe2(pe, O_CLOEXEC) < 0 || !(env = spawn_env())) {
		r = err_set(errno ? -errno : -ENOMEM, "cannot run %s: %s", argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid == 0)
		spawn_child(file, argv, env, in, po[1], pe[1]);
	if (pid < 0) {
		r = err_set(-errno, "cannot run %s: %s", argv[0], strerror(errno));
		goto out;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	spawn_collect(po[0], pe[0], out, out_size, err, sizeof(err));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) > ok_max)
		r = spawn_failed(argv, st, err);
	else
		r = WEXITSTATUS(st);
out:
	free(env);
	for (int i = 0; i < 2; i++) {
		closep(&po[i]);
		closep(&pe[i]);
	}
	closep(&in);
	return r;
}

int spawn_pipe(const char *const a[], const char *const b[], char *out, size_t out_size)
{
	char fa[2300], fb[2300], err[2048], dummy[256];
	int in = -1, link[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int sa = 0, sb = 0, r = 0, i;
	char **env = NULL;
	pid_t pa = -1, pb = -1;

	if (!spawn_find(a[0], fa, sizeof(fa)) || !spawn_find(b[0], fb, sizeof(fb)))
		return err_set(-ENOENT, "%s is not installed (not in PATH, /usr/sbin or /sbin)",
			       spawn_find(a[0], fa, sizeof(fa)) ? b[0] : a[0]);
	if (!out || out_size < 2) {
		out = dummy;
		out_size = sizeof(dummy);
	}
	errno = 0;
	if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(link, O_CLOEXEC) < 0 ||
	    pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || !(env = spawn_env())) {
		r = err_set(errno ? -errno : -ENOMEM, "cannot run %s: %s", a[0], strerror(errno));
		goto out;
	}
	if ((pa = fork()) == 0)
		spawn_child(fa, a, env, in, link[1], pe[1]);
	if (pa > 0 && (pb = fork()) == 0)
		spawn_child(fb, b, env, link[0], po[1], pe[1]);
	if (pa < 0 || pb < 0) {
		r = err_set(-errno, "cannot run %s: %s", pa < 0 ? a[0] : b[0], strerror(errno));
		if (pa > 0)
			kill(pa, SIGKILL);
	}
	for (i = 0; i < 2; i++)
		closep(&link[i]);
	closep(&po[1]);
	closep(&pe[1]);
	if (pb > 0)
		spawn_collect(po[0], pe[0], out, out_size, err, sizeof(err));
	while (pa > 0 && waitpid(pa, &sa, 0) < 0 && errno == EINTR)
		;
	while (pb > 0 && waitpid(pb, &sb, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(sa) || WEXITSTATUS(sa)))
		r = spawn_failed(a, sa, err);
	else if (r == 0 && (!WIFEXITED(sb) || WEXITSTATUS(sb)))
		r = spawn_failed(b, sb, err);
out:
	free(env);
	for (i = 0; i < 2; i++) {
		closep(&link[i]);
		closep(&po[i]);
		closep(&pe[i]);
	}
	closep(&in);
	return r;
}

int spawn_run(const char *const argv[], char *out, size_t out_size)
{
	int r = spawn_run_ok(argv, 0, out, out_size);

	return r > 0 ? 0 : r;
}
