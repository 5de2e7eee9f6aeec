/* Seeding: compare what a local copy holds at a chunk's place with its id. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/disk/seed.h"
#include "muletto/core/util.h"

int seed_match(const struct dio *io, uint64_t off, size_t len, enum hash_kind kind,
	       const struct chunk_id *id, int zero_id, void *buf)
{
	struct chunk_id got;
	size_t n = 0;
	int r;

	r = dio_pread(io, buf, len, off, &n);
	if (r < 0)
		return r;
	if (n != len)
		return 0;
	/* A blank region: cheap to recognise, and never a match for data. */
	if (buf_is_zero(buf, len))
		return zero_id;
	if (zero_id)
		return 0;
	r = hash_buf(kind, buf, len, &got);
	if (r < 0)
		return r;
	return chunk_id_equal(&got, id);
}

int seed_open(const char *path, struct dio *ret_io, uint64_t *ret_size)
{
	int fd, r = dio_open_read(path, "seed", &fd, ret_size);

	if (r < 0)
		return r;
	dio_init(ret_io, fd, path, O_RDONLY);
	return 0;
}

void seed_close(struct dio *io)
{
	dio_done(io);
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
}
