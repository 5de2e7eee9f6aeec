# Empty regions and very large disks: all-zero chunks are never fetched; they
# cost nothing on a new file, one call per run where the device zeroes by
# itself, and a read (writing only what is not zero) where it cannot. A 2 TiB
# disk restores in well under 256 MiB of memory.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root zeros

field() { jq -r ".$2" "$1"; }
# memory is measured on the shipped build (the sanitizers keep freed memory)
REL=$MULETTO_TOP/build/muletto
# two 1 MiB chunks of data in a store; a 2 TiB index that places them
head -c 1M /dev/urandom >"$T/c1"
head -c 1M "$(command -v python3)" >"$T/c2"
[ "$(stat -c %s "$T/c2")" = 1048576 ] || head -c 1M /dev/urandom >"$T/c2"
for c in c1 c2; do
	h=$(sha256sum "$T/$c" | cut -c1-64)
	mkdir -p "$T/store/${h:0:4}"
	zstd -q "$T/$c" -o "$T/store/${h:0:4}/$h.cacnk"
done
TIB2=$((2 << 20)) # MiB
mapfile -t offs < <(python3 "$MULETTO_TOP/tests/mkcaibx.py" "$T/big.caibx" $TIB2 "$T/c1" "$T/c2")

check_big() { # name target json rss-file
	local name=$1 tgt=$2 ok=1 rss
	rss=$(cat "$4")
	cmp -s -n 1048576 "$T/c1" <(dd if="$tgt" bs=1M skip=$((offs[0] >> 20)) count=1 status=none) || ok=0
	cmp -s -n 1048576 "$T/c2" <(dd if="$tgt" bs=1M skip=$((offs[1] >> 20)) count=1 status=none) || ok=0
	[ "$ok" = 1 ] && pass "$name: the data chunks are in place" ||
		fail "$name: the data chunks are in place"
	[ "$(field "$3" chunks_zero)" = $((TIB2 - 2)) ] && [ "$(field "$3" chunks_fetched)" = 2 ] &&
		pass "$name: only the 2 data chunks are fetched, $((TIB2 - 2)) empty ones are not" ||
		fail "$name: only data chunks fetched" "$(cat "$3")"
	[ "$rss" -lt $((256 * 1024)) ] &&
		pass "$name: peak memory $((rss / 1024)) MiB for a 2 TiB disk (limit 256)" ||
		fail "$name: peak memory under 256 MiB" "$((rss / 1024)) MiB"
}

# a new 2 TiB image file: the empty regions stay holes
/usr/bin/time -f %M -o "$T/rss1" "$REL" restore "$T/big.caibx" --store "$T/store" \
	--to "$T/big.img" --json --progress none >"$T/big.json" 2>"$T/big.err" ||
	fail "2 TiB restore into a new file" "$(cat "$T/big.err")"
check_big "2 TiB into a new file" "$T/big.img" "$T/big.json" "$T/rss1"
alloc=$(du -k "$T/big.img" | cut -f1)
[ "$alloc" -lt 8192 ] && pass "2 TiB into a new file: $alloc KiB allocated, nothing written for empty regions" ||
	fail "2 TiB into a new file: empty regions are holes" "$alloc KiB allocated"

# a 2 TiB disk with old data in its empty regions: zeroed (one call per run).
# Its file lives on a small tmpfs: a regression that allocates the zeros fails
# here with "no space" instead of filling the machine's disk.
mkdir -p "$T/thin"
mount -t tmpfs -o size=256m tmpfs "$T/thin" && at_exit "umount '$T/thin'"
truncate -s 2T "$T/thin/bigdisk.img"
for at in 1 1000000 2000000; do
	dd if=/dev/urandom of="$T/thin/bigdisk.img" bs=1M seek=$at count=1 conv=notrunc status=none
done
bdev=$(loop_attach "$T/thin/bigdisk.img")
/usr/bin/time -f %M -o "$T/rss2" "$REL" restore "$T/big.caibx" --store "$T/store" \
	--to "$bdev" --yes --json --progress none >"$T/bigdev.json" 2>"$T/bigdev.err" ||
	fail "2 TiB restore onto a disk" "$(cat "$T/bigdev.err")"
check_big "2 TiB onto a disk" "$bdev" "$T/bigdev.json" "$T/rss2"
zeroed=1
for at in 1 1000000 2000000; do
	cmp -s -n 1048576 /dev/zero <(dd if="$bdev" bs=1M skip=$at count=1 status=none) || zeroed=0
done
[ "$zeroed" = 1 ] && pass "2 TiB onto a disk: old data in empty regions reads back as zeros" ||
	fail "2 TiB onto a disk: old data in empty regions is zeroed"
loop_detach "$bdev"
rm -f "$T/thin/bigdisk.img" "$T/big.img"

# a disk that cannot zero by itself (a loop device on ramfs: no Write Zeroes):
# empty regions are read, and only what is not zero gets written
make_sample_disk "$T/a.img" 64
"$MULETTO" capture "$T/a.img" "$T/repo" --name a >/dev/null 2>&1
mkdir -p "$T/ramfs"
if mount -t ramfs ramfs "$T/ramfs" 2>/dev/null; then
	at_exit "umount '$T/ramfs'"
	head -c 64M /dev/urandom >"$T/ramfs/disk.img"
	rdev=$(loop_attach "$T/ramfs/disk.img")
	wz=$(cat "/sys/block/${rdev#/dev/}/queue/write_zeroes_max_bytes")
	"$MULETTO" restore "$T/repo" a --to "$rdev" --yes --json >"$T/r1.json" 2>"$T/r1.err" ||
		fail "restore onto a disk without Write Zeroes" "$(cat "$T/r1.err")"
	check_cmp "a disk without Write Zeroes ($wz bytes offload), full of old data: identical" "$T/a.img" "$rdev"
	dd if=/dev/urandom of="$rdev" bs=1M seek=50 count=3 conv=notrunc status=none
	"$MULETTO" restore "$T/repo" a --to "$rdev" --yes --json >"$T/r2.json" 2>"$T/r2.err"
	check_cmp "a disk without Write Zeroes: stale data in an empty region is found and zeroed" "$T/a.img" "$rdev"
	[ "$(field "$T/r2.json" chunks_fetched)" = 0 ] &&
		pass "a disk without Write Zeroes: the second restore fetches nothing" ||
		fail "a disk without Write Zeroes: the second restore fetches nothing" "$(cat "$T/r2.json")"
	loop_detach "$rdev"
else
	skip "a disk without Write Zeroes" "cannot mount ramfs here"
fi
