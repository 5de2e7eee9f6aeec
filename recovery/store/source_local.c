/* A repository on a local disk's file system, named by its label or UUID:
 * label://BACKUPS/path or uuid://1234-ABCD/path (a USB disk whose device name
 * is not known in advance). The tool finds it with libblkid and mounts it
 * itself, read-only unless capturing. */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/store/netfs.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

static const struct netfs_words local_words = {
	.busy = "the file system is busy or mounted in another way: unmount it first",
	.refused = "cannot mount the file system: check it with fsck, or mount it yourself "
		   "and give its path",
	.protocol = "cannot mount the file system: check it with fsck, or mount it yourself "
		    "and give its path",
};

static int local_open(struct source *s, const char *tag)
{
	const char *value = s->u->host;
	char *dev = NULL, *type = NULL;
	int r;

	if (!value || !*value)
		return err_set(-EINVAL, "%s: use %s", s->url, s->ops->form);
	dev = blkid_evaluate_tag(tag, value, NULL);
	if (!dev)
		return err_set(-ENOENT, "%s: no disk holds a file system with %s %s: plug it in, "
					"or see 'muletto disks'", s->url, tag, value);
	type = blkid_get_tag_value(NULL, "TYPE", dev);
	if (!type) {
		r = err_set(-EMEDIUMTYPE, "%s: %s holds no file system muletto can read", s->url,
			    dev);
	} else {
		debug_log("mount", "%s=%s is %s (%s)", tag, value, dev, type);
		r = netfs_attach(s, type, dev, "", NULL, s->u->path, &local_words);
	}
	free(dev);
	free(type);
	return r;
}

static int label_open(struct source *s)
{
	return local_open(s, "LABEL");
}

static int uuid_open(struct source *s)
{
	return local_open(s, "UUID");
}

static const char *const label_schemes[] = { "label", NULL };
static const char *const uuid_schemes[] = { "uuid", NULL };

NETFS_BACKEND(label_ops, label_schemes, "label://LABEL/PATH", label_open);
NETFS_BACKEND(uuid_ops, uuid_schemes, "uuid://UUID/PATH", uuid_open);
