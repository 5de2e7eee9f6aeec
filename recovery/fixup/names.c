/* Disks named by the machine they were on (see names.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/util.h"
#include "muletto/fixup/names.h"

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* "name" ending in digits after the prefix of length k: the part number. */
static int names_tail(const char *name, size_t k, char *disk, size_t n, int *part)
{
	if (!all_digits(name + k) || strlen(name + k) > 4)
		return 0;
	snprintf(disk, n, "%.*s", (int)k, name);
	*part = atoi(name + k);
	return *part > 0;
}

int names_split(const char *name, char *disk, size_t disk_size, int *part)
{
	static const char *const links[] = { "/dev/disk/by-id/", "/dev/disk/by-path/" };
	static const char *const pfx[] = { "nvme", "mmcblk", "loop", "md" };
	static const char *const letters[] = { "sd", "vd", "hd", "xvd" };
	const char *n, *p;
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (!strncmp(name, links[i], strlen(links[i])) && (p = strstr(name, "-part"))) {
			while (strstr(p + 1, "-part"))
				p = strstr(p + 1, "-part");
			if (!all_digits(p + 5) || strlen(p + 5) > 4)
				return 0;
			snprintf(disk, disk_size, "%.*s", (int)(p - name), name);
			*part = atoi(p + 5);
			return *part > 0;
		}
	if (strncmp(name, "/dev/", 5))
		return 0;
	n = name + 5;
	for (i = 0; i < ARRAY_SIZE(pfx); i++) /* nvme0n1p2, mmcblk0p1: a 'p' before the number */
		if (!strncmp(n, pfx[i], strlen(pfx[i])) && (p = strrchr(n, 'p')) && p > n + 2 &&
		    isdigit((unsigned char)p[-1]) && all_digits(p + 1)) {
			if (!names_tail(name, (size_t)(p + 1 - name), disk, disk_size, part))
				return 0;
			disk[p - name] = 0; /* without the 'p' */
			return 1;
		}
	for (i = 0; i < ARRAY_SIZE(letters); i++) {
		k = strlen(letters[i]);
		if (strncmp(n, letters[i], k) || !islower((unsigned char)n[k]))
			continue;
		while (islower((unsigned char)n[k]))
			k++;
		return names_tail(name, (size_t)(n - name) + k, disk, disk_size, part);
	}
	return 0;
}

void names_root_disk(const char *root_spec, char *disk, size_t disk_size)
{
	int part;

	if (!names_split(root_spec, disk, disk_size, &part))
		disk[0] = 0;
}

int names_same_disk(const char *root_disk, const char *disk)
{
	static const char *const first[] = { "/dev/sda", "/dev/vda", "/dev/hda", "/dev/xvda",
					     "/dev/nvme0n1", "/dev/mmcblk0" };
	size_t i;

	if (root_disk[0])
		return !strcmp(root_disk, disk);
	for (i = 0; i < ARRAY_SIZE(first); i++)
		if (!strcmp(disk, first[i]))
			return 1;
	return 0;
}

int names_partition(const char *root_disk, const char *name)
{
	char disk[256];
	int part;

	if (!names_split(name, disk, sizeof(disk), &part) || !names_same_disk(root_disk, disk))
		return 0;
	return part;
}

/* Appends n bytes of s to the growing string *out. */
static int put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = MAX(*cap * 2, *len + n + 256);
		char *p = realloc(*out, c);
		if (!p)
			return -1;
		*out = p;
		*cap = c;
	}
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = 0;
	return 0;
}

/* The new spec for a device name, when it names a partition of the root's
 * disk that resolve knows. */
static int names_new(const char *name, const char *root_disk, names_resolve_fn resolve,
		     void *ctx, char *out, size_t n)
{
	int part = names_partition(root_disk, name);

	return part > 0 && resolve(ctx, part, out, n) > 0;
}

char *names_rewrite_table(const char *text, int field, const char *root_disk,
			  names_resolve_fn resolve, void *ctx,
			  void (*note)(void *ctx, const char *old, const char *now), int *changed)
{
	char *out = NULL, tok[512], spec[512];
	size_t len = 0, cap = 0;
	const char *line = text;

	*changed = 0;
	if (put(&out, &len, &cap, "", 0) < 0)
		return NULL;
	while (*line) {
		const char *end = strchr(line, '\n'), *p = line, *ts = NULL;
		size_t ll = end ? (size_t)(end - line + 1) : strlen(line), tl = 0;
		int f = 0;
		while (p < line + ll && *p != '#') { /* the field'th field */
			while (p < line + ll && (*p == ' ' || *p == '\t'))
				p++;
			if (p >= line + ll || *p == '\n' || *p == '#')
				break;
			ts = p;
			while (p < line + ll && !isspace((unsigned char)*p))
				p++;
			if (++f == field) {
				tl = (size_t)(p - ts);
				break;
			}
		}
		if (f == field && tl < sizeof(tok)) {
			snprintf(tok, sizeof(tok), "%.*s", (int)tl, ts);
			if (names_new(tok, root_disk, resolve, ctx, spec, sizeof(spec))) {
				if (put(&out, &len, &cap, line, (size_t)(ts - line)) < 0 ||
				    put(&out, &len, &cap, spec, strlen(spec)) < 0 ||
				    put(&out, &len, &cap, ts + tl, ll - (size_t)(ts - line) - tl) < 0)
					goto oom;
				if (note)
					note(ctx, tok, spec);
				(*changed)++;
				line += ll;
				continue;
			}
		}
		if (put(&out, &len, &cap, line, ll) < 0)
			goto oom;
		line += ll;
	}
	return out;
oom:
	free(out);
	return NULL;
}

char *names_rewrite_cmdline(const char *line, const char *root_disk, names_resolve_fn resolve,
			    void *ctx, void (*note)(void *ctx, const char *old, const char *now),
			    int *changed)
{
	char *out = NULL, tok[512], spec[512];
	size_t len = 0, cap = 0;
	const char *p = line;

	*changed = 0;
	if (put(&out, &len, &cap, "", 0) < 0)
		return NULL;
	while (*p) {
		const char *s = p, *eq;
		size_t tl;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		tl = (size_t)(p - s);
		eq = memchr(s, '=', tl);
		if (eq && tl < sizeof(tok)) { /* root=/dev/vda3, resume=/dev/sda2, ... */
			snprintf(tok, sizeof(tok), "%.*s", (int)(s + tl - eq - 1), eq + 1);
			if (names_new(tok, root_disk, resolve, ctx, spec, sizeof(spec))) {
				if (put(&out, &len, &cap, s, (size_t)(eq + 1 - s)) < 0 ||
				    put(&out, &len, &cap, spec, strlen(spec)) < 0)
					goto oom;
				if (note)
					note(ctx, tok, spec);
				(*changed)++;
				s = p;
				tl = 0;
			}
		}
		if (put(&out, &len, &cap, s, tl) < 0)
			goto oom;
		while (*p == ' ' || *p == '\t') {
			if (put(&out, &len, &cap, p, 1) < 0)
				goto oom;
			p++;
		}
	}
	return out;
oom:
	free(out);
	return NULL;
}
