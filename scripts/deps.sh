#!/bin/sh
# Installs the Debian packages a make target needs, only when missing.
# Usage: scripts/deps.sh build|check|bench|fuzz|iso|e2e ...   (idempotent, quiet when done)
# check also installs the tests' S3 server (tests/s3/package.json) from npm into
# $MULETTO_NODE (default /var/cache/muletto/node).
set -eu

pkgs_build="build-essential pkg-config libblkid-dev libfdisk-dev libfuse3-dev libparted-dev libcurl4-openssl-dev
libzstd-dev libssl-dev libjansson-dev liblzma-dev zlib1g-dev libhivex-dev libnewt-dev libslang2-dev"
pkgs_check="$pkgs_build nginx-light casync zstd curl gdisk dosfstools e2fsprogs mtools
util-linux fdisk jq python3 bc time ntfs-3g xfsprogs xfsdump btrfs-progs mdadm fuse3 openssh-server openssh-client strace pv
chromium python3-aiosmtpd
libnbd-bin python3-libnbd qemu-utils libhivex-bin libwin-hivex-perl tmux"
# iproute2 (ip netns, tc), QEMU and OVMF: tests/bench_serve.sh's links and guest
pkgs_bench="$pkgs_check bmap-tools partclone hyperfine time iproute2 qemu-system-x86 ovmf cpio"
pkgs_fuzz="clang libclang-rt-14-dev"
# qemu-system-x86 and the file system tools (e2fsprogs ... lvm2): the libraries of
# the programs the initramfs carries (the programs come from the pinned packages in
# iso/packages.lock; their libraries from this host, as the tool's)
pkgs_iso="$pkgs_build kmod cpio xorriso mtools dosfstools zstd debian-archive-keyring
qemu-system-x86 e2fsprogs ntfs-3g xfsprogs xfsdump btrfs-progs lvm2 mdadm efibootmgr dropbear-bin"
# lvm2: its tools go into the guest of tests/e2e/snapshot.sh (this host's kernel has no
# device-mapper); syslinux: the BIOS sample machine of tests/e2e/run_vm.sh; mmdebstrap:
# the Debian sample machine of tests/e2e/fixup_linux.sh, initramfs-tools-core's
# lsinitramfs to look into its initramfs
pkgs_e2e="$pkgs_check $pkgs_iso qemu-system-x86 ovmf socat samba nfs-ganesha nfs-ganesha-vfs rpcbind
lvm2 syslinux syslinux-common mmdebstrap initramfs-tools-core"

want=""
for profile in "$@"; do
	case "$profile" in
	build) want="$want $pkgs_build" ;;
	check) want="$want $pkgs_check" ;;
	bench) want="$want $pkgs_bench" ;;
	fuzz) want="$want $pkgs_fuzz" ;;
	iso) want="$want $pkgs_iso" ;;
	e2e) want="$want $pkgs_e2e" ;;
	*) echo "deps.sh: unknown profile '$profile' (use build, check, bench, fuzz, iso or e2e)" >&2; exit 2 ;;
	esac
done

# The S3 server of the tests: s3rver and AWS's SigV4 signer, from npm.
node_deps() {
	dir=${MULETTO_NODE:-/var/cache/muletto/node}
	src=$(cd "$(dirname "$0")/.." && pwd)/tests/s3/package.json
	if [ -f "$dir/.installed" ] && cmp -s "$src" "$dir/package.json"; then
		return 0
	fi
	if ! command -v npm >/dev/null; then
		echo "deps.sh: installing nodejs npm" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
	fi
	echo "deps.sh: installing the test S3 server (npm) into $dir" >&2
	mkdir -p "$dir"
	cp "$src" "$dir/package.json"
	(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null) &&
		touch "$dir/.installed"
}

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
case " $* " in *" check "*) want_node=1 ;; *) want_node=0 ;; esac
if [ -z "$missing" ]; then
	[ "$want_node" = 1 ] && node_deps
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list makes apt miss packages: refresh once when needed.
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian's server packages start their services (nginx on 80, sshd on 22, Samba,
# NFS); the tests start their own, on 127.0.0.1 only.
for svc in nginx ssh smbd nmbd samba-ad-dc nfs-ganesha rpcbind rpcbind.socket; do
	case "$missing" in *nginx*|*openssh-server*|*samba*|*ganesha*|*rpcbind*) ;; *) continue ;; esac
	systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true
done
[ "$want_node" = 1 ] && node_deps
exit 0
