/* Repository URLs through libcurl's URL API. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/url.h"

#define URL_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS | CURLU_ALLOW_SPACE)

/* For messages about a URL that did not parse: everything but a password
 * ("http://user:secret@host/x" -> "http://user@host/x"). */
static char *url_redact(const char *text)
{
	const char *sep = strstr(text, "://"), *auth, *at, *colon;
	size_t alen;

	if (!sep)
		return strdup(text);
	auth = sep + 3;
	alen = strcspn(auth, "/?#");
	at = memrchr(auth, '@', alen);
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return strdup(text);
	return str_printf("%.*s%s", (int)(colon - text), text, at);
}

static int url_invalid(const char *text, const char *why)
{
	_cleanup_free_ char *shown = url_redact(text);

	return err_set(-EINVAL, "%s: not a valid repository URL (%s): use a path or "
				"SCHEME://[USER@]HOST[:PORT]/PATH", shown ? shown : "?", why);
}

/* A part of h as a new string (NULL when absent); -ENOMEM on failure. */
static int url_part(CURLU *h, CURLUPart what, unsigned flags, char **ret)
{
	char *v = NULL;
	CURLUcode rc = curl_url_get(h, what, &v, flags);

	*ret = NULL;
	if (rc == CURLUE_OUT_OF_MEMORY)
		return -ENOMEM;
	if (rc != CURLUE_OK || !v)
		return 0;
	*ret = strdup(v);
	curl_free(v);
	return *ret ? 0 : -ENOMEM;
}

static void url_trim_slashes(char *s, size_t keep)
{
	size_t n = strlen(s);

	while (n > keep && s[n - 1] == '/')
		s[--n] = 0;
}

/* "DOMAIN;user" (SMB's way of naming a domain) */
static int url_split_domain(struct url *u)
{
	char *semi = u->user ? strchr(u->user, ';') : NULL;
	char *user;

	if (!semi)
		return 0;
	*semi = 0;
	u->domain = u->user;
	user = strdup(semi + 1);
	u->user = user;
	return user ? 0 : -ENOMEM;
}

static int url_local_path(const char *text, struct url *u)
{
	if (!*text)
		return err_set(-EINVAL, "an empty repository path: give a folder or a URL");
	if (!(u->scheme = strdup("file")) || !(u->path = strdup(text)) ||
	    !(u->base = strdup(text)))
		return -ENOMEM;
	url_trim_slashes(u->path, 1);
	url_trim_slashes(u->base, 1);
	return 0;
}

/* Labels and UUIDs of label:// and uuid:// are not host names (a label may
 * hold spaces): parsed with a stand-in host, the authority taken as it is. */
static int url_set_tag(CURLU *h, const char *text, char **ret_tag)
{
	const char *auth = strstr(text, "://") + 3;
	size_t alen = strcspn(auth, "/?#");
	_cleanup_free_ char *stand = str_printf("%.*sx%s", (int)(auth - text), text, auth + alen);
	int n = 0;

	if (!stand)
		return -ENOMEM;
	if (curl_url_set(h, CURLUPART_URL, stand, URL_FLAGS) != CURLUE_OK || !alen)
		return url_invalid(text, "no label or UUID");
	*ret_tag = curl_easy_unescape(NULL, auth, (int)alen, &n);
	if (!*ret_tag)
		return -ENOMEM;
	char *copy = strndup(*ret_tag, (size_t)n);
	curl_free(*ret_tag);
	*ret_tag = copy;
	return copy ? 0 : -ENOMEM;
}

static int url_scheme_valid(const char *text, size_t n)
{
	size_t i;

	if (!n || !((text[0] | 0x20) >= 'a' && (text[0] | 0x20) <= 'z'))
		return 0;
	for (i = 1; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-",
			    text[i]))
			return 0;
	return 1;
}

static int url_fill(CURLU *h, const char *text, struct url *u)
{
	const char *sep = strstr(text, "://");
	char *password = NULL, *port = NULL, *tag = NULL;
	CURLUcode rc;
	int r;

	if (!url_scheme_valid(text, (size_t)(sep - text)))
		return url_invalid(text, "the scheme is not a word");
	rc = curl_url_set(h, CURLUPART_URL, text, URL_FLAGS);
	if (rc == CURLUE_OUT_OF_MEMORY)
		return -ENOMEM;
	if (rc == CURLUE_BAD_HOSTNAME && (!strncasecmp(text, "label://", 8) ||
					  !strncasecmp(text, "uuid://", 7))) {
		r = url_set_tag(h, text, &tag);
		if (r < 0)
			return r;
	} else if (rc != CURLUE_OK) {
		return url_invalid(text, curl_url_strerror(rc));
	}
	if ((r = url_part(h, CURLUPART_PASSWORD, 0, &password)) < 0)
		return r;
	if (password) {
		_cleanup_free_ char *shown = url_redact(text);
		cred_free(password);
		return err_set(-EINVAL, "%s: a password in the URL is visible to every process; "
					"remove it and put password=... in muletto.conf (chmod "
					"600) or MULETTO_PASSWORD in the environment",
			       shown ? shown : "?");
	}
	if ((r = url_part(h, CURLUPART_SCHEME, 0, &u->scheme)) < 0 ||
	    (r = url_part(h, CURLUPART_USER, CURLU_URLDECODE, &u->user)) < 0 ||
	    (r = url_part(h, CURLUPART_HOST, 0, &u->host)) < 0 ||
	    (r = url_part(h, CURLUPART_ZONEID, 0, &u->zone)) < 0 ||
	    (r = url_part(h, CURLUPART_PORT, 0, &port)) < 0 ||
	    (r = url_part(h, CURLUPART_PATH, CURLU_URLDECODE, &u->path)) < 0 ||
	    (r = url_split_domain(u)) < 0)
		goto out;
	if (tag) {
		free(u->host);
		u->host = tag;
		tag = NULL;
	}
	if (u->host && u->host[0] == '[') { /* IPv6: the brackets are the URL's */
		size_t n = strlen(u->host);
		memmove(u->host, u->host + 1, n);
		if (n >= 2 && u->host[n - 2] == ']')
			u->host[n - 2] = 0;
	}
	u->port = port ? (unsigned)strtoul(port, NULL, 10) : 0;
	if (!u->path && !(u->path = strdup("/"))) {
		r = -ENOMEM;
		goto out;
	}
	url_trim_slashes(u->path, 1);
	/* the base: no user, no query or fragment, no trailing slash */
	if (curl_url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = url_part(h, CURLUPART_URL, 0, &u->base)) < 0)
		goto out;
	if (!u->base) {
		r = url_invalid(text, "cannot be put together again");
		goto out;
	}
	url_trim_slashes(u->base, strlen(u->scheme) + 3);
out:
	free(port);
	free(tag);
	return r;
}

int url_parse(const char *text, struct url **ret)
{
	struct url *u = calloc(1, sizeof(*u));
	CURLU *h = NULL;
	int r;

	if (!u || !(u->text = strdup(text))) {
		free(u);
		return -ENOMEM;
	}
	if (!strstr(text, "://")) {
		r = url_local_path(text, u);
	} else if (!(h = curl_url())) {
		r = -ENOMEM;
	} else {
		r = url_fill(h, text, u);
	}
	curl_url_cleanup(h);
	if (r < 0) {
		url_free(u);
		return r;
	}
	*ret = u;
	return 0;
}

void url_free(struct url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->user);
	free(u->domain);
	free(u->host);
	free(u->zone);
	free(u->path);
	free(u->base);
	free(u->text);
	free(u);
}

int url_is_local(const struct url *u)
{
	return !strcmp(u->scheme, "file");
}

char *url_authority(const struct url *u)
{
	int v6 = u->host && strchr(u->host, ':');
	char port[16] = "";

	if (u->port)
		snprintf(port, sizeof(port), ":%u", u->port);
	return str_printf("%s%s%s%s", v6 ? "[" : "", u->host ? u->host : "", v6 ? "]" : "", port);
}

char *url_host_with_zone(const struct url *u)
{
	if (!u->host)
		return NULL;
	if (u->zone)
		return str_printf("%s%%%s", u->host, u->zone);
	return strdup(u->host);
}

int url_split(const char *text, char **ret_parent, char **ret_name)
{
	_cleanup_free_ char *parent = NULL;
	struct url *u = NULL;
	const char *start, *slash;
	char *name = NULL;
	int r = url_parse(text, &u), n = 0;

	if (r < 0)
		return r;
	/* the last '/' of the path, in the text as given (the user name stays) */
	start = strstr(text, "://");
	start = start ? start + 3 + strcspn(start + 3, "/") : text;
	slash = strrchr(start, '/');
	if (!slash && start != text) {
		r = err_set(-EINVAL, "%s names no file", u->text);
		goto out;
	}
	if (!slash) {
		parent = strdup(".");
		name = strdup(text);
	} else {
		parent = slash == text ? strdup("/") : strndup(text, (size_t)(slash - text));
		if (start == text) {
			name = strdup(slash + 1);
		} else {
			char *dec = curl_easy_unescape(NULL, slash + 1, 0, &n);
			name = dec ? strndup(dec, (size_t)n) : NULL;
			curl_free(dec);
		}
	}
	if (!parent || !name) {
		r = -ENOMEM;
		goto out;
	}
	if (!*name || strchr(name, '/')) {
		r = err_set(-EINVAL, "%s names no file", u->text);
		goto out;
	}
	*ret_parent = parent;
	*ret_name = name;
	parent = NULL;
	name = NULL;
out:
	free(name);
	url_free(u);
	return r;
}
