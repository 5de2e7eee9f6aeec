/* What fixup found and did (see fixup.h). */
#include <stdarg.h>
#include <stdio.h>

#include "muletto/core/util.h"
#include "muletto/fixup/fixup.h"

void fixup_note(struct fixup_report *r, enum fixup_state state, const char *what,
		const char *fmt, ...)
{
	struct fixup_item *it;
	va_list ap;

	if (r->n >= FIXUP_ITEMS_MAX)
		return;
	it = &r->items[r->n++];
	if (r->n == FIXUP_ITEMS_MAX) { /* the last slot says that more were left out */
		it->state = FIXUP_SKIPPED;
		str_copy(it->what, sizeof(it->what), "more");
		str_copy(it->detail, sizeof(it->detail), "further items were left out of this report");
		return;
	}
	it->state = state;
	str_copy(it->what, sizeof(it->what), what);
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
}

const char *fixup_state_name(enum fixup_state s)
{
	static const char *const names[] = { "changed", "would change", "already right", "failed",
					     "skipped" };

	return names[s];
}
