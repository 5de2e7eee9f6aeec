# The initramfs holds the drivers, file systems and tools the boot environment
# promises, and the tool runs from it with only the libraries it carries.
. "$(dirname "$0")/../lib.sh"
R=$MULETTO_TOP/build/initramfs-root
[ -x "$R/init" ] || { skip "initramfs contents" "build/initramfs-root is missing: run make iso"; exit 0; }
kver=$(ls "$R/lib/modules")

# (ntfs3 is not built in Debian 12's kernel: CONFIG_NTFS3_FS is not set)
missing=""
for m in ahci nvme virtio_blk virtio_scsi virtio_net usb-storage uas xhci-pci ehci-pci sdhci-pci \
	mmc_block megaraid_sas mpt3sas hpsa smartpqi aacraid vmw_pvscsi hv_storvsc e1000 e1000e igb \
	ixgbe i40e ice tg3 bnx2 bnx2x r8169 vmxnet3 hv_netvsc mlx4_en mlx5_core vfat ext4 xfs btrfs \
	isofs cifs nfs nfsv4 nfsv3 dm-mod md-mod raid1 nbd loop efivarfs nls_cp437 sd_mod sr_mod; do
	f=$(echo "$m" | tr '-' '_')
	grep -qE "/($m|$f)\.ko" "$R/lib/modules/$kver/modules.dep" || missing="$missing $m"
done
[ -z "$missing" ] && pass "every promised driver and file system module is in the initramfs" ||
	fail "every promised driver and file system module is in the initramfs" "missing:$missing"

# every module's dependencies are there too (depmod found them all)
awk -F': ' '{ n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i] }' \
	"$R/lib/modules/$kver/modules.dep" | sort -u | while read -r d; do
	[ -f "$R/lib/modules/$kver/$d" ] || echo "$d"
done >"$T/absent"
[ ! -s "$T/absent" ] && pass "every module dependency is present" ||
	fail "every module dependency is present" "$(head -3 "$T/absent")"

missing=""
for f in bin/busybox bin/udhcpc bin/modprobe sbin/modprobe bin/findfs etc/ssl/certs/ca-certificates.crt \
	etc/udhcpc.script lib/firmware/rtl_nic lib/firmware/bnx2; do
	[ -e "$R/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass "busybox, modprobe where the kernel looks for it, DHCP, CA certificates and NIC firmware are in" ||
	fail "busybox, modprobe where the kernel looks for it, DHCP, CA certificates and NIC firmware are in" "missing:$missing"
n=$(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt")
[ "$n" -gt 100 ] && pass "the CA bundle holds $n certificates" || fail "the CA bundle holds certificates" "$n"

# the tool runs inside the initramfs tree, with nothing from the host
out=$(chroot "$R" /usr/bin/muletto --version 2>&1)
[ "$out" = "muletto $(sed -n 's/^#define MULETTO_VERSION "\(.*\)"/\1/p' "$MULETTO_TOP/include/muletto/core/util.h")" ] &&
	pass "muletto runs from the initramfs with its own libraries" || fail "muletto runs from the initramfs with its own libraries" "$out"

# the file system tools of a restore onto another disk run from the tree
bad=""
for t in "sbin/e2fsck -V" "sbin/resize2fs" "sbin/dumpe2fs -V" "sbin/mkswap -V" "sbin/mkfs.vfat --help" \
	"sbin/fsck.vfat --help" "usr/bin/mcopy -V" "sbin/ntfsresize -V" "usr/sbin/xfs_growfs -V" \
	"usr/sbin/xfs_db -V" "sbin/xfs_repair -V" "sbin/mkfs.xfs -V" "sbin/xfsdump -h" "sbin/xfsrestore -h" \
	"bin/btrfs --version" "sbin/lvm version" "sbin/mdadm --version" "bin/ntfs-3g --version" "bin/efibootmgr --version" "bin/chroot --help" \
	"usr/sbin/dropbear -V" "usr/bin/dropbearkey -h"; do
	set -- $t
	chroot "$R" "/$1" ${2:+"$2"} 2>&1 | grep -qiE 'version|usage|[0-9]\.[0-9]' || bad="$bad $1"
done
for l in pvresize pvs vgs vgchange lvextend lvs; do # lvm's commands: links to it
	[ "$(readlink "$R/sbin/$l")" = lvm ] || bad="$bad sbin/$l"
done
[ -z "$bad" ] && grep -q '/fuse\.ko' "$R/lib/modules/$kver/modules.dep" &&
	pass "e2fsprogs, mkswap, dosfstools, mtools, ntfsresize, ntfs-3g, xfsprogs, xfsdump, btrfs, lvm (lvextend, vgchange), mdadm, efibootmgr, chroot and dropbear (SSH) run from the initramfs; fuse is in" ||
	fail "the layout tools run from the initramfs" "not running:$bad"

# mtools works on a FAT from the tree (its code pages are glibc modules): a
# file in, a folder made, the file moved over another, listed and read back;
# muletto carries libhivex for the Windows fix-up
mkdir -p "$R/tmp/mt" && at_exit "rm -rf $R/tmp/mt"
truncate -s 8M "$R/tmp/mt/fat.img" && mkfs.vfat "$R/tmp/mt/fat.img" >/dev/null 2>&1 && echo hello >"$R/tmp/mt/a.txt"
out=$(chroot "$R" /bin/sh -c 'cd /tmp/mt && /usr/bin/mmd -i fat.img ::/EFI && /usr/bin/mcopy -i fat.img a.txt ::/EFI/A.NEW &&
	/usr/bin/mcopy -i fat.img a.txt ::/EFI/A.TXT && /usr/bin/mmove -D o -i fat.img ::/EFI/A.NEW ::/EFI/A.TXT &&
	/usr/bin/mdir -b -i fat.img ::/EFI && /usr/bin/mcopy -n -i fat.img ::/EFI/A.TXT b.txt && cat b.txt' 2>&1)
[ "$out" = "$(printf '::/EFI/A.TXT\nhello')" ] && grep -q libhivex < <(chroot "$R" /lib64/ld-linux-x86-64.so.2 --list /usr/bin/muletto 2>&1) &&
	pass "mtools copies, moves and lists on a FAT from the initramfs (its code pages are in); muletto has libhivex" ||
	fail "mtools from the initramfs" "$out"

# ... and a restore onto a smaller disk works with them alone: the tree as the
# root (its own /dev, /proc, /sys, a /tmp of its own), the image shrunk into a loop device
if [ "$(id -u)" = 0 ] && command -v sgdisk >/dev/null && [ -e /dev/fuse ]; then
	mkdir -p "$R/tmp/t" && mount -t tmpfs tmpfs "$R/tmp/t" && at_exit "umount -l $R/tmp/t"
	for d in dev proc sys; do mount --bind "/$d" "$R/$d" && at_exit "umount -l $R/$d"; done
	truncate -s 128M "$T/src.img"
	sgdisk -n 1:2048:+16M -t 1:ef00 -n 2:0:0 -t 2:8300 "$T/src.img" >/dev/null
	src=$(loop_attach "$T/src.img")
	mkfs.vfat "${src}p1" >/dev/null 2>&1; mkfs.ext4 -q -L root "${src}p2"
	mkdir -p "$T/m" && mount "${src}p2" "$T/m" && cp -r /usr/share/doc/bash "$T/m/" &&
		(cd "$T/m" && find . -type f | sort | xargs sha256sum) >"$T/sums"; umount "$T/m"
	"$MULETTO" capture "$src" "$R/tmp/t/repo" --name m --progress none >/dev/null 2>&1
	truncate -s 80M "$T/dst.img"; dst=$(loop_attach "$T/dst.img")
	chroot "$R" /usr/bin/muletto restore /tmp/t/repo m --to "$dst" --yes --progress none >"$T/r.out" 2>&1
	rc=$?
	partx -u "$dst" 2>/dev/null || partx -a "$dst" 2>/dev/null
	mount -o ro "${dst}p2" "$T/m" && (cd "$T/m" && sha256sum -c --quiet "$T/sums") >/dev/null 2>&1; ok=$?
	umount "$T/m" 2>/dev/null
	[ $rc = 0 ] && [ $ok = 0 ] && grep -q 'partition 2: shrink, clean' "$T/r.out" &&
		pass "inside the initramfs tree, a 128 MiB image restores onto an 80 MiB disk: root shrunk, files equal" ||
		fail "a layout restore inside the initramfs tree" "rc $rc files $ok: $(cat "$T/r.out")"
fi

# make iso SSH_KEYS=FILE with no public key in FILE: refused before anything is built
echo "not a key" >"$T/keys"
out=$(cd "$MULETTO_TOP" && INITRAMFS_ROOT=$T/never SSH_KEYS=$T/keys scripts/mkinitramfs.sh 2>&1); rc=$?
[ $rc != 0 ] && grep -q "SSH_KEYS=$T/keys holds no public key" <<<"$out" && [ ! -e "$T/never" ] &&
	pass "SSH_KEYS without a public key is refused, nothing built" ||
	fail "SSH_KEYS without a public key is refused" "rc $rc: $out"
