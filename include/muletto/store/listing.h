/* Folder listings as servers send them, parsed in one place (and fuzzed):
 * a web server's directory page, SFTP's name-per-line listing, and S3's
 * ListObjectsV2 XML. Texts are NUL-terminated at len; names with '/' or
 * naming "." or ".." are left out; everything else is kept as the server sent
 * it (callers show names escaped). */
#ifndef MULETTO_STORE_LISTING_H
#define MULETTO_STORE_LISTING_H

#include <stddef.h>

#include "muletto/store/source.h"

/* The most bytes a listing may take (a page of S3's holds 1000 names). */
#define LISTING_MAX (16 * 1024 * 1024)

/* href="name" and href="name/" links that are plain relative names
 * (nginx autoindex, Apache, python's http.server), percent-decoded. */
int listing_parse_html(const char *html, size_t len, struct source_names *out);
/* One name a line. */
int listing_parse_lines(const char *text, size_t len, struct source_names *out);
/* One page of ListObjectsV2 for keys below prefix: the next component of each
 * <Key> and <Prefix>, once each; *ret_next: the continuation token (new
 * string) when the answer says it is truncated, else NULL. */
int listing_parse_s3(const char *xml, size_t len, const char *prefix, struct source_names *out,
		     char **ret_next);
/* The text of the first <tag>...</tag> at or after *pos (or xml when pos is
 * NULL), XML entities decoded, moving *pos past it; a new string, or NULL when
 * there is none. */
char *listing_xml_text(const char *xml, const char *tag, const char **pos);

#endif
