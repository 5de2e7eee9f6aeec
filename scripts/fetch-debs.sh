#!/bin/sh
# Fetches the Debian packages listed in iso/packages.lock into build/debs/,
# through an apt configuration of our own (build/apt/), so the host's sources
# stay as they are and non-free-firmware is reachable. With a warm cache it
# needs no network.
#   scripts/fetch-debs.sh                 fetch what the lock names (exact versions)
#   scripts/fetch-debs.sh --update-lock   resolve the newest versions, rewrite the lock
set -eu
cd "$(dirname "$0")/.."
LOCK=iso/packages.lock
A=$PWD/build/apt
D=$PWD/build/debs
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# What the boot media are made of (names; versions live in the lock). The tool's
# own shared libraries come from the build host, which builds it (Debian 12 too);
# so do QEMU's (for muletto run): its binary, firmware and ROMs are pinned here.
WANTED="linux-image-amd64 busybox-static ca-certificates shim-signed grub-efi-amd64-signed
grub-efi-amd64-bin isolinux syslinux-common pxelinux firmware-linux-free
firmware-misc-nonfree firmware-realtek firmware-bnx2 firmware-bnx2x
qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu ovmf
e2fsprogs util-linux dosfstools mtools ntfs-3g xfsprogs xfsdump btrfs-progs lvm2 mdadm
efibootmgr dropbear-bin"

apt_opts() {
	echo "-o Dir::Etc::SourceList=$A/sources.list -o Dir::Etc::SourceParts=/dev/null \
-o Dir::State=$A/state -o Dir::State::status=$A/status -o Dir::Cache=$A/cache \
-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
-o Debug::NoLocking=1 -o APT::Architecture=amd64 -o Acquire::Languages=none -q"
}

apt_setup() {
	mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$D"
	: >"$A/status"
	cat >"$A/sources.list" <<SRC
deb [signed-by=$KEYRING] $MIRROR bookworm main non-free-firmware
deb [signed-by=$KEYRING] $MIRROR bookworm-updates main non-free-firmware
deb [signed-by=$KEYRING] $SECURITY bookworm-security main non-free-firmware
SRC
	# shellcheck disable=SC2046
	apt-get $(apt_opts) update >/dev/null
}

newest() { # package -> candidate version
	apt-cache $(apt_opts) policy "$1" | awk '/Candidate:/ {print $2}'
}

update_lock() {
	apt_setup
	tmp=$(mktemp)
	sed -n '/^#/p' "$LOCK" >"$tmp"
	for p in $WANTED; do
		v=$(newest "$p")
		[ -n "$v" ] && [ "$v" != "(none)" ] || { echo "fetch-debs: no package $p" >&2; exit 1; }
		echo "$p=$v" >>"$tmp"
		# the kernel metapackage names the real, signed image
		if [ "$p" = linux-image-amd64 ]; then
			k=$(apt-cache $(apt_opts) show "$p=$v" | sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1)
			echo "$k=$(newest "$k")" >>"$tmp"
		fi
	done
	mv "$tmp" "$LOCK"
	echo "fetch-debs: $LOCK updated"
}

fetch() {
	missing=""
	for pv in $(grep -v '^#' "$LOCK"); do
		p=${pv%%=*} v=${pv#*=}
		f=$(ls "$D/${p}_"*"_"*.deb 2>/dev/null | while read -r x; do
			[ "$(dpkg-deb -f "$x" Version)" = "$v" ] && echo "$x"; done | head -1)
		[ -n "$f" ] || missing="$missing $pv"
	done
	[ -z "$missing" ] && return 0
	apt_setup
	cd "$D"
	# shellcheck disable=SC2086
	if ! apt-get $(apt_opts) download $missing >/dev/null 2>"$A/download.log"; then
		if [ -n "${moved:-}" ] || ! grep -q 'was not found' "$A/download.log"; then
			echo "fetch-debs: cannot download:$missing" >&2
			sed 's/^/  /' "$A/download.log" >&2
			exit 1
		fi
		# Debian keeps only a release's newest versions (a kernel update
		# removes the last one): the build goes on with the mirror's current
		# versions, and says so; committing the rewritten lock pins them
		echo "fetch-debs: pinned versions have left the mirror:" >&2
		sed -n 's/^E: /  /p' "$A/download.log" >&2
		echo "fetch-debs: moving $LOCK to the mirror's current versions (commit it to pin them)" >&2
		moved=1
		cd "$OLDPWD"
		update_lock
		fetch
	fi
}

case "${1:-}" in
--update-lock) update_lock; fetch ;;
"") fetch ;;
*) echo "usage: scripts/fetch-debs.sh [--update-lock]" >&2; exit 2 ;;
esac
