/* Listings from servers: hostile input, parsed without trusting a length. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/listing.h"

static int listing_plain_name(const char *s, size_t n)
{
	return n && !memchr(s, '/', n) && !memchr(s, 0, n) && !(n == 1 && s[0] == '.') &&
	       !(n == 2 && s[0] == '.' && s[1] == '.');
}

int listing_parse_html(const char *html, size_t len, struct source_names *out)
{
	const char *p = html, *end = html + strnlen(html, len);
	int r;

	while ((p = strstr(p, "href=\"")) && p < end) {
		const char *v = p + 6, *q = memchr(v, '"', (size_t)(end - v));
		char *name;
		int n = 0;
		size_t k;

		p = v;
		if (!q)
			break;
		k = (size_t)(q - v);
		if (k && v[k - 1] == '/')
			k--;
		/* only plain relative names: not "?C=M", "/abs", "#x", "../" or "http:" */
		if (!k || *v == '?' || *v == '/' || *v == '#' || *v == '.' || memchr(v, ':', k) ||
		    k > INT32_MAX)
			continue;
		name = curl_easy_unescape(NULL, v, (int)k, &n);
		if (!name)
			return -ENOMEM;
		r = listing_plain_name(name, (size_t)n) ? source_names_add(out, name, (size_t)n, 1)
							: 0;
		curl_free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

int listing_parse_lines(const char *text, size_t len, struct source_names *out)
{
	const char *p = text, *end = text + strnlen(text, len);
	int r;

	while (p < end) {
		size_t n = strcspn(p, "\r\n");
		if (listing_plain_name(p, n) && (r = source_names_add(out, p, n, 0)) < 0)
			return r;
		p += n;
		p += strspn(p, "\r\n");
	}
	return 0;
}

char *listing_xml_text(const char *xml, const char *tag, const char **pos)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	char open[64], close[64], *out, *o;
	const char *a, *e;
	size_t i;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(pos ? *pos : xml, open);
	if (!a)
		return NULL;
	a += strlen(open);
	e = strstr(a, close);
	if (!e || !(out = malloc((size_t)(e - a) + 1)))
		return NULL;
	for (o = out; a < e; a++) {
		for (i = 0; i < ARRAY_SIZE(ents); i++)
			if (!strncmp(a, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (i < ARRAY_SIZE(ents)) {
			*o++ = ents[i].c;
			a += strlen(ents[i].ent) - 1;
		} else {
			*o++ = *a;
		}
	}
	*o = 0;
	if (pos)
		*pos = e + strlen(close);
	return out;
}

/* The component of a listed key or common prefix just below prefix. */
static int listing_s3_add(struct source_names *out, const char *full, const char *prefix)
{
	size_t skip = strlen(prefix), len = strlen(full);

	if (len <= skip || strncmp(full, prefix, skip))
		return 0;
	full += skip;
	len -= skip;
	if (full[len - 1] == '/')
		len--;
	if (!listing_plain_name(full, len))
		return 0;
	return source_names_add(out, full, len, 1); /* prefixes repeat on every page */
}

int listing_parse_s3(const char *xml, size_t len, const char *prefix, struct source_names *out,
		     char **ret_next)
{
	static const char *const tags[] = { "Key", "Prefix" };
	_cleanup_free_ char *truncated = NULL;
	const char *pos;
	char *v;
	size_t t;
	int r;

	(void)len; /* NUL-terminated */
	*ret_next = NULL;
	for (t = 0; t < ARRAY_SIZE(tags); t++)
		for (pos = xml; (v = listing_xml_text(xml, tags[t], &pos)); free(v))
			if ((r = listing_s3_add(out, v, prefix)) < 0) {
				free(v);
				return r;
			}
	truncated = listing_xml_text(xml, "IsTruncated", NULL);
	if (truncated && !strcmp(truncated, "true")) {
		*ret_next = listing_xml_text(xml, "NextContinuationToken", NULL);
		if (!*ret_next || !**ret_next) {
			free(*ret_next);
			*ret_next = NULL;
			return err_set(-EBADMSG, "the listing says there is more but gives no "
						 "continuation token: a broken S3 answer");
		}
	}
	return 0;
}
