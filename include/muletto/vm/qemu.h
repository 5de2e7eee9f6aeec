/* The QEMU command line of a VM: the machine an image was captured on, as
 * virtual hardware its system already has drivers for, each disk on an NBD
 * socket (a "remote" node under a "disk" node, so that the disk can be moved
 * onto its local target later without stopping the guest). */
#ifndef MULETTO_VM_QEMU_H
#define MULETTO_VM_QEMU_H

#include <stddef.h>
#include <stdint.h>

#define VM_DISKS_MAX 8
#define VM_NICS_MAX 8
#define VM_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define VM_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

struct vm_nic {
	char mac[32];
	char netdev[256]; /* the -netdev value without id= ("user,restrict=on", "tap,...") */
};

struct vm_spec {
	const char *name;
	const char *dir;      /* its run folder: sockets, logs, firmware variables */
	int uefi;
	int kvm;
	int cpus;
	uint64_t memory_mib;
	const char *disk_bus; /* virtio, ahci, nvme, ide */
	const char *nic_model; /* e1000e, virtio, e1000, rtl8139 */
	size_t ndisks;
	char disk_socks[VM_DISKS_MAX][512];
	size_t nnics;
	struct vm_nic nics[VM_NICS_MAX];
	const char *vnc;      /* "127.0.0.1:5" style, or NULL for none */
	int vnc_password;     /* the password is set over QMP after start */
};

/* A new NULL-terminated argv for qemu-system-x86_64 (free with vm_argv_free). */
int vm_argv(const struct vm_spec *s, char ***ret);
void vm_argv_free(char **argv);
/* The QMP node names of disk k: "remote<k>" (NBD) and "disk<k>" (what the guest sees). */
void vm_node_names(size_t k, char *remote, char *disk, size_t size);

#endif
