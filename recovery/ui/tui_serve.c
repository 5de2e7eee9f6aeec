/* The action "serve": disk 0 of the image as an NBD export on every address
 * of this machine, by the engine of muletto serve (serve/serve.h) on a thread
 * of this process, until Stop. Three ways: the client's writes kept in memory
 * and thrown away at the end; read-only; or onto a disk of this machine,
 * chosen and confirmed on the next screens like a restore's, its writes kept
 * there while the rest of the image arrives behind them. The screen says the
 * addresses a client (QEMU, qemu-img, nbdinfo, another muletto) connects to,
 * and how far the disk has arrived. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/util.h"
#include "muletto/serve/serve.h"
#include "tui_int.h"

#define SERVE_PORT_DEFAULT "10809"
#define SERVE_TEXT 2048

/* Set by Stop, or by SIGTERM (kill, as muletto serve is stopped). */
static volatile sig_atomic_t serve_stop;

static void serve_on_term(int sig)
{
	(void)sig;
	serve_stop = 1;
}

struct tui_serve {
	struct tui *t;
	struct serve_request q;
	char nbd[32];
	int rc;
	char err[ERR_MSG_MAX];
};

static void *serve_thread(void *arg)
{
	struct tui_serve *s = arg;

	s->rc = serve_run(&s->q, &serve_stop);
	str_copy(s->err, sizeof(s->err), s->rc < 0 ? err_msg() : "");
	pthread_mutex_lock(&s->t->pr.lock);
	s->t->pr.finished = 1;
	pthread_mutex_unlock(&s->t->pr.lock);
	return NULL;
}

/* "  nbd://10.0.2.15:10809\n" for each IPv4 address but loopback's. */
static size_t serve_addresses(const char *port, char *out, size_t size)
{
	struct ifaddrs *ifs, *i;
	char a[INET_ADDRSTRLEN];
	size_t k = 0;

	out[0] = 0;
	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i && k < size; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof(a));
		if (!strncmp(a, "127.", 4))
			continue;
		k += (size_t)snprintf(out + k, size - k, "  nbd://%s:%s   (%s)\n", a, port, i->ifa_name);
	}
	freeifaddrs(ifs);
	return k < size ? k : size - 1;
}

/* What the screen says while serving. 1 once the thread has ended. */
static int serve_text(struct tui_serve *s, char *out, size_t size, int *permille)
{
	struct tui *t = s->t;
	char addrs[1024], name[64], dsize[32], notice[256], d[32], tot[32], rate[32];
	const char *first;
	size_t k;
	int ended, ready, hydrating;

	pthread_mutex_lock(&t->pr.lock);
	ended = t->pr.finished;
	ready = !strcmp(t->pr.state, "ready") || !strcmp(t->pr.state, "hydrated");
	hydrating = s->q.o.to && t->pr.total;
	tui_ascii(t->pr.notice, notice, sizeof(notice));
	human_size(t->pr.done, d, sizeof(d));
	human_size(t->pr.total, tot, sizeof(tot));
	human_size((uint64_t)t->pr.rate, rate, sizeof(rate));
	*permille = t->pr.total ? (int)(t->pr.done * 1000 / t->pr.total) : 0;
	if (!strcmp(t->pr.state, "hydrated"))
		*permille = 1000;
	pthread_mutex_unlock(&t->pr.lock);
	tui_ascii(t->image->name, name, sizeof(name));
	human_size(t->image->m->ndisks ? t->image->m->disks[0].size : 0, dsize, sizeof(dsize));
	if (!ready) {
		snprintf(out, size, "Opening the image%s...\n%s", s->q.o.to ? " and the disk" : "",
			 notice);
		return ended;
	}
	k = serve_addresses(s->q.nbd + strlen("tcp:0.0.0.0:"), addrs, sizeof(addrs));
	first = addrs + strspn(addrs, " ");
	k = (size_t)snprintf(out, size, "Serving %s disk0 (%s)%s.\n\nA client on the network "
			     "connects to\n%s\n", name, dsize, s->q.o.to ? "; writes kept on the disk" :
			     s->q.o.cow ? "; writes kept in memory until Stop" : "; read-only",
			     k ? addrs : "  (this machine has no network address: see F2, ip addr)\n");
	if (k < size && first[0])
		k += (size_t)snprintf(out + k, size - k, "e.g. qemu-system-x86_64 -drive "
				      "file=%.*s,format=raw ...\n\n", (int)strcspn(first, " "), first);
	if (k < size && s->q.o.to)
		k += (size_t)snprintf(out + k, size - k, "%s: %s of %s on %s%s%s/s\n",
				      *permille == 1000 ? "Arrived" : "Arriving", hydrating ? d : "-",
				      hydrating ? tot : "-", s->q.o.to,
				      *permille == 1000 ? " (all of it)  " : "  ", rate);
	if (k < size && notice[0])
		snprintf(out + k, size - k, "Last: %.140s\n", notice);
	return ended;
}

/* The serve on its screen until Stop, or until it ends by itself (an error). */
static void serve_screen(struct tui_serve *s)
{
	newtComponent form, tb, scale, stop, co;
	char text[SERVE_TEXT], safe[SERVE_TEXT];
	int h = 20, timer, permille, ended = 0;

	newtCenteredWindow(TUI_W, h, "Serve");
	form = newtForm(NULL, NULL, 0);
	tb = newtTextbox(1, 1, TUI_W - 3, h - 8, NEWT_FLAG_WRAP);
	stop = newtButton(TUI_W / 2 - 4, h - 4, "Stop");
	newtFormAddComponents(form, tb, stop, NULL);
	scale = s->q.o.to ? newtScale(2, h - 6, TUI_W - 6, 1000) : NULL; /* how far it arrived */
	if (scale)
		newtFormAddComponent(form, scale);
	newtFormSetTimer(form, 250);
	while (!ended) {
		ended = serve_text(s, text, sizeof(text), &permille);
		newtTextboxSetText(tb, tui_ascii(text, safe, sizeof(safe)));
		if (scale)
			newtScaleSet(scale, (unsigned long long)permille);
		timer = 0;
		co = tui_form_run(form, &timer);
		if (co == stop)
			break;
	}
	newtFormDestroy(form);
	newtPopWindow();
}

/* Waits for the thread, the screen saying why. */
static void serve_wait(struct tui_serve *s)
{
	newtComponent form;
	int timer, ended = 0;

	serve_stop = 1;
	newtCenteredWindow(TUI_W, 5, "Serve");
	form = newtForm(NULL, NULL, 0);
	newtFormAddComponent(form, newtLabel(2, 1, s->q.o.to ?
			     "Stopping: clients finish, the map of what arrived is kept..." :
			     "Stopping: clients finish..."));
	newtFormSetTimer(form, 250);
	for (;;) {
		pthread_mutex_lock(&s->t->pr.lock);
		ended = s->t->pr.finished;
		pthread_mutex_unlock(&s->t->pr.lock);
		if (ended)
			break;
		timer = 0;
		tui_form_run(form, &timer);
	}
	newtFormDestroy(form);
	newtPopWindow();
}

enum tui_step tui_serve(struct tui *t)
{
	struct tui_serve s = { .t = t };
	struct sigaction sa = { .sa_handler = serve_on_term }, old;
	pthread_t th;

	snprintf(s.nbd, sizeof(s.nbd), "tcp:0.0.0.0:%s", t->serve_port);
	s.q = (struct serve_request){ .repo = t->url, .name = t->image->name, .nbd = s.nbd,
				      .allow_remote = 1 /* every address: the technician chose so */ };
	if (t->act == TUI_ACT_SERVE)
		s.q.o.to = t->target; /* confirmed on the screen before: no question */
	else if (t->serve_cow)
		s.q.o.cow = "ram";
	pthread_mutex_lock(&t->pr.lock);
	t->pr.done = t->pr.total = 0;
	t->pr.rate = 0;
	t->pr.notice[0] = t->pr.state[0] = 0;
	t->pr.finished = 0;
	pthread_mutex_unlock(&t->pr.lock);
	serve_stop = 0;
	sigaction(SIGTERM, &sa, &old);
	tui_job_begin(t, "serve", s.q.o.to);
	if (pthread_create(&th, NULL, serve_thread, &s) != 0) {
		sigaction(SIGTERM, &old, NULL);
		job_end(tui_job_take(t), 0, "could not start");
		tui_message("Serve", "cannot start: out of resources");
		return TUI_BACK;
	}
	serve_screen(&s);
	serve_wait(&s);
	pthread_join(th, NULL);
	sigaction(SIGTERM, &old, NULL);
	job_end(tui_job_take(t), s.rc == 0, s.rc < 0 ? s.err : NULL);
	if (s.rc < 0) {
		tui_message("Serve: failed", "%s", s.err);
		return TUI_BACK;
	}
	tui_message("Serve", "Stopped.%s", s.q.o.to ? " What arrived on the disk is kept: serving "
		    "onto it again fetches only the rest." : "");
	return TUI_MENU;
}

/* How to serve, and on which port: TUI_NEXT to choose the disk (onto a
 * disk), TUI_MENU when served already (the other two), TUI_BACK. */
enum tui_step tui_serve_choose(struct tui *t)
{
	static const char *const modes[] = {
		"Writes kept in memory, thrown away at the end (nothing written here)",
		"Read-only (a client cannot write)",
		"Onto a disk of this machine: writes kept, the rest arriving meanwhile",
	};
	newtComponent form, list, entry, next, back, co;
	char port[8];
	intptr_t i;
	int h = 15, p;

	if (!t->serve_port[0])
		str_copy(t->serve_port, sizeof(t->serve_port), SERVE_PORT_DEFAULT);
	for (;;) {
		newtCenteredWindow(TUI_W, h, "Serve over NBD");
		form = newtForm(NULL, NULL, 0);
		newtFormAddComponent(form, newtLabel(2, 1, "Disk 0 of the image, to a client on the "
						     "network (QEMU, qemu-img, nbdinfo):"));
		list = newtListbox(2, 3, 3, NEWT_FLAG_RETURNEXIT);
		for (i = 0; i < (intptr_t)ARRAY_SIZE(modes); i++)
			newtListboxAppendEntry(list, modes[i], (void *)i);
		newtFormAddComponent(form, newtLabel(2, 7, "TCP port:"));
		entry = newtEntry(13, 7, t->serve_port, 6, NULL, NEWT_FLAG_SCROLL);
		newtFormAddComponents(form, list, entry, NULL);
		tui_buttons(form, h, "Next", &next, &back);
		co = tui_form_run(form, NULL);
		i = (intptr_t)newtListboxGetCurrent(list);
		str_copy(port, sizeof(port), newtEntryGetValue(entry));
		newtFormDestroy(form);
		newtPopWindow();
		if (co == back)
			return TUI_BACK;
		if (parse_int(port, 1, 65535, &p) < 0) {
			tui_message("Serve", "'%s' is not a TCP port: type a number from 1 to 65535 "
				    "(NBD's own is 10809).", port);
			continue;
		}
		snprintf(t->serve_port, sizeof(t->serve_port), "%d", p);
		if (i == 2) {
			t->act = TUI_ACT_SERVE;
			return TUI_NEXT;
		}
		t->act = TUI_ACT_RESTORE;
		t->serve_cow = i == 0;
		return tui_serve(t);
	}
}
