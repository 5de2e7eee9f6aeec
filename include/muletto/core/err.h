/* Error messages for the human, built once where the context is known.
 *
 * Functions that can fail return 0 or a negative errno-style code. The one that
 * knows the context (which chunk, which URL, which disk) records a sentence with
 * err_set() and returns the code; callers pass the code up unchanged and may add
 * context in front with err_prefix(). Only the command layer prints err_msg().
 * The message lives in thread-local storage: a worker thread that fails copies
 * it out (err_msg()) before handing the failure to another thread. */
#ifndef MULETTO_ERR_H
#define MULETTO_ERR_H

#define ERR_MSG_MAX 1024

/* Records the message and returns code (a negative errno). */
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts "<context>: " in front of the current message; returns code. */
int err_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The current message, or strerror(-code) style text if none was set. */
const char *err_msg(void);
/* The message for a failure that returned code: the one recorded, or, when
 * none was, the system's text for code ("Cannot allocate memory"). */
const char *err_text(int code);
void err_clear(void);

/* MULETTO_DEBUG=fetch,write,... : DEBUG events (core/event.h) for the named areas. */
int debug_enabled(const char *area);
void debug_log(const char *area, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
