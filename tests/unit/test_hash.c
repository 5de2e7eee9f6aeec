/* Unit tests: chunk ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/core/hash.h"

static void known_vectors(void)
{
	struct chunk_id id;
	char hex[CHUNK_ID_HEX_SIZE];
	void *zeros = calloc(1, 1 << 20);

	CHECK(hash_buf(HASH_SHA256, "abc", 3, &id) == 0);
	chunk_id_hex(&id, hex);
	CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(hash_buf(HASH_SHA512_256, "abc", 3, &id) == 0);
	chunk_id_hex(&id, hex);
	CHECK(!strcmp(hex, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"));
	CHECK(hash_buf(HASH_SHA256, zeros, 1 << 20, &id) == 0);
	chunk_id_hex(&id, hex);
	CHECK(!strcmp(hex, "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58"));
	free(zeros);
}

static void hex_round_trip_and_rejects(void)
{
	struct chunk_id a, b;
	char hex[CHUNK_ID_HEX_SIZE];
	int i;

	for (i = 0; i < CHUNK_ID_SIZE; i++)
		a.b[i] = (uint8_t)(i * 37 + 1);
	chunk_id_hex(&a, hex);
	CHECK(chunk_id_parse(hex, &b) == 0 && chunk_id_equal(&a, &b));
	hex[5] = 'g';
	CHECK(chunk_id_parse(hex, &b) == -EINVAL);
	CHECK(chunk_id_parse("abcd", &b) == -EINVAL);
	chunk_id_hex(&a, hex);
	char longer[80];
	snprintf(longer, sizeof(longer), "%s0", hex);
	CHECK(chunk_id_parse(longer, &b) == -EINVAL);
}

static void zero_chunks_are_recognised(void)
{
	struct chunk_id id;
	unsigned char *buf = calloc(1, 1 << 20);
	int k;

	hash_buf(HASH_SHA256, buf, 1 << 20, &id);
	CHECK(chunk_id_is_zero(HASH_SHA256, &id, 1 << 20));
	CHECK(!chunk_id_is_zero(HASH_SHA256, &id, 1 << 19));
	CHECK(!chunk_id_is_zero(HASH_SHA512_256, &id, 1 << 20));
	hash_buf(HASH_SHA512_256, buf, 4096, &id);
	CHECK(chunk_id_is_zero(HASH_SHA512_256, &id, 4096));
	CHECK(buf_is_zero(buf, 1 << 20) && buf_is_zero(buf, 3) && buf_is_zero(buf, 0));
	buf[(1 << 20) - 1] = 1;
	CHECK(!buf_is_zero(buf, 1 << 20));
	buf[(1 << 20) - 1] = 0;
	buf[7] = 1;
	CHECK(!buf_is_zero(buf, 1 << 20));
	/* more distinct lengths than the cache holds: data is never taken for zeros */
	buf[100] = 1;
	for (k = 1; k < 40; k++) {
		hash_buf(HASH_SHA256, buf + 100, (size_t)k * 1000, &id);
		CHECK(!chunk_id_is_zero(HASH_SHA256, &id, (uint64_t)k * 1000));
	}
	free(buf);
}

int main(void)
{
	RUN(known_vectors);
	RUN(hex_round_trip_and_rejects);
	RUN(zero_chunks_are_recognised);
	CHECK_EXIT();
}
