/* Signed images: Ed25519 over the manifest's exact bytes. The manifest pins
 * the SHA-256 of every index and each index pins its chunks' hashes, so one
 * signature covers the whole image. The signature lives next to the manifest
 * as manifest.json.sig, one line:
 *     ed25519 <SHA-256 of the public key, hex> <signature, base64>
 * Keys are PEM files (private: PKCS#8, mode 600; public: KEY.pub). */
#ifndef MULETTO_SIGN_H
#define MULETTO_SIGN_H

#include <stddef.h>

#define SIGN_FINGERPRINT_SIZE 65
#define SIGN_BYTES 64
/* The most bytes a signature file may take. */
#define SIGN_FILE_MAX 4096

/* A signature line, read: the signing key's fingerprint and the signature. */
struct sign_line {
	char key[SIGN_FINGERPRINT_SIZE]; /* SHA-256 of the public key, hex */
	unsigned char sig[SIGN_BYTES];
};

/* Parses "ed25519 <64 hex> <88 base64>" (NUL-terminated at len, a newline
 * after it allowed); -EBADMSG (no message) for anything else. */
int sign_parse_line(const char *text, size_t len, struct sign_line *ret);

/* Creates a key pair: path (private, never overwritten) and path.pub. */
int sign_keygen(const char *path, char fingerprint[SIGN_FINGERPRINT_SIZE]);

/* The signature line for buf, with the private key in keyfile (new string). */
int sign_make(const char *keyfile, const void *buf, size_t len, char **ret_line);

/* 0 when line is a signature of buf by the public key in pubfile; -EBADMSG
 * (with a message naming what) when not: another key, changed bytes, or an
 * unreadable line. what names the signed thing in messages. */
int sign_check(const char *pubfile, const void *buf, size_t len, const char *line,
	       size_t line_len, const char *what);

#endif
