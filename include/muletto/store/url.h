/* Repository URLs, parsed in one place: libcurl's URL API (curl_url) for every
 * scheme (file, label, uuid, http, https, s3, sftp, smb, nfs), into one struct.
 * A plain path is a file:// URL. A password in a URL is refused (every process
 * can read a command line): passwords come from cred.h. */
#ifndef MULETTO_STORE_URL_H
#define MULETTO_STORE_URL_H

struct url {
	char *scheme;  /* lower case; "file" for a plain path */
	char *user;    /* percent-decoded; NULL when none */
	char *domain;  /* DOMAIN of smb://DOMAIN;user@host, decoded; NULL when none */
	char *host;    /* as given, IPv6 without brackets; NULL for file */
	char *zone;    /* IPv6 zone id ("eth0" of [fe80::1%25eth0]); NULL when none */
	unsigned port; /* 0 when the URL names none */
	char *path;    /* percent-decoded, no trailing slash ("/" at the root); a
			  plain path exactly as given */
	char *base;    /* the URL without user, query and trailing slashes, still
			  percent-encoded: what requests are built on */
	char *text;    /* as given (it holds no password), for messages */
};

/* Parses text. -EINVAL with a message for a malformed URL or one holding a
 * password; -ENOMEM. *ret is new (url_free). */
int url_parse(const char *text, struct url **ret);
void url_free(struct url *u);

/* 1 for a path or a file:// URL. */
int url_is_local(const struct url *u);
/* "host", "[fe80::1]" or "host:port" as the URL gives them, for prompts and
 * messages; new string. */
char *url_authority(const struct url *u);
/* The host for a socket address or a mount: "fe80::1%eth0" (zone kept),
 * new string. */
char *url_host_with_zone(const struct url *u);
/* "https://nas/a/b/disk.img" -> parent "https://nas/a/b", name "disk.img"
 * (decoded); a user name stays in the parent. Paths too ("disk.img" -> "."). */
int url_split(const char *text, char **ret_parent, char **ret_name);

#endif
