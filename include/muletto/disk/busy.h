/* Who else uses a target: a loop device over a file, a process holding it open.
 *
 * Loop devices are matched by identity (LOOP_GET_STATUS64's device and inode of
 * the backing file, else the path in /sys/block/loopN/loop/backing_file), and
 * processes through /proc/<pid>/fd and fdinfo. What cannot be read (another
 * user's process, one that just ended) is skipped: these checks only explain
 * and refuse, they never fail a restore by themselves. */
#ifndef MULETTO_BUSY_H
#define MULETTO_BUSY_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* 1 when the file st describes backs a loop device, named in dev ("/dev/loop3");
 * 0 when none does. */
int busy_loop_backing(const struct stat *st, char *dev, size_t dev_size);
/* Calls fn with the name ("loop3") of each loop device the file st describes
 * backs, until fn returns nonzero; returns that, or 0. */
int busy_loops_of(const struct stat *st, int (*fn)(void *ctx, const char *loop), void *ctx);

struct busy_proc {
	pid_t pid;
	char comm[64];	 /* "dd" */
	char what[256];	 /* what it has open: the target, or a partition of it */
	int whole;	 /* 1: the target itself, 0: a partition of it */
};

/* A process other than this one that has open the file st describes, or the
 * block device (or one of its partitions); writers_only: opened for writing.
 * 1 and *ret filled when there is one, 0 when none. */
int busy_find_process(const struct stat *st, int writers_only, struct busy_proc *ret);

#endif
