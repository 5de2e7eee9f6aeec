# Bad input: every case fails with one clear line, a non-zero exit, and no
# unverified byte on the target.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root bad_input

make_sample_disk "$T/disk.img" 48
good=$T/good
"$MULETTO" capture "$T/disk.img" "$good" --name img >/dev/null 2>&1
fresh_repo() { rm -rf "$T/r"; cp -a "$good" "$T/r"; }
idx=images/img/disk0.caibx
sha() { sha256sum "$1" | cut -d' ' -f1; }

# a chunk that holds data, and its offset in the disk: "<hex id> <offset> <size>"
data_chunk() {
	python3 - "$1" <<'PY'
import sys, struct, hashlib
b = open(sys.argv[1], "rb").read()
n = (len(b) - 48 - 16 - 40) // 40
prev = 0
zero = hashlib.sha256(bytes(1048576)).hexdigest()
for i in range(n):
    end, cid = struct.unpack_from("<Q32s", b, 64 + 40 * i)
    if cid.hex() != zero:
        print(cid.hex(), prev, end - prev)
        break
    prev = end
PY
}
read -r cid coff csize < <(data_chunk "$good/$idx")
cpath=store/${cid:0:4}/$cid.cacnk
other=$(find "$good/store" -name '*.cacnk' ! -name "$cid.cacnk" -size +1k | head -1)

# the region of the bad chunk in a target file must still be zeros
region_is_zero() { # file offset size
	[ "$(dd if="$1" bs=1M skip=$(($2 / 1048576)) count=$(($3 / 1048576)) status=none | tr -d '\0' | wc -c)" = 0 ]
}

# --- damaged indexes and manifests ---
fresh_repo
for len in 100 48 1000; do
	cp "$good/$idx" "$T/bare.caibx"; truncate -s $len "$T/bare.caibx"
	expect_fail "truncated bare index ($len bytes) is refused" 'bare.caibx.*(truncated|whole number)' \
		"$MULETTO" restore "$T/bare.caibx" --store "$T/r/store" --to "$T/t1.img" --yes
done
[ ! -e "$T/t1.img" ] && pass "nothing is written for a truncated index" || fail "nothing is written for a truncated index"
truncate -s 1000 "$T/r/$idx"
expect_fail "truncated index in a repository is refused (manifest pins it)" 'disk0.caibx does not match its manifest' \
	"$MULETTO" restore "$T/r" img --to "$T/t2.img"
fresh_repo
cp "$good/$idx" "$T/bad.caibx"; printf '\x01' | dd of="$T/bad.caibx" bs=1 seek=8 conv=notrunc status=none
expect_fail "index with a damaged header is refused" 'bad.caibx: not a casync blob index' \
	"$MULETTO" restore "$T/bad.caibx" --store "$T/r/store" --to "$T/t3.img" --yes
cp "$good/$idx" "$T/bad.caibx"; sz=$(stat -c %s "$T/bad.caibx")
printf '\x00' | dd of="$T/bad.caibx" bs=1 seek=$((sz - 1)) conv=notrunc status=none
expect_fail "index with a damaged end marker is refused" 'bad.caibx: truncated \(no end marker\)' \
	"$MULETTO" restore "$T/bad.caibx" --store "$T/r/store" --to "$T/t3.img" --yes
[ ! -e "$T/t3.img" ] && pass "nothing is written for a damaged index" || fail "nothing is written for a damaged index"

fresh_repo
truncate -s 200 "$T/r/images/img/manifest.json"
expect_fail "truncated manifest is refused" 'manifest.json: not valid JSON' \
	"$MULETTO" restore "$T/r" img --to "$T/t4.img"
fresh_repo
python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); del m['disks'][0]['size']; json.dump(m,open(p,'w'))" "$T/r/images/img/manifest.json"
expect_fail "manifest missing a disk's size is refused" 'disks\[0\]\.size is missing' \
	"$MULETTO" restore "$T/r" img --to "$T/t4.img"
fresh_repo
python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); m['disks'][0]['file']='../../etc/passwd'; json.dump(m,open(p,'w'))" "$T/r/images/img/manifest.json"
expect_fail "manifest pointing outside the image folder is refused" 'not a plain file name' \
	"$MULETTO" restore "$T/r" img --to "$T/t4.img"
[ ! -e "$T/t4.img" ] && pass "nothing is written for a damaged manifest" || fail "nothing is written for a damaged manifest"

# --- damaged chunks ---
fresh_repo
cp "$other" "$T/r/$cpath"
expect_fail "a chunk whose bytes do not match its id is refused" "chunk $cid .*does not match its id" \
	"$MULETTO" restore "$T/r" img --to "$T/t5.img"
region_is_zero "$T/t5.img" "$coff" "$csize" && pass "the mismatching chunk was not written" ||
	fail "the mismatching chunk was not written"
out=$("$MULETTO" verify "$T/r" img 2>&1); rc=$?
[ $rc != 0 ] && grep -q "bad chunk $cid .*hash mismatch" <<<"$out" &&
	pass "verify names the mismatching chunk and fails" || fail "verify names the mismatching chunk and fails" "$out"
fresh_repo
head -c 5000 /dev/urandom >"$T/r/$cpath"
expect_fail "a chunk that is not compressed data is refused" "chunk $cid .*not a compressed chunk" \
	"$MULETTO" restore "$T/r" img --to "$T/t6.img"
region_is_zero "$T/t6.img" "$coff" "$csize" && pass "the garbage chunk was not written" ||
	fail "the garbage chunk was not written"
fresh_repo
rm "$T/r/$cpath"
expect_fail "a missing chunk is named" "chunk $cid is missing from the store" \
	"$MULETTO" restore "$T/r" img --to "$T/t7.img"
out=$("$MULETTO" verify "$T/r" img 2>&1); rc=$?
[ $rc != 0 ] && grep -q "bad chunk $cid .*missing" <<<"$out" &&
	pass "verify names the missing chunk and fails" || fail "verify names the missing chunk and fails" "$out"

# --- HTTP failures ---
port=$(nginx_start "$T" "location = /r/$cpath { return 500; }")
expect_fail "HTTP 500 on a chunk: retried, then reported as a server error" \
	"HTTP 500.*still failing after [0-9]+ s of retrying" \
	env MULETTO_RETRY_SECONDS=2 "$MULETTO" restore "http://127.0.0.1:$port/r" img --to "$T/t8.img"
region_is_zero "$T/t8.img" "$coff" "$csize" && pass "nothing unverified written after HTTP 500" ||
	fail "nothing unverified written after HTTP 500"
cp -a "$good" "$T/good-missing"; rm "$T/good-missing/$cpath"
expect_fail "HTTP 404 on a chunk says it is missing" "chunk $cid is missing from the store http://127.0.0.1:$port/" \
	"$MULETTO" restore "http://127.0.0.1:$port/good-missing" img --to "$T/t9.img"
expect_fail "HTTP repository that does not exist" "is not a muletto repository" \
	"$MULETTO" restore "http://127.0.0.1:$port/nothing-here" img --to "$T/t10.img"
closed=$(free_port)
expect_fail "nothing listening on the port" "127.0.0.1:$closed.*cannot connect" \
	"$MULETTO" restore "http://127.0.0.1:$closed/r" img --to "$T/t10.img"

# connection dropped mid-restore: a slow server killed while the restore runs
head -c $((40 * 1024 * 1024)) /dev/urandom >"$T/random.img"
"$MULETTO" capture "$T/random.img" "$T/slow" --name rnd >/dev/null 2>&1
sport=$(nginx_start "$T" "limit_rate 512k;")
( sleep 2; kill "$(cat "$T/nginx-$sport/nginx.pid")" ) &
expect_fail "a server that goes away mid-restore for good is reported after the retries" \
	"(connection dropped|cannot connect|empty reply|timed out).*still failing after [0-9]+ s of retrying" \
	env MULETTO_RETRY_SECONDS=3 timeout 120 "$MULETTO" restore "http://127.0.0.1:$sport/slow" rnd --to "$T/t11.img"
wait

# --- targets ---
truncate -s 32M "$T/small.img"; head -c 1M /dev/urandom | dd of="$T/small.img" conv=notrunc status=none
small=$(loop_attach "$T/small.img"); before=$(sha "$small")
expect_fail "a target smaller than the image, even shrunk, is refused with the numbers" \
	"target $small: the disk is too small for this image even with its file systems shrunk: its partitions need at least 41 MiB, the disk holds 32 MiB: partition 1 \\(vfat ESP\\) keeps its 16 MiB, partition 2 \\(ext4 root\\) can shrink to 24 MiB \\(7.1 MiB of data\\); choose a disk of at least 41 MiB" \
	"$MULETTO" restore "$good" img --to "$small" --yes
[ "$(sha "$small")" = "$before" ] && pass "the too-small target is unchanged" || fail "the too-small target is unchanged"
truncate -s 64M "$T/ro.img"; ro=$(loop_attach "$T/ro.img" -r)
expect_fail "a read-only target is refused" "target $ro is read-only" \
	"$MULETTO" restore "$good" img --to "$ro" --yes
truncate -s 64M "$T/dev.img"; head -c 1M /dev/urandom | dd of="$T/dev.img" conv=notrunc status=none
dev=$(loop_attach "$T/dev.img"); before=$(sha "$dev")
expect_fail "no --yes and no terminal: refused" "refusing to overwrite $dev without confirmation.*--yes" \
	"$MULETTO" restore "$good" img --to "$dev" </dev/null
[ "$(sha "$dev")" = "$before" ] && pass "the unconfirmed target is unchanged" || fail "the unconfirmed target is unchanged"
MULETTO_BOOT_MEDIUM=$dev expect_fail "the boot medium is refused" "refusing to write to $dev: the running system was booted from it" \
	"$MULETTO" restore "$good" img --to "$dev" --yes
[ "$(sha "$dev")" = "$before" ] && pass "the boot medium is unchanged" || fail "the boot medium is unchanged"
used=$(loop_attach "$T/disk.img")
mkdir -p "$T/mnt" && mount -o ro "${used}p2" "$T/mnt" && at_exit "umount $T/mnt"
expect_fail "a disk with a mounted partition is refused" "refusing to write to $used: ${used}p2 is mounted on $T/mnt" \
	"$MULETTO" restore "$good" img --to "$used" --yes
expect_fail "a partition is refused as a target" "${used}p1 is a partition; name the whole disk $used" \
	"$MULETTO" restore "$good" img --to "${used}p1" --yes
umount "$T/mnt"
mkdir -p "$T/full" && mount -t tmpfs -o size=8m tmpfs "$T/full" && at_exit "umount $T/full"
expect_fail "a target file system without room is refused" "target $T/full/t.img: no space for the image: .*free" \
	"$MULETTO" restore "$good" img --to "$T/full/t.img"
[ ! -e "$T/full/t.img" ] && pass "nothing is left on the full file system" || fail "nothing is left on the full file system"
expect_fail "a disk that does not exist is not created as a file in /dev" "there is no disk /dev/muletto-no-such-disk" \
	"$MULETTO" restore "$good" img --to /dev/muletto-no-such-disk --yes
[ ! -e /dev/muletto-no-such-disk ] && pass "nothing was created in /dev" || { rm -f /dev/muletto-no-such-disk; fail "nothing was created in /dev"; }
expect_fail "a target in a missing folder" "does not exist" \
	"$MULETTO" restore "$good" img --to "$T/no/such/dir/t.img"

# --- repositories and names ---
mkdir -p "$T/empty"
expect_fail "an empty folder is not a repository" "$T/empty is not a muletto repository" \
	"$MULETTO" restore "$T/empty" img --to "$T/t12.img"
expect_fail "ls of an empty folder" "$T/empty is not a muletto or casync repository" "$MULETTO" ls "$T/empty"
expect_fail "a file is not a repository" "is a file, not a repository folder" \
	"$MULETTO" restore "$T/disk.img" img --to "$T/t12.img"
expect_fail "a missing folder is not a repository" "$T/nope: No such file or directory" \
	"$MULETTO" ls "$T/nope"
expect_fail "an image that does not exist lists those that do" "no image 'other' in $good; images there: img" \
	"$MULETTO" restore "$good" other --to "$T/t12.img"
expect_fail "an unknown URL scheme" "unsupported repository type 'ftp'" \
	"$MULETTO" ls "ftp://127.0.0.1/repo"
expect_fail "a disk number the image does not have" "has 1 disk\(s\), numbered 0 to 0: there is no --disk 3" \
	"$MULETTO" restore "$good" img --disk 3 --to "$T/t12.img"
expect_fail "capture onto an existing image name" "image 'img' already exists" \
	"$MULETTO" capture "$T/disk.img" "$good" --name img
expect_fail "an image name with a slash" "is not a valid image name" \
	"$MULETTO" capture "$T/disk.img" "$good" --name a/b
expect_fail "a repository given without an image name" "neither a raw image .* nor a casync index" \
	"$MULETTO" restore "$good" --to "$T/t12.img"
[ ! -e "$T/t12.img" ] && pass "nothing is written for a bad repository or name" || fail "nothing is written for a bad repository or name"
zstd -q -c "$T/disk.img" | head -c 100000 >"$T/cut.img.zst"
expect_fail "a truncated .img.zst is reported" "cut.img.zst: the zstd stream is truncated" \
	"$MULETTO" restore "$T/cut.img.zst" --to "$T/t13.img"
