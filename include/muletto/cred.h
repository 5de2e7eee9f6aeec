/* Settings and secrets for reaching a repository.
 *
 * Each setting has an environment name (AWS_SECRET_ACCESS_KEY, MULETTO_PASSWORD)
 * and a muletto.conf key (aws_secret_access_key=, password=); the environment
 * wins. muletto.conf is $MULETTO_CONF, else /run/muletto.conf (the boot
 * environment's), else /etc/muletto.conf. A secret is taken from a file only
 * when no other user can read it. Passwords can also be typed at a prompt on
 * the terminal (once per process; every worker shares it). Secrets are never
 * printed, logged or put in an error message. */
#ifndef MULETTO_CRED_H
#define MULETTO_CRED_H

struct cred_key {
	const char *env;  /* environment variable, or NULL */
	const char *conf; /* muletto.conf key */
	int secret;	  /* needs a private muletto.conf, cleared from memory after use */
};

/* The setting into a new string: 0, or -ENOENT when it is not set anywhere
 * (no message), or another negative code with a message (an unreadable or
 * world-readable muletto.conf). */
int cred_get(const struct cred_key *k, char **ret);

/* As cred_get, then asks on the terminal ("prompt: ", not echoed) when stdin
 * is one. -ENOENT with a message naming where the secret can go otherwise. */
int cred_password(const struct cred_key *k, const char *prompt, char **ret);

/* Clears and frees a secret; accepts NULL. */
void cred_free(char *secret);

#endif
