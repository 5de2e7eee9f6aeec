/* The handshake (fixed newstyle): the server greets, then answers options one
 * at a time until the client chooses the export (NBD_OPT_GO, or the old
 * NBD_OPT_EXPORT_NAME) or leaves. Every option is read whole into a buffer of
 * at most NBD_OPTION_MAX bytes and parsed against its own length; an option
 * whose fields do not add up to it is answered NBD_REP_ERR_INVALID. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_proto.h"

#define OPT_HEADER_SIZE 16
#define REP_HEADER_SIZE 20
#define EXPORT_NAME_ZEROES 124
#define CONTEXT_ALLOCATION "base:allocation"

/* What an option handler tells the loop. */
enum { OPT_NEXT = 0, OPT_TRANSMIT = 1, OPT_END = 2 };

struct opt {
	uint32_t code;
	uint32_t len;
	const uint8_t *data;
};

static const char *opt_name(uint32_t code)
{
	switch (code) {
	case NBD_OPT_EXPORT_NAME: return "EXPORT_NAME";
	case NBD_OPT_ABORT: return "ABORT";
	case NBD_OPT_LIST: return "LIST";
	case NBD_OPT_STARTTLS: return "STARTTLS";
	case NBD_OPT_INFO: return "INFO";
	case NBD_OPT_GO: return "GO";
	case NBD_OPT_STRUCTURED_REPLY: return "STRUCTURED_REPLY";
	case NBD_OPT_LIST_META_CONTEXT: return "LIST_META_CONTEXT";
	case NBD_OPT_SET_META_CONTEXT: return "SET_META_CONTEXT";
	default: return "unknown";
	}
}

/* A name from the client, made printable for a message. */
static void name_text(char *out, size_t size, const uint8_t *name, uint32_t len)
{
	size_t i, n = MIN((size_t)len, size - 1);

	for (i = 0; i < n; i++)
		out[i] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
	out[n] = 0;
}

static int send_reply(struct nbd_session *s, uint32_t opt, uint32_t type, const void *data,
		      uint32_t len)
{
	uint8_t h[REP_HEADER_SIZE];
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)data, len } };

	nbd_put64(h, NBD_REP_MAGIC);
	nbd_put32(h + 8, opt);
	nbd_put32(h + 12, type);
	nbd_put32(h + 16, len);
	return nbd_sendv_all(s->fd, iov, len ? 2 : 1);
}

/* An error reply with a message for the human at the client. */
__attribute__((format(printf, 4, 5))) static int send_error(struct nbd_session *s, uint32_t opt,
							    uint32_t type, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	debug_log("nbd", "client %u: NBD_OPT_%s refused: %s", s->id, opt_name(opt), msg);
	return send_reply(s, opt, type, msg, (uint32_t)strlen(msg));
}

static int export_matches(const struct nbd_export *e, const uint8_t *name, uint32_t len)
{
	const char *ours = e->name ? e->name : "";

	if (len == 0) /* the default export: ours, the only one */
		return 1;
	return strlen(ours) == len && !memcmp(ours, name, len);
}

static int send_unknown(struct nbd_session *s, uint32_t opt, const uint8_t *name, uint32_t len)
{
	char text[80];

	name_text(text, sizeof(text), name, len);
	return send_error(s, opt, NBD_REP_ERR_UNKNOWN, "no export named '%s' here (this server has '%s')",
			  text, s->e->name ? s->e->name : "");
}

static int send_info(struct nbd_session *s, uint32_t opt, uint16_t type, const void *data,
		     uint32_t len)
{
	uint8_t buf[2 + NBD_STRING_MAX];

	len = MIN(len, (uint32_t)NBD_STRING_MAX);
	nbd_put16(buf, type);
	memcpy(buf + 2, data, len);
	return send_reply(s, opt, NBD_REP_INFO, buf, 2 + len);
}

/* NBD_OPT_INFO and NBD_OPT_GO: name length, name, count, count requests. */
static int opt_info(struct nbd_session *s, const struct opt *o)
{
	const struct nbd_export *e = s->e;
	uint8_t exp[10], bs[12];
	uint32_t namelen, i;
	uint16_t nreq;
	int want_name = 0, want_desc = 0, r;

	if (o->len < 6 || (namelen = nbd_get32(o->data)) > o->len - 6)
		return send_error(s, o->code, NBD_REP_ERR_INVALID, "option of %u bytes is too short",
				  o->len);
	nreq = nbd_get16(o->data + 4 + namelen);
	if (o->len != 6 + namelen + 2 * (uint32_t)nreq)
		return send_error(s, o->code, NBD_REP_ERR_INVALID,
				  "%u information requests do not fill an option of %u bytes",
				  nreq, o->len);
	if (!export_matches(e, o->data + 4, namelen))
		return send_unknown(s, o->code, o->data + 4, namelen);
	for (i = 0; i < nreq; i++) {
		uint16_t t = nbd_get16(o->data + 6 + namelen + 2 * i);
		want_name |= t == NBD_INFO_NAME;
		want_desc |= t == NBD_INFO_DESCRIPTION;
	}
	s->tflags = nbd_transmission_flags(e, s->structured);
	nbd_put64(exp, e->size);
	nbd_put16(exp + 8, s->tflags);
	nbd_put32(bs, e->min_block);
	nbd_put32(bs + 4, e->pref_block);
	nbd_put32(bs + 8, e->max_block);
	r = send_info(s, o->code, NBD_INFO_EXPORT, exp, sizeof(exp));
	if (r >= 0) /* always: our sizes are not the defaults */
		r = send_info(s, o->code, NBD_INFO_BLOCK_SIZE, bs, sizeof(bs));
	if (r >= 0 && want_name && e->name)
		r = send_info(s, o->code, NBD_INFO_NAME, e->name, (uint32_t)strlen(e->name));
	if (r >= 0 && want_desc && e->description)
		r = send_info(s, o->code, NBD_INFO_DESCRIPTION, e->description,
			      (uint32_t)strlen(e->description));
	if (r >= 0)
		r = send_reply(s, o->code, NBD_REP_ACK, NULL, 0);
	if (r < 0)
		return r;
	return o->code == NBD_OPT_GO ? OPT_TRANSMIT : OPT_NEXT;
}

/* A meta context request, parsed whole before anything is answered:
 * name length, name, query count, then per query its length and text. */
struct meta_req {
	const uint8_t *name;
	uint32_t namelen;
	uint32_t nq;
	int any;    /* some query selects (SET) or lists (LIST) base:allocation */
};

static int meta_parse(const struct opt *o, int set, struct meta_req *m)
{
	const uint8_t *p = o->data;
	uint32_t left = o->len, i;

	if (left < 4 || (m->namelen = nbd_get32(p)) > left - 4)
		return -EINVAL;
	m->name = p + 4;
	p += 4 + m->namelen;
	left -= 4 + m->namelen;
	if (left < 4)
		return -EINVAL;
	m->nq = nbd_get32(p);
	p += 4;
	left -= 4;
	m->any = m->nq == 0 && !set; /* LIST without queries: every context */
	for (i = 0; i < m->nq; i++) {
		uint32_t qlen;
		if (left < 4 || (qlen = nbd_get32(p)) > left - 4)
			return -EINVAL;
		p += 4;
		if ((qlen == strlen(CONTEXT_ALLOCATION) && !memcmp(p, CONTEXT_ALLOCATION, qlen)) ||
		    (!set && qlen == 5 && !memcmp(p, "base:", 5)))
			m->any = 1;
		p += qlen;
		left -= 4 + qlen;
	}
	return left == 0 ? 0 : -EINVAL;
}

/* NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: the one context we
 * have is base:allocation. */
static int opt_meta(struct nbd_session *s, const struct opt *o)
{
	int set = o->code == NBD_OPT_SET_META_CONTEXT;
	uint32_t id = set ? NBD_META_ID_ALLOCATION : 0;
	uint8_t rep[4 + sizeof(CONTEXT_ALLOCATION) - 1];
	struct meta_req m = { 0 };
	int r;

	if (set) /* replaced even when this one fails */
		s->meta_id = 0;
	if (!s->structured)
		return send_error(s, o->code, NBD_REP_ERR_INVALID,
				  "meta contexts need structured replies: negotiate them first");
	if (meta_parse(o, set, &m) < 0)
		return send_error(s, o->code, NBD_REP_ERR_INVALID,
				  "its lengths do not add up to the option's %u bytes", o->len);
	if (!export_matches(s->e, m.name, m.namelen))
		return send_unknown(s, o->code, m.name, m.namelen);
	if (m.any) {
		nbd_put32(rep, id);
		memcpy(rep + 4, CONTEXT_ALLOCATION, sizeof(rep) - 4);
		r = send_reply(s, o->code, NBD_REP_META_CONTEXT, rep, sizeof(rep));
		if (r < 0)
			return r;
		if (set)
			s->meta_id = id;
	}
	return send_reply(s, o->code, NBD_REP_ACK, NULL, 0);
}

static int opt_list(struct nbd_session *s, const struct opt *o)
{
	const char *name = s->e->name ? s->e->name : "";
	uint32_t n = (uint32_t)MIN(strlen(name), (size_t)NBD_STRING_MAX);
	uint8_t buf[4 + NBD_STRING_MAX];
	int r;

	if (o->len)
		return send_error(s, o->code, NBD_REP_ERR_INVALID, "LIST takes no data");
	nbd_put32(buf, n);
	memcpy(buf + 4, name, n);
	r = send_reply(s, o->code, NBD_REP_SERVER, buf, 4 + n);
	return r < 0 ? r : send_reply(s, o->code, NBD_REP_ACK, NULL, 0);
}

/* The old way in: no reply but the export's size and flags, and an unknown
 * name can only be answered by closing the connection. */
static int opt_export_name(struct nbd_session *s, const struct opt *o)
{
	uint8_t buf[10 + EXPORT_NAME_ZEROES] = { 0 };
	char text[80];
	int r;

	if (!export_matches(s->e, o->data, o->len)) {
		name_text(text, sizeof(text), o->data, o->len);
		return err_set(-ENOENT, "client asked for export '%s', which is not here", text);
	}
	s->tflags = nbd_transmission_flags(s->e, s->structured);
	nbd_put64(buf, s->e->size);
	nbd_put16(buf + 8, s->tflags);
	r = nbd_send_all(s->fd, buf, s->no_zeroes ? 10 : sizeof(buf));
	return r < 0 ? r : OPT_TRANSMIT;
}

static int opt_dispatch(struct nbd_session *s, const struct opt *o)
{
	int r;

	switch (o->code) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(s, o);
	case NBD_OPT_ABORT:
		r = send_reply(s, o->code, NBD_REP_ACK, NULL, 0);
		return r < 0 && r != -EPIPE ? r : OPT_END;
	case NBD_OPT_LIST:
		return opt_list(s, o);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info(s, o);
	case NBD_OPT_STRUCTURED_REPLY:
		if (o->len)
			return send_error(s, o->code, NBD_REP_ERR_INVALID,
					  "STRUCTURED_REPLY takes no data");
		s->structured = 1;
		return send_reply(s, o->code, NBD_REP_ACK, NULL, 0);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(s, o);
	default:
		return send_error(s, o->code, NBD_REP_ERR_UNSUP, "option %u is not supported here",
				  o->code);
	}
}

/* One option: its header, then its data into a buffer of its exact length. */
static int opt_one(struct nbd_session *s)
{
	uint8_t h[OPT_HEADER_SIZE];
	struct opt o;
	uint8_t *data = NULL;
	int r;

	r = nbd_recv_all(s->fd, h, sizeof(h));
	if (r == -EPIPE)
		return OPT_END; /* gone between options */
	if (r < 0)
		return r;
	if (nbd_get64(h) != NBD_IHAVEOPT)
		return err_set(-EPROTO, "client sent no option magic (%016llx)",
			       (unsigned long long)nbd_get64(h));
	o.code = nbd_get32(h + 8);
	o.len = nbd_get32(h + 12);
	debug_log("nbd", "client %u: NBD_OPT_%s (%u), %u bytes", s->id, opt_name(o.code), o.code,
		  o.len);
	if (o.len > NBD_OPTION_MAX) {
		send_error(s, o.code, NBD_REP_ERR_TOO_BIG, "option of %u bytes: at most %u", o.len,
			   NBD_OPTION_MAX);
		return err_set(-E2BIG, "client sent an option of %u bytes (at most %u): disconnected",
			       o.len, NBD_OPTION_MAX);
	}
	data = malloc(o.len + 1);
	if (!data)
		return err_set(-ENOMEM, "out of memory for an option of %u bytes", o.len);
	r = nbd_recv_all(s->fd, data, o.len);
	if (r == 0) {
		o.data = data;
		r = opt_dispatch(s, &o);
	}
	free(data);
	return r;
}

int nbd_handshake(struct nbd_session *s)
{
	uint8_t hello[18], cf[4];
	uint32_t cflags;
	int r, n;

	nbd_put64(hello, NBD_MAGIC);
	nbd_put64(hello + 8, NBD_IHAVEOPT);
	nbd_put16(hello + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	r = nbd_send_all(s->fd, hello, sizeof(hello));
	if (r == 0)
		r = nbd_recv_all(s->fd, cf, sizeof(cf));
	if (r < 0)
		return r == -EPIPE ? 0 : r;
	cflags = nbd_get32(cf);
	if (cflags & ~(uint32_t)(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES))
		return err_set(-EPROTO, "client sent unknown handshake flags %#x", cflags);
	s->no_zeroes = !!(cflags & NBD_FLAG_C_NO_ZEROES);
	for (n = 0; n < NBD_OPTIONS_MAX; n++) {
		r = opt_one(s);
		if (r < 0)
			return r;
		if (r == OPT_TRANSMIT)
			return 1;
		if (r == OPT_END)
			return 0;
	}
	return err_set(-EPROTO, "client sent %d options without choosing an export: disconnected",
		       NBD_OPTIONS_MAX);
}
