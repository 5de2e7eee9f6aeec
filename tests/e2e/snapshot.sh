# capture --snapshot, in one QEMU boot (this host's kernel has no
# device-mapper): Debian's kernel with dm-snapshot, lvm2's tools, e2fsprogs and
# muletto in a small initramfs. The guest makes an LVM volume with a mounted
# ext4 that a writer keeps changing, and checks: a plain capture of it is
# refused; --snapshot captures it, removes its snapshot, and the image restores
# to an ext4 that e2fsck finds clean, holding the files written before; a
# partition, a disk and a physical volume are refused with the reason; a
# snapshot too small for what is written overflows, is reported and removed; a
# group without room, missing lvm2 tools and SIGTERM mid-capture are handled.
# The guest prints PASS:/FAIL: lines on the serial console; they are passed on.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root snapshot
BOOT=$MULETTO_TOP/build/boot
guest_need snapshot
command -v lvm >/dev/null && [ -x /sbin/debugfs ] ||
	{ fail snapshot "lvm2 or e2fsprogs is missing: run scripts/deps.sh e2e"; exit 1; }

guest_root
R=$GUEST_ROOT
mkdir -p "$R"/mnt/lv "$R"/mnt/part
guest_bin /usr/sbin/lvm /usr/sbin/lvm
for t in lvcreate lvremove lvs vgs pvcreate vgcreate; do ln -s lvm "$R/usr/sbin/$t"; done
for t in mke2fs e2fsck debugfs; do guest_bin "/sbin/$t" "/sbin/$t"; done
ln -s mke2fs "$R/sbin/mkfs.ext4"
rm -f "$R"/bin/mkfs.ext4 "$R"/bin/fsck.ext4
guest_modules kernel/drivers/virtio/virtio_pci.ko kernel/drivers/block/virtio_blk.ko \
	kernel/drivers/md/dm-snapshot.ko kernel/crypto/crc32c_generic.ko kernel/fs/ext4/ext4.ko
guest_initrd "$(dirname "$0")/snapshot.guest" vdb SNAPSHOT-GUEST-DONE "$T/initrd.img"

# vda: a GPT disk whose partition is an LVM physical volume; vdb: one whose
# partition holds a plain ext4
for d in pv:256 part:64; do
	truncate -s "${d#*:}M" "$T/${d%:*}.img"
	sgdisk -n 1:2048:0 -t "1:$([ "${d%:*}" = pv ] && echo 8e00 || echo 8300)" "$T/${d%:*}.img" >/dev/null
done
Q+=(-kernel "$BOOT/vmlinuz" -initrd "$T/initrd.img" -append "console=ttyS0,115200 quiet panic=5"
    -drive "file=$T/pv.img,if=virtio,format=raw" -drive "file=$T/part.img,if=virtio,format=raw")
E2E_TIMEOUT=300 qemu_run snapshot "$T/serial.log"
tr -d '\r' <"$T/serial.log" | grep -aE '^(PASS|FAIL|SKIP): '
if grep -qa SNAPSHOT-GUEST-DONE "$T/serial.log"; then
	pass "the guest ran every case (power-on to power-off: ${E2E_SECONDS} s)"
else
	fail "the guest ran every case" "$(tail -c 1500 "$T/serial.log"; cat "$T/serial.log.err")"
fi
