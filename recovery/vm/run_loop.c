/* A running VM, watched twice a second: its disks moved onto their targets
 * once they have arrived, its status written, a stop carried out. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "run_int.h"

#define RUN_TICK_MS 500
#define RUN_STOP_SECONDS 60

static json_t *run_disk_json(struct run_disk *d, size_t k)
{
	double t = now_seconds(), eta = -1;
	struct served_status st;

	if (d->s) {
		served_status(d->s, &d->last);
		str_copy(d->target, sizeof(d->target), d->last.target);
		d->last.target = d->last.target ? d->target : NULL;
	}
	st = d->last;
	if (d->last_t > 0 && t > d->last_t) /* smoothed, as a progress bar's */
		d->rate = 0.7 * d->rate + 0.3 * (double)(st.local - MIN(st.local, d->last_local)) /
						  (t - d->last_t);
	d->last_t = t;
	d->last_local = st.local;
	if (st.local >= st.total)
		d->rate = 0; /* all here */
	if (d->rate > 0 && st.total > st.local)
		eta = (double)(st.total - st.local) / d->rate;
	return json_pack("{s:i, s:s?, s:s, s:I, s:I, s:I, s:f, s:f}", "disk", (int)k, "target",
			 st.target, "state", d->local ? "local" : "remote", "local_bytes",
			 (json_int_t)st.local, "total_bytes", (json_int_t)st.total, "fetched_bytes",
			 (json_int_t)st.fetched, "rate", d->rate, "eta", st.total == st.local ? 0 : eta);
}

/* The VM's network: for a bridge, which one, over which link, its taps
 * (they go with the VM; the bridge stays). */
static json_t *run_net_json(struct run *r)
{
	json_t *taps;
	size_t k;

	if (!r->net.bridge[0])
		return json_pack("{s:s}", "mode", strncmp(r->q->net, "bridge", 6) ? r->q->net : "bridge");
	taps = json_array();
	for (k = 0; k < r->spec.nnics; k++)
		json_array_append_new(taps, json_string(r->taps[k]));
	return json_pack("{s:s, s:s, s:s?, s:o, s:s}", "mode", "bridge", "bridge", r->net.bridge,
			 "link", r->net.link[0] ? r->net.link : NULL, "taps", taps, "note",
			 "the taps go when the VM ends; the bridge stays");
}

void run_write_status(struct run *r)
{
	json_t *disks = json_array(), *o;
	char path[512], *text;
	size_t k;

	for (k = 0; k < r->ndisks; k++)
		json_array_append_new(disks, run_disk_json(&r->disks[k], k));
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:i, s:I, s:s?, s:s, s:f, s:o}", "name",
		      r->name, "image", r->q->image, "state", r->state, "pid", (int)getpid(),
		      "qemu_pid", (int)r->qemu, "accel", r->spec.kvm ? "kvm" : "tcg", "firmware",
		      r->spec.uefi ? "uefi" : "bios", "cpus", r->spec.cpus, "memory_mib",
		      (json_int_t)r->spec.memory_mib, "vnc", r->spec.vnc, "serial_log",
		      "serial.log", "seconds", now_seconds() - r->started, "disks", disks);
	if (o)
		json_object_set_new(o, "net", run_net_json(r));
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	snprintf(path, sizeof(path), "%s/status.json", r->dir);
	if (text)
		file_write_atomic(path, text, strlen(text), 0);
	free(text);
}

/* The guest's disk k, off NBD onto its target: the target as a node, the
 * disk's node reopened onto it, the NBD node dropped, the serving ended. */
static int run_switch_disk(struct run *r, size_t k)
{
	struct run_disk *d = &r->disks[k];
	struct served_status st;
	char remote[32], disk[32], local[32];
	struct stat sb;
	int e;

	served_status(d->s, &st);
	vm_node_names(k, remote, disk, sizeof(remote));
	snprintf(local, sizeof(local), "local%zu", k);
	e = qmp_call(r->qmp, "blockdev-add",
		     json_pack("{s:s, s:s, s:s}", "driver",
			       stat(st.target, &sb) == 0 && S_ISBLK(sb.st_mode) ? "host_device" :
										  "file",
			       "node-name", local, "filename", st.target), NULL);
	if (e == 0)
		e = qmp_call(r->qmp, "blockdev-reopen",
			     json_pack("{s:[{s:s, s:s, s:s}]}", "options", "driver", "raw",
				       "node-name", disk, "file", local), NULL);
	if (e == 0)
		e = qmp_call(r->qmp, "blockdev-del", json_pack("{s:s}", "node-name", remote), NULL);
	if (e < 0)
		return err_prefix(e, "%s: moving disk %zu onto %s", r->name, k, st.target);
	d->stop = 1;
	pthread_join(d->thread, NULL);
	d->serving = 0;
	d->local = 1;
	event_state("run", r->name, "local", "%s: disk %zu runs from %s now", r->name, k, st.target);
	return 0;
}

/* Disks that have arrived are moved; the end of the repository said once. */
static void run_switch_ready(struct run *r)
{
	size_t k, local = 0, moved = 0;

	for (k = 0; k < r->ndisks; k++) {
		struct run_disk *d = &r->disks[k];
		if (!d->local && served_complete(d->s)) {
			if (run_switch_disk(r, k) < 0)
				event_warning("%s", err_msg());
			else
				moved++;
		}
		local += d->local;
	}
	if (moved && local == r->ndisks)
		event_state("run", r->name, "independent", "%s no longer depends on the repository: "
			    "every disk is local", r->name);
}

/* A stop: the power button, then QEMU ended after the wait (or at once). */
static void run_stop(struct run *r, double *deadline, int force)
{
	int seconds = r->q->stop_seconds ? r->q->stop_seconds : RUN_STOP_SECONDS;

	if (force || (*deadline > 0 && now_seconds() > *deadline)) {
		qmp_call(r->qmp, "quit", NULL, NULL);
		*deadline = now_seconds() + 3600;
		return;
	}
	if (*deadline == 0) {
		r->state = "stopping";
		event_state("run", r->name, "stopping", "%s: the power button is pressed; QEMU ends "
			    "in %d s if the guest does not power off", r->name, seconds);
		qmp_call(r->qmp, "system_powerdown", NULL, NULL);
		*deadline = now_seconds() + seconds;
	}
}

/* verify --boot: the first sign of life, or the time is up. 1 when decided. */
static int run_verify_check(struct run *r)
{
	_cleanup_free_ void *log = NULL;
	char path[512];
	size_t len = 0;
	double t = now_seconds() - r->started;

	snprintf(path, sizeof(path), "%s/serial.log", r->dir);
	if (file_read_all(path, 64 << 20, &log, &len) == 0 && memmem(log, len, r->q->expect,
								    strlen(r->q->expect))) {
		r->res->booted = 1;
		r->res->seconds = t;
		snprintf(r->res->why, sizeof(r->res->why), "\"%s\" on its serial console after %.0f s",
			 r->q->expect, t);
		return 1;
	}
	if (t < r->q->timeout_seconds)
		return 0;
	r->res->seconds = t;
	snprintf(r->res->why, sizeof(r->res->why), "no \"%s\" on its serial console in %d s (%zu "
		 "bytes of output%s)", r->q->expect, r->q->timeout_seconds, len,
		 len ? ": see the screenshot or the serial log" : ": nothing at all");
	return 1;
}

/* verify --boot's screenshot: taken now and then, and at the end, written
 * whole (a guest that powers off leaves the last one). */
static int run_screenshot(struct run *r)
{
	char tmp[600];
	int e;

	snprintf(tmp, sizeof(tmp), "%s.part", r->q->png);
	e = qmp_call(r->qmp, "screendump", json_pack("{s:s, s:s}", "filename", tmp, "format", "png"),
		     NULL);
	if (e == 0 && rename(tmp, r->q->png) < 0)
		e = err_set(-errno, "%s: %s", r->q->png, strerror(errno));
	return e;
}

static void run_verify_end(struct run *r)
{
	if (r->q->png && run_screenshot(r) < 0 && access(r->q->png, F_OK) < 0)
		event_warning("%s: no screenshot: %s", r->name, err_msg());
	qmp_call(r->qmp, "quit", NULL, NULL);
}

/* The guest is off, its disks not all here: the rest arrives before the run
 * ends, so that each target holds the whole machine (a stop leaves it for
 * the next run, which goes on from there). */
static int run_finish(struct run *r, volatile sig_atomic_t *stop, volatile sig_atomic_t *force)
{
	size_t k, missing;

	for (;;) {
		for (k = 0, missing = 0; k < r->ndisks; k++)
			missing += !r->disks[k].local && !served_complete(r->disks[k].s);
		if (!missing || *stop || *force)
			break;
		if (strcmp(r->state, "arriving")) {
			r->state = "arriving";
			event_state("run", r->name, "arriving", "%s is off; the rest of its disks "
				    "arrives before the run ends ('muletto stop %s' leaves it for "
				    "the next run)", r->name, r->name);
		}
		run_write_status(r);
		sleep_ms(RUN_TICK_MS);
	}
	return 0;
}

int run_loop(struct run *r, volatile sig_atomic_t *stop, volatile sig_atomic_t *force)
{
	double deadline = 0, last_status = 0, last_shot = now_seconds();

	r->state = "running";
	event_state("run", r->name, "running", "%s runs (%s%s%s%s%s); its serial console: muletto "
		    "console %s", r->name, r->spec.kvm ? "KVM" : "software emulation: slow, no usable KVM",
		    r->spec.vnc ? ", VNC at " : "", r->spec.vnc ? r->spec.vnc : "",
		    r->net.bridge[0] ? ", its network cards on bridge " : "", r->net.bridge, r->name);
	while (waitpid(r->qemu, &r->qemu_status, WNOHANG) == 0) {
		if (r->q->verify && deadline == 0 && run_verify_check(r)) {
			run_verify_end(r);
			deadline = now_seconds() + 3600;
		} else if (*force || *stop || deadline > 0) {
			run_stop(r, &deadline, *force);
		} else {
			run_switch_ready(r);
		}
		if (r->q->verify && r->q->png && deadline == 0 && now_seconds() - last_shot >= 3) {
			run_screenshot(r);
			last_shot = now_seconds();
		}
		if (now_seconds() - last_status >= 1) {
			run_write_status(r);
			last_status = now_seconds();
		}
		sleep_ms(RUN_TICK_MS);
	}
	r->qemu = -1;
	if (r->q->verify && !r->res->why[0]) { /* the guest powered off by itself */
		r->res->seconds = now_seconds() - r->started;
		run_verify_check(r);
		if (!r->res->booted)
			snprintf(r->res->why, sizeof(r->res->why), "it powered off after %.0f s without "
				 "\"%s\" on its serial console", r->res->seconds, r->q->expect);
	}
	if (WIFEXITED(r->qemu_status) && WEXITSTATUS(r->qemu_status) != 0)
		return err_set(-EIO, "QEMU ended with status %d: see %s/qemu.log", WEXITSTATUS(r->qemu_status),
			       r->dir);
	event_state("run", r->name, "powered off", "%s has powered off", r->name);
	return r->q->verify ? 0 : run_finish(r, stop, force);
}
