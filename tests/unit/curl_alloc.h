/* libcurl on allocators that put a header in front of each block: a string of
 * libcurl's released with free() instead of curl_free() is then a bad free
 * that the address sanitizer reports. Call curl_alloc_checked() first. */
#ifndef MULETTO_TEST_CURL_ALLOC_H
#define MULETTO_TEST_CURL_ALLOC_H

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define HDR 16

static void *t_malloc(size_t n)
{
	char *p = malloc(n + HDR);
	return p ? p + HDR : NULL;
}

static void t_free(void *p)
{
	if (p)
		free((char *)p - HDR);
}

static void *t_realloc(void *p, size_t n)
{
	char *q = realloc(p ? (char *)p - HDR : NULL, n + HDR);
	return q ? q + HDR : NULL;
}

static char *t_strdup(const char *s)
{
	char *p = t_malloc(strlen(s) + 1);
	return p ? strcpy(p, s) : NULL;
}

static void *t_calloc(size_t n, size_t size)
{
	char *p = calloc(1, n * size + HDR);
	return p ? p + HDR : NULL;
}

static int curl_alloc_checked(void)
{
	return curl_global_init_mem(CURL_GLOBAL_DEFAULT, t_malloc, t_free, t_realloc, t_strdup,
				    t_calloc) == CURLE_OK ? 0 : -1;
}

#endif
