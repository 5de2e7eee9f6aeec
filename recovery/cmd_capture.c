/* muletto capture DEVICE|FILE... REPO --name NAME [--json] */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/capture.h"
#include "muletto/cmd.h"
#include "muletto/err.h"
#include "muletto/repo.h"
#include "muletto/sign.h"
#include "muletto/util.h"

static const char capture_usage[] =
	"muletto capture DEVICE|FILE... REPO --name NAME [--json] [--chunk-size BYTES] "
	"[--level N] [--threads N] [--progress auto|bar|json|none] [--sign KEY]";

struct capture_args {
	const char *name;
	const char *sign; /* private key: manifest.json.sig */
	int json;
	struct capture_opts o;
};

static int capture_parse(int argc, char **argv, struct capture_args *a)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", required_argument, NULL, 'p' },
		{ "sign", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->o.chunk_size = CAPTURE_CHUNK_SIZE;
	a->o.level = 3;
	while ((c = getopt_long(argc, argv, "n:j", opts, NULL)) != -1) {
		switch (c) {
		case 'n': a->name = optarg; break;
		case 'j': a->json = 1; break;
		case 'c': a->o.chunk_size = strtoull(optarg, NULL, 0); break;
		case 'l': a->o.level = atoi(optarg); break;
		case 't': a->o.threads = atoi(optarg); break;
		case 's': a->sign = optarg; break;
		case 'p':
			if (progress_mode_parse(optarg, &a->o.progress) < 0)
				return cmd_bad_option("%s", err_msg());
			break;
		case 'h': printf("usage: %s\n", capture_usage); return -1;
		default: return cmd_usage(capture_usage);
		}
	}
	if (argc - optind < 2 || !a->name)
		return cmd_usage(capture_usage);
	if (a->o.chunk_size < 65536 || a->o.chunk_size > 64ULL << 20 ||
	    (a->o.chunk_size & (a->o.chunk_size - 1)))
		return cmd_bad_option("--chunk-size %llu: use a power of two from 65536 to 67108864",
				(unsigned long long)a->o.chunk_size) + 1;
	if (a->o.level < 1 || a->o.level > 19)
		return cmd_bad_option("--level %d: use 1 (fastest) to 19 (smallest)", a->o.level);
	if (a->json && a->o.progress == PROGRESS_AUTO)
		a->o.progress = PROGRESS_NONE;
	return 0;
}

/* One disk: chunks, then its index; fills the manifest's entry. */
static int capture_one_disk(struct repo *repo, const char *name, const char *dev, int k,
			    struct capture_opts *o, struct manifest_disk *d,
			    struct capture_stats *sum)
{
	_cleanup_free_ char *path = NULL;
	struct caibx *idx = NULL;
	struct capture_stats st;
	char label[64];
	void *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(label, sizeof(label), "capture disk%d", k);
	o->label = label;
	d->index = k;
	snprintf(d->file, sizeof(d->file), "disk%d.caibx", k);
	r = capture_disk(dev, repo->url, o, d, &idx, &st);
	if (r < 0)
		return r;
	/* Chunks first on stable storage, then the index that points at them. */
	r = source_sync(repo->src);
	if (r == 0)
		r = caibx_serialize(idx, &buf, &len);
	caibx_free(idx);
	if (r < 0)
		return r;
	r = hash_sha256_hex(buf, len, d->index_sha256);
	if (r < 0) {
		free(buf);
		return r;
	}
	path = repo_image_path(name, d->file);
	r = path ? source_put(repo->src, path, buf, len) : -ENOMEM;
	free(buf);
	if (r < 0)
		return r;
	sum->bytes_total += st.bytes_total;
	sum->bytes_zero += st.bytes_zero;
	sum->bytes_stored += st.bytes_stored;
	sum->chunks_total += st.chunks_total;
	sum->chunks_new += st.chunks_new;
	sum->chunks_zero += st.chunks_zero;
	return 0;
}

static void capture_report(const struct capture_args *a, const struct capture_stats *s,
			   const char *repo_url, int ndisks)
{
	char tot[32], stored[32], zero[32];

	if (a->json) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
				      "name", a->name, "repo", repo_url, "disks", ndisks,
				      "bytes_total", (json_int_t)s->bytes_total, "bytes_zero",
				      (json_int_t)s->bytes_zero, "bytes_stored",
				      (json_int_t)s->bytes_stored, "chunks_total",
				      (json_int_t)s->chunks_total, "chunks_new",
				      (json_int_t)s->chunks_new, "chunks_zero",
				      (json_int_t)s->chunks_zero, "seconds", s->seconds);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return;
	}
	human_size(s->bytes_total, tot, sizeof(tot));
	human_size(s->bytes_stored, stored, sizeof(stored));
	human_size(s->bytes_zero, zero, sizeof(zero));
	printf("captured '%s' into %s: %d disk(s), %s (%s empty), %llu chunks, %llu new "
	       "(%s stored), in %.1f s\n", a->name, repo_url, ndisks, tot, zero,
	       (unsigned long long)s->chunks_total, (unsigned long long)s->chunks_new, stored,
	       s->seconds);
}

static int capture_run(struct capture_args *a, char **devs, int ndevs, const char *repo_url)
{
	struct capture_stats sum = { 0 };
	struct manifest *m = NULL;
	struct repo *repo = NULL;
	_cleanup_free_ char *mpath = NULL;
	char *json = NULL, *sig = NULL;
	double t0 = now_seconds();
	int i, r;

	r = repo_check_name(a->name);
	if (r < 0)
		goto out;
	if (a->sign) { /* a key that cannot sign fails now, not after the last chunk */
		r = sign_make(a->sign, "", 0, &sig);
		free(sig);
		sig = NULL;
		if (r < 0)
			goto out;
	}
	if (!strstr(repo_url, "://") || !strncmp(repo_url, "file://", 7)) {
		const char *dir = strncmp(repo_url, "file://", 7) ? repo_url : repo_url + 7;
		r = mkdir_p(dir, 0755);
		if (r < 0) {
			err_set(r, "cannot create the repository folder %s: %s", dir, strerror(-r));
			goto out;
		}
	}
	source_want_write();
	r = repo_open(repo_url, &repo);
	if (r < 0)
		goto out;
	mpath = repo_image_path(a->name, "manifest.json");
	if (!mpath || !(m = manifest_new())) {
		r = -ENOMEM;
		goto out;
	}
	if (source_exists(repo->src, mpath) > 0) {
		r = err_set(-EEXIST, "image '%s' already exists in %s: choose another name",
			    a->name, repo->url);
		goto out;
	}
	str_copy(m->name, sizeof(m->name), a->name);
	iso8601_now(m->created, sizeof(m->created));
	snprintf(m->tool, sizeof(m->tool), "muletto %s", MULETTO_VERSION);
	str_copy(m->hash, sizeof(m->hash), "sha256");
	str_copy(m->compression, sizeof(m->compression), "zstd");
	m->chunk_size = a->o.chunk_size;
	machine_describe(m);
	for (i = 0; i < ndevs; i++) {
		struct manifest_disk *d = manifest_add_disk(m);
		r = d ? capture_one_disk(repo, a->name, devs[i], i, &a->o, d, &sum) : -ENOMEM;
		if (r < 0)
			goto out;
	}
	/* The manifest goes last: until it exists, the image does not. Its
	 * signature just before it. */
	r = manifest_serialize(m, &json);
	if (r == 0 && a->sign) {
		_cleanup_free_ char *spath = repo_image_path(a->name, "manifest.json.sig");
		r = spath ? sign_make(a->sign, json, strlen(json), &sig) : -ENOMEM;
		if (r == 0)
			r = source_put(repo->src, spath, sig, strlen(sig));
	}
	if (r == 0)
		r = source_sync(repo->src);
	if (r == 0)
		r = source_put(repo->src, mpath, json, strlen(json));
	if (r == 0)
		r = source_sync(repo->src);
	if (r < 0)
		goto out;
	sum.seconds = now_seconds() - t0;
	capture_report(a, &sum, repo->url, ndevs);
out:
	free(json);
	free(sig);
	manifest_free(m);
	repo_close(repo);
	return r < 0 ? cmd_fail("%s", err_msg()) : 0;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_args a = { 0 };
	int r = capture_parse(argc, argv, &a);

	if (r)
		return r < 0 ? 0 : r;
	return capture_run(&a, argv + optind, argc - optind - 1, argv[argc - 1]);
}
