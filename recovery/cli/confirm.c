/* The question before a target is overwritten: what is on it, and "yes". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/target.h"

/* Shows what is on the target and asks; 0 to go on. */
int cmd_confirm_target(void *ctx, const char *target, uint64_t need)
{
	const int *yes = ctx;
	struct disk_info info;
	char size[32], want[32], answer[32], s1[2 * DISK_STR], s2[2 * DISK_STR];
	int is_block = 0, exists = 0, r;
	size_t i;

	r = target_inspect(target, &info, &is_block, &exists);
	if (r < 0)
		return r;
	if (*yes || (!is_block && (!exists || info.size == 0))) {
		disk_info_clear(&info);
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		disk_info_clear(&info);
		return err_set(-EPERM, "refusing to overwrite %s without confirmation: run "
				       "on a terminal to be asked, or pass --yes", target);
	}
	human_size(info.size, size, sizeof(size));
	show_break();
	fprintf(stderr, "About to overwrite %s: %s", target,
		info.model[0] ? show_safe(info.model, s1, sizeof(s1))
			      : (is_block ? "unknown model" : "image file"));
	if (info.serial[0])
		fprintf(stderr, " (serial %s)", show_safe(info.serial, s1, sizeof(s1)));
	fprintf(stderr, ", %s%s%s\n", size, info.transport[0] ? ", " : "", info.transport);
	for (i = 0; i < info.nparts; i++) {
		const struct disk_part *p = &info.parts[i];
		human_size(p->size, size, sizeof(size));
		fprintf(stderr, "  partition %d  %-10s %-8s %s%s%s\n", p->number, size,
			p->fs[0] ? show_safe(p->fs, s1, sizeof(s1)) : "-", p->label[0] ? "\"" : "",
			show_safe(p->label, s2, sizeof(s2)), p->label[0] ? "\"" : "");
	}
	if (!info.nparts)
		fprintf(stderr, "  (no partitions found)\n");
	if (need) {
		human_size(need, want, sizeof(want));
		fprintf(stderr, "The image (%s) replaces everything on it. Type 'yes' to continue: ",
			want);
	} else {
		fprintf(stderr, "The image replaces everything on it. Type 'yes' to continue: ");
	}
	disk_info_clear(&info);
	if (!fgets(answer, sizeof(answer), stdin) || strcmp(answer, "yes\n"))
		return err_set(-ECANCELED, "not confirmed: %s was left unchanged", target);
	return 0;
}
