/* manifest.json with jansson: strict on what restore relies on, lenient on the rest. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/format/manifest.h"
#include "muletto/core/util.h"

#define FIX "the image is damaged; capture it again or restore another one"

struct manifest *manifest_new(void)
{
	struct manifest *m = calloc(1, sizeof(*m));

	if (m)
		m->version = MANIFEST_VERSION;
	return m;
}

void manifest_free(struct manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->ndisks; i++)
		free(m->disks[i].parts);
	free(m->disks);
	free(m->storage);
	free(m->network);
	free(m->nics);
	free(m);
}

struct manifest_disk *manifest_add_disk(struct manifest *m)
{
	return array_append((void **)&m->disks, &m->ndisks, sizeof(*m->disks));
}

struct manifest_part *manifest_disk_add_part(struct manifest_disk *d)
{
	return array_append((void **)&d->parts, &d->nparts, sizeof(*d->parts));
}

struct manifest_nic *manifest_add_nic(struct manifest *m)
{
	return array_append((void **)&m->nics, &m->nnics, sizeof(*m->nics));
}

const struct manifest_disk *manifest_find_disk(const struct manifest *m, int index)
{
	size_t i;

	for (i = 0; i < m->ndisks; i++)
		if (m->disks[i].index == index)
			return &m->disks[i];
	return NULL;
}

const char *manifest_consistency_name(enum manifest_consistency c)
{
	return c == MANIFEST_LIVE ? "live" : "consistent";
}

int manifest_add_controller(struct manifest *m, int network, const char *desc)
{
	char *c = array_append(network ? (void **)&m->network : (void **)&m->storage,
			       network ? &m->nnetwork : &m->nstorage, MANIFEST_STR);

	if (!c)
		return -ENOMEM;
	str_copy(c, MANIFEST_STR, desc);
	return 0;
}

/* ---- reading ---- */

struct mctx {
	const char *name; /* file, for messages */
	char where[128];  /* "disks[0].partitions[2]" */
};

static void copy_str(json_t *o, const char *key, char *out)
{
	json_t *v = json_object_get(o, key);

	str_copy(out, MANIFEST_STR, json_is_string(v) ? json_string_value(v) : "");
}

static int get_u64(struct mctx *c, json_t *o, const char *key, int required, uint64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(-EBADMSG, "%s: %s%s%s is missing or not a number: " FIX, c->name,
			       c->where, c->where[0] ? "." : "", key);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_part(struct mctx *c, json_t *o, struct manifest_part *p)
{
	uint64_t num = 0;
	int r;

	if (!json_is_object(o))
		return err_set(-EBADMSG, "%s: %s is not an object: " FIX, c->name, c->where);
	r = get_u64(c, o, "number", 1, &num);
	if (r == 0)
		r = get_u64(c, o, "start", 1, &p->start);
	if (r == 0)
		r = get_u64(c, o, "size", 1, &p->size);
	if (r < 0)
		return r;
	p->number = (int)MIN(num, 100000);
	copy_str(o, "type", p->type);
	copy_str(o, "name", p->name);
	copy_str(o, "uuid", p->uuid);
	copy_str(o, "fs", p->fs);
	copy_str(o, "label", p->label);
	copy_str(o, "fs_uuid", p->fs_uuid);
	copy_str(o, "role", p->role);
	p->attributes = json_is_string(json_object_get(o, "attributes")) ?
		strtoull(json_string_value(json_object_get(o, "attributes")), NULL, 16) : 0;
	if ((r = get_u64(c, o, "used", 0, &p->used)) < 0 ||
	    (r = get_u64(c, o, "min_size", 0, &p->min_size)) < 0 ||
	    (r = get_u64(c, o, "fs_block_size", 0, &p->fs_block_size)) < 0 ||
	    (r = get_u64(c, o, "md_data_offset", 0, &p->md_data_offset)) < 0)
		return r;
	copy_str(o, "md_metadata", p->md_metadata);
	copy_str(o, "md_level", p->md_level);
	copy_str(o, "md_fs", p->md_fs);
	return 0;
}

static int check_file_name(struct mctx *c, const char *f)
{
	if (!f[0] || strchr(f, '/') || strchr(f, '\\') || !strcmp(f, ".") || !strcmp(f, ".."))
		return err_set(-EBADMSG, "%s: %s.file '%s' is not a plain file name: " FIX,
			       c->name, c->where, f);
	return 0;
}

static int parse_disk_fields(struct mctx *c, json_t *o, struct manifest_disk *d)
{
	uint64_t idx = 0, v = 0;
	int r;

	r = get_u64(c, o, "index", 1, &idx);
	if (r == 0)
		r = get_u64(c, o, "size", 1, &d->size);
	if (r < 0)
		return r;
	d->index = (int)MIN(idx, 100000);
	if (!json_is_string(json_object_get(o, "file")))
		return err_set(-EBADMSG, "%s: %s.file is missing: " FIX, c->name, c->where);
	copy_str(o, "file", d->file);
	r = check_file_name(c, d->file);
	if (r < 0)
		return r;
	copy_str(o, "index_sha256", d->index_sha256);
	if (get_u64(c, o, "logical_sector_size", 0, &v) == 0)
		d->logical_sector_size = (uint32_t)MIN(v, 1U << 20);
	if (get_u64(c, o, "physical_sector_size", 0, &v) == 0)
		d->physical_sector_size = (uint32_t)MIN(v, 1U << 20);
	copy_str(o, "source", d->source);
	copy_str(o, "model", d->model);
	copy_str(o, "serial", d->serial);
	get_u64(c, o, "bytes_used", 0, &d->bytes_used);
	get_u64(c, o, "chunks", 0, &d->chunks);
	get_u64(c, o, "chunks_zero", 0, &d->chunks_zero);
	copy_str(json_object_get(o, "partition_table"), "type", d->pt_type);
	copy_str(json_object_get(o, "partition_table"), "uuid", d->pt_uuid);
	err_clear();
	return 0;
}

static int parse_disk(struct mctx *c, json_t *o, struct manifest_disk *d)
{
	char base[128];
	json_t *parts, *p;
	size_t i;
	int r;

	if (!json_is_object(o))
		return err_set(-EBADMSG, "%s: %s is not an object: " FIX, c->name, c->where);
	r = parse_disk_fields(c, o, d);
	if (r < 0)
		return r;
	parts = json_object_get(o, "partitions");
	if (parts && !json_is_array(parts))
		return err_set(-EBADMSG, "%s: %s.partitions is not a list: " FIX, c->name, c->where);
	str_copy(base, sizeof(base), c->where);
	json_array_foreach(parts, i, p) {
		struct manifest_part *mp = manifest_disk_add_part(d);
		if (!mp)
			return -ENOMEM;
		snprintf(c->where, sizeof(c->where), "%.60s.partitions[%zu]", base, i);
		r = parse_part(c, p, mp);
		if (r < 0)
			return r;
	}
	str_copy(c->where, sizeof(c->where), base);
	return 0;
}

static int parse_machine(json_t *o, struct manifest *m)
{
	json_t *v;
	size_t i;
	int r = 0;

	copy_str(o, "firmware", m->firmware);
	copy_str(o, "hostname", m->hostname);
	v = json_object_get(o, "cpus");
	m->cpus = json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 4096 ?
			  (int)json_integer_value(v) : 0;
	v = json_object_get(o, "memory");
	m->memory = json_is_integer(v) && json_integer_value(v) > 0 ?
			    (uint64_t)json_integer_value(v) : 0;
	json_array_foreach(json_object_get(o, "nics"), i, v) {
		struct manifest_nic *n;
		if (!json_is_object(v) || r < 0)
			continue;
		if (!(n = manifest_add_nic(m))) {
			r = -ENOMEM;
			break;
		}
		copy_str(v, "name", n->name);
		copy_str(v, "mac", n->mac);
		copy_str(v, "driver", n->driver);
	}
	json_array_foreach(json_object_get(o, "storage_controllers"), i, v)
		if (json_is_string(v) && r == 0)
			r = manifest_add_controller(m, 0, json_string_value(v));
	json_array_foreach(json_object_get(o, "network_controllers"), i, v)
		if (json_is_string(v) && r == 0)
			r = manifest_add_controller(m, 1, json_string_value(v));
	return r;
}

/* Absent in manifests older than the field: those captures were consistent
 * as far as anyone knew. */
static int parse_consistency(struct mctx *c, json_t *v, enum manifest_consistency *ret)
{
	const char *s = json_string_value(v);

	if (!v || (s && !strcmp(s, "consistent")))
		*ret = MANIFEST_CONSISTENT;
	else if (s && !strcmp(s, "live"))
		*ret = MANIFEST_LIVE;
	else
		return err_set(-EBADMSG, "%s: consistency is neither \"consistent\" nor \"live\": "
					 FIX, c->name);
	return 0;
}

static int parse_root(struct mctx *c, json_t *root, struct manifest *m)
{
	json_t *disks, *d, *ch = json_object_get(root, "chunking");
	uint64_t ver = 0;
	size_t i;
	int r;

	if (!json_is_object(root) ||
	    strcmp(json_string_value(json_object_get(root, "format")) ?: "", "muletto-manifest"))
		return err_set(-EBADMSG, "%s: not a muletto manifest (no \"format\": "
					 "\"muletto-manifest\"): " FIX, c->name);
	r = get_u64(c, root, "version", 1, &ver);
	if (r < 0)
		return r;
	if (ver != MANIFEST_VERSION)
		return err_set(-EPROTONOSUPPORT, "%s: manifest version %llu is not supported by "
						 "muletto %s: use a newer muletto", c->name,
			       (unsigned long long)ver, MULETTO_VERSION);
	m->version = (int)ver;
	if (!json_is_string(json_object_get(root, "name")))
		return err_set(-EBADMSG, "%s: name is missing: " FIX, c->name);
	copy_str(root, "name", m->name);
	copy_str(root, "created", m->created);
	copy_str(root, "tool", m->tool);
	r = parse_consistency(c, json_object_get(root, "consistency"), &m->consistency);
	if (r < 0)
		return r;
	copy_str(ch, "hash", m->hash);
	copy_str(ch, "compression", m->compression);
	get_u64(c, ch, "chunk_size", 0, &m->chunk_size);
	r = parse_machine(json_object_get(root, "machine"), m);
	if (r < 0)
		return r;
	disks = json_object_get(root, "disks");
	if (!json_is_array(disks) || json_array_size(disks) == 0)
		return err_set(-EBADMSG, "%s: disks is missing or empty: " FIX, c->name);
	json_array_foreach(disks, i, d) {
		struct manifest_disk *md = manifest_add_disk(m);
		if (!md)
			return -ENOMEM;
		snprintf(c->where, sizeof(c->where), "disks[%zu]", i);
		r = parse_disk(c, d, md);
		if (r < 0)
			return r;
	}
	return 0;
}

int manifest_parse(const char *json, size_t len, const char *name, struct manifest **ret)
{
	struct mctx c = { .name = name };
	struct manifest *m;
	json_error_t jerr;
	json_t *root;
	int r;

	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(-EBADMSG, "%s: not valid JSON (line %d: %s): " FIX, name, jerr.line,
			       jerr.text);
	m = manifest_new();
	if (!m) {
		json_decref(root);
		return -ENOMEM;
	}
	r = parse_root(&c, root, m);
	json_decref(root);
	if (r < 0) {
		manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

/* ---- writing ---- */

static json_t *part_json(const struct manifest_part *p)
{
	char attrs[32];
	json_t *o, *md = NULL;

	/* a string: the 64 bits do not fit JSON's numbers */
	snprintf(attrs, sizeof(attrs), "0x%016llx", (unsigned long long)p->attributes);
	o = json_pack("{s:i, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
			 "number", p->number, "start", (json_int_t)p->start, "size",
			 (json_int_t)p->size, "type", p->type, "name", p->name, "uuid", p->uuid,
			 "fs", p->fs, "label", p->label, "fs_uuid", p->fs_uuid, "attributes",
			 attrs, "role", p->role, "used", (json_int_t)p->used,
			 "min_size", (json_int_t)p->min_size, "fs_block_size",
			 (json_int_t)p->fs_block_size);
	if (o && p->md_metadata[0] &&
	    (!(md = json_pack("{s:s, s:s, s:s, s:I}", "md_metadata", p->md_metadata, "md_level",
			      p->md_level, "md_fs", p->md_fs, "md_data_offset",
			      (json_int_t)p->md_data_offset)) ||
	     json_object_update(o, md) < 0)) {
		json_decref(o);
		o = NULL;
	}
	json_decref(md);
	return o;
}

static json_t *disk_json(const struct manifest_disk *d)
{
	json_t *o, *parts = json_array();
	size_t i;

	for (i = 0; i < d->nparts; i++)
		json_array_append_new(parts, part_json(&d->parts[i]));
	o = json_pack("{s:i, s:s, s:s, s:I, s:i, s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:I, "
		      "s:I, s:I}",
		      "index", d->index, "file", d->file, "index_sha256", d->index_sha256, "size",
		      (json_int_t)d->size, "logical_sector_size", (int)d->logical_sector_size,
		      "physical_sector_size", (int)d->physical_sector_size, "source", d->source,
		      "model", d->model, "serial", d->serial, "partition_table", "type",
		      d->pt_type, "uuid", d->pt_uuid, "partitions", parts, "bytes_used",
		      (json_int_t)d->bytes_used, "chunks", (json_int_t)d->chunks, "chunks_zero",
		      (json_int_t)d->chunks_zero);
	return o;
}

static json_t *str_list_json(char (*list)[MANIFEST_STR], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

int manifest_serialize(const struct manifest *m, char **ret)
{
	json_t *root, *disks = json_array(), *nics = json_array();
	char *s;
	size_t i;

	for (i = 0; i < m->ndisks; i++)
		json_array_append_new(disks, disk_json(&m->disks[i]));
	for (i = 0; i < m->nnics; i++)
		json_array_append_new(nics, json_pack("{s:s, s:s, s:s}", "name", m->nics[i].name,
						      "mac", m->nics[i].mac, "driver",
						      m->nics[i].driver));
	root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i, s:I, s:o, s:o, s:o}, "
			 "s:{s:s, s:s, s:I}, s:o}",
			 "format", "muletto-manifest", "version", m->version, "name", m->name,
			 "created", m->created, "tool", m->tool, "consistency",
			 manifest_consistency_name(m->consistency), "machine", "firmware",
			 m->firmware, "hostname", m->hostname, "cpus", m->cpus, "memory",
			 (json_int_t)m->memory, "storage_controllers",
			 str_list_json(m->storage, m->nstorage), "network_controllers",
			 str_list_json(m->network, m->nnetwork), "nics", nics, "chunking", "hash", m->hash,
			 "compression", m->compression, "chunk_size", (json_int_t)m->chunk_size,
			 "disks", disks);
	if (!root)
		return err_set(-EINVAL, "cannot build the manifest (a text field is not UTF-8)");
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}
