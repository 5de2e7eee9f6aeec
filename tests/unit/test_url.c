/* The one URL parser: every scheme's tricky cases. libcurl runs on allocators
 * that put a header in front of each block, so a string of libcurl's released
 * with free() instead of curl_free() is caught by the address sanitizer. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "curl_alloc.h"
#include "muletto/core/err.h"
#include "muletto/store/url.h"

static int eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static void ipv6_hosts_with_and_without_a_port(void)
{
	struct url *u = NULL;
	char *s;

	CHECK(url_parse("smb://tech@[fe80::1]:445/share/path", &u) == 0);
	CHECK(eq(u->scheme, "smb") && eq(u->host, "fe80::1") && u->port == 445);
	CHECK(eq(u->user, "tech") && eq(u->path, "/share/path"));
	CHECK((s = url_authority(u)) && eq(s, "[fe80::1]:445"));
	free(s);
	url_free(u);
	CHECK(url_parse("nfs://[2001:db8::5]/export/x", &u) == 0);
	CHECK(eq(u->host, "2001:db8::5") && u->port == 0 && eq(u->path, "/export/x"));
	url_free(u);
	CHECK(url_parse("nfs://[::1]:2049/e", &u) == 0);
	CHECK(eq(u->host, "::1") && u->port == 2049);
	url_free(u);
	CHECK(url_parse("smb://u@[fe80::1%25eth0]/share", &u) == 0);
	CHECK(eq(u->host, "fe80::1") && eq(u->zone, "eth0"));
	CHECK((s = url_host_with_zone(u)) && eq(s, "fe80::1%eth0"));
	free(s);
	url_free(u);
}

static void smb_domain_and_encoded_users(void)
{
	struct url *u = NULL;

	CHECK(url_parse("smb://OFFICE;tech@nas/backups", &u) == 0);
	CHECK(eq(u->domain, "OFFICE") && eq(u->user, "tech") && eq(u->host, "nas"));
	url_free(u);
	CHECK(url_parse("sftp://us%40er@host:2222/srv/b%20x/", &u) == 0);
	CHECK(eq(u->user, "us@er") && eq(u->path, "/srv/b x") && u->port == 2222);
	CHECK(eq(u->base, "sftp://host:2222/srv/b%20x"));
	url_free(u);
	CHECK(url_parse("smb://tech@nas/share", &u) == 0);
	CHECK(u->domain == NULL);
	url_free(u);
}

static void passwords_are_refused_without_showing_them(void)
{
	struct url *u = NULL;

	CHECK(url_parse("https://tech:s3cret@nas/repo", &u) == -EINVAL);
	CHECK(strstr(err_msg(), "password in the URL is visible to every process"));
	CHECK(!strstr(err_msg(), "s3cret"));
	CHECK(url_parse("smb://DOM;tech:s3cret@nas/share", &u) == -EINVAL);
	CHECK(!strstr(err_msg(), "s3cret"));
	/* one that does not even parse still hides it */
	CHECK(url_parse("http://tech:s3cret@bad host^/x", &u) == -EINVAL);
	CHECK(!strstr(err_msg(), "s3cret"));
}

static void slashes_case_and_paths(void)
{
	struct url *u = NULL;

	CHECK(url_parse("HTTPS://Nas.Example/Repo/", &u) == 0);
	CHECK(eq(u->scheme, "https") && eq(u->path, "/Repo") && eq(u->base, "https://Nas.Example/Repo"));
	url_free(u);
	CHECK(url_parse("http://nas", &u) == 0);
	CHECK(eq(u->path, "/") && eq(u->base, "http://nas"));
	url_free(u);
	CHECK(url_parse("/srv/backups//", &u) == 0);
	CHECK(eq(u->scheme, "file") && eq(u->path, "/srv/backups") && url_is_local(u));
	url_free(u);
	CHECK(url_parse("file:///srv/my%20backups/", &u) == 0);
	CHECK(eq(u->path, "/srv/my backups") && url_is_local(u));
	url_free(u);
	CHECK(url_parse("/", &u) == 0);
	CHECK(eq(u->path, "/"));
	url_free(u);
	CHECK(url_parse("s3://bucket/site1/servers/", &u) == 0);
	CHECK(eq(u->host, "bucket") && eq(u->path, "/site1/servers"));
	url_free(u);
	CHECK(url_parse("label://My Backups/x", &u) == 0);
	CHECK(eq(u->scheme, "label") && eq(u->host, "My Backups") && eq(u->path, "/x"));
	url_free(u);
	CHECK(url_parse("uuid://1234-ABCD/r", &u) == 0);
	CHECK(eq(u->host, "1234-ABCD"));
	url_free(u);
	CHECK(url_parse("", &u) == -EINVAL);
	CHECK(url_parse("1http://x/y", &u) == -EINVAL);
	CHECK(url_parse("http://[::1/x", &u) == -EINVAL);
}

static void split_keeps_the_user(void)
{
	char *parent = NULL, *name = NULL;

	CHECK(url_split("https://tech@nas/a/b/disk%20one.img", &parent, &name) == 0);
	CHECK(eq(parent, "https://tech@nas/a/b") && eq(name, "disk one.img"));
	free(parent);
	free(name);
	CHECK(url_split("disk.img", &parent, &name) == 0);
	CHECK(eq(parent, ".") && eq(name, "disk.img"));
	free(parent);
	free(name);
	CHECK(url_split("/x.img", &parent, &name) == 0);
	CHECK(eq(parent, "/") && eq(name, "x.img"));
	free(parent);
	free(name);
	CHECK(url_split("http://nas", &parent, &name) == -EINVAL);
	CHECK(url_split("http://nas/dir/", &parent, &name) == -EINVAL);
}

int main(void)
{
	if (curl_alloc_checked() != 0)
		return 1;
	RUN(ipv6_hosts_with_and_without_a_port);
	RUN(smb_domain_and_encoded_users);
	RUN(passwords_are_refused_without_showing_them);
	RUN(slashes_case_and_paths);
	RUN(split_keeps_the_user);
	curl_global_cleanup();
	CHECK_EXIT();
}
