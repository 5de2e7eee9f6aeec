# Restore onto a disk of another size or sector size: the plan (--plan-only, --json), the
# partitions at their new places, the table rebuilt with the same GUIDs,
# types, names and attribute bits (sfdisk -d), ext4 grown and checked, every
# file's checksum equal to the source's; what cannot fit is refused with the
# numbers and the target is left untouched.
. "$(dirname "$0")/../lib.sh"
need_root layout
for t in sfdisk sgdisk mkfs.ext4 mkfs.vfat mkswap e2fsck resize2fs dumpe2fs jq mkntfs ntfs-3g ntfsresize mkfs.xfs xfs_db filefrag mkfs.btrfs; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null ||
		{ skip layout "$t is missing"; exit 0; }
done
export MULETTO_CONF=$T/none.conf MULETTO_TMPDIR=$T MTOOLS_SKIP_CHECK=1
repo=$T/repo
sha() { sha256sum <"$1" | cut -c1-64; }
mkdir -p "$T/m"

# The table's identities: disk GUID or signature, and per partition its
# number, type, GUID, name and attributes (sfdisk -d without places and sizes).
ids() {
	sfdisk -d "$1" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p'
}

# files FS-DEVICE SUMS: every file of the source is there with its content
files_ok() {
	local r=0
	mount -o ro "$1" "$T/m" || return 1
	(cd "$T/m" && sha256sum -c --quiet "$2" >/dev/null 2>&1) || r=1
	umount "$T/m"
	return $r
}

fs_bytes() { # the ext file system's size: block count x block size
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '/^Block count/ { c = $2 } /^Block size/ { b = $2 } END { print c * b }'
}

# ---- the source: GPT with an ESP, ext4 root (an attribute bit set), swap, ext4 data ----
truncate -s 256M "$T/src.img"
sgdisk -n 1:2048:+32M -t 1:ef00 -c 1:ESP -n 2:0:+120M -t 2:8300 -c 2:root -n 3:0:+16M -t 3:8200 \
	-c 3:swap -n 4:0:0 -t 4:8300 -c 4:data -A 2:set:2 "$T/src.img" >/dev/null
src=$(loop_attach "$T/src.img")
mkfs.vfat -n ESP "${src}p1" >/dev/null 2>&1 && mkfs.ext4 -q -L root "${src}p2" &&
	mkswap -L swp "${src}p3" >/dev/null && mkfs.ext4 -q -L data "${src}p4" ||
	{ fail layout "could not make the source's file systems"; exit 0; }
mount "${src}p2" "$T/m" && cp -r /usr/share/doc/bash "$T/m/" && head -c 30M /dev/urandom >"$T/m/big" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/root.sums"; umount "$T/m"
# data: a file written after a filler that is then deleted lies near the
# end of the file system, where a shrink has to move it from
mount "${src}p4" "$T/m" && head -c 20M /dev/urandom >"$T/m/d.bin" && mkdir "$T/m/dir" &&
	cp /etc/services "$T/m/dir/" && head -c 44M /dev/zero | tr '\0' x >"$T/m/filler" && sync &&
	head -c 8M /dev/urandom >"$T/m/tail.bin" && sync && rm "$T/m/filler" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/data.sums"
# where tail.bin ends, in bytes from the file system's start
tail_end=$(filefrag -v -b4096 "$T/m/tail.bin" 2>/dev/null | awk '$1 ~ /^[0-9]+:$/ { e = $5 + 0 } END { print (e + 1) * 4096 }')
umount "$T/m"
"$MULETTO" capture "$src" "$repo" --name gpt --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the source" "$(cat "$T/cap.err")"; exit 0; }
src_ids=$(ids "$src")
esp_sha=$(head -c 32M <"${src}p1" | sha256sum | cut -c1-64)
man=$repo/images/gpt/manifest.json

jq -e '.disks[0].partitions | (.[0].role == "esp") and (.[1].role == "data") and (.[2].role == "swap")
	and (.[1].attributes == "0x0000000000000004") and (.[1].used > 30000000)
	and (.[1].min_size >= .[1].used) and (.[1].min_size < .[1].size) and (.[3].used > 20000000)' \
	"$man" >/dev/null && pass "capture records each partition's role, attribute bits, used bytes and minimum size" ||
	fail "capture records what a plan needs" "$(jq -c '.disks[0].partitions' "$man")"

# ---- a larger disk: the plan, then nothing written ----
truncate -s 384M "$T/big.img"
big=$(loop_attach "$T/big.img")
before=$(sha "$big")
"$MULETTO" restore "$repo" gpt --to "$big" --plan-only >"$T/plan.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "^plan for disk 0 of 'gpt' (256 MiB, gpt, 512-byte sectors) onto $big (384 MiB" "$T/plan.out" &&
	grep -Eq '^ +4 +ext4 data +169 MiB +87 MiB -> +169 MiB +214 MiB +grow \([0-9.]+ MiB used, file system minimum [0-9.]+ MiB\)$' "$T/plan.out" &&
	grep -Eq '^ +1 +vfat ESP .* copy$' "$T/plan.out" && grep -Eq '^ +3 +swap swp .* copy$' "$T/plan.out" &&
	grep -q "^plan only: nothing was written to $big" "$T/plan.out" &&
	pass "--plan-only: a larger disk grows the last data partition, the ESP and swap keep theirs" ||
	fail "--plan-only on a larger disk" "rc $rc: $(cat "$T/plan.out")"
"$MULETTO" restore "$repo" gpt --to "$big" --plan-only --json >"$T/plan.json" 2>&1
jq -e '.plan.new_size == 402653184 and .plan.table == "gpt" and (.plan.partitions | length == 4)
	and .plan.partitions[3].action == "grow" and .plan.partitions[3].new_start == .plan.partitions[3].old_start
	and .plan.partitions[3].new_size > .plan.partitions[3].old_size and .plan.partitions[1].action == "copy"' \
	"$T/plan.json" >/dev/null && pass "--plan-only --json: the plan as one JSON line" ||
	fail "--plan-only --json" "$(cat "$T/plan.json")"
[ "$(sha "$big")" = "$before" ] && pass "--plan-only wrote nothing" || fail "--plan-only wrote nothing"

# ---- ... restored: grown, same identities, same files ----
"$MULETTO" restore "$repo" gpt --to "$big" --yes --json --progress none >"$T/grow.json" 2>"$T/grow.err" ||
	fail "restore onto a larger disk" "$(cat "$T/grow.err")"
partx -u "$big" 2>/dev/null || partx -a "$big" 2>/dev/null
[ "$(ids "$big")" = "$src_ids" ] &&
	pass "sfdisk -d: the disk GUID and each partition's number, type, GUID, name and attributes are the source's" ||
	fail "the table keeps the identities" "$(diff <(echo "$src_ids") <(ids "$big") | head -5)"
files_ok "${big}p2" "$T/root.sums" && files_ok "${big}p4" "$T/data.sums" &&
	pass "every file of both ext4 file systems has the source's checksum" || fail "the files after the restore"
p4=$(blockdev --getsize64 "${big}p4")
[ "$p4" -ge $((200 * 1024 * 1024)) ] && [ "$(fs_bytes "${big}p4")" = "$p4" ] &&
	e2fsck -fn "${big}p4" >/dev/null 2>&1 && e2fsck -fn "${big}p2" >/dev/null 2>&1 &&
	pass "the data partition grew to $((p4 >> 20)) MiB, its file system fills it, e2fsck -f -n is clean" ||
	fail "the data file system grown" "partition $p4, fs $(fs_bytes "${big}p4")"
[ "$(head -c 32M <"${big}p1" | sha256sum | cut -c1-64)" = "$esp_sha" ] &&
	[ "$(blkid -o value -s UUID "${big}p3")" = "$(blkid -o value -s UUID "${src}p3")" ] &&
	pass "the ESP is byte for byte the source's, the swap keeps its UUID" || fail "ESP and swap"
jq -e 'select(.plan == null) | .layout | length == 1 and .[0].number == 4 and .[0].action == "grow" and (.[0].verdict | startswith("clean"))' \
	"$T/grow.json" >/dev/null && [ "$(jq -c 'select(.plan) | .plan.partitions[3].action' "$T/grow.json")" = '"grow"' ] && grep -q 'partition 4: grow, clean (e2fsck -f -n)' "$T/grow.err" &&
	pass "--json: the plan, then the result naming what was done to each file system and its checker's verdict" ||
	fail "the result's layout part" "$(cat "$T/grow.json" "$T/grow.err")"

# ---- the same restore again (an interrupted one is run again): still right ----
"$MULETTO" restore "$repo" gpt --to "$big" --yes --json --progress none --verify >"$T/again.json" 2>"$T/again.err"
partx -u "$big" 2>/dev/null
jq -e 'select(.plan == null) | .chunks_seeded > 0' "$T/again.json" >/dev/null && files_ok "${big}p4" "$T/data.sums" &&
	files_ok "${big}p2" "$T/root.sums" && e2fsck -fn "${big}p4" >/dev/null 2>&1 &&
	pass "run again with --verify: chunks already in place are kept ($(jq 'select(.plan == null) | .chunks_seeded' "$T/again.json")), files and checks still right" ||
	fail "the restore run again" "$(cat "$T/again.json" "$T/again.err")"

# ---- proportional: every data partition grows ----
truncate -s 512M "$T/prop.img"
prop=$(loop_attach "$T/prop.img")
"$MULETTO" restore "$repo" gpt --to "$prop" --layout proportional --yes --progress none >"$T/prop.out" 2>&1 ||
	fail "--layout proportional" "$(cat "$T/prop.out")"
partx -u "$prop" 2>/dev/null || partx -a "$prop" 2>/dev/null
p2=$(blockdev --getsize64 "${prop}p2"); p4=$(blockdev --getsize64 "${prop}p4")
[ "$p2" -gt $((120 << 20)) ] && [ "$p4" -gt $((87 << 20)) ] && [ "$(fs_bytes "${prop}p2")" = "$p2" ] &&
	[ "$(fs_bytes "${prop}p4")" = "$p4" ] && files_ok "${prop}p2" "$T/root.sums" &&
	files_ok "${prop}p4" "$T/data.sums" && [ "$(ids "$prop")" = "$src_ids" ] &&
	pass "--layout proportional: root $((p2 >> 20)) MiB and data $((p4 >> 20)) MiB both grown, files and GUIDs kept" ||
	fail "--layout proportional" "p2 $p2 p4 $p4: $(cat "$T/prop.out")"

# ---- --layout FILE: the plan from --plan-only --json, its sizes edited ----
truncate -s 384M "$T/edit.img"; edit=$(loop_attach "$T/edit.img")
"$MULETTO" restore "$repo" gpt --to "$edit" --plan-only --json 2>/dev/null |
	jq '.plan.partitions[1].new_size = 180 * 1048576 | .plan.partitions[3].new_size = "120M"' >"$T/edited.json"
"$MULETTO" restore "$repo" gpt --to "$edit" --layout "$T/edited.json" --yes --progress none >"$T/edit.out" 2>&1 ||
	fail "--layout FILE" "$(cat "$T/edit.out")"
partx -u "$edit" 2>/dev/null || partx -a "$edit" 2>/dev/null
[ "$(blockdev --getsize64 "${edit}p2")" = $((180 << 20)) ] && [ "$(blockdev --getsize64 "${edit}p4")" = $((120 << 20)) ] &&
	[ "$(fs_bytes "${edit}p2")" = $((180 << 20)) ] && files_ok "${edit}p2" "$T/root.sums" && files_ok "${edit}p4" "$T/data.sums" &&
	[ "$(ids "$edit")" = "$src_ids" ] &&
	pass "--layout FILE: the plan's JSON with sizes edited (root 180 MiB, data \"120M\"): both grown to them, files and GUIDs kept" ||
	fail "--layout FILE" "$(sfdisk -d "$edit"; cat "$T/edit.out")"
echo '{"partitions": [{"number": 2, "size": "20M"}]}' >"$T/toosmall.json"
expect_fail "--layout FILE with a size below what the file system needs is refused with the numbers" \
	"^muletto: target $edit: --layout: partition 2 \\(ext4\\) cannot be 20 MiB: its file system needs at least [0-9.]+ MiB \\([0-9]+ bytes\\)" \
	"$MULETTO" restore "$repo" gpt --to "$edit" --layout "$T/toosmall.json" --yes
# the ESP and swap keep their sizes in muletto's own plans; the technician may
# choose others: the FAT is made anew (volume ID, label), swap too (UUID, label)
echo '{"partitions": [{"number": 1, "size": "64M"}, {"number": 3, "size": "32M"}]}' >"$T/esp.json"
"$MULETTO" restore "$repo" gpt --to "$edit" --layout "$T/esp.json" --yes --progress none >"$T/esp.out" 2>&1
partx -d "$edit" 2>/dev/null; partx -a "$edit" 2>/dev/null # partitions overlap the old ones
[ "$(blockdev --getsize64 "${edit}p1")" = $((64 << 20)) ] && [ "$(blockdev --getsize64 "${edit}p3")" = $((32 << 20)) ] &&
	[ "$(blkid -o value -s UUID "${edit}p1")" = "$(blkid -o value -s UUID "${src}p1")" ] &&
	[ "$(blkid -o value -s LABEL "${edit}p1")" = ESP ] && fsck.vfat -n "${edit}p1" >/dev/null 2>&1 &&
	[ "$(blkid -o value -s UUID "${edit}p3")" = "$(blkid -o value -s UUID "${src}p3")" ] &&
	[ "$(blkid -o value -s LABEL "${edit}p3")" = swp ] && files_ok "${edit}p2" "$T/root.sums" &&
	pass "--layout FILE: the ESP made anew in 64 MiB (volume ID, label, fsck.vfat clean) and swap in 32 MiB (UUID, label)" ||
	fail "--layout FILE with the ESP and swap" "$(blkid "${edit}p1" "${edit}p3"; cat "$T/esp.out")"

# ---- an image file of a larger size, with --layout ----
truncate -s 320M "$T/file.img"
"$MULETTO" restore "$repo" gpt --to "$T/file.img" --layout grow-last --yes --progress none >"$T/file.out" 2>&1 ||
	fail "--layout onto an image file" "$(cat "$T/file.out")"
fdev=$(loop_attach "$T/file.img")
[ "$(stat -c %s "$T/file.img")" = $((320 << 20)) ] && files_ok "${fdev}p4" "$T/data.sums" &&
	[ "$(fs_bytes "${fdev}p4")" = "$(blockdev --getsize64 "${fdev}p4")" ] &&
	pass "an image file of 320 MiB keeps its size and gets the grown layout" ||
	fail "--layout onto an image file" "$(cat "$T/file.out")"

# ---- a smaller disk that holds the data: shrunk through an overflow file ----
truncate -s 232M "$T/smaller.img"; head -c 1M /dev/urandom | dd of="$T/smaller.img" conv=notrunc status=none
smaller=$(loop_attach "$T/smaller.img")
"$MULETTO" restore "$repo" gpt --to "$smaller" --yes --json --progress none >"$T/smaller.json" 2>"$T/smaller.err"
rc=$?
partx -u "$smaller" 2>/dev/null || partx -a "$smaller" 2>/dev/null
new4=$(jq 'select(.plan) | .plan.partitions[3].new_size' "$T/smaller.json")
[ "$tail_end" -gt "${new4:-0}" ] && pass "the source's data partition has a file up to $((tail_end >> 20)) MiB, beyond its new size of $((new4 >> 20)) MiB" ||
	fail "the source has data beyond the new end" "tail.bin ends at $tail_end, new size $new4"
[ $rc = 0 ] && jq -e 'select(.plan == null) | [.layout[] | select(.action == "shrink")] | length == 2' "$T/smaller.json" >/dev/null &&
	files_ok "${smaller}p2" "$T/root.sums" && files_ok "${smaller}p4" "$T/data.sums" &&
	e2fsck -fn "${smaller}p2" >/dev/null 2>&1 && e2fsck -fn "${smaller}p4" >/dev/null 2>&1 &&
	[ "$(fs_bytes "${smaller}p4")" -le "$(blockdev --getsize64 "${smaller}p4")" ] &&
	[ "$(ids "$smaller")" = "$src_ids" ] &&
	pass "a 232 MiB disk for the 256 MiB image: root and data shrunk, every file equal, e2fsck clean, GUIDs kept" ||
	fail "a smaller disk" "rc $rc: $(cat "$T/smaller.json" "$T/smaller.err")"
ls "$T"/muletto-overflow* >/dev/null 2>&1 && fail "the overflow files are removed" || pass "the overflow files are removed"

# ---- too little room for the overflow: refused before writing ----
mkdir -p "$T/small-tmp" && mount -t tmpfs -o size=4m tmpfs "$T/small-tmp" && at_exit "umount $T/small-tmp"
head -c 1M /dev/urandom | dd of="$smaller" conv=notrunc status=none; before=$(sha "$smaller")
expect_fail "no room for what lies beyond a shrinking partition's end: refused with the numbers" \
	"^muletto: shrinking partition [0-9] needs [0-9.]+ [KM]iB of room for the data beyond its new end while it shrinks, and $T/small-tmp has [0-9.]+ [KM]iB free: set MULETTO_TMPDIR to a folder with more room" \
	env MULETTO_TMPDIR="$T/small-tmp" "$MULETTO" restore "$repo" gpt --to "$smaller" --yes
[ "$(sha "$smaller")" = "$before" ] && pass "... and the disk is untouched" || fail "... and the disk is untouched"
truncate -s 100M "$T/tiny.img"; tiny=$(loop_attach "$T/tiny.img"); before=$(sha "$tiny")
expect_fail "a disk too small for the data is refused with the numbers" \
	"^muletto: target $tiny: the disk is too small for this image even with its file systems shrunk: its partitions need at least [0-9]+ MiB, the disk holds 100 MiB: partition 1 \(vfat ESP\) keeps its 32 MiB, partition 2 \(ext4 root\) can shrink to [0-9]+ MiB \([0-9.]+ MiB of data\), partition 3 \(swap swp\) keeps its 16 MiB, partition 4 \(ext4 data\) can shrink to [0-9]+ MiB \([0-9.]+ MiB of data\); choose a disk of at least [0-9]+ MiB$" \
	"$MULETTO" restore "$repo" gpt --to "$tiny" --yes
[ "$(sha "$tiny")" = "$before" ] && pass "... and that disk is untouched" || fail "... and that disk is untouched"

# ---- MBR: the disk signature and the active flag kept ----
truncate -s 96M "$T/mbr.img"
printf 'label: dos\nlabel-id: 0x1234abcd\n2048,65536,83,*\n67584,,83\n' | sfdisk -q "$T/mbr.img"
mbr=$(loop_attach "$T/mbr.img")
mkfs.ext4 -q -L boot "${mbr}p1" && mkfs.ext4 -q -L rest "${mbr}p2"
mount "${mbr}p2" "$T/m" && cp -r /usr/share/doc/bash "$T/m/" && (cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/mbr.sums"
umount "$T/m"
"$MULETTO" capture "$mbr" "$repo" --name mbr --progress none >/dev/null 2>&1
truncate -s 160M "$T/mbr2.img"; mbr2=$(loop_attach "$T/mbr2.img")
"$MULETTO" restore "$repo" mbr --to "$mbr2" --yes --progress none >"$T/mbr.out" 2>&1 || fail "MBR restore" "$(cat "$T/mbr.out")"
partx -u "$mbr2" 2>/dev/null || partx -a "$mbr2" 2>/dev/null
[ "$(ids "$mbr2")" = "$(ids "$mbr")" ] && sfdisk -d "$mbr2" | grep -q "^${mbr2}p1 : .*bootable" &&
	files_ok "${mbr2}p2" "$T/mbr.sums" && [ "$(blockdev --getsize64 "${mbr2}p2")" -gt $((80 << 20)) ] &&
	[ "$(fs_bytes "${mbr2}p2")" = "$(blockdev --getsize64 "${mbr2}p2")" ] &&
	pass "MBR: disk signature 0x1234abcd and the active flag kept, the last partition grown, files equal" ||
	fail "MBR layout" "$(sfdisk -d "$mbr2") $(cat "$T/mbr.out")"

# ---- an image of two disks onto two targets of other sizes, each planned ----
"$MULETTO" capture "$src" "$mbr" "$repo" --name two --progress none >/dev/null 2>&1
truncate -s 320M "$T/two0.img"; truncate -s 128M "$T/two1.img"
two0=$(loop_attach "$T/two0.img"); two1=$(loop_attach "$T/two1.img")
"$MULETTO" restore "$repo" two --disk 0="$two0" --disk 1="$two1" --yes --json --progress none >"$T/two.json" 2>"$T/two.err"
rc=$?
partx -u "$two0" 2>/dev/null || partx -a "$two0" 2>/dev/null; partx -u "$two1" 2>/dev/null || partx -a "$two1" 2>/dev/null
[ $rc = 0 ] && [ "$(jq -s '[.[] | select(.plan)] | length' "$T/two.json")" = 2 ] &&
	files_ok "${two0}p4" "$T/data.sums" && files_ok "${two0}p2" "$T/root.sums" && files_ok "${two1}p2" "$T/mbr.sums" &&
	[ "$(ids "$two0")" = "$src_ids" ] && [ "$(ids "$two1")" = "$(ids "$mbr")" ] &&
	[ "$(fs_bytes "${two1}p2")" = "$(blockdev --getsize64 "${two1}p2")" ] &&
	pass "--disk 0=A --disk 1=B: both disks of an image onto targets of other sizes, each planned and grown, files and GUIDs kept" ||
	fail "two disks onto two targets" "rc $rc: $(cat "$T/two.err")"
expect_fail "--disk N=TARGET with --to is refused" "^muletto: --to and --disk N=TARGET" \
	"$MULETTO" restore "$repo" two --disk 0="$two0" --to "$two1" --yes
expect_fail "the same target for two disks is refused" "^muletto: --disk 1=$two0: that target is named twice" \
	"$MULETTO" restore "$repo" two --disk 0="$two0" --disk 1="$two0" --yes

# ---- a Windows-style disk: ESP, MSR, NTFS; grown and shrunk ----
truncate -s 256M "$T/win.img"
sgdisk -n 1:2048:+32M -t 1:ef00 -c 1:"EFI system partition" -n 2:0:+16M -t 2:0c01 -c 2:"Microsoft reserved partition" \
	-n 3:0:0 -t 3:0700 -c 3:"Basic data partition" -A 3:set:63 "$T/win.img" >/dev/null
win=$(loop_attach "$T/win.img")
mkfs.vfat -n SYSTEM "${win}p1" >/dev/null 2>&1 && mkntfs -q -f -L Windows "${win}p3" 2>/dev/null &&
	mkdir -p "$T/nm" && ntfs-3g "${win}p3" "$T/nm" && mkdir "$T/nm/Windows" &&
	cp -r /usr/share/doc/bash "$T/nm/Windows/" && head -c 40M /dev/urandom >"$T/nm/pagefile.sys" &&
	(cd "$T/nm" && find . -type f | sort | xargs sha256sum) >"$T/win.sums"
umount "$T/nm"
"$MULETTO" capture "$win" "$repo" --name win --progress none >/dev/null 2>&1
jq -e '.disks[0].partitions | (.[1].role == "msr") and (.[2].fs == "ntfs") and (.[2].used > 40000000)
	and (.[2].min_size > 40000000) and (.[2].min_size < .[2].size)' "$repo/images/win/manifest.json" >/dev/null &&
	pass "capture: the MSR's role, NTFS's used bytes and minimum size (ntfsresize --info)" ||
	fail "capture of the Windows-style disk" "$(jq -c '.disks[0].partitions' "$repo/images/win/manifest.json")"
ntfs_ok() { # DEVICE SUMS
	local r=0
	ntfs-3g -o ro "$1" "$T/nm" || return 1
	(cd "$T/nm" && sha256sum -c --quiet "$2" >/dev/null 2>&1) || r=1
	umount "$T/nm"
	return $r
}
for c in "grow 384 grown" "shrink 160 shrunk"; do
	set -- $c
	truncate -s "$2M" "$T/win-$1.img"; wdev=$(loop_attach "$T/win-$1.img")
	"$MULETTO" restore "$repo" win --to "$wdev" --yes --json --progress none >"$T/win-$1.json" 2>"$T/win-$1.err"
	partx -u "$wdev" 2>/dev/null || partx -a "$wdev" 2>/dev/null
	hidden=$(od -An -tu4 -j28 -N4 "${wdev}p3" | tr -d ' ')
	jq -e "select(.plan == null) | .layout[0] | .number == 3 and .action == \"$1\" and (.verdict | startswith(\"consistent\"))" \
		"$T/win-$1.json" >/dev/null && ntfs_ok "${wdev}p3" "$T/win.sums" && [ "$(ids "$wdev")" = "$(ids "$win")" ] &&
		[ "$hidden" = "$(partx -g -o START -n 3 "$wdev" | tr -d ' ')" ] &&
		vol=$(ntfsresize --info --force --no-progress-bar "${wdev}p3" 2>/dev/null | sed -n 's/^Current volume size: \([0-9]*\) bytes.*/\1/p') &&
		[ "${vol:-0}" -gt $(($(blockdev --getsize64 "${wdev}p3") - 4096)) ] &&
		pass "NTFS onto a $2 MiB disk: $3 to $((vol >> 20)) MiB (its partition's size), boot sector's start right, files equal through ntfs-3g, GUIDs, MSR and attributes kept" ||
		fail "NTFS onto a $2 MiB disk ($1)" "hidden $hidden; $(ntfs_ok "${wdev}p3" "$T/win.sums" && echo files ok); $(diff <(ids "$wdev") <(ids "$win")); $(ntfsresize --info --force --no-progress-bar "${wdev}p3" 2>&1 | grep 'Current'); $(blockdev --getsize64 "${wdev}p3"); $(tail -1 "$T/win-$1.json") $(cat "$T/win-$1.err")"
done

# ---- XFS grows; it cannot shrink, so a disk that would need that is refused ----
# (mkfs.xfs makes nothing under 300 MB)
truncate -s 400M "$T/x.img"
sgdisk -n 1:2048:+64M -t 1:8300 -c 1:root -n 2:0:0 -t 2:8300 -c 2:srv "$T/x.img" >/dev/null
x=$(loop_attach "$T/x.img")
# beside plain files: a hard link, an extended attribute and a sparse file,
# which a copy into a new XFS must keep
mkfs.ext4 -q -L root "${x}p1" && mkfs.xfs -q -f -L srv "${x}p2" && mount "${x}p2" "$T/m" &&
	cp -r /usr/share/doc/bash "$T/m/" && head -c 20M /dev/urandom >"$T/m/db" &&
	ln "$T/m/db" "$T/m/db.link" && python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.muletto", b"kept")' "$T/m/db" &&
	truncate -s 64M "$T/m/sparse" && echo end >>"$T/m/sparse" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/xfs.sums"
umount "$T/m"
xfs_uuid=$(blkid -o value -s UUID "${x}p2")
"$MULETTO" capture "$x" "$repo" --name xfs --progress none >/dev/null 2>&1
truncate -s 560M "$T/x2.img"; x2=$(loop_attach "$T/x2.img")
"$MULETTO" restore "$repo" xfs --to "$x2" --yes --json --progress none >"$T/x2.json" 2>"$T/x2.err"
partx -u "$x2" 2>/dev/null || partx -a "$x2" 2>/dev/null
jq -e 'select(.plan == null) | .layout[0].action == "grow" and (.layout[0].verdict | startswith("clean (xfs_repair"))' "$T/x2.json" >/dev/null &&
	files_ok "${x2}p2" "$T/xfs.sums" && [ "$(xfs_db -r -c 'sb 0' -c 'print dblocks' "${x2}p2" | awk '{ print $3 * 4096 }')" -gt $((400 << 20)) ] &&
	pass "XFS onto a larger disk: grown (xfs_growfs), xfs_repair -n clean, files equal" ||
	fail "XFS grown" "$(cat "$T/x2.json" "$T/x2.err")"
# XFS cannot shrink: onto a smaller disk it is made anew (same UUID, label and
# features) and its files copied (xfsdump | xfsrestore) from its bytes as
# captured, kept whole in an overflow file meanwhile
jq -e '.disks[0].partitions[1] | .min_size >= 314572800 and .min_size < .size' "$repo/images/xfs/manifest.json" >/dev/null &&
	pass "capture: the least a new XFS holding the data can be (at least mkfs.xfs's 300 MB)" ||
	fail "capture: XFS's minimum" "$(jq -c '.disks[0].partitions[1]' "$repo/images/xfs/manifest.json")"
truncate -s 360M "$T/x3.img"; x3=$(loop_attach "$T/x3.img")
"$MULETTO" restore "$repo" xfs --to "$x3" --yes --json --progress none >"$T/x3.json" 2>"$T/x3.err"
partx -u "$x3" 2>/dev/null || partx -a "$x3" 2>/dev/null
xfs_end=$(xfs_db -r -c 'sb 0' -c 'print dblocks' "${x3}p2" 2>/dev/null | awk '{ print $3 * 4096 }')
xfs_kept() { # DEVICE: the hard link, the attribute and the sparse file as they were
	local r=1
	mount -o ro "$1" "$T/m" || return 1
	[ "$(stat -c %i "$T/m/db")" = "$(stat -c %i "$T/m/db.link")" ] &&
		python3 -c 'import os, sys; sys.exit(os.getxattr(sys.argv[1], "user.muletto") != b"kept")' "$T/m/db" &&
		[ "$(du -k "$T/m/sparse" | cut -f1)" -lt 1024 ] && r=0
	umount "$T/m"
	return $r
}
jq -e 'select(.plan == null) | .layout[] | select(.number == 2) | .action == "rebuild" and (.verdict | test("files copied.*clean \\(xfs_repair"))' "$T/x3.json" >/dev/null &&
	[ "${xfs_end:-0}" -gt 0 ] && [ "$xfs_end" -le "$(blockdev --getsize64 "${x3}p2")" ] &&
	[ "$(blkid -o value -s UUID "${x3}p2")" = "$xfs_uuid" ] && [ "$(blkid -o value -s LABEL "${x3}p2")" = srv ] &&
	files_ok "${x3}p2" "$T/xfs.sums" && xfs_kept "${x3}p2" && [ "$(ids "$x3")" = "$(ids "$x")" ] &&
	pass "XFS onto a smaller disk: made anew in $((xfs_end >> 20)) MiB with its UUID and label, files equal, hard link, attribute and sparse file kept, xfs_repair -n clean" ||
	fail "XFS onto a smaller disk" "end $xfs_end: $(cat "$T/x3.json" "$T/x3.err")"
truncate -s 300M "$T/x4.img"; x4=$(loop_attach "$T/x4.img"); before=$(sha "$x4")
expect_fail "a disk too small for a new XFS holding the data is refused with the numbers" \
	"partition 2 \\(xfs srv\\) can shrink to [0-9]+ MiB .*choose a disk of at least" \
	"$MULETTO" restore "$repo" xfs --to "$x4" --yes
[ "$(sha "$x4")" = "$before" ] && pass "... and that disk is untouched" || fail "... and that disk is untouched"

# ---- btrfs grows (mounted, btrfs filesystem resize max) ----
truncate -s 320M "$T/b.img"
sgdisk -n 1:2048:+32M -t 1:8300 -c 1:boot -n 2:0:0 -t 2:8300 -c 2:home "$T/b.img" >/dev/null
b=$(loop_attach "$T/b.img")
mkfs.ext4 -q -L boot "${b}p1" && mkfs.btrfs -q -f -L home "${b}p2" >/dev/null 2>&1 && mount "${b}p2" "$T/m" &&
	cp -r /usr/share/doc/bash "$T/m/" && head -c 20M /dev/urandom >"$T/m/photos" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/btrfs.sums"
umount "$T/m"
"$MULETTO" capture "$b" "$repo" --name btrfs --progress none >/dev/null 2>&1
truncate -s 480M "$T/b2.img"; b2=$(loop_attach "$T/b2.img")
"$MULETTO" restore "$repo" btrfs --to "$b2" --yes --json --progress none >"$T/b2.json" 2>"$T/b2.err"
partx -u "$b2" 2>/dev/null || partx -a "$b2" 2>/dev/null
tb=$(btrfs inspect-internal dump-super "${b2}p2" 2>/dev/null | awk '$1 == "total_bytes" { print $2 }')
jq -e 'select(.plan == null) | .layout[0].action == "grow" and (.layout[0].verdict | startswith("clean (btrfs check"))' "$T/b2.json" >/dev/null &&
	[ "${tb:-0}" = "$(blockdev --getsize64 "${b2}p2")" ] && files_ok "${b2}p2" "$T/btrfs.sums" &&
	pass "btrfs onto a larger disk: grown to its partition ($((tb >> 20)) MiB), btrfs check clean, files equal" ||
	fail "btrfs grown" "total $tb: $(cat "$T/b2.json" "$T/b2.err")"
# shrinks too, mounted (btrfs filesystem resize), down to what btrfs says it
# needs (min-dev-size, read at capture) and never below the kernel's 256 MiB
jq -e '.disks[0].partitions[1] | .min_size >= 268435456 and .min_size < .size' "$repo/images/btrfs/manifest.json" >/dev/null &&
	pass "capture: btrfs's minimum size (btrfs inspect-internal min-dev-size, at least the kernel's 256 MiB)" ||
	fail "capture: btrfs's minimum size" "$(jq -c '.disks[0].partitions[1]' "$repo/images/btrfs/manifest.json")"
truncate -s 310M "$T/b3.img"; b3=$(loop_attach "$T/b3.img")
"$MULETTO" restore "$repo" btrfs --to "$b3" --yes --json --progress none >"$T/b3.json" 2>"$T/b3.err"
partx -u "$b3" 2>/dev/null || partx -a "$b3" 2>/dev/null
tb=$(btrfs inspect-internal dump-super "${b3}p2" 2>/dev/null | awk '$1 == "dev_item.total_bytes" { print $2 }')
jq -e 'select(.plan == null) | .layout[] | select(.number == 2) | .action == "shrink" and (.verdict | startswith("clean (btrfs check"))' "$T/b3.json" >/dev/null &&
	[ "${tb:-0}" -le "$(blockdev --getsize64 "${b3}p2")" ] && [ "${tb:-0}" -lt $((287 << 20)) ] &&
	files_ok "${b3}p2" "$T/btrfs.sums" &&
	pass "btrfs onto a smaller disk: shrunk to $((tb >> 20)) MiB within its partition, btrfs check clean, files equal" ||
	fail "btrfs shrunk" "total $tb: $(cat "$T/b3.json" "$T/b3.err")"

# ---- an LVM physical volume grows (pvresize); its volume group gains the room ----
if command -v pvcreate >/dev/null || [ -x /usr/sbin/pvcreate ]; then
	export PATH=$PATH:/usr/sbin LVM_SUPPRESS_FD_WARNINGS=1
	vg=mvg$$
	truncate -s 200M "$T/pv.img"
	sgdisk -n 1:2048:+32M -t 1:8300 -c 1:boot -n 2:0:0 -t 2:8e00 -c 2:lvm "$T/pv.img" >/dev/null
	pv=$(loop_attach "$T/pv.img")
	# two logical volumes, the first removed again: "data" sits at extents
	# 10-14 and the volume can shrink to end after it (made without
	# device-mapper, which this kernel has not: activation=0); its bytes are
	# known, to be compared where lvm2 says they are after each restore
	lvm_off=(--config 'global { activation = 0 }' --devices "${pv}p2")
	mkfs.ext4 -q -L boot "${pv}p1" && pvcreate -q --devices "${pv}p2" "${pv}p2" >/dev/null 2>&1 &&
		vgcreate -q --devices "${pv}p2" "$vg" "${pv}p2" >/dev/null 2>&1 &&
		lvcreate "${lvm_off[@]}" -q -an --zero n -L 40M -n root "$vg" >/dev/null 2>&1 &&
		lvcreate "${lvm_off[@]}" -q -an --zero n -L 20M -n data "$vg" >/dev/null 2>&1 &&
		lvremove "${lvm_off[@]}" -q -y "$vg/root" >/dev/null 2>&1
	head -c 20M /dev/urandom >"$T/lv.data"
	lv_at() { # PARTITION: the data LV's byte offset in it, from lvm2
		local pe ext start
		read -r pe ext < <(pvs --devices "$1" --noheadings --units b --nosuffix -o pe_start,vg_extent_size "$1" 2>/dev/null)
		start=$(lvs --devices "$1" --noheadings -o seg_pe_ranges "$vg/data" 2>/dev/null | sed 's/.*:\([0-9]*\)-.*/\1/')
		echo $((pe + ${start:-999999} * ext))
	}
	lv_ok() { # PARTITION: the data LV holds the bytes written into it
		cmp -s -n $((20 << 20)) -i "$(lv_at "$1"):0" "$1" "$T/lv.data"
	}
	dd if="$T/lv.data" of="${pv}p2" bs=1M seek="$(($(lv_at "${pv}p2") >> 20))" conv=notrunc status=none
	"$MULETTO" capture "$pv" "$repo" --name pv --progress none >/dev/null 2>&1
	truncate -s 360M "$T/pv2.img"; pv2=$(loop_attach "$T/pv2.img")
	"$MULETTO" restore "$repo" pv --to "$pv2" --yes --json --progress none >"$T/pv2.json" 2>"$T/pv2.err"
	partx -u "$pv2" 2>/dev/null || partx -a "$pv2" 2>/dev/null
	psize=$(pvs --devices "${pv2}p2" --noheadings --units b --nosuffix -o pv_size "${pv2}p2" 2>/dev/null | tr -d ' ')
	jq -e '.disks[0].partitions[1] | .role == "lvm_pv" and .fs == "LVM2_member"' "$repo/images/pv/manifest.json" >/dev/null &&
		jq -e 'select(.plan == null) | .layout[0].action == "grow" and .layout[0].verdict == "consistent (pvck)"' "$T/pv2.json" >/dev/null &&
		[ "${psize:-0}" -gt $((300 << 20)) ] &&
		vgs --devices "${pv2}p2" --noheadings -o vg_name 2>/dev/null | grep -qw "$vg" && lv_ok "${pv2}p2" &&
		pass "an LVM physical volume grown to $((psize >> 20)) MiB (pvresize), its volume group $vg intact, its logical volume's bytes equal, pvck consistent" ||
		fail "LVM PV grown" "pv size $psize: $(cat "$T/pv2.json" "$T/pv2.err")"
	# the plan says where the volume group's room goes; --grow-lv needs
	# device-mapper (tests/e2e/layout_lvm.sh runs it), which this kernel has not
	truncate -s 360M "$T/pvplan.img"
	"$MULETTO" restore "$repo" pv --to "$T/pvplan.img" --layout grow-last --plan-only >"$T/pvplan.out" 2>&1
	grep -qE '^  partition 2: its volume group gains [0-9.]+ MiB, left free \(--grow-lv gives it to its last logical volume\)$' "$T/pvplan.out" &&
		grep -q 'partition 2: its volume group gains .*, left free' "$T/pv2.err" &&
		pass "without --grow-lv the plan and the restore say the volume group's new room stays free" ||
		fail "the plan says where the room goes" "$(cat "$T/pvplan.out" "$T/pv2.err")"
	if ! grep -q ' device-mapper' /proc/misc && [ ! -e "/lib/modules/$(uname -r)/kernel/drivers/md/dm-mod.ko" ]; then
		truncate -s 360M "$T/pvlv.img"
		expect_fail "--grow-lv without device-mapper is refused before anything is written, with the way out" \
			"^muletto: --grow-lv needs device-mapper to grow the file system of partition 2's last logical volume, and this kernel has none \(not in /proc/misc, no dm-mod module\): restore from muletto's boot environment, or without --grow-lv \(the room stays free in the volume group\)" \
			"$MULETTO" restore "$repo" pv --to "$T/pvlv.img" --layout grow-last --grow-lv --yes
		[ "$(stat -c %b "$T/pvlv.img")" = 0 ] && pass "... and nothing was written" || fail "--grow-lv refused: nothing written"
	fi
	jq -e '.disks[0].partitions[1] | .min_size == (1048576 + 16 * 4194304)' "$repo/images/pv/manifest.json" >/dev/null &&
		pass "capture: a physical volume's minimum is where its last allocated extent ends (and one more)" ||
		fail "capture: a PV's minimum size" "$(jq -c '.disks[0].partitions[1]' "$repo/images/pv/manifest.json")"
	truncate -s 150M "$T/pv3.img"; pv3=$(loop_attach "$T/pv3.img")
	"$MULETTO" restore "$repo" pv --to "$pv3" --yes --json --progress none >"$T/pv3.json" 2>"$T/pv3.err"
	partx -u "$pv3" 2>/dev/null || partx -a "$pv3" 2>/dev/null
	psize=$(pvs --devices "${pv3}p2" --noheadings --units b --nosuffix -o pv_size "${pv3}p2" 2>/dev/null | tr -d ' ')
	jq -e 'select(.plan == null) | .layout[] | select(.number == 2) | .action == "shrink" and .verdict == "consistent (pvck)"' "$T/pv3.json" >/dev/null &&
		[ "${psize:-0}" -gt 0 ] && [ "$psize" -le "$(blockdev --getsize64 "${pv3}p2")" ] && lv_ok "${pv3}p2" &&
		pass "an LVM physical volume shrunk to $((psize >> 20)) MiB (pvresize) on a smaller disk, its logical volume's bytes equal, pvck consistent" ||
		fail "LVM PV shrunk" "pv size $psize: $(cat "$T/pv3.json" "$T/pv3.err")"
	# an extent in use at the very end: the volume cannot shrink, and a disk
	# that would need it is refused with the numbers
	lvcreate "${lvm_off[@]}" -q -an --zero n -l 100%FREE -n fill "$vg" >/dev/null 2>&1
	"$MULETTO" capture "$pv" "$repo" --name pvfull --progress none >/dev/null 2>&1
	before=$(sha "$pv3")
	expect_fail "a physical volume used to its end onto a disk it would have to shrink for: refused with the numbers" \
		"partition 2 \\(LVM2_member\\) can shrink to 167 MiB.*choose a disk of at least" \
		"$MULETTO" restore "$repo" pvfull --to "$pv3" --yes
	[ "$(sha "$pv3")" = "$before" ] && pass "... and that disk is untouched" || fail "... and that disk is untouched"
else
	skip "LVM PV grown" "lvm2 is not installed"
fi

# ---- FAT: made anew in the new size with its volume ID, label and files ----
# (this kernel has no vfat: the files are compared through mtools)
fat_sums() { # PARTITION: every file's checksum, by path
	local d
	d=$(mktemp -d "$T/fat.XXXXXX")
	mcopy -s -n -i "$1" "::*" "$d/" 2>/dev/null
	(cd "$d" && find . -type f | sort | xargs sha256sum)
	rm -rf "$d"
}
truncate -s 200M "$T/fat.img"
sgdisk -n 1:2048:+32M -t 1:ef00 -c 1:ESP -n 2:0:+64M -t 2:8300 -c 2:root -n 3:0:+8M -t 3:8300 -c 3:raw \
	-n 4:0:0 -t 4:0700 -c 4:share "$T/fat.img" >/dev/null
fat=$(loop_attach "$T/fat.img")
mkdir -p "$T/esp2/EFI/debian" && head -c 200K /dev/urandom >"$T/esp2/EFI/debian/grubx64.efi"
mkfs.vfat -n ESP "${fat}p1" >/dev/null 2>&1 && mcopy -s -i "${fat}p1" "$T/esp2/EFI" ::/ 2>/dev/null &&
	mkfs.ext4 -q -L root "${fat}p2" && head -c 8M /dev/urandom >"${fat}p3" &&
	mkfs.vfat -n SHARE "${fat}p4" >/dev/null 2>&1 && mcopy -s -i "${fat}p4" /usr/share/doc/bash ::/ 2>/dev/null &&
	head -c 12M /dev/urandom >"$T/report.bin" && mcopy -i "${fat}p4" "$T/report.bin" ::/ 2>/dev/null ||
	fail "the FAT source" "could not make it"
fat_sums "${fat}p4" >"$T/share.sums"
"$MULETTO" capture "$fat" "$repo" --name fat --progress none >/dev/null 2>&1
jq -e '.disks[0].partitions[3] | .used > 12000000 and .min_size > .used and .min_size < .size' "$repo/images/fat/manifest.json" >/dev/null &&
	pass "capture: a FAT's used bytes and the least a new one holding them can be (fsck.fat -n -v)" ||
	fail "capture: a FAT's size" "$(jq -c '.disks[0].partitions[3]' "$repo/images/fat/manifest.json")"
for c in "grow 300 grown" "shrink 130 shrunk"; do
	set -- $c
	truncate -s "$2M" "$T/fat-$1.img"; fdev=$(loop_attach "$T/fat-$1.img")
	"$MULETTO" restore "$repo" fat --to "$fdev" --yes --json --progress none >"$T/fat-$1.json" 2>"$T/fat-$1.err"
	partx -u "$fdev" 2>/dev/null || partx -a "$fdev" 2>/dev/null
	total=$(fsck.fat -n -v "${fdev}p4" 2>/dev/null | awk '/sectors total/ { print $1 * 512 }')
	jq -e 'select(.plan == null) | .layout[] | select(.number == 4) | .action == "rebuild" and (.verdict | test("clean"))' "$T/fat-$1.json" >/dev/null &&
		[ "$(blkid -o value -s UUID "${fdev}p4")" = "$(blkid -o value -s UUID "${fat}p4")" ] &&
		[ "$(blkid -o value -s LABEL "${fdev}p4")" = SHARE ] && [ "${total:-0}" = "$(blockdev --getsize64 "${fdev}p4")" ] &&
		[ "$(fat_sums "${fdev}p4")" = "$(cat "$T/share.sums")" ] && [ "$(fat_sums "${fdev}p1")" = "$(fat_sums "${fat}p1")" ] &&
		cmp -s "${fdev}p3" "${fat}p3" && [ "$(ids "$fdev")" = "$(ids "$fat")" ] &&
		pass "FAT onto a $2 MiB disk: $3 to $((total >> 20)) MiB, made anew with its volume ID and label, every file equal; the ESP and a partition without a file system as they were" ||
		fail "FAT onto a $2 MiB disk ($1)" "total $total: $(cat "$T/fat-$1.json" "$T/fat-$1.err")"
done
echo '{"partitions": [{"number": 3, "size": "16M"}]}' >"$T/raw.json"
expect_fail "--layout FILE growing a partition without a file system muletto knows is refused" \
	"^muletto: target $fdev: --layout: partition 3 \\(no file system\\) cannot grow" \
	"$MULETTO" restore "$repo" fat --to "$fdev" --layout "$T/raw.json" --yes

# ---- 512-byte sectors to 4096 (4Kn): the FAT made anew, ext4 with 4 KiB blocks moved as is ----
truncate -s 256M "$T/s4.img"
sgdisk -n 1:2048:+32M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$T/s4.img" >/dev/null
s4=$(loop_attach "$T/s4.img")
mkdir -p "$T/esp/EFI/BOOT" "$T/esp/.disk" && head -c 300K /dev/urandom >"$T/esp/EFI/BOOT/BOOTX64.EFI" &&
	echo sample >"$T/esp/.disk/info"
mkfs.vfat -n ESP "${s4}p1" >/dev/null 2>&1 && MTOOLS_SKIP_CHECK=1 mcopy -s -i "${s4}p1" "$T/esp/EFI" "$T/esp/.disk" ::/ &&
	mkfs.ext4 -q -b 4096 -L root "${s4}p2" && mount "${s4}p2" "$T/m" && cp -r /usr/share/doc/bash "$T/m/" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/s4.sums"
umount "$T/m"
volid=$(blkid -o value -s UUID "${s4}p1")
"$MULETTO" capture "$s4" "$repo" --name s4 --progress none >/dev/null 2>&1
truncate -s 256M "$T/k.img"; k=$(losetup -b 4096 -f --show "$T/k.img"); at_exit "loop_detach $k"
"$MULETTO" restore "$repo" s4 --to "$k" --yes --progress none >"$T/k.out" 2>&1
rc=$?
partx -a "$k" 2>/dev/null
mkdir -p "$T/espback" && MTOOLS_SKIP_CHECK=1 mcopy -s -n -i "${k}p1" '::*' "$T/espback/"
[ $rc = 0 ] && sfdisk -d "$k" | grep -q '^sector-size: 4096' && [ "$(ids "$k")" = "$(ids "$s4")" ] &&
	[ "$(blkid -o value -s BLOCK_SIZE "${k}p1")" = 4096 ] && [ "$(blkid -o value -s UUID "${k}p1")" = "$volid" ] &&
	[ "$(blkid -o value -s LABEL "${k}p1")" = ESP ] && diff -r "$T/esp" "$T/espback" >/dev/null &&
	files_ok "${k}p2" "$T/s4.sums" && e2fsck -fn "${k}p2" >/dev/null 2>&1 &&
	grep -q 'partition 1: rebuild, made anew, clean (fsck.vfat -n)' "$T/k.out" &&
	pass "onto a 4Kn disk: GPT in 4096-byte sectors with every GUID kept, the ESP made anew for 4096-byte sectors (volume ID $volid, label, files), ext4 files equal" ||
	fail "onto a 4Kn disk" "rc $rc: $(cat "$T/k.out"; sfdisk -d "$k" | head -3; blkid "${k}p1")"
expect_fail "ext4 with 1 KiB blocks onto a 4Kn disk is refused by name, with the fix" \
	"^muletto: partition 2 \\(ext4 root\\) has 1024-byte blocks, which a disk with 4096-byte sectors like $k cannot hold \\(ext2/3/4 with 1 KiB blocks, as mkfs makes them under 512 MiB, e.g. a separate /boot: make it anew with mkfs.ext4 -b 4096 and copy its files\\); choose a disk with 512-byte sectors" \
	"$MULETTO" restore "$repo" gpt --to "$k" --yes

# ---- MD members: a 1.2 member (superblock at the start) grows and shrinks in the
# plan, a 1.0 one (at the end) keeps its size and is refused a new one by name
# (this host's kernel has no md: tests/e2e/layout_lvm.sh assembles them in a guest) ----
if command -v mdadm >/dev/null || PATH=$PATH:/usr/sbin command -v mdadm >/dev/null; then
	truncate -s 160M "$T/md.img"
	sgdisk -n 1:2048:+16M -t 1:8300 -n 2:0:+80M -t 2:fd00 -n 3:0:+32M -t 3:fd00 "$T/md.img" >/dev/null
	mdi=$(loop_attach "$T/md.img")
	p2=$(partx -g -o START -n 2 "$mdi"); p3=$(partx -g -o START -n 3 "$mdi")
	doff=$(python3 "$MULETTO_TOP/tests/mkmdsuper.py" "$T/md.img" $((p2 * 512)) $((80 << 20)) 1.2)
	python3 "$MULETTO_TOP/tests/mkmdsuper.py" "$T/md.img" $((p3 * 512)) $((32 << 20)) 1.0 >/dev/null
	mkfs.ext4 -q -L root "${mdi}p1" && mkfs.ext4 -q -L inner -E offset=$doff "${mdi}p2" $(((80 << 20) - doff >> 10))k &&
		mdadm --examine "${mdi}p2" | grep -q 'Version : 1.2' && mdadm --examine "${mdi}p3" | grep -q 'Version : 1.0' &&
		"$MULETTO" capture "$mdi" "$repo" --name md --progress none >/dev/null 2>"$T/md.err" ||
		fail "an image with MD members" "$(cat "$T/md.err")"
	jq -e '.disks[0].partitions | (.[1].md_metadata == "1.2") and (.[1].md_level == "raid1") and
		(.[1].md_fs == "ext4") and (.[1].md_data_offset == '"$doff"') and (.[1].min_size > '"$doff"') and
		(.[1].min_size < .[1].size) and (.[2].md_metadata == "1.0") and (.[2].md_fs == "") and
		(.[0] | has("md_metadata") | not)' "$repo/images/md/manifest.json" >/dev/null &&
		pass "capture: MD members' superblock version (1.2, 1.0), level and, at the start, the ext4 inside with its minimum" ||
		fail "capture of MD members" "$(jq -c '.disks[0].partitions' "$repo/images/md/manifest.json")"
	# an older manifest (without the md_ keys) still plans: its members keep their sizes
	jq 'del(.disks[0].partitions[].md_metadata, .disks[0].partitions[].md_level, .disks[0].partitions[].md_fs,
		.disks[0].partitions[].md_data_offset)' "$repo/images/md/manifest.json" >"$T/old.json"
	mkdir -p "$repo/images/mdold" && cp "$repo/images/md/disk0.caibx" "$repo/images/mdold/" &&
		jq '.name = "mdold"' "$T/old.json" >"$repo/images/mdold/manifest.json"
	truncate -s 320M "$T/mdbig.img" "$T/mdbig2.img"; truncate -s 100M "$T/mdsmall.img"
	"$MULETTO" restore "$repo" md --to "$T/mdbig.img" --plan-only --json >"$T/mdbig.json" 2>&1
	"$MULETTO" restore "$repo" md --to "$T/mdsmall.img" --plan-only --json >"$T/mdsmall.json" 2>&1
	"$MULETTO" restore "$repo" mdold --to "$T/mdbig.img" --plan-only --json >"$T/mdold.json" 2>&1
	jq -se '[.[] | select(.plan)][0].plan.partitions | (.[1].action == "grow") and (.[2].action == "copy") and
		(.[2].new_size == .[2].old_size) and (.[2].new_start + .[2].new_size > 300000000)' "$T/mdbig.json" >/dev/null &&
		jq -se '[.[] | select(.plan)][0].plan.partitions | (.[1].action == "shrink") and (.[2].action == "copy") and
			(.[2].new_size == .[2].old_size)' "$T/mdsmall.json" >/dev/null &&
		jq -se '[.[] | select(.plan)][0].plan.partitions | (.[1].action != "grow") and (.[2].action == "copy")' \
			"$T/mdold.json" >/dev/null &&
		pass "--layout auto: the 1.2 member grows onto a larger disk and shrinks onto a smaller one, the 1.0 member keeps its size (an older manifest's members keep theirs)" ||
		fail "plans with MD members" "$(cat "$T/mdbig.json" "$T/mdsmall.json" "$T/mdold.json")"
	jq '{plan: {partitions: [{number: 3, new_size: 67108864}]}}' -n >"$T/md10.json"
	expect_fail "a 1.0 member given a new size is refused by name: its superblock lives at the end" \
		"^muletto: target $T/mdbig.img: --layout: partition 3: MD superblock 1.0 lives at the end of the partition; resizing it would lose the array: restore with --layout same or onto a disk of the same size" \
		"$MULETTO" restore "$repo" md --to "$T/mdbig.img" --layout "$T/md10.json" --yes
	truncate -s 60M "$T/mdtiny.img"
	expect_fail "onto a disk too small, each MD member's part in the numbers: the 1.2 one can shrink (ext4 inside), the 1.0 one keeps its size" \
		"partition 2 \(MD 1\.2 member, ext4\) can shrink to [0-9.]+ MiB \([0-9.]+ [KM]iB of data\), partition 3 \(MD 1\.0 member, its superblock at the end\) keeps its 32 MiB; choose a disk of at least" \
		"$MULETTO" restore "$repo" md --to "$T/mdtiny.img" --layout auto --yes
	# a RAID1 over two disks, both in the image: its members are not resized alone
	cp "$T/md.img" "$T/md2.img" && md2=$(loop_attach "$T/md2.img")
	"$MULETTO" capture "$mdi" "$md2" "$repo" --name md2 --progress none >/dev/null 2>&1
	expect_fail "a member whose array has another member in the image is not resized alone" \
		"^muletto: partition 2 and partition 2 of image disk 1 are members of the same MD array, which muletto resizes only when one member is in the image: restore with --layout same" \
		"$MULETTO" restore "$repo" md2 --to "$T/mdbig2.img" --layout auto --yes
	[ "$(stat -c %b "$T/mdbig2.img")" = 0 ] && pass "... and nothing was written" ||
		fail "nothing written when an MD member is refused" "$(stat -c %b "$T/mdbig2.img") blocks"
else
	skip "MD members" "mdadm is missing (scripts/deps.sh check)"
fi

# ---- bad input ----
expect_fail "--layout with an unknown policy is refused" \
	"^muletto: --layout sideways: use auto, same, grow-last or proportional" \
	"$MULETTO" restore "$repo" gpt --to "$big" --layout sideways --yes
expect_fail "--plan-only needs an image of a repository" "^muletto: --layout and --plan-only need an image of a repository" \
	"$MULETTO" restore "$T/src.img" --to "$T/x.img" --plan-only
"$MULETTO" restore --help 2>&1 | grep -q -- '--grow-lv (an LVM physical volume that grows gives the room' &&
	grep -q -- '\[--grow-lv\]' "$MULETTO_TOP/README.md" &&
	pass "--grow-lv is in restore --help and in the README's synopsis" ||
	fail "--grow-lv documented" "$("$MULETTO" restore --help 2>&1 | tail -3)"
