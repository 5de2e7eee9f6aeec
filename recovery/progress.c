/* Progress bar on a terminal, or JSON lines, with a smoothed rate and ETA. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/err.h"
#include "muletto/progress.h"
#include "muletto/util.h"

struct progress {
	char what[32];
	uint64_t total;
	enum progress_mode mode;
	double start, last_draw, last_t;
	uint64_t last_done;
	double rate; /* bytes per second, exponentially smoothed */
};

struct progress *progress_new(const char *what, uint64_t total, enum progress_mode mode)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	str_copy(p->what, sizeof(p->what), what);
	p->total = total;
	if (mode == PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
	p->mode = mode;
	p->start = p->last_t = now_seconds();
	return p;
}

static void format_eta(double secs, char *out, size_t n)
{
	unsigned long s = secs > 0 && secs < 360000 ? (unsigned long)(secs + 0.5) : 0;

	if (secs <= 0 || secs >= 360000)
		snprintf(out, n, "--:--");
	else if (s >= 3600)
		snprintf(out, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%lu:%02lu", s / 60, s % 60);
}

static void progress_draw(struct progress *p, uint64_t done, double t, int final)
{
	char d[32], tot[32], rate[32], eta[32], bar[41];
	double frac = p->total ? (double)done / (double)p->total : 0;
	double elapsed = t - p->start;
	double r = final && elapsed > 0 ? (double)done / elapsed : p->rate;
	int i, fill;

	if (frac > 1)
		frac = 1;
	human_size(done, d, sizeof(d));
	human_size(p->total, tot, sizeof(tot));
	human_size((uint64_t)r, rate, sizeof(rate));
	format_eta(final ? elapsed : (r > 0 ? (double)(p->total - MIN(done, p->total)) / r : -1),
		   eta, sizeof(eta));
	if (p->mode == PROGRESS_JSON) {
		fprintf(stderr,
			"{\"progress\":\"%s\",\"done\":%llu,\"total\":%llu,\"rate\":%.0f,"
			"\"eta\":%.1f,\"final\":%s}\n",
			p->what, (unsigned long long)done, (unsigned long long)p->total, r,
			r > 0 && !final ? (double)(p->total - MIN(done, p->total)) / r : 0.0,
			final ? "true" : "false");
		return;
	}
	fill = (int)(frac * 40);
	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = 0;
	fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s  %s %s  ", p->what, bar,
		(int)(frac * 100), d, tot, rate, final ? "in" : "ETA", eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
	double t = now_seconds(), dt;

	if (!p || p->mode == PROGRESS_NONE)
		return;
	dt = t - p->last_t;
	if (dt >= 0.2) {
		double inst = (double)(done - MIN(done, p->last_done)) / dt;
		p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst;
		p->last_t = t;
		p->last_done = done;
	}
	if (t - p->last_draw < (p->mode == PROGRESS_JSON ? 1.0 : 0.2))
		return;
	p->last_draw = t;
	progress_draw(p, done, t, 0);
}

void progress_done(struct progress *p, uint64_t done, int ok)
{
	if (!p || p->mode == PROGRESS_NONE)
		return;
	if (ok)
		progress_draw(p, done, now_seconds(), 1);
	else if (p->mode == PROGRESS_BAR)
		fputc('\n', stderr);
}

void progress_free(struct progress *p)
{
	free(p);
}

int progress_mode_parse(const char *s, enum progress_mode *ret)
{
	static const char *const names[] = { "auto", "bar", "json", "none" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum progress_mode)i;
			return 0;
		}
	return err_set(-EINVAL, "unknown progress mode '%s': use auto, bar, json or none", s);
}
