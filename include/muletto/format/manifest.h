/* manifest.json: what casync has no place for. One per image, written last.
 *
 * {
 *   "format": "muletto-manifest", "version": 1,
 *   "name": "web01", "created": "2026-11-25T02:00:00Z", "tool": "muletto 0.1.0",
 *   "consistency": "consistent"|"live",
 *   "machine": { "firmware": "uefi"|"bios"|"unknown", "hostname": "...",
 *                "cpus": 4, "memory": 8589934592,
 *                "storage_controllers": ["..."], "network_controllers": ["..."],
 *                "nics": [ { "name": "eth0", "mac": "52:54:00:..", "driver": "e1000e" } ] },
 *   "chunking": { "hash": "sha256", "compression": "zstd", "chunk_size": 1048576 },
 *   "disks": [ { "index": 0, "file": "disk0.caibx", "index_sha256": "<hex>",
 *                "size": 4294967296, "logical_sector_size": 512,
 *                "physical_sector_size": 4096, "source": "/dev/sda",
 *                "model": "...", "serial": "...",
 *                "partition_table": { "type": "gpt"|"dos"|"", "uuid": "..." },
 *                "partitions": [ { "number": 1, "start": 1048576, "size": 536870912,
 *                                  "type": "<GPT type GUID or MBR hex>", "name": "...",
 *                                  "uuid": "...", "fs": "vfat", "label": "ESP",
 *                                  "fs_uuid": "...", "attributes": "0x0000000000000000", "role": "data",
 *                                  "used": 123, "min_size": 456, "fs_block_size": 4096,
 *                                  "md_metadata": "1.2", "md_level": "raid1", "md_fs": "ext4",
 *                                  "md_data_offset": 1048576 } ],   (the md_ keys: MD members only)
 *                "bytes_used": 123, "chunks": 4096, "chunks_zero": 3000 } ]
 * }
 * All sizes and offsets in bytes. Unknown keys are ignored on reading; a
 * manifest without "consistency" (older ones) reads as consistent. */
#ifndef MULETTO_MANIFEST_H
#define MULETTO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define MANIFEST_VERSION 1
#define MANIFEST_STR 256

struct manifest_part {
	int number;
	uint64_t start, size;
	char type[MANIFEST_STR];
	char name[MANIFEST_STR];
	char uuid[MANIFEST_STR];
	char fs[MANIFEST_STR];
	char label[MANIFEST_STR];
	char fs_uuid[MANIFEST_STR];
	/* what a layout plan needs (0 and "" in older manifests: not known) */
	uint64_t attributes; /* GPT attribute bits */
	char role[MANIFEST_STR]; /* esp, bios_boot, msr, swap, lvm_pv, md, luks, data, "" */
	uint64_t used;	     /* bytes the file system uses */
	uint64_t min_size;   /* the least its file system can shrink to (0: cannot, or unknown) */
	uint64_t fs_block_size; /* the least sector size its file system can live on (0: unknown) */
	/* an MD member (role md; "" when not, or in older manifests) */
	char md_metadata[MANIFEST_STR]; /* its superblock's version: "0.90", "1.0", "1.1", "1.2" */
	char md_level[MANIFEST_STR]; /* "raid1", "raid0", "linear", ... */
	char md_fs[MANIFEST_STR]; /* the file system inside its array (1.1/1.2), libblkid's name */
	uint64_t md_data_offset; /* where the array's data starts in the partition */
};

struct manifest_disk {
	int index;
	char file[MANIFEST_STR];	 /* "disk0.caibx" */
	char index_sha256[MANIFEST_STR]; /* hex SHA-256 of the .caibx file */
	uint64_t size;
	uint32_t logical_sector_size, physical_sector_size;
	char source[MANIFEST_STR], model[MANIFEST_STR], serial[MANIFEST_STR];
	char pt_type[MANIFEST_STR], pt_uuid[MANIFEST_STR];
	size_t nparts;
	struct manifest_part *parts;
	uint64_t bytes_used; /* bytes in chunks that are not all zero */
	uint64_t chunks, chunks_zero;
};

/* Whether the disks were read as one moment of them. */
enum manifest_consistency {
	MANIFEST_CONSISTENT = 0, /* "consistent": nothing wrote to them while read */
	MANIFEST_LIVE,		 /* "live": read in use (capture --live), may be torn */
};

/* A network card of the machine, as run gives it to the VM. */
struct manifest_nic {
	char name[MANIFEST_STR];   /* "eth0", "enp3s0" */
	char mac[MANIFEST_STR];	   /* "52:54:00:12:34:56" */
	char driver[MANIFEST_STR]; /* "e1000e", "virtio_net", "" */
};

struct manifest {
	int version;
	char name[MANIFEST_STR];
	char created[MANIFEST_STR];
	char tool[MANIFEST_STR];
	enum manifest_consistency consistency;
	char firmware[MANIFEST_STR];
	char hostname[MANIFEST_STR];
	size_t nstorage, nnetwork;
	char (*storage)[MANIFEST_STR];
	char (*network)[MANIFEST_STR];
	int cpus;		/* 0: not recorded */
	uint64_t memory;	/* bytes; 0: not recorded */
	size_t nnics;
	struct manifest_nic *nics;
	char hash[MANIFEST_STR];	/* "sha256" | "sha512-256" */
	char compression[MANIFEST_STR]; /* "zstd" */
	uint64_t chunk_size;
	size_t ndisks;
	struct manifest_disk *disks;
};

/* Parses JSON text; name is for messages. *ret is new (manifest_free).
 * -EBADMSG with a message naming the field when malformed or truncated. */
int manifest_parse(const char *json, size_t len, const char *name, struct manifest **ret);
/* Serialises to a new NUL-terminated, pretty-printed string (caller frees). */
int manifest_serialize(const struct manifest *m, char **ret);
void manifest_free(struct manifest *m);
/* Allocates an empty manifest (version set) and appends disks/parts. */
struct manifest *manifest_new(void);
struct manifest_disk *manifest_add_disk(struct manifest *m);
struct manifest_part *manifest_disk_add_part(struct manifest_disk *d);
int manifest_add_controller(struct manifest *m, int network, const char *desc);
/* "consistent" or "live", as the manifest spells it. */
const char *manifest_consistency_name(enum manifest_consistency c);
/* The disk numbered index ("index" in the manifest), or NULL. */
struct manifest_nic *manifest_add_nic(struct manifest *m);
const struct manifest_disk *manifest_find_disk(const struct manifest *m, int index);

/* The most bytes a manifest may take: a machine with many disks and
 * partitions needs some kilobytes. */
#define MANIFEST_MAX (16 * 1024 * 1024)

#endif
