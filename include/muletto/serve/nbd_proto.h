/* The NBD protocol as the server speaks it: the numbers on the wire, the state
 * a handshake leaves for the transmission phase, and the two phases as
 * functions on one connected socket. serve/nbd.c drives them; tests and the
 * fuzz target call them on a socketpair.
 *
 * Every field on the wire is big-endian; messages are built and parsed with
 * the nbd_put_* and nbd_get_* helpers, never by casting a buffer to a struct. */
#ifndef MULETTO_SERVE_NBD_PROTO_H
#define MULETTO_SERVE_NBD_PROTO_H

#include <endian.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "muletto/serve/nbd.h"

/* Handshake */
#define NBD_MAGIC 0x4e42444d41474943ull	   /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ull /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x0003e889045565a9ull
#define NBD_FLAG_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_NO_ZEROES (1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES (1u << 1)

enum nbd_opt {
	NBD_OPT_EXPORT_NAME = 1,
	NBD_OPT_ABORT = 2,
	NBD_OPT_LIST = 3,
	NBD_OPT_STARTTLS = 5,
	NBD_OPT_INFO = 6,
	NBD_OPT_GO = 7,
	NBD_OPT_STRUCTURED_REPLY = 8,
	NBD_OPT_LIST_META_CONTEXT = 9,
	NBD_OPT_SET_META_CONTEXT = 10,
};

#define NBD_REP_ACK 1u
#define NBD_REP_SERVER 2u
#define NBD_REP_INFO 3u
#define NBD_REP_META_CONTEXT 4u
#define NBD_REP_ERR_UNSUP (0x80000000u + 1)
#define NBD_REP_ERR_POLICY (0x80000000u + 2)
#define NBD_REP_ERR_INVALID (0x80000000u + 3)
#define NBD_REP_ERR_UNKNOWN (0x80000000u + 6)
#define NBD_REP_ERR_SHUTDOWN (0x80000000u + 7)
#define NBD_REP_ERR_TOO_BIG (0x80000000u + 9)

#define NBD_INFO_EXPORT 0
#define NBD_INFO_NAME 1
#define NBD_INFO_DESCRIPTION 2
#define NBD_INFO_BLOCK_SIZE 3

/* Transmission flags */
#define NBD_FLAG_HAS_FLAGS (1u << 0)
#define NBD_FLAG_READ_ONLY (1u << 1)
#define NBD_FLAG_SEND_FLUSH (1u << 2)
#define NBD_FLAG_SEND_FUA (1u << 3)
#define NBD_FLAG_SEND_TRIM (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF (1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN (1u << 8)

/* Transmission */
#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu
#define NBD_REQUEST_SIZE 28
#define NBD_SIMPLE_REPLY_SIZE 16
#define NBD_CHUNK_HEADER_SIZE 20

enum nbd_cmd {
	NBD_CMD_READ = 0,
	NBD_CMD_WRITE = 1,
	NBD_CMD_DISC = 2,
	NBD_CMD_FLUSH = 3,
	NBD_CMD_TRIM = 4,
	NBD_CMD_WRITE_ZEROES = 6,
	NBD_CMD_BLOCK_STATUS = 7,
};

#define NBD_CMD_FLAG_FUA (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE (1u << 1)
#define NBD_CMD_FLAG_DF (1u << 2)
#define NBD_CMD_FLAG_REQ_ONE (1u << 3)

#define NBD_REPLY_FLAG_DONE (1u << 0)
#define NBD_REPLY_TYPE_NONE 0
#define NBD_REPLY_TYPE_OFFSET_DATA 1
#define NBD_REPLY_TYPE_BLOCK_STATUS 5
#define NBD_REPLY_TYPE_ERROR (0x8000u + 1)

/* Error numbers on the wire (the protocol's, not this system's errno). */
#define NBD_EPERM 1
#define NBD_EIO 5
#define NBD_ENOMEM 12
#define NBD_EINVAL 22
#define NBD_ENOSPC 28
#define NBD_EOVERFLOW 75
#define NBD_ENOTSUP 95
#define NBD_ESHUTDOWN 108

/* Limits on what a client may make the server hold. */
#define NBD_OPTION_MAX (64u << 10) /* one option's data: more closes the connection */
#define NBD_OPTIONS_MAX 1024	   /* options in one handshake */
#define NBD_STRING_MAX 4096	   /* names, queries, messages (proto.md) */
#define NBD_EXTENTS_MAX 1024	   /* descriptors in one block status reply */
#define NBD_META_ID_ALLOCATION 1   /* our id for base:allocation */

/* One connection: the export and what the handshake agreed on. */
struct nbd_session {
	int fd;
	unsigned id; /* for debug lines */
	const struct nbd_export *e;
	int structured;	   /* structured replies negotiated */
	int no_zeroes;	   /* NBD_FLAG_C_NO_ZEROES */
	uint32_t meta_id;  /* base:allocation selected: its id; else 0 */
	uint16_t tflags;   /* transmission flags sent to the client */
};

/* The fixed newstyle handshake, up to the start of transmission. Returns 1
 * when the client chose the export (s->structured, meta_id, tflags set), 0
 * when it ended the handshake (NBD_OPT_ABORT, or it went away between
 * options), or a negative errno when it broke the protocol. */
int nbd_handshake(struct nbd_session *s);
/* Reads requests until the client disconnects, runs them on up to
 * NBD_IN_FLIGHT_MAX threads and answers each; returns after every reply
 * was sent. 0 after NBD_CMD_DISC, else the reason the connection ended. */
int nbd_transmit(struct nbd_session *s);
/* The transmission flags for e with or without structured replies. */
uint16_t nbd_transmission_flags(const struct nbd_export *e, int structured);
/* Fills the defaults of e into *out and checks its sizes: 0 or -EINVAL with
 * a message. */
int nbd_export_check(const struct nbd_export *e, struct nbd_export *out);

/* A request, from the reader that checked it to the worker that runs it. */
struct nbd_req {
	uint16_t flags, type;
	uint64_t handle, off;
	uint32_t len;
	void *buf;	   /* READ, WRITE: len bytes */
	int counted;	   /* holds a place among the client's requests in flight */
	uint32_t reserved; /* bytes of the client's budget it holds */
	struct nbd_req *next;
};

/* The transmission phase of one client (nbd_request.c runs it, nbd_reply.c
 * executes requests and answers them). */
struct nbd_conn {
	struct nbd_session *s;
	pthread_mutex_t send_lock; /* one reply at a time on the socket */
	atomic_int broken;	   /* a reply could not be sent: read no more */
	pthread_mutex_t lock;	   /* guards the fields below */
	pthread_cond_t work;	   /* a request was queued, or closing */
	pthread_cond_t room;	   /* a request finished */
	struct nbd_req *head, *tail;
	int queued, idle, nworkers, closing;
	int in_flight;	/* counted requests, queued or running */
	uint64_t bytes; /* their reserved bytes */
	pthread_t workers[NBD_IN_FLIGHT_MAX];
};

/* Runs a checked request on the backend and sends its reply. */
void nbd_execute(struct nbd_conn *c, const struct nbd_req *rq);
/* Answers rq with an NBD error (NBD_E*) and a message for the human. */
void nbd_reply_error(struct nbd_conn *c, const struct nbd_req *rq, uint32_t err, const char *msg);

/* Socket I/O: whole buffers or an error; a peer that went away is -EPIPE.
 * Sending never raises SIGPIPE. */
int nbd_recv_all(int fd, void *buf, size_t len);
int nbd_send_all(int fd, const void *buf, size_t len);
int nbd_sendv_all(int fd, struct iovec *iov, int n);
/* Reads and drops len bytes (a payload the server will not use). */
int nbd_recv_discard(int fd, uint64_t len);

static inline void nbd_put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void nbd_put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void nbd_put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t nbd_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t nbd_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t nbd_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

#endif
