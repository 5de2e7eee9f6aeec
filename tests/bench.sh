#!/bin/bash
# make bench: time muletto against its peers on the same data, in one run.
# Builds a 4 GiB GPT disk (ESP + ext4 holding ~1.6 GB of real files from /usr),
# captures it, serves the repository with nginx on 127.0.0.1, and times:
#   muletto capture;  muletto restore over HTTP;  curl | zstd -d | dd oflag=direct
# onto loop devices. Prints a table (median of RUNS runs) with ratios to muletto.
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
rm -rf "$repo" "$W/disk.img.zst"
log "muletto capture (${RUNS} runs into fresh repositories)"
cap=()
for i in $(seq "$RUNS"); do
	rm -rf "$repo"
	cap+=("$(time_cmd "$MULETTO" capture "$img" "$repo" --name bench --progress none)")
done
log "zstd -T0 of the raw image (what a dd-based backup keeps)"
zcap=$(time_cmd zstd -q -T0 -3 -f "$img" -o "$W/disk.img.zst")

port=$(nginx_start "$W")
base=http://127.0.0.1:$port
target_file=$W/target.img
truncate -s ${SIZE_MIB}M "$target_file"
dev=$(loop_attach "$target_file")
blank() { blkdiscard "$dev" 2>/dev/null || dd if=/dev/zero of="$dev" bs=4M oflag=direct status=none; }

mres=() cres=()
for i in $(seq "$RUNS"); do
	blank
	log "run $i: muletto restore over HTTP -> $dev"
	mres+=("$(time_cmd "$MULETTO" restore "$base/repo" bench --to "$dev" --yes --progress none)")
	cmp -s "$img" "$dev" || log "WARNING: muletto restore is not identical"
	blank
	log "run $i: curl | zstd -d | dd oflag=direct -> $dev"
	cres+=("$(time_cmd sh -c "curl -sf $base/disk.img.zst | zstd -dc | dd of=$dev bs=4M iflag=fullblock oflag=direct status=none")")
done

m_cap=$(printf '%s\n' "${cap[@]}" | median)
m_res=$(printf '%s\n' "${mres[@]}" | median)
c_res=$(printf '%s\n' "${cres[@]}" | median)
printf '\n%-40s %10s %12s\n' "4 GiB disk, ~1.6 GB of files" "seconds" "vs muletto"
printf '%-40s %10.2f %12s\n' "muletto capture (folder repo)" "$m_cap" "1.00"
printf '%-40s %10.2f %12.2f\n' "zstd -T0 -3 of the raw image" "$zcap" "$(echo "$zcap / $m_cap" | bc -l)"
printf '%-40s %10.2f %12s\n' "muletto restore over HTTP" "$m_res" "1.00"
printf '%-40s %10.2f %12.2f\n' "curl | zstd -d | dd oflag=direct" "$c_res" "$(echo "$c_res / $m_res" | bc -l)"
printf 'repository: %s in store; raw .img.zst: %s\n' "$(du -sh "$repo/store" | cut -f1)" "$(du -h "$W/disk.img.zst" | cut -f1)"
