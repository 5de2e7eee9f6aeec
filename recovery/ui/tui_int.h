/* What the screens of muletto tui share (ui/tui_*.c only). */
#ifndef MULETTO_UI_TUI_INT_H
#define MULETTO_UI_TUI_INT_H

#include <newt.h>
#include <pthread.h>
#include <stdint.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/disk/disk.h"
#include "muletto/engine/restore.h"
#include "muletto/store/repo.h"
#include "muletto/ui/job.h"
#include "muletto/ui/tui.h"

#define TUI_W 76 /* a window on an 80x25 console */
#define TUI_URL_MAX 1024
#define TUI_PLAN_MAX 2048

/* How a screen ended. */
enum tui_step { TUI_NEXT, TUI_BACK, TUI_MENU, TUI_LEAVE_SHELL, TUI_REBOOT, TUI_POWEROFF };

/* The latest of the library's events, recorded by the sink (any thread) and
 * read by the screen (main thread); guarded by lock. */
struct tui_progress {
	pthread_mutex_t lock;
	uint64_t done, total;
	double rate, eta, elapsed;
	struct event_chunks chunks; /* a restore's counts so far */
	int has_chunks;		    /* chunks holds them (a raw image has none) */
	char notice[256]; /* the last notice or warning */
	char state[32];	  /* the last STATE event's state ("ready", "hydrated", ...) */
	int finished;	  /* the restore thread has returned */
};

struct tui {
	const struct tui_opts *o;
	/* repository */
	int kind;		/* index in tui_kinds */
	char addr[512], user[128];
	char *password;		/* typed; cleared with cred_free */
	char url[TUI_URL_MAX];
	struct repo_image *images;
	struct repo_boot *boots; /* verify --boot's last verdict on each image */
	size_t nimages;
	/* image, action and target */
	const struct repo_image *image;
	enum tui_act { TUI_ACT_RESTORE, TUI_ACT_RUN, TUI_ACT_SERVE } act; /* onto the disk */
	int serve_cow;	      /* serve: the client's writes in memory (else read-only) */
	char serve_port[8];
	newtComponent detail, boot; /* the image screen's lines under the list */
	char target[DISK_STR], target_name[DISK_STR], target_desc[512];
	char plan[TUI_PLAN_MAX]; /* the layout plan when sizes differ, else "" */
	/* the restore */
	struct tui_progress pr;
	struct job *job; /* the job on the screen (ui/job.h), fed by the sink; or NULL */
	struct restore_result res;
	int rc;
	char err[ERR_MSG_MAX];
	char fixup[ERR_MSG_MAX]; /* what the fix-up after the restore did, or "" */
};

extern const char *const tui_kinds[];
#define TUI_KINDS 7

/* tui.c: what every screen uses */
/* Runs form until a component exits it, F2 starting a shell on the way (and
 * the timer, when set, returning NULL with *timer 1). */
newtComponent tui_form_run(newtComponent form, int *timer);
void tui_shell(void);
void tui_message(const char *title, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with anything but printable ASCII and newlines as '?', into buf (text from servers and
 * disks, on a serial console). */
const char *tui_ascii(const char *s, char *buf, size_t size);
/* Two buttons at the bottom of a window of height h: Next (label) and Back. */
void tui_buttons(newtComponent form, int h, const char *next, newtComponent *ret_next,
		 newtComponent *ret_back);

/* The job on the screen from now on (its record and notifications, ui/job.h),
 * fed by the event sink; take it back (NULL when none) to end it. */
void tui_job_begin(struct tui *t, const char *op, const char *target);
struct job *tui_job_take(struct tui *t);

/* one function per screen: tui_net.c, tui_repo.c, tui_image.c, tui_disk.c,
 * tui_restore.c */
enum tui_step tui_screen_network(struct tui *t);
enum tui_step tui_screen_repo(struct tui *t);
enum tui_step tui_screen_image(struct tui *t);
enum tui_step tui_screen_action(struct tui *t);
enum tui_step tui_screen_disk(struct tui *t);
enum tui_step tui_screen_confirm(struct tui *t);
enum tui_step tui_screen_progress(struct tui *t);
enum tui_step tui_screen_result(struct tui *t);
/* The action "verify": every chunk of the image checked, the outcome shown. */
void tui_verify(struct tui *t);
/* The action "run as a VM" (tui_run.c), after the confirmation: TUI_MENU once
 * it runs, TUI_BACK when it could not start (said on the screen). */
enum tui_step tui_run_vm(struct tui *t);
/* The action "serve" (tui_serve.c): how, then TUI_NEXT to choose the disk it
 * goes onto, or served at once (TUI_MENU) without one; TUI_BACK. */
enum tui_step tui_serve_choose(struct tui *t);
/* Serving until Stop (onto t->target when t->act is TUI_ACT_SERVE): TUI_MENU,
 * or TUI_BACK when it failed (said on the screen). */
enum tui_step tui_serve(struct tui *t);
/* The action "mount" (tui_mount.c): a partition at a folder until Unmount. */
void tui_mount(struct tui *t);

#endif
