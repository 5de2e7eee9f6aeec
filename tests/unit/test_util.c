/* Unit tests: helpers, error messages, the parallel loop. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/core/pfor.h"
#include "muletto/core/util.h"

static void human_size_rounds_to_binary_units(void)
{
	char b[32];

	human_size(17, b, sizeof(b));
	CHECK(!strcmp(b, "17 B"));
	human_size(4096, b, sizeof(b));
	CHECK(!strcmp(b, "4.0 KiB"));
	human_size(4ULL << 30, b, sizeof(b));
	CHECK(!strcmp(b, "4.0 GiB"));
	human_size(1600ULL * 1000 * 1000, b, sizeof(b));
	CHECK(!strcmp(b, "1.5 GiB"));
	human_size(512ULL << 20, b, sizeof(b));
	CHECK(!strcmp(b, "512 MiB"));
}

static void path_join_uses_one_slash(void)
{
	char *p = path_join("http://h/repo/", "/store");

	CHECK(p && !strcmp(p, "http://h/repo/store"));
	free(p);
	p = path_join("/", "x");
	CHECK(p && !strcmp(p, "/x"));
	free(p);
}

static void str_copy_never_overflows(void)
{
	char b[4];

	str_copy(b, sizeof(b), "abcdef");
	CHECK(!strcmp(b, "abc"));
	str_copy(b, sizeof(b), NULL);
	CHECK(b[0] == 0);
}

static void err_prefix_keeps_the_cause(void)
{
	err_clear();
	CHECK(err_set(-EIO, "chunk %d: hash mismatch", 7) == -EIO);
	CHECK(err_prefix(-EIO, "disk0") == -EIO);
	CHECK(!strcmp(err_msg(), "disk0: chunk 7: hash mismatch"));
	err_clear();
	err_prefix(-ENOENT, "store");
	CHECK(strstr(err_msg(), "store: ") == err_msg());
	CHECK(strstr(err_msg(), "No such file") != NULL);
}

static void debug_areas_match_whole_names(void)
{
	setenv("MULETTO_DEBUG", "fetch,write", 1);
	CHECK(debug_enabled("fetch"));
	CHECK(debug_enabled("write"));
	CHECK(!debug_enabled("fet"));
	CHECK(!debug_enabled("seed"));
	unsetenv("MULETTO_DEBUG");
	CHECK(!debug_enabled("fetch"));
}

struct count {
	atomic_int seen[1000];
	atomic_int inits, finis;
	size_t fail_at;
};

static int count_init(void *arg, void **ws)
{
	struct count *c = arg;

	atomic_fetch_add(&c->inits, 1);
	*ws = NULL;
	return 0;
}

static int count_fn(void *arg, void *ws, size_t i)
{
	struct count *c = arg;

	(void)ws;
	if (i == c->fail_at)
		return err_set(-EBADMSG, "item %zu is bad", i);
	atomic_fetch_add(&c->seen[i], 1);
	return 0;
}

static void count_fini(void *arg, void *ws)
{
	struct count *c = arg;

	(void)ws;
	atomic_fetch_add(&c->finis, 1);
}

static void pfor_runs_each_index_once(void)
{
	static const struct pfor_ops ops = { .init = count_init, .fn = count_fn, .fini = count_fini };
	struct count *c = calloc(1, sizeof(*c));
	int i, ok = 1;

	c->fail_at = (size_t)-1;
	CHECK(pfor_run(1000, 4, &ops, c) == 0);
	for (i = 0; i < 1000; i++)
		ok &= c->seen[i] == 1;
	CHECK(ok);
	CHECK(c->inits == 4 && c->finis == 4);
	free(c);
}

/* Spans of 1, 2 or 3 indices (past the end clipped by fn): still each once. */
static size_t span3(void *arg, size_t i)
{
	(void)arg;
	return 1 + i % 3;
}

static int span_fn(void *arg, void *ws, size_t i)
{
	struct count *c = arg;
	size_t k;

	(void)ws;
	for (k = i; k < i + span3(arg, i) && k < 1000; k++)
		atomic_fetch_add(&c->seen[k], 1);
	return 0;
}

static void pfor_spans_cover_each_index_once(void)
{
	static const struct pfor_ops ops = { .fn = span_fn, .span = span3 };
	struct count *c = calloc(1, sizeof(*c));
	int i, ok = 1;

	CHECK(pfor_run(1000, 3, &ops, c) == 0);
	for (i = 0; i < 1000; i++)
		ok &= c->seen[i] == 1;
	CHECK(ok);
	free(c);
}

static void pfor_returns_the_first_failure_message(void)
{
	static const struct pfor_ops ops = { .init = count_init, .fn = count_fn, .fini = count_fini };
	struct count *c = calloc(1, sizeof(*c));

	c->fail_at = 500;
	err_clear();
	CHECK(pfor_run(1000, 3, &ops, c) == -EBADMSG);
	CHECK(!strcmp(err_msg(), "item 500 is bad"));
	CHECK(c->inits == c->finis);
	free(c);
}

/* A worker whose set-up fails half-way hands what it holds to fini: nothing
 * a failed start allocated is left behind (capture leaked its buffers). */
static atomic_int live_states;

static int half_init(void *arg, void **ret)
{
	static atomic_int started;
	int *state = malloc(sizeof(int));

	(void)arg;
	*ret = state;
	atomic_fetch_add(&live_states, 1);
	if (atomic_fetch_add(&started, 1) == 1)
		return err_set(-ENOMEM, "the second worker cannot start");
	return 0;
}

static int half_fn(void *arg, void *ws, size_t i)
{
	(void)arg;
	(void)ws;
	(void)i;
	return 0;
}

static void half_fini(void *arg, void *ws)
{
	(void)arg;
	free(ws);
	atomic_fetch_sub(&live_states, 1);
}

static void pfor_releases_a_worker_that_failed_to_start(void)
{
	static const struct pfor_ops ops = { .init = half_init, .fn = half_fn, .fini = half_fini };

	CHECK(pfor_run(100, 4, &ops, NULL) == -ENOMEM);
	CHECK(!strcmp(err_msg(), "the second worker cannot start"));
	CHECK(atomic_load(&live_states) == 0);
}

static void parse_numbers_strictly(void)
{
	int v = 7;
	uint64_t u = 7;

	CHECK(parse_int("12", 1, 100, &v) == 0 && v == 12);
	CHECK(parse_int("-3", -5, 5, &v) == 0 && v == -3);
	CHECK(parse_int("0", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("101", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("abc", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("12abc", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("", 1, 100, &v) == -EINVAL);
	CHECK(parse_int(" 5", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("99999999999999999999", 1, 100, &v) == -EINVAL);
	CHECK(parse_int("-2147483648", INT32_MIN, 0, &v) == 0 && v == INT32_MIN);
	CHECK(v == INT32_MIN);
	CHECK(parse_u64("18446744073709551615", 0, UINT64_MAX, &u) == 0 && u == UINT64_MAX);
	CHECK(parse_u64("18446744073709551616", 0, UINT64_MAX, &u) == -EINVAL);
	CHECK(parse_u64("-1", 0, UINT64_MAX, &u) == -EINVAL);
}

int main(void)
{
	RUN(human_size_rounds_to_binary_units);
	RUN(path_join_uses_one_slash);
	RUN(str_copy_never_overflows);
	RUN(err_prefix_keeps_the_cause);
	RUN(debug_areas_match_whole_names);
	RUN(pfor_runs_each_index_once);
	RUN(pfor_spans_cover_each_index_once);
	RUN(pfor_returns_the_first_failure_message);
	RUN(pfor_releases_a_worker_that_failed_to_start);
	RUN(parse_numbers_strictly);
	CHECK_EXIT();
}
