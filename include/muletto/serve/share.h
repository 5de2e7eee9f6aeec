/* What the muletto's serving processes share, so that ten VMs on one muletto
 * are fair to each other: the background fetches of all of them together take
 * at most SHARE_FETCH_SLOTS connections, and while any VM waits for a chunk it
 * asked for, every background fetch waits. A table in shared memory
 * (/dev/shm/muletto-share), one entry per fetch holding its process's pid, so
 * that a process killed mid-fetch leaves nothing held for long: entries of
 * dead processes are taken back. Without shared memory each process goes on
 * alone (a notice says so). */
#ifndef MULETTO_SERVE_SHARE_H
#define MULETTO_SERVE_SHARE_H

#include <stdatomic.h>

#define SHARE_FETCH_SLOTS 16 /* background fetches of every VM together */
#define SHARE_WAITERS 64     /* on-demand fetches counted at once */

/* Takes a background fetch slot, waiting while a VM waits for a chunk it
 * asked for or all slots are taken; returns the slot, or -1 when *stop or
 * sharing is not available (then go on unshared). */
int share_background_begin(atomic_int *stop);
void share_background_end(int slot);
/* Around an on-demand fetch: background fetches everywhere hold back. */
int share_demand_begin(void);
void share_demand_end(int slot);

#endif
