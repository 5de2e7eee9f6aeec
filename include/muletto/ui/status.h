/* What the machine is doing, for muletto status and its status page: the jobs
 * (ui/jobrec.h), the VMs (vm/run.h), the disks (disk/disk.h), the log's last
 * lines. And the page itself: a small HTTP/1.1 server, read-only, behind a
 * token, serving "/" (a self-contained HTML page that updates itself every
 * 2 s) and "/status.json".
 *
 * The server is one thread with poll(2): a request is at most
 * STATUS_REQUEST_MAX bytes and must arrive within STATUS_REQUEST_SECONDS, an
 * answer must be taken within STATUS_REPLY_SECONDS, one request per
 * connection, at most STATUS_CLIENTS_MAX at a time: a client that trickles
 * or never ends holds a slot for seconds, never the server. */
#ifndef MULETTO_UI_STATUS_H
#define MULETTO_UI_STATUS_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

#define STATUS_REQUEST_MAX 8192
#define STATUS_REQUEST_SECONDS 5
#define STATUS_REPLY_SECONDS 10
#define STATUS_CLIENTS_MAX 32
#define STATUS_JOBS_MAX 20
#define STATUS_LOG_LINES 40
#define STATUS_LOG_DEFAULT "/run/muletto.log"

/* A VM's status.json (vm/run.h), "state" made "ended" when its run is gone;
 * NULL when there is none. */
json_t *status_vm_load(const char *name);
/* 1 when the run of the VM name still holds its folder. */
int status_vm_running(const char *name);
/* Every VM's. A new array. */
json_t *status_vms(void);

/* Everything: {"host", "time", "jobs", "vms", "disks", "log"}. A new object. */
json_t *status_collect(void);

/* The HTML page, with the status s inlined for its first rendering (a new
 * string, NULL when out of memory). */
char *status_page_html(const json_t *s);

struct status_server_opts {
	const char *listen; /* "[ADDR:]PORT", ADDR defaults to 0.0.0.0 */
	const char *token;  /* required from every client; NULL: loopback only */
};

/* "ADDR:PORT" into addr and *port: 0, or -EINVAL with a message. */
int status_parse_listen(const char *s, char *addr, size_t addr_size, int *port);
/* Listens (a NOTICE names the address), then answers until *stop. 0, or a
 * negative code with a message: the address cannot be had, or no token on
 * an address other than loopback. */
int status_serve(const struct status_server_opts *o, volatile sig_atomic_t *stop);

#endif
