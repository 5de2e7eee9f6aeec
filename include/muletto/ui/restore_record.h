/* The record of a restore kept in the repository, for the office to see what
 * happened: images/NAME/restores/YYYYMMDD-HHMMSS.json (UTC), with the host,
 * the target disk's identity (model, serial, size), how long, how many bytes,
 * the result and the error. */
#ifndef MULETTO_UI_RESTORE_RECORD_H
#define MULETTO_UI_RESTORE_RECORD_H

#include <jansson.h>

/* Writes the record of the restore whose job record is job (ui/jobrec.h) into
 * repo's image name. 0 when written, 1 when skipped: the repository cannot be
 * written (http) or has no such image; a negative code with a message when
 * the writing failed. */
int restore_record_save(const char *repo, const char *name, const json_t *job);

#endif
