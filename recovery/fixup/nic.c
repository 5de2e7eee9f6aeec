/* Network cards of the old machine paired with this machine's (see nic.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/fixup/nic.h"

int nic_mac_parse(const char *s, size_t len, char *mac)
{
	size_t i;

	if (len != 17)
		return 0;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != s[2] || (s[i] != ':' && s[i] != '-'))
				return 0;
			mac[i] = ':';
		} else {
			if (!isxdigit((unsigned char)s[i]))
				return 0;
			mac[i] = (char)tolower((unsigned char)s[i]);
		}
	}
	mac[17] = 0;
	return 1;
}

static int nic_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 15)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.@", s[i]))
			return 0;
	return 1;
}

/* One side of OLD=NEW. */
static int nic_side(const char *s, size_t len, struct nic *out)
{
	memset(out, 0, sizeof(*out));
	if (nic_mac_parse(s, len, out->mac))
		return 0;
	if (!nic_name_ok(s, len))
		return -EINVAL;
	snprintf(out->name, sizeof(out->name), "%.*s", (int)len, s);
	return 0;
}

int nic_map_parse(const char *arg, struct nic_pair *out, size_t max, size_t *n)
{
	const char *p = arg;
	size_t k = 0;

	if (!*arg)
		return err_set(-EINVAL, "--nic: empty; expected OLD=NEW[,OLD=NEW...], each an "
					"interface name or a MAC");
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);

		eq = memchr(p, '=', len);
		if (!eq || eq == p || eq == p + len - 1)
			return err_set(-EINVAL,
				       "--nic: '%.*s' is not OLD=NEW (e.g. eth0=ens3 or "
				       "52:54:00:12:34:56=ens3)",
				       (int)len, p);
		if (k >= max)
			return err_set(-ENOSPC, "--nic: more than %zu pairs", max);
		if (nic_side(p, (size_t)(eq - p), &out[k].old) < 0 ||
		    nic_side(eq + 1, (size_t)(p + len - eq - 1), &out[k].now) < 0)
			return err_set(-EINVAL,
				       "--nic: '%.*s': each side must be an interface name "
				       "(eth0, enp3s0) or a MAC (52:54:00:12:34:56)",
				       (int)len, p);
		k++;
		p += len;
		if (*p == ',' && !*++p)
			return err_set(-EINVAL,
				       "--nic: '%s' ends with ','; expected OLD=NEW[,OLD=NEW...]",
				       arg);
	}
	*n = k;
	return 0;
}

static int nic_by_name(const void *a, const void *b)
{
	return strcmp(((const struct nic *)a)->name, ((const struct nic *)b)->name);
}

/* Index of the card in list with that MAC (or name), or -1. */
static int nic_find(const struct nic *list, size_t n, const char *mac, const char *name)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		if ((mac && mac[0] && !strcmp(list[i].mac, mac)) ||
		    (name && name[0] && !strcmp(list[i].name, name)))
			return (int)i;
	return -1;
}

/* The old cards in order of their names: indexes into old. */
static void nic_order(const struct nic *old, size_t nold, size_t *idx)
{
	size_t i, j;

	for (i = 0; i < nold; i++)
		idx[i] = i;
	for (i = 1; i < nold; i++) /* insertion sort: a few cards */
		for (j = i; j > 0 && strcmp(old[idx[j - 1]].name, old[idx[j]].name) > 0; j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
}

int nic_map_auto(const struct nic *old, size_t nold, const struct nic *now, size_t nnow,
		 struct nic_pair *out, size_t max, size_t *n)
{
	_cleanup_free_ unsigned char *taken = calloc(nnow + 1, 1);
	_cleanup_free_ unsigned char *done = calloc(nold + 1, 1);
	_cleanup_free_ size_t *idx = calloc(nold + 1, sizeof(*idx));
	_cleanup_free_ size_t *nidx = calloc(nnow + 1, sizeof(*nidx));
	size_t i, k = 0, j = 0;
	int pass;

	if (!taken || !done || !idx || !nidx)
		return -ENOMEM;
	nic_order(old, nold, idx);
	nic_order(now, nnow, nidx);
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < nold; i++) {
			const struct nic *o = &old[idx[i]];
			int w = -1;

			if (done[idx[i]] || (!o->name[0] && !o->mac[0]))
				continue;
			if (pass == 0 && o->mac[0]) /* the same card, maybe renamed */
				w = nic_find(now, nnow, o->mac, NULL);
			else if (pass == 1 && !o->mac[0]) /* a name only, and here it is */
				w = nic_find(now, nnow, NULL, o->name);
			else if (pass == 2) /* the rest in order */
				while (j < nnow && w < 0)
					if (!taken[nidx[j++]])
						w = (int)nidx[j - 1];
			if (w < 0 || taken[w])
				continue;
			if (k >= max)
				return err_set(-ENOSPC, "more than %zu network cards to pair", max);
			out[k].old = *o;
			out[k++].now = now[w];
			taken[w] = done[idx[i]] = 1;
		}
	*n = k;
	return 0;
}

void nic_map_fill(struct nic_pair *map, size_t n, const struct nic *old, size_t nold,
		  const struct nic *now, size_t nnow)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int o = nic_find(old, nold, map[i].old.mac, map[i].old.name);
		int w = nic_find(now, nnow, map[i].now.mac, map[i].now.name);

		if (o >= 0 && !map[i].old.name[0])
			str_copy(map[i].old.name, sizeof(map[i].old.name), old[o].name);
		if (o >= 0 && !map[i].old.mac[0])
			str_copy(map[i].old.mac, sizeof(map[i].old.mac), old[o].mac);
		if (w >= 0 && !map[i].now.name[0])
			str_copy(map[i].now.name, sizeof(map[i].now.name), now[w].name);
		if (w >= 0 && !map[i].now.mac[0])
			str_copy(map[i].now.mac, sizeof(map[i].now.mac), now[w].mac);
	}
}

/* Whether /sys/class/net/NAME is a card of its own: a device behind it, and
 * not a bridge, a tun/tap or a link of another type than Ethernet. */
static int nic_physical(const char *dir, const char *name)
{
	char p[PATH_MAX + 64], type[16];

	snprintf(p, sizeof(p), "%s/%.31s/device", dir, name);
	if (access(p, F_OK) < 0)
		return 0;
	snprintf(p, sizeof(p), "%s/%.31s/bridge", dir, name);
	if (access(p, F_OK) == 0)
		return 0;
	snprintf(p, sizeof(p), "%s/%.31s/tun_flags", dir, name);
	if (access(p, F_OK) == 0)
		return 0;
	snprintf(p, sizeof(p), "%s/%.31s/type", dir, name);
	return read_line_file(p, type, sizeof(type)) < 0 || !strcmp(type, "1");
}

int nic_machine(const char *sysroot, struct nic *out, size_t max, size_t *n)
{
	char dir[PATH_MAX], p[PATH_MAX + 64], mac[64];
	struct dirent *de;
	size_t k = 0;
	DIR *d;
	int r = 0;

	snprintf(dir, sizeof(dir), "%s/sys/class/net", sysroot ? sysroot : "");
	if (!(d = opendir(dir)))
		return err_set(-errno, "cannot list %s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lo") ||
		    strlen(de->d_name) >= sizeof(out->name) || !nic_physical(dir, de->d_name))
			continue;
		if (k >= max) {
			r = err_set(-ENOSPC, "more than %zu network cards in %s", max, dir);
			goto out;
		}
		memset(&out[k], 0, sizeof(out[k]));
		str_copy(out[k].name, sizeof(out[k].name), de->d_name);
		snprintf(p, sizeof(p), "%s/%.31s/address", dir, de->d_name);
		if (read_line_file(p, mac, sizeof(mac)) == 0 &&
		    !nic_mac_parse(mac, strlen(mac), out[k].mac))
			out[k].mac[0] = 0;
		k++;
	}
	qsort(out, k, sizeof(*out), nic_by_name);
	*n = k;
out:
	closedir(d);
	return r;
}
