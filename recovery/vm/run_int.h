/* What run.c and run_loop.c share: a running VM and its disks. */
#ifndef MULETTO_VM_RUN_INT_H
#define MULETTO_VM_RUN_INT_H

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "muletto/format/manifest.h"
#include "muletto/serve/nbd.h"
#include "muletto/serve/served.h"
#include "muletto/vm/net.h"
#include "muletto/vm/qemu.h"
#include "muletto/vm/qmp.h"
#include "muletto/vm/run.h"

struct run_disk {
	struct served *s;
	struct nbd_export e;
	int listen_fd;
	pthread_t thread;
	int serving;		    /* the NBD thread runs */
	volatile sig_atomic_t stop; /* ends the NBD thread */
	int local;		    /* the guest's disk is on the target now */
	char sock[512];
	struct served_status last;  /* what status said last (after the close too) */
	char target[512];	    /* last.target points here */
	uint64_t last_local;	    /* for the rate: bytes local at last_t */
	double last_t, rate;
};

struct run {
	const struct run_request *q;
	char name[128];
	char dir[400];
	int lock_fd;
	struct manifest *m;
	size_t ndisks;
	struct run_disk disks[VM_DISKS_MAX];
	struct vm_spec spec;
	char link[IF_NAMESIZE];	    /* --net bridge: the interface to bridge */
	struct net_bridge net;	    /* --net bridge: the bridge over it */
	int tap_fds[VM_NICS_MAX];   /* until QEMU has them (-1: none) */
	char taps[VM_NICS_MAX][IF_NAMESIZE];
	pid_t qemu;
	struct qmp *qmp;
	double started;
	const char *state;
	int qemu_status;
	struct run_result *res;
};

/* run_loop.c: watches the VM until QEMU ends; moves disks that have arrived. */
int run_loop(struct run *r, volatile sig_atomic_t *stop, volatile sig_atomic_t *force);
/* status.json in the VM's folder, now. */
void run_write_status(struct run *r);

#endif
