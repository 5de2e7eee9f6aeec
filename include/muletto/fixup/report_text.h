/* A fix-up report as text, for the human and for the file left in the
 * restored system. */
#ifndef MULETTO_FIXUP_REPORT_TEXT_H
#define MULETTO_FIXUP_REPORT_TEXT_H

#include <stdio.h>

#include "muletto/fixup/fixup.h"

/* The report: a heading (kind, name, partition, boot mode, refused), then one
 * line per item ("  changed        ControlSet001\Services\stornvme\Start: 3 -> 0
 * (boot start)"), each ending in "\n". */
void fixup_report_text(FILE *f, const struct fixup_report *r);
/* The same in a new buffer, lines ending in "\r\n" when crlf (Windows' text
 * files); NULL when out of memory. free() it. */
char *fixup_report_string(const struct fixup_report *r, int crlf);

#endif
