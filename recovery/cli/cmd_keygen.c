/* muletto keygen FILE: an Ed25519 key pair for signing images. */
#include <stdio.h>
#include <string.h>

#include "muletto/cli/cmd.h"
#include "muletto/core/err.h"
#include "muletto/format/sign.h"

static const char keygen_usage[] = "muletto keygen FILE   (writes FILE, private, and FILE.pub)";

int cmd_keygen(int argc, char **argv)
{
	char fp[SIGN_FINGERPRINT_SIZE];
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s\n", keygen_usage);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(keygen_usage);
	r = sign_keygen(argv[1], fp);
	if (r < 0)
		return cmd_fail("%s", err_text(r));
	printf("signing key:  %s (private: keep it where captures run, nowhere else)\n"
	       "trusted key:  %s.pub (for restore --trust, MULETTO_TRUST or make iso TRUST=)\n"
	       "fingerprint:  %s\n", argv[1], argv[1], fp);
	return 0;
}
