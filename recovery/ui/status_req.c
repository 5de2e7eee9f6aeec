/* The status page's request taken apart (ui/status_req.h): libc only, no
 * I/O, every read bounded by the request's NUL. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "muletto/ui/status_req.h"

/* What sscanf's %s stops at: the request line's fields end at any of them. */
#define STATUS_REQ_SPACE " \t\n\v\f\r"
#define STATUS_REQ_TARGET_MAX 2048 /* a longer target is cut, as it always was */

static int status_req_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of "token=" in a query, percent-decoded, into out ("" if none).
 * A %00 stays as it is: no token holds a NUL, and a decoded one would end
 * the given token there, "TOKEN%00junk" passing for TOKEN. */
static void status_req_query_token(const char *q, char *out, size_t size)
{
	size_t k = 0;

	out[0] = 0;
	for (; q && *q; q += strcspn(q, "&"), q += *q == '&') {
		if (strncmp(q, "token=", 6))
			continue;
		for (q += 6; *q && *q != '&' && k + 1 < size; q++) {
			int hi = *q == '%' ? status_req_hex(q[1]) : -1;
			int lo = hi >= 0 ? status_req_hex(q[2]) : -1;
			if (lo >= 0 && (hi || lo)) {
				out[k++] = (char)(hi * 16 + lo);
				q += 2;
			} else {
				out[k++] = *q == '+' ? ' ' : *q;
			}
		}
		out[k] = 0;
		return;
	}
}

/* The token of the first "Authorization: Bearer X" header, into out ("" if
 * none, or if the first Authorization header is not Bearer). */
static void status_req_header_token(const char *req, char *out, size_t size)
{
	const char *p = req;
	size_t n;

	out[0] = 0;
	while ((p = strstr(p, "\r\n")) && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, "Authorization:", 14))
			continue;
		p += 14;
		p += strspn(p, " \t");
		if (strncasecmp(p, "Bearer ", 7))
			return;
		p += 7;
		p += strspn(p, " \t");
		n = strcspn(p, " \t\r\n");
		n = n < size - 1 ? n : size - 1;
		memcpy(out, p, n);
		out[n] = 0;
		return;
	}
}

/* The target's path and token into r, from the target t of tlen bytes. */
static void status_req_target(const char *t, size_t tlen, const char *req, struct status_req *r)
{
	char target[STATUS_REQ_TARGET_MAX], *q;
	size_t n;

	tlen = tlen < sizeof(target) - 1 ? tlen : sizeof(target) - 1;
	memcpy(target, t, tlen);
	target[tlen] = 0;
	if ((q = strchr(target, '?')))
		*q++ = 0;
	n = strlen(target);
	n = n < sizeof(r->path) - 1 ? n : sizeof(r->path) - 1;
	memcpy(r->path, target, n);
	r->path[n] = 0;
	status_req_query_token(q, r->token, sizeof(r->token));
	if (!r->token[0])
		status_req_header_token(req, r->token, sizeof(r->token));
	explicit_bzero(target, sizeof(target));
}

int status_req_parse(const char *req, struct status_req *ret)
{
	struct status_req r = { 0 };
	const char *m = req + strspn(req, STATUS_REQ_SPACE), *t;
	size_t mlen = strcspn(m, STATUS_REQ_SPACE), tlen;

	t = m + mlen;
	t += strspn(t, STATUS_REQ_SPACE);
	tlen = strcspn(t, STATUS_REQ_SPACE);
	if (!mlen || !tlen)
		return -EBADMSG;
	r.head = mlen == 4 && !memcmp(m, "HEAD", 4);
	if (!r.head && !(mlen == 3 && !memcmp(m, "GET", 3)))
		return -EOPNOTSUPP;
	status_req_target(t, tlen, req, &r);
	*ret = r;
	explicit_bzero(&r, sizeof(r));
	return 0;
}
