#!/bin/sh
# Builds build/muletto.iso: hybrid (CD and USB stick), BIOS through isolinux,
# UEFI and Secure Boot through Debian's signed shim and GRUB.
# Needs build/boot/{vmlinuz,initrd.img} (scripts/mkinitramfs.sh).
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
D=$TOP/build/debs
S=$TOP/build/iso-root
OUT=$TOP/build/muletto.iso
VERSION=$(sed -n 's/^#define MULETTO_VERSION "\(.*\)"/\1/p' include/muletto/core/util.h)

deb() { v=$(sed -n "s/^$1=//p" iso/packages.lock)
	for f in "$D/$1"_*.deb; do [ "$(dpkg-deb -f "$f" Version)" = "$v" ] && { echo "$f"; return; }; done
	echo "mkiso: $1 $v missing from $D: run scripts/fetch-debs.sh" >&2; exit 1; }

rm -rf "$S" && mkdir -p "$S/isolinux" "$S/boot/grub" "$S/live" "$S/.disk"
x=$(mktemp -d)
for p in shim-signed grub-efi-amd64-signed isolinux syslinux-common; do dpkg-deb -x "$(deb "$p")" "$x"; done

cp build/boot/vmlinuz build/boot/initrd.img "$S/live/"
echo "muletto $VERSION" >"$S/.disk/info" # Debian's CD GRUB finds its medium by this file

# BIOS: isolinux and its menu
cp "$x/usr/lib/ISOLINUX/isolinux.bin" "$S/isolinux/"
for m in ldlinux.c32 menu.c32 libutil.c32 libcom32.c32; do
	cp "$x/usr/lib/syslinux/modules/bios/$m" "$S/isolinux/"
done
sed "s/@VERSION@/$VERSION/" iso/isolinux.cfg >"$S/isolinux/isolinux.cfg"

# UEFI: an ESP image with shim as the removable-media loader and GRUB beside it
sed "s/@VERSION@/$VERSION/" iso/grub.cfg >"$S/boot/grub/grub.cfg"
rm -f "$S/boot/grub/efi.img"
mkfs.vfat -C -n MULETTO_EFI "$S/boot/grub/efi.img" 8192 >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$S/boot/grub/efi.img" ::/EFI ::/EFI/BOOT
mcopy -i "$S/boot/grub/efi.img" "$x/usr/lib/shim/shimx64.efi.signed" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$S/boot/grub/efi.img" "$x/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed" ::/EFI/BOOT/grubx64.efi
cp "$x/usr/lib/ISOLINUX/isohdpfx.bin" "$TOP/build/isohdpfx.bin"
rm -rf "$x"

xorriso -as mkisofs -quiet -o "$OUT.new" -V MULETTO_BOOT -r -J -joliet-long \
	-isohybrid-mbr "$TOP/build/isohdpfx.bin" \
	-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot -isohybrid-gpt-basdat \
	"$S" 2>"$TOP/build/xorriso.log" || { cat "$TOP/build/xorriso.log" >&2; exit 1; }
mv "$OUT.new" "$OUT"
echo "iso: $OUT $(du -h "$OUT" | cut -f1)"
