/* --net bridge: a VM's network cards on the customer's network, as the
 * machine's were. The muletto's own link becomes a port of a bridge (mbrN)
 * that takes over its MAC, MTU, IPv4 addresses and routes, so the muletto
 * keeps its address; each card of a VM is a tap on that bridge, passed to
 * QEMU as an open descriptor. The taps go when their VM ends; the bridge
 * stays (a second run finds it and changes nothing). */
#ifndef MULETTO_VM_NET_H
#define MULETTO_VM_NET_H

#include <net/if.h>
#include <stddef.h>

#define NET_BRIDGE_PREFIX "mbr" /* the bridges muletto makes: mbr0, mbr1... */
#define NET_TAP_NAME "mtap%d"	/* the kernel picks the number */

struct net_bridge {
	char bridge[IF_NAMESIZE]; /* what the VMs' taps join */
	char link[IF_NAMESIZE];	  /* the NIC under it; "" when IFACE was the bridge */
	int made;		  /* the bridge was made now */
	size_t moved;		  /* addresses and routes moved from link onto it now */
	char what[256];		  /* the addresses moved ("10.0.0.5/24 and 2 routes") */
};

/* The interface of this machine's default IPv4 route (the lowest metric):
 * the link it got its address on. None: -ENOENT with a message saying to
 * name one with --net bridge:IFACE. */
int net_default_link(char *name, size_t size);

/* iface's network, reachable through a bridge (*ret): iface itself when it is
 * a bridge; the bridge it is a port of; else a bridge made (or one of ours
 * left without ports) with iface as its port, iface's IPv4 addresses and
 * routes moved onto it (the addresses first added to the bridge, then the
 * port joined, the routes replaced in one step each, then the addresses
 * taken off the port). Running it again changes nothing. lock_path: a file
 * that keeps two mulettos from making two bridges at once. Errors: one line
 * naming the interface and what to do. */
int net_bridge_ready(const char *iface, const char *lock_path, struct net_bridge *ret);

/* A tap for one network card of a VM, made through /dev/net/tun, not
 * persistent (it goes when the last descriptor on it is closed: QEMU's, when
 * the VM ends), up, with the bridge's MTU, a port of bridge. Its name in
 * name; *ret_fd is close-on-exec (the caller clears that for QEMU). */
int net_tap_open(const char *bridge, char *name, size_t size, int *ret_fd);

#endif
