/* Progress as events, with an exponentially smoothed rate and an ETA. */
#include <stdlib.h>
#include <string.h>

#include "muletto/core/event.h"
#include "muletto/core/progress.h"
#include "muletto/core/util.h"

#define PROGRESS_INTERVAL 0.2

struct progress {
	char op[16];
	char *image;
	int disk;
	uint64_t total;
	double start, last_t;
	uint64_t last_done;
	double rate; /* bytes per second, exponentially smoothed */
	struct event_chunks chunks;
	int has_chunks;
};

struct progress *progress_new(const char *op, const char *image, int disk, uint64_t total)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	str_copy(p->op, sizeof(p->op), op);
	if (image && !(p->image = strdup(image))) {
		free(p);
		return NULL;
	}
	p->disk = disk;
	p->total = total;
	p->start = p->last_t = now_seconds();
	return p;
}

static void progress_emit(const struct progress *p, enum event_kind kind, uint64_t done,
			  double t, int ok)
{
	struct event e = { .kind = kind, .op = p->op, .image = p->image, .disk = p->disk,
			   .done = done, .total = p->total, .rate = p->rate, .eta = -1,
			   .elapsed = t - p->start, .ok = ok,
			   .chunks = p->has_chunks ? &p->chunks : NULL };

	if (kind == EVENT_FINISHED) {
		e.rate = e.elapsed > 0 ? (double)done / e.elapsed : 0;
		e.eta = 0;
	} else if (p->rate > 0 && p->total) {
		e.eta = (double)(p->total - MIN(done, p->total)) / p->rate;
	}
	event_emit(&e);
}

void progress_update(struct progress *p, uint64_t done)
{
	double t = now_seconds(), dt;

	if (!p)
		return;
	dt = t - p->last_t;
	if (dt < PROGRESS_INTERVAL)
		return;
	double inst = (double)(done - MIN(done, p->last_done)) / dt;
	p->rate = p->rate > 0 ? 0.7 * p->rate + 0.3 * inst : inst;
	p->last_t = t;
	p->last_done = done;
	progress_emit(p, EVENT_PROGRESS, done, t, 0);
}

void progress_chunks(struct progress *p, const struct event_chunks *c)
{
	if (!p)
		return;
	p->chunks = *c;
	p->has_chunks = 1;
}

void progress_done(struct progress *p, uint64_t done, int ok)
{
	if (p)
		progress_emit(p, EVENT_FINISHED, done, now_seconds(), ok);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	free(p->image);
	free(p);
}
