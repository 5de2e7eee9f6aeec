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

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/store/http.h"
#include "muletto/store/listing.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

static const struct cred_key key_file = { "MULETTO_SSH_KEY", "ssh_key", 0 };
static const struct cred_key key_known = { "MULETTO_KNOWN_HOSTS", "known_hosts", 0 };
static const struct cred_key key_pass = { "MULETTO_PASSWORD", "password", 1 };
static const struct cred_key key_phrase = { "MULETTO_SSH_PASSPHRASE", "ssh_key_passphrase", 1 };

struct sftp {
	struct http_source h; /* first: the generic requests use it */
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
		snprintf(f->h.c.note, sizeof(f->h.c.note), "the server's host key CHANGED (it is now "
			 "%s, not the one in %s): another machine may be answering; if the server "
			 "was reinstalled, check that fingerprint on its console and update %s",
			 fp, f->known_hosts, f->known_hosts);
	else
		snprintf(f->h.c.note, sizeof(f->h.c.note), "unknown host key %s (not in %s): check "
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
		curl_easy_setopt(f->h.c.curl, CURLOPT_SSH_PRIVATE_KEYFILE, keyfile);
		free(keyfile);
		r = cred_get(&key_phrase, &secret);
		if (r < 0 && r != -ENOENT)
			return r;
		if (secret)
			curl_easy_setopt(f->h.c.curl, CURLOPT_KEYPASSWD, secret);
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
		curl_easy_setopt(f->h.c.curl, CURLOPT_PASSWORD, secret);
		types |= CURLSSH_AUTH_PASSWORD | CURLSSH_AUTH_KEYBOARD;
		cred_free(secret);
	}
	curl_easy_setopt(f->h.c.curl, CURLOPT_SSH_AUTH_TYPES, types);
	return 0;
}

static int sftp_open(struct source *s)
{
	struct sftp *f = s->priv;
	const struct url *u = s->u;
	_cleanup_free_ char *where = NULL;
	char *home;
	int r;

	if (!u->user || !*u->user || !u->host || !*u->host)
		return err_set(-EINVAL, "%s: use sftp://USER@HOST[:PORT]/PATH", s->url);
	f->h.do_req = http_source_do;
	r = http_conn_init(&f->h.c, NULL, 0);
	if (r < 0)
		return r;
	r = cred_get(&key_known, &f->known_hosts);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		home = getenv("HOME");
		f->known_hosts = str_printf("%s/.ssh/known_hosts", home ? home : "");
	}
	err_clear();
	if (!f->known_hosts)
		return -ENOMEM;
	curl_easy_setopt(f->h.c.curl, CURLOPT_PROTOCOLS_STR, "sftp");
	curl_easy_setopt(f->h.c.curl, CURLOPT_USERNAME, u->user);
	curl_easy_setopt(f->h.c.curl, CURLOPT_SSH_KNOWNHOSTS, f->known_hosts);
	curl_easy_setopt(f->h.c.curl, CURLOPT_SSH_KEYFUNCTION, sftp_hostkey);
	curl_easy_setopt(f->h.c.curl, CURLOPT_SSH_KEYDATA, f);
	curl_easy_setopt(f->h.c.curl, CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
	where = url_authority(u);
	return where ? sftp_auth(s, u->user, where) : -ENOMEM;
}

static void sftp_close(struct source *s)
{
	struct sftp *f = s->priv;

	http_source_close(s);
	free(f->known_hosts);
}

static int sftp_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	struct sftp *f = s->priv;
	int r;

	curl_easy_setopt(f->h.c.curl, CURLOPT_DIRLISTONLY, 1L);
	r = http_source_list(s, dir, listing_parse_lines, ret_names, ret_n);
	curl_easy_setopt(f->h.c.curl, CURLOPT_DIRLISTONLY, 0L);
	return r;
}

/* A directory answers a listing, a file its size. */
static int sftp_exists(struct source *s, const char *rel)
{
	uint64_t size;
	char **names = NULL;
	size_t n = 0;
	int r = http_source_size(s, rel, &size);

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

static int sftp_put(struct source *s, const char *rel, const void *buf, size_t len)
{
	struct sftp *f = s->priv;
	_cleanup_free_ char *tmp = str_printf("%s.tmp-%d", rel, (int)getpid());
	_cleanup_free_ char *from = NULL, *to = NULL, *rm = NULL, *mv = NULL;
	struct http_req q = { .method = HTTP_PUT, .body = buf, .body_len = len };
	struct curl_slist *post = NULL;
	int r = -ENOMEM;

	/* the paths on the server, for the rename that makes the file appear whole */
	if (!tmp || !(from = path_join(s->u->path, tmp)) || !(to = path_join(s->u->path, rel)) ||
	    !(rm = str_printf("*rm \"%s\"", to)) ||
	    !(mv = str_printf("rename \"%s\" \"%s\"", from, to)))
		return r;
	if (!(post = curl_slist_append(NULL, rm)) || !curl_slist_append(post, mv)) {
		curl_slist_free_all(post);
		return r;
	}
	curl_easy_setopt(f->h.c.curl, CURLOPT_POSTQUOTE, post);
	r = http_source_do(s, tmp, &q);
	curl_easy_setopt(f->h.c.curl, CURLOPT_POSTQUOTE, NULL);
	curl_slist_free_all(post);
	free(q.buf);
	return r;
}

/* Every put is whole once its rename is done. */
static int sftp_sync(struct source *s)
{
	(void)s;
	return 0;
}

static const char *const sftp_schemes[] = { "sftp", NULL };

SOURCE_BACKEND(sftp_ops) = {
	.schemes = sftp_schemes,
	.form = "sftp://USER@HOST[:PORT]/PATH",
	.caps = SOURCE_CAN_LIST | SOURCE_CAN_WRITE,
	.priv_size = sizeof(struct sftp),
	.open = sftp_open,
	.list = sftp_list,
	.get_object = http_source_get,
	.stream = http_source_stream,
	.put_object = sftp_put,
	.sync = sftp_sync,
	.exists = sftp_exists,
	.size = http_source_size,
	.close = sftp_close,
};
