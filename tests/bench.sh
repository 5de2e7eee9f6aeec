#!/bin/bash
# make bench: time muletto against its peers on the same data, in one run.
# Builds a 4 GiB GPT disk (ESP + ext4 holding ~1.6 GB of real files from /usr)
# and a copy with ~7 % of its used data changed, captures both, serves them with
# nginx on 127.0.0.1, and times onto loop devices:
#   full restore:  muletto, curl | zstd -d | dd oflag=direct, bmaptool copy with a
#                  bmap, partclone of each file system (Clonezilla's way),
#                  casync extract (HTTP store)
#   delta restore: muletto onto the older disk, casync extract --seed the older disk
# Prints a table (median of RUNS runs): seconds, ratio to muletto, bytes sent by
# nginx (from its log), peak RSS.
set -u
cd "$(dirname "$0")/.."
export MULETTO=${MULETTO:-$PWD/build/muletto}
. tests/lib.sh
. tests/lib_disk.sh
need_root bench

RUNS=${RUNS:-3}
W=${BENCH_DIR:-$PWD/build/bench}
mkdir -p "$W"
SIZE_MIB=4096

log() { printf '==> %s\n' "$*" >&2; }

build_bench_disk() { # file
	local img=$1 stage=$W/stage
	[ -s "$img" ] && [ -s "$img.ok" ] && return 0
	log "building a ${SIZE_MIB} MiB disk with ~1.6 GB of files from /usr (once, cached in $W)"
	rm -rf "$stage" && mkdir -p "$stage"
	cp -a /usr/lib/x86_64-linux-gnu "$stage/lib" 2>/dev/null
	cp -a /usr/lib/llvm-14 "$stage/llvm" 2>/dev/null
	rm -f "$img"
	truncate -s ${SIZE_MIB}M "$img"
	sgdisk -n 1:2048:+256M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$img" >/dev/null 2>&1
	local p2_start p2_size
	p2_start=$(partx -g -o START -n 2 "$img" | tr -d ' ')
	p2_size=$(partx -g -o SECTORS -n 2 "$img" | tr -d ' ')
	mkfs.vfat -F 32 -n ESP --offset 2048 "$img" $((256 * 1024)) >/dev/null 2>&1
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$img@@1M" /usr/lib/grub /usr/share/doc/bash ::/ 2>/dev/null
	mkfs.ext4 -q -F -L root -d "$stage" -E offset=$((p2_start * 512)) "$img" $((p2_size / 2))k
	rm -rf "$stage"
	echo ok >"$img.ok"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

time_cmd() { # prints seconds; the command's output goes to $W/last.log
	local t0 t1
	sync; echo 3 >/proc/sys/vm/drop_caches
	t0=$(date +%s.%N)
	"$@" >"$W/last.log" 2>&1 || { echo "FAILED: $*" >&2; cat "$W/last.log" >&2; echo nan; return; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}

img=$W/disk.img
build_bench_disk "$img"
used=$(( $(du -B1 "$img" | cut -f1) ))
log "disk: $(du -h --apparent-size "$img" | cut -f1) apparent, $((used / 1000000)) MB allocated"

repo=$W/repo
rm -rf "$repo" "$W/disk.img.zst" "$W/castore"
log "muletto capture (${RUNS} runs into fresh repositories)"
cap=()
for i in $(seq "$RUNS"); do
	rm -rf "$repo"
	cap+=("$(time_cmd "$MULETTO" capture "$img" "$repo" --name bench --progress none)")
done
rm -rf "$W/castore"
log "zstd -T0 of the raw image (what a dd-based backup keeps)"
zcap=$(time_cmd zstd -q -T0 -3 -f "$img" -o "$W/disk.img.zst")

make_changed() { # src dst: every 14th chunk that holds data gets 1 MiB of other real files
	local pool=$W/pool k=0
	find /usr/share/doc /usr/share/locale /usr/share/perl /usr/share/i18n -type f 2>/dev/null |
		head -20000 | xargs cat 2>/dev/null | head -c $((200 << 20)) >"$pool"
	cp --sparse=always "$1" "$2"
	"$MULETTO" capture "$1" "$W/scan" --name scan --progress none >/dev/null
	python3 - "$W/scan/images/scan/disk0.caibx" <<'PY' | while read -r off; do
import sys, struct, hashlib
b = open(sys.argv[1], "rb").read()
n = (len(b) - 104) // 40
zero = hashlib.sha256(bytes(1 << 20)).hexdigest()
prev, k = 0, 0
for i in range(n):
    end, cid = struct.unpack_from("<Q32s", b, 64 + 40 * i)
    if cid.hex() != zero:
        if k % 14 == 7:
            print(prev >> 20)
        k += 1
    prev = end
PY
		dd if="$pool" of="$2" bs=1M skip=$((k++ % 190)) seek="$off" count=1 conv=notrunc status=none
	done
	rm -rf "$W/scan" "$pool"
}
if [ ! -s "$W/disk2.img.ok" ]; then
	log "making the changed copy (~7 % of the used chunks rewritten with other files)"
	make_changed "$img" "$W/disk2.img" && echo ok >"$W/disk2.img.ok"
fi
"$MULETTO" capture "$W/disk2.img" "$repo" --name bench2 --progress none >/dev/null
rm -f "$W/disk.caibx" "$W/disk2.caibx"
casync make --store="$W/castore" "$W/disk.caibx" "$img" >/dev/null 2>&1
casync make --store="$W/castore" "$W/disk2.caibx" "$W/disk2.img" >/dev/null 2>&1

# Peers' inputs, made once: a bmap of the image (bmaptool), and Clonezilla's
# way: the partition table, and each file system with partclone into zstd.
if [ ! -s "$W/clone.ok" ]; then
	log "bmap and partclone images of the disk (once)"
	bmaptool create "$img" >"$W/disk.bmap"
	sgdisk --backup="$W/gpt.bak" "$img" >/dev/null
	src=$(loop_attach "$img" -r)
	partclone.vfat -c -q -s "${src}p1" -o - 2>/dev/null | zstd -q -T0 -3 >"$W/p1.pcl.zst"
	partclone.ext4 -c -q -s "${src}p2" -o - 2>/dev/null | zstd -q -T0 -3 >"$W/p2.pcl.zst"
	loop_detach "$src"
	echo ok >"$W/clone.ok"
fi

port=$(nginx_start "$W")
base=http://127.0.0.1:$port
alog=$T/nginx-$port/access.log
target_file=$W/target.img
truncate -s ${SIZE_MIB}M "$target_file"
dev=$(loop_attach "$target_file")
# Direct I/O in the loop driver: writes reach the disk below as they would on
# a real disk, not a second page cache that the final flush empties.
losetup --direct-io=on "$dev" 2>/dev/null || log "note: loop device without direct I/O"
blank() { blkdiscard -f "$dev" 2>/dev/null || dd if=/dev/zero of="$dev" bs=4M oflag=direct status=none; }
older() { dd if="$img" of="$dev" bs=4M oflag=direct conv=sparse status=none 2>/dev/null ||
	dd if="$img" of="$dev" bs=4M oflag=direct status=none; }

# measure NAME CHECK-FILE PREP CMD... : median seconds, nginx bytes, peak RSS over RUNS
declare -A SECS BYTES RSS
measure() {
	local name=$1 want=$2 prep=$3 i t0 t1 b0 secs=() rss=0; shift 3
	for i in $(seq "$RUNS"); do
		$prep
		sync; echo 3 >/proc/sys/vm/drop_caches
		b0=$(awk '{b += $10} END {printf "%.0f\n", b}' "$alog")
		t0=$(date +%s.%N)
		/usr/bin/time -f %M -o "$W/rss" "$@" >"$W/last.log" 2>&1 || { log "FAILED: $*"; tail -3 "$W/last.log" >&2; }
		t1=$(date +%s.%N)
		secs+=("$(echo "$t1 - $t0" | bc)")
		BYTES[$name]=$(( $(awk '{b += $10} END {printf "%.0f\n", b}' "$alog") - b0 ))
		rss=$(( $(cat "$W/rss") > rss ? $(cat "$W/rss") : rss ))
		cmp -s -n "$(stat -c %s "$want")" "$want" "$dev" || log "WARNING: $name did not restore an identical disk"
	done
	SECS[$name]=$(printf '%s\n' "${secs[@]}" | median)
	RSS[$name]=$rss
	log "$name: ${SECS[$name]} s"
}

measure "muletto restore" "$img" blank "$MULETTO" restore "$base/repo" bench --to "$dev" --yes --progress none
measure "curl | zstd -d | dd oflag=direct" "$img" blank \
	sh -c "curl -sf $base/disk.img.zst | zstd -dc | dd of=$dev bs=4M iflag=fullblock oflag=direct status=none"
measure "bmaptool copy (.img.zst + bmap)" "$img" blank \
	bmaptool -q copy --bmap "$W/disk.bmap" "$base/disk.img.zst" "$dev"
partclone_restore() { # Clonezilla: partition table, then each file system
	sgdisk --load-backup="$W/gpt.bak" "$dev" >/dev/null && partx -a "$dev" 2>/dev/null
	curl -sf "$base/p1.pcl.zst" | zstd -dc | partclone.vfat -r -q -s - -o "${dev}p1" 2>/dev/null &&
		curl -sf "$base/p2.pcl.zst" | zstd -dc | partclone.ext4 -r -q -s - -o "${dev}p2" 2>/dev/null
	local r=$?
	partx -d "$dev" 2>/dev/null
	return $r
}
export -f partclone_restore
export W base dev
measure "partclone (Clonezilla) over HTTP" "$img" blank bash -c partclone_restore
measure "casync extract (HTTP store)" "$img" blank \
	casync extract --store="$base/castore" "$W/disk.caibx" "$dev"
measure "muletto delta restore" "$W/disk2.img" older "$MULETTO" restore "$base/repo" bench2 --to "$dev" --yes --progress none
measure "casync extract --seed (delta)" "$W/disk2.img" older \
	casync extract --store="$base/castore" --seed="$img" "$W/disk2.caibx" "$dev"

row() { # name baseline
	printf '%-36s %8.2f %10.2f %10s %8s\n' "$1" "${SECS[$1]}" "$(echo "${SECS[$1]} / ${SECS[$2]}" | bc -l)" \
		"$(numfmt --to=iec "${BYTES[$1]}")" "$(( RSS[$1] / 1024 ))M"
}
m_cap=$(printf '%s\n' "${cap[@]}" | median)
printf '\n4 GiB disk, ~1.6 GB of files, median of %s runs\n' "$RUNS"
printf '%-36s %8s %10s %10s %8s\n' "" seconds "vs muletto" "HTTP bytes" "peak RSS"
row "muletto restore" "muletto restore"
row "curl | zstd -d | dd oflag=direct" "muletto restore"
row "bmaptool copy (.img.zst + bmap)" "muletto restore"
row "partclone (Clonezilla) over HTTP" "muletto restore"
row "casync extract (HTTP store)" "muletto restore"
row "muletto delta restore" "muletto delta restore"
row "casync extract --seed (delta)" "muletto delta restore"
printf '%-36s %8.2f %10.2f\n' "delta / full (muletto)" "$(echo "${SECS[muletto delta restore]} / ${SECS[muletto restore]}" | bc -l)" \
	"$(echo "${BYTES[muletto delta restore]} / ${BYTES[muletto restore]}" | bc -l)"
printf '%-36s %8.2f (zstd -T0 -3 of the raw image: %.2f)\n' "muletto capture" "$m_cap" "$zcap"
printf 'repository: %s in store; raw .img.zst: %s\n' "$(du -sh "$repo/store" | cut -f1)" "$(du -h "$W/disk.img.zst" | cut -f1)"
