# From UEFI to BIOS: the Debian sample machine as a UEFI-only install leaves it
# (tests/lib_debian.sh: GPT with an ESP holding GRUB for EFI and the fallback
# loader, the root; no BIOS boot partition, no boot code in the MBR; fstab and
# GRUB naming /dev/vda), its manifest saying UEFI, restored by this BIOS host
# onto a larger disk and booted under SeaBIOS.
#   - The negative control: restored with --no-fixup, SeaBIOS finds nothing
#     to boot.
#   - restore sees the firmware differs (uefi -> bios), plans a 1 MiB BIOS boot
#     partition, and fixup installs GRUB for BIOS from the system's own
#     packages: it boots to its marker with every fstab entry mounted; the ESP
#     and the root keep their partition GUIDs and file systems.
# This host boots BIOS, so the capture records "bios": the manifest's firmware
# is set to "uefi" after the capture, as a UEFI machine's capture records it
# (the image is not signed; nothing else in the manifest depends on it).
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
. "$MULETTO_TOP/tests/lib_debian.sh"
need_root "fixup (UEFI to BIOS)"
command -v qemu-system-x86_64 >/dev/null || { skip "fixup (UEFI to BIOS)" "qemu-system-x86_64 is missing"; exit 0; }
command -v mmdebstrap >/dev/null || { fail "fixup (UEFI to BIOS)" "mmdebstrap is missing: run scripts/deps.sh e2e"; exit 1; }
export MULETTO_CONF=$T/none.conf MTOOLS_SKIP_CHECK=1
E2E_TIMEOUT=150
[ -d /sys/firmware/efi ] && { skip "fixup (UEFI to BIOS)" "this host booted UEFI: it would restore for UEFI"; exit 0; }

debian_rootfs || { fail "the Debian sample machine" "$(tail -5 "$DEBIAN_DIR/mmdebstrap.log")"; exit 1; }
debian_disk "$T/sample.img" 800 "" uefi 2>"$T/disk.err" ||
	{ fail "the Debian sample disk (UEFI only)" "$(cat "$T/disk.err")"; exit 1; }
"$MULETTO" capture "$T/sample.img" "$T/repo" --name debian --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the Debian sample" "$(cat "$T/cap.err")"; exit 1; }
m=$T/repo/images/debian/manifest.json
jq '.machine.firmware = "uefi"' "$m" >"$m.new" && mv "$m.new" "$m"
guids() { sfdisk -d "$1" | grep -oE '(uuid|type)=[0-9A-Fa-f-]+' | tr '\n' ' '; }
src_guids=$(guids "$T/sample.img")

boot() { # NAME IMAGE: boots it under SeaBIOS on virtio; 0 at its marker with fstab mounted
	Q=(-machine pc)
	e2e_target "$2" virtio
	qemu_run "$1" "$T/$1.log"
	grep -qa "^$DEBIAN_MARKER" "$T/$1.log" && grep -qa '^FSTAB-OK' "$T/$1.log"
}
restore_onto() { # IMAGE OPTIONS...: restored onto a loop device over IMAGE (864 MiB)
	local img=$1 d rc
	shift
	rm -f "$img" && truncate -s 864M "$img"
	d=$(losetup -f --show "$img") || return 1
	"$MULETTO" restore "$T/repo" debian --to "$d" --yes --progress none "$@" >"$img.out" 2>&1
	rc=$?
	partx -d "$d" 2>/dev/null
	losetup -d "$d"
	return $rc
}

# the negative control: the same restore without fixup
restore_onto "$T/nofix.img" --no-fixup
# (the protective MBR's boot code is zeros: SeaBIOS jumps into them and hangs)
bootcode() { head -c 440 "$1" | tr -d '\0' | wc -c; }
if E2E_TIMEOUT=40 boot nofix "$T/nofix.img"; then
	fail "without fixup the UEFI-only system does not boot under BIOS (negative control)" "it booted"
else
	[ "$(bootcode "$T/nofix.img")" = 0 ] && ! grep -qa "$DEBIAN_MARKER" "$T/nofix.log" &&
		pass "without fixup the MBR holds no boot code and nothing boots in ${E2E_SECONDS}s: the negative control" ||
		fail "without fixup the system fails to boot the expected way" "$(tail -c 400 "$T/nofix.log")"
fi

# the restore that fixes it up
t0=$SECONDS
restore_onto "$T/fixed.img"
rc=$?
secs=$((SECONDS - t0))
grep -q 'firmware uefi -> bios' "$T/fixed.img.out" && [ $rc = 0 ] &&
	pass "restore says the machine differs (firmware uefi -> bios) and fixes it up (${secs}s)" ||
	fail "restore says the firmware differs and fixes it up" "rc $rc: $(tail -5 "$T/fixed.img.out")"
table=$(sgdisk -p "$T/fixed.img" 2>/dev/null)
grep -qE '^ +[0-9]+ +[0-9]+ +[0-9]+ +1024.0 KiB +EF02 ' <<<"$table" && [ "$(bootcode "$T/fixed.img")" -gt 100 ] &&
	pass "a 1 MiB BIOS boot partition was made, and GRUB's boot code is in the MBR" ||
	fail "a 1 MiB BIOS boot partition was made, GRUB in the MBR" "$table"
ok=1
for g in $src_guids; do grep -qF -- "$g" <<<"$(guids "$T/fixed.img")" || ok=0; done
[ $ok = 1 ] && pass "the ESP and the root keep their partition GUIDs and types" ||
	fail "the ESP and the root keep their partition GUIDs" "source [$src_guids] restored [$(guids "$T/fixed.img")]"
boot fixed "$T/fixed.img" &&
	pass "under BIOS the fixed system boots to its marker with every fstab entry mounted (${E2E_SECONDS}s)" ||
	fail "under BIOS the fixed system boots" "$(tail -c 800 "$T/fixed.log")"
