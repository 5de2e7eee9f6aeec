/* fixup's reports shown: lines for a person, JSON for a program. */
#include <jansson.h>
#include <stdio.h>

#include "muletto/cli/show.h"
#include "muletto/cli/show_fixup.h"
#include "muletto/fixup/fixup.h"

void show_fixup(const struct fixup_report *r, size_t n, const struct fixup_opts *o)
{
	char a[256], b[256], c[400];
	size_t i, k, changes = 0;

	for (i = 0; i < n; i++) {
		printf("%s on %s, booting %s%s:\n", show_safe(r[i].name, a, sizeof(a)),
		       show_safe(r[i].partition, b, sizeof(b)), o->uefi ? "UEFI" : "BIOS",
		       o->dry_run ? " (dry run: nothing is changed)" : "");
		for (k = 0; k < r[i].n; k++) {
			const struct fixup_item *it = &r[i].items[k];
			printf("  %-14s %s: %s\n", fixup_state_name(it->state),
			       show_safe(it->what, b, sizeof(b)), show_safe(it->detail, c, sizeof(c)));
			changes += it->state == FIXUP_CHANGED || it->state == FIXUP_WOULD;
		}
	}
	printf("fixup: %zu system%s, %zu change%s%s\n", n, n == 1 ? "" : "s", changes,
	       changes == 1 ? "" : "s", o->dry_run ? " (dry run: nothing was written)" : "");
}

json_t *show_fixup_json(const struct fixup_report *r, size_t n, const struct fixup_opts *o,
		   const char *error)
{
	json_t *root = json_object(), *systems = json_array();
	size_t i, k;

	for (i = 0; i < n; i++) {
		json_t *items = json_array();
		for (k = 0; k < r[i].n; k++)
			json_array_append_new(
				items, json_pack("{s:s, s:o, s:o}", "state",
						 fixup_state_name(r[i].items[k].state), "what",
						 show_json_string(r[i].items[k].what), "detail",
						 show_json_string(r[i].items[k].detail)));
		json_array_append_new(systems,
				      json_pack("{s:s, s:o, s:o, s:o}", "kind", r[i].kind, "name",
						show_json_string(r[i].name), "partition",
						show_json_string(r[i].partition), "items", items));
	}
	json_object_set_new(root, "systems", systems);
	json_object_set_new(root, "dry_run", json_boolean(o->dry_run));
	json_object_set_new(root, "firmware", json_string(o->uefi ? "uefi" : "bios"));
	if (error)
		json_object_set_new(root, "error", show_json_string(error));
	return root;
}
