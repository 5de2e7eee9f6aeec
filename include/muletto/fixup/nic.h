/* Network cards named by the machine they were on. A restored Linux system's
 * network configuration names the old machine's cards by interface name
 * (eth0, enp3s0) or MAC address; on other hardware neither exists, so no
 * network comes up. A map (old card -> this machine's card) comes from --nic
 * or is made by nic_map_auto; the rewriters apply it to each kind of
 * configuration as text, and fixup_nics to the files of a mounted system.
 *
 * A fix-up goes: nic_machine (this machine's cards); the old cards from the
 * manifest, else nic_names_in_config; a map from nic_map_parse (--nic) or
 * nic_map_auto; nic_map_fill (a name given for a MAC, a MAC for a name);
 * fixup_nics. */
#ifndef MULETTO_FIXUP_NIC_H
#define MULETTO_FIXUP_NIC_H

#include <stddef.h>

#include "muletto/fixup/fixup.h"

#define NIC_PAIRS_MAX 32

/* A network card: its interface name and MAC ("52:54:00:12:34:56",
 * lowercase with ':'); either may be "" when unknown. */
struct nic {
	char name[32];
	char mac[18];
};

/* An old machine's card and the card of this machine that takes its place. */
struct nic_pair {
	struct nic old, now;
};

/* Whether s[0..len) is a MAC ("52:54:00:12:34:56" or "52-54-00-12-34-56", any
 * case); if so, mac (18 bytes) gets it lowercase with ':'. */
int nic_mac_parse(const char *s, size_t len, char *mac);

/* Parses "OLD=NEW[,OLD=NEW...]" (the value of --nic), each side an interface
 * name or a MAC (either case, ':' or '-'), into out[0..*n). -EINVAL with a
 * message naming the bad part; -ENOSPC when more than max pairs. */
int nic_map_parse(const char *arg, struct nic_pair *out, size_t max, size_t *n);

/* Pairs the old cards with this machine's: an old card whose MAC is here
 * keeps that card (renamed, perhaps); one without a MAC whose name is here
 * keeps that name; the rest in order of their names. When the counts differ,
 * as many as possible; no card of this machine is given twice. -ENOSPC when
 * more than max pairs. */
int nic_map_auto(const struct nic *old, size_t nold, const struct nic *now, size_t nnow,
		 struct nic_pair *out, size_t max, size_t *n);

/* Fills what a map leaves out: an old card's MAC (or name) from the cards
 * the configuration mentions (nic_names_in_config), a new card's name (or
 * MAC) from this machine's cards (nic_machine). Either list may be NULL. */
void nic_map_fill(struct nic_pair *map, size_t n, const struct nic *old, size_t nold,
		  const struct nic *now, size_t nnow);

/* This machine's physical network cards, from sysroot/sys/class/net (sysroot
 * NULL or "" for the running system): those with a device, not lo, bridges,
 * tun/tap or other virtual links; sorted by name. -ENOSPC when more than max. */
int nic_machine(const char *sysroot, struct nic *out, size_t max, size_t *n);

/* Text rewriters, one per kind of configuration: in with every old card the
 * map names rewritten to its new card, as a new string (*out, free() it);
 * comments and spacing kept; names matched as whole words (eth0 is not
 * eth01, veth0 or br-eth0, but is the eth0 of eth0.100 and eth0:1); MACs
 * matched in any case and written in the case and separator the text used.
 * *changed counts the lines changed. 0 or -ENOMEM.
 *
 * ifupdown (/etc/network/interfaces, interfaces.d): auto, allow-hotplug,
 * iface, mapping, hwaddress, bridge ports, bond slaves, vlan raw devices. */
int nic_rewrite_ifupdown(const char *in, const struct nic_pair *map, size_t n, char **out,
			 int *changed);
/* netplan YAML: the keys under ethernets:, set-name:, match's macaddress: and
 * name:, a bridge's or bond's interfaces:, a VLAN's link:. */
int nic_rewrite_netplan(const char *in, const struct nic_pair *map, size_t n, char **out,
			int *changed);
/* NetworkManager keyfiles: interface-name= in [connection], mac-address= in
 * [ethernet] (or [802-3-ethernet]), parent= in [vlan]. */
int nic_rewrite_nm(const char *in, const struct nic_pair *map, size_t n, char **out, int *changed);
/* systemd-networkd .network and .link: Name=, MACAddress=,
 * PermanentMACAddress=, OriginalName= in [Match]; Name= in [Link]. */
int nic_rewrite_networkd(const char *in, const struct nic_pair *map, size_t n, char **out,
			 int *changed);
/* udev's 70-persistent-net.rules: each rule for an old card (its
 * ATTR{address} or NAME) commented out with "# muletto fixup: ", so the
 * kernel names the new card. */
int nic_rewrite_udev(const char *in, const struct nic_pair *map, size_t n, char **out,
		     int *changed);
/* RHEL's ifcfg-* files: DEVICE=, HWADDR=, NAME=. */
int nic_rewrite_ifcfg(const char *in, const struct nic_pair *map, size_t n, char **out,
		      int *changed);

/* The six rewriters behind one entry point, with what they saw: used[i]
 * (NULL, or n bytes) gets NIC_USED_NAME when pair i's name was rewritten and
 * NIC_USED_MAC for its MAC; found (NULL, or room for max) gets the cards the
 * text names, as nic_names_in_config gives them, *nfound counting them
 * (-ENOSPC, and no text, when they are more than max). */
enum nic_conf { NIC_IFUPDOWN, NIC_NETPLAN, NIC_NM, NIC_NETWORKD, NIC_UDEV, NIC_IFCFG };
#define NIC_USED_NAME 1
#define NIC_USED_MAC 2
int nic_rewrite(enum nic_conf kind, const char *in, const struct nic_pair *map, size_t n,
		char **out, int *changed, unsigned char *used, struct nic *found, size_t max,
		size_t *nfound);

/* The configuration files of the system mounted at root rewritten with the
 * map (at most NIC_PAIRS_MAX pairs, else -E2BIG; nothing written when
 * dry_run), one item in r per file found: FIXUP_CHANGED or FIXUP_WOULD with
 * what it changed ("eth0 -> ens3, 52:54:00:aa:bb:cc -> 52:54:00:11:22:33"),
 * FIXUP_KEPT when it names no old card, FIXUP_SKIPPED when larger than 1 MiB
 * or a symbolic link, FIXUP_FAILED when it could not be read or written. Each
 * file is replaced atomically, its mode and owner kept. 0, or the first
 * failure's code (with its message). */
int fixup_nics(const char *root, const struct nic_pair *map, size_t n, int dry_run,
	       struct fixup_report *r);

/* The cards the configuration of the system at root names (interface names,
 * MACs, paired when one stanza, rule or file gives both), into out[0..*n):
 * the old cards when the image has no manifest. lo and patterns (en*) left
 * out. -ENOSPC when more than max. */
int nic_names_in_config(const char *root, struct nic *out, size_t max, size_t *n);

#endif
