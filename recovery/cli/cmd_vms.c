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
#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/repo.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/status.h"
#include "muletto/vm/run.h"

#define VMS_STOP_WAIT_EXTRA 15

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

/* A restore's chunk counts under its line, when its record has them. */
static void vms_job_chunks(json_t *c)
{
	if (!json_is_object(c))
		return;
	printf("  fetched %" JSON_INTEGER_FORMAT ", seeded %" JSON_INTEGER_FORMAT ", zero %"
	       JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " chunks\n",
	       json_integer_value(json_object_get(c, "fetched")),
	       json_integer_value(json_object_get(c, "seeded")),
	       json_integer_value(json_object_get(c, "zero")),
	       json_integer_value(json_object_get(c, "total")));
}

/* A job's line: what, state, how far, how fast, its chunks, its last error. */
static void vms_job_row(json_t *o)
{
	uint64_t done = (uint64_t)json_integer_value(json_object_get(o, "done"));
	uint64_t total = (uint64_t)json_integer_value(json_object_get(o, "total"));
	const char *err = json_string_value(json_object_get(o, "error"));
	double eta = json_real_value(json_object_get(o, "eta"));
	char d[32], t[32], r[32], when[32] = "-", what[300], safe[1200];

	human_size(done, d, sizeof(d));
	human_size(total, t, sizeof(t));
	human_size((uint64_t)json_integer_value(json_object_get(o, "rate")), r, sizeof(r));
	if (eta > 0)
		snprintf(when, sizeof(when), "%d:%02d", (int)eta / 60, (int)eta % 60);
	snprintf(what, sizeof(what), "%s %s", json_string_value(json_object_get(o, "op")) ?: "?",
		 json_string_value(json_object_get(o, "image")) ?: "");
	printf("%-24s %-8s %7d %-8s %3d%% %9s/%-9s %9s/s %6s\n",
	       show_safe(what, safe, sizeof(safe)),
	       json_string_value(json_object_get(o, "state")) ?: "?",
	       (int)json_integer_value(json_object_get(o, "pid")),
	       json_string_value(json_object_get(o, "phase")) ?: "",
	       (int)json_integer_value(json_object_get(o, "percent")), d, t, r, when);
	vms_job_chunks(json_object_get(o, "chunks"));
	if (err)
		printf("  error: %s\n", show_safe(err, safe, sizeof(safe)));
}

static volatile sig_atomic_t status_stop;

static void status_on_signal(int sig)
{
	(void)sig;
	status_stop = 1;
}

/* muletto status --serve [ADDR:]PORT: the status page, until a signal. */
static int status_serve_page(const char *listen)
{
	static const struct cred_key key_token = { "MULETTO_STATUS_TOKEN", "status_token", 1 };
	struct status_server_opts o = { .listen = listen };
	char *token = NULL;
	int r = cred_get(&key_token, &token);

	if (r < 0 && r != -ENOENT)
		return cmd_fail("status page: %s", err_msg());
	o.token = token && *token ? token : NULL;
	signal(SIGTERM, status_on_signal);
	signal(SIGINT, status_on_signal);
	signal(SIGPIPE, SIG_IGN);
	r = status_serve(&o, &status_stop);
	cred_free(token);
	if (r < 0)
		return cmd_fail("%s", err_text(r));
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const char usage[] = "muletto status [--json] | muletto status --serve [ADDR:]PORT";
	json_t *all, *jobs;
	int json = argc == 2 && !strcmp(argv[1], "--json");

	if (argc == 3 && !strcmp(argv[1], "--serve"))
		return status_serve_page(argv[2]);
	if (argc > 2 || (argc == 2 && !json))
		return cmd_usage(usage);
	all = status_vms();
	jobs = jobrec_list(STATUS_JOBS_MAX);
	if (json) {
		show_json_pretty(json_pack("{s:o, s:o}", "vms", all, "jobs", jobs));
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
	if (json_array_size(jobs))
		printf("\n%-24s %-8s %7s %-8s %4s %19s %11s %6s\n", "JOB", "STATE", "PID", "PHASE",
		       "DONE", "BYTES", "RATE", "ETA");
	for (size_t i = 0; i < json_array_size(jobs); i++)
		vms_job_row(json_array_get(jobs, i));
	json_decref(all);
	json_decref(jobs);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	int force = argc == 3 && !strcmp(argv[2], "--force");
	json_t *o;
	pid_t pid;
	int i;

	if (argc < 2 || argc > 3 || (argc == 3 && !force) || repo_check_name(argv[1]) < 0)
		return cmd_usage("muletto stop NAME [--force]");
	o = status_vm_load(argv[1]);
	if (!o || !status_vm_running(argv[1])) {
		json_decref(o);
		return cmd_fail("no VM named %s runs: see 'muletto status'", argv[1]);
	}
	pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	json_decref(o);
	if (pid <= 0 || kill(pid, force ? SIGUSR1 : SIGTERM) < 0)
		return cmd_fail("cannot reach the run of %s (pid %d): %s", argv[1], (int)pid,
				strerror(errno));
	printf("%s: %s\n", argv[1], force ? "ending it now" : "the power button is pressed");
	for (i = 0; status_vm_running(argv[1]); i++) {
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
