/* What each libcurl failure means: the message, naming the URL and the
 * certificate when TLS failed, and whether waiting may cure it. One table for
 * every libcurl source (web server, S3, SFTP). */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/http.h"
#include "http_int.h"

/* "sha256//BASE64" of the certificate's public key, as CURLOPT_PINNEDPUBLICKEY
 * takes it. */
static void http_cert_pin(const char *pem, char *out, size_t size)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32], b64[64];
	int len = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;

	out[0] = 0;
	if (len > 0 && EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL)) {
		EVP_EncodeBlock(b64, md, sizeof(md));
		snprintf(out, size, "sha256//%s", b64);
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
}

/* Looks at the server's certificate without trusting it (nothing is sent but
 * the TLS handshake) so that the message can say which certificate failed. */
static void http_describe_cert(const char *url, char *out, size_t size)
{
	CURL *p = curl_easy_init();
	struct curl_certinfo *ci = NULL;
	const char *subject = "?", *issuer = "?", *until = "?", *pem = NULL;
	struct curl_slist *l;
	char pin[80] = "";

	out[0] = 0;
	if (!p)
		return;
	curl_easy_setopt(p, CURLOPT_URL, url);
	curl_easy_setopt(p, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(p, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(p, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(p, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(p, CURLOPT_CERTINFO, 1L);
	if (curl_easy_perform(p) == CURLE_OK &&
	    curl_easy_getinfo(p, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0) {
		for (l = ci->certinfo[0]; l; l = l->next) {
			if (!strncmp(l->data, "Subject:", 8))
				subject = l->data + 8;
			else if (!strncmp(l->data, "Issuer:", 7))
				issuer = l->data + 7;
			else if (!strncmp(l->data, "Expire date:", 12))
				until = l->data + 12;
			else if (!strncmp(l->data, "Cert:", 5))
				pem = l->data + 5;
		}
		if (pem)
			http_cert_pin(pem, pin, sizeof(pin));
		snprintf(out, size, "the server's certificate (subject %s, issued by %s, valid "
				    "until %s, key %s)", subject, issuer, until, pin[0] ? pin : "?");
	}
	curl_easy_cleanup(p);
}

static int http_tls_error(const char *url, CURLcode code, const char *why)
{
	char cert[1024];

	http_describe_cert(url, cert, sizeof(cert));
	if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return err_set(-EPROTO, "%s: TLS failed: %s is not the pinned key (MULETTO_PIN or "
					"pin= in muletto.conf): a different server answers; "
					"if the server's key was changed on purpose, pin the new one",
			       url, cert[0] ? cert : "the server's key");
	return err_set(-EPROTO, "%s: TLS failed: %s%s%s; a private certificate authority goes "
				"in MULETTO_CA_BUNDLE=FILE or ca_bundle= in muletto.conf",
		       url, cert[0] ? cert : "", cert[0] ? ": " : "", why);
}

int http_status_error(const char *url, long status)
{
	if (status == 404 || status == 410)
		return err_set(-ENOENT, "%s: not found (HTTP %ld)", url, status);
	if (status == 401)
		return err_set(-EACCES, "%s: authentication failed (HTTP 401): the user name, "
					"password or token is wrong or missing", url);
	if (status == 403)
		return err_set(-EACCES, "%s: access denied (HTTP 403): this user may not read it; "
					"check the credentials and the server's permissions", url);
	if (status >= 500)
		return err_set(-EIO, "%s: server error (HTTP %ld): the server failed; try again "
				     "or check its logs", url, status);
	return err_set(-EIO, "%s: unexpected answer (HTTP %ld)", url, status);
}

/* What each libcurl failure means for a restore: the code callers see, whether
 * waiting cures it (retried for up to MULETTO_RETRY_SECONDS), and what to say.
 * One table for every libcurl source (web server, S3, SFTP). */
enum http_say { SAY_PLAIN, SAY_DROPPED, SAY_TLS };
#define HTTP_RETRY_SFTP 2 /* retry: for sftp:// only */
static const struct http_fault {
	CURLcode code;
	int err;
	int retry;
	enum http_say say;
	const char *what, *advice; /* "URL: what (libcurl's reason): advice" */
} http_faults[] = {
	/* the object is not there: asking again will not make it appear */
	{ CURLE_REMOTE_FILE_NOT_FOUND, -ENOENT, 0, SAY_PLAIN, "not found", NULL },
	/* a wrong key or password stays wrong */
	{ CURLE_LOGIN_DENIED, -EACCES, 0, SAY_PLAIN, "authentication failed",
	  "the user name, key or password is wrong or missing" },
	{ CURLE_REMOTE_ACCESS_DENIED, -EACCES, 0, SAY_PLAIN, "access denied",
	  "this user may not read it" },
	/* a name the DNS does not know: a typo far more often than an outage */
	{ CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH, 0, SAY_PLAIN, "cannot resolve the host name",
	  "check the name and the DNS server" },
	/* refused or unreachable: the server is restarting or the link is down
	 * (retried only once the server has answered: see http_ever_ok) */
	{ CURLE_COULDNT_CONNECT, -ECONNREFUSED, 1, SAY_PLAIN, "cannot connect",
	  "check the address and that the server is running" },
	/* no progress for too long: a stalled link or server */
	{ CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT, 1, SAY_PLAIN, "timed out", "check the network" },
	/* the connection broke in the middle: resumed where it stopped */
	{ CURLE_PARTIAL_FILE, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_RECV_ERROR, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_SEND_ERROR, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_GOT_NOTHING, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_HTTP2, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_HTTP2_STREAM, -EIO, 1, SAY_DROPPED, NULL, NULL },
	/* SFTP: the SSH session broke (sshd restarting, the link went down) */
	{ CURLE_SSH, -EIO, 1, SAY_PLAIN, "the SSH session failed", NULL },
	/* SFTP: the connection broke while SSH or SFTP was starting (libcurl's
	 * code for it); once the server has answered, that is a restart. Over
	 * HTTP the same code is a local set-up fault: retried for SFTP only. */
	{ CURLE_FAILED_INIT, -EIO, HTTP_RETRY_SFTP, SAY_PLAIN, "the SSH session could not start",
	  NULL },
	/* a certificate does not become trusted by waiting */
	{ CURLE_SSL_CONNECT_ERROR, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_PEER_FAILED_VERIFICATION, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_SSL_CACERT_BADFILE, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, -EPROTO, 0, SAY_TLS, NULL, NULL },
};

static const struct http_fault *http_fault_of(CURLcode code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(http_faults); i++)
		if (http_faults[i].code == code)
			return &http_faults[i];
	return NULL;
}

int http_curl_error(struct http_conn *c, const char *url, CURLcode code,
			   struct http_req *q)
{
	const struct http_fault *f = http_fault_of(code);
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);

	if (c->note[0])
		return err_set(code == CURLE_PEER_FAILED_VERIFICATION ? -EPROTO : -EIO, "%s: %s",
			       url, c->note);
	if (!f)
		return err_set(-EIO, "%s: %s", url, why);
	if (f->say == SAY_TLS)
		return http_tls_error(url, code, why);
	if (f->say == SAY_DROPPED) {
		if (q->total)
			return err_set(f->err, "%s: connection dropped after %zu of %llu bytes (%s): "
					       "check the network and the server, then run the same "
					       "command again", url, q->len,
				       (unsigned long long)q->total, why);
		return err_set(f->err, "%s: connection dropped (%s): check the network and the "
				       "server, then run the same command again", url, why);
	}
	return err_set(f->err, "%s: %s (%s)%s%s", url, f->what, why, f->advice ? ": " : "",
		       f->advice ? f->advice : "");
}

/* Faults that a server coming back or a link recovering cures. */
int http_retriable(const char *url, CURLcode code, long status)
{
	const struct http_fault *f;

	if (code == CURLE_OK || code == CURLE_HTTP_RETURNED_ERROR)
		return status >= 500 || status == 408 || status == 429;
	f = http_fault_of(code);
	if (f && f->retry == HTTP_RETRY_SFTP)
		return !strncasecmp(url, "sftp:", 5);
	return f && f->retry;
}

int http_too_large(const char *url, const struct http_req *q)
{
	return err_set(-EFBIG, "%s: the server sends more than %zu bytes, the most this can be: "
			       "it is broken, or not serving a muletto repository", url, q->max);
}

int http_stalled(const char *url, const struct http_req *q)
{
	int w = stall_window_seconds();

	return err_set(-ETIMEDOUT, "%s: too slow: %llu bytes in the last %d s, less than %llu "
				   "bytes a second (MULETTO_MIN_RATE over MULETTO_STALL_SECONDS): "
				   "check the network and the server", url,
		       (unsigned long long)q->stall_moved, w,
		       (unsigned long long)min_rate_bytes());
}
