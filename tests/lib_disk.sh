# Sample disks for tests: source after lib.sh.
#   make_sample_disk FILE [SIZE_MIB]  GPT: ESP (vfat, files), ext4 (real files and
#                                     random bytes), raw random data after the
#                                     partitions, the rest zero
#   make_changed_copy SRC DST         a copy with a few MiB in the middle rewritten

make_sample_disk() {
	local img=$1 size=${2:-64} stage=$T/stage.$RANDOM p2_start p2_sectors
	rm -f "$img"
	truncate -s "${size}M" "$img"
	# ESP 1 MiB..17 MiB, root after it, 4 MiB left free at the end
	sgdisk -n 1:2048:+16M -t 1:ef00 -c 1:ESP -n "2:0:-4M" -t 2:8300 -c 2:root "$img" >/dev/null
	p2_start=$(partx -g -o START -n 2 "$img" | tr -d ' ')
	p2_sectors=$(partx -g -o SECTORS -n 2 "$img" | tr -d ' ')
	mkfs.vfat -n ESP --offset 2048 "$img" $((16 * 1024)) >/dev/null 2>&1
	mkdir -p "$stage/EFI/BOOT" "$stage/root/doc"
	printf 'muletto test ESP\n' >"$stage/EFI/BOOT/README.TXT"
	head -c 300000 /dev/urandom >"$stage/EFI/BOOT/BLOB.BIN"
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$img@@1M" "$stage/EFI" ::/ 2>/dev/null
	cp -r /usr/share/doc/bash /usr/share/doc/coreutils "$stage/root/doc/" 2>/dev/null
	cp /usr/bin/bash /usr/bin/ls "$stage/root/" 2>/dev/null
	head -c $((size * 1024 * 40)) /dev/urandom >"$stage/root/random.bin"
	mkfs.ext4 -q -F -L root -U 8c7b3f1e-0d6a-4a55-9d3c-2f4b5c6d7e8f -d "$stage/root" \
		-E offset=$((p2_start * 512)) "$img" $((p2_sectors / 2))k
	# random bytes in the unpartitioned stretch at the end, as old data would be
	dd if=/dev/urandom of="$img" bs=1M seek=$((size - 3)) count=1 conv=notrunc status=none
	rm -rf "$stage"
}

make_changed_copy() {
	local src=$1 dst=$2 size_mib
	cp --sparse=always "$src" "$dst"
	size_mib=$(( $(stat -c %s "$src") / 1048576 ))
	dd if=/dev/urandom of="$dst" bs=1M seek=$((size_mib / 2)) count=3 conv=notrunc status=none
}
