# Boot the ISO in QEMU, every way a technician would, and restore unattended
# from the host over HTTP onto a blank disk; compare the disk with the source.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "ISO boots"
e2e_need "ISO boots"

e2e_repo || { fail "e2e repository" "capture failed"; exit 0; }
e2e_config_disk "$T/config.img" "repo=http://10.0.2.100:8080/repo" "image=sample" \
	"target=auto" "auto=restore" "after=poweroff"

boot_case() { # name firmware media controller
	local name=$1 log=$T/$2-$3-$4.log
	truncate -s 0 "$T/target.img"; truncate -s 112M "$T/target.img"
	e2e_firmware "$2"; e2e_media "$3"; e2e_target "$T/target.img" "$4"; e2e_net
	Q+=(-drive "file=$T/config.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
	    -device usb-storage,drive=cfg,bus=ehci.0)
	qemu_run "$name" "$log"
	if grep -q "RESTORE OK" "$log" && cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img"; then
		pass "$name: unattended restore over HTTP, disk identical (tool started at ${E2E_TOOL_SECONDS}s, powered off at ${E2E_SECONDS}s)"
		grep -E '^muletto: ' "$log" | sed 's/^/    /'
	else
		fail "$name" "$(grep -aE 'muletto|Kernel panic|error' "$log" | tail -5 | tr '\n' ' ') $(cat "$log.err")"
	fi
}

boot_case "BIOS CD, virtio disk" bios cd virtio
boot_case "UEFI CD, AHCI disk" uefi cd ahci
boot_case "UEFI USB stick, NVMe disk" uefi usb nvme
# the restored machine boots (from the NVMe disk it was restored to)
e2e_firmware uefi
Q+=(-drive "file=$T/target.img,if=none,id=t0,format=raw" -device nvme,drive=t0,serial=MULETTO0001)
qemu_run "restored machine" "$T/restored.log"
grep -qa "$SAMPLE_MARKER" "$T/restored.log" &&
	pass "the restored disk boots to its marker under UEFI (${E2E_SECONDS}s)" ||
	fail "the restored disk boots to its marker under UEFI" "$(tail -c 500 "$T/restored.log")"
boot_case "UEFI Secure Boot CD, virtio disk" secureboot cd virtio
grep -q "Secure Boot on" "$T/secureboot-cd-virtio.log" &&
	pass "Secure Boot was enforced: shim, GRUB and the kernel passed the firmware's checks" ||
	fail "Secure Boot was enforced" "$(grep -a firmware "$T/secureboot-cd-virtio.log")"
grep -q "firmware: BIOS" "$T/bios-cd-virtio.log" && grep -q "Secure Boot off" "$T/uefi-cd-ahci.log" &&
	pass "the BIOS and UEFI boots came through isolinux and GRUB respectively" ||
	fail "the BIOS and UEFI boots came through isolinux and GRUB respectively"
