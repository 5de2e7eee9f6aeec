/* muletto tui: the screens in order, and what they share (a form run with F2
 * for a shell, messages, the event sink and the password asker). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <slang.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "tui_int.h"

#define TUI_HELP "  <Tab>/<Alt-Tab> between items  |  <Space> selects  |  <F2> shell"

const char *tui_ascii(const char *s, char *buf, size_t size)
{
	size_t k = 0;

	for (; s && *s && k + 1 < size; s++)
		buf[k++] = (*s >= 0x20 && *s < 0x7f) || *s == '\n' ? *s : '?';
	if (size)
		buf[k] = 0;
	return buf;
}

/* /bin/sh on the console, the screens put away until it exits. */
void tui_shell(void)
{
	pid_t pid;
	int status;

	newtSuspend();
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		setenv("PS1", "muletto shell, 'exit' returns to the screens # ", 1);
		execl("/bin/sh", "sh", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	newtResume();
	newtRefresh();
}

newtComponent tui_form_run(newtComponent form, int *timer)
{
	struct newtExitStruct es;

	newtFormAddHotKey(form, NEWT_KEY_F2);
	for (;;) {
		newtFormRun(form, &es);
		if (es.reason == NEWT_EXIT_HOTKEY && es.u.key == NEWT_KEY_F2) {
			tui_shell();
			continue;
		}
		if (es.reason == NEWT_EXIT_TIMER && timer) {
			*timer = 1;
			return NULL;
		}
		if (es.reason == NEWT_EXIT_COMPONENT)
			return es.u.co;
		/* F12 (newt's own "done" key) and errors: nothing chosen, ask again */
	}
}

void tui_message(const char *title, const char *fmt, ...)
{
	char text[2 * ERR_MSG_MAX], safe[2 * ERR_MSG_MAX];
	newtComponent form, tb, ok;
	va_list ap;
	int h;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tui_ascii(text, safe, sizeof(safe));
	tb = newtTextboxReflowed(1, 1, safe, TUI_W - 4, 0, 0, 0);
	h = newtTextboxGetNumLines(tb);
	if (h > 16) {
		newtComponentDestroy(tb);
		tb = newtTextbox(1, 1, TUI_W - 4, 16, NEWT_FLAG_WRAP | NEWT_FLAG_SCROLL);
		newtTextboxSetText(tb, safe);
		h = 16;
	}
	newtCenteredWindow(TUI_W - 2, h + 6, title);
	ok = newtButton((TUI_W - 2) / 2 - 3, h + 2, "OK");
	form = newtForm(NULL, NULL, 0);
	newtFormAddComponents(form, tb, ok, NULL);
	tui_form_run(form, NULL);
	newtFormDestroy(form);
	newtPopWindow();
}

void tui_buttons(newtComponent form, int h, const char *next, newtComponent *ret_next,
		 newtComponent *ret_back)
{
	*ret_next = newtButton(TUI_W / 2 - 18, h - 4, next);
	*ret_back = newtButton(TUI_W / 2 + 6, h - 4, "Back");
	newtFormAddComponents(form, *ret_next, *ret_back, NULL);
}

/* Events are only recorded here, and passed to the job's record: the screen
 * is drawn by the main thread. */
static void tui_sink(const struct event *e, void *ctx)
{
	struct tui *t = ctx;
	struct tui_progress *p = &t->pr;

	pthread_mutex_lock(&p->lock);
	job_event(t->job, e);
	switch (e->kind) {
	case EVENT_PROGRESS:
	case EVENT_FINISHED:
		p->done = e->done;
		p->total = e->total;
		p->rate = e->rate;
		p->eta = e->eta;
		p->elapsed = e->elapsed;
		if (e->chunks)
			p->chunks = *e->chunks;
		p->has_chunks = e->chunks != NULL;
		break;
	case EVENT_NOTICE:
	case EVENT_WARNING:
		str_copy(p->notice, sizeof(p->notice), e->message ? e->message : "");
		break;
	case EVENT_STATE:
		str_copy(p->state, sizeof(p->state), e->state ? e->state : "");
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&p->lock);
}

void tui_job_begin(struct tui *t, const char *op, const char *target)
{
	struct job *j = job_begin(op, t->url, t->image->name, target);

	pthread_mutex_lock(&t->pr.lock);
	t->job = j;
	pthread_mutex_unlock(&t->pr.lock);
}

struct job *tui_job_take(struct tui *t)
{
	struct job *j;

	pthread_mutex_lock(&t->pr.lock);
	j = t->job;
	t->job = NULL;
	pthread_mutex_unlock(&t->pr.lock);
	return j;
}

/* The password typed on the repository screen, for cred_password. */
static int tui_ask_password(const char *prompt, char **ret, void *ctx)
{
	struct tui *t = ctx;

	(void)prompt;
	if (!t->password || !t->password[0])
		return -ENOENT;
	*ret = strdup(t->password);
	return *ret ? 0 : -ENOMEM;
}

static enum tui_step tui_screen(struct tui *t, int n)
{
	enum tui_step (*const screens[])(struct tui *) = {
		tui_screen_network, tui_screen_repo,	 tui_screen_image,    tui_screen_action,
		tui_screen_disk,    tui_screen_confirm, tui_screen_progress, tui_screen_result,
	};

	return screens[n](t);
}

/* The screens in order: Next goes on, Back goes to the one before. */
static enum tui_exit tui_loop(struct tui *t)
{
	int n = 0;

	for (;;) {
		switch (tui_screen(t, n)) {
		case TUI_NEXT: n++; break;
		case TUI_BACK:
			if (n == 0)
				return TUI_EXIT_SHELL;
			n--;
			break;
		case TUI_MENU: n = 1; break; /* the result's Menu: the repository again */
		case TUI_LEAVE_SHELL: return TUI_EXIT_SHELL;
		case TUI_REBOOT: return TUI_EXIT_REBOOT;
		case TUI_POWEROFF: return TUI_EXIT_POWEROFF;
		}
		if (n > 7)
			n = 1;
	}
}

int tui_main(const struct tui_opts *o, enum tui_exit *ret)
{
	struct tui t = { .o = o };
	enum tui_exit x;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return err_set(-ENOTTY, "muletto tui needs a terminal (the console, a serial line, "
					"ssh -t)");
	pthread_mutex_init(&t.pr.lock, NULL);
	event_set_sink(tui_sink, &t);
	cred_set_asker(tui_ask_password, &t);
	if (newtInit() < 0) {
		event_set_sink(NULL, NULL);
		return err_set(-EIO, "the screen could not be set up (TERM=%s)", getenv("TERM") ?: "");
	}
	if (o->ascii) { /* slang draws its boxes with its ASCII stand-ins */
		SLutf8_enable(0);
		SLtt_Has_Alt_Charset = 0;
		SLtt_Graphics_Char_Pairs = NULL;
		SLsmg_reinit_smg();
	}
	newtCls();
	newtDrawRootText(1, 0, "muletto " MULETTO_VERSION ": guided restore");
	newtPushHelpLine(TUI_HELP);
	x = tui_loop(&t);
	newtFinished();
	event_set_sink(NULL, NULL);
	cred_set_asker(NULL, NULL);
	cred_forget_typed();
	cred_free(t.password);
	repo_list_free(t.images, t.nimages);
	free(t.boots);
	pthread_mutex_destroy(&t.pr.lock);
	*ret = x;
	return 0;
}
