/* One libcurl multi handle for the whole process, on its own thread. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "muletto/store/http_pool.h"

struct http_req_slot {
	CURL *easy;
	CURLcode result;
	int done;
	struct http_req_slot *next; /* in pool.pending */
};

static struct {
	pthread_mutex_t lock; /* guards every field below */
	pthread_cond_t done_cond;
	int users;
	int stop;
	CURLM *multi;
	pthread_t thread;
	struct http_req_slot *pending; /* handed over, not yet in the multi handle */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .done_cond = PTHREAD_COND_INITIALIZER };

/* Moves the handed-over requests into the multi handle. Called locked. */
static void http_pool_take_pending(void)
{
	while (pool.pending) {
		struct http_req_slot *q = pool.pending;
		pool.pending = q->next;
		curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
		if (curl_multi_add_handle(pool.multi, q->easy) != CURLM_OK) {
			q->result = CURLE_OUT_OF_MEMORY;
			q->done = 1;
			pthread_cond_broadcast(&pool.done_cond);
		}
	}
}

static void http_pool_finish(CURLMsg *m)
{
	struct http_req_slot *q = NULL;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
	curl_multi_remove_handle(pool.multi, m->easy_handle);
	pthread_mutex_lock(&pool.lock);
	q->result = m->data.result;
	q->done = 1;
	pthread_cond_broadcast(&pool.done_cond);
	pthread_mutex_unlock(&pool.lock);
}

static void *http_pool_run(void *unused)
{
	int running = 0, left;
	CURLMsg *m;

	(void)unused;
	for (;;) {
		pthread_mutex_lock(&pool.lock);
		http_pool_take_pending();
		if (pool.stop) {
			pthread_mutex_unlock(&pool.lock);
			break;
		}
		pthread_mutex_unlock(&pool.lock);
		curl_multi_perform(pool.multi, &running);
		while ((m = curl_multi_info_read(pool.multi, &left)))
			if (m->msg == CURLMSG_DONE)
				http_pool_finish(m);
		curl_multi_poll(pool.multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

int http_pool_ref(void)
{
	int r = 0;

	pthread_mutex_lock(&pool.lock);
	if (pool.users++ == 0) {
		pool.stop = 0;
		pool.multi = curl_multi_init();
		if (pool.multi) {
			curl_multi_setopt(pool.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
			curl_multi_setopt(pool.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
					  (long)HTTP_POOL_MAX_HOST_CONNECTIONS);
		}
		if (!pool.multi || pthread_create(&pool.thread, NULL, http_pool_run, NULL) != 0) {
			curl_multi_cleanup(pool.multi);
			pool.multi = NULL;
			pool.users = 0;
			r = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	return r;
}

void http_pool_unref(void)
{
	pthread_mutex_lock(&pool.lock);
	if (pool.users == 0 || --pool.users > 0) {
		pthread_mutex_unlock(&pool.lock);
		return;
	}
	pool.stop = 1;
	curl_multi_wakeup(pool.multi);
	pthread_mutex_unlock(&pool.lock);
	pthread_join(pool.thread, NULL);
	curl_multi_cleanup(pool.multi);
	pool.multi = NULL;
}

CURLcode http_pool_perform(CURL *easy)
{
	struct http_req_slot q = { .easy = easy };

	pthread_mutex_lock(&pool.lock);
	q.next = pool.pending;
	pool.pending = &q;
	curl_multi_wakeup(pool.multi);
	while (!q.done)
		pthread_cond_wait(&pool.done_cond, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
	return q.result;
}
