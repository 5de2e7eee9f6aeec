/* Listings as servers send them, and signature lines: names kept, the rest
 * left out, nothing trusted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "curl_alloc.h"
#include "muletto/format/sign.h"
#include "muletto/store/listing.h"

static int has(const struct source_names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return 1;
	return 0;
}

static void html_pages_give_plain_names(void)
{
	static const char page[] =
		"<html><body><h1>Index of /repo/images/</h1><hr><pre>"
		"<a href=\"../\">../</a>\n<a href=\"web01/\">web01/</a>   25-Nov-2026 02:50 -\n"
		"<a href=\"db%2001/\">db 01/</a>\n<a href=\"?C=M;O=A\">sort</a>\n"
		"<a href=\"/abs/\">abs</a>\n<a href=\"http://evil/x\">x</a>\n"
		"<a href=\"a%2Fb\">slash</a>\n<a href=\"web01/\">again</a>\n<a href=\"tail";
	struct source_names l = { 0 };

	CHECK(listing_parse_html(page, sizeof(page) - 1, &l) == 0);
	CHECK(l.n == 2 && has(&l, "web01") && has(&l, "db 01"));
	source_names_clear(&l);
}

static void sftp_lines(void)
{
	static const char text[] = ".\r\n..\r\nweb01\r\n\r\nweb02\nlast";
	struct source_names l = { 0 };

	CHECK(listing_parse_lines(text, sizeof(text) - 1, &l) == 0);
	CHECK(l.n == 3 && has(&l, "web01") && has(&l, "web02") && has(&l, "last"));
	source_names_clear(&l);
}

static void s3_pages(void)
{
	static const char page1[] =
		"<ListBucketResult><Prefix>r/images/</Prefix><IsTruncated>true</IsTruncated>"
		"<Contents><Key>r/images/notes.txt</Key></Contents>"
		"<CommonPrefixes><Prefix>r/images/web01/</Prefix></CommonPrefixes>"
		"<CommonPrefixes><Prefix>r/images/a&amp;b/</Prefix></CommonPrefixes>"
		"<NextContinuationToken>tok/1+</NextContinuationToken></ListBucketResult>";
	static const char broken[] =
		"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	struct source_names l = { 0 };
	char *next = NULL;

	CHECK(listing_parse_s3(page1, sizeof(page1) - 1, "r/images/", &l, &next) == 0);
	CHECK(l.n == 3 && has(&l, "notes.txt") && has(&l, "web01") && has(&l, "a&b"));
	CHECK(next && !strcmp(next, "tok/1+"));
	free(next);
	/* the next page repeats a prefix: still once */
	CHECK(listing_parse_s3(page1, sizeof(page1) - 1, "r/images/", &l, &next) == 0);
	CHECK(l.n == 3);
	free(next);
	CHECK(listing_parse_s3(broken, sizeof(broken) - 1, "r/", &l, &next) == -EBADMSG);
	CHECK(next == NULL);
	source_names_clear(&l);
}

static void signature_lines(void)
{
	char good[256], bad[256];
	struct sign_line sl;

	snprintf(good, sizeof(good), "ed25519 %064d %086d==\n", 0, 0);
	memset(good + 8, 'a', 64);
	memset(good + 73, 'A', 86);
	CHECK(sign_parse_line(good, strlen(good), &sl) == 0);
	CHECK(strlen(sl.key) == 64 && sl.key[0] == 'a');
	strcpy(bad, good);
	bad[80] = '*';
	CHECK(sign_parse_line(bad, strlen(bad), &sl) == -EBADMSG);
	snprintf(bad, sizeof(bad), "ed25519 %s %0199d", "ab", 0);
	CHECK(sign_parse_line(bad, strlen(bad), &sl) == -EBADMSG);
	CHECK(sign_parse_line("", 0, &sl) == -EBADMSG);
	CHECK(sign_parse_line(good, 20, &sl) == -EBADMSG);
}

int main(void)
{
	if (curl_alloc_checked() != 0)
		return 1;
	RUN(html_pages_give_plain_names);
	RUN(sftp_lines);
	RUN(s3_pages);
	RUN(signature_lines);
	CHECK_EXIT();
}
