/* QEMU's arguments for a VM. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/vm/qemu.h"

#define VM_ARGS_MAX 128

struct args {
	char *v[VM_ARGS_MAX + 1];
	size_t n;
	int err;
};

static void arg(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (a->err)
		return;
	va_start(ap, fmt);
	if (a->n >= VM_ARGS_MAX || vasprintf(&s, fmt, ap) < 0)
		a->err = -ENOMEM;
	else
		a->v[a->n++] = s;
	va_end(ap);
}

void vm_node_names(size_t k, char *remote, char *disk, size_t size)
{
	snprintf(remote, size, "remote%zu", k);
	snprintf(disk, size, "disk%zu", k);
}

static void vm_args_disks(struct args *a, const struct vm_spec *s)
{
	char remote[32], disk[32];
	size_t k;

	for (k = 0; k < s->ndisks; k++) {
		vm_node_names(k, remote, disk, sizeof(remote));
		arg(a, "-blockdev");
		arg(a, "driver=nbd,node-name=%s,server.type=unix,server.path=%s,reconnect-delay=30",
		    remote, s->disk_socks[k]);
		arg(a, "-blockdev");
		arg(a, "driver=raw,node-name=%s,file=%s", disk, remote);
		arg(a, "-device");
		if (!strcmp(s->disk_bus, "ahci"))
			arg(a, "ide-hd,drive=%s,bus=ide.%zu,bootindex=%zu", disk, k, k);
		else if (!strcmp(s->disk_bus, "nvme"))
			arg(a, "nvme,drive=%s,serial=MULETTO%04zu,bootindex=%zu", disk, k, k);
		else if (!strcmp(s->disk_bus, "ide"))
			arg(a, "ide-hd,drive=%s,bus=ide.%zu,bootindex=%zu", disk, k, k);
		else
			arg(a, "virtio-blk-pci,drive=%s,bootindex=%zu", disk, k);
	}
}

static void vm_args_nics(struct args *a, const struct vm_spec *s)
{
	const char *model = !strcmp(s->nic_model, "virtio") ? "virtio-net-pci" : s->nic_model;
	size_t k;

	for (k = 0; k < s->nnics; k++) {
		arg(a, "-netdev");
		arg(a, "%s,id=net%zu", s->nics[k].netdev, k);
		arg(a, "-device");
		arg(a, "%s,netdev=net%zu,mac=%s,romfile=", model, k, s->nics[k].mac);
	}
}

int vm_argv(const struct vm_spec *s, char ***ret)
{
	struct args a = { 0 };
	char **v;

	arg(&a, "qemu-system-x86_64");
	arg(&a, "-name");
	arg(&a, "%s", s->name);
	arg(&a, "-accel");
	arg(&a, "%s", s->kvm ? "kvm" : "tcg");
	arg(&a, "-machine");
	arg(&a, "%s", s->disk_bus && !strcmp(s->disk_bus, "ide") ? "pc" : "q35");
	arg(&a, "-cpu");
	arg(&a, "%s", s->kvm ? "host" : "max");
	arg(&a, "-smp");
	arg(&a, "%d", s->cpus);
	arg(&a, "-m");
	arg(&a, "%llu", (unsigned long long)s->memory_mib);
	arg(&a, "-nodefaults");
	arg(&a, "-no-user-config");
	arg(&a, "-display");
	arg(&a, "none");
	arg(&a, "-device");
	arg(&a, "VGA");
	if (s->uefi) {
		arg(&a, "-drive");
		arg(&a, "if=pflash,format=raw,readonly=on,file=%s", VM_OVMF_CODE);
		arg(&a, "-drive");
		arg(&a, "if=pflash,format=raw,file=%s/efivars.fd", s->dir);
	}
	vm_args_disks(&a, s);
	vm_args_nics(&a, s);
	arg(&a, "-chardev");
	arg(&a, "socket,id=serial0,path=%s/serial.sock,server=on,wait=off,logfile=%s/serial.log",
	    s->dir, s->dir);
	arg(&a, "-serial");
	arg(&a, "chardev:serial0");
	arg(&a, "-qmp");
	arg(&a, "unix:%s/qmp.sock,server=on,wait=off", s->dir);
	if (s->vnc) {
		arg(&a, "-vnc");
		arg(&a, "%s%s", s->vnc, s->vnc_password ? ",password=on" : "");
	}
	arg(&a, "-pidfile");
	arg(&a, "%s/qemu.pid", s->dir);
	v = a.err ? NULL : calloc(a.n + 1, sizeof(*v));
	if (!v) {
		while (a.n)
			free(a.v[--a.n]);
		return err_set(-ENOMEM, "cannot build QEMU's command line");
	}
	memcpy(v, a.v, a.n * sizeof(*v));
	*ret = v;
	return 0;
}

void vm_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}
