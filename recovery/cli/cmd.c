/* What every command shares: one-line errors, usage messages, numbers in
 * options, the password prompt. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

static char cmd_last[2048]; /* the last error said, for the job's record */

const char *cmd_last_error(void)
{
	return cmd_last[0] ? cmd_last : NULL;
}

int cmd_error(int code, const char *fmt, ...)
{
	char line[2048], safe[4 * sizeof(line)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line, whatever the message holds; nothing raw from a server. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	str_copy(cmd_last, sizeof(cmd_last), line);
	show_break();
	fflush(stdout);
	fprintf(stderr, "muletto: %s\n", show_safe(line, safe, sizeof(safe)));
	return code;
}

int cmd_usage(const char *usage)
{
	/* getopt's own complaint is off (opterr = 0): one line says it all. */
	const char *nl = strchr(usage, '\n');

	fprintf(stderr, "muletto: wrong or missing arguments; usage: %.*s%s\n",
		nl ? (int)(nl - usage) : (int)strlen(usage), usage,
		nl ? " (more with --help)" : "");
	return EXIT_USAGE;
}

int cmd_int_option(const char *opt, const char *arg, int min, int max, int *ret)
{
	if (parse_int(arg, min, max, ret) < 0)
		return cmd_bad_option("%s %s: give a whole number from %d to %d", opt, arg, min,
				      max);
	return 0;
}

int cmd_check_environment(void)
{
	static const struct {
		const char *name, *what;
		int min, max;
	} nums[] = {
		{ "MULETTO_RETRY_SECONDS", "the seconds to wait for a server", 0, RETRY_BUDGET_MAX },
		{ "MULETTO_STALL_SECONDS", "the seconds a transfer may stall", 1, STALL_SECONDS_MAX },
		{ "MULETTO_MIN_RATE", "the bytes a second a transfer must move", 0, INT32_MAX },
	};
	const char *v;
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(nums); i++)
		if ((v = getenv(nums[i].name)) && *v &&
		    parse_int(v, nums[i].min, nums[i].max, &n) < 0)
			return cmd_bad_option("%s=%s: give %s, a whole number from %d to %d",
					      nums[i].name, v, nums[i].what, nums[i].min,
					      nums[i].max);
	return 0;
}

int cmd_ask_password(const char *prompt, char **ret, void *ctx)
{
	struct termios old, quiet;
	char buf[512];
	int fd, ok;
	ssize_t n;

	(void)ctx;
	if (!isatty(STDIN_FILENO))
		return -ENOTTY;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -ENOTTY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	show_break();
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
