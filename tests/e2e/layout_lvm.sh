# Restore onto disks of other sizes with LVM and MD, in one QEMU boot (this
# host's kernel has no device-mapper and no md): Debian's kernel with dm-mod,
# md and raid1, lvm2's tools, mdadm, e2fsprogs and muletto in a small
# initramfs. The guest makes the source (GPT: an LVM physical volume holding a
# volume group with two ext4 logical volumes, an MD 1.2 RAID1 member with ext4
# in its array, an MD 1.0 member), captures it, restores it onto a larger disk
# without and with --grow-lv and onto a smaller one, and checks each: the
# volume group activates, the logical volumes' sizes, e2fsck -fn clean, the
# files' sha256, mdadm --examine's sizes; and a new size for the 1.0 member is
# refused by name. The guest prints PASS:/FAIL: lines; they are passed on.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root layout_lvm
BOOT=$MULETTO_TOP/build/boot
guest_need layout_lvm
for t in lvm mdadm sgdisk partx resize2fs; do
	PATH=$PATH:/usr/sbin:/sbin command -v $t >/dev/null ||
		{ fail layout_lvm "$t is missing: run scripts/deps.sh e2e"; exit 1; }
done

guest_root
R=$GUEST_ROOT
guest_bin "$(PATH=$PATH:/usr/sbin command -v lvm)" /usr/sbin/lvm
for t in pvcreate vgcreate lvcreate lvs vgs pvs pvresize pvck vgchange lvextend; do ln -s lvm "$R/usr/sbin/$t"; done
guest_bin "$(PATH=$PATH:/usr/sbin command -v mdadm)" /usr/sbin/mdadm
for t in mke2fs e2fsck resize2fs dumpe2fs; do guest_bin "/sbin/$t" "/sbin/$t"; done
ln -s mke2fs "$R/sbin/mkfs.ext4"
guest_bin /usr/bin/partx /usr/bin/partx
rm -f "$R"/bin/mkfs.ext4 "$R"/bin/fsck.ext4
guest_modules kernel/drivers/virtio/virtio_pci.ko kernel/drivers/block/virtio_blk.ko \
	kernel/drivers/block/loop.ko kernel/fs/fuse/fuse.ko kernel/drivers/md/dm-mod.ko \
	kernel/drivers/md/raid1.ko kernel/crypto/crc32c_generic.ko kernel/fs/ext4/ext4.ko
guest_initrd "$(dirname "$0")/layout_lvm.guest" vdd LAYOUT-LVM-GUEST-DONE "$T/initrd.img"

# vda: the source, GPT: 1 an LVM PV (96 MiB), 2 an MD 1.2 member (48 MiB), 3 an
# MD 1.0 member (24 MiB); vdb, vdc: larger (384 MiB); vdd: smaller (150 MiB)
truncate -s 192M "$T/src.img"
sgdisk -n 1:2048:+96M -t 1:8e00 -n 2:0:+48M -t 2:fd00 -n 3:0:+24M -t 3:fd00 "$T/src.img" >/dev/null
truncate -s 384M "$T/big.img" "$T/biglv.img"
truncate -s 150M "$T/small.img"
Q+=(-kernel "$BOOT/vmlinuz" -initrd "$T/initrd.img" -append "console=ttyS0,115200 quiet panic=5")
for d in src big biglv small; do Q+=(-drive "file=$T/$d.img,if=virtio,format=raw"); done
E2E_TIMEOUT=240 qemu_run layout_lvm "$T/serial.log"
tr -d '\r' <"$T/serial.log" | grep -aE '^(PASS|FAIL|SKIP): '
if grep -qa LAYOUT-LVM-GUEST-DONE "$T/serial.log"; then
	pass "the guest ran every case (power-on to power-off: ${E2E_SECONDS} s)"
else
	fail "the guest ran every case" "$(tail -c 1500 "$T/serial.log"; cat "$T/serial.log.err")"
fi
