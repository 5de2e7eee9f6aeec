# End-to-end helpers: boot the ISO (or PXE tree) in QEMU (TCG), restore from
# the host over HTTP, compare the disk. Source after lib.sh and lib_disk.sh.
ISO=$MULETTO_TOP/build/muletto.iso
OVMF=/usr/share/OVMF
E2E_TIMEOUT=${E2E_TIMEOUT:-240}

e2e_need() {
	[ -f "$ISO" ] || { skip "$1" "build/muletto.iso is missing: run make iso"; exit 0; }
	command -v qemu-system-x86_64 >/dev/null || { skip "$1" "qemu-system-x86_64 is missing"; exit 0; }
}

# A repository with the bootable sample machine, served on 127.0.0.1; sets
# SAMPLE, REPO_PORT.
e2e_repo() {
	SAMPLE=$T/sample.img
	e2e_bootable_sample "$SAMPLE" "${1:-96}"
	"$MULETTO" capture "$SAMPLE" "$T/repo" --name sample >/dev/null 2>&1 || return 1
	# E2E_NGINX_EXTRA: inside nginx's server block (e.g. limit_rate, a slow link)
	REPO_PORT=$(nginx_start "$T" "${E2E_NGINX_EXTRA:-}")
}

# The sample machine for BIOS firmware: an MBR disk whose active FAT partition
# holds SYSLINUX, and the kernel and initramfs of the UEFI sample FROM (so it
# prints the same marker).
e2e_bios_sample() { # file size_mib from-uefi-sample
	local img=$1 x=$T/bios.$RANDOM
	mkdir -p "$x"
	MTOOLS_SKIP_CHECK=1 mcopy -i "$3@@1M" ::/sample/vmlinuz ::/sample/initrd.img "$x/" || return 1
	printf 'DEFAULT s\nLABEL s\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.img console=ttyS0,115200 panic=5\n' >"$x/syslinux.cfg"
	rm -f "$img" && truncate -s "${2}M" "$img"
	printf 'label: dos\n2048,,6,*\n' | sfdisk -q "$img"
	mkfs.vfat -F 16 -n SAMPLE --offset 2048 "$img" $(($2 * 1024 - 1024)) >/dev/null 2>&1
	MTOOLS_SKIP_CHECK=1 mcopy -i "$img@@1M" "$x/vmlinuz" "$x/initrd.img" "$x/syslinux.cfg" ::/ &&
		syslinux --offset $((2048 * 512)) --install "$img" &&
		dd if=/usr/lib/syslinux/mbr/mbr.bin of="$img" bs=440 count=1 conv=notrunc status=none
	local r=$?
	rm -rf "$x"
	return $r
}

# st JQ: that field of muletto status --json (the VMs of muletto run)
st() { "$MULETTO" status --json | jq -r "$1"; }
wait_for() { # SECONDS CONDITION...: until the command succeeds
	local n=$(($1 * 10))
	shift
	for _ in $(seq $n); do "$@" && return 0; sleep 0.1; done
	return 1
}

# A small vfat disk labelled MULETTO holding muletto.conf with the given lines.
e2e_config_disk() { # file lines...
	local img=$1; shift
	rm -f "$img"
	mkfs.vfat -C -n MULETTO "$img" 8192 >/dev/null
	printf '%s\n' "$@" >"$T/muletto.conf"
	MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$T/muletto.conf" ::/muletto.conf
}

# QEMU's options are collected in the array Q by the e2e_* functions below.
Q=()

# The guest reaches the host's nginx as 10.0.2.100:8080, one socat per connection.
# OPTIONS: more of the user network's options (",hostfwd=tcp:127.0.0.1:P-:22").
e2e_net() { # [options]
	Q+=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:socat STDIO TCP:127.0.0.1:$REPO_PORT${1:-}"
	    -device virtio-net-pci,netdev=n0)
}

# Firmware options: bios | uefi | secureboot
e2e_firmware() {
	case "$1" in
	bios) Q+=(-machine pc) ;;
	uefi)
		cp "$OVMF/OVMF_VARS_4M.fd" "$T/vars.fd"
		Q+=(-machine q35 -drive "if=pflash,format=raw,readonly=on,file=$OVMF/OVMF_CODE_4M.fd"
		    -drive "if=pflash,format=raw,file=$T/vars.fd") ;;
	secureboot)
		cp "$OVMF/OVMF_VARS_4M.ms.fd" "$T/vars.fd"
		Q+=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on
		    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF/OVMF_CODE_4M.secboot.fd"
		    -drive "if=pflash,format=raw,unit=1,file=$T/vars.fd") ;;
	esac
}

# A target disk on a given controller: virtio | ahci | nvme
e2e_target() { # file controller
	Q+=(-drive "file=$1,if=none,id=t0,format=raw")
	case "$2" in
	virtio) Q+=(-device virtio-blk-pci,drive=t0) ;;
	ahci) Q+=(-device ahci,id=ahci0 -device ide-hd,drive=t0,bus=ahci0.0) ;;
	nvme) Q+=(-device nvme,drive=t0,serial=MULETTO0001) ;;
	esac
}

# Boot media: cd | usb
e2e_media() { # kind
	case "$1" in
	cd) Q+=(-drive "file=$ISO,if=none,id=cd0,media=cdrom,readonly=on" -device ide-cd,drive=cd0,bootindex=0) ;;
	usb) cp "$ISO" "$T/usb.img"
	     Q+=(-device qemu-xhci -drive "file=$T/usb.img,if=none,id=usb0,format=raw"
		 -device usb-storage,drive=usb0,bootindex=0) ;;
	esac
}

# qemu_run NAME LOG : runs Q until the guest powers off (or times out), then
# empties Q (E2E_STOP: see below). E2E_SECONDS: power-on to power-off; E2E_TOOL_SECONDS: power-on to
# the moment the tool starts (unattended) or offers its prompt (interactive).
qemu_run() {
	local name=$1 log=$2 t0 pid rc
	t0=$(date +%s.%N)
	: >"$log"
	timeout "$E2E_TIMEOUT" qemu-system-x86_64 -accel tcg -m "${E2E_MEM:-1024}" -smp 2 -nographic -no-reboot \
		-serial "file:$log" -monitor none "${Q[@]}" >/dev/null 2>"$log.err" &
	pid=$!
	E2E_TOOL_SECONDS=""
	while kill -0 $pid 2>/dev/null; do
		if [ -z "$E2E_TOOL_SECONDS" ] &&
			grep -qa -e 'muletto: unattended restore of' -e 'muletto: restore with' "$log"; then
			E2E_TOOL_SECONDS=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f')
		fi
		# E2E_STOP: text that says the guest has got as far as it will (a
		# firmware's shell after no boot loader was found): stop it there
		if [ -n "${E2E_STOP:-}" ] && grep -qa -e "$E2E_STOP" "$log"; then
			kill "$pid" 2>/dev/null
			echo "qemu: $name stopped at '$E2E_STOP'" >>"$log.err"
		fi
		sleep 0.5
	done
	wait $pid
	rc=$?
	Q=()
	E2E_SECONDS=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f')
	[ $rc = 124 ] && echo "qemu: $name timed out after ${E2E_TIMEOUT}s" >>"$log.err"
	return $rc
}

# A small bootable machine: GPT, an ESP with Debian's shim and GRUB, a kernel
# and a tiny initramfs that prints a marker and powers off; an ext4 root with
# files. UEFI boots it (Secure Boot too).
SAMPLE_MARKER="MULETTO-SAMPLE-MACHINE-BOOTED"
SAMPLE_GUEST_TEXT="GUEST-WROTE-THIS-BEFORE-ITS-MARKER"
e2e_bootable_sample() { # file size_mib
	local img=$1 size=$2 x=$T/bootable.$RANDOM deb
	local esp_mib=40 root_stage=$x/root
	mkdir -p "$x/ext" "$x/esp/EFI/BOOT" "$x/esp/boot/grub" "$x/esp/.disk" "$x/initrd/bin" "$root_stage"
	for p in shim-signed grub-efi-amd64-signed busybox-static; do
		deb=$(ls "$MULETTO_TOP"/build/debs/${p}_*.deb | head -1)
		dpkg-deb -x "$deb" "$x/ext"
	done
	cp "$x/ext/usr/lib/shim/shimx64.efi.signed" "$x/esp/EFI/BOOT/BOOTX64.EFI"
	cp "$x/ext/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$x/esp/EFI/BOOT/grubx64.efi"
	echo "sample machine" >"$x/esp/.disk/info"
	cat >"$x/esp/boot/grub/grub.cfg" <<CFG
set timeout=0
menuentry "sample machine" {
	linux /sample/vmlinuz ${SAMPLE_KERNEL_ARGS:-console=tty0 console=ttyS0,115200} panic=5
	initrd /sample/initrd.img
}
CFG
	mkdir -p "$x/esp/sample"
	cp "$MULETTO_TOP/build/boot/vmlinuz" "$x/esp/sample/vmlinuz"
	cp "$x/ext/bin/busybox" "$x/initrd/bin/busybox"
	# SAMPLE_KERNEL_ARGS: its consoles (a quiet serial one is much faster emulated twice)
	# SAMPLE_GUEST_WRITE=SECTOR: the guest writes SAMPLE_GUEST_TEXT at that
	# sector of its first virtio disk, and flushes it, before the marker.
	# SAMPLE_GUEST_WRITER=MIB:COUNT (for make bench): after its marker a guest
	# that has a second virtio disk takes its next step from that disk's first
	# line and keeps at it until QEMU is stopped: "write" writes steadily
	# (256 KiB of random bytes at a random place in COUNT MiB from MiB MIB of
	# its first disk, flushed, about ten times a second, printing "W" each
	# time); "idle" does nothing. Without a second disk it powers off as usual.
	local disk=${SAMPLE_GUEST_WRITE:-}${SAMPLE_GUEST_WRITER:-}
	{
		printf '#!/bin/busybox sh\n'
		if [ -n "$disk" ]; then
			printf '/bin/busybox mount -t devtmpfs dev /dev\n'
			for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
				printf '/bin/busybox insmod /%s.ko\n' $m
			done
			printf 'i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do /bin/busybox sleep 0.1; i=$((i + 1)); done\n'
		fi
		if [ -n "${SAMPLE_GUEST_WRITE:-}" ]; then
			# what an earlier boot left there, then this boot's write
			printf 'echo "GUEST-SAW: $(/bin/busybox dd if=/dev/vda bs=512 skip=%s count=1 2>/dev/null | /bin/busybox head -c 40 | /bin/busybox tr -cd "A-Z0-9-")"\n' \
				"$SAMPLE_GUEST_WRITE"
			printf '/bin/busybox printf %s | /bin/busybox dd of=/dev/vda bs=512 seek=%s conv=notrunc,fsync\n' \
				"$SAMPLE_GUEST_TEXT" "$SAMPLE_GUEST_WRITE"
			# SAMPLE_GUEST_LOOP=N: N seconds of writing a count one sector further and
			# reading it back past the page cache, a line each
			[ -n "${SAMPLE_GUEST_LOOP:-}" ] && printf '%s\n' \
				'/bin/busybox mkdir -p /proc; /bin/busybox mount -t proc proc /proc' \
				"i=0; s=\$(( $SAMPLE_GUEST_WRITE + 1 ))" \
				"while [ \$i -lt $SAMPLE_GUEST_LOOP ]; do" \
				'  v=$(/bin/busybox printf GUEST-COUNT-%05d $i)' \
				'  /bin/busybox printf $v | /bin/busybox dd of=/dev/vda bs=512 seek=$s conv=notrunc,fsync 2>/dev/null' \
				'  echo 3 >/proc/sys/vm/drop_caches' \
				'  g=$(/bin/busybox dd if=/dev/vda bs=512 skip=$s count=1 2>/dev/null | /bin/busybox head -c 17)' \
				'  [ "$g" = "$v" ] && echo "GUEST-CHECK $i ok" || echo "GUEST-CHECK $i BAD $g"' \
				'  /bin/busybox sleep 1; i=$((i + 1))' \
				'done'
		fi
		# SAMPLE_GUEST_IP=ADDR/LEN: its first virtio network card up with that
		# static address (it answers pings), said on the console with its MAC
		if [ -n "${SAMPLE_GUEST_IP:-}" ]; then
			printf '/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null\n'
			printf '/bin/busybox mkdir -p /sys; /bin/busybox mount -t sysfs sys /sys\n'
			for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net; do
				printf '/bin/busybox insmod /%s.ko 2>/dev/null\n' $m
			done
			printf 'i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do /bin/busybox sleep 0.1; i=$((i + 1)); done\n'
			printf '/bin/busybox ip link set lo up; /bin/busybox ip link set eth0 up\n'
			printf '/bin/busybox ip addr add %s dev eth0\n' "$SAMPLE_GUEST_IP"
			printf 'echo "GUEST-NET-UP %s $(/bin/busybox cat /sys/class/net/eth0/address)"\n' "$SAMPLE_GUEST_IP"
		fi
		printf '/bin/busybox echo %s\n' "$SAMPLE_MARKER"
		if [ -n "${SAMPLE_GUEST_WRITER:-}" ]; then
			printf 'i=0; while [ ! -b /dev/vdb ] && [ $i -lt 10 ]; do /bin/busybox sleep 0.1; i=$((i + 1)); done\n'
			printf 'mode=$(/bin/busybox head -n 1 /dev/vdb 2>/dev/null)\n'
			printf 'from=$((%s * 4)); n=$((%s * 4))\n' "${SAMPLE_GUEST_WRITER%%:*}" "${SAMPLE_GUEST_WRITER#*:}"
			printf 'while [ "$mode" = write ]; do\n'
			printf '\t/bin/busybox dd if=/dev/urandom of=/dev/vda bs=256k count=1 seek=$((from + RANDOM %% n)) conv=notrunc,fsync 2>/dev/null\n'
			printf '\t/bin/busybox echo W; /bin/busybox sleep 0.1\ndone\n'
			printf 'while [ "$mode" = idle ]; do /bin/busybox sleep 3600; done\n'
		fi
		# SAMPLE_STAY_SECONDS: up that long after the marker, as a real machine stays up
		printf '/bin/busybox sleep %s\n/bin/busybox sync\n/bin/busybox poweroff -f\n' "${SAMPLE_STAY_SECONDS:-0}"
	} >"$x/initrd/init"
	chmod 755 "$x/initrd/init"
	[ -n "$disk${SAMPLE_GUEST_IP:-}" ] && find "$MULETTO_TOP/build/kernel/lib/modules" \
		\( -name 'virtio*.ko' -path '*drivers/virtio/*' -o -name virtio_blk.ko -o -name virtio_net.ko \
		-o -name failover.ko -o -name net_failover.ko \) -exec cp {} "$x/initrd/" \;
	(cd "$x/initrd" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$x/esp/sample/initrd.img"
	rm -f "$img" && truncate -s "${size}M" "$img"
	sgdisk -n 1:2048:+${esp_mib}M -t 1:ef00 -c 1:ESP -n 2:0:-1M -t 2:8300 -c 2:root "$img" >/dev/null
	# -s 1: on a disk over ~260 MiB mkfs.fat picks 4 KiB clusters, too few for
	# FAT32 in 40 MiB, and mtools then cannot add a file to it
	mkfs.vfat -F 32 -s 1 -n ESP --offset 2048 "$img" $((esp_mib * 1024)) >/dev/null 2>&1
	MTOOLS_SKIP_CHECK=1 mcopy -s -i "$img@@1M" "$x/esp/EFI" "$x/esp/boot" "$x/esp/sample" "$x/esp/.disk" ::/
	cp -r /usr/share/doc/bash "$root_stage/"
	head -c $((${SAMPLE_DATA_MIB:-2} * 1000000)) /dev/urandom >"$root_stage/data.bin"
	local p2_start p2_sectors
	p2_start=$(partx -g -o START -n 2 "$img" | tr -d ' ')
	p2_sectors=$(partx -g -o SECTORS -n 2 "$img" | tr -d ' ')
	mkfs.ext4 -q -F -b 4096 -L root -d "$root_stage" -E offset=$((p2_start * 512)) "$img" $((p2_sectors / 2))k
	rm -rf "$x"
}

# vnc_security_types HOST PORT: the RFB version and the security types a VNC
# server offers a client that speaks RFB 3.8 ("RFB 003.008 2": VNC
# authentication; 1: none), waiting up to 10 s for it to listen.
vnc_security_types() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
def exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("the server closed the connection")
        b += c
    return b
for _ in range(100):
    try:
        s = socket.create_connection((host, port), timeout=10)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("nothing listens on %s:%d" % (host, port))
version = exact(s, 12)
if not version.startswith(b"RFB "):
    sys.exit("not RFB: %r" % version)
s.sendall(b"RFB 003.008\n")
n = exact(s, 1)[0]
print(version.decode().strip(), *exact(s, n))
PY
}

# vnc_free_display: a VNC display number (50-99) whose port on 127.0.0.1 is free now.
vnc_free_display() {
	python3 - <<'PY'
import socket
for d in range(50, 100):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 5900 + d))
        print(d)
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}

# A small guest of the ISO's kernel (build/boot/vmlinuz), for what this host's
# kernel cannot do (device-mapper, md): its root GUEST_ROOT holds busybox,
# muletto (the plain build: the sanitised one is too slow emulated), the
# programs guest_bin copies with their libraries and the modules guest_modules
# picks; guest_initrd packs it with an init that loads the modules, waits for
# a disk, runs a script and powers off.
GUEST_KMOD=$(ls -d "$MULETTO_TOP"/build/kernel/lib/modules/* 2>/dev/null | head -1)
guest_need() { # name: skips the test when the kernel or the tool is not built
	[ -f "$MULETTO_TOP/build/boot/vmlinuz" ] && [ -f "$GUEST_KMOD/modules.dep" ] ||
		{ skip "$1" "build/boot/vmlinuz or build/kernel is missing: run make iso"; exit 0; }
	[ -x "$MULETTO_TOP/build/muletto" ] || { skip "$1" "build/muletto is missing: run make"; exit 0; }
	command -v qemu-system-x86_64 >/dev/null || { skip "$1" "qemu-system-x86_64 is missing"; exit 0; }
}
guest_root() {
	GUEST_ROOT=$T/root
	local R=$GUEST_ROOT
	mkdir -p "$R"/bin "$R"/sbin "$R"/usr/bin "$R"/usr/sbin "$R"/etc/lvm "$R"/mod "$R"/dev "$R"/proc \
		"$R"/sys "$R"/run "$R"/tmp "$R"/mnt "$R"/lib64
	dpkg-deb -x "$(ls "$MULETTO_TOP"/build/debs/busybox-static_*.deb | head -1)" "$T/bb"
	cp "$T/bb/bin/busybox" "$R/bin/busybox"
	for a in $("$R/bin/busybox" --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
	guest_bin "$MULETTO_TOP/build/muletto" /usr/bin/muletto
	[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
	cp /etc/mke2fs.conf "$R/etc/"
	# no udev in the guest: lvm2 makes the device nodes itself and does not wait
	cat >"$R/etc/lvm/lvm.conf" <<'CONF'
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
CONF
}
guest_bin() { # FILE DEST: a program and the libraries it was linked with (as mkinitramfs.sh)
	local R=$GUEST_ROOT
	rm -f "$R/bin/$(basename "$2")" # a busybox applet of the same name gives way
	cp -L "$1" "$R$2"
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		[ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"; }
	done
}
guest_modules() { # MODULE.ko paths under the kernel's folder: with their dependencies, in load order
	local m i=10
	for m in $(for m in "$@"; do _guest_mod_order "$m"; done | awk '!seen[$0]++'); do
		[ -f "$GUEST_KMOD/$m" ] || continue # built in
		cp "$GUEST_KMOD/$m" "$GUEST_ROOT/mod/$i-$(basename "$m")"
		i=$((i + 1))
	done
}
_guest_mod_order() {
	local d
	for d in $(sed -n "s|^$1: *||p" "$GUEST_KMOD/modules.dep"); do _guest_mod_order "$d"; done
	echo "$1"
}
guest_initrd() { # SCRIPT DISK DONE-TEXT OUT: SCRIPT run once /dev/DISK is there, then DONE-TEXT
	local R=$GUEST_ROOT
	cat >"$R/init" <<INIT
#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
for m in /mod/*.ko; do insmod "\$m" || echo "FAIL: insmod \$m"; done
i=0; while [ ! -b /dev/$2 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
sh /guest.sh 2>&1
echo "guest done at \$(cut -d" " -f1 /proc/uptime) s"
echo $3
poweroff -f
INIT
	chmod 755 "$R/init"
	cat "$1" >"$R/guest.sh"
	(cd "$R" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$4"
}
