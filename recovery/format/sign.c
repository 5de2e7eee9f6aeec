/* Ed25519 signatures over manifests (OpenSSL libcrypto). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/hash.h"
#include "muletto/format/sign.h"
#include "muletto/core/util.h"

static int sign_fingerprint(EVP_PKEY *k, char out[SIGN_FINGERPRINT_SIZE])
{
	unsigned char raw[32];
	size_t n = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1)
		return err_set(-EINVAL, "cannot read the public key");
	return hash_sha256_hex(raw, n, out);
}

static int sign_load(const char *path, int private, EVP_PKEY **ret)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f)
		return err_set(-errno, "cannot read the %s key %s: %s", private ? "signing" :
			       "trusted", path, strerror(errno));
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return err_set(-EINVAL, "%s is not an Ed25519 %s key: make one with 'muletto "
					"keygen FILE'%s", path, private ? "private" : "public",
			       private ? "" : " and use FILE.pub");
	}
	*ret = k;
	return 0;
}

/* The key in path and its fingerprint. */
static int sign_load_key(const char *path, int private, EVP_PKEY **ret,
			 char fp[SIGN_FINGERPRINT_SIZE])
{
	EVP_PKEY *k = NULL;
	int r = sign_load(path, private, &k);

	if (r == 0 && (r = sign_fingerprint(k, fp)) < 0)
		EVP_PKEY_free(k);
	if (r == 0)
		*ret = k;
	return r;
}

static int sign_write_pem(const char *path, EVP_PKEY *k, int private)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private ? 0600 : 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int ok;

	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return err_set(-e, "cannot create %s: %s%s", path, strerror(e),
			       e == EEXIST ? " (a key is never overwritten: choose another name)" : "");
	}
	ok = private ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, k);
	if (fclose(f) != 0 || !ok)
		return err_set(-EIO, "cannot write %s", path);
	return 0;
}

int sign_keygen(const char *path, char fingerprint[SIGN_FINGERPRINT_SIZE])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	_cleanup_free_ char *pub = str_printf("%s.pub", path);
	EVP_PKEY *k = NULL;
	int r;

	if (!ctx || !pub || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return err_set(-ENOMEM, "cannot make an Ed25519 key");
	}
	EVP_PKEY_CTX_free(ctx);
	if (access(pub, F_OK) == 0)
		r = err_set(-EEXIST, "%s exists: a key is never overwritten, choose another name",
			    pub);
	else
		r = sign_write_pem(path, k, 1);
	if (r == 0) {
		r = sign_write_pem(pub, k, 0);
		if (r < 0)
			unlink(path);
	}
	if (r == 0)
		r = sign_fingerprint(k, fingerprint);
	EVP_PKEY_free(k);
	return r;
}

int sign_make(const char *keyfile, const void *buf, size_t len, char **ret_line)
{
	unsigned char sig[SIGN_BYTES], b64[2 * SIGN_BYTES];
	char fp[SIGN_FINGERPRINT_SIZE];
	size_t n = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *k = NULL;
	int r = sign_load_key(keyfile, 1, &k, fp);

	if (r < 0)
		return r;
	if ((!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1 ||
		       EVP_DigestSign(md, sig, &n, buf, len) != 1))
		r = err_set(-EINVAL, "cannot sign with %s", keyfile);
	if (r == 0) {
		EVP_EncodeBlock(b64, sig, (int)n);
		*ret_line = str_printf("ed25519 %s %s\n", fp, b64);
		if (!*ret_line)
			r = -ENOMEM;
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int sign_parse_line(const char *text, size_t len, struct sign_line *ret)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	enum { HEX = SIGN_FINGERPRINT_SIZE - 1, B64 = 4 * ((SIGN_BYTES + 2) / 3) };
	unsigned char raw[B64];
	size_t n = strnlen(text, len), i;
	const char *p = text;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n != 8 + HEX + 1 + B64 || strncmp(p, "ed25519 ", 8))
		return -EBADMSG;
	p += 8;
	for (i = 0; i < HEX; i++)
		if (!strchr("0123456789abcdef", p[i]) || !p[i])
			return -EBADMSG;
	if (p[HEX] != ' ')
		return -EBADMSG;
	memcpy(ret->key, p, HEX);
	ret->key[HEX] = 0;
	p += HEX + 1;
	/* 64 bytes are 86 characters and "==" */
	for (i = 0; i < B64; i++)
		if (!(i >= B64 - 2 ? p[i] == '=' : p[i] && strchr(b64, p[i])))
			return -EBADMSG;
	if (EVP_DecodeBlock(raw, (const unsigned char *)p, B64) != B64 / 4 * 3)
		return -EBADMSG;
	memcpy(ret->sig, raw, SIGN_BYTES);
	return 0;
}

int sign_check(const char *pubfile, const void *buf, size_t len, const char *line,
	       size_t line_len, const char *what)
{
	char fp[SIGN_FINGERPRINT_SIZE];
	struct sign_line sl;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *k = NULL;
	int r = sign_load_key(pubfile, 0, &k, fp);

	if (r < 0)
		return r;
	if (sign_parse_line(line, line_len, &sl) < 0) {
		r = err_set(-EBADMSG, "%s: the signature is unreadable; the image cannot be "
				      "trusted", what);
		goto out;
	}
	if (strcmp(sl.key, fp)) {
		r = err_set(-EBADMSG, "%s is signed by key %.16s…, not by the trusted key %.16s… "
				      "(%s): refusing it", what, sl.key, fp, pubfile);
		goto out;
	}
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestVerify(md, sl.sig, SIGN_BYTES, buf, len) != 1)
		r = err_set(-EBADMSG, "%s does not match its signature: it was changed after "
				      "it was signed; refusing it", what);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}
