/* A repository on an SMB share: smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH,
 * mounted by the kernel's CIFS client, SMB 3.1.1, 3.0 or 2.1 (never SMB1).
 * The password comes from MULETTO_PASSWORD, password= in muletto.conf or the
 * terminal, and goes to the kernel in the mount(2) options only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/store/netfs.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

static const struct cred_key key_password = { "MULETTO_PASSWORD", "password", 1 };
static const char *const smb_versions[] = { "vers=3.1.1", "vers=3.0", "vers=2.1", NULL };

static const struct netfs_words smb_words = {
	.refused = "the server refused the login: the user name, domain or password is wrong",
	.missing = "no such share or folder on the server: check the share name",
	.unreachable = "cannot connect: check the address and that the server shares files "
		       "over SMB",
	.protocol = "the server speaks neither SMB 3.1.1, 3.0 nor 2.1 (SMB1 is never used): "
		    "enable SMB2 or later on it",
};

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
	const struct url *u = s->u;
	const char *share = u->path + 1, *sub;
	_cleanup_free_ char *dev = NULL, *prompt = NULL, *esc = NULL, *sharename = NULL;
	_cleanup_free_ char *where = url_authority(u);
	char *password = NULL, *data = NULL, addr[80];
	int r;

	if (!where)
		return -ENOMEM;
	if (!u->user || !*u->user || !u->host || !*share)
		return err_set(-EINVAL, "%s: use smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH",
			       s->url);
	sub = share + strcspn(share, "/");
	if (!(sharename = strndup(share, (size_t)(sub - share))))
		return -ENOMEM;
	r = netfs_resolve(s, addr, sizeof(addr));
	if (r < 0)
		return r;
	prompt = str_printf("password for %s@%s", u->user, where);
	if (!prompt)
		return -ENOMEM;
	r = cred_password(&key_password, prompt, &password);
	if (r < 0)
		return r;
	esc = smb_escape(password);
	cred_free(password);
	dev = str_printf("//%s/%s", u->host, sharename);
	if (esc && dev)
		data = str_printf("ip=%s,port=%u,username=%s%s%s,password=%s,hard,noperm", addr,
				  u->port ? u->port : 445, u->user, u->domain ? ",domain=" : "",
				  u->domain ? u->domain : "", esc);
	if (esc)
		explicit_bzero(esc, strlen(esc));
	if (!data)
		return -ENOMEM;
	r = netfs_attach(s, "cifs", dev, data, smb_versions, sub, &smb_words);
	explicit_bzero(data, strlen(data));
	free(data);
	return r;
}

static const char *const smb_schemes[] = { "smb", NULL };

NETFS_BACKEND(smb_ops, smb_schemes, "smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH", smb_open);
