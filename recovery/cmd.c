/* What every command shares: one-line errors and usage messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "muletto/cmd.h"

static void cmd_print_error(const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One line, whatever the message holds. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fflush(stdout);
	fprintf(stderr, "muletto: %s\n", line);
}

int cmd_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_print_error(fmt, ap);
	va_end(ap);
	return 1;
}

int cmd_bad_option(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_print_error(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
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
