/* What a snapshot needs from the system: the dmsetup tool and device-mapper in
 * the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "muletto/disk/snapshot.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

/* An executable named prog in PATH, /usr/sbin or /sbin (root's tools are not
 * always in a service's PATH). */
static int have_program(const char *prog)
{
	const char *path = getenv("PATH");
	char list[2048], file[2300], *dir, *save = NULL;

	snprintf(list, sizeof(list), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(list, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", dir, prog);
		if (access(file, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* device-mapper built as a module that is not loaded yet (modprobe dm_mod). */
static int have_dm_module(void)
{
	static const char *const ext[] = { "", ".xz", ".zst", ".gz" };
	char file[512];
	struct utsname u;
	size_t i;

	if (uname(&u) < 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		snprintf(file, sizeof(file), "/lib/modules/%.200s/kernel/drivers/md/dm-mod.ko%s",
			 u.release, ext[i]);
		if (access(file, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* The kernel lists device-mapper's control device in /proc/misc once it is
 * there (a /dev/mapper/control node alone proves nothing: udev or a package
 * script may have made it for a kernel without device-mapper). */
static int have_device_mapper(void)
{
	char line[256];
	FILE *f;
	int found;

	if (have_dm_module())
		return 1;
	f = fopen("/proc/misc", "re");
	if (!f)
		return 0;
	for (found = 0; !found && fgets(line, sizeof(line), f);)
		found = strstr(line, " device-mapper") != NULL;
	fclose(f);
	return found;
}

int snapshot_available(void)
{
	if (!have_program("dmsetup"))
		return err_set(-EOPNOTSUPP, "--snapshot is not available on this system: it "
					    "needs device-mapper's dmsetup, which is not installed "
					    "(apt-get install dmsetup)");
	if (!have_device_mapper())
		return err_set(-EOPNOTSUPP, "--snapshot is not available on this system: the "
					    "kernel has no device-mapper (not in /proc/misc, no "
					    "dm-mod module)");
	return 0;
}
