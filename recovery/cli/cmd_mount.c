/* muletto mount REPO NAME [--disk N] [--partition P] [--foreground] DIR, and
 * muletto umount DIR (see serve/image_mount.h).
 *
 * Without --foreground the command forks before doing anything: the child
 * mounts and serves, the parent waits on a pipe for one word from it ('+'
 * and the line to print once DIR shows the files, or '-' and the error) and
 * exits with it. Once mounted, the child leaves the terminal (setsid) and
 * writes what it has to say to IMAGE_MOUNT_DIR/nbdX.log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/image_mount.h"

#define MOUNT_WORD_MAX 4096

static const char mount_usage[] =
	"muletto mount REPO NAME [--disk N] [--partition P] [--foreground] [--trust PUBKEY] DIR\n"
	"  a partition of an image, read-only at DIR (default: the largest one holding a file\n"
	"  system), served to the kernel's nbd driver by a muletto process until\n"
	"  'muletto umount DIR'; --foreground: this process serves it until Ctrl-C";
static const char umount_usage[] = "muletto umount DIR";

static volatile sig_atomic_t mount_stop;

static void mount_on_signal(int sig)
{
	(void)sig;
	mount_stop = 1;
}

struct mount_args {
	int foreground;
	int word_fd; /* the pipe to the waiting parent; -1 in the foreground */
	struct image_mount_request q;
};

static int mount_parse(int argc, char **argv, struct mount_args *a)
{
	static const struct option opts[] = {
		{ "disk", required_argument, NULL, 'd' },
		{ "partition", required_argument, NULL, 'P' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "trust", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if ((r = cmd_int_option("--disk", optarg, 0, INT32_MAX, &a->q.o.disk)))
				return r;
			break;
		case 'P':
			if ((r = cmd_int_option("--partition", optarg, 1, 4096, &a->q.partition)))
				return r;
			break;
		case 'f': a->foreground = 1; break;
		case 'T': a->q.o.trust = optarg; break;
		case 'h': printf("usage: %s\n", mount_usage); return -1;
		default: return cmd_usage(mount_usage);
		}
	}
	if (argc - optind != 3)
		return cmd_usage(mount_usage);
	a->q.repo = argv[optind];
	a->q.name = argv[optind + 1];
	a->q.dir = argv[optind + 2];
	return 0;
}

/* "mounted web01 disk0 partition 2 (ext4 "root", 55 MiB) read-only on /mnt (/dev/nbd0p2)" */
static void mount_describe(const struct image_mount_info *m, char *out, size_t size)
{
	char hs[32], what[64];

	human_size(m->size, hs, sizeof(hs));
	if (m->partition)
		snprintf(what, sizeof(what), " partition %d", m->partition);
	else
		snprintf(what, sizeof(what), ", the whole disk");
	snprintf(out, size, "mounted %s%s (%s%s%s%s, %s) read-only on %s (%s)", m->image, what,
		 m->fs, m->label[0] ? " \"" : "", m->label, m->label[0] ? "\"" : "", hs, m->dir,
		 m->part_dev);
}

static void mount_ready(void *ctx, const struct image_mount_info *m)
{
	struct mount_args *a = ctx;
	char line[2 * PATH_MAX], safe[4 * sizeof(line)], log[PATH_MAX];
	size_t n;
	int fd;

	mount_describe(m, line, sizeof(line));
	n = strlen(line);
	if (a->foreground) {
		snprintf(line + n, sizeof(line) - n, "; this process serves it until Ctrl-C or "
						     "muletto umount %s", m->dir);
		printf("%s\n", show_safe(line, safe, sizeof(safe)));
		fflush(stdout);
		return;
	}
	snprintf(line + n, sizeof(line) - n, ", served by process %d until muletto umount %s",
		 (int)m->pid, m->dir);
	/* off the terminal: a session of its own, its words to a log */
	snprintf(log, sizeof(log), "%s/%s.log", IMAGE_MOUNT_DIR, strrchr(m->device, '/') + 1);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fflush(stdout);
	fflush(stderr);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	setsid();
	dprintf(a->word_fd, "+%s", show_safe(line, safe, sizeof(safe)));
	close(a->word_fd);
	a->word_fd = -1;
}

static int mount_serve(struct mount_args *a)
{
	struct sigaction sa = { .sa_handler = mount_on_signal };
	int r;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = image_mount_run(&a->q, mount_ready, a, &mount_stop);
	if (a->word_fd >= 0) { /* it never became ready: the parent says why */
		dprintf(a->word_fd, "-%s", r < 0 ? err_text(r) : "stopped before it was mounted");
		close(a->word_fd);
		return EXIT_FAILED;
	}
	if (r < 0)
		return cmd_fail("%s", err_text(r));
	if (a->foreground)
		printf("unmounted %s; its device is released\n", a->q.dir);
	return 0;
}

/* The parent: the child's one word, printed. */
static int mount_wait_word(int fd)
{
	char word[MOUNT_WORD_MAX];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(word) - 1 && (n = read(fd, word + got, sizeof(word) - 1 - got)) != 0) {
		if (n > 0)
			got += (size_t)n;
		else if (errno != EINTR)
			break;
	}
	word[got] = 0;
	close(fd);
	if (got > 1 && word[0] == '+') {
		printf("%s\n", word + 1);
		return 0;
	}
	if (got > 1 && word[0] == '-')
		return cmd_fail("%s", word + 1);
	return cmd_fail("the process that was to serve the mount ended without a word: see %s",
			IMAGE_MOUNT_DIR);
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = { .word_fd = -1 };
	int r = mount_parse(argc, argv, &a), p[2];
	pid_t pid;

	if (r)
		return r < 0 ? 0 : r;
	if (a.foreground)
		return mount_serve(&a);
	if (pipe2(p, O_CLOEXEC) < 0)
		return cmd_fail("cannot make a pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return cmd_fail("cannot start the process that serves the mount: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		a.word_fd = p[1];
		return mount_serve(&a);
	}
	close(p[1]);
	return mount_wait_word(p[0]);
}

int cmd_umount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct image_mount_info m;
	char line[2 * PATH_MAX], safe[4 * sizeof(line)];
	int c, r, n;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", umount_usage);
			return 0;
		}
		return cmd_usage(umount_usage);
	}
	if (argc - optind != 1)
		return cmd_usage(umount_usage);
	r = image_mount_stop(argv[optind], &m);
	if (r < 0)
		return cmd_fail("%s", err_text(r));
	if (m.partition)
		n = snprintf(line, sizeof(line), "unmounted %s (%s partition %d, %s); %s released, ",
			     m.dir, m.image, m.partition, m.fs, m.device);
	else
		n = snprintf(line, sizeof(line), "unmounted %s (%s, the whole disk, %s); %s "
						 "released, ", m.dir, m.image, m.fs, m.device);
	if (m.pid)
		snprintf(line + n, sizeof(line) - (size_t)n, "process %d, which served it, ended",
			 (int)m.pid);
	else
		snprintf(line + n, sizeof(line) - (size_t)n, "its serving process had died");
	printf("%s\n", show_safe(line, safe, sizeof(safe)));
	return 0;
}
