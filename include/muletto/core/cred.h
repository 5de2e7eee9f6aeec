/* Settings and secrets for reaching a repository.
 *
 * Each setting has an environment name (AWS_SECRET_ACCESS_KEY, MULETTO_PASSWORD)
 * and a muletto.conf key (aws_secret_access_key=, password=); the environment
 * wins. muletto.conf is $MULETTO_CONF, else /run/muletto.conf (the boot
 * environment's), else /etc/muletto.conf. A secret is taken from a file only
 * when no other user can read it. Passwords can also be typed when the program
 * can ask (cred_set_asker: a terminal prompt, a screen), once per process;
 * every worker shares it. Secrets are never printed, logged or put in an
 * error message. */
#ifndef MULETTO_CRED_H
#define MULETTO_CRED_H

#include <stddef.h>

struct cred_key {
	const char *env;  /* environment variable, or NULL */
	const char *conf; /* muletto.conf key */
	int secret;	  /* needs a private muletto.conf, cleared from memory after use */
};

/* The setting into a new string: 0, or -ENOENT when it is not set anywhere
 * (no message), or another negative code with a message (an unreadable or
 * world-readable muletto.conf). */
int cred_get(const struct cred_key *k, char **ret);

/* How the program asks for a password it was not given: 0 with a new string
 * in *ret, or a negative code (it cannot ask, or nothing was typed). */
typedef int (*cred_ask_fn)(const char *prompt, char **ret, void *ctx);
void cred_set_asker(cred_ask_fn fn, void *ctx);

/* As cred_get, then asks (cred_set_asker) with prompt. -ENOENT with a message
 * naming where the secret can go when it cannot be had. */
int cred_password(const struct cred_key *k, const char *prompt, char **ret);

/* The muletto.conf this process reads: $MULETTO_CONF, else /run/muletto.conf
 * when it exists, else /etc/muletto.conf (which may not exist). */
const char *cred_conf_path(void);

/* When the muletto.conf was written for this process alone (its writer set
 * MULETTO_CONF_REMOVE=1 beside MULETTO_CONF, e.g. the screens' password for a
 * VM's run), removes it: call once the work that reads it is over. */
void cred_conf_done(void);

/* The value of the last "key=value" line for key in a muletto.conf's text
 * (NUL-terminated at len): 0 with a new string, or -ENOENT. */
#define CRED_CONF_MAX (1024 * 1024)
int cred_conf_parse(const char *text, size_t len, const char *key, char **ret);

/* Forgets every password typed so far: the next cred_password asks again
 * (a screen where a wrong password is typed anew). */
void cred_forget_typed(void);

/* Clears and frees a secret; accepts NULL. */
void cred_free(char *secret);

#endif
