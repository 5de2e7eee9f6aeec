/* Records kept in the repository, for the office (and the next technician)
 * to see what happened: a restore's, images/NAME/restores/YYYYMMDD-HHMMSS.json
 * (UTC), with the host, the target disk's identity (model, serial, size), how
 * long, how many bytes, the result and the error; and verify --boot's last
 * verdict, images/NAME/boot-verified.json (store/repo.h reads it). Written
 * only to repositories written without a mount of their own (a folder, SFTP,
 * S3). */
#ifndef MULETTO_UI_RESTORE_RECORD_H
#define MULETTO_UI_RESTORE_RECORD_H

#include <jansson.h>

#include "muletto/store/repo.h" /* BOOT_RECORD_FILE */

/* Writes the record of the restore whose job record is job (ui/jobrec.h) into
 * repo's image name. 0 when written, 1 when skipped: the repository cannot be
 * written (http) or has no such image; a negative code with a message when
 * the writing failed. */
int restore_record_save(const char *repo, const char *name, const json_t *job);
/* verify --boot's verdict on image name (why: what it saw), replacing the
 * last one; the same return values. */
int boot_record_save(const char *repo, const char *name, int booted, double seconds,
		     const char *why);

#endif
