# From BIOS to UEFI, a system with no ESP: the Debian sample machine as a
# BIOS-only install leaves it (tests/lib_debian.sh debian_disk ... noesp: a
# BIOS boot partition and the root, GRUB for BIOS only, fstab naming
# /dev/vda2, its initramfs for virtio only, which the target is) restored by
# the boot environment booted under OVMF, unattended, onto a larger virtio
# disk. The restore's plan makes an ESP (partition 3,
# 260 MiB, FAT32) in the room the disk has, and its fix-up mounts it at
# /boot/efi, adds it to fstab by UUID and installs GRUB for UEFI from the
# system's own files, with the fallback \EFI\BOOT\BOOTX64.EFI. Then the disk
# boots to its marker under OVMF with an empty NVRAM (a fresh OVMF_VARS copy).
# (tests/e2e/fixup_uefi.sh has the negative control and the NVRAM entry;
# tests/integration/layout_firmware.sh the plan's other cases and refusals.)
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
. "$MULETTO_TOP/tests/lib_debian.sh"
name="fixup (BIOS to UEFI, an ESP made)"
need_root "$name"
BOOT=$MULETTO_TOP/build/boot
[ -f "$BOOT/initrd.img" ] && [ -f "$BOOT/vmlinuz" ] ||
	{ skip "$name" "build/boot/initrd.img is missing: run make build/boot/initrd.img"; exit 0; }
command -v qemu-system-x86_64 >/dev/null || { skip "$name" "qemu-system-x86_64 is missing"; exit 0; }
[ -f "$OVMF/OVMF_CODE_4M.fd" ] || { skip "$name" "OVMF is missing: run scripts/deps.sh e2e"; exit 0; }
export MULETTO_CONF=$T/none.conf MTOOLS_SKIP_CHECK=1
ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

debian_rootfs || { fail "the Debian sample machine" "$(tail -5 "$DEBIAN_DIR/mmdebstrap.log" 2>&1)"; exit 1; }
debian_disk "$T/sample.img" 800 "" noesp 2>"$T/disk.err" ||
	{ fail "the Debian sample disk without an ESP" "$(cat "$T/disk.err")"; exit 1; }
"$MULETTO" capture "$T/sample.img" "$T/repo" --name debian --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the Debian sample" "$(cat "$T/cap.err")"; exit 1; }
[ "$(jq -r .machine.firmware "$T/repo/images/debian/manifest.json")" = bios ] ||
	{ skip "$name" "this host booted UEFI: the image would not be a BIOS machine's"; exit 0; }
src_ids=$(sfdisk -d "$T/sample.img" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p')
REPO_PORT=$(nginx_start "$T")

# ---- the unattended restore under OVMF: the plan makes the ESP, fixup fills it ----
truncate -s 1100M "$T/disk.img"
cp "$OVMF/OVMF_VARS_4M.fd" "$T/vars.fd"
Q=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd"
   -drive "if=pflash,format=raw,file=$T/vars.fd")
e2e_target "$T/disk.img" virtio
e2e_net
Q+=(-kernel "$BOOT/vmlinuz" -initrd "$BOOT/initrd.img"
    -append "console=ttyS0,115200 quiet muletto.repo=http://10.0.2.100:8080/repo muletto.image=debian muletto.target=/dev/vda muletto.layout=auto muletto.auto=restore muletto.after=poweroff")
E2E_TIMEOUT=${FIXUP_ESP_TIMEOUT:-600} E2E_MEM=1536 qemu_run restore "$T/restore.log"
restore_s=$E2E_SECONDS
grep -qa 'muletto: RESTORE OK' "$T/restore.log" &&
	grep -Eqa '^ +3 +esp +- +- -> .* 260 MiB +create ESP \(FAT32\)' "$T/restore.log" &&
	grep -qa 'this machine differs from the captured one (firmware bios -> uefi' "$T/restore.log" &&
	grep -qa 'muletto: FIXUP: fixup: 1 system, [0-9]* changes' "$T/restore.log" &&
	pass "restored under UEFI: the plan made an ESP of 260 MiB (partition 3) and fixup ran by itself (${restore_s}s, the tool started at ${E2E_TOOL_SECONDS:-?}s)" ||
	fail "the unattended restore making an ESP" "$(grep -a -e 'muletto' -e 'fixup' -e 'create' "$T/restore.log" | tail -30)"

# ---- on the host: the table, the FAT, fstab, the report ----
k=$(loop_attach "$T/disk.img")
new_ids=$(sfdisk -d "$k" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p')
[ "$(grep -v '^3 ' <<<"$new_ids")" = "$src_ids" ] &&
	grep -q "^3 type=$ESP, uuid=[0-9A-F-]\{36\}, name=\"EFI System\"$" <<<"$new_ids" &&
	pass "sfdisk -d: the new ESP (3) named \"EFI System\"; the disk GUID and the BIOS boot and root partitions keep their GUIDs, types and names" ||
	fail "the table with the ESP" "$(diff <(echo "$src_ids") <(echo "$new_ids"))"
minfo -i "${k}p3" 2>/dev/null | grep -q 'disk type="FAT32   "' &&
	mdir -i "${k}p3" ::/EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1 && mdir -i "${k}p3" ::/EFI/debian/grubx64.efi >/dev/null 2>&1 &&
	pass "the ESP is FAT32 and holds GRUB for UEFI from the system's own files: \\EFI\\debian\\grubx64.efi and the fallback \\EFI\\BOOT\\BOOTX64.EFI" ||
	fail "GRUB in the new ESP" "$(mdir -/ -i "${k}p3" ::/ 2>&1 | head -20)"
uuid=$(blkid -o value -s UUID "${k}p3")
mkdir -p "$T/root" && mount -o ro "${k}p2" "$T/root" &&
	cp "$T/root/etc/fstab" "$T/fstab" && cp "$T/root/var/log/muletto-fixup.log" "$T/fixup.log"
umount "$T/root" 2>/dev/null
[ -n "$uuid" ] && grep -qx "UUID=$uuid /boot/efi vfat umask=0077 0 1" "$T/fstab" &&
	grep -q '^UUID=[0-9a-f-]* / ext4 errors=remount-ro 0 1$' "$T/fstab" &&
	pass "fstab mounts the new ESP at /boot/efi by its UUID ($uuid), and the root by UUID" ||
	fail "fstab with the ESP" "$(cat "$T/fstab")"
grep -q "^  changed        /etc/fstab: UUID=$uuid /boot/efi vfat umask=0077 0 1 was added" "$T/fixup.log" &&
	grep -q 'GRUB for UEFI was installed into the ESP' "$T/fixup.log" &&
	pass "the report in the system's /var/log/muletto-fixup.log: the fstab line, GRUB for UEFI" ||
	fail "the fixup report" "$(cat "$T/fixup.log" 2>&1)"
loop_detach "$k"

# ---- it boots under OVMF with an empty NVRAM, through the fallback loader ----
cp "$OVMF/OVMF_VARS_4M.fd" "$T/empty-vars.fd"
Q=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd"
   -drive "if=pflash,format=raw,file=$T/empty-vars.fd" -nic none)
e2e_target "$T/disk.img" virtio
E2E_TIMEOUT=${FIXUP_ESP_BOOT_TIMEOUT:-300} E2E_STOP='Shell> ' qemu_run boot "$T/boot.log"
grep -qa "^$DEBIAN_MARKER" "$T/boot.log" && grep -qa '^FSTAB-OK' "$T/boot.log" &&
	pass "the restored system boots under UEFI with an empty NVRAM to its marker, its fstab (with the ESP) mounting (${E2E_SECONDS}s)" ||
	fail "the restored system boots under UEFI" "$(tail -c 800 "$T/boot.log")"
