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
KMOD=$(ls -d "$MULETTO_TOP"/build/kernel/lib/modules/* 2>/dev/null | head -1)
PLAIN=$MULETTO_TOP/build/muletto # the sanitised build is too slow under emulation
command -v qemu-system-x86_64 >/dev/null || { skip layout_lvm "qemu-system-x86_64 is missing"; exit 0; }
[ -f "$BOOT/vmlinuz" ] && [ -f "$KMOD/modules.dep" ] ||
	{ skip layout_lvm "build/boot/vmlinuz or build/kernel is missing: run make iso"; exit 0; }
[ -x "$PLAIN" ] || { skip layout_lvm "build/muletto is missing: run make"; exit 0; }
for t in lvm mdadm sgdisk partx resize2fs; do
	PATH=$PATH:/usr/sbin:/sbin command -v $t >/dev/null ||
		{ fail layout_lvm "$t is missing: run scripts/deps.sh e2e"; exit 1; }
done

R=$T/root
mkdir -p "$R"/bin "$R"/sbin "$R"/usr/bin "$R"/usr/sbin "$R"/etc/lvm "$R"/mod "$R"/dev "$R"/proc \
	"$R"/sys "$R"/run "$R"/tmp "$R"/mnt "$R"/lib64

# copy_bin FILE DEST: a program and the libraries it was linked with
copy_bin() {
	cp -L "$1" "$R$2"
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		[ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"; }
	done
}
dpkg-deb -x "$(ls "$MULETTO_TOP"/build/debs/busybox-static_*.deb | head -1)" "$T/bb"
cp "$T/bb/bin/busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
copy_bin "$(PATH=$PATH:/usr/sbin command -v lvm)" /usr/sbin/lvm
for t in pvcreate vgcreate lvcreate lvs vgs pvs pvresize pvck vgchange lvextend; do ln -s lvm "$R/usr/sbin/$t"; done
copy_bin "$(PATH=$PATH:/usr/sbin command -v mdadm)" /usr/sbin/mdadm
for t in mke2fs e2fsck resize2fs dumpe2fs; do copy_bin "/sbin/$t" "/sbin/$t"; done
ln -s mke2fs "$R/sbin/mkfs.ext4"
copy_bin /usr/bin/partx /usr/bin/partx
rm -f "$R"/bin/mkfs.ext4 "$R"/bin/mke2fs "$R"/bin/e2fsck "$R"/bin/fsck.ext4 "$R"/bin/partx
cp /etc/mke2fs.conf "$R/etc/"
copy_bin "$PLAIN" /usr/bin/muletto
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
# no udev in the guest: lvm2 makes the device nodes itself and does not wait
cat >"$R/etc/lvm/lvm.conf" <<'CONF'
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
CONF

# the modules, numbered in the order of their dependencies (modules.dep)
mod_order() {
	local d
	for d in $(sed -n "s|^$1: *||p" "$KMOD/modules.dep"); do mod_order "$d"; done
	echo "$1"
}
i=10
for m in $(for m in kernel/drivers/virtio/virtio_pci.ko kernel/drivers/block/virtio_blk.ko \
	kernel/drivers/block/loop.ko kernel/fs/fuse/fuse.ko kernel/drivers/md/dm-mod.ko \
	kernel/drivers/md/raid1.ko kernel/crypto/crc32c_generic.ko kernel/fs/ext4/ext4.ko; do
	mod_order "$m"; done | awk '!seen[$0]++'); do
	[ -f "$KMOD/$m" ] || continue # built in
	cp "$KMOD/$m" "$R/mod/$i-$(basename "$m")"
	i=$((i + 1))
done

cat >"$R/init" <<'INIT'
#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
for m in /mod/*.ko; do insmod "$m" || echo "FAIL: insmod $m"; done
i=0; while [ ! -b /dev/vdd ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sh /guest.sh 2>&1
echo "guest done at $(cut -d" " -f1 /proc/uptime) s"
echo LAYOUT-LVM-GUEST-DONE
poweroff -f
INIT
chmod 755 "$R/init"
cat "$(dirname "$0")/layout_lvm.guest" >"$R/guest.sh"
(cd "$R" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$T/initrd.img"

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
