/* --snapshot's pieces that need no device-mapper: LVM's names read back from
 * device-mapper's (sysfs folders made here), and lvm_run with stand-ins for
 * lvm2's tools (scripts in a PATH of our own). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/disk/lvm.h"
#include "../../recovery/disk/snapshot_int.h"

static char top[] = "/tmp/muletto-unit-snapshot.XXXXXX";

static void write_file(const char *dir, const char *name, const char *text, int mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

/* A sysfs-like folder for one block device; dm NULL: not device-mapper. */
static const char *fake_dev(const char *name, const char *uuid, const char *dm)
{
	static char dir[512];
	char sub[600];

	snprintf(dir, sizeof(dir), "%s/%s", top, name);
	mkdir(dir, 0755);
	if (!uuid)
		return dir;
	snprintf(sub, sizeof(sub), "%s/dm", dir);
	mkdir(sub, 0755);
	write_file(sub, "uuid", uuid, 0644);
	write_file(sub, "name", dm, 0644);
	return dir;
}

#define LVM_UUID "LVM-72ymm6FAJbfAYX2EvoQctj8rMCRFCq51QZk9aP5vrxD9USsJPM0pARRMbpAll064"

static void test_dm_names(void)
{
	struct snapshot_lvid id;

	CHECK(snapshot_dm_lv(fake_dev("dm-0", LVM_UUID "\n", "my--vg-my--lv\n"), &id) == 1);
	CHECK(!strcmp(id.vg, "my-vg") && !strcmp(id.lv, "my-lv") && !id.layer);
	CHECK(!strcmp(id.dm, "my--vg-my--lv"));
	CHECK(snapshot_dm_lv(fake_dev("dm-1", LVM_UUID "-real\n", "vg-root-real\n"), &id) == 1);
	CHECK(!strcmp(id.vg, "vg") && !strcmp(id.lv, "root") && id.layer);
	CHECK(snapshot_dm_lv(fake_dev("dm-2", "CRYPT-LUKS2-0123-luks\n", "luks-0123\n"), &id) == 0);
	CHECK(!strcmp(id.dm, "luks-0123"));
	/* a name LVM could not have made (a volume named "-x") is not taken */
	CHECK(snapshot_dm_lv(fake_dev("dm-3", LVM_UUID "\n", "vg--\n"), &id) == 0);
	CHECK(snapshot_dm_lv(fake_dev("sda", NULL, NULL), &id) == -1);
}

static void test_run_output(void)
{
	const char *argv[] = { "lvs", "--noheadings", NULL };
	char out[64];

	/* standard input is /dev/null, the tool has a process group of its own,
	 * LC_ALL=C; standard output comes back, cut to the buffer */
	write_file(top, "lvs", "#!/bin/sh\n"
			       "read x; echo \"in=$x:$?\"\n"
			       "[ \"$(cut -d' ' -f5 /proc/$$/stat)\" = $$ ] && echo own-group\n"
			       "echo \"lc=$LC_ALL\"\n"
			       "head -c 100000 /dev/zero | tr '\\0' x\n",
		   0755);
	CHECK(lvm_run(argv, out, sizeof(out)) == 0);
	CHECK(!strncmp(out, "in=:1\nown-group\nlc=C\nxxx", strlen("in=:1\nown-group\nlc=C\nxxx")));
	CHECK(strlen(out) == sizeof(out) - 1);
}

#define SAID "lvcreate --snapshot vg/lv failed: Volume group \"vg\" has insufficient free " \
	     "space.; second line ?[31mred; yyy"

static void test_run_failure(void)
{
	const char *argv[] = { "lvcreate", "--snapshot", "vg/lv", NULL };
	const char *gone[] = { "lvnothere", NULL }, *killed[] = { "lvkilled", NULL };

	write_file(top, "lvcreate", "#!/bin/sh\n"
				    "echo '  Volume group \"vg\" has insufficient free space.' >&2\n"
				    "printf '  second\\tline \\033[31mred\\n' >&2\n"
				    "head -c 5000 /dev/zero | tr '\\0' y >&2\n"
				    "exit 5\n",
		   0755);
	CHECK(lvm_run(argv, NULL, 0) == -EIO);
	CHECK(!strncmp(err_msg(), SAID, strlen(SAID)));
	CHECK(strlen(err_msg()) < 500 && !strchr(err_msg(), '\n'));
	CHECK(!strcmp(err_msg() + strlen(err_msg()) - 3, "..."));
	CHECK(lvm_run(gone, NULL, 0) == -EOPNOTSUPP);
	CHECK(!strcmp(err_msg(), "--snapshot needs lvm2's lvnothere, which is not installed "
				 "(apt-get install lvm2)"));
	write_file(top, "lvkilled", "#!/bin/sh\nkill -9 $$\n", 0755);
	CHECK(lvm_run(killed, NULL, 0) == -EIO);
	CHECK(!strcmp(err_msg(), "lvkilled was killed by signal 9"));
}

int main(void)
{
	char cmd[600], path[600];

	if (!mkdtemp(top))
		return 1;
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", top); /* our stand-ins first */
	setenv("PATH", path, 1);
	RUN(test_dm_names);
	RUN(test_run_output);
	RUN(test_run_failure);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		return 1;
	CHECK_EXIT();
}
