#!/bin/sh
# Builds build/pxe/: everything a TFTP/HTTP boot server needs.
#   BIOS:  pxelinux.0 (+ pxelinux.cfg/default)
#   UEFI:  bootnetx64.efi (Debian's signed shim) + grubx64.efi (signed netboot GRUB,
#          reads grub/grub.cfg), Secure Boot included
#   iPXE:  muletto.ipxe, loads the kernel and the large initramfs over HTTP
# Needs build/boot/{vmlinuz,initrd.img} (scripts/mkinitramfs.sh).
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
D=$TOP/build/debs
P=$TOP/build/pxe
VERSION=$(sed -n 's/^#define MULETTO_VERSION "\(.*\)"/\1/p' include/muletto/core/util.h)

deb() { v=$(sed -n "s/^$1=//p" iso/packages.lock)
	for f in "$D/$1"_*.deb; do [ "$(dpkg-deb -f "$f" Version)" = "$v" ] && { echo "$f"; return; }; done
	echo "mkpxe: $1 $v missing from $D: run scripts/fetch-debs.sh" >&2; exit 1; }

rm -rf "$P" && mkdir -p "$P/pxelinux.cfg" "$P/grub"
x=$(mktemp -d)
for p in shim-signed grub-efi-amd64-signed pxelinux syslinux-common; do dpkg-deb -x "$(deb "$p")" "$x"; done
cp build/boot/vmlinuz build/boot/initrd.img "$P/"

cp "$x/usr/lib/PXELINUX/pxelinux.0" "$P/"
for m in ldlinux.c32 menu.c32 libutil.c32 libcom32.c32; do cp "$x/usr/lib/syslinux/modules/bios/$m" "$P/"; done
sed -e "s/@VERSION@/$VERSION/" -e 's|/live/|/|g' iso/isolinux.cfg >"$P/pxelinux.cfg/default"

cp "$x/usr/lib/shim/shimx64.efi.signed" "$P/bootnetx64.efi"
cp "$x/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" "$P/grubx64.efi"
sed -e "s/@VERSION@/$VERSION/" -e 's|/live/|/|g' iso/grub.cfg >"$P/grub/grub.cfg"
rm -rf "$x"

cat >"$P/muletto.ipxe" <<IPXE
#!ipxe
# iPXE: the kernel and initramfs over HTTP from the server this script came from
# (or set base to another URL before chaining it).
isset \${base} || set base \${cwduri}
kernel \${base}vmlinuz console=ttyS0,115200 console=tty0 quiet \${muletto_args} || goto failed
initrd \${base}initrd.img || goto failed
boot
:failed
echo muletto: cannot load the kernel or the initramfs from \${base}
shell
IPXE
cp iso/dnsmasq.conf.example "$P/"
echo "pxe: $P ($(du -sh "$P" | cut -f1))"
