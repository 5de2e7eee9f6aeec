/* Notifications of a job (ui/jobrec.h): its JSON record POSTed to a web hook
 * (notify=URL in muletto.conf, or MULETTO_NOTIFY) at 25, 50 and 75 % and when
 * it ends or fails; a short mail at the end (notify_email=ADDR through
 * smtp=smtp[s]://HOST:PORT, with smtp_user= and smtp_password= from a private
 * muletto.conf), both through libcurl.
 *
 * A notification that fails is a WARNING event, never the job's failure. A
 * URL is named in messages by its scheme, host and port only: a hook's path
 * or user:password are often its secret. A password on plain smtp:// is sent
 * only after STARTTLS. */
#ifndef MULETTO_UI_NOTIFY_H
#define MULETTO_UI_NOTIFY_H

#include <jansson.h>

#define NOTIFY_TIMEOUT_SECONDS 10

struct notify;

/* What muletto.conf asks for: 0 with *ret NULL when nothing, or a new
 * notifier; a setting that cannot be read is a WARNING and is left out. */
int notify_new(struct notify **ret);
/* A progress milestone: rec POSTed in the background (rec is not taken). */
void notify_progress(struct notify *n, const json_t *rec);
/* The job's end: rec POSTed and mailed, after the notifications queued before
 * it; returns when they are all sent or have failed. */
void notify_end(struct notify *n, const json_t *rec);
void notify_free(struct notify *n);

/* "https://user:pw@hooks.example:8443/T0/B0?k=v" -> "https://hooks.example:8443",
 * into buf. */
const char *notify_url_public(const char *url, char *buf, size_t size);

#endif
