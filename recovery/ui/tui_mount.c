/* The action "mount": a partition of the image read-only at a folder, by the
 * engine of muletto mount (serve/image_mount.h) on a thread of this process,
 * which serves the kernel's NBD client while the screen says where the files
 * are; F2's shell copies them out. Unmount (or leaving the screen) stops the
 * thread, which unmounts the folder and releases the device; so does
 * muletto umount DIR typed in F2's shell. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "muletto/core/util.h"
#include "muletto/serve/image_mount.h"
#include "tui_int.h"

#define MOUNT_DIR_DEFAULT "/mnt/image"

/* The mount's thread and what it tells the screen; guarded by lock. */
struct tui_mount {
	pthread_mutex_t lock;
	struct image_mount_request q;
	int ready, ended, rc;
	struct image_mount_info info;
	char err[ERR_MSG_MAX];
};

/* Set by the screen, or by SIGTERM: muletto umount DIR in F2's shell finds
 * this process in the mount's record and asks it to stop that way. */
static volatile sig_atomic_t mount_stop;

static void mount_on_term(int sig)
{
	(void)sig;
	mount_stop = 1;
}

static void mount_ready(void *ctx, const struct image_mount_info *m)
{
	struct tui_mount *tm = ctx;

	pthread_mutex_lock(&tm->lock);
	tm->info = *m;
	tm->ready = 1;
	pthread_mutex_unlock(&tm->lock);
}

static void *mount_thread(void *arg)
{
	struct tui_mount *tm = arg;
	int r = image_mount_run(&tm->q, mount_ready, tm, &mount_stop);

	pthread_mutex_lock(&tm->lock);
	tm->rc = r;
	str_copy(tm->err, sizeof(tm->err), r < 0 ? err_text(r) : "");
	tm->ended = 1;
	pthread_mutex_unlock(&tm->lock);
	return NULL;
}

/* The partitions of the image's first disk, "0" for the largest with a file
 * system; the folder. 0, or TUI_BACK's -1. */
static int mount_choose(struct tui *t, int *ret_part, char *dir, size_t size)
{
	const struct manifest_disk *d = t->image->m->ndisks ? &t->image->m->disks[0] : NULL;
	newtComponent form, list, entry, next, back, co;
	char row[128], hs[32], label[40];
	int h = 18;
	size_t i;

	newtCenteredWindow(TUI_W, h, "Mount");
	form = newtForm(NULL, NULL, 0);
	newtFormAddComponent(form, newtLabel(2, 1, "Partition of disk 0 (read-only):"));
	list = newtListbox(2, 2, 7, NEWT_FLAG_SCROLL);
	newtListboxSetWidth(list, TUI_W - 6);
	newtListboxAppendEntry(list, "the largest one holding a file system", (void *)0);
	for (i = 0; d && i < d->nparts; i++) {
		human_size(d->parts[i].size, hs, sizeof(hs));
		snprintf(row, sizeof(row), "%3d %-8.8s %-20.20s %9s", d->parts[i].number,
			 d->parts[i].fs[0] ? d->parts[i].fs : "-",
			 tui_ascii(d->parts[i].label, label, sizeof(label)), hs);
		newtListboxAppendEntry(list, row, (void *)(intptr_t)d->parts[i].number);
	}
	newtFormAddComponent(form, newtLabel(2, 10, "Folder:"));
	entry = newtEntry(12, 10, MOUNT_DIR_DEFAULT, 40, NULL, NEWT_FLAG_SCROLL);
	newtFormAddComponents(form, list, entry, NULL);
	tui_buttons(form, h, "Mount", &next, &back);
	co = tui_form_run(form, NULL);
	*ret_part = (int)(intptr_t)newtListboxGetCurrent(list);
	str_copy(dir, size, newtEntryGetValue(entry));
	newtFormDestroy(form);
	newtPopWindow();
	return co == back ? -1 : 0;
}

/* Waits, the screen saying so, until the thread is ready or ended. */
static void mount_wait(struct tui_mount *tm, const char *title, const char *what, int for_end)
{
	newtComponent form;
	int timer, done = 0;

	newtCenteredWindow(TUI_W, 5, title);
	form = newtForm(NULL, NULL, 0);
	newtFormAddComponent(form, newtLabel(2, 1, what));
	newtFormSetTimer(form, 250);
	while (!done) {
		pthread_mutex_lock(&tm->lock);
		done = tm->ended || (!for_end && tm->ready);
		pthread_mutex_unlock(&tm->lock);
		timer = 0;
		if (!done)
			tui_form_run(form, &timer);
	}
	newtFormDestroy(form);
	newtPopWindow();
}

/* Where the files are, until Unmount. */
static void mount_shown(const struct image_mount_info *m)
{
	newtComponent form, tb, un;
	char text[3 * PATH_MAX + 1024], safe[sizeof(text)], hs[32];
	int h = 14;

	human_size(m->size, hs, sizeof(hs));
	snprintf(text, sizeof(text),
		 "%s partition %d (%s%s%s%s, %s) is mounted read-only on\n\n  %s  (%s)\n\n"
		 "F2 opens a shell: copy files out of it there (cp -a %s/... /somewhere), "
		 "then 'exit'.\nUnmount (or leaving this screen) unmounts it.",
		 m->image, m->partition, m->fs, m->label[0] ? " \"" : "", m->label,
		 m->label[0] ? "\"" : "", hs, m->dir, m->part_dev, m->dir);
	newtCenteredWindow(TUI_W, h, "Mounted");
	form = newtForm(NULL, NULL, 0);
	tb = newtTextbox(1, 1, TUI_W - 3, h - 6, NEWT_FLAG_WRAP);
	newtTextboxSetText(tb, tui_ascii(text, safe, sizeof(safe)));
	un = newtButton(TUI_W / 2 - 6, h - 4, "Unmount");
	newtFormAddComponents(form, tb, un, NULL);
	tui_form_run(form, NULL);
	newtFormDestroy(form);
	newtPopWindow();
}

void tui_mount(struct tui *t)
{
	struct tui_mount tm = { .q = { .repo = t->url, .name = t->image->name } };
	struct sigaction sa = { .sa_handler = mount_on_term }, old;
	struct image_mount_info info;
	char dir[PATH_MAX];
	pthread_t th;
	int ready;

	if (mount_choose(t, &tm.q.partition, dir, sizeof(dir)) < 0)
		return;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		tui_message("Mount", "Cannot make the folder %s: %s", dir, strerror(errno));
		return;
	}
	tm.q.dir = dir;
	mount_stop = 0;
	pthread_mutex_init(&tm.lock, NULL);
	sigaction(SIGTERM, &sa, &old);
	if (pthread_create(&th, NULL, mount_thread, &tm) != 0) {
		sigaction(SIGTERM, &old, NULL);
		pthread_mutex_destroy(&tm.lock);
		tui_message("Mount", "cannot start: out of resources");
		return;
	}
	mount_wait(&tm, "Mount", "Mounting: the partition table and the file system are read...",
		   0);
	pthread_mutex_lock(&tm.lock);
	ready = !tm.ended;
	info = tm.info;
	pthread_mutex_unlock(&tm.lock);
	if (ready) {
		mount_shown(&info);
		mount_stop = 1;
		mount_wait(&tm, "Mount", "Unmounting...", 1);
	}
	pthread_join(th, NULL);
	sigaction(SIGTERM, &old, NULL);
	pthread_mutex_destroy(&tm.lock);
	if (tm.rc < 0)
		tui_message("Mount: failed", "%s", tm.err);
}
