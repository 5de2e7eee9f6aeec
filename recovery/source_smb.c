/* A repository on an SMB share: smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH,
 * mounted by the kernel's CIFS client, SMB 3.1.1, 3.0 or 2.1 (never SMB1).
 * The password comes from MULETTO_PASSWORD, password= in muletto.conf or the
 * terminal, and goes to the kernel in the mount(2) options only. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/netfs.h"
#include "muletto/source.h"
#include "muletto/util.h"

static const struct cred_key key_password = { "MULETTO_PASSWORD", "password", 1 };
static const char *const smb_versions[] = { "vers=3.1.1", "vers=3.0", "vers=2.1", NULL };

static int smb_explain(struct source *s, int e, const char *version)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EKEYREJECTED:
		return err_set(-EACCES, "%s: the server refused the login (%s): the user name, "
					"domain or password is wrong", s->url, strerror(e));
	case ENOENT:
	case ENXIO:
		return err_set(-ENOENT, "%s: no such share or folder on the server: check the "
					"share name", s->url);
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ETIMEDOUT:
	case ENETUNREACH:
	case EHOSTDOWN:
		return err_set(-ECONNREFUSED, "%s: cannot connect (%s): check the address and that "
					      "the server shares files over SMB", s->url, strerror(e));
	case EOPNOTSUPP:
	case EPROTONOSUPPORT:
	case EINVAL:
		return err_set(-EPROTONOSUPPORT, "%s: the server speaks neither SMB 3.1.1, 3.0 nor "
						 "2.1 (%s; SMB1 is never used): enable SMB2 or "
						 "later on it", s->url, strerror(e));
	default:
		return err_set(-e, "%s: cannot mount the share (%s, %s)", s->url, version,
			       strerror(e));
	}
}

/* "a,b" -> "a,,b": the CIFS option parser's escape for commas in a password. */
static char *smb_escape(const char *v)
{
	size_t n = strlen(v), i, k = 0;
	char *out = malloc(2 * n + 1);

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		out[k++] = v[i];
		if (v[i] == ',')
			out[k++] = ',';
	}
	out[k] = 0;
	return out;
}

static int smb_open(struct source *s)
{
	const char *p = s->base + strlen("smb://"), *at = strchr(p, '@'), *hp, *slash, *semi;
	_cleanup_free_ char *user = NULL, *domain = NULL, *host = NULL, *share = NULL;
	_cleanup_free_ char *dev = NULL, *prompt = NULL, *esc = NULL;
	char *password = NULL, *data = NULL, addr[64];
	long port = 445;
	int r;

	slash = strchr(p, '/');
	if (!at || (slash && slash < at) || at == p || !slash || !slash[1])
		return err_set(-EINVAL, "%s: use smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH",
			       s->url);
	if (memchr(p, ':', (size_t)(at - p)))
		return err_set(-EINVAL, "%s: a password in the URL is visible to every process; "
					"put password=... in muletto.conf (chmod 600) or "
					"MULETTO_PASSWORD in the environment", s->url);
	semi = memchr(p, ';', (size_t)(at - p));
	domain = semi ? curl_unescape(p, (int)(semi - p)) : NULL;
	user = curl_unescape(semi ? semi + 1 : p, (int)(at - (semi ? semi + 1 : p)));
	hp = at + 1;
	host = strndup(hp, (size_t)(slash - hp));
	if (!user || !host || (semi && !domain))
		return -ENOMEM;
	if (host[0] != '[' && strchr(host, ':')) {
		port = strtol(strchr(host, ':') + 1, NULL, 10);
		*strchr(host, ':') = 0;
	}
	share = strndup(slash + 1, strcspn(slash + 1, "/"));
	if (!share)
		return -ENOMEM;
	r = netfs_resolve(s->url, host, addr, sizeof(addr));
	if (r < 0)
		return r;
	prompt = str_printf("password for %s@%s", user, host);
	if (!prompt)
		return -ENOMEM;
	r = cred_password(&key_password, prompt, &password);
	if (r < 0)
		return r;
	esc = smb_escape(password);
	cred_free(password);
	dev = str_printf("//%s/%s", host, share);
	if (esc && dev)
		data = str_printf("ip=%s,port=%ld,username=%s%s%s,password=%s,hard,noperm", addr,
				  port, user, domain ? ",domain=" : "", domain ? domain : "", esc);
	if (esc)
		explicit_bzero(esc, strlen(esc));
	if (!data)
		return -ENOMEM;
	r = netfs_attach(s, "cifs", dev, data, smb_versions, slash + 1 + strlen(share),
			 smb_explain);
	explicit_bzero(data, strlen(data));
	free(data);
	return r;
}

NETFS_SOURCE_OPS(source_smb_ops, "smb", smb_open);
