# Restore for the other firmware: a BIOS machine's disk (GPT, BIOS boot
# partition, no ESP) restored for UEFI gets an ESP of 260 MiB, FAT32, in the
# room a larger disk has or that its last data partition gives up, and 4096-byte
# sectors on a 4Kn disk; a UEFI machine's disk gets a BIOS boot partition in
# the gap before its first partition. The other partitions keep their
# identities (sfdisk -d) and bytes; no room is refused with the numbers and
# nothing written; a system without GRUB for the firmware is refused by the
# package's name and left as it was.
. "$(dirname "$0")/../lib.sh"
need_root "layout for the other firmware"
for t in sfdisk sgdisk mkfs.ext4 mkfs.vfat e2fsck jq minfo mdir; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null ||
		{ skip "layout for the other firmware" "$t is missing"; exit 0; }
done
export MULETTO_CONF=$T/none.conf MULETTO_TMPDIR=$T MTOOLS_SKIP_CHECK=1
repo=$T/repo
sha() { sha256sum <"$1" | cut -c1-64; }
mkdir -p "$T/m"
ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
BIOSBOOT=21686148-6449-6E6F-744E-656564454649

# identities per partition: number, type, GUID, name, attributes (sfdisk -d
# without places and sizes), and the disk's GUID
ids() {
	sfdisk -d "$1" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p'
}
place() { # DEV N: "start size" of partition N, in sectors
	sfdisk -d "$1" | sed -n "s/^[^ ]*[^0-9]$2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p"
}
files_ok() { # FS-DEVICE SUMS
	local r=0
	mount -o ro "$1" "$T/m" || return 1
	(cd "$T/m" && sha256sum -c --quiet "$2" >/dev/null 2>&1) || r=1
	umount "$T/m"
	return $r
}
# a Linux root as fixup finds one: os-release, fstab, a grub-install, and
# GRUB's files for BIOS only
fake_root() { # DIR ID
	mkdir -p "$1/etc" "$1/usr/sbin" "$1/usr/lib/grub/i386-pc" "$1/var/log"
	printf 'PRETTY_NAME="Sample %s"\nID=%s\n' "$2" "$2" >"$1/etc/os-release"
	printf '/dev/vda2 / ext4 errors=remount-ro 0 1\n' >"$1/etc/fstab"
	printf '#!/bin/sh\nexit 0\n' >"$1/usr/sbin/grub-install" && chmod 755 "$1/usr/sbin/grub-install"
}

# ---- a BIOS machine's disk: BIOS boot, ext4 root (a fake system), ext4 data ----
truncate -s 512M "$T/bios.img"
sgdisk -n 1:2048:+1M -t 1:ef02 -c 1:bios -n 2:0:+120M -t 2:8300 -c 2:root -A 2:set:2 \
	-n 3:0:0 -t 3:8300 -c 3:data "$T/bios.img" >/dev/null
src=$(loop_attach "$T/bios.img")
mkfs.ext4 -q -b 4096 -L root "${src}p2" && mkfs.ext4 -q -b 4096 -L data "${src}p3" &&
	mount "${src}p2" "$T/m" && fake_root "$T/m" debian && umount "$T/m" &&
	mount "${src}p3" "$T/m" && cp -r /usr/share/doc/bash "$T/m/" && head -c 20M /dev/urandom >"$T/m/big" &&
	(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/data.sums" && umount "$T/m" ||
	{ fail "layout for the other firmware" "could not make the source's file systems"; exit 0; }
"$MULETTO" capture "$src" "$repo" --name bios --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the BIOS disk" "$(cat "$T/cap.err")"; exit 0; }
[ "$(jq -r .machine.firmware "$repo/images/bios/manifest.json")" = bios ] ||
	{ skip "layout for the other firmware" "this host booted UEFI: the image is not a BIOS machine's"; exit 0; }
src_ids=$(ids "$src")
root_sha=$(sha "${src}p2")

# ---- a larger disk: the plan shows the ESP it makes, from the room ----
truncate -s 1G "$T/big.img"
big=$(loop_attach "$T/big.img")
before=$(sha "$big")
"$MULETTO" restore "$repo" bios --to "$big" --firmware uefi --plan-only >"$T/plan.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -Eq '^ +4 +esp +- +- -> +[0-9.]+ MiB +260 MiB +create ESP \(FAT32\)$' "$T/plan.out" &&
	grep -Eq '^ +3 +ext4 data .* grow' "$T/plan.out" && grep -Eq '^ +2 +ext4 root .* copy$' "$T/plan.out" &&
	pass "--firmware uefi --plan-only: the plan makes an ESP of 260 MiB (partition 4) where the image has none" ||
	fail "the plan for UEFI onto a larger disk" "rc $rc: $(cat "$T/plan.out")"
"$MULETTO" restore "$repo" bios --to "$big" --firmware uefi --plan-only --json >"$T/plan.json" 2>&1
jq -e --arg t "$ESP" '.plan.partitions | length == 4 and (.[3] | .action == "create" and .role == "esp"
	and .type == $t and .name == "EFI System" and .fs == "vfat" and .new_size == 272629760
	and .new_start % 1048576 == 0) and .[2].action == "grow"
	and (.[3].new_start >= .[2].new_start + .[2].new_size)' "$T/plan.json" >/dev/null &&
	pass "--plan-only --json: the new partition with its type, name and size, action \"create\"" ||
	fail "the plan as JSON" "$(cat "$T/plan.json")"
"$MULETTO" restore "$repo" bios --to "$big" --firmware uefi --layout "$T/plan.json" --plan-only --json >"$T/again.json" 2>&1
jq -e --slurpfile a "$T/plan.json" '.plan.partitions == $a[0].plan.partitions' "$T/again.json" >/dev/null &&
	pass "--layout FILE: that plan read back (its \"create\" line left to the plan) gives the same plan" ||
	fail "--layout FILE with the ESP's line" "$(cat "$T/again.json")"
[ "$(sha "$big")" = "$before" ] && pass "--plan-only wrote nothing" || fail "--plan-only wrote nothing"

# ---- ... restored: the ESP made, FAT32; the rest as it was ----
"$MULETTO" restore "$repo" bios --to "$big" --firmware uefi --no-fixup --yes --json --progress none \
	>"$T/big.json" 2>"$T/big.err" || fail "the restore for UEFI onto a larger disk" "$(cat "$T/big.err")"
partx -u "$big" 2>/dev/null || partx -a "$big" 2>/dev/null
new=$(ids "$big")
[ "$(grep -v '^4 ' <<<"$new")" = "$src_ids" ] &&
	grep -q "^4 type=$ESP, uuid=[0-9A-F-]\{36\}, name=\"EFI System\"$" <<<"$new" &&
	pass "sfdisk -d: partition 4 is a new ESP named \"EFI System\"; the disk GUID and every other partition's number, type, GUID, name and attributes are the source's" ||
	fail "the table with the new ESP" "$(diff <(echo "$src_ids") <(echo "$new"))"
read -r s4 n4 < <(place "$big" 4)
read -r s3 n3 < <(place "$big" 3)
[ "$n4" = 532480 ] && [ $((s4 % 2048)) = 0 ] && [ "$s4" -ge $((s3 + n3)) ] &&
	pass "the ESP is 260 MiB (532480 sectors), 1 MiB aligned, after the grown data partition" ||
	fail "the ESP's place" "$(sfdisk -d "$big")"
minfo -i "${big}p4" >"$T/minfo" 2>&1 && grep -q 'disk type="FAT32   "' "$T/minfo" &&
	grep -q 'sector size: 512 bytes' "$T/minfo" && mdir -i "${big}p4" ::/ >/dev/null 2>&1 &&
	[ "$(blkid -o value -s TYPE "${big}p4")" = vfat ] &&
	pass "the ESP holds an empty FAT32 with 512-byte sectors (minfo, mdir)" ||
	fail "the FAT in the ESP" "$(cat "$T/minfo")"
[ "$(sha "${big}p2")" = "$root_sha" ] && files_ok "${big}p3" "$T/data.sums" && e2fsck -fn "${big}p3" >/dev/null 2>&1 &&
	pass "the root partition is byte for byte the source's; the grown data file system is clean with every file" ||
	fail "the data partitions after the restore"
jq -e 'select(.plan == null) | .layout | map(select(.number == 4)) | .[0] | .action == "create"
	and (.verdict | test("^FAT32 made with 512-byte sectors, clean"))' "$T/big.json" >/dev/null &&
	jq -e 'select(.plan == null) | .differs | test("firmware bios -> uefi")' "$T/big.json" >/dev/null &&
	pass "--json: the ESP's line in the result (created, fsck.vfat clean), the machine differs in firmware" ||
	fail "the result's layout part" "$(cat "$T/big.json")"

# ---- a disk of the same size: the data partition gives the room up ----
truncate -s 512M "$T/same.img"
same=$(loop_attach "$T/same.img")
"$MULETTO" restore "$repo" bios --to "$same" --firmware uefi --no-fixup --yes --progress none >"$T/same.out" 2>&1 ||
	fail "the restore for UEFI onto a disk of the same size" "$(cat "$T/same.out")"
partx -u "$same" 2>/dev/null || partx -a "$same" 2>/dev/null
read -r s3 n3 < <(place "$same" 3)
read -r s4 n4 < <(place "$same" 4)
grep -Eq '^ +3 +ext4 data .* shrink' "$T/same.out" && [ "$n4" = 532480 ] && [ "$s4" -ge $((s3 + n3)) ] &&
	[ "$(grep -v '^4 ' <<<"$(ids "$same")")" = "$src_ids" ] &&
	files_ok "${same}p3" "$T/data.sums" && e2fsck -fn "${same}p3" >/dev/null 2>&1 &&
	[ "$(sha "${same}p2")" = "$root_sha" ] && minfo -i "${same}p4" 2>/dev/null | grep -q 'FAT32' &&
	pass "same size: the data partition shrinks by 260 MiB for the ESP, its files intact and e2fsck clean, the root byte for byte" ||
	fail "the ESP from a shrink" "$(cat "$T/same.out"; sfdisk -d "$same")"

# ---- a 4Kn disk: the FAT has 4096-byte sectors ----
truncate -s 1G "$T/4k.img"
k4=$(losetup -b 4096 -f --show "$T/4k.img") && at_exit "loop_detach $k4"
"$MULETTO" restore "$repo" bios --to "$k4" --firmware uefi --no-fixup --yes --progress none >"$T/4k.out" 2>&1 ||
	fail "the restore for UEFI onto a 4Kn disk" "$(cat "$T/4k.out")"
partx -a "$k4" 2>/dev/null || partx -u "$k4" 2>/dev/null
read -r s4 n4 < <(place "$k4" 4)
minfo -i "${k4}p4" >"$T/minfo4k" 2>&1 && grep -q 'sector size: 4096 bytes' "$T/minfo4k" &&
	grep -q 'disk type="FAT32   "' "$T/minfo4k" && [ "$n4" = 66560 ] && files_ok "${k4}p3" "$T/data.sums" &&
	pass "onto a 4Kn disk: the ESP (66560 sectors of 4 KiB) holds a FAT32 with 4096-byte sectors" ||
	fail "the ESP on a 4Kn disk" "$(cat "$T/4k.out" "$T/minfo4k")"

# ---- no room: refused with the numbers, nothing written ----
truncate -s 300M "$T/small.img"
small=$(loop_attach "$T/small.img")
before=$(sha "$small")
expect_fail "no room for an ESP is refused in one line with the numbers" \
	"^muletto: target $small: the new machine's firmware needs an ESP \(260 MiB\) that image disk 0 has not, and there is no room for one: the partitions end at [0-9.]+ MiB, the disk has room up to 300 MiB \([0-9.]+ [KM]iB free\), and no partition can give up 260 MiB: partition 1 \(bios_boot\) keeps its 1.0 MiB, partition 2 \(ext4\) can shrink from [0-9.]+ MiB to [0-9.]+ MiB, partition 3 \(ext4\) can shrink from [0-9.]+ MiB to [0-9.]+ MiB; choose a disk of at least [0-9.]+ MiB, or boot the machine in BIOS \(legacy\) mode$" \
	"$MULETTO" restore "$repo" bios --to "$small" --firmware uefi --yes --progress none
[ "$(sha "$small")" = "$before" ] && pass "... and the disk is left as it was" || fail "the refused restore wrote to the disk"

# ---- the system has no GRUB for UEFI: refused by the package's name, left as it was ----
mount -o ro "${big}p2" "$T/m" && cp "$T/m/etc/fstab" "$T/fstab.before" && umount "$T/m"
"$MULETTO" fixup "$big" --firmware uefi >"$T/nogrub.out" 2>&1
rc=$?
[ $rc != 0 ] && grep -q '^  failed *boot loader: this machine boots UEFI and the system has no GRUB for it: install grub-efi-amd64-bin (Debian, Ubuntu) in it, or boot the machine in BIOS (legacy) mode; nothing was changed$' "$T/nogrub.out" &&
	[ "$(tail -1 "$T/nogrub.out")" = "muletto: $big: not every fix-up could be done: the system has no GRUB for UEFI (no /usr/lib/grub/x86_64-efi): install grub-efi-amd64-bin (Debian, Ubuntu) in it" ] &&
	grep -q "^muletto: $big: not every fix-up could be done: the system has no GRUB for UEFI (no /usr/lib/grub/x86_64-efi): install grub-efi-amd64-bin (Debian, Ubuntu) in it$" "$T/nogrub.out" &&
	pass "booting UEFI, a Debian system without GRUB for it is refused, naming grub-efi-amd64-bin" ||
	fail "a Debian system without grub-efi-amd64-bin" "rc $rc: $(cat "$T/nogrub.out")"
mount -o ro "${big}p2" "$T/m" && check_cmp "... and its fstab is byte for byte as it was" "$T/fstab.before" "$T/m/etc/fstab"
[ ! -e "$T/m/var/log/muletto-fixup.log" ] && pass "... nor has it a fixup log: nothing was written" ||
	fail "the refused fixup wrote its log"
umount "$T/m"
mount "${big}p2" "$T/m" && sed -i 's/^ID=.*/ID="rhel"\nID_LIKE="fedora"/' "$T/m/etc/os-release" && umount "$T/m"
expect_fail "a RHEL system without GRUB for UEFI: the refusal names grub2-efi-x64" \
	"^muletto: $big: not every fix-up could be done: the system has no GRUB for UEFI \(no /usr/lib/grub/x86_64-efi\): install grub2-efi-x64 \(RHEL, Fedora\) in it$" \
	"$MULETTO" fixup "$big" --firmware uefi --dry-run
# the restore runs the same fix-up by itself, and says so in one line
expect_fail "the restore for UEFI of a system without GRUB for it: restored, the fix-up refused by name" \
	"^muletto: $same is restored, but the fix-up failed: $same: not every fix-up could be done: the system has no GRUB for UEFI \(no /usr/lib/grub/x86_64-efi\): install grub-efi-amd64-bin \(Debian, Ubuntu\) in it; the report above says what was done" \
	"$MULETTO" restore "$repo" bios --to "$same" --firmware uefi --yes --progress none

# ---- MBR: the ESP a primary partition of type 0xef ----
truncate -s 256M "$T/mbr.img"
printf 'label: dos\nlabel-id: 0x1234abcd\n2048,120M,83,*\n,,83\n' | sfdisk -q "$T/mbr.img"
mb=$(loop_attach "$T/mbr.img")
mkfs.ext4 -q -b 4096 -L root "${mb}p1" && mkfs.ext4 -q -b 4096 -L data "${mb}p2" &&
	"$MULETTO" capture "$mb" "$repo" --name mbr --progress none >/dev/null 2>"$T/cap3.err" ||
	fail "capture of the MBR disk" "$(cat "$T/cap3.err")"
mbr_ids=$(ids "$mb")
truncate -s 600M "$T/mbr2.img"
mb2=$(loop_attach "$T/mbr2.img")
"$MULETTO" restore "$repo" mbr --to "$mb2" --firmware uefi --no-fixup --yes --progress none >"$T/mbr.out" 2>&1 ||
	fail "the restore of an MBR disk for UEFI" "$(cat "$T/mbr.out")"
partx -u "$mb2" 2>/dev/null || partx -a "$mb2" 2>/dev/null
grep -Eq '^ +3 +esp +- +- -> .* 260 MiB +create ESP \(FAT32\)$' "$T/mbr.out" &&
	[ "$(grep -v '^3 ' <<<"$(ids "$mb2")")" = "$mbr_ids" ] && grep -qx '3 type=ef' <<<"$(ids "$mb2")" &&
	minfo -i "${mb2}p3" 2>/dev/null | grep -q 'disk type="FAT32   "' && [ "$(sha "${mb2}p1")" = "$(sha "${mb}p1")" ] &&
	pass "MBR: the ESP is primary partition 3 of type 0xef, FAT32; the disk signature, the active flag and the other partitions kept" ||
	fail "the ESP on an MBR disk" "$(cat "$T/mbr.out"; sfdisk -d "$mb2")"

# ---- a UEFI machine's disk for BIOS: a BIOS boot partition in the gap ----
truncate -s 256M "$T/uefi.img"
sgdisk -n 1:4096:+32M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$T/uefi.img" >/dev/null
u=$(loop_attach "$T/uefi.img")
mkfs.vfat -F 32 -n ESP "${u}p1" >/dev/null 2>&1 && mkfs.ext4 -q -L root "${u}p2" &&
	mount "${u}p2" "$T/m" && fake_root "$T/m" debian && umount "$T/m" ||
	{ fail "the UEFI disk" "could not make its file systems"; exit 0; }
"$MULETTO" capture "$u" "$repo" --name uefi --progress none >/dev/null 2>"$T/cap2.err" ||
	{ fail "capture of the UEFI disk" "$(cat "$T/cap2.err")"; exit 0; }
m=$repo/images/uefi/manifest.json
jq '.machine.firmware = "uefi"' "$m" >"$T/m.json" && cp "$T/m.json" "$m" # as captured on a UEFI machine
u_ids=$(ids "$u")
truncate -s 256M "$T/ub.img"
ub=$(loop_attach "$T/ub.img")
"$MULETTO" restore "$repo" uefi --to "$ub" --firmware bios --no-fixup --yes --progress none >"$T/ub.out" 2>&1 ||
	fail "the restore for BIOS" "$(cat "$T/ub.out")"
partx -u "$ub" 2>/dev/null || partx -a "$ub" 2>/dev/null
grep -Eq '^ +3 +bios_boot +- +- -> +1.0 MiB +1.0 MiB +create BIOS boot partition$' "$T/ub.out" &&
	[ "$(place "$ub" 3)" = "2048 2048" ] && [ "$(place "$ub" 1)" = "$(place "$u" 1)" ] &&
	[ "$(place "$ub" 2)" = "$(place "$u" 2)" ] && [ "$(grep -v '^3 ' <<<"$(ids "$ub")")" = "$u_ids" ] &&
	grep -q "^3 type=$BIOSBOOT, uuid=[0-9A-F-]\{36\}, name=\"BIOS boot partition\"$" <<<"$(ids "$ub")" &&
	[ "$(sha "${ub}p1")" = "$(sha "${u}p1")" ] && [ "$(sha "${ub}p2")" = "$(sha "${u}p2")" ] &&
	pass "UEFI -> BIOS: a 1 MiB BIOS boot partition (3) in the gap at 1 MiB; ESP and root where they were, byte for byte, with their identities" ||
	fail "the BIOS boot partition in the gap" "$(cat "$T/ub.out"; sfdisk -d "$ub")"
mount "${ub}p2" "$T/m" && rm -rf "$T/m/usr/lib/grub/i386-pc" && umount "$T/m"
expect_fail "booting BIOS, a Debian system without GRUB for it is refused, naming grub-pc-bin" \
	"^muletto: $ub: not every fix-up could be done: the system has no GRUB for BIOS \(no /usr/lib/grub/i386-pc\): install grub-pc-bin \(Debian, Ubuntu\) in it$" \
	"$MULETTO" fixup "$ub" --firmware bios
