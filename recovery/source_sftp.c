/* A repository on an SSH server (sftp://user@host[:port]/path), through
 * libcurl's SFTP. The server must be in known_hosts (MULETTO_KNOWN_HOSTS, else
 * ~/.ssh/known_hosts): an unknown or changed host key is refused, showing its
 * fingerprint to compare with the server's. Logs in with a key
 * (MULETTO_SSH_KEY, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa) and/or a password
 * (MULETTO_PASSWORD, password= in muletto.conf, or typed). Capture writes each
 * file under a temporary name and renames it. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/http.h"
#include "muletto/source.h"
#include "muletto/util.h"

static const struct cred_key key_file = { "MULETTO_SSH_KEY", "ssh_key", 0 };
static const struct cred_key key_known = { "MULETTO_KNOWN_HOSTS", "known_hosts", 0 };
static const struct cred_key key_pass = { "MULETTO_PASSWORD", "password", 1 };
static const struct cred_key key_phrase = { "MULETTO_SSH_PASSPHRASE", "ssh_key_passphrase", 1 };

struct sftp {
	struct http_conn c;
	char *known_hosts;
};

/* "SHA256:..." as ssh-keygen -l shows it, of a host key blob. */
static void sftp_fingerprint(const struct curl_khkey *k, char *out, size_t size)
{
	unsigned char raw[4096], md[32], b64[64];
	const unsigned char *blob = (const unsigned char *)k->key;
	size_t len = k->len;
	int n;

	if (!len) { /* base64 text */
		n = EVP_DecodeBlock(raw, (const unsigned char *)k->key, (int)strlen(k->key));
		if (n < 0 || strlen(k->key) > sizeof(raw)) {
			snprintf(out, size, "?");
			return;
		}
		while (n > 0 && k->key[strlen(k->key) - 1] == '=' && raw[n - 1] == 0)
			n--; /* EVP_DecodeBlock counts the padding */
		blob = raw;
		len = (size_t)n;
	}
	EVP_Digest(blob, len, md, NULL, EVP_sha256(), NULL);
	n = EVP_EncodeBlock(b64, md, sizeof(md));
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = 0;
	snprintf(out, size, "SHA256:%s", b64);
}

static int sftp_hostkey(CURL *easy, const struct curl_khkey *known, const struct curl_khkey *found,
			enum curl_khmatch match, void *v)
{
	struct sftp *f = v;
	char fp[80];

	(void)easy;
	(void)known;
	if (match == CURLKHMATCH_OK)
		return CURLKHSTAT_FINE;
	sftp_fingerprint(found, fp, sizeof(fp));
	if (match == CURLKHMATCH_MISMATCH)
		snprintf(f->c.note, sizeof(f->c.note), "the server's host key CHANGED (it is now "
			 "%s, not the one in %s): another machine may be answering; if the server "
			 "was reinstalled, check that fingerprint on its console and update %s",
			 fp, f->known_hosts, f->known_hosts);
	else
		snprintf(f->c.note, sizeof(f->c.note), "unknown host key %s (not in %s): check "
			 "that fingerprint on the server ('ssh-keygen -lf /etc/ssh/ssh_host_*.pub') "
			 "and add the key with 'ssh-keyscan' to %s", fp, f->known_hosts,
			 f->known_hosts);
	return CURLKHSTAT_REJECT;
}

static char *sftp_default_key(void)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *home = getenv("HOME");
	size_t i;

	for (i = 0; home && i < ARRAY_SIZE(names); i++) {
		char *p = str_printf("%s/.ssh/%s", home, names[i]);
		if (p && access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static int sftp_auth(struct source *s, const char *user, const char *host)
{
	struct sftp *f = s->priv;
	char *keyfile = NULL, *secret = NULL, prompt[300];
	long types = 0;
	int r = cred_get(&key_file, &keyfile);

	if (r < 0 && r != -ENOENT)
		return r;
	if (!keyfile)
		keyfile = sftp_default_key();
	if (keyfile) {
		if (access(keyfile, R_OK) < 0) {
			r = err_set(-errno, "SSH key %s: %s: set MULETTO_SSH_KEY to a private key "
					    "file", keyfile, strerror(errno));
			free(keyfile);
			return r;
		}
		curl_easy_setopt(f->c.curl, CURLOPT_SSH_PRIVATE_KEYFILE, keyfile);
		free(keyfile);
		if (cred_get(&key_phrase, &secret) == 0)
			curl_easy_setopt(f->c.curl, CURLOPT_KEYPASSWD, secret);
		cred_free(secret);
		secret = NULL;
		types |= CURLSSH_AUTH_PUBLICKEY;
	}
	/* a password when one is given; asked for only when there is no key */
	snprintf(prompt, sizeof(prompt), "password for %s@%s", user, host);
	r = types ? cred_get(&key_pass, &secret) : cred_password(&key_pass, prompt, &secret);
	if (r < 0 && (r != -ENOENT || !types))
		return r;
	err_clear();
	if (secret) {
		curl_easy_setopt(f->c.curl, CURLOPT_PASSWORD, secret);
		types |= CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD;
		cred_free(secret);
	}
	curl_easy_setopt(f->c.curl, CURLOPT_SSH_AUTH_TYPES, types);
	return 0;
}

static int sftp_open(struct source *s)
{
	struct sftp *f = s->priv;
	const char *host = s->base + strlen("sftp://"), *at = strchr(host, '@');
	const char *slash = strchr(host, '/');
	_cleanup_free_ char *user = NULL, *hostname = NULL;
	char *home;
	int r;

	if (!at || (slash && slash < at) || at == host)
		return err_set(-EINVAL, "%s: use sftp://USER@HOST[:PORT]/PATH", s->url);
	if (memchr(host, ':', (size_t)(at - host)))
		return err_set(-EINVAL, "%s: a password in the URL is visible to every process; "
					"put password=... in muletto.conf (chmod 600) or "
					"MULETTO_PASSWORD in the environment", s->url);
	r = http_conn_init(&f->c, NULL, 0);
	if (r < 0)
		return r;
	user = curl_easy_unescape(f->c.curl, host, (int)(at - host), NULL);
	hostname = strndup(at + 1, slash ? (size_t)(slash - at - 1) : strlen(at + 1));
	if (!user || !hostname)
		return -ENOMEM;
	if (cred_get(&key_known, &f->known_hosts) == -ENOENT) {
		home = getenv("HOME");
		f->known_hosts = str_printf("%s/.ssh/known_hosts", home ? home : "");
	}
	err_clear();
	if (!f->known_hosts)
		return -ENOMEM;
	curl_easy_setopt(f->c.curl, CURLOPT_PROTOCOLS_STR, "sftp");
	curl_easy_setopt(f->c.curl, CURLOPT_USERNAME, user);
	curl_easy_setopt(f->c.curl, CURLOPT_SSH_KNOWNHOSTS, f->known_hosts);
	curl_easy_setopt(f->c.curl, CURLOPT_SSH_KEYFUNCTION, sftp_hostkey);
	curl_easy_setopt(f->c.curl, CURLOPT_SSH_KEYDATA, f);
	curl_easy_setopt(f->c.curl, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
	r = sftp_auth(s, user, hostname);
	return r < 0 ? r : http_source_base(s);
}

static void sftp_close(struct source *s)
{
	struct sftp *f = s->priv;

	http_conn_done(&f->c);
	free(f->known_hosts);
}

static int sftp_do(struct source *s, const char *rel, int dir, struct http_req *q)
{
	struct sftp *f = s->priv;
	_cleanup_free_ char *url = http_join_url(f->c.curl, s->base, rel, dir);

	if (!url)
		return -ENOMEM;
	return http_conn_do(&f->c, url, q);
}

static int sftp_get(struct source *s, const char *rel, void **ret_buf, size_t *ret_len)
{
	struct http_req q = { .method = HTTP_GET };

	return http_req_body(&q, sftp_do(s, rel, 0, &q), ret_buf, ret_len);
}

static int sftp_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	struct http_req q = { .method = HTTP_GET, .cb = cb, .ctx = ctx };

	return sftp_do(s, rel, 0, &q);
}

static int sftp_size(struct source *s, const char *rel, uint64_t *ret)
{
	struct sftp *f = s->priv;
	struct http_req q = { .method = HTTP_HEAD };
	curl_off_t len = -1;
	int r = sftp_do(s, rel, 0, &q);

	if (r < 0)
		return r;
	curl_easy_getinfo(f->c.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (len < 0)
		return err_set(-EIO, "%s/%s: the server does not say how large it is", s->url, rel);
	*ret = (uint64_t)len;
	return 0;
}

static int sftp_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	struct sftp *f = s->priv;
	struct http_req q = { .method = HTTP_GET };
	char **names = NULL, *line, *save = NULL, **nn;
	size_t n = 0;
	int r;

	curl_easy_setopt(f->c.curl, CURLOPT_DIRLISTONLY, 1L);
	r = sftp_do(s, dir, 1, &q);
	curl_easy_setopt(f->c.curl, CURLOPT_DIRLISTONLY, 0L);
	for (line = r == 0 && q.buf ? strtok_r(q.buf, "\r\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		if (!strcmp(line, ".") || !strcmp(line, ".."))
			continue;
		if (!(nn = realloc(names, (n + 1) * sizeof(*names))) || !(nn[n] = strdup(line))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	free(q.buf);
	if (r < 0) {
		source_free_names(names, n);
		return r;
	}
	*ret_names = names;
	*ret_n = n;
	return 0;
}

/* A directory answers a listing, a file its size. */
static int sftp_exists(struct source *s, const char *rel)
{
	uint64_t size;
	char **names = NULL;
	size_t n = 0;
	int r = sftp_size(s, rel, &size);

	if (r == -ENOENT || r == -EIO) {
		err_clear();
		r = sftp_list(s, rel, &names, &n);
		source_free_names(names, n);
	}
	if (r == -ENOENT) {
		err_clear();
		return 0;
	}
	return r < 0 ? r : 1;
}

/* The file's path on the server, for the rename that makes it appear whole. */
static char *sftp_server_path(struct source *s, const char *rel)
{
	struct sftp *f = s->priv;
	const char *p = strchr(s->base + strlen("sftp://"), '/');
	char *dec = curl_easy_unescape(f->c.curl, p ? p : "", 0, NULL), *out;

	if (!dec)
		return NULL;
	out = str_printf("%s/%s", dec, rel);
	curl_free(dec);
	return out;
}

static int sftp_put(struct source *s, const char *rel, const void *buf, size_t len)
{
	struct sftp *f = s->priv;
	_cleanup_free_ char *tmp = str_printf("%s.tmp-%d", rel, (int)getpid());
	_cleanup_free_ char *from = NULL, *to = NULL, *rm = NULL, *mv = NULL;
	struct http_req q = { .method = HTTP_PUT, .body = buf, .body_len = len };
	struct curl_slist *post = NULL;
	int r = -ENOMEM;

	if (!tmp || !(from = sftp_server_path(s, tmp)) || !(to = sftp_server_path(s, rel)) ||
	    !(rm = str_printf("*rm \"%s\"", to)) ||
	    !(mv = str_printf("rename \"%s\" \"%s\"", from, to)))
		return r;
	if (!(post = curl_slist_append(NULL, rm)) || !curl_slist_append(post, mv)) {
		curl_slist_free_all(post);
		return r;
	}
	curl_easy_setopt(f->c.curl, CURLOPT_POSTQUOTE, post);
	r = sftp_do(s, tmp, 0, &q);
	curl_easy_setopt(f->c.curl, CURLOPT_POSTQUOTE, NULL);
	curl_slist_free_all(post);
	free(q.buf);
	return r;
}

const struct source_ops source_sftp_ops = {
	.scheme = "sftp",
	.priv_size = sizeof(struct sftp),
	.open = sftp_open,
	.list = sftp_list,
	.get_object = sftp_get,
	.stream = sftp_stream,
	.put_object = sftp_put,
	.exists = sftp_exists,
	.size = sftp_size,
	.close = sftp_close,
};
