/* Every HTTP transfer of the process on one libcurl multi handle, driven by
 * one thread. Workers keep their own easy handle (options, callbacks) and hand
 * it over for each request; the pool keeps connections alive and shares them
 * between workers, multiplexes requests over one HTTP/2 connection when the
 * server offers it, and caps the connections to one host.
 *
 * Callbacks of a transfer run on the pool's thread while its caller waits, so
 * they may touch what the caller owns. */
#ifndef MULETTO_HTTP_POOL_H
#define MULETTO_HTTP_POOL_H

#include <curl/curl.h>

#define HTTP_POOL_MAX_HOST_CONNECTIONS 16

/* Starts the pool (or counts one more user of it). 0 or -ENOMEM. */
int http_pool_ref(void);
/* The last user stops the thread and closes the connections. */
void http_pool_unref(void);
/* Runs one transfer to its end, like curl_easy_perform. */
CURLcode http_pool_perform(CURL *easy);

#endif
