/* A fix-up report as text (see report_text.h). */
#include <stdlib.h>
#include <string.h>

#include "muletto/fixup/report_text.h"

void fixup_report_text(FILE *f, const struct fixup_report *r)
{
	size_t i;

	fprintf(f, "muletto fixup: %s%s%s on %s", r->kind, r->name[0] ? ": " : "", r->name,
		r->partition[0] ? r->partition : "?");
	if (r->boot_mode[0])
		fprintf(f, " (booted %s when captured)", r->boot_mode);
	fputc('\n', f);
	if (r->refused)
		fprintf(f, "refused: nothing was changed\n");
	for (i = 0; i < r->n; i++)
		fprintf(f, "  %-14s %s: %s\n", fixup_state_name(r->items[i].state),
			r->items[i].what, r->items[i].detail);
}

char *fixup_report_string(const struct fixup_report *r, int crlf)
{
	char *text = NULL, *out, *s, *o;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fixup_report_text(f, r);
	if (fclose(f) != 0 || !text) {
		free(text);
		return NULL;
	}
	if (!crlf)
		return text;
	for (s = text; *s; s++)
		lines += *s == '\n';
	out = malloc(len + lines + 1);
	if (out) {
		for (s = text, o = out; *s; s++) {
			if (*s == '\n')
				*o++ = '\r';
			*o++ = *s;
		}
		*o = '\0';
	}
	free(text);
	return out;
}
