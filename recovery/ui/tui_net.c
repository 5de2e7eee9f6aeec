/* The network screen: the addresses each link got (DHCP, from the boot
 * environment), and a static address when there is none. */
#include <stdio.h>
#include <string.h>

#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "tui_int.h"

#define NET_TEXT 4096

/* "ens3      10.0.2.15/24" per address, then the default route. */
static void net_describe(char *out, size_t size)
{
	static const char *const addrs[] = { "ip", "-4", "-o", "addr", "show", NULL };
	static const char *const route[] = { "ip", "-4", "route", "show", "default", NULL };
	char buf[NET_TEXT], dev[64], addr[64];
	size_t k = 0;
	char *line, *save = NULL;

	out[0] = 0;
	if (spawn_run(addrs, buf, sizeof(buf)) < 0) {
		snprintf(out, size, "cannot list the addresses: %s", err_msg());
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* "2: ens3    inet 10.0.2.15/24 brd ... scope global dynamic ens3" */
		if (sscanf(line, "%*d: %63s inet %63s", dev, addr) != 2 || !strcmp(dev, "lo"))
			continue;
		k += (size_t)snprintf(out + k, size - k, "  %-16s %-20s %s\n", dev, addr,
				      strstr(line, "dynamic") ? "(DHCP lease)" : "");
		if (k >= size)
			return;
	}
	if (!k)
		k += (size_t)snprintf(out, size, "  no IPv4 address on any link: DHCP got no "
					       "answer; set a static address\n");
	if (k < size && spawn_run(route, buf, sizeof(buf)) == 0 && buf[0])
		snprintf(out + k, size - k, "\n  default route: %.*s\n", (int)strcspn(buf, "\n"),
			 buf);
}

/* ip addr add / ip route replace, from what was typed. */
static void net_apply(const char *dev, const char *addr, const char *gw)
{
	const char *up[] = { "ip", "link", "set", dev, "up", NULL };
	const char *add[] = { "ip", "addr", "add", addr, "dev", dev, NULL };
	const char *route[] = { "ip", "route", "replace", "default", "via", gw, "dev", dev, NULL };
	int r = spawn_run(up, NULL, 0);

	if (r == 0)
		r = spawn_run(add, NULL, 0);
	if (r == 0 && gw[0])
		r = spawn_run(route, NULL, 0);
	if (r < 0)
		tui_message("Static address", "Not set: %s", err_msg());
}

static void net_static(struct tui *t)
{
	newtComponent form, edev, eaddr, egw, next, back;
	char dev[64], addr[64], gw[64];
	int h = 11;

	newtCenteredWindow(TUI_W, h, "Static address");
	form = newtForm(NULL, NULL, 0);
	newtFormAddComponents(form, newtLabel(2, 1, "Link (ens3):"), newtLabel(2, 2, "Address/prefix:"),
			      newtLabel(2, 3, "Gateway:"), NULL);
	/* Enter in any field is Set; Tab goes to the next field */
	edev = newtEntry(20, 1, "", 20, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
	eaddr = newtEntry(20, 2, "", 24, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
	egw = newtEntry(20, 3, "", 24, NULL, NEWT_FLAG_SCROLL | NEWT_FLAG_RETURNEXIT);
	newtFormAddComponents(form, edev, eaddr, egw, NULL);
	tui_buttons(form, h, "Set", &next, &back);
	if (tui_form_run(form, NULL) != back) {
		str_copy(dev, sizeof(dev), newtEntryGetValue(edev));
		str_copy(addr, sizeof(addr), newtEntryGetValue(eaddr));
		str_copy(gw, sizeof(gw), newtEntryGetValue(egw));
		if (t->o->no_network_changes)
			tui_message("Static address", "Not set: network changes are off here.");
		else if (dev[0] && strchr(addr, '/'))
			net_apply(dev, addr, gw);
		else
			tui_message("Static address", "Give the link and an address with its prefix "
						      "(192.168.1.50/24).");
	}
	newtFormDestroy(form);
	newtPopWindow();
}

enum tui_step tui_screen_network(struct tui *t)
{
	char text[NET_TEXT], safe[NET_TEXT];
	newtComponent form, tb, next, back, stat, co;
	int h = 18;

	for (;;) {
		net_describe(text, sizeof(text));
		newtCenteredWindow(TUI_W, h, "1/6 Network");
		form = newtForm(NULL, NULL, 0);
		tb = newtTextbox(1, 1, TUI_W - 3, h - 6, 0);
		newtTextboxSetText(tb, tui_ascii(text, safe, sizeof(safe)));
		newtFormAddComponent(form, tb);
		tui_buttons(form, h, "Next", &next, &back);
		stat = newtButton(TUI_W / 2 - 6, h - 4, "Static");
		newtFormAddComponent(form, stat);
		newtFormSetCurrent(form, next);
		co = tui_form_run(form, NULL);
		newtFormDestroy(form);
		newtPopWindow();
		if (co == next)
			return TUI_NEXT;
		if (co == back)
			return TUI_BACK;
		net_static(t);
	}
}
