/* Registry hives through libhivex (see win_hive.h): libhivex's errno-style
 * failures become our messages here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/fixup/win_hive.h"

hive_h *win_hive_open(const char *path, int write)
{
	hive_h *h = hivex_open(path, write ? HIVEX_OPEN_WRITE : 0);

	if (!h)
		err_set(errno ? -errno : -EIO, "%s is no registry hive libhivex can read: %s", path,
			strerror(errno ? errno : EIO));
	return h;
}

int win_hive_commit(hive_h *h, const char *path)
{
	_cleanup_free_ char *tmp = str_printf("%s.muletto-new", path);

	if (!tmp)
		return -ENOMEM;
	if (hivex_commit(h, tmp, 0) < 0) {
		int r = err_set(errno ? -errno : -EIO, "cannot write the registry hive %s: %s", tmp,
				strerror(errno ? errno : EIO));
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		int r = err_set(-errno, "cannot put the new hive %s in place: %s", path,
				strerror(errno));
		unlink(tmp);
		return r;
	}
	return 0;
}

hive_node_h win_hive_key(hive_h *h, hive_node_h node, const char *path)
{
	char part[256];
	const char *s = path, *e;

	while (node && *s) {
		e = strchr(s, '\\');
		if (!e)
			e = s + strlen(s);
		if ((size_t)(e - s) >= sizeof(part))
			return 0;
		memcpy(part, s, (size_t)(e - s));
		part[e - s] = '\0';
		node = part[0] ? hivex_node_get_child(h, node, part) : node;
		s = *e ? e + 1 : e;
	}
	return node;
}

int win_hive_dword(hive_h *h, hive_node_h node, const char *name, uint32_t *ret)
{
	hive_value_h v = node ? hivex_node_get_value(h, node, name) : 0;
	hive_type t;
	size_t len;

	if (!v || hivex_value_type(h, v, &t, &len) < 0 || t != hive_t_REG_DWORD || len != 4)
		return 0;
	*ret = (uint32_t)hivex_value_dword(h, v);
	return 1;
}

int win_hive_string(hive_h *h, hive_node_h node, const char *name, char *out, size_t n)
{
	hive_value_h v = node ? hivex_node_get_value(h, node, name) : 0;
	char *s;

	if (!v || !(s = hivex_value_string(h, v)))
		return 0;
	str_copy(out, n, s);
	free(s);
	return 1;
}

int win_hive_set(hive_h *h, hive_node_h node, const char *name, hive_type t, const void *data,
		 size_t len)
{
	hive_set_value v = { .key = (char *)name, .t = t, .len = len, .value = (char *)data };

	if (hivex_node_set_value(h, node, &v, 0) < 0)
		return err_set(errno ? -errno : -EIO, "cannot set the registry value %s: %s", name,
			       strerror(errno ? errno : EIO));
	return 0;
}

int win_hive_remove_value(hive_h *h, hive_node_h node, const char *name)
{
	_cleanup_free_ hive_value_h *vals = hivex_node_values(h, node);
	hive_set_value *set = NULL;
	size_t n = 0, k = 0, i;
	int r = 0;

	if (!vals)
		return err_set(-EIO, "cannot read the values of a registry key");
	while (vals[n])
		n++;
	set = calloc(n + 1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (i = 0; i < n && r == 0; i++) {
		char *key = hivex_value_key(h, vals[i]);

		if (!key) {
			r = err_set(-EIO, "cannot read a registry value's name");
			break;
		}
		if (!strcasecmp(key, name)) {
			free(key);
			continue;
		}
		set[k].key = key;
		set[k].value = hivex_value_value(h, vals[i], &set[k].t, &set[k].len);
		if (!set[k++].value)
			r = err_set(-EIO, "cannot read the registry value %s", key);
	}
	if (r == 0 && hivex_node_set_values(h, node, k, set, 0) < 0)
		r = err_set(errno ? -errno : -EIO, "cannot remove the registry value %s: %s", name,
			    strerror(errno ? errno : EIO));
	for (i = 0; i < k; i++) {
		free(set[i].key);
		free(set[i].value);
	}
	free(set);
	return r;
}

int win_hive_product(const char *software, char *name, size_t n)
{
	hive_h *h = win_hive_open(software, 0);
	hive_node_h cv;
	char product[96] = "", build[16] = "";

	if (!h)
		return -EIO;
	cv = win_hive_key(h, hivex_root(h), "Microsoft\\Windows NT\\CurrentVersion");
	win_hive_string(h, cv, "ProductName", product, sizeof(product));
	win_hive_string(h, cv, "CurrentBuild", build, sizeof(build));
	hivex_close(h);
	if (!product[0])
		return -ENOENT;
	/* Windows 11 still calls itself "Windows 10" there; its builds tell */
	if (!strncmp(product, "Windows 10", 10) && atoi(build) >= 22000)
		product[9] = '1';
	if (build[0])
		snprintf(name, n, "%s (build %s)", product, build);
	else
		str_copy(name, n, product);
	return 0;
}
