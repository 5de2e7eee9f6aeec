#!/bin/bash
# make demo: the whole job on built-in sample data, narrated.
#  1. a small bootable sample machine (GPT, ESP with shim+GRUB, a tiny system
#     that prints a marker and powers off) is captured into a repository;
#  2. the repository is served by nginx on 127.0.0.1;
#  3. the muletto ISO boots in QEMU (UEFI) next to a blank disk and restores
#     the machine unattended, reading muletto.conf from a disk labelled MULETTO;
#  4. the restored disk is compared with the original, then booted to its marker;
#  5. instant recovery: the machine runs as a VM (muletto run) while its disk
#     still arrives over a slowed link, and prints its marker before it has all
#     arrived; the disk it leaves is the original.
set -u
cd "$(dirname "$0")/.."
export MULETTO=$PWD/build/muletto
. tests/lib.sh
. tests/lib_disk.sh
. tests/lib_e2e.sh
[ "$(id -u)" = 0 ] || { echo "make demo needs root (loop devices, QEMU)"; exit 1; }

start=$SECONDS
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
W=$PWD/build/demo
rm -rf "$W" && mkdir -p "$W"

say "Building a sample machine: 128 MiB disk, GPT, EFI system partition with shim and GRUB, ext4 root"
SAMPLE_DATA_MIB=40 e2e_bootable_sample "$W/server-disk.img" 128
partx --show "$W/server-disk.img"

say "Capturing it into a repository (casync chunk store + manifest)"
run "$MULETTO" capture "$W/server-disk.img" "$W/repo" --name web01

say "Serving the repository over HTTP on 127.0.0.1, as a NAS would"
REPO_PORT=$(nginx_start "$W" "location /slow/ { alias $W/; limit_rate 1m; }")
run "$MULETTO" ls "http://127.0.0.1:$REPO_PORT/repo"

say "A USB stick labelled MULETTO with the job for the unattended restore"
e2e_config_disk "$W/config-stick.img" "repo=http://10.0.2.100:8080/repo" "image=web01" \
	"target=auto" "auto=restore" "after=poweroff"
cat "$T/muletto.conf"

say "Booting build/muletto.iso ($(du -h "$ISO" | cut -f1)) in QEMU (UEFI, software emulation) with a blank 128 MiB disk"
truncate -s 128M "$W/new-disk.img"
e2e_firmware uefi; e2e_media cd; e2e_target "$W/new-disk.img" virtio; e2e_net
Q+=(-drive "file=$W/config-stick.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
    -device usb-storage,drive=cfg,bus=ehci.0)
: >"$W/muletto-boot.log"
tail -f "$W/muletto-boot.log" 2>/dev/null | grep --line-buffered -a '^muletto:' &
tailer=$!
qemu_run "muletto ISO" "$W/muletto-boot.log"
sleep 0.5; kill $tailer 2>/dev/null
echo "(power-on to power-off: ${E2E_SECONDS} s)"

say "Checking: the new disk is byte for byte the old one"
run cmp "$W/server-disk.img" "$W/new-disk.img" && echo "identical: $(sha256sum <"$W/new-disk.img" | cut -c1-16)…"
ok=$?

say "Booting the restored disk"
e2e_firmware uefi
Q+=(-drive "file=$W/new-disk.img,if=virtio,format=raw")
qemu_run "restored machine" "$W/restored-boot.log"
if grep -qa "$SAMPLE_MARKER" "$W/restored-boot.log"; then
	echo "the restored machine booted and printed: $SAMPLE_MARKER (${E2E_SECONDS} s)"
else
	echo "the restored machine did not print its marker; see $W/restored-boot.log"; ok=1
fi

say "Instant recovery: the machine as a VM while its disk arrives (each connection slowed to 1 MB/s)"
export MULETTO_RUN_DIR=$W/vms
run "$MULETTO" run "http://127.0.0.1:$REPO_PORT/slow/repo" web01 --to "$W/vm-disk.img" \
	--firmware uefi --memory 1024 --threads 2 --detach
t0=$SECONDS
for _ in $(seq 1200); do grep -qa "$SAMPLE_MARKER" "$W/vms/web01/serial.log" 2>/dev/null && break; sleep 0.1; done
if grep -qa "$SAMPLE_MARKER" "$W/vms/web01/serial.log"; then
	echo "the VM printed its marker $((SECONDS - t0)) s after muletto run, while its disk was arriving:"
	"$MULETTO" status
else
	echo "the VM did not print its marker; see $W/vms/web01/serial.log"; ok=1
fi
for _ in $(seq 1200); do
	case "$("$MULETTO" status --json | jq -r '.vms[0].state')" in stopped|failed|ended) break ;; esac
	sleep 0.5
done
grep '^muletto:' "$W/vms/web01/run.log"
run cmp "$W/server-disk.img" "$W/vm-disk.img" && echo "the disk the VM ran from is now the original: $(sha256sum <"$W/vm-disk.img" | cut -c1-16)…" || ok=1

say "Done in $((SECONDS - start)) s"
exit $ok
