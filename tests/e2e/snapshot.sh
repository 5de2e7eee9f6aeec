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
KMOD=$(ls -d "$MULETTO_TOP"/build/kernel/lib/modules/* 2>/dev/null | head -1)
PLAIN=$MULETTO_TOP/build/muletto # the sanitised build is too slow under emulation
command -v qemu-system-x86_64 >/dev/null || { skip snapshot "qemu-system-x86_64 is missing"; exit 0; }
[ -f "$BOOT/vmlinuz" ] && [ -f "$KMOD/modules.dep" ] ||
	{ skip snapshot "build/boot/vmlinuz or build/kernel is missing: run make iso"; exit 0; }
[ -x "$PLAIN" ] || { skip snapshot "build/muletto is missing: run make"; exit 0; }
command -v lvm >/dev/null && [ -x /sbin/debugfs ] ||
	{ fail snapshot "lvm2 or e2fsprogs is missing: run scripts/deps.sh e2e"; exit 1; }

R=$T/root
mkdir -p "$R"/bin "$R"/sbin "$R"/usr/bin "$R"/usr/sbin "$R"/etc/lvm "$R"/mod "$R"/dev "$R"/proc \
	"$R"/sys "$R"/run "$R"/tmp "$R"/mnt/lv "$R"/mnt/part "$R"/lib64

# copy_bin FILE DEST: a program and the libraries it was linked with (as
# scripts/mkinitramfs.sh does)
copy_bin() {
	cp -L "$1" "$R$2"
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		[ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"; }
	done
}
dpkg-deb -x "$(ls "$MULETTO_TOP"/build/debs/busybox-static_*.deb | head -1)" "$T/bb"
cp "$T/bb/bin/busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
copy_bin /usr/sbin/lvm /usr/sbin/lvm
for t in lvcreate lvremove lvs vgs pvcreate vgcreate; do ln -s lvm "$R/usr/sbin/$t"; done
for t in mke2fs e2fsck debugfs; do copy_bin "/sbin/$t" "/sbin/$t"; done
ln -s mke2fs "$R/sbin/mkfs.ext4"
rm -f "$R"/bin/mkfs.ext4 "$R"/bin/mke2fs "$R"/bin/e2fsck "$R"/bin/fsck.ext4
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
	kernel/drivers/md/dm-snapshot.ko kernel/crypto/crc32c_generic.ko kernel/fs/ext4/ext4.ko; do
	mod_order "$m"; done | awk '!seen[$0]++'); do
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
i=0; while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sh /guest.sh 2>&1
echo SNAPSHOT-GUEST-DONE
poweroff -f
INIT
chmod 755 "$R/init"
cat "$(dirname "$0")/snapshot.guest" >"$R/guest.sh"
(cd "$R" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$T/initrd.img"

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
