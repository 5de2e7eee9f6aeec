/* A repository on a local disk's file system, named by its label or UUID:
 * label://BACKUPS/path or uuid://1234-ABCD/path (a USB disk whose device name
 * is not known in advance). The tool finds it with libblkid and mounts it
 * itself, read-only unless capturing. */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/err.h"
#include "muletto/netfs.h"
#include "muletto/source.h"
#include "muletto/util.h"

static int local_explain(struct source *s, int e, const char *version)
{
	(void)version;
	if (e == EBUSY)
		return err_set(-EBUSY, "%s: the file system is busy or mounted in another way: "
				       "unmount it first", s->url);
	return err_set(-e, "%s: cannot mount the file system (%s): check it with fsck, or "
			   "mount it yourself and give its path", s->url, strerror(e));
}

static int local_open(struct source *s, const char *tag)
{
	const char *p = strstr(s->base, "://") + 3, *slash = strchr(p, '/');
	_cleanup_free_ char *value = slash ? strndup(p, (size_t)(slash - p)) : strdup(p);
	char *dev = NULL, *type = NULL;
	int r;

	if (!value)
		return -ENOMEM;
	if (!*value)
		return err_set(-EINVAL, "%s: use %s://%s/PATH", s->url, !strcmp(tag, "LABEL") ?
			       "label" : "uuid", !strcmp(tag, "LABEL") ? "LABEL" : "UUID");
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
		r = netfs_attach(s, type, dev, "", NULL, slash ? slash : "", local_explain);
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

NETFS_SOURCE_OPS(source_label_ops, "label", label_open);
NETFS_SOURCE_OPS(source_uuid_ops, "uuid", uuid_open);
