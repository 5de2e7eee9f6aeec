/* A parallel loop over indices 0..n-1 on a fixed number of worker threads.
 *
 * Each worker gets its own state from init() (a source connection, a
 * decompression context, buffers) and runs fn() on the next free index; the
 * first failure stops the others, and its code and message come back to the
 * caller's thread. The caller's thread calls tick() about every 200 ms while
 * it waits (progress display). */
#ifndef MULETTO_PFOR_H
#define MULETTO_PFOR_H

#include <stddef.h>

struct pfor_ops {
	/* May be NULL. On failure, *ret_wstate (if set) still goes to fini. */
	int (*init)(void *arg, void **ret_wstate);
	int (*fn)(void *arg, void *wstate, size_t i);
	void (*fini)(void *arg, void *wstate); /* may be NULL */
	void (*tick)(void *arg);	       /* may be NULL */
	/* May be NULL (1). How many indices from i one call of fn(i) covers; a
	 * pure function of i, so fn can work it out again. Lets a worker take a
	 * run of neighbours (all-zero chunks) at once. */
	size_t (*span)(void *arg, size_t i);
};

/* Returns 0 when every index succeeded, else the first failure's code with its
 * message in err_msg(). */
int pfor_run(size_t n, int threads, const struct pfor_ops *ops, void *arg);

#endif
