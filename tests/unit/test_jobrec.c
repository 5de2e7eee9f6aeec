/* Unit tests: job records (text made safe, milestones, chunk counts, the
 * file), the status page's address, requests and HTML, a hook's URL as
 * messages name it. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "muletto/core/event.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/notify.h"
#include "muletto/ui/status.h"
#include "muletto/ui/status_req.h"

static void clean_text_drops_passwords_and_controls(void)
{
	char b[256];

	CHECK(!strcmp(jobrec_clean_text("from http://bob:pw@nas/repo: 404", b, sizeof(b)),
		      "from http://nas/repo: 404"));
	CHECK(!strcmp(jobrec_clean_text("s3://KEY:SECRET@bucket/x and sftp://u@h:22/p", b,
					sizeof(b)), "s3://bucket/x and sftp://h:22/p"));
	CHECK(!strcmp(jobrec_clean_text("a\x1b[2Jb\r\n", b, sizeof(b)), "a\\x1b[2Jb\\x0d\\x0a"));
	CHECK(!strcmp(jobrec_clean_text("caf\xc3\xa9 \xff\xc2\x9b", b, sizeof(b)), "caf\xc3\xa9 ???"));
	CHECK(!strcmp(jobrec_clean_text("no at-sign in http://host/a@b", b, sizeof(b)),
		      "no at-sign in http://host/a@b"));
	CHECK(!strcmp(jobrec_clean_text("abcdef", b, 4), "abc"));
	CHECK(!strcmp(jobrec_clean_text(NULL, b, sizeof(b)), ""));
}

static int milestones[8], nmilestones;

static void on_milestone(void *ctx, int percent, json_t *rec)
{
	(void)ctx;
	if (nmilestones < 8 && json_integer_value(json_object_get(rec, "percent")) >= percent)
		milestones[nmilestones++] = percent;
}

static void progress(struct jobrec *j, const char *op, int disk, uint64_t done)
{
	struct event e = { .kind = EVENT_PROGRESS, .op = op, .disk = disk, .done = done,
			   .total = 1000, .eta = 1 };

	jobrec_event(j, &e);
}

static void record_counts_each_milestone_once(void)
{
	char dir[] = "/tmp/muletto-jobrec.XXXXXX", vms[64];
	struct jobrec *j;
	json_t *all, *o;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(vms, sizeof(vms), "%s/vms", dir);
	setenv("MULETTO_RUN_DIR", vms, 1);
	CHECK(!strcmp(jobrec_dir(), strcat(strcpy((char[64]){ 0 }, dir), "/jobs")));
	j = jobrec_new("restore", "http://u@nas/r", "web01", "/dev/sdb");
	CHECK(j != NULL);
	jobrec_on_milestone(j, on_milestone, NULL);
	progress(j, "restore", 0, 100);
	progress(j, "restore", 0, 260);
	progress(j, "restore", 0, 300);
	progress(j, "verify", 0, 900);	/* a verify pass is not the restore's progress */
	progress(j, "restore", 0, 800); /* past 50 and 75 at once: both said */
	progress(j, "restore", 0, 1000);
	CHECK(nmilestones == 3 && milestones[0] == 25 && milestones[1] == 50 &&
	      milestones[2] == 75);
	jobrec_set_count(j, "chunks_fetched", 7);
	jobrec_finish(j, 0, "cannot reach http://u:pw@nas/r");
	all = jobrec_list(10);
	o = json_array_get(all, 0);
	CHECK(json_array_size(all) == 1);
	CHECK(!strcmp(json_string_value(json_object_get(o, "state")) ?: "", "failed"));
	CHECK(!strcmp(json_string_value(json_object_get(o, "error")) ?: "", "cannot reach http://nas/r"));
	CHECK(!strcmp(json_string_value(json_object_get(o, "repo")) ?: "", "http://nas/r"));
	CHECK(json_integer_value(json_object_get(o, "done")) == 1000);
	CHECK(json_integer_value(json_object_get(json_object_get(o, "counts"), "chunks_fetched")) == 7);
	json_decref(all);
	jobrec_free(j);
	CHECK(system(strcat(strcpy((char[96]){ 0 }, "rm -rf "), dir)) == 0);
	unsetenv("MULETTO_RUN_DIR");
}

/* 1 when the record's "chunks" are total, fetched, seeded, zero. */
static int chunks_are(json_t *rec, json_int_t total, json_int_t fetched, json_int_t seeded,
		      json_int_t zero)
{
	json_t *c = json_object_get(rec, "chunks");

	return json_is_object(c) && json_object_size(c) == 4 &&
	       json_integer_value(json_object_get(c, "total")) == total &&
	       json_integer_value(json_object_get(c, "fetched")) == fetched &&
	       json_integer_value(json_object_get(c, "seeded")) == seeded &&
	       json_integer_value(json_object_get(c, "zero")) == zero;
}

static void record_keeps_the_restores_chunk_counts(void)
{
	char dir[] = "/tmp/muletto-jobrec.XXXXXX", vms[64];
	struct event_chunks c = { .total = 1000, .fetched = 3, .seeded = 2, .zero = 1 };
	struct event e = { .kind = EVENT_PROGRESS, .op = "restore", .disk = 0, .done = 10,
			   .total = 100, .eta = 1 };
	struct jobrec *j, *raw;
	json_t *o, *all;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(vms, sizeof(vms), "%s/vms", dir);
	setenv("MULETTO_RUN_DIR", vms, 1);
	j = jobrec_new("restore", "/srv/r", "web01", "/dev/sdb");
	o = jobrec_json(j);
	CHECK(o && !json_object_get(o, "chunks")); /* none until an event says them */
	json_decref(o);
	jobrec_event(j, &e); /* a progress event of a raw image: no counts */
	o = jobrec_json(j);
	CHECK(o && !json_object_get(o, "chunks"));
	json_decref(o);
	e.chunks = &c;
	jobrec_event(j, &e);
	o = jobrec_json(j);
	CHECK(chunks_are(o, 1000, 3, 2, 1));
	json_decref(o);
	c = (struct event_chunks){ .total = 1000, .fetched = 600, .seeded = 300, .zero = 99 };
	e.done = 90;
	jobrec_event(j, &e);
	e = (struct event){ .kind = EVENT_PROGRESS, .op = "verify", .disk = 0, .done = 5,
			    .total = 100, .eta = 1 }; /* a verify pass has none: the last stay */
	jobrec_event(j, &e);
	o = jobrec_json(j);
	CHECK(chunks_are(o, 1000, 600, 300, 99));
	json_decref(o);
	c = (struct event_chunks){ .total = 1000, .fetched = 600, .seeded = 300, .zero = 100 };
	e = (struct event){ .kind = EVENT_FINISHED, .op = "restore", .disk = 0, .done = 100,
			    .total = 100, .ok = 1, .chunks = &c };
	jobrec_event(j, &e);
	raw = jobrec_new("verify", "/srv/r", "web02", NULL);
	jobrec_finish(j, 1, NULL);
	all = jobrec_list(10); /* the files, as muletto status and the page read them */
	CHECK(json_array_size(all) == 2);
	for (size_t i = 0; i < json_array_size(all); i++) {
		o = json_array_get(all, i);
		if (!strcmp(json_string_value(json_object_get(o, "op")) ?: "", "restore"))
			CHECK(chunks_are(o, 1000, 600, 300, 100));
		else
			CHECK(!json_object_get(o, "chunks"));
	}
	json_decref(all);
	jobrec_free(raw);
	jobrec_free(j);
	CHECK(system(strcat(strcpy((char[96]){ 0 }, "rm -rf "), dir)) == 0);
	unsetenv("MULETTO_RUN_DIR");
}

static void listen_address_parsed(void)
{
	char a[64];
	int p = 0;

	CHECK(status_parse_listen("80", a, sizeof(a), &p) == 0 && p == 80 && !strcmp(a, "0.0.0.0"));
	CHECK(status_parse_listen("127.0.0.1:8080", a, sizeof(a), &p) == 0 && p == 8080 &&
	      !strcmp(a, "127.0.0.1"));
	CHECK(status_parse_listen("[::1]:81", a, sizeof(a), &p) == 0 && p == 81 && !strcmp(a, "::1"));
	CHECK(status_parse_listen("127.0.0.1:0", a, sizeof(a), &p) < 0);
	CHECK(status_parse_listen("127.0.0.1:", a, sizeof(a), &p) < 0);
	CHECK(status_parse_listen(":80", a, sizeof(a), &p) < 0);
	CHECK(status_parse_listen("x:99999", a, sizeof(a), &p) < 0);
}

/* The request's method, path and token, or the parse's code. */
static int req(const char *text, struct status_req *r)
{
	memset(r, 'x', sizeof(*r));
	return status_req_parse(text, r);
}

static void request_parsed_without_io(void)
{
	struct status_req r;
	char *big = malloc(STATUS_REQUEST_MAX + 1);

	CHECK(req("GET /status.json?token=abc HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0 &&
	      !r.head && !strcmp(r.path, "/status.json") && !strcmp(r.token, "abc"));
	CHECK(req("HEAD / HTTP/1.0\r\n\r\n", &r) == 0 && r.head && !strcmp(r.path, "/") &&
	      !strcmp(r.token, ""));
	CHECK(req("GET /?x=1&token=a%2Fb+c%7e&token=no HTTP/1.1\r\n\r\n", &r) == 0 &&
	      !strcmp(r.path, "/") && !strcmp(r.token, "a/b c~"));
	/* a decoded NUL would end the token there: it stays %00 */
	CHECK(req("GET /?token=ab%00cd HTTP/1.1\r\n\r\n", &r) == 0 && !strcmp(r.token, "ab%00cd"));
	CHECK(req("GET /?token=%4 HTTP/1.1\r\n\r\n", &r) == 0 && !strcmp(r.token, "%4"));
	CHECK(req("GET /status.json HTTP/1.1\r\nHost: x\r\nauthorization: \tBearer  t0k \r\n\r\n",
		  &r) == 0 && !strcmp(r.token, "t0k"));
	CHECK(req("GET /?token=q HTTP/1.1\r\nAuthorization: Bearer h\r\n\r\n", &r) == 0 &&
	      !strcmp(r.token, "q")); /* the query's first */
	CHECK(req("GET / HTTP/1.1\r\nAuthorization: Basic Zm9v\r\nAuthorization: Bearer t\r\n\r\n",
		  &r) == 0 && !strcmp(r.token, ""));
	CHECK(req("GET / HTTP/1.1\r\n\r\nAuthorization: Bearer body\r\n", &r) == 0 &&
	      !strcmp(r.token, "")); /* not a header: past the blank line */
	CHECK(req("POST /status.json HTTP/1.1\r\n\r\n", &r) == -EOPNOTSUPP && r.path[0] == 'x');
	CHECK(req("GETX / HTTP/1.1\r\n\r\n", &r) == -EOPNOTSUPP);
	CHECK(req("get / HTTP/1.1\r\n\r\n", &r) == -EOPNOTSUPP);
	CHECK(req("GET\r\n\r\n", &r) == -EBADMSG && r.path[0] == 'x');
	CHECK(req("", &r) == -EBADMSG);
	CHECK(req(" \r\n", &r) == -EBADMSG);
	if (big) { /* a path longer than any of ours is cut, never overflows */
		memset(big, 'a', STATUS_REQUEST_MAX);
		memcpy(big, "GET /", 5);
		big[STATUS_REQUEST_MAX] = 0;
		CHECK(req(big, &r) == 0 && strlen(r.path) == STATUS_REQ_PATH_MAX - 1 &&
		      r.path[0] == '/');
		memcpy(big + 5, "?token=", 7);
		CHECK(req(big, &r) == 0 && strlen(r.token) == STATUS_REQ_TOKEN_MAX - 1);
	}
	free(big);
}

static void page_cannot_be_closed_by_a_value(void)
{
	json_t *s = json_pack("{s:[{s:s}]}", "jobs", "image", "</script><img src=x onerror=alert(1)>");
	char *html = status_page_html(s);
	const char *inl = html ? strstr(html, "id=\"initial\">") : NULL;

	CHECK(inl != NULL);
	CHECK(inl && strstr(inl, "</script>") && !strstr(inl, "<img"));
	CHECK(inl && strstr(inl, "\\u003c\\/script\\u003e"));
	free(html);
	json_decref(s);
}

static void hook_named_by_host_only(void)
{
	char b[128];

	CHECK(!strcmp(notify_url_public("https://u:pw@hooks.example:8443/T0/B0?k=v", b, sizeof(b)),
		      "https://hooks.example:8443"));
	CHECK(!strcmp(notify_url_public("http://127.0.0.1/x", b, sizeof(b)), "http://127.0.0.1"));
	CHECK(!strcmp(notify_url_public("not a url", b, sizeof(b)), "(a URL that cannot be read)"));
}

int main(void)
{
	RUN(clean_text_drops_passwords_and_controls);
	RUN(record_counts_each_milestone_once);
	RUN(record_keeps_the_restores_chunk_counts);
	RUN(listen_address_parsed);
	RUN(request_parsed_without_io);
	RUN(page_cannot_be_closed_by_a_value);
	RUN(hook_named_by_host_only);
	CHECK_EXIT();
}
