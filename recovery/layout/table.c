/* The partition table of a plan, written with libfdisk (see table.h). */
#include <errno.h>
#include <libfdisk/libfdisk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/layout/table.h"

/* libfdisk's warnings and notes go to the debug log, never the terminal. */
static int table_ask(struct fdisk_context *cxt, struct fdisk_ask *ask, void *data)
{
	const char *msg = fdisk_ask_print_get_mesg(ask);

	(void)cxt;
	if (fdisk_is_ask(ask, INFO) || fdisk_is_ask(ask, WARN) || fdisk_is_ask(ask, WARNX)) {
		debug_log("table", "%s: libfdisk: %s", (const char *)data, msg ? msg : "");
		return 0;
	}
	return -EINVAL; /* no questions: everything is decided by the plan */
}

/* Partition p of the plan into the table. */
static int table_add(struct fdisk_context *cxt, struct fdisk_label *lb, const struct plan *pl,
		     const struct plan_part *p, int gpt, const char *path)
{
	const struct manifest_part *s = p->src;
	struct fdisk_partition *pa = fdisk_new_partition();
	struct fdisk_parttype *t = NULL;
	size_t no = (size_t)(s->number - 1);
	int r;

	if (!pa)
		return -ENOMEM;
	t = fdisk_label_parse_parttype(lb, s->type);
	r = fdisk_partition_set_partno(pa, no);
	if (r == 0)
		r = fdisk_partition_set_start(pa, p->new_start / pl->new_sector);
	if (r == 0)
		r = fdisk_partition_set_size(pa, p->new_size / pl->new_sector);
	if (r == 0) /* the plan's size, not rounded to libfdisk's grain: an image's
		     * partition may end where no grain does (sgdisk's last usable
		     * sector), and rounding would cut it or run past the disk */
		r = fdisk_partition_size_explicit(pa, 1);
	if (r == 0 && t)
		r = fdisk_partition_set_type(pa, t);
	if (r == 0 && gpt && s->name[0])
		r = fdisk_partition_set_name(pa, s->name);
	if (r == 0 && gpt && s->uuid[0])
		r = fdisk_partition_set_uuid(pa, s->uuid);
	if (r == 0)
		r = fdisk_add_partition(cxt, pa, NULL);
	if (r == 0 && gpt && s->attributes)
		r = fdisk_gpt_set_partition_attrs(cxt, no, s->attributes);
	if (r == 0 && !gpt && (s->attributes & 0x80))
		r = fdisk_toggle_partition_flag(cxt, no, DOS_FLAG_ACTIVE);
	fdisk_unref_partition(pa);
	fdisk_unref_parttype(t);
	if (r < 0)
		return err_set(r, "%s: cannot add partition %d (%s, at %llu, %llu bytes) to the new "
				  "table: %s", path, s->number, s->type,
			       (unsigned long long)p->new_start, (unsigned long long)p->new_size,
			       strerror(-r));
	return 0;
}

int layout_table_write(const struct plan *pl, const struct manifest_disk *d, int fd,
		       const char *path)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_label *lb;
	char id[MANIFEST_STR + 2];
	int gpt = !strcmp(d->pt_type, "gpt"), r, fd2 = dup(fd);
	size_t i;

	if (!cxt || fd2 < 0) {
		fdisk_unref_context(cxt);
		if (fd2 >= 0)
			close(fd2);
		return -ENOMEM;
	}
	fdisk_set_ask(cxt, table_ask, (void *)path);
	r = fdisk_assign_device_by_fd(cxt, fd2, path, 0);
	if (r < 0) {
		close(fd2);
		fdisk_unref_context(cxt);
		return err_set(r, "%s: cannot open it for its new partition table: %s", path,
			       strerror(-r));
	}
	fdisk_enable_wipe(cxt, 1);
	r = fdisk_create_disklabel(cxt, gpt ? "gpt" : "dos");
	if (r < 0) {
		r = err_set(r, "%s: cannot make a new %s partition table: %s", path,
			    gpt ? "GPT" : "MBR", strerror(-r));
		goto out;
	}
	/* libblkid says an MBR signature as "1234abcd", libfdisk reads "0x1234abcd" */
	snprintf(id, sizeof(id), "%s%s", gpt || !strncmp(d->pt_uuid, "0x", 2) ? "" : "0x", d->pt_uuid);
	if (d->pt_uuid[0] && (r = fdisk_set_disklabel_id_from_string(cxt, id)) < 0) {
		r = err_set(r, "%s: cannot give the new table the disk's identifier %s: %s", path,
			    d->pt_uuid, strerror(-r));
		goto out;
	}
	lb = fdisk_get_label(cxt, NULL);
	for (i = 0; i < pl->n && r == 0; i++)
		r = table_add(cxt, lb, pl, &pl->p[i], gpt, path);
	if (r == 0 && (r = fdisk_write_disklabel(cxt)) < 0)
		r = err_set(r, "%s: cannot write the new partition table: %s", path, strerror(-r));
out:
	if (fdisk_deassign_device(cxt, 0) < 0 && r == 0)
		debug_log("table", "%s: the kernel did not read the new table again", path);
	fdisk_unref_context(cxt);
	close(fd2); /* a descriptor given to libfdisk stays the caller's */
	return r;
}
