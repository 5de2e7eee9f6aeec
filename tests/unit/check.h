/* Minimal unit-test helpers: each CHECK prints nothing on success; a test
 * function reports "PASS: name" or "FAIL: name" once. tests/run counts them. */
#ifndef MULETTO_TEST_CHECK_H
#define MULETTO_TEST_CHECK_H

#include <stdio.h>

static int check_failures_in_test;
static int check_failed_tests;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			check_failures_in_test++;                                      \
		}                                                                      \
	} while (0)

#define RUN(test_fn)                                                                   \
	do {                                                                           \
		check_failures_in_test = 0;                                            \
		test_fn();                                                             \
		printf("%s: %s\n", check_failures_in_test ? "FAIL" : "PASS", #test_fn); \
		if (check_failures_in_test)                                            \
			check_failed_tests++;                                          \
		fflush(stdout);                                                        \
	} while (0)

#define CHECK_EXIT() return check_failed_tests ? 1 : 0

#endif
