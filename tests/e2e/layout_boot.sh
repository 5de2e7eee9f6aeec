# The sample machine (UEFI: GPT, an ESP with shim, GRUB and a kernel, an ext4
# root) restored onto a larger and onto a smaller disk: its table keeps every
# GUID, its root file system is grown or shrunk and checks clean, and the
# restored disk boots under OVMF to the marker its own init prints. Onto an
# NVMe disk with 4096-byte sectors too: the ESP's FAT made anew for them.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "layout boot"
e2e_need "layout boot"
export MULETTO_CONF=$T/none.conf MULETTO_TMPDIR=$T

ids() { # the table's identities, without places and sizes
	sfdisk -d "$1" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p'
}

e2e_bootable_sample "$T/sample.img" 96
"$MULETTO" capture "$T/sample.img" "$T/repo" --name sample --progress none >/dev/null 2>&1 ||
	{ fail "layout boot" "capture failed"; exit 0; }
want=$(ids "$T/sample.img")
old_root=$(partx -g -b -o SIZE -n 2 "$T/sample.img" | tr -d ' ')

for c in "larger 144 grow" "smaller 72 shrink"; do
	set -- $c
	img=$T/$1.img
	truncate -s "$2M" "$img"
	"$MULETTO" restore "$T/repo" sample --to "$img" --layout auto --yes --json --progress none \
		>"$T/$1.json" 2>"$T/$1.err" || { fail "restore onto a $1 disk" "$(cat "$T/$1.err")"; continue; }
	start=$(partx -g -o START -n 2 "$img" | tr -d ' ')
	size=$(partx -g -b -o SIZE -n 2 "$img" | tr -d ' ')
	blocks=$(dumpe2fs -h "$img?offset=$((start * 512))" 2>/dev/null | awk -F: '/^Block count/ { c = $2 } /^Block size/ { b = $2 } END { print c * b }')
	cmp=-gt; [ "$3" = shrink ] && cmp=-lt
	[ "$size" $cmp "$old_root" ] &&
		[ "$blocks" = "$size" ] && e2fsck -fn "$img?offset=$((start * 512))" >/dev/null 2>&1 &&
		[ "$(ids "$img")" = "$want" ] &&
		jq -e "select(.plan == null) | .layout[0].action == \"$3\"" "$T/$1.json" >/dev/null &&
		pass "a $2 MiB disk: the root partition ${3}s from $((old_root >> 20)) to $((size >> 20)) MiB with its file system, e2fsck clean, every GUID kept" ||
		fail "a $2 MiB disk: the root $3" "size $size fs $blocks: $(cat "$T/$1.json" "$T/$1.err")"
	Q=()
	e2e_firmware uefi
	e2e_target "$img" nvme
	qemu_run "$1" "$T/$1.log"
	grep -qa "$SAMPLE_MARKER" "$T/$1.log" &&
		pass "the machine restored onto the $1 disk boots to its marker (${E2E_SECONDS}s)" ||
		fail "the machine restored onto the $1 disk boots" "$(tail -c 400 "$T/$1.log")"
done

# 4Kn: restored onto a loop device with 4096-byte sectors, booted from an NVMe
# disk with 4096-byte logical blocks
truncate -s 96M "$T/4kn.img"
k=$(losetup -b 4096 -f --show "$T/4kn.img") && at_exit "loop_detach $k"
"$MULETTO" restore "$T/repo" sample --to "$k" --yes --progress none >"$T/4kn.out" 2>&1
rc=$?
sfdisk -d "$k" >"$T/4kn.table" 2>&1
loop_detach "$k"
[ $rc = 0 ] && grep -q '^sector-size: 4096' "$T/4kn.table" &&
	grep -q 'partition 1: rebuild, made anew, clean (fsck.vfat -n)' "$T/4kn.out" &&
	pass "onto a disk with 4096-byte sectors: the GPT in its sectors, the ESP's FAT made anew for them" ||
	fail "onto a 4Kn disk" "rc $rc: $(cat "$T/4kn.out" "$T/4kn.table")"
Q=()
e2e_firmware uefi
Q+=(-drive "file=$T/4kn.img,if=none,id=t0,format=raw"
    -device nvme,drive=t0,serial=MULETTO4KN,logical_block_size=4096,physical_block_size=4096)
qemu_run 4kn "$T/4kn.log"
grep -qa "$SAMPLE_MARKER" "$T/4kn.log" &&
	pass "... and it boots under OVMF from an NVMe disk with 4096-byte blocks to its marker (${E2E_SECONDS}s)" ||
	fail "the 4Kn disk boots" "$(tail -c 400 "$T/4kn.log")"
