/* muletto run: the VM's folder, its disks served, QEMU started; then the
 * loop (run_loop.c) until it ends, and everything put away. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/store/repo.h"
#include "run_int.h"

#define RUN_MEMORY_DEFAULT_MIB 2048
#define RUN_MEMORY_KEEP_MIB 512 /* what the muletto keeps for itself */
#define RUN_QEMU_START_SECONDS 15 /* until its monitor opens */

const char *run_dir_root(void)
{
	const char *d = getenv("MULETTO_RUN_DIR");

	return d && *d ? d : RUN_DIR_DEFAULT;
}

/* 1 when /dev/kvm can run guests here. */
static int run_kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
	close(fd);
	return ok;
}

/* The VM's folder, locked: one run per name. */
static int run_make_dir(struct run *r)
{
	char lock[512];

	snprintf(r->dir, sizeof(r->dir), "%s/%s", run_dir_root(), r->name);
	if (mkdir_p(r->dir, 0700) < 0)
		return err_set(-errno, "cannot make %s: %s", r->dir, strerror(errno));
	snprintf(lock, sizeof(lock), "%s/run.lock", r->dir);
	r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lock_fd < 0)
		return err_set(-errno, "cannot open %s: %s", lock, strerror(errno));
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return err_set(-EBUSY, "a VM named %s runs already (see 'muletto status'): stop it, "
				       "or give this one another name with --name", r->name);
	return 0;
}

static int run_load_manifest(struct run *r)
{
	struct repo *repo = NULL;
	int e = repo_open(r->q->repo, 0, &repo);

	if (e == 0 && r->q->trust)
		e = repo_set_trust(repo, r->q->trust);
	if (e == 0)
		e = repo_load_manifest(repo, r->q->image, &r->m);
	repo_close(repo);
	if (e < 0)
		return e;
	r->ndisks = r->m->ndisks;
	if (r->ndisks > VM_DISKS_MAX)
		return err_set(-E2BIG, "image '%s' has %zu disks; run takes %d at most", r->q->image,
			       r->ndisks, VM_DISKS_MAX);
	return 0;
}

static void *run_nbd_thread(void *v)
{
	struct run_disk *d = v;

	nbd_serve(d->listen_fd, &d->e, &d->stop);
	return NULL;
}

/* Disk k: served from the repository onto its target, on a socket of its own. */
static int run_serve_disk(struct run *r, size_t k)
{
	struct run_disk *d = &r->disks[k];
	const struct manifest_disk *md = &r->m->disks[k];
	struct serve_opts o = { .disk = md->index, .to = r->q->targets[k], .trust = r->q->trust,
				.threads = r->q->threads, .confirm = r->q->confirm, .ctx = r->q->ctx };

	if (r->q->verify) { /* nothing written anywhere */
		o.to = NULL;
		o.cow = "ram";
	}
	char spec[520];
	int e;

	if (!o.to && !o.cow)
		return err_set(-EINVAL, "image '%s' has %zu disks: name a target for disk %d too "
					"(--to for disk 0, --disk %d=TARGET)", r->q->image, r->ndisks,
			       md->index, md->index);
	snprintf(d->sock, sizeof(d->sock), "%s/disk%zu.sock", r->dir, k);
	snprintf(spec, sizeof(spec), "unix:%s", d->sock);
	d->listen_fd = -1;
	e = served_open(r->q->repo, r->q->image, &o, &d->s);
	if (e == 0)
		e = nbd_listen(spec, 0, &d->listen_fd);
	if (e == 0)
		e = served_start(d->s);
	if (e < 0)
		return e;
	served_export(d->s, &d->e);
	if (pthread_create(&d->thread, NULL, run_nbd_thread, d) != 0)
		return err_set(-EAGAIN, "cannot start serving disk %zu", k);
	d->serving = 1;
	str_copy(r->spec.disk_socks[k], sizeof(r->spec.disk_socks[k]), d->sock);
	return 0;
}

/* A controller the guest has a driver for: virtio if it had virtio. */
static int run_had(const struct manifest *m, int network, const char *what)
{
	size_t i, n = network ? m->nnetwork : m->nstorage;

	for (i = 0; i < n; i++)
		if (strstr(network ? m->network[i] : m->storage[i], what))
			return 1;
	return 0;
}

static void run_nics(struct run *r)
{
	size_t k, n = strcmp(r->q->net, "none") ? MAX(r->m->nnics, (size_t)1) : 0;

	for (k = 0; k < n && k < VM_NICS_MAX; k++) {
		struct vm_nic *v = &r->spec.nics[k];
		if (k < r->m->nnics && r->m->nics[k].mac[0])
			str_copy(v->mac, sizeof(v->mac), r->m->nics[k].mac);
		else /* none recorded: one made from the name, the same at every run */
			snprintf(v->mac, sizeof(v->mac), "52:54:00:%02x:%02x:%02x",
				 (unsigned)strlen(r->name) & 0xff, (unsigned char)r->name[0],
				 (unsigned)k);
		str_copy(v->netdev, sizeof(v->netdev), "user");
		r->spec.nnics++;
	}
}

static int run_spec(struct run *r)
{
	const struct run_request *q = r->q;
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) >> 20;
	uint64_t mem = q->memory_mib ? q->memory_mib :
		       r->m->memory ? r->m->memory >> 20 : RUN_MEMORY_DEFAULT_MIB;
	int cpus = q->cpus ? q->cpus : r->m->cpus ? r->m->cpus : 2;

	r->spec.name = r->name;
	r->spec.dir = r->dir;
	r->spec.kvm = run_kvm_usable();
	r->spec.uefi = q->firmware ? !strcmp(q->firmware, "uefi") : !strcmp(r->m->firmware, "uefi");
	r->spec.cpus = MIN(cpus, cpu_count());
	r->spec.memory_mib = phys > RUN_MEMORY_KEEP_MIB * 2 ? MIN(mem, phys - RUN_MEMORY_KEEP_MIB) :
							      MIN(mem, phys / 2);
	r->spec.disk_bus = q->disk_bus ? q->disk_bus : run_had(r->m, 0, "virtio") ? "virtio" : "ahci";
	r->spec.nic_model = q->nic_model ? q->nic_model :
			    run_had(r->m, 1, "virtio") ? "virtio" : "e1000e";
	r->spec.vnc = q->vnc;
	r->spec.vnc_password = q->vnc_password != NULL;
	r->spec.ndisks = r->ndisks;
	run_nics(r);
	return 0;
}

/* What can be refused before anything is served, written or changed: VNC
 * open to the network without a password, a bridge with no link to put it on. */
static int run_check_request(struct run *r)
{
	const struct run_request *q = r->q;

	if (q->vnc && !q->vnc_password && strncmp(q->vnc, "127.", 4) && strncmp(q->vnc, "unix:", 5))
		return err_set(-EPERM, "VNC on %s without a password: anyone on the network "
				       "would get the machine's screen; set vnc_password= in "
				       "muletto.conf or use 127.0.0.1", q->vnc);
	if (strncmp(q->net, "bridge", 6))
		return 0;
	if (q->net[6] != ':')
		return net_default_link(r->link, sizeof(r->link));
	str_copy(r->link, sizeof(r->link), q->net + 7);
	if (!if_nametoindex(r->link))
		return err_set(-ENODEV, "--net bridge:%s: there is no network interface %s here "
					"(see 'ip link')", r->link, r->link);
	return 0;
}

/* --net bridge: the bridge over the link, a tap on it for each card. */
static int run_bridge(struct run *r)
{
	char lock[512];
	size_t k;
	int e;

	if (!r->link[0])
		return 0;
	snprintf(lock, sizeof(lock), "%s/.net.lock", run_dir_root());
	e = net_bridge_ready(r->link, lock, &r->net);
	for (k = 0; e == 0 && k < r->spec.nnics; k++) {
		e = net_tap_open(r->net.bridge, r->taps[k], sizeof(r->taps[k]), &r->tap_fds[k]);
		snprintf(r->spec.nics[k].netdev, sizeof(r->spec.nics[k].netdev), "tap,fd=%d",
			 r->tap_fds[k]);
	}
	return e;
}

static void run_close_taps(struct run *r)
{
	for (size_t k = 0; k < VM_NICS_MAX; k++)
		closep(&r->tap_fds[k]);
}

/* A copy of OVMF's variable store, kept across runs of the VM. */
static int run_efivars(struct run *r)
{
	_cleanup_free_ char *path = str_printf("%s/efivars.fd", r->dir);
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int e;

	if (!r->spec.uefi || !path || access(path, F_OK) == 0)
		return path ? 0 : -ENOMEM;
	e = file_read_all(VM_OVMF_VARS, 64 << 20, &buf, &len);
	if (e < 0)
		return err_set(e, "UEFI firmware %s: %s; install ovmf, or run the VM with "
				  "--firmware bios", VM_OVMF_VARS, strerror(-e));
	return file_write_atomic(path, buf, len, 1);
}

/* QEMU's monitor, once it opens; a QEMU that ended at once (a tap it could
 * not use, an option it did not take) is said at once, with its last words. */
static int run_connect_qmp(struct run *r, const char *qmp, const char *log)
{
	double until = now_seconds() + RUN_QEMU_START_SECONDS;
	_cleanup_free_ void *text = NULL;
	size_t len = 0;
	char *last;
	int e;

	do {
		e = qmp_connect(qmp, 250, &r->qmp);
		if (e == 0)
			return 0;
		if (waitpid(r->qemu, &r->qemu_status, WNOHANG) != r->qemu)
			continue;
		r->qemu = -1;
		if (file_read_all(log, 1 << 20, &text, &len) < 0 || !len)
			return err_set(-EIO, "QEMU ended at once (status %d) and said nothing in %s",
				       WIFEXITED(r->qemu_status) ? WEXITSTATUS(r->qemu_status) : -1, log);
		while (len && (((char *)text)[len - 1] == '\n' || ((char *)text)[len - 1] == '\r'))
			((char *)text)[--len] = 0;
		last = memrchr(text, '\n', len);
		return err_set(-EIO, "QEMU ended at once: %.300s (its log: %s)",
			       last ? last + 1 : (char *)text, log);
	} while (now_seconds() < until);
	return err_prefix(e, "QEMU did not start (its log: %s)", log);
}

static int run_start_qemu_once(struct run *r)
{
	char **argv = NULL, log[512], qmp[512];
	int e = vm_argv(&r->spec, &argv), fd;

	if (e < 0)
		return e;
	snprintf(log, sizeof(log), "%s/qemu.log", r->dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", r->dir);
	unlink(qmp);
	r->qemu = fork();
	if (r->qemu == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		for (size_t k = 0; k < VM_NICS_MAX; k++) /* QEMU's now */
			if (r->tap_fds[k] >= 0)
				fcntl(r->tap_fds[k], F_SETFD, 0);
		setsid(); /* a Ctrl-C at the terminal is for muletto, which stops it properly */
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a muletto that dies takes its VM along */
		execvp(argv[0], argv);
		_exit(127);
	}
	vm_argv_free(argv);
	if (r->qemu < 0)
		return err_set(-errno, "cannot start QEMU: %s", strerror(errno));
	e = run_connect_qmp(r, qmp, log);
	if (e == 0 && r->q->vnc_password)
		e = qmp_call(r->qmp, "set_password", json_pack("{s:s, s:s}", "protocol", "vnc",
							       "password", r->q->vnc_password), NULL);
	return e;
}

/* QEMU started; a KVM that answers but cannot run this guest (nested
 * virtualisation that fails its first vCPU setup) is left for emulation. */
static int run_start_qemu(struct run *r)
{
	int e = run_start_qemu_once(r);

	if (e < 0 && r->spec.kvm && r->qemu == -1) {
		event_warning("QEMU could not run the VM with KVM here (%s): running it emulated "
			      "(TCG), which is much slower", err_msg());
		r->spec.kvm = 0;
		e = run_start_qemu_once(r);
	}
	run_close_taps(r); /* QEMU holds them: a tap goes when its VM ends */
	return e;
}

static int run_setup(struct run *r)
{
	size_t k;
	int e = run_check_request(r);

	if (e == 0)
		e = run_make_dir(r);
	if (e == 0)
		e = run_load_manifest(r);
	for (k = 0; e == 0 && k < r->ndisks; k++)
		e = run_serve_disk(r, k);
	if (e == 0)
		e = run_spec(r);
	if (e == 0)
		e = run_bridge(r);
	if (e == 0)
		e = run_efivars(r);
	if (e == 0)
		e = run_start_qemu(r);
	return e;
}

static int run_teardown(struct run *r)
{
	size_t k;
	int e = 0, e2;

	if (r->qemu > 0 && waitpid(r->qemu, &r->qemu_status, WNOHANG) == 0) {
		kill(r->qemu, SIGKILL);
		waitpid(r->qemu, &r->qemu_status, 0);
	}
	qmp_close(r->qmp);
	run_close_taps(r);
	for (k = 0; k < r->ndisks; k++) {
		struct run_disk *d = &r->disks[k];
		d->stop = 1;
		if (d->serving)
			pthread_join(d->thread, NULL);
		if (d->listen_fd >= 0) {
			close(d->listen_fd);
			unlink(d->sock);
		}
		e2 = served_close(d->s);
		d->s = NULL;
		if (e == 0)
			e = e2;
	}
	manifest_free(r->m);
	return e;
}

int run_vm(const struct run_request *q, volatile sig_atomic_t *stop,
	   volatile sig_atomic_t *force, struct run_result *res)
{
	struct run r = { .q = q, .lock_fd = -1, .state = "starting", .started = now_seconds(),
			 .res = res };
	int e, e2;

	str_copy(r.name, sizeof(r.name), q->name ? q->name : q->image);
	if (repo_check_name(r.name) < 0)
		return err_prefix(-EINVAL, "the VM's name");
	for (size_t k = 0; k < VM_DISKS_MAX; k++)
		r.disks[k].listen_fd = -1;
	for (size_t k = 0; k < VM_NICS_MAX; k++)
		r.tap_fds[k] = -1;
	e = run_setup(&r);
	if (e == 0) {
		if (q->started)
			q->started(q->ctx, r.dir);
		e = run_loop(&r, stop, force);
	}
	if (r.lock_fd >= 0) { /* what arrived, while the disks are still open */
		r.state = e == 0 ? "stopped" : "failed";
		run_write_status(&r);
	}
	e2 = run_teardown(&r);
	if (e == 0)
		e = e2;
	r.state = e == 0 ? "stopped" : "failed";
	if (r.lock_fd >= 0) {
		run_write_status(&r);
		close(r.lock_fd);
	}
	return e;
}
