/* Unit tests: manifest.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/format/manifest.h"
#include "muletto/core/util.h"

static struct manifest *sample(void)
{
	struct manifest *m = manifest_new();
	struct manifest_disk *d = manifest_add_disk(m);
	struct manifest_part *p;

	str_copy(m->name, sizeof(m->name), "web01");
	str_copy(m->created, sizeof(m->created), "2026-11-25T02:00:00Z");
	str_copy(m->firmware, sizeof(m->firmware), "uefi");
	str_copy(m->hash, sizeof(m->hash), "sha256");
	m->chunk_size = 1 << 20;
	manifest_add_controller(m, 0, "0000:00:1f.2 [8086:2922] ahci");
	manifest_add_controller(m, 1, "0000:00:03.0 [8086:100e] e1000");
	d->index = 0;
	str_copy(d->file, sizeof(d->file), "disk0.caibx");
	d->size = 4ULL << 30;
	d->logical_sector_size = 512;
	d->physical_sector_size = 4096;
	str_copy(d->pt_type, sizeof(d->pt_type), "gpt");
	p = manifest_disk_add_part(d);
	p->number = 1;
	p->start = 1 << 20;
	p->size = 512ULL << 20;
	str_copy(p->fs, sizeof(p->fs), "vfat");
	str_copy(p->label, sizeof(p->label), "ESP");
	return m;
}

static void round_trip(void)
{
	struct manifest *m = sample(), *n = NULL;
	char *json = NULL;

	CHECK(manifest_serialize(m, &json) == 0);
	CHECK(manifest_parse(json, strlen(json), "t", &n) == 0);
	CHECK(n && !strcmp(n->name, "web01") && n->ndisks == 1 && n->disks[0].size == 4ULL << 30);
	CHECK(n && n->disks[0].nparts == 1 && !strcmp(n->disks[0].parts[0].label, "ESP"));
	CHECK(n && n->disks[0].parts[0].start == 1 << 20 && !strcmp(n->disks[0].pt_type, "gpt"));
	CHECK(n && n->nstorage == 1 && n->nnetwork == 1 && !strcmp(n->firmware, "uefi"));
	CHECK(n && n->disks[0].physical_sector_size == 4096 && n->chunk_size == 1 << 20);
	CHECK(n && !n->disks[0].parts[0].md_metadata[0] && !strstr(json, "md_level"));
	manifest_free(n);
	n = NULL;
	free(json);
	json = NULL;
	/* an MD member's superblock version, level, inner file system, data offset */
	strcpy(m->disks[0].parts[0].md_metadata, "1.2");
	strcpy(m->disks[0].parts[0].md_level, "raid1");
	strcpy(m->disks[0].parts[0].md_fs, "ext4");
	m->disks[0].parts[0].md_data_offset = 1 << 20;
	CHECK(manifest_serialize(m, &json) == 0);
	CHECK(manifest_parse(json, strlen(json), "t", &n) == 0);
	CHECK(n && !strcmp(n->disks[0].parts[0].md_metadata, "1.2") &&
	      !strcmp(n->disks[0].parts[0].md_level, "raid1") &&
	      !strcmp(n->disks[0].parts[0].md_fs, "ext4") &&
	      n->disks[0].parts[0].md_data_offset == 1 << 20);
	manifest_free(m);
	manifest_free(n);
	free(json);
}

static int refused(const char *json, const char *needle)
{
	struct manifest *m = NULL;
	int r;

	err_clear();
	r = manifest_parse(json, strlen(json), "manifest.json", &m);
	manifest_free(m);
	if (r == 0 || !strstr(err_msg(), needle)) {
		fprintf(stderr, "  got %d '%s', wanted '%s'\n", r, err_msg(), needle);
		return 0;
	}
	return 1;
}

#define HEAD "{\"format\":\"muletto-manifest\",\"version\":1,\"name\":\"x\","

static void damage_is_named(void)
{
	CHECK(refused("{\"format\":\"muletto-manifest\",\"vers", "not valid JSON"));
	CHECK(refused("[]", "not a muletto manifest"));
	CHECK(refused("{\"format\":\"other\"}", "not a muletto manifest"));
	CHECK(refused("{\"format\":\"muletto-manifest\",\"name\":\"x\"}", "version is missing"));
	CHECK(refused("{\"format\":\"muletto-manifest\",\"version\":9,\"name\":\"x\"}",
		      "version 9 is not supported"));
	CHECK(refused(HEAD "\"disks\":[]}", "disks is missing or empty"));
	CHECK(refused("{\"format\":\"muletto-manifest\",\"version\":1,\"disks\":[]}",
		      "name is missing"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"file\":\"d.caibx\"}]}", "disks[0].size is "));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":\"big\",\"file\":\"d.caibx\"}]}",
		      "disks[0].size is missing or not a number"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":-1,\"file\":\"d.caibx\"}]}",
		      "disks[0].size"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":1}]}", "disks[0].file is missing"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":1,\"file\":\"../x\"}]}",
		      "not a plain file name"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":1,\"file\":\"..\"}]}",
		      "not a plain file name"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":1,\"file\":\"a\",\"partitions\":"
			   "[{\"number\":1,\"start\":0}]}]}",
		      "disks[0].partitions[0].size"));
	CHECK(refused(HEAD "\"disks\":[{\"index\":0,\"size\":1,\"file\":\"a\",\"partitions\":7}]}",
		      "partitions is not a list"));
	CHECK(refused(HEAD "\"name\":\"y\",\"disks\":[]}", "not valid JSON")); /* duplicate key */
}

static void unknown_keys_are_ignored(void)
{
	const char *j = HEAD "\"future\":{\"a\":1},\"disks\":[{\"index\":0,\"size\":10,"
			     "\"file\":\"disk0.caibx\",\"new\":true}]}";
	struct manifest *m = NULL;

	CHECK(manifest_parse(j, strlen(j), "t", &m) == 0 && m && m->disks[0].size == 10);
	manifest_free(m);
}

/* "consistency": live captures say so and keep saying so; manifests older
 * than the field are consistent; anything else is damage. */
static void consistency(void)
{
	const char *old = HEAD "\"disks\":[{\"index\":0,\"size\":10,\"file\":\"d.caibx\"}]}";
	const char *cons = HEAD "\"consistency\":\"consistent\",\"disks\":[{\"index\":0,"
			   "\"size\":10,\"file\":\"d.caibx\"}]}";
	struct manifest *m = sample(), *n = NULL;
	char *json = NULL;

	CHECK(m->consistency == MANIFEST_CONSISTENT); /* what a new manifest says */
	m->consistency = MANIFEST_LIVE;
	CHECK(manifest_serialize(m, &json) == 0 && strstr(json, "\"consistency\": \"live\""));
	CHECK(json && manifest_parse(json, strlen(json), "t", &n) == 0);
	CHECK(n && n->consistency == MANIFEST_LIVE);
	manifest_free(n);
	free(json);
	json = NULL;
	n = NULL;
	m->consistency = MANIFEST_CONSISTENT;
	CHECK(manifest_serialize(m, &json) == 0 && strstr(json, "\"consistency\": \"consistent\""));
	free(json);
	manifest_free(m);
	CHECK(manifest_parse(old, strlen(old), "t", &n) == 0 && n &&
	      n->consistency == MANIFEST_CONSISTENT);
	manifest_free(n);
	n = NULL;
	CHECK(manifest_parse(cons, strlen(cons), "t", &n) == 0 && n &&
	      n->consistency == MANIFEST_CONSISTENT);
	manifest_free(n);
	CHECK(refused(HEAD "\"consistency\":\"torn\",\"disks\":[{\"index\":0,\"size\":1,"
			   "\"file\":\"a\"}]}",
		      "consistency is neither \"consistent\" nor \"live\""));
	CHECK(refused(HEAD "\"consistency\":1,\"disks\":[{\"index\":0,\"size\":1,\"file\":\"a\"}]}",
		      "consistency is neither"));
	CHECK(!strcmp(manifest_consistency_name(MANIFEST_LIVE), "live"));
}

int main(void)
{
	RUN(round_trip);
	RUN(damage_is_named);
	RUN(unknown_keys_are_ignored);
	RUN(consistency);
	CHECK_EXIT();
}
