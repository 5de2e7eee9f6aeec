/* A partition that continues in a file, while its file system is shrunk.
 *
 * Onto a smaller disk, a partition's bytes cannot all land in its new, smaller
 * place before its file system has been shrunk, and shrinking needs them all.
 * So the first head bytes go to the target at their new place and the rest to
 * a sparse overflow file (room for the data that lies there, not for the
 * zeros). Then the two are joined into one file through FUSE, the file
 * system's own tools shrink it there (moving what lies beyond the new end into
 * the head), the file system's end is checked to be within the head, and the
 * overflow is dropped. Nothing is cut: if the shrink fails or leaves anything
 * beyond the head, the restore fails and says so. */
#ifndef MULETTO_DISK_OVERFLOW_H
#define MULETTO_DISK_OVERFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/disk/dio.h"

struct overflow;

/* A sparse overflow file of size bytes, in $MULETTO_TMPDIR, $TMPDIR or /tmp,
 * refused (with the numbers) when that folder has less than data bytes free.
 * *io writes to it. */
int overflow_new(uint64_t size, uint64_t data, const char *what, struct overflow **ret);
const struct dio *overflow_io(const struct overflow *o);
/* The overflow file's path (its bytes as written, from offset 0). */
const char *overflow_path(const struct overflow *o);
/* One file: [0, head) of target_fd from off, then the overflow. Its path in
 * path (a FUSE mount of a private folder) until overflow_unjoin(). */
int overflow_join(struct overflow *o, int target_fd, uint64_t off, uint64_t head, char *path,
		  size_t path_size);
int overflow_unjoin(struct overflow *o);
/* Unjoins if needed, removes the overflow file. */
void overflow_free(struct overflow *o);

#endif
