/* libFuzzer target for the untrusted formats: a casync index and a manifest.
 * The first byte picks the parser. Also builds as a plain program that runs
 * the files named on its command line (make fuzz-smoke). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/format/caibx.h"
#include "muletto/format/manifest.h"
#include "muletto/core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		struct caibx *x = NULL;
		if (caibx_parse(data + 1, size - 1, "fuzz.caibx", &x) == 0) {
			void *buf = NULL;
			size_t len = 0;
			if (caibx_serialize(x, &buf, &len) == 0)
				free(buf);
			caibx_free(x);
		}
	} else {
		struct manifest *m = NULL;
		char *copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data + 1, size - 1);
		copy[size - 1] = 0;
		if (manifest_parse(copy, size - 1, "fuzz.json", &m) == 0) {
			char *json = NULL;
			if (manifest_serialize(m, &json) == 0)
				free(json);
			manifest_free(m);
		}
		free(copy);
	}
	return 0;
}

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		void *buf = NULL;
		size_t len = 0;
		if (file_read_all(argv[i], 0, &buf, &len) < 0) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	return 0;
}
#endif
