/* A repository on an NFS export: nfs://HOST[:PORT]/EXPORT/PATH, mounted by the
 * kernel's client: NFS 4.2, 4.1 or 4.0 first, then 3 (without locking; the
 * MOUNT service's port from MULETTO_NFS_MOUNTPORT or nfs_mountport= when the
 * server has no portmapper). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/store/netfs.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

static const struct cred_key key_mountport = { "MULETTO_NFS_MOUNTPORT", "nfs_mountport", 0 };

static const struct netfs_words nfs_words = {
	.refused = "the server refused this machine: check that the export allows its address",
	.missing = "no such export or folder on the server",
	.unreachable = "cannot connect: check the address and that the server exports over NFS",
	.protocol = "the server speaks no NFS version muletto knows (4.2, 4.1, 4.0, 3)",
};

static int nfs_open(struct source *s)
{
	const struct url *u = s->u;
	_cleanup_free_ char *dev = NULL, *data = NULL, *mport = NULL, *v3 = NULL;
	const char *versions[5] = { "vers=4.2", "vers=4.1", "vers=4.0,clientaddr=0.0.0.0" };
	char addr[80];
	int r;

	if (!u->host || !*u->host || u->user || !strcmp(u->path, "/"))
		return err_set(-EINVAL, "%s: use nfs://HOST[:PORT]/EXPORT/PATH", s->url);
	r = netfs_resolve(s, addr, sizeof(addr));
	if (r < 0)
		return r;
	r = cred_get(&key_mountport, &mport);
	if (r < 0 && r != -ENOENT)
		return r;
	err_clear();
	v3 = str_printf("vers=3,nolock,proto=tcp,mountproto=tcp,mountaddr=%s%s%s", addr,
			mport ? ",mountport=" : "", mport ? mport : "");
	dev = str_printf("%s%s%s:%s", strchr(u->host, ':') ? "[" : "", u->host,
			 strchr(u->host, ':') ? "]" : "", u->path);
	data = str_printf("addr=%s,port=%u,hard,timeo=100,retrans=3", addr,
			  u->port ? u->port : 2049);
	if (!v3 || !dev || !data)
		return -ENOMEM;
	versions[3] = v3;
	netfs_modprobe("nfs");
	netfs_modprobe("nfsv4");
	netfs_modprobe("nfsv3");
	return netfs_attach(s, "nfs", dev, data, versions, "", &nfs_words);
}

static const char *const nfs_schemes[] = { "nfs", NULL };

NETFS_BACKEND(nfs_ops, nfs_schemes, "nfs://HOST[:PORT]/EXPORT/PATH", nfs_open);
