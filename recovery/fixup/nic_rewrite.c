/* Network configuration text with the old machine's cards rewritten to this
 * machine's (see nic.h). Each kind of file is read line by line; a line
 * gives the regions that may name a card (a key's value, a YAML key), and
 * only those are rewritten, word by word. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/util.h"
#include "muletto/fixup/nic.h"

#define R_NAMES 1     /* interface names */
#define R_MACS 2      /* MAC addresses */
#define R_FIRST 4     /* only the first word ("iface eth0 inet dhcp") */
#define R_NOCOLLECT 8 /* not a card's name ("NAME=System eth0") */
#define R_SOLO 16     /* names a card of its own, not the stanza's ("auto eth0") */
#define R_WEAK 32     /* the stanza's name until another is given (netplan's ids) */

#define UDEV_PREFIX "# muletto fixup: "

struct region {
	size_t a, len;
	int flags;
};

/* The state of one rewrite. */
struct ed {
	const struct nic_pair *map;
	size_t n;
	unsigned char *used;
	char *out;
	size_t len, cap;
	int oom, lines;
	struct nic *found; /* what the text names: NULL when not collected */
	size_t max, *nfound;
	int full;
	struct nic pend; /* the card of the current stanza, rule or file */
	int pend_weak;	 /* its name is only an id: a name given later takes its place */
	char sec[32];	 /* the current [section] of a keyfile */
	struct {
		size_t indent;
		char key[32];
	} stack[16]; /* YAML keys above the current line */
	size_t depth;
};

static void put(struct ed *e, const char *s, size_t n)
{
	if (e->oom)
		return;
	if (e->len + n + 1 > e->cap) {
		size_t c = MAX(e->cap * 2, e->len + n + 256);
		char *p = realloc(e->out, c);
		if (!p) {
			e->oom = 1;
			return;
		}
		e->out = p;
		e->cap = c;
	}
	memcpy(e->out + e->len, s, n);
	e->len += n;
	e->out[e->len] = 0;
}

static int name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* A card into found: merged with the entry of the same name (or MAC). */
static void found_add(struct ed *e, const struct nic *c)
{
	size_t i;

	if (!e->found || (!c->name[0] && !c->mac[0]))
		return;
	for (i = 0; i < *e->nfound; i++) {
		struct nic *f = &e->found[i];
		if ((c->name[0] && !strcmp(f->name, c->name) && (!f->mac[0] || !c->mac[0])) ||
		    (c->mac[0] && !strcmp(f->mac, c->mac) && (!f->name[0] || !c->name[0]))) {
			if (!f->name[0])
				str_copy(f->name, sizeof(f->name), c->name);
			if (!f->mac[0])
				str_copy(f->mac, sizeof(f->mac), c->mac);
			return;
		}
		if (!strcmp(f->name, c->name) && !strcmp(f->mac, c->mac))
			return;
	}
	if (*e->nfound >= e->max) {
		e->full = 1;
		return;
	}
	e->found[(*e->nfound)++] = *c;
}

static void flush(struct ed *e)
{
	found_add(e, &e->pend);
	memset(&e->pend, 0, sizeof(e->pend));
	e->pend_weak = 0;
}

/* Names that are not a card: loopback, bridges, bonds, tunnels and the like,
 * and the words ifupdown uses instead of names. */
static int virtual_name(const char *w)
{
	static const char *const pfx[] = { "lo",    "br",   "bond", "virbr", "docker",
					   "veth",  "tap",  "tun",  "wg",    "team",
					   "dummy", "vlan", "vnet", "vmbr",  "ovs" };
	size_t i;

	if (!strcmp(w, "none") || !strcmp(w, "all"))
		return 1;
	for (i = 0; i < ARRAY_SIZE(pfx); i++)
		if (!strncmp(w, pfx[i], strlen(pfx[i])))
			return 1;
	return 0;
}

static void collect(struct ed *e, const char *name, const char *mac, int flags)
{
	struct nic c = { 0 };

	if (!e->found || (flags & R_NOCOLLECT) || (name && virtual_name(name)))
		return;
	if (flags & R_SOLO) {
		str_copy(c.name, sizeof(c.name), name ? name : "");
		str_copy(c.mac, sizeof(c.mac), mac ? mac : "");
		found_add(e, &c);
		return;
	}
	if ((name && e->pend.name[0] && strcmp(e->pend.name, name) && !e->pend_weak) ||
	    (mac && e->pend.mac[0] && strcmp(e->pend.mac, mac)))
		flush(e);
	if (name) {
		str_copy(e->pend.name, sizeof(e->pend.name), name);
		e->pend_weak = !!(flags & R_WEAK);
	}
	if (mac)
		str_copy(e->pend.mac, sizeof(e->pend.mac), mac);
}

/* The MAC at s (17 bytes, mac its normal form): the new one, written as the
 * text wrote the old (case, separator). */
static int edit_mac(struct ed *e, const char *s, const char *mac, int flags)
{
	int upper = 0;
	size_t i, k;

	collect(e, NULL, mac, flags);
	for (i = 0; i < 17; i++)
		upper |= isupper((unsigned char)s[i]);
	for (k = 0; k < e->n; k++) {
		const struct nic_pair *p = &e->map[k];
		char now[18];
		if (!p->old.mac[0] || !p->now.mac[0] || strcmp(p->old.mac, mac) ||
		    !strcmp(p->now.mac, mac))
			continue;
		for (i = 0; i < 17; i++)
			now[i] = i % 3 == 2 ? s[2]
				 : upper    ? (char)toupper((unsigned char)p->now.mac[i])
					    : p->now.mac[i];
		put(e, now, 17);
		if (e->used)
			e->used[k] |= NIC_USED_MAC;
		return 1;
	}
	put(e, s, 17);
	return 0;
}

static int edit_name(struct ed *e, const char *s, size_t len, int glob, int flags)
{
	char w[32];
	size_t k;

	if (len >= sizeof(w)) {
		put(e, s, len);
		return 0;
	}
	memcpy(w, s, len);
	w[len] = 0;
	if (!glob && !isdigit((unsigned char)w[0]))
		collect(e, w, NULL, flags);
	for (k = 0; k < e->n; k++) {
		const struct nic_pair *p = &e->map[k];
		if (!p->old.name[0] || !p->now.name[0] || strcmp(p->old.name, w) ||
		    !strcmp(p->now.name, w))
			continue;
		put(e, p->now.name, strlen(p->now.name));
		if (e->used)
			e->used[k] |= NIC_USED_NAME;
		return 1;
	}
	put(e, s, len);
	return 0;
}

/* s[0..len) with the cards in it rewritten, word by word. */
static int edit_region(struct ed *e, const char *s, size_t len, int flags)
{
	size_t i = 0, w, words = 0;
	int changed = 0;
	char mac[18];

	while (i < len) {
		if (!name_char((unsigned char)s[i]) ||
		    (i > 0 && name_char((unsigned char)s[i - 1]))) {
			put(e, s + i, 1);
			i++;
			continue;
		}
		if ((flags & R_MACS) && len - i >= 17 && (i == 0 || s[i - 1] != ':') &&
		    nic_mac_parse(s + i, 17, mac) &&
		    (len - i == 17 || (!name_char((unsigned char)s[i + 17]) && s[i + 17] != ':'))) {
			changed |= edit_mac(e, s + i, mac, flags);
			i += 17;
			continue;
		}
		for (w = i; w < len && name_char((unsigned char)s[w]); w++)
			;
		if ((flags & R_NAMES) && !((flags & R_FIRST) && words))
			changed |= edit_name(e, s + i, w - i,
					     (i > 0 && strchr("*?]", s[i - 1])) ||
						 (w < len && strchr("*?[", s[w])),
					     flags);
		else
			put(e, s + i, w - i);
		words++;
		i = w;
	}
	return changed;
}

/* The line with its regions (in order) rewritten; 1 when it changed. */
static int emit(struct ed *e, const char *line, size_t ll, const struct region *rg, size_t nr)
{
	size_t pos = 0, i;
	int changed = 0;

	for (i = 0; i < nr; i++) {
		put(e, line + pos, rg[i].a - pos);
		changed |= edit_region(e, line + rg[i].a, rg[i].len, rg[i].flags);
		pos = rg[i].a + rg[i].len;
	}
	put(e, line + pos, ll - pos);
	e->lines += changed;
	return changed;
}

static size_t skip_ws(const char *s, size_t i, size_t ll)
{
	while (i < ll && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static int word_is(const char *s, size_t len, const char *const *words, size_t nw)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (strlen(words[i]) == len && !memcmp(s, words[i], len))
			return 1;
	return 0;
}

static void line_ifupdown(struct ed *e, const char *line, size_t ll)
{
	static const char *const solo[] = { "auto",	    "allow-hotplug",   "allow-auto",
					    "mapping",	    "bridge_ports",    "bridge-ports",
					    "bond-slaves",  "bond_slaves",     "bond-primary",
					    "bond_primary", "vlan-raw-device", "vlan_raw_device" };
	size_t i = skip_ws(line, 0, ll), j = i;
	struct region rg = { 0, 0, 0 };

	while (j < ll && line[j] != ' ' && line[j] != '\t')
		j++;
	rg.a = skip_ws(line, j, ll);
	rg.len = ll - rg.a;
	if (i < ll && line[i] == '#')
		rg.flags = 0;
	else if (j - i == 5 && !memcmp(line + i, "iface", 5)) {
		flush(e);
		rg.flags = R_NAMES | R_FIRST;
	} else if (j - i == 9 && !memcmp(line + i, "hwaddress", 9))
		rg.flags = R_MACS;
	else if (word_is(line + i, j - i, solo, ARRAY_SIZE(solo)))
		rg.flags = R_NAMES | R_SOLO;
	emit(e, line, ll, &rg, rg.flags ? 1 : 0);
}

/* key=value lines of keyfiles, networkd units and ifcfg files: the region of
 * the value when section and key are one of the table's. */
struct keyed {
	const char *sec, *key; /* sec NULL: any (ifcfg has none) */
	int flags;
};

static void line_keyed(struct ed *e, const char *line, size_t ll, const struct keyed *t, size_t nt)
{
	size_t i = skip_ws(line, 0, ll), k, eq;
	const char *q = memchr(line, '=', ll);
	struct region rg;

	if (i < ll && line[i] == '[') {
		const char *end = memchr(line + i, ']', ll - i);
		if (end)
			snprintf(e->sec, sizeof(e->sec), "%.*s", (int)(end - line - i - 1),
				 line + i + 1);
	}
	if (i >= ll || line[i] == '#' || line[i] == ';' || line[i] == '[' || !q) {
		emit(e, line, ll, NULL, 0);
		return;
	}
	eq = (size_t)(q - line);
	for (k = eq; k > i && (line[k - 1] == ' ' || line[k - 1] == '\t'); k--)
		;
	for (; nt; t++, nt--)
		if ((!t->sec || !strcmp(t->sec, e->sec)) && strlen(t->key) == k - i &&
		    !memcmp(line + i, t->key, k - i)) {
			rg.a = eq + 1;
			rg.len = ll - eq - 1;
			rg.flags = t->flags;
			emit(e, line, ll, &rg, 1);
			return;
		}
	emit(e, line, ll, NULL, 0);
}

static void line_nm(struct ed *e, const char *line, size_t ll)
{
	static const struct keyed t[] = {
		{ "connection", "interface-name", R_NAMES },
		{ "ethernet", "mac-address", R_MACS },
		{ "802-3-ethernet", "mac-address", R_MACS },
		{ "vlan", "parent", R_NAMES | R_SOLO },
	};
	line_keyed(e, line, ll, t, ARRAY_SIZE(t));
}

static void line_networkd(struct ed *e, const char *line, size_t ll)
{
	static const struct keyed t[] = {
		{ "Match", "Name", R_NAMES },	   { "Match", "OriginalName", R_NAMES },
		{ "Match", "MACAddress", R_MACS }, { "Match", "PermanentMACAddress", R_MACS },
		{ "Link", "Name", R_NAMES },
	};
	line_keyed(e, line, ll, t, ARRAY_SIZE(t));
}

static void line_ifcfg(struct ed *e, const char *line, size_t ll)
{
	static const struct keyed t[] = {
		{ NULL, "DEVICE", R_NAMES },
		{ NULL, "HWADDR", R_MACS },
		{ NULL, "NAME", R_NAMES | R_NOCOLLECT },
	};
	line_keyed(e, line, ll, t, ARRAY_SIZE(t));
}

/* The YAML key of a line (after "- " for a sequence item): where it starts,
 * its length; 0 when the line has none. */
static size_t yaml_key(const char *line, size_t ll, size_t i, size_t *klen)
{
	size_t k;

	for (k = i; k < ll && line[k] != '#'; k++)
		if (line[k] == ':' && (k + 1 == ll || line[k + 1] == ' ' || line[k + 1] == '\t')) {
			*klen = k - i;
			return 1;
		}
	return 0;
}

/* A YAML value from i: up to a comment, trailing spaces left out. */
static struct region yaml_value(const char *line, size_t ll, size_t i, int flags)
{
	struct region rg = { 0, 0, flags };
	size_t end = i;

	i = skip_ws(line, i, ll);
	for (end = i; end < ll && !(line[end] == '#' && line[end - 1] == ' '); end++)
		;
	while (end > i && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	rg.a = i;
	rg.len = end - i;
	return rg;
}

static int key_is(const char *s, size_t len, const char *key)
{
	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		s++;
		len -= 2;
	}
	return strlen(key) == len && !memcmp(s, key, len);
}

static void line_netplan(struct ed *e, const char *line, size_t ll)
{
	size_t i = skip_ws(line, 0, ll), klen = 0;
	const char *parent;
	struct region rg = { 0, 0, 0 };
	int item = 0;

	if (i >= ll || line[i] == '#') {
		emit(e, line, ll, NULL, 0);
		return;
	}
	item = line[i] == '-' && (i + 1 == ll || line[i + 1] == ' ');
	while (e->depth &&
	       (item ? e->stack[e->depth - 1].indent > i : e->stack[e->depth - 1].indent >= i))
		e->depth--;
	parent = e->depth ? e->stack[e->depth - 1].key : "";
	if (item) { /* "- eth0" under interfaces: */
		if (!strcmp(parent, "interfaces"))
			rg = yaml_value(line, ll, i + 1, R_NAMES | R_SOLO);
		emit(e, line, ll, &rg, rg.flags ? 1 : 0);
		return;
	}
	if (!yaml_key(line, ll, i, &klen)) {
		emit(e, line, ll, NULL, 0);
		return;
	}
	if (!strcmp(parent, "ethernets")) { /* "    enp3s0:" */
		flush(e);
		rg = (struct region){ i, klen, R_NAMES | R_FIRST | R_WEAK };
	} else if (key_is(line + i, klen, "set-name"))
		rg = yaml_value(line, ll, i + klen + 1, R_NAMES);
	else if (key_is(line + i, klen, "macaddress") && !strcmp(parent, "match"))
		rg = yaml_value(line, ll, i + klen + 1, R_MACS);
	else if (key_is(line + i, klen, "name") && !strcmp(parent, "match"))
		rg = yaml_value(line, ll, i + klen + 1, R_NAMES | R_WEAK);
	else if (key_is(line + i, klen, "interfaces") || key_is(line + i, klen, "link"))
		rg = yaml_value(line, ll, i + klen + 1, R_NAMES | R_SOLO);
	emit(e, line, ll, &rg, rg.flags ? 1 : 0);
	if (e->depth < ARRAY_SIZE(e->stack)) {
		e->stack[e->depth].indent = i;
		snprintf(e->stack[e->depth].key, sizeof(e->stack[0].key), "%.*s", (int)klen,
			 line + i);
		if (klen >= 2 && (line[i] == '"' || line[i] == '\''))
			snprintf(e->stack[e->depth].key, sizeof(e->stack[0].key), "%.*s",
				 (int)klen - 2, line + i + 1);
		e->depth++;
	}
}

/* The quoted value after key in a udev rule ('ATTR{address}=="..."',
 * 'NAME="..."'), as a region; len 0 when the rule has none. */
static struct region udev_value(const char *line, size_t ll, const char *key, int flags)
{
	struct region rg = { 0, 0, flags };
	size_t kl = strlen(key), i;

	for (i = 0; i + kl < ll; i++) {
		const char *q;
		if (memcmp(line + i, key, kl) || (i > 0 && name_char((unsigned char)line[i - 1])))
			continue;
		if (line[i + kl] != '"')
			continue;
		q = memchr(line + i + kl + 1, '"', ll - i - kl - 1);
		rg.a = i + kl;
		rg.len = (q ? (size_t)(q - line) + 1 : ll) - rg.a;
		return rg;
	}
	return rg;
}

/* A rule for an old card is commented out: the kernel names the new card. */
static void line_udev(struct ed *e, const char *line, size_t ll)
{
	size_t i = skip_ws(line, 0, ll), mark = e->len, nr = 0;
	struct region rg[2], a, b;

	if (i < ll && line[i] != '#') {
		flush(e);
		a = udev_value(line, ll, "ATTR{address}==", R_MACS);
		b = udev_value(line, ll, "NAME=", R_NAMES);
		if (a.len && b.len && b.a < a.a) {
			rg[nr++] = b;
			rg[nr++] = a;
		} else {
			if (a.len)
				rg[nr++] = a;
			if (b.len)
				rg[nr++] = b;
		}
	}
	if (emit(e, line, ll, rg, nr) && !e->oom) {
		e->len = mark;
		put(e, UDEV_PREFIX, strlen(UDEV_PREFIX));
		put(e, line, ll);
	}
	flush(e);
}

int nic_rewrite(enum nic_conf kind, const char *in, const struct nic_pair *map, size_t n,
		char **out, int *changed, unsigned char *used, struct nic *found, size_t max,
		size_t *nfound)
{
	static void (*const line_fn[])(struct ed *, const char *, size_t) = {
		[NIC_IFUPDOWN] = line_ifupdown,
		[NIC_NETPLAN] = line_netplan,
		[NIC_NM] = line_nm,
		[NIC_NETWORKD] = line_networkd,
		[NIC_UDEV] = line_udev,
		[NIC_IFCFG] = line_ifcfg,
	};
	struct ed e = {
		.map = map, .n = n, .used = used, .found = found, .max = max, .nfound = nfound
	};
	const char *line = in;

	put(&e, "", 0);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		line_fn[kind](&e, line, ll);
		if (end)
			put(&e, "\n", 1);
		line += ll + (end ? 1 : 0);
	}
	flush(&e);
	if (e.oom || e.full) {
		free(e.out);
		return e.oom ? -ENOMEM : -ENOSPC;
	}
	*out = e.out;
	*changed = e.lines;
	return 0;
}

int nic_rewrite_ifupdown(const char *in, const struct nic_pair *map, size_t n, char **out,
			 int *changed)
{
	return nic_rewrite(NIC_IFUPDOWN, in, map, n, out, changed, NULL, NULL, 0, NULL);
}

int nic_rewrite_netplan(const char *in, const struct nic_pair *map, size_t n, char **out,
			int *changed)
{
	return nic_rewrite(NIC_NETPLAN, in, map, n, out, changed, NULL, NULL, 0, NULL);
}

int nic_rewrite_nm(const char *in, const struct nic_pair *map, size_t n, char **out, int *changed)
{
	return nic_rewrite(NIC_NM, in, map, n, out, changed, NULL, NULL, 0, NULL);
}

int nic_rewrite_networkd(const char *in, const struct nic_pair *map, size_t n, char **out,
			 int *changed)
{
	return nic_rewrite(NIC_NETWORKD, in, map, n, out, changed, NULL, NULL, 0, NULL);
}

int nic_rewrite_udev(const char *in, const struct nic_pair *map, size_t n, char **out, int *changed)
{
	return nic_rewrite(NIC_UDEV, in, map, n, out, changed, NULL, NULL, 0, NULL);
}

int nic_rewrite_ifcfg(const char *in, const struct nic_pair *map, size_t n, char **out,
		      int *changed)
{
	return nic_rewrite(NIC_IFCFG, in, map, n, out, changed, NULL, NULL, 0, NULL);
}
