/* A repository: images (manifest + indexes) and the chunk store, over a source. */
#ifndef MULETTO_REPO_H
#define MULETTO_REPO_H

#include "muletto/format/caibx.h"
#include "muletto/core/err.h"
#include "muletto/format/manifest.h"
#include "muletto/format/sign.h"
#include "muletto/store/source.h"

struct repo {
	struct source *src;
	char *url;	 /* for messages */
	char *store_url; /* "<url>/store" */
	char *trust;	 /* public key images must be signed by (sign.h), or NULL */
};

/* Opens a repository (flags: enum source_flag; SOURCE_WRITE to capture);
 * images must be signed by the key repo_default_trust() names, if any. */
int repo_open(const char *url, unsigned flags, struct repo **ret);
/* The key this machine trusts: MULETTO_TRUST, trust= in muletto.conf, or
 * /etc/muletto/trust.pub (baked into the ISO by make iso TRUST=); NULL if none. */
int repo_default_trust(char **ret);
/* Only images signed by the key in pubfile from now on. */
int repo_set_trust(struct repo *r, const char *pubfile);
void repo_close(struct repo *r);

/* images/NAME/manifest.json. Tells "not a repository" from "no such image"
 * (naming the images there) when it is missing. */
int repo_load_manifest(struct repo *r, const char *name, struct manifest **ret);
/* The index of one disk, checked against the SHA-256 and size the manifest
 * gives. */
int repo_load_index(struct repo *r, const char *name, const struct manifest_disk *d,
		    struct caibx **ret);
/* Path of an image's object: "images/NAME/FILE" (new string). */
char *repo_image_path(const char *name, const char *file);
/* Image names: letters, digits, '-', '_' and '.', not starting with '.',
 * at most REPO_NAME_MAX bytes. -EINVAL with a message for any other. Every
 * command that takes a NAME, and every name a listing gives, is checked. */
#define REPO_NAME_MAX 200
int repo_check_name(const char *name);

/* Whether the image is signed, by which key, and whether this machine's
 * trusted key (if any) accepts it. */
struct repo_signature {
	int signed_;			/* manifest.json.sig exists and reads */
	char key[SIGN_FINGERPRINT_SIZE];	/* its key's fingerprint (hex) */
	int trusted;			/* 1: accepted by r->trust; 0: refused
					   (why says why); -1: no trusted key */
	char why[ERR_MSG_MAX];
};
/* Reads the signature of the manifest in buf (no error for an unsigned one). */
int repo_signature(struct repo *r, const char *name, const void *manifest, size_t len,
		   struct repo_signature *ret);

/* What verify --boot last said of an image: images/NAME/boot-verified.json,
 * which it writes when the repository can be written (ui/restore_record.h). */
#define BOOT_RECORD_FILE "boot-verified.json"
struct repo_boot {
	int known;     /* 0: never recorded */
	int booted;    /* it came to life */
	char date[11]; /* YYYY-MM-DD, UTC */
};
/* 0 with ret filled (known 0 when there is no record, or it is not one);
 * a negative code with a message when the server fails. */
int repo_boot_verified(struct repo *r, const char *name, struct repo_boot *ret);

/* What a repository holds, for ls and the screens: every folder of images/,
 * sorted by name, with its manifest when it loads. */
struct repo_image {
	char *name;		/* as the server lists it (shown escaped) */
	struct manifest *m;	/* NULL when status is not "ok" */
	char status[16];	/* "ok", "incomplete", "damaged", "bad name" */
	char error[ERR_MSG_MAX];/* why, when not "ok" */
	struct repo_signature sig;
};
/* -ENOENT with a message when url holds neither images/ nor store/. */
int repo_list(struct repo *r, struct repo_image **ret, size_t *ret_n);
void repo_list_free(struct repo_image *v, size_t n);

#endif
