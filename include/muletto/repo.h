/* A repository: images (manifest + indexes) and the chunk store, over a source. */
#ifndef MULETTO_REPO_H
#define MULETTO_REPO_H

#include "muletto/caibx.h"
#include "muletto/manifest.h"
#include "muletto/source.h"

struct repo {
	struct source *src;
	char *url;	 /* for messages */
	char *store_url; /* "<url>/store" */
	char *trust;	 /* public key images must be signed by (sign.h), or NULL */
};

/* Opens a repository; images must be signed by the key repo_default_trust()
 * names, if any. */
int repo_open(const char *url, struct repo **ret);
/* The key this machine trusts: MULETTO_TRUST, trust= in muletto.conf, or
 * /etc/muletto/trust.pub (baked into the ISO by make iso TRUST=); NULL if none. */
int repo_default_trust(char **ret);
/* Only images signed by the key in pubfile from now on. */
int repo_set_trust(struct repo *r, const char *pubfile);
void repo_close(struct repo *r);

/* images/NAME/manifest.json. Tells "not a repository" from "no such image"
 * (naming the images there) when it is missing. */
int repo_load_manifest(struct repo *r, const char *name, struct manifest **ret);
/* The index of one disk, checked against the SHA-256 the manifest pins. */
int repo_load_index(struct repo *r, const char *name, const struct manifest_disk *d,
		    struct caibx **ret);
/* Path of an image's object: "images/NAME/FILE" (new string). */
char *repo_image_path(const char *name, const char *file);
/* Rejects names that cannot be a folder: empty, '/', "..", control characters. */
int repo_check_name(const char *name);

#endif
