/* The status page's request, read: what a client asks of the server of
 * ui/status.h, taken apart with nothing but libc, no I/O, so that it can be
 * fuzzed alone (tests/fuzz/fuzz.c, target "status").
 *
 * The request is a NUL-terminated string, as the server holds it: what a
 * client sent after a NUL byte is not seen, as the server's own search for
 * the header's end does not see it. The parser reads no byte past the NUL. */
#ifndef MULETTO_UI_STATUS_REQ_H
#define MULETTO_UI_STATUS_REQ_H

#define STATUS_REQ_PATH_MAX 256	 /* longer paths are cut: none of ours is that long */
#define STATUS_REQ_TOKEN_MAX 512 /* longer tokens are cut, and so do not match */

struct status_req {
	int head;			/* HEAD: the answer's header only */
	char path[STATUS_REQ_PATH_MAX]; /* the target up to '?' ("/status.json") */
	/* the query's token= (percent-decoded), else an "Authorization: Bearer"
	 * header's; "" when neither: explicit_bzero it once compared */
	char token[STATUS_REQ_TOKEN_MAX];
};

/* The request line "METHOD TARGET HTTP/1.x" and the token of req into *ret:
 * 0; -EBADMSG when there is no method and target (answer 400); -EOPNOTSUPP
 * for a method other than GET and HEAD (answer 405). *ret is written only
 * on success. */
int status_req_parse(const char *req, struct status_req *ret);

#endif
