/* A layout plan shown to the technician: a table of the partitions, old
 * place and size next to the new ones and what happens to each, or one JSON
 * line ({"plan": {...}}) with --json. */
#ifndef MULETTO_CLI_SHOW_PLAN_H
#define MULETTO_CLI_SHOW_PLAN_H

#include "muletto/format/manifest.h"
#include "muletto/layout/plan.h"

void show_plan(const char *image, const char *target, const struct plan *pl,
	       const struct manifest_disk *d, int json);

#endif
