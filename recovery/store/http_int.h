/* What http.c and http_fault.c share: the meaning of a failed request. */
#ifndef MULETTO_STORE_HTTP_INT_H
#define MULETTO_STORE_HTTP_INT_H

#include <curl/curl.h>

#include "muletto/store/http.h"

/* The message for a status of 400 and up, with its code. */
int http_status_error(const char *url, long status);
/* The message for a libcurl failure, with its code. */
int http_curl_error(struct http_conn *c, const char *url, CURLcode code, struct http_req *q);
/* 1 when waiting may cure it (a server coming back, a link recovering). */
int http_retriable(const char *url, CURLcode code, long status);
/* An answer longer than q->max. */
int http_too_large(const char *url, const struct http_req *q);
/* A transfer cut for moving too little (q->stall_moved in the window). */
int http_stalled(const char *url, const struct http_req *q);

#endif
