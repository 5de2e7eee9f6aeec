/* Thread-local error messages and MULETTO_DEBUG areas. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"

static __thread char err_buf[ERR_MSG_MAX];
static __thread int err_code;

static void str_append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf), k = strlen(s);

	if (k > size - 1 - n)
		k = size - 1 - n;
	memcpy(buf + n, s, k);
	buf[n + k] = 0;
}

int err_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	err_code = code;
	return code;
}

int err_prefix(int code, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	size_t n;
	va_list ap;

	/* Nothing recorded yet: the prefix goes in front of the errno text. */
	if (!err_buf[0] && !err_code)
		err_code = code;
	snprintf(old, sizeof(old), "%s", err_msg());
	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	n = strlen(err_buf);
	if (n + 2 < sizeof(err_buf)) {
		memcpy(err_buf + n, ": ", 3);
		str_append(err_buf, sizeof(err_buf), old);
	}
	err_code = code;
	return code;
}

const char *err_msg(void)
{
	if (err_buf[0])
		return err_buf;
	if (err_code)
		return strerror(-err_code);
	return "failed, and no reason was recorded (MULETTO_DEBUG=all may show more)";
}

const char *err_text(int code)
{
	if (err_buf[0] || err_code)
		return err_msg();
	return code < 0 ? strerror(-code) : err_msg();
}

void err_clear(void)
{
	err_buf[0] = 0;
	err_code = 0;
}

int debug_enabled(const char *area)
{
	const char *env = getenv("MULETTO_DEBUG");
	size_t n = strlen(area);
	const char *p;

	if (!env || !*env)
		return 0;
	if (!strcmp(env, "all") || !strcmp(env, "1"))
		return 1;
	for (p = env; (p = strstr(p, area)); p += n)
		if ((p == env || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return 1;
	return 0;
}

void debug_log(const char *area, const char *fmt, ...)
{
	char line[ERR_MSG_MAX];
	struct event e = { .kind = EVENT_DEBUG, .disk = -1, .eta = -1, .area = area,
			   .message = line };
	va_list ap;

	if (!debug_enabled(area))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	event_emit(&e);
}
