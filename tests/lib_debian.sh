# A real Debian 12 machine for the fix-up tests, sourced by tests that boot it.
#
# debian_rootfs: Debian's own packages (kernel, initramfs-tools, GRUB for BIOS
# and EFI), installed by mmdebstrap through the project's apt configuration
# (build/apt), its initramfs made with MODULES=list holding virtio-blk only, so
# that it cannot find its root on any other controller: the negative control.
# Made once, kept as build/debian-sample/rootfs.tar (remade when this file
# changes).
#
# debian_disk IMG: a disk as Debian's installer leaves it on a virtio machine:
# GPT with a BIOS boot partition, an ESP and an ext4 root; GRUB installed for
# both BIOS and UEFI (EFI/debian/grubx64.efi, no fallback loader), fstab and
# GRUB naming disks by their kernel names (/dev/vda3): what breaks when the
# controller changes. Its init prints DEBIAN_MARKER, whether every fstab entry
# mounted, and powers off.
DEBIAN_DIR=$MULETTO_TOP/build/debian-sample
DEBIAN_MARKER="MULETTO-DEBIAN-SAMPLE-BOOTED"

# Two tests at a time (tests/run) may both want it: one makes it, the other
# waits on the lock and finds it made.
debian_rootfs() {
	mkdir -p "$DEBIAN_DIR" || return 1
	( flock 9 && debian_rootfs_make ) 9>"$DEBIAN_DIR/lock"
}

debian_rootfs_make() {
	local stamp key
	key=$({ declare -f debian_rootfs_make; cat "$MULETTO_TOP/build/apt/sources.list"; } 2>/dev/null |
		sha256sum | cut -c1-16)
	stamp=$DEBIAN_DIR/rootfs.$key
	[ -f "$stamp" ] && [ -f "$DEBIAN_DIR/rootfs.tar" ] && return 0
	[ -f "$MULETTO_TOP/build/apt/sources.list" ] || return 1
	command -v mmdebstrap >/dev/null || return 1
	rm -f "$DEBIAN_DIR"/rootfs.*
	# kernel modules beyond storage, network, ext4 and FAT are of no use here
	# and would only make the image larger
	mmdebstrap --variant=minbase --mode=root --aptopt='Acquire::Languages "none"' \
		--include=linux-image-amd64,initramfs-tools,zstd,kmod,udev,e2fsprogs,dosfstools,grub-pc-bin,grub-efi-amd64-bin,grub2-common,ifupdown,iproute2 \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" &&
			echo MODULES=list >"$1/etc/initramfs-tools/conf.d/virtio-only.conf" &&
			printf "virtio_pci\nvirtio_blk\next4\ncrc32c_generic\n" >>"$1/etc/initramfs-tools/modules"' \
		--customize-hook='cd "$1/usr/lib/modules/"*/kernel && rm -rf sound drivers/gpu drivers/media drivers/infiniband drivers/staging drivers/net/wireless drivers/bluetooth drivers/iio drivers/hid drivers/usb drivers/input drivers/video drivers/comedi drivers/hwmon drivers/platform drivers/mtd drivers/target drivers/misc drivers/mmc drivers/net/can drivers/net/usb drivers/net/wan drivers/net/ieee802154 drivers/net/hamradio drivers/net/wwan drivers/net/ethernet/mellanox drivers/net/ethernet/qlogic drivers/net/ethernet/chelsio drivers/net/ethernet/sfc drivers/net/ethernet/cavium drivers/net/ethernet/huawei drivers/scsi/lpfc drivers/scsi/qla2xxx drivers/scsi/bfa drivers/scsi/be2iscsi drivers/scsi/qedi drivers/scsi/qedf drivers/scsi/csiostor net/wireless net/bluetooth net/mac80211 net/netfilter net/ipv4/netfilter net/ipv6/netfilter net/bridge/netfilter net/sched fs/ocfs2 fs/xfs fs/btrfs fs/nfs fs/nfsd fs/smb fs/ceph fs/gfs2 fs/f2fs fs/ubifs fs/reiserfs fs/jfs fs/nilfs2 &&
			chroot "$1" sh -c "depmod -a \$(ls /usr/lib/modules) && update-initramfs -u -k all" &&
			rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
		bookworm "$DEBIAN_DIR/rootfs.new.tar" "$MULETTO_TOP/build/apt/sources.list" \
		>"$DEBIAN_DIR/mmdebstrap.log" 2>&1 || return 1
	mv "$DEBIAN_DIR/rootfs.new.tar" "$DEBIAN_DIR/rootfs.tar" && touch "$stamp"
}

# debian_disk IMG SIZE_MIB [generic] [noesp|uefi]: the disk, from the root file
# system above; generic: its initramfs also holds ahci, nvme and sd_mod (a
# system whose initramfs fixup need not rebuild, for the cases that test the
# rest); noesp: as a BIOS-only install leaves it, a BIOS boot partition and
# the root (partition 2), no ESP, GRUB for BIOS only; uefi: as a UEFI-only
# install leaves it, the ESP (partition 1, GRUB for EFI there and as the
# fallback loader) and the root (partition 2), no BIOS boot partition and no
# boot code in the MBR.
debian_disk() {
	local img=$1 size=$2 generic=${3:-} noesp=${4:-} x=$T/debian.$RANDOM dev root rp=3 ep=2
	mkdir -p "$x/mnt"
	rm -f "$img" && truncate -s "${size}M" "$img"
	if [ "$noesp" = noesp ]; then
		rp=2 ep=
		sgdisk -n 1:2048:+1M -t 1:ef02 -c 1:bios -n 2:0:0 -t 2:8300 -c 2:root "$img" >/dev/null || return 1
	elif [ "$noesp" = uefi ]; then
		rp=2 ep=1
		sgdisk -n 1:2048:+32M -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$img" >/dev/null || return 1
	else
		sgdisk -n 1:2048:+1M -t 1:ef02 -c 1:bios -n 2:0:+32M -t 2:ef00 -c 2:ESP \
			-n 3:0:0 -t 3:8300 -c 3:root "$img" >/dev/null || return 1
	fi
	dev=$(losetup -f --show "$img") || return 1
	partx -a "$dev" 2>/dev/null
	{ [ -z "$ep" ] || mkfs.vfat -n ESP "${dev}p$ep" >/dev/null 2>&1; } && mkfs.ext4 -q -L root "${dev}p$rp" &&
		mount "${dev}p$rp" "$x/mnt" && tar -C "$x/mnt" -xf "$DEBIAN_DIR/rootfs.tar" &&
		mkdir -p "$x/mnt/boot/efi" || {
		umount -R "$x/mnt" 2>/dev/null; partx -d "$dev"; losetup -d "$dev"; return 1; }
	root=$x/mnt
	echo debian-sample >"$root/etc/hostname"
	printf '/dev/vda%s / ext4 errors=remount-ro 0 1\n' $rp >"$root/etc/fstab"
	[ -z "$ep" ] || printf '/dev/vda%s /boot/efi vfat umask=0077 0 1\n' $ep >>"$root/etc/fstab"
	# its network card by the name the old machine gave it
	printf 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug ens18\niface ens18 inet dhcp\n' >"$root/etc/network/interfaces"
	# init: the marker, whether fstab mounts, then off
	cat >"$root/sbin/sample-init" <<'INIT'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -o remount,rw / 2>/dev/null
if mount -a 2>/tmp/mount.err; then echo "FSTAB-OK"; else echo "FSTAB-FAILED: $(cat /tmp/mount.err)"; fi
echo "MULETTO-DEBIAN-SAMPLE-BOOTED, disks: $(ls /sys/block | tr '\n' ' ')"
umount -a -r 2>/dev/null
echo o >/proc/sysrq-trigger; sleep 10
INIT
	chmod 755 "$root/sbin/sample-init"
	cat >"$root/etc/default/grub" <<'GRUB'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200 init=/sbin/sample-init rootdelay=4 panic=1"
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_DISABLE_LINUX_UUID=true
GRUB_DISABLE_OS_PROBER=true
GRUB
	for d in dev proc sys run; do mkdir -p "$root/$d" && mount --bind "/$d" "$root/$d"; done
	# BIOS: grub-install; UEFI: the image grub-install would put into the ESP
	# (this host's kernel has no vfat to mount the ESP: mtools writes it)
	printf 'search.fs_uuid %s root\nset prefix=($root)/boot/grub\n' "$(blkid -o value -s UUID "${dev}p$rp")" >"$root/tmp/early.cfg"
	if [ "$generic" = generic ]; then
		printf 'ahci\nnvme\nsd_mod\n' >>"$root/etc/initramfs-tools/modules"
		chroot "$root" update-initramfs -u -k all >"$x/grub.log" 2>&1 || { cat "$x/grub.log" >&2; }
	fi
	# UEFI only: /boot/grub as grub-install --target=x86_64-efi leaves it
	if [ "$noesp" = uefi ]; then
		mkdir -p "$root/boot/grub" && cp -r "$root/usr/lib/grub/x86_64-efi" "$root/boot/grub/"
	else
		chroot "$root" grub-install --target=i386-pc "$dev" >>"$x/grub.log" 2>&1
	fi &&
		if [ -z "$ep" ]; then true; else
		chroot "$root" grub-mkimage -O x86_64-efi -o /tmp/grubx64.efi -c /tmp/early.cfg -p /boot/grub \
			part_gpt part_msdos ext2 fat search search_fs_uuid normal linux configfile echo \
			serial terminal terminfo gzio all_video boot >>"$x/grub.log" 2>&1 &&
		MTOOLS_SKIP_CHECK=1 mmd -i "${dev}p$ep" ::/EFI ::/EFI/debian 2>/dev/null &&
		MTOOLS_SKIP_CHECK=1 mcopy -i "${dev}p$ep" "$root/tmp/grubx64.efi" ::/EFI/debian/grubx64.efi 2>/dev/null &&
		if [ "$noesp" = uefi ]; then
			MTOOLS_SKIP_CHECK=1 mmd -i "${dev}p$ep" ::/EFI/BOOT 2>/dev/null &&
			MTOOLS_SKIP_CHECK=1 mcopy -i "${dev}p$ep" "$root/tmp/grubx64.efi" ::/EFI/BOOT/BOOTX64.EFI 2>/dev/null
		fi
		fi &&
		chroot "$root" update-grub >>"$x/grub.log" 2>&1
	local rc=$?
	rm -f "$root/tmp/early.cfg" "$root/tmp/grubx64.efi"
	# as on the virtio machine it came from
	sed -i "s|$dev|/dev/vda|g; s|/dev/vdap|/dev/vda|g" "$root/boot/grub/grub.cfg"
	umount -R "$root"
	partx -d "$dev"
	losetup -d "$dev"
	[ $rc = 0 ] || { cat "$x/grub.log" >&2; return 1; }
}
