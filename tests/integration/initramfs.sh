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
	isofs cifs nfs nfsv4 nfsv3 dm-mod nbd loop efivarfs nls_cp437 sd_mod sr_mod; do
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
