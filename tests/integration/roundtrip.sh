# Round trips through a repository, compared byte for byte:
# file -> folder -> file, device -> folder -> HTTP -> device, raw images, bare indexes.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root roundtrip

make_sample_disk "$T/disk.img" 64
repo=$T/repo

# file -> folder -> file
"$MULETTO" capture "$T/disk.img" "$repo" --name sample >"$T/cap.out" 2>&1 ||
	fail "capture of an image file" "$(cat "$T/cap.out")"
"$MULETTO" restore "$repo" sample --to "$T/out.img" --json >"$T/res.json" 2>"$T/res.err" ||
	fail "restore to a new file" "$(cat "$T/res.err")"
check_cmp "file -> folder repository -> file is identical" "$T/disk.img" "$T/out.img"

# the restore report
python3 - "$T/res.json" "$(stat -c %s "$T/disk.img")" <<'PY' && pass "restore --json reports consistent numbers" || fail "restore --json reports consistent numbers" "$(cat "$T/res.json")"
import json, sys
r = json.load(open(sys.argv[1]))
size = int(sys.argv[2])
for k in ("bytes_total", "bytes_written", "bytes_fetched", "chunks_total", "chunks_fetched",
          "chunks_seeded", "chunks_zero", "seconds"):
    assert k in r, k
assert r["bytes_total"] == size
assert r["chunks_total"] == r["chunks_fetched"] + r["chunks_seeded"] + r["chunks_zero"]
assert 0 < r["bytes_written"] <= size
assert 0 < r["bytes_fetched"] < r["bytes_written"]   # zstd made it smaller
assert r["chunks_zero"] > 0
PY

# the manifest describes the disk
python3 - "$repo/images/sample/manifest.json" <<'PY' && pass "manifest lists partitions, file systems and labels" || fail "manifest lists partitions, file systems and labels" "$(head -c 2000 "$repo/images/sample/manifest.json")"
import json, sys
m = json.load(open(sys.argv[1]))
d = m["disks"][0]
assert d["size"] == 64 * 1024 * 1024
assert d["partition_table"]["type"] == "gpt"
p = {x["number"]: x for x in d["partitions"]}
assert p[1]["fs"] == "vfat" and p[1]["label"] == "ESP" and p[1]["start"] == 1048576
assert p[2]["fs"] == "ext4" and p[2]["label"] == "root"
assert p[2]["fs_uuid"] == "8c7b3f1e-0d6a-4a55-9d3c-2f4b5c6d7e8f"
assert p[1]["type"].lower() == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
assert m["chunking"]["hash"] == "sha256" and m["machine"]["firmware"] in ("uefi", "bios")
PY

# ls and verify
out=$("$MULETTO" ls "$repo" 2>&1)
grep -q '^sample .* 1 .*64 MiB' <<<"$out" && pass "ls shows the image with its size" || fail "ls shows the image with its size" "$out"
n=$("$MULETTO" ls "$repo" --json | jq -r '.images[0].name + " " + (.images[0].size|tostring) + " " + .images[0].status')
[ "$n" = "sample 67108864 ok" ] && pass "ls --json" || fail "ls --json" "$n"
out=$("$MULETTO" verify "$repo" sample 2>&1) && grep -q intact <<<"$out" && pass "verify passes an intact image" || fail "verify passes an intact image" "$out"

# device -> folder -> HTTP -> device
src=$(loop_attach "$T/disk.img")
"$MULETTO" capture "$src" "$repo" --name fromdev >"$T/cap2.out" 2>&1 || fail "capture from a loop device" "$(cat "$T/cap2.out")"
cmp -s "$repo/images/sample/disk0.caibx" "$repo/images/fromdev/disk0.caibx" &&
	pass "the same disk from a device and a file gives the same index" ||
	fail "the same disk from a device and a file gives the same index"
port=$(nginx_start "$T")
truncate -s 64M "$T/blank.img"
dst=$(loop_attach "$T/blank.img")
"$MULETTO" restore "http://127.0.0.1:$port/repo" fromdev --to "$dst" --yes >"$T/r3.out" 2>&1 ||
	fail "restore over HTTP to a loop device" "$(cat "$T/r3.out")"
check_cmp "device -> folder -> HTTP -> device is identical" "$T/disk.img" "$dst"

# restoring onto a disk that already holds data overwrites all of it, zeros included
dd if=/dev/urandom of="$dst" bs=1M count=64 status=none
"$MULETTO" restore "http://127.0.0.1:$port/repo" fromdev --to "$dst" --yes >"$T/r4.out" 2>&1 ||
	fail "restore over a disk full of other data" "$(cat "$T/r4.out")"
check_cmp "restore over a disk full of other data is identical (zero chunks zeroed)" "$T/disk.img" "$dst"
dd if=/dev/urandom of="$T/dirty.img" bs=1M count=64 status=none
"$MULETTO" restore "$repo" sample --to "$T/dirty.img" --yes >/dev/null 2>&1
check_cmp "restore over an existing file full of other data is identical" "$T/disk.img" "$T/dirty.img"

# a second, changed disk shares the store: only the changed chunks are new
make_changed_copy "$T/disk.img" "$T/disk2.img"
before=$(find "$repo/store" -name '*.cacnk' | wc -l)
"$MULETTO" capture "$T/disk2.img" "$repo" --name changed --json >"$T/cap3.json" 2>&1
after=$(find "$repo/store" -name '*.cacnk' | wc -l)
new=$(jq .chunks_new "$T/cap3.json")
[ $((after - before)) -le 4 ] && [ "$new" = $((after - before)) ] &&
	pass "a changed copy adds only its changed chunks ($((after - before)) new)" ||
	fail "a changed copy adds only its changed chunks" "before $before after $after new $new"
"$MULETTO" restore "$repo" changed --to "$T/out2.img" >/dev/null 2>&1
check_cmp "the changed copy restores identical" "$T/disk2.img" "$T/out2.img"

# two disks in one image
head -c 5000000 /dev/urandom >"$T/small.img"
"$MULETTO" capture "$T/disk.img" "$T/small.img" "$repo" --name twodisks >/dev/null 2>&1
"$MULETTO" restore "$repo" twodisks --disk 1 --to "$T/small.out" >/dev/null 2>&1
check_cmp "--disk 1 restores the second disk of an image" "$T/small.img" "$T/small.out"

# raw images, as a dd-based backup leaves them
cp --sparse=always "$T/disk.img" "$T/raw.img"
zstd -q -T0 "$T/disk.img" -o "$T/raw.img.zst"
"$MULETTO" restore "http://127.0.0.1:$port/raw.img" --to "$T/raw.out" --yes >/dev/null 2>"$T/raw.err" ||
	fail "raw .img over HTTP" "$(cat "$T/raw.err")"
check_cmp "raw .img over HTTP is identical" "$T/disk.img" "$T/raw.out"
"$MULETTO" restore "http://127.0.0.1:$port/raw.img.zst" --to "$T/rawz.out" --yes >/dev/null 2>"$T/rawz.err" ||
	fail "raw .img.zst over HTTP" "$(cat "$T/rawz.err")"
check_cmp "raw .img.zst over HTTP is identical" "$T/disk.img" "$T/rawz.out"
zstd -q -c <"$T/disk.img" >"$T/stream.img.zst" # no content size in the frame
truncate -s 64M "$T/blank2.img"
dst2=$(loop_attach "$T/blank2.img")
"$MULETTO" restore "$T/stream.img.zst" --to "$dst2" --yes >/dev/null 2>"$T/rawd.err" ||
	fail "streamed .img.zst to a device" "$(cat "$T/rawd.err")"
check_cmp "a streamed .img.zst (no size in the frame) onto a device is identical" "$T/disk.img" "$dst2"

# many workers storing the same (zero) chunk at once must not trip over each other
truncate -s 256M "$T/zeros.img"
ok=1
for i in 1 2 3; do
	"$MULETTO" capture "$T/zeros.img" "$T/zrepo$i" --name z --threads 8 >"$T/z.log" 2>&1 || { ok=0; break; }
done
[ $ok = 1 ] && [ "$(find "$T/zrepo1/store" -name '*.cacnk' | wc -l)" = 1 ] &&
	pass "parallel workers store a shared chunk once, without collisions" ||
	fail "parallel workers store a shared chunk once, without collisions" "$(cat "$T/z.log")"
