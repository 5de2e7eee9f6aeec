/* capture --snapshot: every source's LVM snapshot taken before the first byte
 * is read, checked after the last (a snapshot that overflowed was dropped by
 * the kernel mid-read), removed at the end whatever happened. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/snapshot.h"
#include "muletto/engine/capture.h"

int capture_snapshots_take(const struct capture_request *q, struct snapshot **ret)
{
	struct snapshot *s = calloc((size_t)q->ndevs, sizeof(*s));
	char name[SNAPSHOT_NAME_MAX], size[32];
	int i, r = s ? 0 : -ENOMEM;

	for (i = 0; i < q->ndevs && r == 0; i++) {
		if (i)
			snprintf(name, sizeof(name), "muletto-snap-%d-%d", (int)getpid(), i);
		else
			snprintf(name, sizeof(name), "muletto-snap-%d", (int)getpid());
		r = snapshot_create(q->devs[i], name, q->o.snapshot_size, q->o.snapshot_percent,
				    &s[i]);
		if (r == 0 && q->o.stop && *q->o.stop)
			r = err_set(-EINTR, "interrupted while taking the snapshots: no image was "
					    "stored");
		if (r == 0) {
			human_size(s[i].size, size, sizeof(size));
			event_notice("capturing %s from its snapshot %s/%s (%s), removed afterwards",
				     s[i].origin, s[i].vg, s[i].name, size);
		}
	}
	if (r < 0)
		return capture_snapshots_remove(q, s, r);
	*ret = s;
	return 0;
}

int capture_snapshots_check(const struct capture_request *q, struct snapshot *s, int r)
{
	char msg[ERR_MSG_MAX];
	int i, c, lost = 0;

	str_copy(msg, sizeof(msg), r < 0 ? err_msg() : "");
	for (i = 0; i < q->ndevs; i++) {
		c = snapshot_check(&s[i]);
		if (c == -ENOSPC)
			return c; /* the cause of a read error, if any; the image is torn anyway */
		if (c < 0 && r == 0)
			return c;
		lost |= c < 0;
	}
	if (lost) /* the read error stays the news */
		err_set(r, "%s", msg);
	return r;
}

int capture_snapshots_remove(const struct capture_request *q, struct snapshot *s, int r)
{
	char msg[ERR_MSG_MAX];
	int i, lost = 0;

	if (!s)
		return r;
	str_copy(msg, sizeof(msg), r < 0 ? err_msg() : "");
	for (i = 0; i < q->ndevs; i++) {
		if (snapshot_remove(&s[i]) < 0) {
			event_notice("%s", err_msg());
			lost = 1;
		}
	}
	free(s);
	if (lost && r < 0)
		err_set(r, "%s", msg);
	return r;
}
