/* Events as lines, bars and JSON; text from servers made safe to print. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"

#define SHOW_BAR_WIDTH 40
#define SHOW_JSON_INTERVAL 1.0

static struct {
	enum show_mode mode;
	int events_json;  /* states, notices and warnings as JSON lines on stdout */
	FILE *warnings;
	int bar_open;	  /* a bar line is on the terminal without its newline */
	double last_json; /* when the last JSON progress line went out */
	event_sink_fn also; /* show_also: another sink, after ours */
	void *also_ctx;
} show;

int show_mode_parse(const char *s, enum show_mode *ret)
{
	static const char *const names[] = { "auto", "bar", "json", "none" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum show_mode)i;
			return 0;
		}
	return err_set(-EINVAL, "--progress %s: use auto, bar, json or none", s);
}

const char *show_safe(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t k = 0, n;

	if (!size)
		return buf;
	while (*p && k + 1 < size) {
		n = utf8_printable_len(p);
		if (n && k + n < size) {
			memcpy(buf + k, p, n);
			k += n;
			p += n;
		} else if (!n && k + 4 < size) {
			snprintf(buf + k, size - k, "\\x%02x", *p++);
			k += 4;
		} else {
			break;
		}
	}
	buf[k] = 0;
	return buf;
}

json_t *show_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), k = 0, n;
	char *out = malloc(3 * len + 1);
	json_t *j;

	if (!out)
		return NULL;
	while (*p) {
		n = utf8_printable_len(p);
		if (n || (*p < 0x80)) { /* control characters are JSON's to escape */
			n = n ? n : 1;
			memcpy(out + k, p, n);
			k += n;
			p += n;
		} else {
			memcpy(out + k, "\xef\xbf\xbd", 3); /* U+FFFD */
			k += 3;
			p++;
		}
	}
	out[k] = 0;
	j = json_string(out);
	free(out);
	return j ? j : json_string("");
}

void show_counts(json_t *o, const void *stats, const struct show_count *c, size_t n,
		 double seconds)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, c[i].name, json_integer((json_int_t) *
			(const uint64_t *)((const char *)stats + c[i].offset)));
	json_object_set_new(o, "seconds", json_real(seconds));
}

void show_json_line(json_t *o)
{
	show_break();
	json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
}

void show_json_pretty(json_t *o)
{
	show_break();
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
}

void show_break(void)
{
	if (show.bar_open) {
		fputc('\n', stderr);
		show.bar_open = 0;
	}
}

/* "restore web01 disk0" */
static void show_label(const struct event *e, char *out, size_t size)
{
	char safe[256];

	snprintf(out, size, "%s%s%s", e->op ? e->op : "", e->image ? " " : "",
		 e->image ? show_safe(e->image, safe, sizeof(safe)) : "");
	if (e->disk >= 0)
		snprintf(out + strlen(out), size - strlen(out), " disk%d", e->disk);
}

static void show_eta(double secs, char *out, size_t n)
{
	unsigned long s = secs > 0 && secs < 360000 ? (unsigned long)(secs + 0.5) : 0;

	if (secs <= 0 || secs >= 360000)
		snprintf(out, n, "--:--");
	else if (s >= 3600)
		snprintf(out, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%lu:%02lu", s / 60, s % 60);
}

static void show_bar(const struct event *e, const char *label, int final)
{
	char d[32], tot[32], rate[32], eta[32], bar[SHOW_BAR_WIDTH + 1];
	double frac = e->total ? (double)e->done / (double)e->total : 0;
	int i, fill;

	if (frac > 1)
		frac = 1;
	human_size(e->done, d, sizeof(d));
	human_size(e->total, tot, sizeof(tot));
	human_size((uint64_t)e->rate, rate, sizeof(rate));
	show_eta(final ? e->elapsed : e->eta, eta, sizeof(eta));
	fill = (int)(frac * SHOW_BAR_WIDTH);
	for (i = 0; i < SHOW_BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[SHOW_BAR_WIDTH] = 0;
	fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s  %s %s  ", label, bar, (int)(frac * 100),
		d, tot, rate, final ? "in" : "ETA", eta);
	show.bar_open = !final;
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

static void show_progress_json(const struct event *e, const char *label, int final)
{
	json_t *o = json_object();

	json_object_set_new(o, "progress", show_json_string(label));
	json_object_set_new(o, "op", show_json_string(e->op));
	json_object_set_new(o, "image", e->image ? show_json_string(e->image) : json_null());
	json_object_set_new(o, "disk", e->disk >= 0 ? json_integer(e->disk) : json_null());
	json_object_set_new(o, "done", json_integer((json_int_t)e->done));
	json_object_set_new(o, "total", json_integer((json_int_t)e->total));
	json_object_set_new(o, "rate", json_integer((json_int_t)e->rate));
	json_object_set_new(o, "eta", json_real(final || e->eta < 0 ? 0.0 : e->eta));
	json_object_set_new(o, "final", json_boolean(final));
	if (final)
		json_object_set_new(o, "ok", json_boolean(e->ok));
	json_dumpf(o, stderr, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	fputc('\n', stderr);
	fflush(stderr);
	json_decref(o);
}

static void show_progress(const struct event *e)
{
	int final = e->kind == EVENT_FINISHED;
	char label[300];

	if (show.mode == SHOW_NONE)
		return;
	show_label(e, label, sizeof(label));
	if (show.mode == SHOW_JSON) {
		if (!final && now_seconds() - show.last_json < SHOW_JSON_INTERVAL)
			return;
		show.last_json = now_seconds();
		show_progress_json(e, label, final);
	} else if (!final || e->ok) {
		show_bar(e, label, final);
	} else {
		show_break(); /* a failure: its message follows on a line of its own */
	}
}

static const char *const show_kinds[] = {
	[EVENT_PROGRESS] = "progress", [EVENT_FINISHED] = "finished", [EVENT_NOTICE] = "notice",
	[EVENT_WARNING] = "warning",   [EVENT_DEBUG] = "debug",	      [EVENT_STATE] = "state",
};

/* An event as a JSON line on stdout, for scripts (serve --json). */
static void show_event_json(const struct event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "event", json_string(show_kinds[e->kind]));
	if (e->op)
		json_object_set_new(o, "op", show_json_string(e->op));
	if (e->image)
		json_object_set_new(o, "image", show_json_string(e->image));
	if (e->state)
		json_object_set_new(o, "state", show_json_string(e->state));
	if (e->kind == EVENT_PROGRESS || e->kind == EVENT_FINISHED) {
		json_object_set_new(o, "done", json_integer((json_int_t)e->done));
		json_object_set_new(o, "total", json_integer((json_int_t)e->total));
		json_object_set_new(o, "rate", json_integer((json_int_t)e->rate));
	}
	if (e->message)
		json_object_set_new(o, "message", show_json_string(e->message));
	show_json_line(o);
}

static void show_event(const struct event *e, void *ctx)
{
	char msg[2 * ERR_MSG_MAX];

	(void)ctx;
	if (show.also)
		show.also(e, show.also_ctx);
	if (show.events_json && e->kind != EVENT_DEBUG &&
	    (e->kind != EVENT_PROGRESS || now_seconds() - show.last_json >= SHOW_JSON_INTERVAL)) {
		if (e->kind == EVENT_PROGRESS)
			show.last_json = now_seconds();
		show_event_json(e);
		return;
	}
	switch (e->kind) {
	case EVENT_PROGRESS:
	case EVENT_FINISHED:
		show_progress(e);
		break;
	case EVENT_STATE:
	case EVENT_NOTICE:
		show_break();
		fprintf(stderr, "muletto: %s\n", show_safe(e->message, msg, sizeof(msg)));
		break;
	case EVENT_WARNING:
		show_break();
		fflush(stderr);
		fprintf(show.warnings, "%s\n", show_safe(e->message, msg, sizeof(msg)));
		fflush(show.warnings);
		break;
	case EVENT_DEBUG:
		show_break();
		fprintf(stderr, "muletto[%s]: %s\n", e->area ? e->area : "",
			show_safe(e->message, msg, sizeof(msg)));
		break;
	}
}

void show_also(event_sink_fn fn, void *ctx)
{
	event_set_sink(NULL, NULL); /* not while an event is being shown */
	show.also = fn;
	show.also_ctx = ctx;
	event_set_sink(show_event, NULL);
}

void show_events_json(int on)
{
	show.events_json = on;
}

void show_start(enum show_mode mode, FILE *warnings_out)
{
	if (mode == SHOW_AUTO)
		mode = isatty(STDERR_FILENO) ? SHOW_BAR : SHOW_NONE;
	show.mode = mode;
	show.warnings = warnings_out ? warnings_out : stderr;
	event_set_sink(show_event, NULL);
}
