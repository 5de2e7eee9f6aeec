# Network boot from build/pxe/ over QEMU's built-in TFTP server, BIOS
# (pxelinux) and UEFI (shim + netboot GRUB), then an unattended restore over
# HTTP onto a blank disk, compared with the source.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "PXE boots"
e2e_need "PXE boots"
[ -f "$MULETTO_TOP/build/pxe/pxelinux.0" ] || { skip "PXE boots" "build/pxe is missing: run make pxe"; exit 0; }

e2e_repo || { fail "e2e repository" "capture failed"; exit 0; }
e2e_config_disk "$T/config.img" "repo=http://10.0.2.100:8080/repo" "image=sample" \
	"target=auto" "auto=restore" "after=poweroff"

pxe_case() { # name firmware bootfile controller
	local name=$1 log=$T/pxe-$2.log
	truncate -s 0 "$T/target.img"; truncate -s 112M "$T/target.img"
	e2e_firmware "$2"; e2e_target "$T/target.img" "$4"
	Q+=(-netdev "user,id=n0,restrict=on,tftp=$MULETTO_TOP/build/pxe,bootfile=$3,guestfwd=tcp:10.0.2.100:8080-cmd:socat STDIO TCP:127.0.0.1:$REPO_PORT"
	    -device virtio-net-pci,netdev=n0,bootindex=0
	    -drive "file=$T/config.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
	    -device usb-storage,drive=cfg,bus=ehci.0)
	qemu_run "$name" "$log"
	if grep -q "RESTORE OK" "$log" && cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img"; then
		pass "$name: unattended restore over HTTP, disk identical (tool started at ${E2E_TOOL_SECONDS}s, powered off at ${E2E_SECONDS}s)"
	else
		fail "$name" "$(grep -aE 'muletto|Kernel panic|error' "$log" | tail -5 | tr '\n' ' ') $(cat "$log.err")"
	fi
}

pxe_case "PXE BIOS (pxelinux over TFTP), virtio disk" bios pxelinux.0 virtio
pxe_case "PXE UEFI (shim + GRUB over TFTP), AHCI disk" uefi bootnetx64.efi ahci

# iPXE (QEMU's network ROM is iPXE): the script, kernel and initramfs over HTTP
ln -s "$MULETTO_TOP/build/pxe" "$T/pxe"
pxe_case "iPXE, kernel and initramfs over HTTP, NVMe disk" bios http://10.0.2.100:8080/pxe/muletto.ipxe nvme
