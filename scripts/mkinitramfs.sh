#!/bin/sh
# Builds build/boot/initrd.img and build/boot/vmlinuz from Debian's packages
# (iso/packages.lock) and build/muletto.
#   scripts/mkinitramfs.sh [CONFIG-FILE]   CONFIG-FILE is baked in as /etc/muletto.conf
#   TRUST=PUBKEY (environment)             baked in as /etc/muletto/trust.pub: the
#                                          tool then restores only images signed by it
#   SSH_KEYS=FILE (environment)            public keys baked in as the boot
#                                          environment's SSH authorized_keys
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
D=$TOP/build/debs
K=$TOP/build/kernel
R=${INITRAMFS_ROOT:-$TOP/build/initramfs-root}
OUT=${INITRAMFS_OUT:-$TOP/build/boot}
CONFIG=${1:-}
TRUST=${TRUST:-}
SSH_KEYS=${SSH_KEYS:-}
if [ -n "$SSH_KEYS" ] && ! grep -qE '^(ssh-|ecdsa-|sk-)' "$SSH_KEYS" 2>/dev/null; then
	echo "mkinitramfs: SSH_KEYS=$SSH_KEYS holds no public key (lines like 'ssh-ed25519 AAAA... you@laptop', e.g. ~/.ssh/id_ed25519.pub)" >&2
	exit 1
fi
if [ -n "$TRUST" ] && ! { head -c 64 "$TRUST" | grep -q "BEGIN PUBLIC KEY" &&
	openssl pkey -pubin -in "$TRUST" -noout 2>/dev/null; }; then
	echo "mkinitramfs: TRUST=$TRUST is not a public key: make one with 'muletto keygen FILE' and give FILE.pub" >&2
	exit 1
fi

lock_version() { sed -n "s/^$1=//p" iso/packages.lock; }
deb() { # package -> its file in the cache
	v=$(lock_version "$1")
	for f in "$D/$1"_*.deb; do
		[ "$(dpkg-deb -f "$f" Version)" = "$v" ] && { echo "$f"; return 0; }
	done
	echo "mkinitramfs: $1 $v is not in $D: run scripts/fetch-debs.sh" >&2
	exit 1
}

kpkg=$(sed -n 's/^\(linux-image-[0-9][^=]*\)=.*/\1/p' iso/packages.lock)
kver=${kpkg#linux-image-}

# the kernel and every module, once, with their dependencies computed
if [ ! -f "$K/lib/modules/$kver/modules.dep" ]; then
	rm -rf "$K" && mkdir -p "$K"
	dpkg-deb -x "$(deb "$kpkg")" "$K"
	depmod -b "$K" "$kver"
fi

rm -rf "$R"
mkdir -p "$R"/bin "$R"/sbin "$R"/etc/ssl/certs "$R"/lib/modules/"$kver" "$R"/lib/firmware \
	"$R"/proc "$R"/sys "$R"/dev "$R"/run "$R"/tmp "$R"/mnt "$R"/root "$R"/usr/bin "$R"/usr/sbin

# busybox and its applets
tmp=$(mktemp -d)
dpkg-deb -x "$(deb busybox-static)" "$tmp"
cp "$tmp/bin/busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
# where the kernel looks for modprobe (/proc/sys/kernel/modprobe) to load a
# module on demand: a file system at mount(2), a driver a device asks for
ln -s ../bin/busybox "$R/sbin/modprobe"
rm -rf "$tmp"

# modules: the folders and files named in initramfs/modules.list, and what they need
M=$K/lib/modules/$kver
grep -v '^#' initramfs/modules.list | sed '/^$/d' | while read -r p; do
	if [ -d "$M/kernel/$p" ]; then find "$M/kernel/$p" -name '*.ko*' | sed "s|^$M/||"
	elif [ -f "$M/kernel/$p" ]; then echo "kernel/$p"
	fi
done | sort -u >"$R/.wanted"
awk -F': ' 'NR == FNR { want[$1] = 1; next }
	{ deps[$1] = $2 }
	END {
		n = 0; for (m in want) queue[n++] = m
		for (i = 0; i < n; i++) {
			m = queue[i]; if (seen[m]++) continue; print m
			k = split(deps[m], d, " ")
			for (j = 1; j <= k; j++) if (!seen[d[j]]) queue[n++] = d[j]
		}
	}' "$R/.wanted" "$M/modules.dep" | while read -r m; do
	mkdir -p "$R/lib/modules/$kver/$(dirname "$m")"
	cp "$M/$m" "$R/lib/modules/$kver/$m"
done
rm -f "$R/.wanted"
cp "$M"/modules.builtin "$M"/modules.builtin.modinfo "$M"/modules.order "$R/lib/modules/$kver/"
depmod -b "$R" "$kver"

# firmware for network and storage cards (not GPUs: this system has no graphics)
tmp=$(mktemp -d)
for p in firmware-linux-free firmware-misc-nonfree firmware-realtek firmware-bnx2 firmware-bnx2x; do
	dpkg-deb -x "$(deb "$p")" "$tmp"
done
for f in bnx2 bnx2x rtl_nic intel/ice qed mellanox tigon cxgb4 myricom qlogic e100 3com \
	acenic adaptec; do
	[ -e "$tmp/lib/firmware/$f" ] || continue
	mkdir -p "$R/lib/firmware/$(dirname "$f")"
	cp -a "$tmp/lib/firmware/$f" "$R/lib/firmware/$f"
done
rm -rf "$tmp"

# CA certificates, as one bundle where OpenSSL and libcurl look for it
tmp=$(mktemp -d)
dpkg-deb -x "$(deb ca-certificates)" "$tmp"
find "$tmp/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat >"$R/etc/ssl/certs/ca-certificates.crt"
rm -rf "$tmp"

# copy_libs FILE: the shared libraries FILE (a program or a module) needs, as
# the build host resolves them (ldd), at the same paths; a missing one stops
# the build rather than a program in the field
copy_libs() {
	if ldd "$1" | grep -q 'not found'; then
		echo "mkinitramfs: $1 needs libraries this host lacks:$(ldd "$1" | awk '/not found/ { printf " %s", $1 }') (scripts/deps.sh iso installs them)" >&2
		exit 1
	fi
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		[ -e "$R$lib" ] && continue
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
}

# the tool and the libraries it was linked with
cp build/muletto "$R/usr/bin/muletto"
copy_libs build/muletto
# the screens (muletto tui, libnewt over libslang, both among the tool's
# libraries above) read the console's capabilities from terminfo: tty1 is
# linux, a serial console vt100 (or whatever TERM= says, for these few)
for f in l/linux v/vt100 v/vt102 v/vt220 x/xterm x/xterm-256color s/screen d/dumb; do
	src=/lib/terminfo/$f
	[ -e "$src" ] || src=/usr/share/terminfo/$f
	[ -e "$src" ] && install -D -m 0644 "$src" "$R/lib/terminfo/$f"
done
# the dynamic linker is looked up as /lib64/ld-linux-x86-64.so.2
[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || { mkdir -p "$R/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"; }
# libcurl's own plugins and NSS for name lookups
for f in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 \
	/lib/x86_64-linux-gnu/libresolv.so.2; do
	[ -e "$f" ] && mkdir -p "$R$(dirname "$f")" && cp -L "$f" "$R$f"
done

# mtools names FAT files in a DOS code page (850, and 437 for some disks)
# through glibc's iconv, whose code pages are modules: without them every
# mtools command stops at "Error converting to codepage 850"
g=/usr/lib/x86_64-linux-gnu/gconv
mkdir -p "$R$g"
cp -L "$g/gconv-modules" "$g/gconv-modules.cache" "$g/IBM850.so" "$g/IBM437.so" "$R$g/"
[ -d "$g/gconv-modules.d" ] && cp -rL "$g/gconv-modules.d" "$R$g/"

# QEMU for muletto run: the files initramfs/qemu.list names, from Debian's
# packages, with the libraries of its programs and modules
tmp=$(mktemp -d)
for p in $(grep -v '^#' initramfs/qemu.list | awk 'NF { print $1 }' | sort -u); do
	dpkg-deb -x "$(deb "$p")" "$tmp/$p"
done
grep -v '^#' initramfs/qemu.list | while read -r p f; do
	[ -n "$f" ] || continue
	[ -f "$tmp/$p/$f" ] || { echo "mkinitramfs: $p has no $f (initramfs/qemu.list)" >&2; exit 1; }
	install -D -m "$([ -x "$tmp/$p/$f" ] && echo 0755 || echo 0644)" "$tmp/$p/$f" "$R/$f"
	case "$f" in usr/bin/* | *.so) copy_libs "$tmp/$p/$f" ;; esac
done
rm -rf "$tmp"

# The file system tools of a restore onto another disk (initramfs/tools.list):
# each program from its Debian package, its libraries, and its other names as
# links beside it (lvm, mtools and dosfstools are multi-call programs)
tmp=$(mktemp -d)
for p in $(grep -v '^#' initramfs/tools.list | awk 'NF { print $1 }' | sort -u); do
	dpkg-deb -x "$(deb "$p")" "$tmp/$p"
done
grep -v '^#' initramfs/tools.list | while read -r p f links; do
	[ -n "$f" ] || continue
	[ -f "$tmp/$p/$f" ] || { echo "mkinitramfs: $p has no $f (initramfs/tools.list)" >&2; exit 1; }
	install -D -m 0755 "$tmp/$p/$f" "$R/$f"
	copy_libs "$tmp/$p/$f"
	for l in $links; do ln -sf "$(basename "$f")" "$R/$(dirname "$f")/$l"; done
done
rm -rf "$tmp"

printf 'hosts: files dns\n' >"$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"

install -m 0755 initramfs/init "$R/init"
install -m 0755 initramfs/udhcpc.script "$R/etc/udhcpc.script"
[ -n "$CONFIG" ] && install -m 0600 "$CONFIG" "$R/etc/muletto.conf"
[ -n "$TRUST" ] && install -D -m 0644 "$TRUST" "$R/etc/muletto/trust.pub"
[ -n "$SSH_KEYS" ] && install -D -m 0600 "$SSH_KEYS" "$R/etc/muletto/authorized_keys"

mkdir -p "$OUT"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | zstd -q -"${ZSTD_LEVEL:-19}" -T0 >"$OUT/initrd.img.new"
mv "$OUT/initrd.img.new" "$OUT/initrd.img"
cp "$K/boot/vmlinuz-$kver" "$OUT/vmlinuz"
echo "initramfs: $(du -h "$OUT/initrd.img" | cut -f1) ($(du -sh "$R" | cut -f1) unpacked), kernel $kver"
