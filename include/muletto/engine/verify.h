/* Checking an image in its repository: every distinct chunk of every disk is
 * fetched and compared with its id. A missing or damaged chunk is a WARNING
 * event (op "verify") naming it, disk and offset; the check goes on. */
#ifndef MULETTO_ENGINE_VERIFY_H
#define MULETTO_ENGINE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct verify_result {
	char repo[512]; /* the repository, as messages name it */
	size_t chunks;	/* distinct chunks checked */
	size_t bad;	/* missing or damaged */
	uint64_t bytes; /* their size, uncompressed */
};

/* 0 when every chunk is there and intact; -EBADMSG with a message when some
 * are not; another code when the store cannot be read at all. */
int verify_image(const char *repo_url, const char *name, int threads, struct verify_result *res);

#endif
