/* The shared fetch table: pids in slots, taken with compare-and-swap. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/share.h"

#define SHARE_NAME "/muletto-share"
#define SHARE_WAIT_MS 20

struct share {
	atomic_int background[SHARE_FETCH_SLOTS]; /* pid of the process fetching, or 0 */
	atomic_int demand[SHARE_WAITERS];
};

static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static struct share *share;

static void share_map(void)
{
	int fd = shm_open(SHARE_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	void *p;

	if (fd < 0)
		return;
	if (ftruncate(fd, sizeof(struct share)) == 0) {
		p = mmap(NULL, sizeof(struct share), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			share = p;
	}
	close(fd);
	if (!share)
		debug_log("serve", "no shared memory: each process fetches on its own");
}

/* An entry of a process that is gone is free again. */
static int share_take(atomic_int *slots, int n)
{
	int me = (int)getpid(), i, v;

	for (i = 0; i < n; i++) {
		v = atomic_load(&slots[i]);
		if (v && v != me && kill(v, 0) < 0 && errno == ESRCH)
			atomic_compare_exchange_strong(&slots[i], &v, 0);
		v = 0;
		if (atomic_compare_exchange_strong(&slots[i], &v, me))
			return i;
	}
	return -1;
}

/* 1 when a live process waits for a chunk it asked for. */
static int share_demand_waiting(void)
{
	int i, v;

	for (i = 0; i < SHARE_WAITERS; i++) {
		v = atomic_load(&share->demand[i]);
		if (v && (v == (int)getpid() || kill(v, 0) == 0 || errno != ESRCH))
			return 1;
	}
	return 0;
}

int share_background_begin(atomic_int *stop)
{
	int slot;

	pthread_once(&share_once, share_map);
	if (!share)
		return -1;
	while (!atomic_load(stop)) {
		if (!share_demand_waiting() && (slot = share_take(share->background,
								  SHARE_FETCH_SLOTS)) >= 0)
			return slot;
		sleep_ms(SHARE_WAIT_MS);
	}
	return -1;
}

void share_background_end(int slot)
{
	if (share && slot >= 0)
		atomic_store(&share->background[slot], 0);
}

int share_demand_begin(void)
{
	pthread_once(&share_once, share_map);
	return share ? share_take(share->demand, SHARE_WAITERS) : -1;
}

void share_demand_end(int slot)
{
	if (share && slot >= 0)
		atomic_store(&share->demand[slot], 0);
}
