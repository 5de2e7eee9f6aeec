/* What net.c asks of the kernel's routing netlink (net_nl.c): the links, the
 * IPv4 addresses and main-table routes there are, and the changes to them a
 * bridge needs. Every function returns 0 or -errno as the kernel said it,
 * without a message: net.c knows which interface it was about. */
#ifndef MULETTO_VM_NET_INT_H
#define MULETTO_VM_NET_INT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct nl;

struct net_link {
	int index, master;	/* master: 0 when none */
	unsigned type, flags, mtu; /* type: ARPHRD_*, flags: IFF_* */
	char name[IF_NAMESIZE];
	char kind[16];		/* "bridge", "veth", "bond"...; "" for a plain NIC */
	unsigned char mac[6];
	int has_mac;
};

struct net_addr {
	struct in_addr local, address, broadcast;
	unsigned char prefix, scope, flags;
	int has_broadcast;
};

struct net_route { /* an IPv4 unicast route of the main table */
	struct in_addr dst, gateway, prefsrc;
	unsigned char dst_len, tos, scope, protocol;
	int has_gateway, has_prefsrc, has_priority;
	uint32_t priority;
	int oif;
};

int nl_open(struct nl **ret);
void nl_close(struct nl *n);

/* Every link; free(*ret). */
int nl_links(struct nl *n, struct net_link **ret, size_t *ret_n);
/* The IPv4 addresses of link index; free(*ret). */
int nl_addrs(struct nl *n, int index, struct net_addr **ret, size_t *ret_n);
/* The IPv4 unicast routes of the main table (multipath ones left out); free(*ret). */
int nl_routes(struct nl *n, struct net_route **ret, size_t *ret_n);

/* A new bridge, spanning tree off, with the given MAC and MTU: a bridge whose
 * MAC was set keeps it when ports come and go. */
int nl_bridge_add(struct nl *n, const char *name, const unsigned char mac[6], unsigned mtu);
/* Link index: into master (0: leave as is), its MTU (0: leave), up. */
int nl_link_set(struct nl *n, int index, int master, unsigned mtu);
/* Address a on link index: added (an existing one is fine) or removed. */
int nl_addr_change(struct nl *n, int add, int index, const struct net_addr *a);
/* Route r through link index: added, or put in place of the one with the
 * same destination and metric (one change, no moment without it). */
int nl_route_replace(struct nl *n, int index, const struct net_route *r);

#endif
