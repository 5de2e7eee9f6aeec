/* Parallel loop: workers take the next index from a shared counter. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muletto/core/err.h"
#include "muletto/core/pfor.h"
#include "muletto/core/util.h"

struct pfor {
	const struct pfor_ops *ops;
	void *arg;
	size_t n;
	atomic_size_t next;
	atomic_int stop;
	pthread_mutex_t lock; /* guards the three fields below */
	pthread_cond_t done_cond;
	int running;
	int err;
	char msg[ERR_MSG_MAX];
};

static void pfor_record(struct pfor *p, int r)
{
	pthread_mutex_lock(&p->lock);
	if (!p->err) {
		p->err = r;
		snprintf(p->msg, sizeof(p->msg), "%s", err_msg());
	}
	pthread_mutex_unlock(&p->lock);
	atomic_store(&p->stop, 1);
}

static void *pfor_worker(void *v)
{
	struct pfor *p = v;
	void *ws = NULL;
	int r = 0;

	if (p->ops->init)
		r = p->ops->init(p->arg, &ws);
	if (r < 0) {
		pfor_record(p, r);
		if (ws && p->ops->fini) /* what a half-done start holds */
			p->ops->fini(p->arg, ws);
		goto out;
	}
	while (!atomic_load(&p->stop)) {
		size_t i = atomic_load(&p->next), k;
		do {
			if (i >= p->n)
				break;
			k = p->ops->span ? MAX(p->ops->span(p->arg, i), (size_t)1) : 1;
		} while (!atomic_compare_exchange_weak(&p->next, &i, i + k));
		if (i >= p->n)
			break;
		r = p->ops->fn(p->arg, ws, i);
		if (r < 0) {
			pfor_record(p, r);
			break;
		}
	}
	if (p->ops->fini)
		p->ops->fini(p->arg, ws);
out:
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_signal(&p->done_cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pfor_wait(struct pfor *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&p->done_cond, &p->lock, &ts) == ETIMEDOUT &&
		    p->ops->tick) {
			pthread_mutex_unlock(&p->lock);
			p->ops->tick(p->arg);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

int pfor_run(size_t n, int threads, const struct pfor_ops *ops, void *arg)
{
	struct pfor p = { .ops = ops, .arg = arg, .n = n };
	pthread_t *tids;
	int i, started = 0;

	if (threads < 1)
		threads = 1;
	if ((size_t)threads > n && n > 0)
		threads = (int)n;
	tids = calloc((size_t)threads, sizeof(*tids));
	if (!tids)
		return err_set(-ENOMEM, "out of memory starting %d workers", threads);
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.done_cond, NULL);
	for (i = 0; i < threads; i++) {
		pthread_mutex_lock(&p.lock);
		p.running++;
		pthread_mutex_unlock(&p.lock);
		if (pthread_create(&tids[i], NULL, pfor_worker, &p) != 0) {
			pthread_mutex_lock(&p.lock);
			p.running--;
			pthread_mutex_unlock(&p.lock);
			if (!started) {
				free(tids);
				return err_set(-EAGAIN, "cannot start worker threads");
			}
			break;
		}
		started++;
	}
	pfor_wait(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_cond_destroy(&p.done_cond);
	pthread_mutex_destroy(&p.lock);
	if (p.err)
		return err_set(p.err, "%s", p.msg);
	return 0;
}
