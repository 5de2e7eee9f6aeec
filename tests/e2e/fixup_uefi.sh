# From BIOS to UEFI, onto NVMe with 4096-byte sectors: the Debian sample
# machine (tests/lib_debian.sh: captured on this BIOS host, its fstab and GRUB
# naming /dev/vda, GRUB set up for BIOS, no fallback loader in its ESP)
# restored by the boot environment booted under OVMF, unattended. The restore
# sees that the machine differs (firmware bios -> uefi, storage controllers,
# network cards, sector size) and runs fixup by itself: fstab by UUID, GRUB for UEFI and the
# fallback \EFI\BOOT\BOOTX64.EFI in the ESP, a boot entry in the firmware's
# NVRAM. Its initramfs already holds nvme here (rebuilding one takes minutes
# under emulation; tests/e2e/fixup_linux.sh tests that on the host). Then the
# disk boots to its marker:
#   - with the NVRAM the restore ran with (its boot entry is there);
#   - with an empty NVRAM (a fresh OVMF_VARS copy): through the fallback.
# The negative control: the same restore without fixup does not boot.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
. "$MULETTO_TOP/tests/lib_debian.sh"
need_root "fixup (BIOS to UEFI)"
e2e_need "fixup (BIOS to UEFI)"
command -v mmdebstrap >/dev/null || { fail "fixup (BIOS to UEFI)" "mmdebstrap is missing: run scripts/deps.sh e2e"; exit 1; }
export MULETTO_CONF=$T/none.conf MTOOLS_SKIP_CHECK=1
BOOT=$MULETTO_TOP/build/boot

debian_rootfs || { fail "the Debian sample machine" "$(tail -5 "$DEBIAN_DIR/mmdebstrap.log")"; exit 1; }
debian_disk "$T/sample.img" 800 generic 2>"$T/disk.err" || { fail "the Debian sample disk" "$(cat "$T/disk.err")"; exit 1; }
"$MULETTO" capture "$T/sample.img" "$T/repo" --name debian --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the Debian sample" "$(cat "$T/cap.err")"; exit 1; }
[ "$(jq -r .machine.firmware "$T/repo/images/debian/manifest.json")" = bios ] ||
	{ skip "fixup (BIOS to UEFI)" "this host booted UEFI: the image would not be a BIOS machine's"; exit 0; }
REPO_PORT=$(nginx_start "$T")

nvme4k() { # IMAGE [bootindex]: an NVMe disk with 4096-byte blocks
	Q+=(-drive "file=$1,if=none,id=t0,format=raw"
	    -device "nvme,drive=t0,serial=MULETTO4KN,logical_block_size=4096,physical_block_size=4096${2:+,bootindex=$2}")
}
boot_disk() { # NAME IMAGE VARS: the disk booted under OVMF with that NVRAM
	Q=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd"
	   -drive "if=pflash,format=raw,file=$3" -nic none)
	nvme4k "$2"
	qemu_run "$1" "$T/$1.log"
	grep -qa "^$DEBIAN_MARKER" "$T/$1.log" && grep -qa '^FSTAB-OK' "$T/$1.log"
}

# ---- the unattended restore under OVMF, fixup on its own ----
truncate -s 1000M "$T/nvme.img"
cp "$OVMF/OVMF_VARS_4M.fd" "$T/vars.fd"
Q=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd"
   -drive "if=pflash,format=raw,file=$T/vars.fd")
nvme4k "$T/nvme.img"
e2e_net
Q+=(-kernel "$BOOT/vmlinuz" -initrd "$BOOT/initrd.img"
    -append "console=ttyS0,115200 quiet muletto.repo=http://10.0.2.100:8080/repo muletto.image=debian muletto.target=/dev/nvme0n1 muletto.layout=auto muletto.auto=restore muletto.after=poweroff")
E2E_TIMEOUT=${FIXUP_UEFI_TIMEOUT:-600} E2E_MEM=1536 qemu_run restore "$T/restore.log"
restore_s=$E2E_SECONDS
grep -qa 'muletto: RESTORE OK' "$T/restore.log" &&
	grep -qa 'this machine differs from the captured one (firmware bios -> uefi; storage controllers; network cards; disk size or sector size)' "$T/restore.log" &&
	grep -qa 'muletto: FIXUP: fixup: 1 system, [0-9]* changes' "$T/restore.log" &&
	pass "restored under UEFI onto a 4Kn NVMe disk, fixup ran by itself: the machine differs in firmware, controllers and sector size (${restore_s}s)" ||
	fail "the unattended restore with fixup under UEFI" "$(grep -a -e 'muletto' -e 'fixup' "$T/restore.log" | tail -25)"
# the report, in the restored system's own log
k=$(losetup -b 4096 -f --show "$T/nvme.img") && partx -a "$k" 2>/dev/null
mkdir -p "$T/root" && mount -o ro "${k}p3" "$T/root" 2>/dev/null
cp "$T/root/var/log/muletto-fixup.log" "$T/fixup.log" 2>/dev/null
umount "$T/root" 2>/dev/null
loop_detach "$k"
grep -q 'GRUB for UEFI was installed into the ESP' "$T/fixup.log" &&
	grep -q 'boot entry "debian" was made for \\EFI\\debian\\grubx64.efi on /dev/nvme0n1 partition 2' "$T/fixup.log" &&
	grep -q '^  already right  initramfs: initramfs of .* holds .*nvme' "$T/fixup.log" &&
	grep -q '^  changed        /etc/network/interfaces: ens18 -> ' "$T/fixup.log" &&
	grep -q '^  changed        /etc/fstab: /dev/vda3 -> UUID=' "$T/fixup.log" &&
	pass "the report in the system's /var/log/muletto-fixup.log: fstab by UUID, the initramfs already right, GRUB for UEFI with the fallback loader, the NVRAM entry" ||
	fail "the fixup report in /var/log/muletto-fixup.log" "$(cat "$T/fixup.log" 2>&1)"
# the entry's description, as OVMF keeps it (UCS-2) in its variable store
LC_ALL=C grep -qaP 'd\x00e\x00b\x00i\x00a\x00n\x00' "$T/vars.fd" &&
	pass "the NVRAM holds the boot entry fixup made" || fail "the NVRAM holds the boot entry fixup made"

# ---- it boots: with that NVRAM, and with an empty one ----
boot_disk with-entry "$T/nvme.img" "$T/vars.fd" &&
	pass "the restored system boots from the 4Kn NVMe disk with the NVRAM the restore wrote (${E2E_SECONDS}s)" ||
	fail "the restored system boots with the boot entry" "$(tail -c 800 "$T/with-entry.log")"
cp "$OVMF/OVMF_VARS_4M.fd" "$T/empty-vars.fd"
boot_disk empty-nvram "$T/nvme.img" "$T/empty-vars.fd" &&
	pass "... and with an empty NVRAM, through \\EFI\\BOOT\\BOOTX64.EFI (${E2E_SECONDS}s)" ||
	fail "the restored system boots with an empty NVRAM" "$(tail -c 800 "$T/empty-nvram.log")"

# ---- the negative control: the same restore without fixup ----
truncate -s 1000M "$T/plain.img"
k=$(losetup -b 4096 -f --show "$T/plain.img") && at_exit "loop_detach $k"
"$MULETTO" restore "$T/repo" debian --to "$k" --layout auto --no-fixup --yes --progress none >"$T/plain.out" 2>&1
rc=$?
loop_detach "$k"
cp "$OVMF/OVMF_VARS_4M.fd" "$T/plain-vars.fd"
if [ $rc != 0 ] || grep -q 'fixup' "$T/plain.out"; then
	fail "the restore with --no-fixup leaves the system as it was" "rc $rc: $(cat "$T/plain.out")"
elif E2E_TIMEOUT=90 E2E_STOP='Shell> ' boot_disk without-fixup "$T/plain.img" "$T/plain-vars.fd"; then
	fail "without fixup the system does not boot under UEFI (negative control)" "it booted"
elif grep -qa 'Shell> ' "$T/without-fixup.log"; then
	pass "restored with --no-fixup, the same disk does not boot under UEFI: the firmware finds no boot loader and stops at its shell (negative control, ${E2E_SECONDS}s)"
else
	fail "without fixup the system fails the expected way (the firmware's shell)" "$(tail -c 600 "$T/without-fixup.log")"
fi
