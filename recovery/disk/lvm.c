/* lvm2's tools, run through core/spawn (see lvm.h). */
#include <errno.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/disk/lvm.h"

int lvm_tools_check(void)
{
	static const char *const tools[] = { "lvcreate", "lvremove", "lvs" };
	char file[2300];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (!spawn_find(tools[i], file, sizeof(file)))
			return err_set(-EOPNOTSUPP, "--snapshot needs lvm2's %s, which is not "
						    "installed (apt-get install lvm2)", tools[i]);
	return 0;
}

int lvm_run(const char *const argv[], char *out, size_t out_size)
{
	int r = spawn_run(argv, out, out_size);

	if (r == -ENOENT)
		return err_set(-EOPNOTSUPP, "--snapshot needs lvm2's %s, which is not installed "
					    "(apt-get install lvm2)", argv[0]);
	return r;
}
