# muletto mount with the boot environment's own kernel and nbd driver (this
# host has none), in one QEMU boot: the guest mounts the sample machine's root
# file system and its ESP from the host's nginx, prints the SHA-256 of every
# file, tries the refusals (a partition that does not exist, swap, a damaged
# file system, a folder in use, a folder muletto did not mount), mounts a disk
# without a partition table whole, runs --foreground, kills a server, unmounts, and
# shows the nbd devices released and the serving processes gone. The host
# compares the sums with the files it put in the sample.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "mount"
e2e_need "mount"
BOOT=$MULETTO_TOP/build/boot
export MULETTO_CONF=$T/none.conf

# The sample machine, and a disk whose partitions cannot be mounted: swap,
# and an ext4 whose group descriptors are overwritten (libblkid still sees
# ext4, the kernel refuses it).
e2e_repo 96 || { fail "mount" "capture of the sample failed"; exit 0; }
junk_image() {
	local img=$1
	truncate -s 16M "$img"
	sgdisk -n 1:2048:+4M -t 1:8200 -c 1:swap -n 2:0:0 -t 2:8300 -c 2:broken "$img" >/dev/null
	truncate -s 4M "$T/p1" && mkswap -q "$T/p1" >/dev/null
	truncate -s $((16 - 5))M "$T/p2" && mkfs.ext4 -q -b 4096 -L broken "$T/p2"
	head -c 4096 /dev/zero | tr '\0' '\377' | dd of="$T/p2" bs=4096 seek=1 conv=notrunc status=none
	dd if="$T/p1" of="$img" bs=1M seek=1 conv=notrunc status=none
	dd if="$T/p2" of="$img" bs=1M seek=5 count=10 conv=notrunc status=none
}
junk_image "$T/junk.img"
"$MULETTO" capture "$T/junk.img" "$T/repo" --name junk >/dev/null 2>&1 || fail "capture of junk"
# and a disk without a partition table: one file system on the whole of it
mkdir -p "$T/plain"
echo "a file system on a whole disk" >"$T/plain/hello.txt"
truncate -s 8M "$T/plain.img" && mkfs.ext4 -q -L plain -d "$T/plain" "$T/plain.img"
"$MULETTO" capture "$T/plain.img" "$T/repo" --name plain >/dev/null 2>&1 || fail "capture of plain"

# What the guest runs (busybox sh); every result on a line with a tag.
cat >"$T/muletto.sh" <<'GUEST'
R=http://10.0.2.100:8080/repo
mkdir -p /mnt/root /mnt/esp /mnt/x
up() { cut -d' ' -f1 /proc/uptime; }
t=$(up); muletto mount $R sample /mnt/root; echo "RC mount-root $? $t $(up)"
t=$(up); muletto mount $R sample --partition 1 /mnt/esp; echo "RC mount-esp $? $t $(up)"
grep ' /mnt/root \| /mnt/esp ' /proc/mounts | sed 's/^/PROCMOUNT /'
sed 's/^/REC0 /' /run/muletto/mounts/nbd0
t=$(up); (cd /mnt/root && find . -type f | sort | xargs sha256sum) | sed 's/^/SUM /'
echo "T sums $t $(up)"
ls /mnt/esp/EFI/BOOT | sed 's/^/ESPLS /'
sha256sum /mnt/esp/EFI/BOOT/BOOTX64.EFI | sed 's/^/ESPSUM /'
touch /mnt/root/new 2>&1 | sed 's/^/WRITE /'
muletto mount $R sample --partition 7 /mnt/x; echo "RC part7 $?"
muletto mount $R sample /mnt/root; echo "RC again $?"
muletto mount $R junk /mnt/x; echo "RC junk $?"
muletto mount $R junk --partition 1 /mnt/x; echo "RC junk-swap $?"
muletto umount /tmp; echo "RC umount-tmp $?"
muletto mount $R plain --partition 1 /mnt/x; echo "RC plain-part $?"
muletto mount $R plain /mnt/x; echo "RC plain $?"
echo "PLAIN $(cat /mnt/x/hello.txt)"
muletto umount /mnt/x; echo "RC umount-plain $?"
muletto mount $R sample /mnt/x extra; echo "RC args $?"
(cd /mnt/root && muletto umount /mnt/root; echo "RC umount-busy $?")
pid0=$(sed -n 's/^pid=//p' /run/muletto/mounts/nbd0)
pid1=$(sed -n 's/^pid=//p' /run/muletto/mounts/nbd1)
t=$(up); muletto umount /mnt/root; echo "RC umount-root $? $t $(up)"
muletto umount /mnt/esp; echo "RC umount-esp $?"
mounted() { i=0; while ! grep -q '^mounted' "$1" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done; }
# --foreground: this process serves it; muletto umount from elsewhere ends it
muletto mount --foreground $R sample /mnt/x >/run/fg.out 2>&1 &
fg=$!
mounted /run/fg.out
muletto umount /mnt/x; echo "RC umount-fg $?"
wait $fg; echo "RC fg $?"
sed 's/^/FG /' /run/fg.out
# a signal to a foreground mount: it unmounts by itself
muletto mount --foreground $R sample --partition 1 /mnt/x >/run/fg2.out 2>&1 &
fg=$!
mounted /run/fg2.out
kill -TERM $fg; wait $fg; echo "RC fg-term $?"
echo "FGTERM mounts=$(grep -c ' /mnt/x ' /proc/mounts) $(tail -1 /run/fg2.out)"
# a server killed with -9: umount still unmounts, and the device is freed
muletto mount $R sample --partition 1 /mnt/x >/dev/null; echo "RC mount-kill $?"
rec=$(grep -l '^dir=/mnt/x$' /run/muletto/mounts/nbd*)
kill -9 $(sed -n 's/^pid=//p' $rec)
sleep 0.5
muletto umount /mnt/x; echo "RC umount-killed $?"
for d in nbd0 nbd1 nbd2; do
	echo "DEV $d size=$(cat /sys/block/$d/size) pid=$(cat /sys/block/$d/pid 2>/dev/null || echo none)"
done
for p in $pid0 $pid1; do
	[ -d /proc/$p ] && echo "PROC $p alive" || echo "PROC $p gone"
done
echo "MOUNTS $(grep -c nbd /proc/mounts)"
echo "RECORDS $(ls /run/muletto/mounts | grep -vc '\.log$')"
echo "GUEST-DONE"
GUEST

e2e_config_disk "$T/cfg.img" "auto=script" "after=poweroff"
MTOOLS_SKIP_CHECK=1 mcopy -i "$T/cfg.img" "$T/muletto.sh" ::/muletto.sh
e2e_net
Q+=(-kernel "$BOOT/vmlinuz" -initrd "$BOOT/initrd.img" -append "console=ttyS0,115200 quiet"
    -drive "file=$T/cfg.img,if=virtio,format=raw")
qemu_run mount "$T/guest.log"
log=$T/guest.log
tr -d '\r' <"$log" >"$T/g.log"
log=$T/g.log
grep -q "GUEST-DONE" "$log" || { fail "the guest ran the mount script (${E2E_SECONDS}s)" \
	"$(tail -c 1500 "$log"; cat "$T/guest.log.err")"; exit 0; }
pass "the guest ran the mount script, power-on to power-off ${E2E_SECONDS}s"

rc() { sed -n "s/^RC $1 \([0-9]*\).*/\1/p" "$log"; }
secs() { awk -v k="$1" '$1 == "RC" && $2 == k { printf "%.1f", $5 - $4 }' "$log"; }
line_after() { # the line before "RC name": the command's message
	grep -B1 "^RC $1 " "$log" | head -1
}
if [ "$(rc mount-root)" = 0 ] && grep -q "^mounted sample disk0 partition 2 (ext4 \"root\", .*) read-only on /mnt/root (/dev/nbd0p2), served by process [0-9]* until muletto umount /mnt/root" "$log"; then
	pass "mount: the largest partition (2, ext4) by default ($(secs mount-root) s)"
else
	fail "mount: the largest partition by default" "$(grep -B2 '^RC mount-root' "$log")"
fi
grep -q "^PROCMOUNT /dev/nbd0p2 /mnt/root ext4 ro,nosuid,nodev,noexec" "$log" &&
	pass "mounted read-only, nosuid, nodev, noexec" ||
	fail "mounted read-only, nosuid, nodev, noexec" "$(grep PROCMOUNT "$log")"
grep -q "^WRITE .*Read-only file system" "$log" && pass "a write is refused: read-only file system" ||
	fail "a write is refused" "$(grep WRITE "$log")"

# every file of the root file system, byte for byte (by its SHA-256)
p2_start=$(partx -g -o START -n 2 "$SAMPLE" | tr -d ' ')
p2_sectors=$(partx -g -o SECTORS -n 2 "$SAMPLE" | tr -d ' ')
dd if="$SAMPLE" of="$T/root.img" bs=512 skip="$p2_start" count="$p2_sectors" status=none
debugfs -R "dump /data.bin $T/data.bin" "$T/root.img" >/dev/null 2>&1
{
	(cd "$T" && sha256sum ./data.bin)
	(cd /usr/share/doc && find bash -type f | sed 's|^|./|' | xargs sha256sum)
} | LC_ALL=C sort -k2 >"$T/expect.sums"
sed -n 's/^SUM //p' "$log" | LC_ALL=C sort -k2 >"$T/got.sums"
if [ -s "$T/got.sums" ] && cmp -s "$T/expect.sums" "$T/got.sums"; then
	pass "every file in the mounted root is the source file ($(wc -l <"$T/got.sums") files, SHA-256 read in $(awk '$1 == "T" { printf "%.1f", $4 - $3 }' "$log") s)"
else
	fail "every file in the mounted root is the source file" "$(diff "$T/expect.sums" "$T/got.sums" | head -5)"
fi

MTOOLS_SKIP_CHECK=1 mcopy -i "$SAMPLE@@1M" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi"
want=$(sha256sum <"$T/bootx64.efi" | cut -d' ' -f1)
if [ "$(rc mount-esp)" = 0 ] && grep -q "^mounted sample disk0 partition 1 (vfat \"ESP\", 40 MiB) read-only on /mnt/esp (/dev/nbd1p1)" "$log" &&
	grep -q "^ESPSUM $want " "$log" && grep -q "^ESPLS BOOTX64.EFI" "$log"; then
	pass "--partition 1: the ESP (vfat) on a second device, its loader identical"
else
	fail "--partition 1: the ESP" "$(grep -B1 -e '^RC mount-esp' "$log"; grep ESP "$log")"
fi

refused() { # name rc-name exit-status pattern
	local got msg
	got=$(rc "$2")
	msg=$(line_after "$2")
	if [ "$got" = "$3" ] && grep -qE -- "$4" <<<"$msg"; then
		pass "$1: $msg"
	else
		fail "$1" "exit $got: $msg"
	fi
}
refused "a partition that does not exist" part7 1 \
	'^muletto: sample disk0 has no partition 7; it has 1 \(vfat "ESP", 40 MiB\), 2 \(ext4 "root", [0-9.]+ MiB\): choose one with --partition N$'
refused "a folder muletto already mounted on" again 1 '^muletto: /mnt/root already shows sample disk0, mounted by muletto'
refused "a damaged file system" junk 1 \
	'^muletto: cannot mount partition 2 of junk disk0 \(ext4, /dev/nbd2p2\) on /mnt/x: (Invalid argument|Structure needs cleaning): the file system is damaged'
refused "swap" junk-swap 1 '^muletto: partition 1 of junk disk0 holds swap, which this system cannot mount \(swap space: no files\)'
refused "--partition on a disk without a partition table" plain-part 1 \
	'^muletto: plain disk0 has no partition table \(ext4 on the whole disk\): leave --partition out$'
if [ "$(rc plain)" = 0 ] && [ "$(rc umount-plain)" = 0 ] &&
	grep -q '^mounted plain disk0, the whole disk (ext4 "plain", 8.0 MiB) read-only on /mnt/x (/dev/nbd2)' "$log" &&
	grep -q "^PLAIN a file system on a whole disk$" "$log" &&
	grep -q '^unmounted /mnt/x (plain disk0, the whole disk, ext4); /dev/nbd2 released' "$log"; then
	pass "a disk without a partition table: its file system mounted whole"
else
	fail "a disk without a partition table" "$(grep -B1 -e '^RC plain ' -e '^PLAIN' -e '^RC umount-plain' "$log")"
fi
refused "umount of a folder muletto did not mount" umount-tmp 1 \
	'^muletto: /tmp was not mounted by muletto mount .*use umount /tmp$'
refused "wrong arguments" args 2 '^muletto: wrong or missing arguments; usage: muletto mount'
refused "umount of a folder in use" umount-busy 1 '^muletto: /mnt/root is in use: .*then run muletto umount /mnt/root again$'

if [ "$(rc umount-root)" = 0 ] && [ "$(rc umount-esp)" = 0 ] &&
	grep -q "^unmounted /mnt/root (sample disk0 partition 2, ext4); /dev/nbd0 released, process [0-9]*, which served it, ended" "$log"; then
	pass "umount: unmounted, device released ($(secs umount-root) s)"
else
	fail "umount" "$(grep -B1 -e '^RC umount-root' -e '^RC umount-esp' "$log")"
fi
if grep -q "^DEV nbd0 size=0 pid=none" "$log" && grep -q "^DEV nbd1 size=0 pid=none" "$log" &&
	grep -q "^DEV nbd2 size=0 pid=none" "$log" && ! grep -q "^PROC .* alive" "$log" &&
	[ "$(grep -c '^PROC .* gone' "$log")" = 2 ] && grep -q "^MOUNTS 0" "$log" &&
	grep -q "^RECORDS 0" "$log"; then
	pass "every nbd device free (size 0, no pid), the serving processes ended, no mount or record left"
else
	fail "devices released and servers ended" "$(grep -e '^DEV' -e '^PROC' -e '^MOUNTS' -e '^RECORDS' "$log")"
fi

if [ "$(rc umount-fg)" = 0 ] && [ "$(rc fg)" = 0 ] &&
	grep -q "^FG mounted sample disk0 partition 2 (ext4 \"root\", .*) read-only on /mnt/x (/dev/nbd0p2); this process serves it until Ctrl-C or muletto umount /mnt/x" "$log" &&
	grep -q "^FG unmounted /mnt/x; its device is released" "$log"; then
	pass "--foreground: serves until muletto umount, then ends with status 0"
else
	fail "--foreground" "$(grep -e '^FG' -e '^RC umount-fg' -e '^RC fg ' "$log")"
fi
[ "$(rc fg-term)" = 0 ] && grep -q "^FGTERM mounts=0 unmounted /mnt/x; its device is released" "$log" &&
	pass "--foreground: SIGTERM unmounts and releases by itself" ||
	fail "--foreground: SIGTERM" "$(grep -e '^FGTERM' -e '^RC fg-term' "$log")"
[ "$(rc mount-kill)" = 0 ] && [ "$(rc umount-killed)" = 0 ] &&
	grep -q "^unmounted /mnt/x (sample disk0 partition 1, vfat); /dev/nbd0 released, its serving process had died" "$log" &&
	pass "a server killed with -9: umount still unmounts and frees the device" ||
	fail "a server killed with -9" "$(grep -B1 -e '^RC umount-killed' "$log")"
