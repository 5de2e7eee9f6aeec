/* muletto run REPO NAME --to TARGET: the image as a VM while it arrives. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/ui/restore_record.h"
#include "muletto/vm/run.h"

static const char run_usage[] =
	"muletto run REPO NAME --to DEVICE|FILE [--disk N=TARGET]... [--name VM] [--detach]\n"
	"  [--firmware uefi|bios] [--cpus N] [--memory MIB] [--disk-bus virtio|ahci|nvme|ide]\n"
	"  [--nic-model e1000e|virtio|e1000|rtl8139] [--net none|user|bridge[:IFACE]] [--bridge IFACE]\n"
	"  [--vnc ADDR:DISPLAY] [--stop-seconds N] [--threads N] [--trust PUBKEY] [--yes] [--json]";

static const struct cred_key key_vnc = { "MULETTO_VNC_PASSWORD", "vnc_password", 1 };
static volatile sig_atomic_t run_stop_flag, run_force_flag;

static void run_on_signal(int sig)
{
	if (sig == SIGUSR1)
		run_force_flag = 1;
	else
		run_stop_flag = 1;
}

struct run_args {
	int yes; /* first: cmd_confirm_target takes the context as an int */
	int json, detach;
	int notify_fd; /* --detach: the parent waits on it */
	char net[32];  /* --bridge IFACE as "bridge:IFACE" */
	struct run_request q;
};

static int run_disk_target(struct run_args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char num[16];
	int k;

	if (!eq || eq - arg >= (long)sizeof(num))
		return cmd_bad_option("--disk %s: give N=TARGET (disk N of the image onto TARGET)", arg);
	snprintf(num, sizeof(num), "%.*s", (int)(eq - arg), arg);
	if (parse_int(num, 0, VM_DISKS_MAX - 1, &k) < 0)
		return cmd_bad_option("--disk %s: the disk's number is 0 to %d", arg, VM_DISKS_MAX - 1);
	a->q.targets[k] = eq + 1;
	return 0;
}

static int run_option(struct run_args *a, int c, const char *arg)
{
	int v, r;

	switch (c) {
	case 'o': a->q.targets[0] = arg; return 0;
	case 'd': return run_disk_target(a, arg);
	case 'N': a->q.name = arg; return 0;
	case 'f':
		if (strcmp(arg, "uefi") && strcmp(arg, "bios"))
			return cmd_bad_option("--firmware %s: use uefi or bios", arg);
		a->q.firmware = arg;
		return 0;
	case 'c': return cmd_int_option("--cpus", arg, 1, 256, &a->q.cpus);
	case 'm':
		if ((r = cmd_int_option("--memory", arg, 64, 4 << 20, &v)))
			return r;
		a->q.memory_mib = (uint64_t)v;
		return 0;
	case 'b': a->q.disk_bus = arg; return 0;
	case 'n': a->q.nic_model = arg; return 0;
	case 'e': a->q.net = arg; return 0;
	case 'r':
		snprintf(a->net, sizeof(a->net), "bridge:%s", arg);
		a->q.net = a->net;
		return 0;
	case 'v': a->q.vnc = arg; return 0;
	case 's': return cmd_int_option("--stop-seconds", arg, 1, 3600, &a->q.stop_seconds);
	case 't': return cmd_int_option("--threads", arg, 1, 64, &a->q.threads);
	case 'T': a->q.trust = arg; return 0;
	case 'y': a->yes = 1; return 0;
	case 'j': a->json = 1; return 0;
	case 'D': a->detach = 1; return 0;
	default: return cmd_usage(run_usage);
	}
}

/* A network interface's name as the kernel takes them. */
static int run_iface_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < IF_NAMESIZE && strcspn(s, "/: \t\n") == n && strcmp(s, ".") &&
	       strcmp(s, "..");
}

static int run_check(const struct run_args *a)
{
	static const char *const buses[] = { "virtio", "ahci", "nvme", "ide" };
	static const char *const models[] = { "e1000e", "virtio", "e1000", "rtl8139" };
	size_t i;

	for (i = 0; a->q.disk_bus && i < ARRAY_SIZE(buses) && strcmp(a->q.disk_bus, buses[i]); i++)
		;
	if (a->q.disk_bus && i == ARRAY_SIZE(buses))
		return cmd_bad_option("--disk-bus %s: use virtio, ahci, nvme or ide", a->q.disk_bus);
	for (i = 0; a->q.nic_model && i < ARRAY_SIZE(models) && strcmp(a->q.nic_model, models[i]); i++)
		;
	if (a->q.nic_model && i == ARRAY_SIZE(models))
		return cmd_bad_option("--nic-model %s: use e1000e, virtio, e1000 or rtl8139",
				      a->q.nic_model);
	if (strcmp(a->q.net, "none") && strcmp(a->q.net, "user") && strcmp(a->q.net, "bridge") &&
	    (strncmp(a->q.net, "bridge:", 7) || !run_iface_ok(a->q.net + 7)))
		return cmd_bad_option("--net %s: use none, user, bridge (over the link of the default "
				      "route) or bridge:IFACE (IFACE a network interface's name, "
				      "as 'ip link' shows it)", a->q.net);
	if (!a->q.targets[0])
		return cmd_bad_option("--to: name the disk (or image file) disk 0 of the image "
				      "arrives on");
	return 0;
}

static int run_parse(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 'o' },	      { "disk", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'N' },     { "firmware", required_argument, NULL, 'f' },
		{ "cpus", required_argument, NULL, 'c' },     { "memory", required_argument, NULL, 'm' },
		{ "disk-bus", required_argument, NULL, 'b' }, { "nic-model", required_argument, NULL, 'n' },
		{ "net", required_argument, NULL, 'e' },      { "vnc", required_argument, NULL, 'v' },
		{ "bridge", required_argument, NULL, 'r' },
		{ "stop-seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },  { "trust", required_argument, NULL, 'T' },
		{ "yes", no_argument, NULL, 'y' },	      { "json", no_argument, NULL, 'j' },
		{ "detach", no_argument, NULL, 'D' },	      { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	a->q.net = "user";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", run_usage);
			return -1;
		}
		if ((r = run_option(a, c, optarg)))
			return r;
	}
	if (argc - optind != 2)
		return cmd_usage(run_usage);
	return run_check(a);
}

/* --detach: once the VM runs, the parent says so and leaves; the run goes on
 * with its output in the VM's folder (run.log). */
static void run_started(void *ctx, const char *dir)
{
	struct run_args *a = ctx;
	char log[512];
	int fd;

	if (a->notify_fd < 0)
		return;
	snprintf(log, sizeof(log), "%s/run.log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	dprintf(a->notify_fd, "ok %s\n", dir);
	close(a->notify_fd);
	a->notify_fd = -1;
}

static int run_detach(struct run_args *a)
{
	char buf[2048];
	int p[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return cmd_fail("cannot detach: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return cmd_fail("cannot detach: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		setsid();
		a->notify_fd = p[1];
		return 0; /* the child runs the VM */
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	if (strncmp(buf, "ok ", 3)) { /* the child failed: its message */
		buf[strcspn(buf, "\n")] = 0;
		_exit(cmd_fail("%s", n > 0 ? buf : "the VM did not start"));
	}
	printf("%s runs in the background: 'muletto status', 'muletto console %s', 'muletto stop %s'\n",
	       a->q.name ? a->q.name : a->q.image, a->q.name ? a->q.name : a->q.image,
	       a->q.name ? a->q.name : a->q.image);
	fflush(stdout);
	_exit(0);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .notify_fd = -1, .q.confirm = cmd_confirm_target, .q.started = run_started };
	struct sigaction sa = { .sa_handler = run_on_signal };
	char *vnc_password = NULL;
	int r = run_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.repo = argv[optind];
	a.q.image = argv[optind + 1];
	a.q.ctx = &a; /* for run_started, and for cmd_confirm_target: yes comes first */
	if ((r = cred_get(&key_vnc, &vnc_password)) < 0 && r != -ENOENT)
		return cmd_fail("%s", err_text(r));
	a.q.vnc_password = vnc_password;
	show_start(SHOW_NONE, NULL);
	show_events_json(a.json);
	if (a.detach && (r = run_detach(&a)))
		return r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cmd_job_begin("run", a.q.repo, a.q.image, a.q.targets[0]);
	r = run_vm(&a.q, &run_stop_flag, &run_force_flag, NULL);
	cred_free(vnc_password);
	cred_conf_done(); /* the run is over: nothing reads its settings again */
	if (r < 0 && a.notify_fd >= 0) { /* detached, failed before it ran: tell the parent */
		dprintf(a.notify_fd, "%s\n", err_text(r));
		return cmd_job_end(1);
	}
	return cmd_job_end(r < 0 ? cmd_fail("%s", err_text(r)) : 0);
}

static const char verify_boot_usage[] =
	"muletto verify --boot REPO NAME [--expect TEXT] [--png FILE] [--timeout SECONDS]\n"
	"  [--firmware uefi|bios] [--memory MIB] [--disk-bus BUS] [--json]\n"
	"  boots the image with nothing written (its disks in a layer in memory, no network)\n"
	"  and says whether it came to life: TEXT on its serial console (default: login:)";

static int verify_boot_parse(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {
		{ "boot", no_argument, NULL, 'B' },	       { "expect", required_argument, NULL, 'x' },
		{ "png", required_argument, NULL, 'P' },       { "timeout", required_argument, NULL, 'w' },
		{ "firmware", required_argument, NULL, 'f' },  { "memory", required_argument, NULL, 'm' },
		{ "disk-bus", required_argument, NULL, 'b' },  { "cpus", required_argument, NULL, 'c' },
		{ "trust", required_argument, NULL, 'T' },     { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },	       { NULL, 0, NULL, 0 },
	};
	int c, r;

	a->q.expect = "login:";
	a->q.timeout_seconds = 300;
	a->q.net = "none";
	a->q.verify = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s\n", verify_boot_usage);
			return -1;
		}
		if (c == 'B')
			continue;
		if (c == 'x')
			a->q.expect = optarg;
		else if (c == 'P')
			a->q.png = optarg;
		else if (c == 'w')
			r = cmd_int_option("--timeout", optarg, 5, 86400, &a->q.timeout_seconds);
		else
			r = run_option(a, c, optarg);
		if ((c == 'w' || (c != 'x' && c != 'P')) && r)
			return r;
	}
	if (argc - optind != 2 || !*a->q.expect)
		return cmd_usage(verify_boot_usage);
	return 0;
}

int cmd_verify_boot(int argc, char **argv)
{
	struct run_args a = { .notify_fd = -1 };
	struct run_result res = { 0 };
	char name[256];
	int rec, r = verify_boot_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	a.q.repo = argv[optind];
	a.q.image = argv[optind + 1];
	snprintf(name, sizeof(name), "verify-%.200s", a.q.image);
	a.q.name = name;
	show_start(SHOW_NONE, NULL);
	r = run_vm(&a.q, &run_stop_flag, &run_force_flag, &res);
	if (r < 0)
		return cmd_fail("%s", err_text(r));
	/* the verdict kept beside the image, for the screens and the next technician */
	rec = boot_record_save(a.q.repo, a.q.image, res.booted, res.seconds, res.why);
	if (rec < 0)
		event_warning("the verdict was not kept in the repository: %s", err_msg());
	if (a.json) {
		show_json_line(json_pack("{s:s, s:b, s:f, s:o, s:s?, s:b}", "image", a.q.image,
					 "booted", res.booted, "seconds", res.seconds, "why",
					 show_json_string(res.why), "png", a.q.png, "kept", rec == 0));
	} else {
		printf("%s %s: %s\n", a.q.image, res.booted ? "booted" : "did NOT boot", res.why);
		if (a.q.png)
			printf("its screen: %s\n", a.q.png);
		if (rec == 0)
			printf("kept in the repository: images/%s/%s\n", a.q.image, BOOT_RECORD_FILE);
	}
	return res.booted ? 0 : EXIT_FAILED;
}
