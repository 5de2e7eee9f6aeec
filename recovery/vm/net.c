/* --net bridge (see net.h): which link, the bridge over it, the taps on it.
 * The kernel is asked and changed through net_nl.c. */
#include <net/if.h> /* before the linux/ headers, which know to step aside then */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/vm/net.h"
#include "net_int.h"

#define NET_BRIDGES_MAX 100 /* mbr0 .. mbr99 */

/* What to do about a refusal of the kernel's, for a message. */
static const char *net_hint(int e)
{
	switch (e) {
	case -EPERM:
	case -EACCES: return " (muletto run needs root for --net bridge)";
	case -EOPNOTSUPP:
	case -ENODEV: return " (the kernel lacks bridge or tap support: modprobe bridge tun)";
	default: return "";
	}
}

static const struct net_link *net_by_name(const struct net_link *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static const struct net_link *net_by_index(const struct net_link *v, size_t n, int index)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].index == index)
			return &v[i];
	return NULL;
}

static int net_has_ports(const struct net_link *v, size_t n, int index)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].master == index)
			return 1;
	return 0;
}

int net_default_link(char *name, size_t size)
{
	struct net_route *routes = NULL, *best = NULL;
	struct nl *n = NULL;
	size_t nr = 0, i;
	char ifname[IF_NAMESIZE];
	int e = nl_open(&n);

	if (e == 0)
		e = nl_routes(n, &routes, &nr);
	if (e < 0) {
		e = err_set(e, "--net bridge: cannot read this machine's routes: %s", strerror(-e));
		goto out;
	}
	for (i = 0; i < nr; i++)
		if (routes[i].dst_len == 0 && (!best || routes[i].priority < best->priority))
			best = &routes[i];
	if (!best || !if_indextoname((unsigned)best->oif, ifname)) {
		e = err_set(-ENOENT, "--net bridge: this machine has no default route, so muletto "
				     "cannot tell which link to bridge: name it with "
				     "--net bridge:IFACE (see 'ip link')");
		goto out;
	}
	str_copy(name, size, ifname);
out:
	free(routes);
	nl_close(n);
	return e;
}

/* iface as a bridge's port: refused when it cannot be one. */
static int net_check_port(const struct net_link *l, const struct net_link *v, size_t n)
{
	const struct net_link *m = l->master ? net_by_index(v, n, l->master) : NULL;
	char path[128];

	if (m && strcmp(m->kind, "bridge"))
		return err_set(-EBUSY, "--net bridge:%s: %s is a port of %s (%s); pass "
				       "--net bridge:%s", l->name, l->name, m->name,
			       m->kind[0] ? m->kind : "not a bridge", m->name);
	if (l->type != ARPHRD_ETHER || !l->has_mac)
		return err_set(-EINVAL, "--net bridge:%s: %s is not an Ethernet interface and cannot "
					"be bridged; name a wired one with --net bridge:IFACE",
			       l->name, l->name);
	snprintf(path, sizeof(path), "/sys/class/net/%s/wireless", l->name);
	if (access(path, F_OK) == 0)
		return err_set(-EINVAL, "--net bridge:%s: %s is a wireless link, which cannot be "
					"bridged; use a wired one, or --net user", l->name, l->name);
	return 0;
}

/* A bridge for port l: the first mbrN that is free (made now, with l's MAC
 * and MTU) or one of ours that an interrupted run left without ports. */
static int net_pick_bridge(struct nl *n, const struct net_link *v, size_t nv,
			   const struct net_link *l, struct net_bridge *b)
{
	const struct net_link *x;
	char name[IF_NAMESIZE];
	int i, e;

	for (i = 0; i < NET_BRIDGES_MAX; i++) {
		snprintf(name, sizeof(name), NET_BRIDGE_PREFIX "%d", i);
		x = net_by_name(v, nv, name);
		if (x && (strcmp(x->kind, "bridge") || net_has_ports(v, nv, x->index)))
			continue;
		str_copy(b->bridge, sizeof(b->bridge), name);
		if (x)
			return 0;
		e = nl_bridge_add(n, name, l->mac, l->mtu);
		if (e < 0)
			return err_set(e, "--net bridge:%s: cannot make bridge %s: %s%s", l->name, name,
				       strerror(-e), net_hint(e));
		b->made = 1;
		return 0;
	}
	return err_set(-ENOSPC, "--net bridge:%s: %s0 to %s%d are all taken; name a bridge with "
				"--net bridge:BRIDGE", l->name, NET_BRIDGE_PREFIX, NET_BRIDGE_PREFIX,
		       NET_BRIDGES_MAX - 1);
}

/* Says what moved, for the notice. */
static void net_say_addr(struct net_bridge *b, const struct net_addr *a)
{
	size_t k = strlen(b->what);
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->local, ip, sizeof(ip));
	snprintf(b->what + k, sizeof(b->what) - k, "%s%s/%u", k ? ", " : "", ip, a->prefix);
}

static int net_moved_route(const struct net_route *r, int port, int gateway)
{
	return r->oif == port && r->protocol != RTPROT_KERNEL && r->has_gateway == gateway;
}

/* l's addresses and routes onto bridge br, l a port of it: nothing is ever
 * without an address or a route for longer than one change. */
static int net_move(struct nl *n, const struct net_link *l, int br, struct net_bridge *b)
{
	struct net_addr *addrs = NULL;
	struct net_route *routes = NULL;
	size_t na = 0, nr = 0, i, nroutes = 0, k;
	const char *step;
	int e, g;

	step = "bringing it up";
	if ((e = nl_link_set(n, br, 0, 0)) < 0)
		goto out;
	step = "reading the addresses and routes";
	if ((e = nl_addrs(n, l->index, &addrs, &na)) < 0 || (e = nl_routes(n, &routes, &nr)) < 0)
		goto out;
	step = "adding the addresses to the bridge";
	for (i = 0; e == 0 && i < na; i++)
		e = nl_addr_change(n, 1, br, &addrs[i]);
	step = "making the link a port of the bridge";
	if (e == 0 && l->master != br)
		e = nl_link_set(n, l->index, br, 0);
	step = "moving the routes"; /* to the local network first: gateways must be reachable */
	for (g = 0; g < 2; g++)
		for (i = 0; e == 0 && i < nr; i++)
			if (net_moved_route(&routes[i], l->index, g)) {
				e = nl_route_replace(n, br, &routes[i]);
				nroutes++;
			}
	step = "taking the addresses off the link";
	for (i = 0; e == 0 && i < na; i++) {
		e = nl_addr_change(n, 0, l->index, &addrs[i]);
		net_say_addr(b, &addrs[i]);
	}
	b->moved = na + nroutes;
	k = strlen(b->what);
	if (nroutes)
		snprintf(b->what + k, sizeof(b->what) - k, "%s%zu route%s", k ? " and " : "",
			 nroutes, nroutes == 1 ? "" : "s");
out:
	if (e < 0)
		e = err_set(e, "--net bridge:%s: moving %s onto bridge %s failed (%s): %s%s; run "
			       "again, or undo with 'ip link set %s nomaster'", l->name, l->name,
			    b->bridge, step, strerror(-e), net_hint(e), l->name);
	free(addrs);
	free(routes);
	return e;
}

/* Under the lock: the bridge for iface found, or made and iface moved onto it. */
static int net_bridge_locked(struct nl *n, const char *iface, struct net_bridge *b)
{
	struct net_link *v = NULL;
	const struct net_link *l, *m;
	size_t nv = 0;
	int e = nl_links(n, &v, &nv), br;

	if (e < 0) {
		e = err_set(e, "--net bridge:%s: cannot list the network interfaces: %s", iface,
			    strerror(-e));
		goto out;
	}
	if (!(l = net_by_name(v, nv, iface))) {
		e = err_set(-ENODEV, "--net bridge:%s: there is no network interface %s here (see "
				     "'ip link')", iface, iface);
		goto out;
	}
	if (!strcmp(l->kind, "bridge")) { /* a bridge of the site's, or ours from an earlier run */
		str_copy(b->bridge, sizeof(b->bridge), l->name);
		goto out;
	}
	if ((e = net_check_port(l, v, nv)) < 0)
		goto out;
	str_copy(b->link, sizeof(b->link), l->name);
	m = l->master ? net_by_index(v, nv, l->master) : NULL;
	if (m)
		str_copy(b->bridge, sizeof(b->bridge), m->name);
	else if ((e = net_pick_bridge(n, v, nv, l, b)) < 0)
		goto out;
	br = (int)if_nametoindex(b->bridge);
	e = br > 0 ? net_move(n, l, br, b) :
		     err_set(-ENODEV, "--net bridge:%s: bridge %s vanished while it was being set "
				      "up; run again", iface, b->bridge);
out:
	free(v);
	return e;
}

int net_bridge_ready(const char *iface, const char *lock_path, struct net_bridge *ret)
{
	struct net_bridge b = { 0 };
	struct nl *n = NULL;
	_cleanup_close_ int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int e;

	if (lock < 0)
		return err_set(-errno, "--net bridge: cannot open %s: %s", lock_path, strerror(errno));
	while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	e = nl_open(&n);
	if (e < 0)
		return err_set(e, "--net bridge:%s: cannot talk to the kernel (netlink): %s", iface,
			       strerror(-e));
	e = net_bridge_locked(n, iface, &b);
	nl_close(n);
	if (e < 0)
		return e;
	if (b.made || b.moved)
		event_notice("%s is now a port of bridge %s%s%s%s: the bridge stays after the VM "
			     "(a second run finds it); the VMs' taps join it", b.link, b.bridge,
			     b.what[0] ? "; moved onto the bridge: " : "", b.what,
			     b.made ? " (bridge made now)" : "");
	*ret = b;
	return 0;
}

/* The tap's number of bridge and its MTU. */
static int net_bridge_of(struct nl *n, const char *bridge, int *index, unsigned *mtu)
{
	struct net_link *v = NULL;
	const struct net_link *b;
	size_t nv = 0;
	int e = nl_links(n, &v, &nv);

	if (e < 0)
		return e;
	b = net_by_name(v, nv, bridge);
	if (b && !strcmp(b->kind, "bridge")) {
		*index = b->index;
		*mtu = b->mtu;
	} else {
		e = -ENODEV;
	}
	free(v);
	return e;
}

int net_tap_open(const char *bridge, char *name, size_t size, int *ret_fd)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct nl *n = NULL;
	unsigned mtu = 0;
	int e, br = 0, tap;

	if (fd < 0)
		return err_set(-errno, "a tap on bridge %s: cannot open /dev/net/tun: %s (modprobe "
				       "tun, as root)", bridge, strerror(errno));
	str_copy(ifr.ifr_name, sizeof(ifr.ifr_name), NET_TAP_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 0) < 0)
		return err_set(-errno, "a tap on bridge %s: %s%s", bridge, strerror(errno),
			       net_hint(-errno));
	tap = (int)if_nametoindex(ifr.ifr_name);
	e = nl_open(&n);
	if (e == 0)
		e = net_bridge_of(n, bridge, &br, &mtu);
	if (e == 0)
		e = tap > 0 ? nl_link_set(n, tap, br, mtu) : -ENODEV;
	nl_close(n);
	if (e < 0)
		return err_set(e, "tap %s on bridge %s: %s%s", ifr.ifr_name, bridge, strerror(-e),
			       net_hint(e));
	str_copy(name, size, ifr.ifr_name);
	*ret_fd = fd;
	fd = -1;
	return 0;
}
