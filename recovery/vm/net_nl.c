/* The kernel's routing netlink (rtnetlink), spoken directly: the boot
 * environment has busybox's ip, which cannot make a bridge or say what it
 * did in a form to parse, and a socket is all the protocol needs. */
#include <net/if.h> /* before the linux/ headers, which know to step aside then */
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "muletto/core/util.h"
#include "net_int.h"

#define NL_RECV_SIZE 65536

struct nl {
	int fd;
	uint32_t seq;
	char *buf; /* NL_RECV_SIZE: what the kernel answers */
};

struct nlreq { /* one request; the largest we build is a few hundred bytes */
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
	int full; /* an attribute did not fit: the request is not sent */
};

int nl_open(struct nl **ret)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nl *n = calloc(1, sizeof(*n));
	int e;

	if (!n)
		return -ENOMEM;
	n->fd = -1;
	if (!(n->buf = malloc(NL_RECV_SIZE))) {
		e = -ENOMEM;
		goto fail;
	}
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (n->fd < 0 || bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = -errno;
		goto fail;
	}
	*ret = n;
	return 0;
fail:
	nl_close(n);
	return e;
}

void nl_close(struct nl *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n->buf);
	free(n);
}

/* A request of type with a family header of hdrlen bytes (returned, zeroed). */
static void *nl_start(struct nlreq *m, int type, int flags, size_t hdrlen)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_LENGTH(hdrlen);
	m->h.nlmsg_type = (uint16_t)type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return NLMSG_DATA(&m->h);
}

/* An attribute appended (NULL when it does not fit, and the request is then
 * refused by nl_talk: the requests here are small and fixed, so that is a
 * mistake of this file's). */
static struct rtattr *nl_put(struct nlreq *m, int type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(m->h.nlmsg_len);
	struct rtattr *a = (struct rtattr *)(m->buf + at);

	if (m->full || at + RTA_SPACE(len) > sizeof(m->buf)) {
		m->full = 1;
		return NULL;
	}
	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
	return a;
}

static void nl_put_u32(struct nlreq *m, int type, uint32_t v)
{
	nl_put(m, type, &v, sizeof(v));
}

static void nl_nest_end(struct nlreq *m, struct rtattr *a)
{
	if (a)
		a->rta_len = (unsigned short)(m->buf + m->h.nlmsg_len - (char *)a);
}

typedef int (*nl_fn)(const struct nlmsghdr *h, void *ctx);

/* Sends m, hands every answer to fn (if any) until the kernel's ack or the
 * end of a dump. The kernel's refusal as -errno. */
static int nl_talk(struct nl *n, struct nlreq *m, nl_fn fn, void *ctx)
{
	int dump = (m->h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP, e = 0;
	struct nlmsghdr *h;
	ssize_t got;

	if (m->full)
		return -EMSGSIZE;
	m->h.nlmsg_seq = ++n->seq;
	if (!dump)
		m->h.nlmsg_flags |= NLM_F_ACK;
	if (send(n->fd, m, m->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		got = recv(n->fd, n->buf, NL_RECV_SIZE, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		for (h = (struct nlmsghdr *)n->buf; NLMSG_OK(h, (size_t)got); h = NLMSG_NEXT(h, got)) {
			if (h->nlmsg_seq != n->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return e;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *er = NLMSG_DATA(h);
				return h->nlmsg_len < NLMSG_LENGTH(sizeof(*er)) ? -EIO : er->error;
			}
			if (fn && e == 0)
				e = fn(h, ctx);
		}
	}
}

/* The attributes of a message after its family header, by type (up to max). */
static void nl_attrs(const struct rtattr *a, int len, const struct rtattr **tb, int max)
{
	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type <= max)
			tb[a->rta_type] = a;
}

static uint32_t rta_u32(const struct rtattr *a)
{
	uint32_t v = 0;

	if (a && RTA_PAYLOAD(a) >= sizeof(v))
		memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

static void rta_str(const struct rtattr *a, char *out, size_t size)
{
	size_t len = a ? MIN(RTA_PAYLOAD(a), size - 1) : 0;

	memcpy(out, a ? RTA_DATA(a) : "", len);
	out[len] = 0;
}

static int rta_in(const struct rtattr *a, struct in_addr *out)
{
	if (!a || RTA_PAYLOAD(a) < sizeof(*out))
		return 0;
	memcpy(out, RTA_DATA(a), sizeof(*out));
	return 1;
}

struct nl_list {
	void *v;
	size_t n, size;
	int index; /* nl_addrs: whose */
};

static int nl_on_link(const struct nlmsghdr *h, void *ctx)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct nl_list *l = ctx;
	struct net_link *k;

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	if (!(k = array_append(&l->v, &l->n, sizeof(*k))))
		return -ENOMEM;
	nl_attrs(IFLA_RTA(ifi), (int)IFLA_PAYLOAD(h), tb, IFLA_MAX);
	k->index = ifi->ifi_index;
	k->type = ifi->ifi_type;
	k->flags = ifi->ifi_flags;
	k->master = (int)rta_u32(tb[IFLA_MASTER]);
	k->mtu = rta_u32(tb[IFLA_MTU]);
	rta_str(tb[IFLA_IFNAME], k->name, sizeof(k->name));
	if (tb[IFLA_ADDRESS] && RTA_PAYLOAD(tb[IFLA_ADDRESS]) == sizeof(k->mac)) {
		memcpy(k->mac, RTA_DATA(tb[IFLA_ADDRESS]), sizeof(k->mac));
		k->has_mac = 1;
	}
	if (tb[IFLA_LINKINFO]) {
		nl_attrs(RTA_DATA(tb[IFLA_LINKINFO]), (int)RTA_PAYLOAD(tb[IFLA_LINKINFO]), info,
			 IFLA_INFO_MAX);
		rta_str(info[IFLA_INFO_KIND], k->kind, sizeof(k->kind));
	}
	return 0;
}

int nl_links(struct nl *n, struct net_link **ret, size_t *ret_n)
{
	struct nl_list l = { 0 };
	struct nlreq m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_GETLINK, NLM_F_DUMP, sizeof(*ifi));
	int e;

	ifi->ifi_family = AF_UNSPEC;
	e = nl_talk(n, &m, nl_on_link, &l);
	if (e < 0) {
		free(l.v);
		return e;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

static int nl_on_addr(const struct nlmsghdr *h, void *ctx)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct rtattr *tb[IFA_MAX + 1];
	struct nl_list *l = ctx;
	struct net_addr *a;

	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    ifa->ifa_family != AF_INET || (int)ifa->ifa_index != l->index)
		return 0;
	if (!(a = array_append(&l->v, &l->n, sizeof(*a))))
		return -ENOMEM;
	nl_attrs(IFA_RTA(ifa), (int)IFA_PAYLOAD(h), tb, IFA_MAX);
	if (!rta_in(tb[IFA_LOCAL], &a->local))
		rta_in(tb[IFA_ADDRESS], &a->local);
	if (!rta_in(tb[IFA_ADDRESS], &a->address))
		a->address = a->local;
	a->has_broadcast = rta_in(tb[IFA_BROADCAST], &a->broadcast);
	a->prefix = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	return 0;
}

int nl_addrs(struct nl *n, int index, struct net_addr **ret, size_t *ret_n)
{
	struct nl_list l = { .index = index };
	struct nlreq m;
	struct ifaddrmsg *ifa = nl_start(&m, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	int e;

	ifa->ifa_family = AF_INET;
	e = nl_talk(n, &m, nl_on_addr, &l);
	if (e < 0) {
		free(l.v);
		return e;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

static int nl_on_route(const struct nlmsghdr *h, void *ctx)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *tb[RTA_MAX + 1];
	struct nl_list *l = ctx;
	struct net_route *r;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)) ||
	    rt->rtm_family != AF_INET || rt->rtm_type != RTN_UNICAST)
		return 0;
	nl_attrs(RTM_RTA(rt), (int)RTM_PAYLOAD(h), tb, RTA_MAX);
	if ((tb[RTA_TABLE] ? rta_u32(tb[RTA_TABLE]) : rt->rtm_table) != RT_TABLE_MAIN ||
	    !tb[RTA_OIF])
		return 0;
	if (!(r = array_append(&l->v, &l->n, sizeof(*r))))
		return -ENOMEM;
	r->dst_len = rt->rtm_dst_len;
	r->tos = rt->rtm_tos;
	r->scope = rt->rtm_scope;
	r->protocol = rt->rtm_protocol;
	rta_in(tb[RTA_DST], &r->dst);
	r->has_gateway = rta_in(tb[RTA_GATEWAY], &r->gateway);
	r->has_prefsrc = rta_in(tb[RTA_PREFSRC], &r->prefsrc);
	r->has_priority = tb[RTA_PRIORITY] != NULL;
	r->priority = rta_u32(tb[RTA_PRIORITY]);
	r->oif = (int)rta_u32(tb[RTA_OIF]);
	return 0;
}

int nl_routes(struct nl *n, struct net_route **ret, size_t *ret_n)
{
	struct nl_list l = { 0 };
	struct nlreq m;
	struct rtmsg *rt = nl_start(&m, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rt));
	int e;

	rt->rtm_family = AF_INET;
	e = nl_talk(n, &m, nl_on_route, &l);
	if (e < 0) {
		free(l.v);
		return e;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int nl_bridge_add(struct nl *n, const char *name, const unsigned char mac[6], unsigned mtu)
{
	struct nlreq m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	struct rtattr *info, *data;

	ifi->ifi_family = AF_UNSPEC;
	nl_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
	nl_put(&m, IFLA_ADDRESS, mac, 6);
	if (mtu)
		nl_put_u32(&m, IFLA_MTU, mtu);
	info = nl_put(&m, IFLA_LINKINFO, NULL, 0);
	nl_put(&m, IFLA_INFO_KIND, "bridge", sizeof("bridge"));
	data = nl_put(&m, IFLA_INFO_DATA, NULL, 0);
	nl_put_u32(&m, IFLA_BR_STP_STATE, 0);
	nl_nest_end(&m, data);
	nl_nest_end(&m, info);
	return nl_talk(n, &m, NULL, NULL);
}

int nl_link_set(struct nl *n, int index, int master, unsigned mtu)
{
	struct nlreq m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master)
		nl_put_u32(&m, IFLA_MASTER, (uint32_t)master);
	if (mtu)
		nl_put_u32(&m, IFLA_MTU, mtu);
	return nl_talk(n, &m, NULL, NULL);
}

int nl_addr_change(struct nl *n, int add, int index, const struct net_addr *a)
{
	struct nlreq m;
	struct ifaddrmsg *ifa = nl_start(&m, add ? RTM_NEWADDR : RTM_DELADDR,
					 add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*ifa));
	int e;

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_scope = a->scope;
	ifa->ifa_flags = a->flags & IFA_F_PERMANENT;
	ifa->ifa_index = (uint32_t)index;
	nl_put(&m, IFA_LOCAL, &a->local, sizeof(a->local));
	nl_put(&m, IFA_ADDRESS, &a->address, sizeof(a->address));
	if (a->has_broadcast)
		nl_put(&m, IFA_BROADCAST, &a->broadcast, sizeof(a->broadcast));
	e = nl_talk(n, &m, NULL, NULL);
	if ((add && e == -EEXIST) || (!add && e == -EADDRNOTAVAIL))
		e = 0; /* as wanted already: a second run, or one that was cut short */
	return e;
}

int nl_route_replace(struct nl *n, int index, const struct net_route *r)
{
	struct nlreq m;
	struct rtmsg *rt = nl_start(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = r->dst_len;
	rt->rtm_tos = r->tos;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = r->protocol;
	rt->rtm_scope = r->scope;
	rt->rtm_type = RTN_UNICAST;
	if (r->dst_len)
		nl_put(&m, RTA_DST, &r->dst, sizeof(r->dst));
	if (r->has_gateway)
		nl_put(&m, RTA_GATEWAY, &r->gateway, sizeof(r->gateway));
	if (r->has_prefsrc)
		nl_put(&m, RTA_PREFSRC, &r->prefsrc, sizeof(r->prefsrc));
	if (r->has_priority)
		nl_put_u32(&m, RTA_PRIORITY, r->priority);
	nl_put_u32(&m, RTA_OIF, (uint32_t)index);
	return nl_talk(n, &m, NULL, NULL);
}
