/* One muletto per target: a restore (and later serve and run) holds the lock of
 * its target from before it opens it for writing until it closes it.
 *
 * A lock file per target in /run/muletto/locks, named after what the target is
 * rather than how it was named: a block device by its major:minor, a file by
 * the device and inode it lives at. /dev/sdb and /dev/disk/by-id/..., or a file
 * and a symbolic link to it, share one lock. The lock is an flock() on that
 * file, which the kernel drops when the process ends, so a lock file left by a
 * killed muletto is free; the holder's pid is written into it for the message
 * of the muletto it refuses. */
#ifndef MULETTO_LOCK_H
#define MULETTO_LOCK_H

#include <sys/stat.h>

#define LOCK_DIR "/run/muletto/locks"

struct lock;

/* Takes the lock of the target st describes (a stat() of path; path only names
 * it in messages), or refuses with -EBUSY: "refusing to write to PATH: another
 * muletto is writing it (pid N)". Where /run cannot hold a lock file (no /run,
 * read-only, not root) $XDG_RUNTIME_DIR/muletto/locks is tried; when neither
 * can, the error says so: a target is never written unlocked. */
int lock_target(const char *path, const struct stat *st, struct lock **ret);
/* Releases the lock and frees l (NULL is fine). */
void lock_release(struct lock *l);

#endif
