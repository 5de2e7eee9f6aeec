/* The fetches the serving processes share: background work waits while
 * another process waits for a chunk, and a process killed holding a slot
 * leaves nothing held. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "muletto/core/util.h"
#include "muletto/serve/share.h"

static void background_waits_for_another_process_demand(void)
{
	int go[2], done[2], slot;
	atomic_int stop = 0;
	char c;
	pid_t pid;

	CHECK(pipe(go) == 0 && pipe(done) == 0);
	pid = fork();
	if (pid == 0) { /* holds a demand, says so, lets go when told */
		int d = share_demand_begin();
		(void)!write(go[1], d >= 0 ? "y" : "n", 1);
		(void)!read(done[0], &c, 1);
		share_demand_end(d);
		_exit(0);
	}
	CHECK(read(go[0], &c, 1) == 1 && c == 'y');
	/* while it waits, a background fetch cannot start: try from a thread of
	 * time: stop after 300 ms */
	double t0 = now_seconds();
	pid_t stopper = fork();
	if (stopper == 0) {
		sleep_ms(300);
		(void)!write(done[1], "x", 1);
		_exit(0);
	}
	slot = share_background_begin(&stop);
	CHECK(slot >= 0);
	CHECK(now_seconds() - t0 >= 0.25); /* it waited for the other's demand */
	share_background_end(slot);
	waitpid(pid, NULL, 0);
	waitpid(stopper, NULL, 0);
}

static void a_killed_process_holds_nothing(void)
{
	atomic_int stop = 0;
	int go[2], k, slots[SHARE_FETCH_SLOTS];
	char c;
	pid_t pid;

	CHECK(pipe(go) == 0);
	pid = fork();
	if (pid == 0) { /* takes every background slot and a demand, then dies */
		atomic_int st = 0;
		for (k = 0; k < SHARE_FETCH_SLOTS; k++)
			share_background_begin(&st);
		share_demand_begin();
		(void)!write(go[1], "y", 1);
		pause();
		_exit(0);
	}
	CHECK(read(go[0], &c, 1) == 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (k = 0; k < SHARE_FETCH_SLOTS; k++) /* all of them taken back */
		CHECK((slots[k] = share_background_begin(&stop)) >= 0);
	for (k = 0; k < SHARE_FETCH_SLOTS; k++)
		share_background_end(slots[k]);
}

int main(void)
{
	RUN(background_waits_for_another_process_demand);
	RUN(a_killed_process_holds_nothing);
	CHECK_EXIT();
}
