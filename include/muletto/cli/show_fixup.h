/* fixup's reports (fixup/fixup.h) shown, by fixup and by restore. */
#ifndef MULETTO_CLI_SHOW_FIXUP_H
#define MULETTO_CLI_SHOW_FIXUP_H

#include <jansson.h>
#include <stddef.h>

#include "muletto/fixup/fixup.h"

/* Each system, its items, and a summary line "fixup: N systems, N changes". */
void show_fixup(const struct fixup_report *r, size_t n, const struct fixup_opts *o);
/* {"systems": [...], "dry_run": b, "firmware": "bios"|"uefi"[, "error": "..."]} */
json_t *show_fixup_json(const struct fixup_report *r, size_t n, const struct fixup_opts *o,
			const char *error);

#endif
