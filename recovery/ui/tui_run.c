/* The action "run as a VM": muletto run ... --to DISK --yes --detach, the
 * program itself through core/spawn (the VM and its run must outlive these
 * screens), once the disk's name was typed on the confirmation. The password
 * typed on the repository screen reaches it as every secret does (core/cred.h):
 * a private muletto.conf, 0600 in a folder of root's under /run, named by
 * MULETTO_CONF; never on its command line or in its environment. That file
 * holds the settings of the muletto.conf in use, then the password; it stays
 * while the VM runs (its run opens the repository again on a reconnect), and
 * the run removes it when it ends (MULETTO_CONF_REMOVE, core/cred.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/ui/status.h"
#include "tui_int.h"

#define RUN_CONF_DIR "/run/muletto/tui"

/* The muletto.conf this process reads (cred.h), or NULL when there is none. */
static const char *run_conf_in_use(void)
{
	const char *p = cred_conf_path();

	return access(p, R_OK) == 0 ? p : NULL;
}

/* Appends the file at path (when there is one) to fd. */
static int run_conf_copy(int fd, const char *path)
{
	char buf[8192];
	ssize_t n;
	int in = path ? open(path, O_RDONLY | O_CLOEXEC) : -1, r = 0;

	if (in < 0)
		return 0; /* none, or none readable: the run reads what this process reads */
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n) {
			r = -errno;
			break;
		}
	close(in);
	return r;
}

/* The private muletto.conf for the run of VM name into path. */
static int run_conf_write(const struct tui *t, const char *name, char *path, size_t size)
{
	int fd, r;

	if ((mkdir("/run/muletto", 0755) < 0 && errno != EEXIST) ||
	    (mkdir(RUN_CONF_DIR, 0700) < 0 && errno != EEXIST))
		return err_set(-errno, "cannot make %s: %s", RUN_CONF_DIR, strerror(errno));
	snprintf(path, size, "%s/run-%s.conf", RUN_CONF_DIR, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(-errno, "cannot write %s: %s", path, strerror(errno));
	r = run_conf_copy(fd, run_conf_in_use());
	if (r == 0 && t->password && t->password[0] &&
	    (dprintf(fd, "\npassword=%s\n", t->password) < 0))
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(path);
		return err_set(r, "cannot write %s", path);
	}
	return 0;
}

/* muletto run, detached; its words in out. MULETTO_CONF names the private
 * file for the child only: this process's value is put back. */
static int run_spawn(struct tui *t, const char *conf, char *out, size_t size)
{
	char exe[PATH_MAX], *old = getenv("MULETTO_CONF");
	const char *argv[] = { exe, "run", t->url, t->image->name, "--to", t->target, "--yes",
			       "--detach", NULL };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int r;

	if (n <= 0)
		return err_set(-errno, "cannot find this program: %s", strerror(errno));
	exe[n] = 0;
	old = old ? strdup(old) : NULL;
	setenv("MULETTO_CONF", conf, 1);
	setenv("MULETTO_CONF_REMOVE", "1", 1);
	r = spawn_run(argv, out, size);
	unsetenv("MULETTO_CONF_REMOVE");
	if (old)
		setenv("MULETTO_CONF", old, 1);
	else
		unsetenv("MULETTO_CONF");
	free(old);
	return r;
}

/* The VM's state from its status.json, as muletto status shows it. */
static void run_state(const char *name, char *out, size_t size)
{
	json_t *vm = status_vm_load(name);
	const char *state = vm ? json_string_value(json_object_get(vm, "state")) : NULL;

	snprintf(out, size, "State: %s", state ? state : "not known yet");
	json_decref(vm);
}

enum tui_step tui_run_vm(struct tui *t)
{
	char name[64], conf[PATH_MAX], out[1024], safe[1024], state[128];
	int r;

	str_copy(name, sizeof(name), t->image->name);
	if (strchr(name, '/') || name[0] == '.') {
		tui_message("Run as a VM", "This image's name cannot name a VM: use the shell.");
		return TUI_BACK;
	}
	r = run_conf_write(t, name, conf, sizeof(conf));
	if (r == 0 && (r = run_spawn(t, conf, out, sizeof(out))) < 0)
		unlink(conf);
	if (r < 0) {
		tui_message("Run as a VM: failed", "%s", err_text(r));
		return TUI_BACK;
	}
	run_state(name, state, sizeof(state));
	tui_message("Run as a VM", "%s\n%s; its disk arrives onto %s while it runs.\n\n"
		    "In F2's shell: muletto status, muletto console %s, muletto stop %s.",
		    tui_ascii(out, safe, sizeof(safe)), state, t->target, name, name);
	return TUI_MENU;
}
