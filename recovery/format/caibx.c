/* casync blob index: parse (as hostile input) and serialise. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/format/caibx.h"
#include "muletto/core/err.h"

#define CAIBX_HEADER_SIZE 48
#define CAIBX_TABLE_HEADER_SIZE 16
#define CAIBX_ITEM_SIZE 40
#define CAIBX_TAIL_SIZE 40
#define CAIBX_FIXED (CAIBX_HEADER_SIZE + CAIBX_TABLE_HEADER_SIZE + CAIBX_TAIL_SIZE)

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void put_le64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

#define BAD(...) err_set(-EBADMSG, __VA_ARGS__)
#define WHAT "the index is damaged; capture the image again or restore another one"

static int caibx_check_header(const unsigned char *p, size_t len, const char *name,
			      struct caibx *x)
{
	if (len < CAIBX_FIXED)
		return BAD("%s: truncated (%zu bytes, an index has at least %d): " WHAT, name, len,
			   CAIBX_FIXED);
	if (get_le64(p) != CAIBX_HEADER_SIZE || get_le64(p + 8) != CAIBX_TYPE_INDEX)
		return BAD("%s: not a casync blob index (wrong header): check the file name", name);
	x->feature_flags = get_le64(p + 16);
	x->chunk_min = get_le64(p + 24);
	x->chunk_avg = get_le64(p + 32);
	x->chunk_max = get_le64(p + 40);
	if (x->chunk_min < 1 || x->chunk_max > CAIBX_CHUNK_SIZE_LIMIT ||
	    x->chunk_min > x->chunk_avg || x->chunk_avg > x->chunk_max)
		return BAD("%s: impossible chunk sizes (min %llu, avg %llu, max %llu): " WHAT, name,
			   (unsigned long long)x->chunk_min, (unsigned long long)x->chunk_avg,
			   (unsigned long long)x->chunk_max);
	if (get_le64(p + 48) != UINT64_MAX || get_le64(p + 56) != CAIBX_TYPE_TABLE)
		return BAD("%s: bad table header: " WHAT, name);
	if ((len - CAIBX_FIXED) % CAIBX_ITEM_SIZE)
		return BAD("%s: truncated or padded (%zu bytes is not a whole number of "
			   "entries): " WHAT, name, len);
	return 0;
}

static int caibx_check_tail(const unsigned char *t, size_t n, const char *name)
{
	if (get_le64(t + 32) != CAIBX_TAIL_MARKER)
		return BAD("%s: truncated (no end marker): " WHAT, name);
	if (get_le64(t) != 0 || get_le64(t + 8) != 0 || get_le64(t + 16) != CAIBX_HEADER_SIZE ||
	    get_le64(t + 24) != CAIBX_TABLE_HEADER_SIZE + n * CAIBX_ITEM_SIZE + CAIBX_TAIL_SIZE)
		return BAD("%s: the end record does not match the %zu entries: " WHAT, name, n);
	return 0;
}

/* Checks the items and turns them, in place, into struct caibx_entry. */
static int caibx_read_items(unsigned char *p, struct caibx *x, const char *name)
{
	unsigned char *items = p + CAIBX_HEADER_SIZE + CAIBX_TABLE_HEADER_SIZE;
	uint64_t prev = 0;
	size_t i;

	for (i = 0; i < x->n; i++) {
		unsigned char *it = items + i * CAIBX_ITEM_SIZE;
		uint64_t end = get_le64(it);
		if (end <= prev || end - prev > x->chunk_max)
			return BAD("%s: entry %zu ends at %llu after %llu (chunks must be 1 to "
				   "%llu bytes): " WHAT, name, i, (unsigned long long)end,
				   (unsigned long long)prev, (unsigned long long)x->chunk_max);
		memcpy(it, &end, sizeof(end)); /* host order */
		prev = end;
	}
	x->e = (struct caibx_entry *)(void *)items;
	return 0;
}

_Static_assert(sizeof(struct caibx_entry) == CAIBX_ITEM_SIZE, "entries are laid out as items");
_Static_assert((CAIBX_HEADER_SIZE + CAIBX_TABLE_HEADER_SIZE) % 8 == 0, "items are aligned");

int caibx_adopt(void *buf, size_t len, const char *name, struct caibx **ret)
{
	struct caibx *x = calloc(1, sizeof(*x));
	int r;

	if (!x) {
		free(buf);
		return -ENOMEM;
	}
	x->mem = buf;
	r = caibx_check_header(buf, len, name, x);
	if (r < 0)
		goto fail;
	x->n = (len - CAIBX_FIXED) / CAIBX_ITEM_SIZE;
	r = caibx_check_tail((unsigned char *)buf + len - CAIBX_TAIL_SIZE, x->n, name);
	if (r < 0)
		goto fail;
	r = caibx_read_items(buf, x, name);
	if (r < 0)
		goto fail;
	*ret = x;
	return 0;
fail:
	caibx_free(x);
	return r;
}

int caibx_parse(const void *buf, size_t len, const char *name, struct caibx **ret)
{
	void *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	return caibx_adopt(copy, len, name, ret);
}

int caibx_serialize(const struct caibx *x, void **ret_buf, size_t *ret_len)
{
	size_t len, i;
	unsigned char *p, *t;

	if (x->n > (SIZE_MAX - CAIBX_FIXED) / CAIBX_ITEM_SIZE)
		return -E2BIG;
	len = CAIBX_FIXED + x->n * CAIBX_ITEM_SIZE;
	p = calloc(1, len);
	if (!p)
		return -ENOMEM;
	put_le64(p, CAIBX_HEADER_SIZE);
	put_le64(p + 8, CAIBX_TYPE_INDEX);
	put_le64(p + 16, x->feature_flags);
	put_le64(p + 24, x->chunk_min);
	put_le64(p + 32, x->chunk_avg);
	put_le64(p + 40, x->chunk_max);
	put_le64(p + 48, UINT64_MAX);
	put_le64(p + 56, CAIBX_TYPE_TABLE);
	for (i = 0; i < x->n; i++) {
		unsigned char *it = p + CAIBX_HEADER_SIZE + CAIBX_TABLE_HEADER_SIZE +
				    i * CAIBX_ITEM_SIZE;
		put_le64(it, x->e[i].end);
		memcpy(it + 8, x->e[i].id.b, CHUNK_ID_SIZE);
	}
	t = p + len - CAIBX_TAIL_SIZE;
	put_le64(t + 16, CAIBX_HEADER_SIZE);
	put_le64(t + 24, CAIBX_TABLE_HEADER_SIZE + x->n * CAIBX_ITEM_SIZE + CAIBX_TAIL_SIZE);
	put_le64(t + 32, CAIBX_TAIL_MARKER);
	*ret_buf = p;
	*ret_len = len;
	return 0;
}

void caibx_free(struct caibx *x)
{
	if (!x)
		return;
	if (x->mem)
		free(x->mem);
	else
		free(x->e);
	free(x);
}
