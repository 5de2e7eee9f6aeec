#!/bin/bash
# make bench, layout (issue 13): a 4 GiB machine (GPT: an ESP, an ext4 root
# holding LAYOUT_BENCH_DATA_MB of files, the last ones near its end) restored
# from a local repository onto a disk of its size, of 6 GiB (root grown) and of
# 3 GiB (root shrunk through the overflow file): the restore's time and the
# resize's (table, e2fsck, resize2fs, checks) next to the same-size restore.
# Timings only. Alone: tests/bench_layout.sh (root).
set -u
cd "$(dirname "$0")/.."
export MULETTO=${MULETTO:-$PWD/build/muletto}
. tests/lib.sh
need_root bench_layout
export MULETTO_CONF=$T/none.conf MULETTO_TMPDIR=$T
DATA_MB=${LAYOUT_BENCH_DATA_MB:-1200}

truncate -s 4G "$T/src.img"
sgdisk -n 1:2048:+100M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$T/src.img" >/dev/null
src=$(loop_attach "$T/src.img")
mkfs.vfat -n ESP "${src}p1" >/dev/null && mkfs.ext4 -q -L root "${src}p2" || exit 1
mkdir -p "$T/m" && mount "${src}p2" "$T/m" || exit 1
# the data, then a filler that is deleted, then more data: files near the end
head -c $((DATA_MB / 2))M /dev/urandom >"$T/m/a.bin"
fill=$(($(df -BM --output=avail "$T/m" | tail -1 | tr -dc 0-9) - DATA_MB / 2 - 64))
head -c "${fill}M" /dev/zero >"$T/m/filler"; sync
head -c $((DATA_MB / 2))M /dev/urandom >"$T/m/b.bin"; sync; rm "$T/m/filler"
umount "$T/m"
"$MULETTO" capture "$src" "$T/repo" --name m --progress none >/dev/null || exit 1

printf '\nlayout: a 4 GiB image (ESP, ext4 root with %s MB of data, half of it near its end),\n' "$DATA_MB"
printf 'restored from a local repository onto a loop device of each size; %s cores\n' "$(nproc)"
printf '  %-28s %10s %12s %14s\n' "target" "total (s)" "resize (s)" "vs same size"
base=""
for c in "same 4G" "larger 6G" "smaller 3G"; do
	set -- $c
	truncate -s 0 "$T/t.img"; truncate -s "$2" "$T/t.img"
	t=$(loop_attach "$T/t.img")
	sync; echo 3 >/proc/sys/vm/drop_caches
	t0=$(date +%s.%N)
	"$MULETTO" restore "$T/repo" m --to "$t" --yes --json --progress none >"$T/$1.json" 2>"$T/$1.err" ||
		{ echo "restore onto $2 failed: $(tail -1 "$T/$1.err")"; continue; }
	total=$(echo "$(date +%s.%N) - $t0" | bc)
	fit=$(jq -r 'select(.plan == null) | .layout_seconds // 0' "$T/$1.json")
	[ -z "$base" ] && base=$total
	printf '  %-28s %10.1f %12.1f %13.2fx\n' "$1 ($2)" "$total" "$fit" "$(echo "$total / $base" | bc -l)"
	loop_detach "$t"
done
