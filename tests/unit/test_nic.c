/* Unit tests: the old machine's network cards mapped onto this machine's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/fixup/nic.h"

/* eth0 (52:54:00:aa:bb:cc) -> ens3 (52:54:00:11:22:33); enp3s0 -> enp1s0. */
static const struct nic_pair MAP[] = {
	{ { "eth0", "52:54:00:aa:bb:cc" }, { "ens3", "52:54:00:11:22:33" } },
	{ { "enp3s0", "" }, { "enp1s0", "" } },
};

typedef int (*rewrite_fn)(const char *, const struct nic_pair *, size_t, char **, int *);

/* Whether fn makes want of in with MAP, changing that many lines. */
static int rewrites(rewrite_fn fn, const char *in, const char *want, int lines)
{
	char *out = NULL;
	int changed = -1, ok;

	if (fn(in, MAP, ARRAY_SIZE(MAP), &out, &changed) < 0)
		return 0;
	ok = !strcmp(out, want) && changed == lines;
	if (!ok)
		fprintf(stderr, "  got (%d lines):\n%s\n  want (%d):\n%s\n", changed, out, lines,
			want);
	free(out);
	return ok;
}

static void parse_takes_names_and_macs_in_any_case(void)
{
	struct nic_pair m[4];
	size_t n = 0;

	CHECK(nic_map_parse("eth0=ens3", m, 4, &n) == 0 && n == 1);
	CHECK(!strcmp(m[0].old.name, "eth0") && !m[0].old.mac[0] && !strcmp(m[0].now.name, "ens3"));
	CHECK(nic_map_parse("52-54-00-AA-BB-CC=ens3,enp3s0=52:54:00:11:22:3F", m, 4, &n) == 0 &&
	      n == 2);
	CHECK(!strcmp(m[0].old.mac, "52:54:00:aa:bb:cc") && !m[0].old.name[0]);
	CHECK(!strcmp(m[1].old.name, "enp3s0") && !strcmp(m[1].now.mac, "52:54:00:11:22:3f"));
}

static void parse_errors_name_the_bad_part(void)
{
	struct nic_pair m[2];
	size_t n = 7;

	CHECK(nic_map_parse("eth0", m, 2, &n) == -EINVAL && strstr(err_msg(), "'eth0'") &&
	      strstr(err_msg(), "OLD=NEW"));
	CHECK(nic_map_parse("eth0=ens3,=ens4", m, 2, &n) == -EINVAL &&
	      strstr(err_msg(), "'=ens4'"));
	CHECK(nic_map_parse("eth0=", m, 2, &n) == -EINVAL);
	CHECK(nic_map_parse("eth 0=ens3", m, 2, &n) == -EINVAL &&
	      strstr(err_msg(), "interface name") && strstr(err_msg(), "MAC"));
	CHECK(nic_map_parse("52:54:00:aa:bb=ens3", m, 2, &n) == -EINVAL);
	CHECK(nic_map_parse("52:54-00:aa:bb:cc=ens3", m, 2, &n) == -EINVAL);
	CHECK(nic_map_parse("averyveryverylongname=ens3", m, 2, &n) == -EINVAL);
	CHECK(nic_map_parse("eth0=ens3,", m, 2, &n) == -EINVAL &&
	      strstr(err_msg(), "ends with ','"));
	CHECK(nic_map_parse("", m, 2, &n) == -EINVAL);
	CHECK(nic_map_parse("a=b,c=d,e=f", m, 2, &n) == -ENOSPC);
	CHECK(n == 7); /* out-parameters only on success */
}

static void auto_keeps_a_card_whose_mac_is_here(void)
{
	const struct nic old[] = { { "eth0", "52:54:00:00:00:01" },
				   { "eth1", "52:54:00:00:00:02" } };
	const struct nic now[] = { { "ens3", "52:54:00:00:00:09" },
				   { "ens4", "52:54:00:00:00:02" } };
	struct nic_pair m[4];
	size_t n = 0;

	CHECK(nic_map_auto(old, 2, now, 2, m, 4, &n) == 0 && n == 2);
	CHECK(!strcmp(m[0].old.name, "eth1") && !strcmp(m[0].now.name, "ens4"));
	CHECK(!strcmp(m[1].old.name, "eth0") && !strcmp(m[1].now.name, "ens3"));
}

static void auto_pairs_the_rest_in_order_of_names(void)
{
	const struct nic old[] = { { "eth1", "" }, { "eth0", "" }, { "eth2", "" } };
	const struct nic now[] = { { "enp2s0", "" }, { "enp1s0", "" }, { "eth2", "" } };
	struct nic_pair m[4];
	size_t n = 0;

	CHECK(nic_map_auto(old, 3, now, 3, m, 4, &n) == 0 && n == 3);
	CHECK(!strcmp(m[0].old.name, "eth2") && !strcmp(m[0].now.name, "eth2")); /* here already */
	CHECK(!strcmp(m[1].old.name, "eth0") && !strcmp(m[1].now.name, "enp1s0"));
	CHECK(!strcmp(m[2].old.name, "eth1") && !strcmp(m[2].now.name, "enp2s0"));
}

static void auto_with_fewer_new_cards_never_gives_one_twice(void)
{
	const struct nic old[] = { { "eth0", "52:54:00:00:00:01" },
				   { "eth1", "52:54:00:00:00:02" },
				   { "eth2", "" } };
	const struct nic now[] = { { "ens3", "52:54:00:00:00:02" } };
	const struct nic more[] = { { "a", "" }, { "b", "" }, { "c", "" } };
	struct nic_pair m[4];
	size_t n = 0;

	CHECK(nic_map_auto(old, 3, now, 1, m, 4, &n) == 0 && n == 1);
	CHECK(!strcmp(m[0].old.name, "eth1") && !strcmp(m[0].now.name, "ens3"));
	CHECK(nic_map_auto(old, 1, more, 3, m, 4, &n) == 0 && n == 1);
	CHECK(!strcmp(m[0].now.name, "a"));
	CHECK(nic_map_auto(old, 3, more, 3, m, 2, &n) == -ENOSPC);
	CHECK(nic_map_auto(old, 0, more, 3, m, 4, &n) == 0 && n == 0);
}

static void fill_completes_both_sides(void)
{
	struct nic_pair m[] = { { { "eth0", "" }, { "", "52:54:00:11:22:33" } } };
	const struct nic seen[] = { { "eth0", "52:54:00:aa:bb:cc" } };
	const struct nic here[] = { { "ens3", "52:54:00:11:22:33" } };

	nic_map_fill(m, 1, seen, 1, here, 1);
	CHECK(!strcmp(m[0].old.mac, "52:54:00:aa:bb:cc") && !strcmp(m[0].now.name, "ens3"));
}

static void ifupdown_stanzas_whole_words_only(void)
{
	CHECK(rewrites(nic_rewrite_ifupdown,
		       "# The primary network interface: eth0\n"
		       "auto lo eth0\n"
		       "allow-hotplug  eth0\n"
		       "iface eth0 inet static\n"
		       "\taddress 10.0.0.2/24\n"
		       "\thwaddress ether 52:54:00:AA:BB:CC\n"
		       "auto eth01 veth0 br-eth0\n"
		       "iface eth0.100 inet manual\n"
		       "iface eth0:1 inet static\n"
		       "iface br0 inet dhcp\n"
		       "    bridge_ports enp3s0 eth01\n"
		       "    up echo eth0\n",
		       "# The primary network interface: eth0\n"
		       "auto lo ens3\n"
		       "allow-hotplug  ens3\n"
		       "iface ens3 inet static\n"
		       "\taddress 10.0.0.2/24\n"
		       "\thwaddress ether 52:54:00:11:22:33\n"
		       "auto eth01 veth0 br-eth0\n"
		       "iface ens3.100 inet manual\n"
		       "iface ens3:1 inet static\n"
		       "iface br0 inet dhcp\n"
		       "    bridge_ports enp1s0 eth01\n"
		       "    up echo eth0\n",
		       7));
	CHECK(rewrites(nic_rewrite_ifupdown, "auto eth1\niface eth1 inet dhcp",
		       "auto eth1\niface eth1 inet dhcp", 0));
	CHECK(rewrites(nic_rewrite_ifupdown, "", "", 0));
	CHECK(
	    rewrites(nic_rewrite_ifupdown, "iface eth0 inet dhcp\n", "iface ens3 inet dhcp\n", 1));
}

static void ifupdown_mac_case_and_separator_as_written(void)
{
	CHECK(rewrites(nic_rewrite_ifupdown,
		       "hwaddress 52-54-00-aa-bb-cc\nhwaddress 52:54:00:aa:bb:cc\n",
		       "hwaddress 52-54-00-11-22-33\nhwaddress 52:54:00:11:22:33\n", 2));
	CHECK(rewrites(nic_rewrite_ifupdown,
		       "hwaddress 52:54:00:aa:bb:cc:dd\nhwaddress x52:54:00:aa:bb:cc\n",
		       "hwaddress 52:54:00:aa:bb:cc:dd\nhwaddress x52:54:00:aa:bb:cc\n", 0));
}

static void netplan_keys_under_ethernets_and_match(void)
{
	CHECK(rewrites(nic_rewrite_netplan,
		       "# netplan: eth0\n"
		       "network:\n"
		       "  version: 2\n"
		       "  ethernets:\n"
		       "    eth0:   # the old card\n"
		       "      dhcp4: true\n"
		       "    lan:\n"
		       "      match:\n"
		       "        macaddress: \"52:54:00:AA:BB:CC\"\n"
		       "        name: enp3s0\n"
		       "      set-name: eth0\n"
		       "    eth01:\n"
		       "      dhcp4: true\n"
		       "  bridges:\n"
		       "    br0:\n"
		       "      interfaces: [enp3s0, eth01]\n"
		       "  bonds:\n"
		       "    bond0:\n"
		       "      interfaces:\n"
		       "      - eth0\n"
		       "      - veth0\n"
		       "  vlans:\n"
		       "    vlan10:\n"
		       "      id: 10\n"
		       "      link: eth0\n"
		       "  wifis:\n"
		       "    eth0: {}\n",
		       "# netplan: eth0\n"
		       "network:\n"
		       "  version: 2\n"
		       "  ethernets:\n"
		       "    ens3:   # the old card\n"
		       "      dhcp4: true\n"
		       "    lan:\n"
		       "      match:\n"
		       "        macaddress: \"52:54:00:11:22:33\"\n"
		       "        name: enp1s0\n"
		       "      set-name: ens3\n"
		       "    eth01:\n"
		       "      dhcp4: true\n"
		       "  bridges:\n"
		       "    br0:\n"
		       "      interfaces: [enp1s0, eth01]\n"
		       "  bonds:\n"
		       "    bond0:\n"
		       "      interfaces:\n"
		       "      - ens3\n"
		       "      - veth0\n"
		       "  vlans:\n"
		       "    vlan10:\n"
		       "      id: 10\n"
		       "      link: ens3\n"
		       "  wifis:\n"
		       "    eth0: {}\n",
		       7));
}

static void netplan_macaddress_outside_match_is_left(void)
{
	const char *y = "network:\n  ethernets:\n    ens3:\n      macaddress: 52:54:00:aa:bb:cc\n";

	CHECK(rewrites(nic_rewrite_netplan, y, y, 0));
}

static void nm_keyfile_in_its_sections(void)
{
	CHECK(rewrites(nic_rewrite_nm,
		       "[connection]\n"
		       "id=Wired eth0\n"
		       "type=ethernet\n"
		       "interface-name=eth0\n"
		       "\n"
		       "[ethernet]\n"
		       "mac-address=52:54:00:AA:BB:CC\n"
		       "cloned-mac-address=52:54:00:aa:bb:cc\n"
		       "# mac-address=52:54:00:aa:bb:cc\n"
		       "\n"
		       "[ipv4]\n"
		       "method=auto\n"
		       "interface-name=eth0\n",
		       "[connection]\n"
		       "id=Wired eth0\n"
		       "type=ethernet\n"
		       "interface-name=ens3\n"
		       "\n"
		       "[ethernet]\n"
		       "mac-address=52:54:00:11:22:33\n"
		       "cloned-mac-address=52:54:00:aa:bb:cc\n"
		       "# mac-address=52:54:00:aa:bb:cc\n"
		       "\n"
		       "[ipv4]\n"
		       "method=auto\n"
		       "interface-name=eth0\n",
		       2));
}

static void networkd_match_and_link(void)
{
	CHECK(rewrites(nic_rewrite_networkd,
		       "[Match]\n"
		       "Name=eth0 enp3s0 eth01\n"
		       "MACAddress=52:54:00:aa:bb:cc\n"
		       "PermanentMACAddress = 52:54:00:AA:BB:CC\n"
		       "#Name=eth0\n"
		       "\n"
		       "[Network]\n"
		       "Name=eth0\n"
		       "DHCP=yes\n",
		       "[Match]\n"
		       "Name=ens3 enp1s0 eth01\n"
		       "MACAddress=52:54:00:11:22:33\n"
		       "PermanentMACAddress = 52:54:00:11:22:33\n"
		       "#Name=eth0\n"
		       "\n"
		       "[Network]\n"
		       "Name=eth0\n"
		       "DHCP=yes\n",
		       3));
	CHECK(rewrites(nic_rewrite_networkd,
		       "[Match]\nMACAddress=52:54:00:aa:bb:cc\n[Link]\nName=eth0\n",
		       "[Match]\nMACAddress=52:54:00:11:22:33\n[Link]\nName=ens3\n", 2));
	CHECK(rewrites(nic_rewrite_networkd, "[Match]\nName=en*\n", "[Match]\nName=en*\n", 0));
}

static void udev_rules_for_old_cards_commented_out(void)
{
	CHECK(rewrites(nic_rewrite_udev,
		       "# This file was automatically generated by udev\n"
		       "\n"
		       "# PCI device 0x8086:0x100e (e1000)\n"
		       "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
		       "ATTR{address}==\"52:54:00:AA:BB:CC\", ATTR{type}==\"1\", KERNEL==\"eth*\", "
		       "NAME=\"eth0\"\n"
		       "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"52:54:00:99:99:99\", "
		       "NAME=\"eth1\"\n"
		       "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"52:54:00:99:99:98\", "
		       "NAME=\"enp3s0\"\n",
		       "# This file was automatically generated by udev\n"
		       "\n"
		       "# PCI device 0x8086:0x100e (e1000)\n"
		       "# muletto fixup: SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
		       "ATTR{address}==\"52:54:00:AA:BB:CC\", ATTR{type}==\"1\", KERNEL==\"eth*\", "
		       "NAME=\"eth0\"\n"
		       "SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"52:54:00:99:99:99\", "
		       "NAME=\"eth1\"\n"
		       "# muletto fixup: SUBSYSTEM==\"net\", ACTION==\"add\", "
		       "ATTR{address}==\"52:54:00:99:99:98\", NAME=\"enp3s0\"\n",
		       2));
}

static void ifcfg_device_hwaddr_name(void)
{
	CHECK(rewrites(nic_rewrite_ifcfg,
		       "# eth0\n"
		       "TYPE=Ethernet\n"
		       "NAME=\"System eth0\"\n"
		       "DEVICE=eth0\n"
		       "HWADDR=52:54:00:AA:BB:CC\n"
		       "MACADDR=52:54:00:aa:bb:cc\n"
		       "ONBOOT=yes\n",
		       "# eth0\n"
		       "TYPE=Ethernet\n"
		       "NAME=\"System ens3\"\n"
		       "DEVICE=ens3\n"
		       "HWADDR=52:54:00:11:22:33\n"
		       "MACADDR=52:54:00:aa:bb:cc\n"
		       "ONBOOT=yes\n",
		       3));
	CHECK(rewrites(nic_rewrite_ifcfg, "DEVICE=eth01\nHWADDR=52:54:00:aa:bb:cd\n",
		       "DEVICE=eth01\nHWADDR=52:54:00:aa:bb:cd\n", 0));
}

static void a_map_without_new_names_changes_no_name(void)
{
	const struct nic_pair m[] = { { { "eth0", "" }, { "", "52:54:00:11:22:33" } } };
	char *out = NULL;
	int changed = -1;

	CHECK(nic_rewrite_ifupdown("auto eth0\n", m, 1, &out, &changed) == 0 && changed == 0 &&
	      !strcmp(out, "auto eth0\n"));
	free(out);
}

/* A file of the tree under root, its folders made. */
static void put_file(const char *root, const char *rel, const char *text, mode_t mode)
{
	char p[4096], *slash;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	slash = strrchr(p, '/');
	*slash = 0;
	CHECK(mkdir_p(p, 0755) == 0);
	*slash = '/';
	CHECK(file_write_atomic(p, text, strlen(text), 0) == 0);
	CHECK(chmod(p, mode) == 0);
}

static int file_is(const char *root, const char *rel, const char *want)
{
	char p[4096];
	void *buf = NULL;
	size_t len;
	int ok;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	if (file_read_all(p, 0, &buf, &len) < 0)
		return 0;
	ok = len == strlen(want) && !memcmp(buf, want, len);
	if (!ok)
		fprintf(stderr, "  %s is:\n%s\n  want:\n%s\n", rel, (char *)buf, want);
	free(buf);
	return ok;
}

static mode_t mode_of(const char *root, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	return stat(p, &st) < 0 ? 0 : st.st_mode & 07777;
}

/* The item of r for a file. */
static const struct fixup_item *item_of(const struct fixup_report *r, const char *rel)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].what, rel))
			return &r->items[i];
	return NULL;
}

#define IFUPDOWN_OLD                                                                               \
	"auto lo\niface lo inet loopback\n\n# eth0\nallow-hotplug eth0\niface eth0 inet dhcp\n"
#define IFUPDOWN_NEW                                                                               \
	"auto lo\niface lo inet loopback\n\n# eth0\nallow-hotplug ens3\niface ens3 inet dhcp\n"
#define NETPLAN_OLD "network:\n  ethernets:\n    enp3s0:\n      dhcp4: true # enp3s0\n"
#define NETPLAN_NEW "network:\n  ethernets:\n    enp1s0:\n      dhcp4: true # enp3s0\n"
#define NM_OLD                                                                                     \
	"[connection]\nid=wired\ninterface-name=eth0\n\n[ethernet]\nmac-address=52:54:00:AA:BB:"   \
	"CC\n"
#define NM_NEW                                                                                     \
	"[connection]\nid=wired\ninterface-name=ens3\n\n[ethernet]\nmac-address=52:54:00:11:22:"   \
	"33\n"
#define NETWORKD_OLD "[Match]\nMACAddress=52:54:00:aa:bb:cc\n\n[Network]\nDHCP=yes\n"
#define NETWORKD_NEW "[Match]\nMACAddress=52:54:00:11:22:33\n\n[Network]\nDHCP=yes\n"
#define UDEV_OLD "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:aa:bb:cc\", NAME=\"eth0\"\n"
#define IFCFG_OLD "DEVICE=eth0\nHWADDR=52:54:00:aa:bb:cc\nONBOOT=yes\n"
#define IFCFG_NEW "DEVICE=ens3\nHWADDR=52:54:00:11:22:33\nONBOOT=yes\n"
#define OTHER "[Match]\nName=wlan0\n"

static void make_tree(const char *root)
{
	put_file(root, "/etc/network/interfaces", IFUPDOWN_OLD, 0644);
	put_file(root, "/etc/network/interfaces.d/.hidden", IFUPDOWN_OLD, 0644);
	put_file(root, "/etc/netplan/01-netcfg.yaml", NETPLAN_OLD, 0600);
	put_file(root, "/etc/netplan/01-netcfg.yaml.bak", NETPLAN_OLD, 0600);
	put_file(root, "/etc/NetworkManager/system-connections/wired.nmconnection", NM_OLD, 0600);
	put_file(root, "/etc/systemd/network/10-lan.network", NETWORKD_OLD, 0644);
	put_file(root, "/etc/systemd/network/20-wifi.network", OTHER, 0644);
	put_file(root, "/etc/udev/rules.d/70-persistent-net.rules", UDEV_OLD, 0644);
	put_file(root, "/etc/sysconfig/network-scripts/ifcfg-eth0", IFCFG_OLD, 0644);
}

static void tree_untouched(const char *root)
{
	CHECK(file_is(root, "/etc/network/interfaces", IFUPDOWN_OLD));
	CHECK(file_is(root, "/etc/netplan/01-netcfg.yaml", NETPLAN_OLD));
	CHECK(file_is(root, "/etc/NetworkManager/system-connections/wired.nmconnection", NM_OLD));
	CHECK(file_is(root, "/etc/systemd/network/10-lan.network", NETWORKD_OLD));
	CHECK(file_is(root, "/etc/udev/rules.d/70-persistent-net.rules", UDEV_OLD));
	CHECK(file_is(root, "/etc/sysconfig/network-scripts/ifcfg-eth0", IFCFG_OLD));
}

static void fixup_rewrites_each_kind_of_file(void)
{
	char root[] = "/tmp/muletto-nic-XXXXXX", cmd[128];
	static struct fixup_report r;
	const struct fixup_item *it;

	CHECK(mkdtemp(root) != NULL);
	make_tree(root);

	memset(&r, 0, sizeof(r));
	CHECK(fixup_nics(root, MAP, ARRAY_SIZE(MAP), 1, &r) == 0);
	tree_untouched(root); /* dry run */
	CHECK(r.n == 7);
	it = item_of(&r, "/etc/network/interfaces");
	CHECK(it && it->state == FIXUP_WOULD && !strcmp(it->detail, "eth0 -> ens3"));

	memset(&r, 0, sizeof(r));
	CHECK(fixup_nics(root, MAP, ARRAY_SIZE(MAP), 0, &r) == 0);
	CHECK(r.n == 7);
	CHECK(file_is(root, "/etc/network/interfaces", IFUPDOWN_NEW));
	CHECK(file_is(root, "/etc/network/interfaces.d/.hidden", IFUPDOWN_OLD));
	CHECK(file_is(root, "/etc/netplan/01-netcfg.yaml", NETPLAN_NEW));
	CHECK(file_is(root, "/etc/netplan/01-netcfg.yaml.bak", NETPLAN_OLD));
	CHECK(file_is(root, "/etc/NetworkManager/system-connections/wired.nmconnection", NM_NEW));
	CHECK(file_is(root, "/etc/systemd/network/10-lan.network", NETWORKD_NEW));
	CHECK(file_is(root, "/etc/systemd/network/20-wifi.network", OTHER));
	CHECK(file_is(root, "/etc/udev/rules.d/70-persistent-net.rules",
		      "# muletto fixup: " UDEV_OLD));
	CHECK(file_is(root, "/etc/sysconfig/network-scripts/ifcfg-eth0", IFCFG_NEW));
	CHECK(mode_of(root, "/etc/NetworkManager/system-connections/wired.nmconnection") == 0600);
	CHECK(mode_of(root, "/etc/netplan/01-netcfg.yaml") == 0600);
	CHECK(mode_of(root, "/etc/network/interfaces") == 0644);

	it = item_of(&r, "/etc/NetworkManager/system-connections/wired.nmconnection");
	CHECK(it && it->state == FIXUP_CHANGED &&
	      !strcmp(it->detail, "eth0 -> ens3, 52:54:00:aa:bb:cc -> 52:54:00:11:22:33"));
	it = item_of(&r, "/etc/netplan/01-netcfg.yaml");
	CHECK(it && it->state == FIXUP_CHANGED && !strcmp(it->detail, "enp3s0 -> enp1s0"));
	it = item_of(&r, "/etc/systemd/network/20-wifi.network");
	CHECK(it && it->state == FIXUP_KEPT);
	it = item_of(&r, "/etc/udev/rules.d/70-persistent-net.rules");
	CHECK(it && it->state == FIXUP_CHANGED && strstr(it->detail, "commented out") &&
	      strstr(it->detail, "eth0 -> ens3"));
	it = item_of(&r, "/etc/sysconfig/network-scripts/ifcfg-eth0");
	CHECK(it && it->state == FIXUP_CHANGED && strstr(it->detail, "keeps its name ifcfg-eth0"));

	/* a second run finds all of it right */
	memset(&r, 0, sizeof(r));
	CHECK(fixup_nics(root, MAP, ARRAY_SIZE(MAP), 0, &r) == 0);
	it = item_of(&r, "/etc/network/interfaces");
	CHECK(it && it->state == FIXUP_KEPT);
	CHECK(file_is(root, "/etc/udev/rules.d/70-persistent-net.rules",
		      "# muletto fixup: " UDEV_OLD));

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

static void fixup_skips_big_files_and_links(void)
{
	char root[] = "/tmp/muletto-nic-XXXXXX", cmd[128], p[256];
	static struct fixup_report r;
	const struct fixup_item *it;
	char *big = malloc(1024 * 1024 + 2);

	CHECK(mkdtemp(root) != NULL && big);
	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = 0;
	put_file(root, "/etc/network/interfaces", big, 0644);
	put_file(root, "/etc/netplan/a.yaml", NETPLAN_OLD, 0644);
	snprintf(p, sizeof(p), "%s/etc/netplan/b.yaml", root);
	CHECK(symlink("/etc/hostname", p) == 0);
	memset(&r, 0, sizeof(r));
	CHECK(fixup_nics(root, MAP, ARRAY_SIZE(MAP), 0, &r) == 0);
	it = item_of(&r, "/etc/network/interfaces");
	CHECK(it && it->state == FIXUP_SKIPPED && strstr(it->detail, "1 MiB"));
	it = item_of(&r, "/etc/netplan/b.yaml");
	CHECK(it && it->state == FIXUP_SKIPPED && strstr(it->detail, "symbolic link"));
	CHECK(file_is(root, "/etc/netplan/a.yaml", NETPLAN_NEW));
	free(big);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

static void names_the_configuration_mentions(void)
{
	char root[] = "/tmp/muletto-nic-XXXXXX", cmd[128];
	struct nic seen[16];
	size_t n = 0, i;
	int eth0 = 0, enp3s0 = 0;

	CHECK(mkdtemp(root) != NULL);
	make_tree(root);
	CHECK(nic_names_in_config(root, seen, 16, &n) == 0);
	for (i = 0; i < n; i++) {
		if (!strcmp(seen[i].name, "eth0") && ++eth0)
			CHECK(!strcmp(seen[i].mac, "52:54:00:aa:bb:cc"));
		if (!strcmp(seen[i].name, "enp3s0") && ++enp3s0)
			CHECK(!seen[i].mac[0]);
		CHECK(strcmp(seen[i].name, "lo"));
	}
	CHECK(eth0 == 1 && enp3s0 == 1);
	CHECK(n == 3); /* eth0, enp3s0, wlan0 */
	CHECK(nic_names_in_config(root, seen, 1, &n) == -ENOSPC);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

static void machine_cards_from_a_captured_sys(void)
{
	char root[] = "/tmp/muletto-nic-XXXXXX", cmd[128];
	struct nic nics[8];
	size_t n = 0;

	CHECK(mkdtemp(root) != NULL);
	put_file(root, "/sys/class/net/lo/address", "00:00:00:00:00:00\n", 0644);
	put_file(root, "/sys/class/net/ens4/address", "52:54:00:00:00:04\n", 0644);
	put_file(root, "/sys/class/net/ens4/type", "1\n", 0644);
	put_file(root, "/sys/class/net/ens4/device/vendor", "0x1af4\n", 0644);
	put_file(root, "/sys/class/net/ens3/address", "52:54:00:00:00:03\n", 0644);
	put_file(root, "/sys/class/net/ens3/device/vendor", "0x1af4\n", 0644);
	put_file(root, "/sys/class/net/br0/address", "52:54:00:00:00:05\n", 0644);
	put_file(root, "/sys/class/net/br0/bridge/stp_state", "0\n", 0644);
	put_file(root, "/sys/class/net/tap0/address", "52:54:00:00:00:06\n", 0644);
	put_file(root, "/sys/class/net/tap0/tun_flags", "0x1002\n", 0644);
	put_file(root, "/sys/class/net/tap0/device/x", "\n", 0644);
	put_file(root, "/sys/class/net/veth0/address", "52:54:00:00:00:07\n", 0644);
	CHECK(nic_machine(root, nics, 8, &n) == 0 && n == 2);
	CHECK(!strcmp(nics[0].name, "ens3") && !strcmp(nics[0].mac, "52:54:00:00:00:03"));
	CHECK(!strcmp(nics[1].name, "ens4") && !strcmp(nics[1].mac, "52:54:00:00:00:04"));
	CHECK(nic_machine(root, nics, 1, &n) == -ENOSPC);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
	CHECK(nic_machine(root, nics, 8, &n) < 0 && strstr(err_msg(), root));
}

static void fixup_reports_a_file_it_cannot_write(void)
{
	char root[] = "/tmp/muletto-nic-XXXXXX", cmd[128], p[256];
	static struct fixup_report r;
	const struct fixup_item *it;

	CHECK(mkdtemp(root) != NULL);
	put_file(root, "/etc/network/interfaces", IFUPDOWN_OLD, 0644);
	put_file(root, "/etc/netplan/a.yaml", NETPLAN_OLD, 0644);
	snprintf(p, sizeof(p), "%s/etc/network/interfaces.muletto-tmp", root);
	CHECK(mkdir(p, 0755) == 0); /* in the way of the new file */
	memset(&r, 0, sizeof(r));
	err_clear();
	CHECK(fixup_nics(root, MAP, ARRAY_SIZE(MAP), 0, &r) == -EEXIST);
	CHECK(strstr(err_msg(), "/etc/network/interfaces of the restored system: cannot write"));
	it = item_of(&r, "/etc/network/interfaces");
	CHECK(it && it->state == FIXUP_FAILED && strstr(it->detail, "cannot write"));
	CHECK(file_is(root, "/etc/network/interfaces", IFUPDOWN_OLD));
	CHECK(file_is(root, "/etc/netplan/a.yaml", NETPLAN_NEW)); /* the others still done */
	CHECK(fixup_nics(root, MAP, NIC_PAIRS_MAX + 1, 1, &r) == -E2BIG);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

static void swapped_names_are_swapped_once(void)
{
	const struct nic_pair m[] = { { { "eth0", "" }, { "eth1", "" } },
				      { { "eth1", "" }, { "eth0", "" } } };
	char *out = NULL;
	int changed = -1;

	CHECK(nic_rewrite_ifupdown("auto eth0 eth1\n", m, 2, &out, &changed) == 0 && changed == 1 &&
	      !strcmp(out, "auto eth1 eth0\n"));
	free(out);
}

static void quoted_values_and_no_final_newline(void)
{
	CHECK(rewrites(nic_rewrite_ifcfg, "DEVICE=\"eth0\"\nHWADDR='52-54-00-aa-bb-cc'",
		       "DEVICE=\"ens3\"\nHWADDR='52-54-00-11-22-33'", 2));
	CHECK(rewrites(nic_rewrite_netplan,
		       "network:\n  ethernets:\n    \"eth0\":\n      dhcp4: yes",
		       "network:\n  ethernets:\n    \"ens3\":\n      dhcp4: yes", 1));
}

/* The cards a text names, as "name/mac;" in order. */
static int seen_is(enum nic_conf kind, const char *text, const char *want)
{
	struct nic seen[8];
	char got[256] = "", *out = NULL;
	size_t n = 0, i;
	int changed, ok;

	if (nic_rewrite(kind, text, NULL, 0, &out, &changed, NULL, seen, 8, &n) < 0)
		return 0;
	free(out);
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s/%s;", seen[i].name,
			 seen[i].mac);
	ok = !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "  seen %s, want %s\n", got, want);
	return ok;
}

static void cards_named_with_their_macs(void)
{
	CHECK(seen_is(NIC_NETPLAN,
		      "network:\n  ethernets:\n    lan:\n      match:\n"
		      "        macaddress: 52:54:00:AA:BB:CC\n      set-name: eth0\n"
		      "    enp3s0:\n      dhcp4: true\n  bridges:\n    br0:\n"
		      "      interfaces: [enp3s0]\n",
		      "eth0/52:54:00:aa:bb:cc;enp3s0/;"));
	CHECK(seen_is(NIC_UDEV,
		      "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:00:00:01\", NAME=\"eth0\"\n"
		      "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:00:00:02\", NAME=\"eth1\"\n",
		      "eth0/52:54:00:00:00:01;eth1/52:54:00:00:00:02;"));
	CHECK(seen_is(NIC_IFUPDOWN,
		      "auto lo eth1\niface lo inet loopback\niface eth0 inet dhcp\n"
		      "  hwaddress ether 52:54:00:00:00:01\niface br0 inet dhcp\n"
		      "  bridge_ports eth1 none\n",
		      "eth1/;eth0/52:54:00:00:00:01;"));
	CHECK(seen_is(NIC_IFCFG, "NAME=\"System eth0\"\nDEVICE=eth0\nHWADDR=52:54:00:00:00:01\n",
		      "eth0/52:54:00:00:00:01;"));
	CHECK(seen_is(NIC_NETWORKD, "[Match]\nName=en*\nMACAddress=52:54:00:00:00:01\n",
		      "/52:54:00:00:00:01;"));
}

int main(void)
{
	RUN(parse_takes_names_and_macs_in_any_case);
	RUN(parse_errors_name_the_bad_part);
	RUN(auto_keeps_a_card_whose_mac_is_here);
	RUN(auto_pairs_the_rest_in_order_of_names);
	RUN(auto_with_fewer_new_cards_never_gives_one_twice);
	RUN(fill_completes_both_sides);
	RUN(ifupdown_stanzas_whole_words_only);
	RUN(ifupdown_mac_case_and_separator_as_written);
	RUN(netplan_keys_under_ethernets_and_match);
	RUN(netplan_macaddress_outside_match_is_left);
	RUN(nm_keyfile_in_its_sections);
	RUN(networkd_match_and_link);
	RUN(udev_rules_for_old_cards_commented_out);
	RUN(ifcfg_device_hwaddr_name);
	RUN(a_map_without_new_names_changes_no_name);
	RUN(fixup_rewrites_each_kind_of_file);
	RUN(fixup_skips_big_files_and_links);
	RUN(names_the_configuration_mentions);
	RUN(machine_cards_from_a_captured_sys);
	RUN(fixup_reports_a_file_it_cannot_write);
	RUN(swapped_names_are_swapped_once);
	RUN(quoted_values_and_no_final_newline);
	RUN(cards_named_with_their_macs);
	CHECK_EXIT();
}
