/* The network configuration files of a mounted system, rewritten with a map
 * of cards (see nic.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/fixup/nic.h"

#define NIC_FILE_MAX (1024 * 1024)

/* Where each kind of configuration lives: one file by name, or every file of
 * a folder with that prefix and suffix. */
static const struct nic_place {
	const char *dir, *name, *prefix, *suffix;
	enum nic_conf kind;
} places[] = {
	{ "/etc/network", "interfaces", NULL, NULL, NIC_IFUPDOWN },
	{ "/etc/network/interfaces.d", NULL, "", "", NIC_IFUPDOWN },
	{ "/etc/netplan", NULL, "", ".yaml", NIC_NETPLAN },
	{ "/etc/NetworkManager/system-connections", NULL, "", ".nmconnection", NIC_NM },
	{ "/etc/systemd/network", NULL, "", ".network", NIC_NETWORKD },
	{ "/etc/systemd/network", NULL, "", ".link", NIC_NETWORKD },
	{ "/etc/udev/rules.d", "70-persistent-net.rules", NULL, NULL, NIC_UDEV },
	{ "/etc/sysconfig/network-scripts", NULL, "ifcfg-", "", NIC_IFCFG },
};

typedef int (*nic_visit_fn)(void *ctx, const char *path, const char *rel, enum nic_conf kind);

static int nic_place_has(const struct nic_place *p, const char *name)
{
	if (name[0] == '.')
		return 0;
	if (p->name)
		return !strcmp(name, p->name);
	return !strncmp(name, p->prefix, strlen(p->prefix)) && str_ends_with(name, p->suffix) &&
	       !strstr(name, ".muletto-tmp");
}

/* Calls fn for every configuration file under root, in order of places and
 * of names; stops at the first failure fn returns (its code). */
static int nic_walk(const char *root, nic_visit_fn fn, void *ctx)
{
	char dir[PATH_MAX], path[PATH_MAX], rel[PATH_MAX];
	size_t i;
	int r = 0, k, m;

	for (i = 0; i < ARRAY_SIZE(places) && r == 0; i++) {
		struct dirent **de = NULL;

		snprintf(dir, sizeof(dir), "%s%s", root, places[i].dir);
		m = scandir(dir, &de, NULL, alphasort);
		for (k = 0; k < m; k++) {
			if (r == 0 && nic_place_has(&places[i], de[k]->d_name)) {
				snprintf(rel, sizeof(rel), "%s/%s", places[i].dir, de[k]->d_name);
				snprintf(path, sizeof(path), "%s%s", root, rel);
				r = fn(ctx, path, rel, places[i].kind);
			}
			free(de[k]);
		}
		free(de);
	}
	return r;
}

/* A regular file of at most NIC_FILE_MAX bytes into a new string: 1, or 0
 * with *why when it is left alone, or a negative code. */
static int nic_read(const char *path, struct stat *st, char **text, const char **why)
{
	void *buf = NULL;
	size_t len;
	int r;

	if (lstat(path, st) < 0)
		return -errno;
	if (S_ISLNK(st->st_mode)) {
		*why = "a symbolic link: not followed out of the restored system";
		return 0;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		return 0;
	}
	if (st->st_size > NIC_FILE_MAX) {
		*why = "larger than 1 MiB: not a configuration file";
		return 0;
	}
	if ((r = file_read_all(path, NIC_FILE_MAX, &buf, &len)) < 0)
		return r;
	if (memchr(buf, 0, len)) {
		free(buf);
		*why = "holds NUL bytes: not a text file";
		return 0;
	}
	*text = buf;
	return 1;
}

/* text replaces path: a new file beside it with its mode and owner, flushed,
 * renamed over it, the folder flushed. */
static int nic_write(const char *path, const struct stat *st, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.muletto-tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0)
		r = write_full(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	str_copy(dir, sizeof(dir), path);
	if ((slash = strrchr(dir, '/')))
		*slash = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

struct nic_fix {
	const struct nic_pair *map;
	size_t n;
	int dry_run, failed;
	struct fixup_report *r;
};

/* "eth0 -> ens3, 52:54:00:aa:bb:cc -> 52:54:00:11:22:33" for what was used. */
static void nic_detail(const struct nic_fix *f, const unsigned char *used, char *out, size_t size)
{
	size_t k, len = strlen(out);

	for (k = 0; k < f->n && len < size; k++) {
		const struct nic_pair *p = &f->map[k];
		if (used[k] & NIC_USED_NAME)
			len += (size_t)snprintf(out + len, size - len, "%s%s -> %s",
						len ? ", " : "", p->old.name, p->now.name);
		if ((used[k] & NIC_USED_MAC) && len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s -> %s",
						len ? ", " : "", p->old.mac, p->now.mac);
	}
}

static int nic_fix_file(void *ctx, const char *path, const char *rel, enum nic_conf kind)
{
	struct nic_fix *f = ctx;
	unsigned char used[NIC_PAIRS_MAX] = { 0 };
	char detail[320] = "", *text = NULL, *out = NULL;
	const char *why = NULL, *base = strrchr(rel, '/') + 1;
	struct stat st;
	int r, changed = 0;
	size_t k;

	r = nic_read(path, &st, &text, &why);
	if (r == 0) {
		fixup_note(f->r, FIXUP_SKIPPED, rel, "%s", why);
		return 0;
	}
	if (r > 0)
		r = nic_rewrite(kind, text, f->map, f->n, &out, &changed, used, NULL, 0, NULL);
	if (r < 0)
		goto fail;
	if (!changed) {
		fixup_note(f->r, FIXUP_KEPT, rel, "names none of the old machine's network cards");
		goto out;
	}
	if (kind == NIC_UDEV)
		str_copy(detail, sizeof(detail),
			 "rules commented out, the kernel names the cards: ");
	nic_detail(f, used, detail + strlen(detail), sizeof(detail) - strlen(detail));
	for (k = 0; kind == NIC_IFCFG && k < f->n; k++)
		if ((used[k] & NIC_USED_NAME) && !strcmp(base + 6, f->map[k].old.name))
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				 "; the file keeps its name %s (DEVICE= is what counts)", base);
	if (!f->dry_run && (r = nic_write(path, &st, out)) < 0)
		goto fail;
	fixup_note(f->r, f->dry_run ? FIXUP_WOULD : FIXUP_CHANGED, rel, "%s", detail);
	goto out;
fail:
	fixup_note(f->r, FIXUP_FAILED, rel, "cannot %s it: %s", text ? "write" : "read",
		   strerror(-r));
	if (!f->failed)
		f->failed = err_set(r, "%s of the restored system: cannot %s it: %s", rel,
				    text ? "write" : "read", strerror(-r));
out:
	free(text);
	free(out);
	return 0;
}

int fixup_nics(const char *root, const struct nic_pair *map, size_t n, int dry_run,
	       struct fixup_report *r)
{
	struct nic_fix f = { map, n, dry_run, 0, r };
	int rc;

	if (n > NIC_PAIRS_MAX)
		return err_set(-E2BIG, "more than %d network cards to map", NIC_PAIRS_MAX);
	rc = nic_walk(root, nic_fix_file, &f);
	return rc < 0 ? rc : f.failed;
}

struct nic_seen {
	struct nic *out;
	size_t max, n;
};

static int nic_seen_file(void *ctx, const char *path, const char *rel, enum nic_conf kind)
{
	struct nic_seen *s = ctx;
	char *text = NULL, *out = NULL;
	const char *why;
	struct stat st;
	int r, changed;

	if ((r = nic_read(path, &st, &text, &why)) <= 0)
		return 0; /* what cannot be read names nothing */
	r = nic_rewrite(kind, text, NULL, 0, &out, &changed, NULL, s->out, s->max, &s->n);
	free(text);
	free(out);
	if (r == -ENOSPC)
		return err_set(r, "%s names more than %zu network cards", rel, s->max);
	return r;
}

int nic_names_in_config(const char *root, struct nic *out, size_t max, size_t *n)
{
	struct nic_seen s = { out, max, 0 };
	int r = nic_walk(root, nic_seen_file, &s);

	if (r < 0)
		return r;
	*n = s.n;
	return 0;
}
