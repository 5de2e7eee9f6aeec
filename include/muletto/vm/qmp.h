/* QEMU's monitor protocol (QMP): JSON over a Unix socket. One command at a
 * time; events that arrive meanwhile are skipped. */
#ifndef MULETTO_VM_QMP_H
#define MULETTO_VM_QMP_H

#include <jansson.h>

struct qmp;

/* Connects to QEMU's monitor socket (waiting up to timeout_ms for it to
 * appear), reads the greeting and enters command mode. */
int qmp_connect(const char *path, int timeout_ms, struct qmp **ret);
/* Runs cmd with args (taken over; NULL: none). *ret (if not NULL) gets the
 * "return" value (json_decref it). QEMU's refusal: -EIO with its words. */
int qmp_call(struct qmp *q, const char *cmd, json_t *args, json_t **ret);
void qmp_close(struct qmp *q);

#endif
