/* An image's bytes placed by a layout plan (see map.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/util.h"
#include "muletto/layout/map.h"

static int seg_cmp(const void *a, const void *b)
{
	const struct dio_seg *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int layout_map_make(const struct plan *pl, const struct manifest_disk *d, const struct dio *io,
		    const struct dio *const *tails, struct layout_map *ret)
{
	struct dio_seg *s = calloc(2 * pl->n + 2, sizeof(*s));
	uint64_t first = UINT64_MAX;
	size_t i, n = 0;

	if (!s)
		return -ENOMEM;
	for (i = 0; i < pl->n; i++) {
		const struct plan_part *p = &pl->p[i];
		if (p->action == PLAN_CREATE)
			continue; /* not in the image: made after the data */
		first = MIN(first, p->src->start);
		enum plan_source from = p->action == PLAN_REBUILD ? plan_made_from(p) : PLAN_FROM_PLACE;
		if (from == PLAN_FROM_NOTHING || !p->src->size)
			continue; /* made anew (swap) */
		if (from == PLAN_FROM_COPY) { /* whole into its copy, its files read from there */
			if (tails && tails[i])
				s[n++] = (struct dio_seg){ .start = p->src->start,
							   .len = p->src->size, .to = 0,
							   .io = tails[i] };
			continue;
		}
		s[n++] = (struct dio_seg){ .start = p->src->start,
					   .len = MIN(p->src->size, p->new_size),
					   .to = p->new_start, .io = io };
		if (p->new_size < p->src->size && tails && tails[i])
			s[n++] = (struct dio_seg){ .start = p->src->start + p->new_size,
						   .len = p->src->size - p->new_size, .to = 0,
						   .io = tails[i] };
	}
	s[n++] = (struct dio_seg){ .start = 0, .len = LAYOUT_BOOT_CODE, .to = 0, .io = io };
	if (!strcmp(d->pt_type, "dos") && pl->old_sector == pl->new_sector && first != UINT64_MAX &&
	    first > 512) {
		uint64_t room = first;
		for (i = 0; i < pl->n; i++)
			room = MIN(room, pl->p[i].new_start);
		if (room > 512)
			s[n++] = (struct dio_seg){ .start = 512, .len = room - 512, .to = 512, .io = io };
	}
	qsort(s, n, sizeof(*s), seg_cmp);
	ret->segs = s;
	ret->map.s = s;
	ret->map.n = n;
	return 0;
}

void layout_map_free(struct layout_map *m)
{
	free(m->segs);
	m->segs = NULL;
	m->map.n = 0;
}
