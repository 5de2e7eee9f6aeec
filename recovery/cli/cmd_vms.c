/* The VMs muletto runs: muletto status, muletto stop NAME, muletto console NAME. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/repo.h"
#include "muletto/vm/run.h"

#define VMS_STOP_WAIT_EXTRA 15

/* 1 when a muletto run still holds the VM's folder. */
static int vms_alive(const char *dir)
{
	char path[600];
	int fd, alive;

	snprintf(path, sizeof(path), "%s/run.lock", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	alive = flock(fd, LOCK_SH | LOCK_NB) < 0;
	close(fd);
	return alive;
}

/* The VM's status.json, with "state" made "ended" when its run is gone. */
static json_t *vms_load(const char *name)
{
	char dir[512], path[600];
	json_t *o;
	const char *st;

	snprintf(dir, sizeof(dir), "%s/%s", run_dir_root(), name);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	o = json_load_file(path, 0, NULL);
	if (!o)
		return NULL;
	st = json_string_value(json_object_get(o, "state"));
	if (!vms_alive(dir) && st && strcmp(st, "stopped") && strcmp(st, "failed"))
		json_object_set_new(o, "state", json_string("ended"));
	return o;
}

static void vms_row(json_t *o)
{
	json_t *d;
	size_t i;
	uint64_t local = 0, total = 0, fetched = 0;
	double rate = 0, eta = 0;
	char l[32], t[32], f[32], r[32], when[32] = "-";

	json_array_foreach(json_object_get(o, "disks"), i, d) {
		local += (uint64_t)json_integer_value(json_object_get(d, "local_bytes"));
		total += (uint64_t)json_integer_value(json_object_get(d, "total_bytes"));
		fetched += (uint64_t)json_integer_value(json_object_get(d, "fetched_bytes"));
		rate += json_real_value(json_object_get(d, "rate"));
		eta = MAX(eta, json_real_value(json_object_get(d, "eta")));
	}
	human_size(local, l, sizeof(l));
	human_size(total, t, sizeof(t));
	human_size(fetched, f, sizeof(f));
	human_size((uint64_t)rate, r, sizeof(r));
	if (eta > 0)
		snprintf(when, sizeof(when), "%d:%02d", (int)eta / 60, (int)eta % 60);
	printf("%-16s %-10s %-4s %5.1f%% %9s/%-9s %9s/s %6s %9s\n",
	       json_string_value(json_object_get(o, "name")) ?: "?",
	       json_string_value(json_object_get(o, "state")) ?: "?",
	       json_string_value(json_object_get(o, "accel")) ?: "?",
	       total ? 100.0 * (double)local / (double)total : 0.0, l, t, r, when, f);
}

/* A bridged VM's network, under the table: its taps go with it, the bridge stays. */
static void vms_net(json_t *o)
{
	json_t *net = json_object_get(o, "net"), *t;
	const char *bridge = json_string_value(json_object_get(net, "bridge"));
	const char *link = json_string_value(json_object_get(net, "link"));
	char taps[256] = "";
	size_t i, k;

	if (!bridge)
		return;
	json_array_foreach(json_object_get(net, "taps"), i, t) {
		k = strlen(taps);
		snprintf(taps + k, sizeof(taps) - k, "%s%s", k ? " " : "", json_string_value(t) ?: "?");
	}
	printf("%s: network cards on bridge %s%s%s (taps %s, gone when the VM ends; the bridge "
	       "stays)\n", json_string_value(json_object_get(o, "name")) ?: "?", bridge,
	       link ? " over " : "", link ? link : "", taps[0] ? taps : "none");
}

int cmd_status(int argc, char **argv)
{
	json_t *all = json_array(), *o;
	struct dirent *de;
	int json = argc > 1 && !strcmp(argv[1], "--json");
	DIR *d;

	if (argc > 2 || (argc == 2 && !json))
		return cmd_usage("muletto status [--json]");
	d = opendir(run_dir_root());
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && (o = vms_load(de->d_name)))
			json_array_append_new(all, o);
	if (d)
		closedir(d);
	if (json) {
		show_json_pretty(json_pack("{s:o}", "vms", all));
		return 0;
	}
	if (!json_array_size(all))
		printf("no VMs: start one with 'muletto run REPO NAME --to DISK'\n");
	else
		printf("%-16s %-10s %-4s %6s %19s %11s %6s %9s\n", "NAME", "STATE", "CPU", "LOCAL",
		       "ARRIVED", "RATE", "ETA", "FETCHED");
	for (size_t i = 0; i < json_array_size(all); i++)
		vms_row(json_array_get(all, i));
	for (size_t i = 0; i < json_array_size(all); i++)
		vms_net(json_array_get(all, i));
	json_decref(all);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	int force = argc == 3 && !strcmp(argv[2], "--force");
	char dir[512];
	json_t *o;
	pid_t pid;
	int i;

	if (argc < 2 || argc > 3 || (argc == 3 && !force) || repo_check_name(argv[1]) < 0)
		return cmd_usage("muletto stop NAME [--force]");
	snprintf(dir, sizeof(dir), "%s/%s", run_dir_root(), argv[1]);
	o = vms_load(argv[1]);
	if (!o || !vms_alive(dir)) {
		json_decref(o);
		return cmd_fail("no VM named %s runs: see 'muletto status'", argv[1]);
	}
	pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	json_decref(o);
	if (pid <= 0 || kill(pid, force ? SIGUSR1 : SIGTERM) < 0)
		return cmd_fail("cannot reach the run of %s (pid %d): %s", argv[1], (int)pid,
				strerror(errno));
	printf("%s: %s\n", argv[1], force ? "ending it now" : "the power button is pressed");
	for (i = 0; vms_alive(dir); i++) {
		if (i == 10 * (60 + VMS_STOP_WAIT_EXTRA))
			return cmd_fail("%s has not stopped: 'muletto stop %s --force'", argv[1], argv[1]);
		sleep_ms(100);
	}
	printf("%s has stopped; what arrived stays on its disks\n", argv[1]);
	return 0;
}

/* The VM's serial console on this terminal; Ctrl-] leaves. */
static int console_relay(int s)
{
	struct termios old, raw;
	int tty = isatty(STDIN_FILENO);
	char buf[4096];

	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	int in = STDIN_FILENO; /* -1 once it has ended: the output still shows */

	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = s, .events = POLLIN } };
		ssize_t n;
		if (poll(p, 2, -1) < 0)
			break;
		if (p[1].revents) {
			if ((n = read(s, buf, sizeof(buf))) <= 0 || write_full(STDOUT_FILENO, buf, (size_t)n))
				break;
		}
		if (in >= 0 && p[0].revents) {
			n = read(in, buf, sizeof(buf));
			if (n <= 0)
				in = -1;
			else if (memchr(buf, 0x1d, (size_t)n) || write_full(s, buf, (size_t)n))
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	return 0;
}

int cmd_console(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s;

	if (argc != 2 || repo_check_name(argv[1]) < 0)
		return cmd_usage("muletto console NAME   (Ctrl-] leaves)");
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s/serial.sock", run_dir_root(), argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return cmd_fail("no VM named %s runs: see 'muletto status'", argv[1]);
	if (isatty(STDOUT_FILENO))
		fprintf(stderr, "muletto: %s's serial console; Ctrl-] leaves\r\n", argv[1]);
	console_relay(s);
	close(s);
	return 0;
}
