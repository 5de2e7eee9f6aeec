/* muletto run: an image started as a VM under QEMU, each disk served from the
 * repository (serve/served.h) and hydrating onto its target while the guest
 * runs; when a disk has fully arrived, the guest's disk is moved onto the
 * target through QEMU's monitor, without stopping it. Its state is kept in
 * a folder of its own under MULETTO_RUN_DIR (/run/muletto/vms/NAME): status.json,
 * the QMP, serial and NBD sockets, the serial log, QEMU's log. */
#ifndef MULETTO_VM_RUN_H
#define MULETTO_VM_RUN_H

#include <signal.h>
#include <stdint.h>

#include "muletto/vm/qemu.h"

#define RUN_DIR_DEFAULT "/run/muletto/vms"

struct run_request {
	const char *repo, *image;
	const char *name;      /* the VM's name (default: the image's) */
	const char *targets[VM_DISKS_MAX]; /* per disk of the image */
	const char *firmware;  /* "uefi", "bios"; NULL: the manifest's */
	int cpus;	       /* 0: the manifest's, at most this machine's */
	uint64_t memory_mib;   /* 0: the manifest's, at most what this machine spares */
	const char *disk_bus;  /* NULL: virtio if the machine had it, else ahci */
	const char *nic_model; /* NULL: virtio if the machine had it, else e1000e */
	const char *net;       /* "none", "user", "bridge" or "bridge:IFACE" */
	const char *vnc;       /* "127.0.0.1:N" etc., or NULL */
	const char *vnc_password;
	const char *trust;
	int threads;
	int stop_seconds;      /* a graceful stop's wait before QEMU is ended (60) */
	int (*confirm)(void *ctx, const char *target, uint64_t need);
	void *ctx;
	/* called once the VM runs (the caller may then detach) */
	void (*started)(void *ctx, const char *dir);
	/* verify --boot: every disk in a layer in memory (nothing written), and
	 * the VM ended at the first sign of life or after timeout_seconds */
	int verify;
	const char *expect;  /* text on the serial console that means booted */
	const char *png;     /* a screenshot at the end, or NULL */
	int timeout_seconds;
};

/* What a verify --boot found. */
struct run_result {
	int booted;
	double seconds;	  /* from the start to the sign of life, or to the end */
	char why[512];	  /* what was seen, or what was not */
};

/* Runs the VM until it powers off, or *stop (graceful: the ACPI power
 * button, then the wait), or *force (QEMU ended at once). */
int run_vm(const struct run_request *q, volatile sig_atomic_t *stop,
	   volatile sig_atomic_t *force, struct run_result *res);

/* The folder VMs live under: MULETTO_RUN_DIR, else RUN_DIR_DEFAULT. */
const char *run_dir_root(void);

#endif
