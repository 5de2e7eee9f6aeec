/* A repository on an NFS export: nfs://HOST[:PORT]/EXPORT/PATH, mounted by the
 * kernel's client: NFS 4.2, 4.1 or 4.0 first, then 3 (without locking; the
 * MOUNT service's port from MULETTO_NFS_MOUNTPORT or nfs_mountport= when the
 * server has no portmapper). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/netfs.h"
#include "muletto/source.h"
#include "muletto/util.h"

static const struct cred_key key_mountport = { "MULETTO_NFS_MOUNTPORT", "nfs_mountport", 0 };

static int nfs_explain(struct source *s, int e, const char *version)
{
	switch (e) {
	case EACCES:
	case EPERM:
		return err_set(-EACCES, "%s: the server refused this machine (%s): check that the "
					"export allows its address", s->url, strerror(e));
	case ENOENT:
		return err_set(-ENOENT, "%s: no such export or folder on the server (%s)", s->url,
			       strerror(e));
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ETIMEDOUT:
	case ENETUNREACH:
	case EIO:
		return err_set(-ECONNREFUSED, "%s: cannot connect (%s): check the address and that "
					      "the server exports over NFS", s->url, strerror(e));
	default:
		return err_set(-e, "%s: cannot mount the export (last tried %s: %s)", s->url,
			       version, strerror(e));
	}
}

static int nfs_open(struct source *s)
{
	const char *p = s->base + strlen("nfs://"), *slash = strchr(p, '/');
	_cleanup_free_ char *host = NULL, *dev = NULL, *data = NULL, *mport = NULL, *v3 = NULL;
	const char *versions[5] = { "vers=4.2", "vers=4.1", "vers=4.0,clientaddr=0.0.0.0" };
	char addr[64];
	long port = 2049;
	int r;

	if (!slash || slash == p || strchr(p, '@'))
		return err_set(-EINVAL, "%s: use nfs://HOST[:PORT]/EXPORT/PATH", s->url);
	host = strndup(p, (size_t)(slash - p));
	if (!host)
		return -ENOMEM;
	if (host[0] != '[' && strchr(host, ':')) {
		port = strtol(strchr(host, ':') + 1, NULL, 10);
		*strchr(host, ':') = 0;
	}
	r = netfs_resolve(s->url, host, addr, sizeof(addr));
	if (r < 0)
		return r;
	if (cred_get(&key_mountport, &mport) < 0)
		err_clear();
	v3 = str_printf("vers=3,nolock,proto=tcp,mountproto=tcp,mountaddr=%s%s%s", addr,
			mport ? ",mountport=" : "", mport ? mport : "");
	dev = str_printf("%s:%s", host, slash);
	data = str_printf("addr=%s,port=%ld,hard,timeo=100,retrans=3", addr, port);
	if (!v3 || !dev || !data)
		return -ENOMEM;
	versions[3] = v3;
	netfs_modprobe("nfs");
	netfs_modprobe("nfsv4");
	netfs_modprobe("nfsv3");
	return netfs_attach(s, "nfs", dev, data, versions, "", nfs_explain);
}

NETFS_SOURCE_OPS(source_nfs_ops, "nfs", nfs_open);
