/* Notifications: a job's JSON POSTed to notify=, a mail through smtp=. The one
 * file that speaks libcurl for them: its errors become warnings here. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/ui/notify.h"

#define NOTIFY_QUEUE_MAX 8

static const struct cred_key key_notify = { "MULETTO_NOTIFY", "notify", 0 };
static const struct cred_key key_notify_secret = { "MULETTO_NOTIFY", "notify", 1 };
static const struct cred_key key_email = { NULL, "notify_email", 0 };
static const struct cred_key key_smtp = { NULL, "smtp", 0 };
static const struct cred_key key_smtp_user = { NULL, "smtp_user", 0 };
static const struct cred_key key_smtp_password = { NULL, "smtp_password", 1 };
static const struct cred_key key_ca = { "MULETTO_CA_BUNDLE", "ca_bundle", 0 };

struct notify {
	char *url;		/* notify=, may hold user:password (secret) */
	char *email, *smtp;	/* notify_email=, smtp= */
	char *smtp_user, *smtp_password;
	char *ca;
	pthread_mutex_t lock;	/* guards the queue and stop */
	pthread_cond_t cond;
	char *queue[NOTIFY_QUEUE_MAX]; /* JSON texts to POST, oldest first */
	size_t nqueue;
	int stop, started;
	pthread_t thread;
};

const char *notify_url_public(const char *url, char *buf, size_t size)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;

	str_copy(buf, size, "(a URL that cannot be read)");
	if (h && curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(h, CURLUPART_PORT, &port, 0);
		snprintf(buf, size, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return buf;
}

/* 1 when url carries a password (then muletto.conf must be private). */
static int notify_url_has_password(const char *url)
{
	CURLU *h = curl_url();
	char *pw = NULL;
	int has = 0;

	if (h && curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
		has = 1;
	curl_free(pw);
	curl_url_cleanup(h);
	return has;
}

/* A setting, or NULL; a setting that cannot be read is a warning. */
static char *notify_setting(const struct cred_key *k)
{
	char *v = NULL;
	int r = cred_get(k, &v);

	if (r == 0 && !*v) {
		cred_free(v);
		return NULL;
	}
	if (r < 0 && r != -ENOENT)
		event_warning("notifications: %s", err_msg());
	return r == 0 ? v : NULL;
}

int notify_new(struct notify **ret)
{
	struct notify *n = calloc(1, sizeof(*n));

	*ret = NULL;
	if (!n)
		return -ENOMEM;
	n->url = notify_setting(&key_notify);
	if (n->url && notify_url_has_password(n->url)) {
		cred_free(n->url); /* read again: now a secret, from a private file only */
		n->url = notify_setting(&key_notify_secret);
	}
	n->email = notify_setting(&key_email);
	if (n->email) {
		n->smtp = notify_setting(&key_smtp);
		n->smtp_user = notify_setting(&key_smtp_user);
		n->smtp_password = notify_setting(&key_smtp_password);
		if (!n->smtp) {
			event_warning("notify_email=%s needs smtp=smtp://HOST:PORT or "
				      "smtps://HOST:PORT in muletto.conf: no mail will be sent",
				      n->email);
			free(n->email);
			n->email = NULL;
		}
	}
	if (!n->url && !n->email) {
		notify_free(n);
		return 0;
	}
	n->ca = notify_setting(&key_ca);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	*ret = n;
	return 0;
}

static void notify_common(CURL *c, const struct notify *n, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)NOTIFY_TIMEOUT_SECONDS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)NOTIFY_TIMEOUT_SECONDS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (n->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, n->ca);
	errbuf[0] = 0;
}

static size_t notify_discard(char *p, size_t size, size_t nmemb, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * nmemb;
}

/* One POST of a JSON text; a failure is a warning naming the host only. */
static void notify_post(const struct notify *n, const char *json)
{
	char errbuf[CURL_ERROR_SIZE], pub[300];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (!c || !h) {
		event_warning("notify: out of memory");
		goto out;
	}
	notify_common(c, n, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, n->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, notify_discard);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	notify_url_public(n->url, pub, sizeof(pub));
	if (rc != CURLE_OK)
		event_warning("notify: POST to %s failed: %s (the job is not affected)", pub,
			      curl_easy_strerror(rc));
	else if (status >= 300)
		event_warning("notify: %s answered HTTP %ld to the POST (the job is not affected)",
			      pub, status);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void *notify_worker(void *arg)
{
	struct notify *n = arg;
	char *json;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		while (!n->nqueue && !n->stop)
			pthread_cond_wait(&n->cond, &n->lock);
		if (!n->nqueue)
			break;
		json = n->queue[0];
		memmove(n->queue, n->queue + 1, --n->nqueue * sizeof(n->queue[0]));
		pthread_mutex_unlock(&n->lock);
		notify_post(n, json);
		free(json);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

void notify_progress(struct notify *n, const json_t *rec)
{
	char *json;

	if (!n || !n->url || !(json = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII |
							      JSON_PRESERVE_ORDER)))
		return;
	pthread_mutex_lock(&n->lock);
	if (!n->started && pthread_create(&n->thread, NULL, notify_worker, n) == 0)
		n->started = 1;
	if (n->started && n->nqueue < NOTIFY_QUEUE_MAX) {
		n->queue[n->nqueue++] = json;
		json = NULL;
		pthread_cond_signal(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
	free(json); /* the queue is full: a slow hook misses a milestone */
}

struct notify_mail {
	const char *text;
	size_t len, off;
};

static size_t notify_mail_read(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct notify_mail *m = ctx;
	size_t k = MIN(size * nmemb, m->len - m->off);

	memcpy(p, m->text + m->off, k);
	m->off += k;
	return k;
}

/* The mail's text: a subject that says it all, the numbers, the error. */
static char *notify_mail_text(const char *rcpt, const json_t *rec)
{
	const char *op = json_string_value(json_object_get(rec, "op")) ?: "job";
	const char *state = json_string_value(json_object_get(rec, "state")) ?: "?";
	const char *image = json_string_value(json_object_get(rec, "image")) ?: "";
	const char *target = json_string_value(json_object_get(rec, "target")) ?: "";
	const char *host = json_string_value(json_object_get(rec, "host")) ?: "muletto";
	const char *err = json_string_value(json_object_get(rec, "error"));
	char date[64], done[32], total[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	human_size((uint64_t)json_integer_value(json_object_get(rec, "done")), done, sizeof(done));
	human_size((uint64_t)json_integer_value(json_object_get(rec, "total")), total, sizeof(total));
	return str_printf("Date: %s\r\nTo: %s\r\nFrom: muletto <muletto@%s>\r\n"
			  "Subject: muletto %s of %s on %s: %s\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\n\r\n"
			  "%s of %s onto %s on %s: %s.\r\n%s of %s in %.0f s.\r\n%s%s%s",
			  date, rcpt, host, op, image, host, state, op, image, target, host,
			  state, done, total, json_real_value(json_object_get(rec, "seconds")),
			  err ? "Error: " : "", err ? err : "", err ? "\r\n" : "");
}

static void notify_mail(const struct notify *n, const json_t *rec)
{
	char errbuf[CURL_ERROR_SIZE], pub[300], from[300], rcpt[300];
	struct notify_mail m = { 0 };
	struct curl_slist *to = NULL;
	char *text = NULL, host[256] = "muletto";
	CURL *c = curl_easy_init();
	CURLcode rc;

	gethostname(host, sizeof(host) - 1);
	/* mail addresses go into SMTP commands: no line breaks, no brackets */
	snprintf(from, sizeof(from), "<muletto@%.*s>", (int)strcspn(host, "\r\n<>"), host);
	snprintf(rcpt, sizeof(rcpt), "<%.*s>", (int)strcspn(n->email, "\r\n<>"), n->email);
	text = notify_mail_text(rcpt, rec);
	if (!c || !text) {
		event_warning("notify_email: out of memory");
		goto out;
	}
	to = curl_slist_append(NULL, rcpt);
	m.text = text;
	m.len = strlen(text);
	notify_common(c, n, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, n->smtp);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, notify_mail_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &m);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	if (n->smtp_user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, n->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, n->smtp_password ? n->smtp_password : "");
		/* a password only over TLS: smtps://, or STARTTLS on smtp:// */
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		event_warning("notify_email: mail to %s through %s failed: %s (the job is not "
			      "affected)", rcpt, notify_url_public(n->smtp, pub, sizeof(pub)),
			      curl_easy_strerror(rc));
out:
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	free(text);
}

void notify_end(struct notify *n, const json_t *rec)
{
	char *json;

	if (!n)
		return;
	pthread_mutex_lock(&n->lock); /* the milestones first, then the end */
	n->stop = 1;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
	if (n->started)
		pthread_join(n->thread, NULL);
	n->started = 0;
	if (n->url && (json = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII |
					       JSON_PRESERVE_ORDER))) {
		notify_post(n, json);
		free(json);
	}
	if (n->email)
		notify_mail(n, rec);
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (n->started) {
		pthread_mutex_lock(&n->lock);
		n->stop = 1;
		pthread_cond_signal(&n->cond);
		pthread_mutex_unlock(&n->lock);
		pthread_join(n->thread, NULL);
		pthread_mutex_destroy(&n->lock);
		pthread_cond_destroy(&n->cond);
	}
	while (n->nqueue)
		free(n->queue[--n->nqueue]);
	cred_free(n->url);
	free(n->email);
	free(n->smtp);
	free(n->smtp_user);
	cred_free(n->smtp_password);
	free(n->ca);
	free(n);
}
