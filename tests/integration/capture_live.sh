# Captures of sources in use (issue 10): a disk with a file system mounted
# read-write is refused before anything is read, --live takes it anyway and says
# so (manifest, ls, restore), and a source that changes while it is read fails
# without leaving an image.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root capture_live

# A sample disk on a loop device, its ext4 partition mounted read-write.
make_sample_disk "$T/disk.img" 64
dev=$(loop_attach "$T/disk.img")
mkdir -p "$T/mnt"
mount "${dev}p2" "$T/mnt" || { fail "mount ${dev}p2" "cannot mount the sample's ext4"; exit 1; }
at_exit "umount $T/mnt"
repo=$T/repo
# a loop device is no LVM volume: --snapshot is not offered
ways="capture with --live \(--snapshot takes LVM logical volumes only\)"
fix="a capture now would be torn; unmount it or remount it read-only \(mount -o remount,ro $T/mnt\), or $ways"

# nothing_stored NAME DIR: no image NAME in DIR, and ls does not list it
nothing_stored() {
	[ ! -e "$2/images/$1/manifest.json" ] && ! { [ -d "$2" ] && "$MULETTO" ls "$2" 2>/dev/null | grep -q "^$1 "; }
}

# ---- refused: a file system mounted read-write ----
expect_fail "a disk with a partition mounted read-write is refused, naming the partition and mount point" \
	"^muletto: source $dev: ${dev}p2 is mounted read-write on $T/mnt: $fix\$" \
	"$MULETTO" capture "$dev" "$T/refused" --name rw --progress none
[ ! -e "$T/refused" ] && pass "the refusal comes before anything is stored (no repository folder made)" ||
	fail "the refusal comes before anything is stored (no repository folder made)" "$(find "$T/refused" | head)"
expect_fail "the mounted partition itself is refused" \
	"^muletto: source ${dev}p2: ${dev}p2 is mounted read-write on $T/mnt: " \
	"$MULETTO" capture "${dev}p2" "$T/refused" --name rwpart --progress none
expect_fail "the backing file of a loop device with a read-write mount is refused" \
	"^muletto: source $T/disk.img: it is the backing file of $dev, and ${dev}p2 is mounted read-write on $T/mnt: $fix\$" \
	"$MULETTO" capture "$T/disk.img" "$T/refused" --name rwfile --progress none
nothing_stored rwfile "$T/refused" && [ ! -e "$T/refused" ] &&
	pass "nothing stored for the refused backing file" || fail "nothing stored for the refused backing file"

# ---- --snapshot: LVM logical volumes only (tests/e2e/snapshot.sh takes real ones) ----
if grep -q ' device-mapper$' /proc/misc || ls /lib/modules/"$(uname -r)"/kernel/drivers/md/dm-mod.ko* >/dev/null 2>&1; then
	expect_fail "--snapshot on a loop device is refused: its writes do not pass through device-mapper" \
		"^muletto: --snapshot cannot be used for $dev: it is a whole disk, not an LVM logical volume, and writes to it do not pass through device-mapper, so a snapshot of it would not be consistent; unmount it or remount it read-only \(mount -o remount,ro $T/mnt\), put its file system on LVM, or capture with --live\$" \
		"$MULETTO" capture "$dev" "$T/refused" --name snap --snapshot --progress none
else
	expect_fail "--snapshot is refused where the kernel has no device-mapper, saying so in one line" \
		"^muletto: --snapshot is not available on this system: the kernel has no device-mapper \(not in /proc/misc, no dm-mod module\), which LVM snapshots need; unmount the source's file systems or remount them read-only, or capture with --live\$" \
		"$MULETTO" capture "$dev" "$T/refused" --name snap --snapshot --progress none
fi
[ ! -e "$T/refused" ] && pass "--snapshot stores nothing" || fail "--snapshot stores nothing"
expect_fail "--live and --snapshot together are refused" "--live and --snapshot exclude each other" \
	"$MULETTO" capture "$dev" "$T/refused" --name both --snapshot --live
expect_fail "--snapshot-size without --snapshot is refused" \
	"^muletto: --snapshot-size goes with --snapshot" \
	"$MULETTO" capture "$dev" "$T/refused" --name sz --snapshot-size 1G
for bad in 10 0M 2X 12Gx 150% 0% %; do
	expect_fail "--snapshot-size $bad is refused" "^muletto: --snapshot-size $bad: " \
		"$MULETTO" capture "$dev" "$T/refused" --name sz --snapshot --snapshot-size "$bad"
done

# ---- --live: captured, and marked as such everywhere ----
"$MULETTO" capture "$dev" "$repo" --name live --live --progress none >"$T/live.out" 2>"$T/live.err" &&
	[ -f "$repo/images/live/manifest.json" ] &&
	pass "--live captures a disk mounted read-write" || fail "--live captures a disk mounted read-write" "$(cat "$T/live.err")"
grep -qx "muletto: capturing $dev live: ${dev}p2 is mounted read-write on $T/mnt; the image may be inconsistent" "$T/live.err" &&
	pass "--live says what is in use" || fail "--live says what is in use" "$(cat "$T/live.err")"
[ "$(jq -r .consistency "$repo/images/live/manifest.json")" = live ] &&
	pass "the manifest of a --live capture says \"consistency\": \"live\"" ||
	fail "the manifest of a --live capture says \"consistency\": \"live\"" "$(head -c 600 "$repo/images/live/manifest.json")"

# ---- read-only mounts are fine, and the image is the device ----
umount "$T/mnt" && mount -o ro "${dev}p2" "$T/mnt"
"$MULETTO" capture "$dev" "$repo" --name ro --progress none >"$T/ro.out" 2>&1 ||
	fail "a disk whose file system is mounted read-only is captured" "$(cat "$T/ro.out")"
"$MULETTO" restore "$repo" ro --to "$T/ro.img" --yes --progress none >"$T/ro-res.out" 2>&1 ||
	fail "restore of the read-only-mounted capture" "$(cat "$T/ro-res.out")"
check_cmp "a disk mounted read-only: captured, and restored byte for byte" "$dev" "$T/ro.img"
[ "$(jq -r .consistency "$repo/images/ro/manifest.json")" = consistent ] &&
	pass "the manifest of an ordinary capture says \"consistency\": \"consistent\"" ||
	fail "the manifest of an ordinary capture says \"consistency\": \"consistent\""
! grep -q "captured live" "$T/ro-res.out" && pass "restoring a consistent image gives no live notice" ||
	fail "restoring a consistent image gives no live notice" "$(cat "$T/ro-res.out")"

# ---- ls and restore mark the live image ----
"$MULETTO" ls "$repo" >"$T/ls.out" 2>&1
grep -q "^NAME .* SIGNED BY  *NOTES$" "$T/ls.out" && grep -q "^live .* - *live (may be inconsistent)$" "$T/ls.out" &&
	grep -q "^ro .* -$" "$T/ls.out" &&
	pass "ls marks the live image in a NOTES column" || fail "ls marks the live image in a NOTES column" "$(cat "$T/ls.out")"
[ "$("$MULETTO" ls "$repo" --json | jq -r '.images[] | "\(.name)=\(.consistency)"' | tr '\n' ' ')" = "live=live ro=consistent " ] &&
	pass "ls --json has \"consistency\"" || fail "ls --json has \"consistency\"" "$("$MULETTO" ls "$repo" --json 2>&1 | head -40)"
"$MULETTO" restore "$repo" live --to "$T/live.img" --yes --progress none >"$T/lres.out" 2>"$T/lres.err" ||
	fail "restore of a live image" "$(cat "$T/lres.err")"
[ "$(grep -c "captured live" "$T/lres.err")" = 1 ] &&
	grep -qx "muletto: image 'live' was captured live (--live), while its disks were in use: its file systems may be inconsistent; check them (fsck) after the restore" "$T/lres.err" &&
	pass "restore of a live image prints a one-line notice" || fail "restore of a live image prints a one-line notice" "$(cat "$T/lres.err")"
[ "$(stat -c %s "$T/live.img")" = $((64 << 20)) ] && pass "the live image restores" || fail "the live image restores"

# an older manifest, without the field, reads as consistent
mkdir -p "$T/old/images" && cp -r "$repo/store" "$T/old/" && cp -r "$repo/images/ro" "$T/old/images/old"
jq 'del(.consistency) | .name = "old"' "$repo/images/ro/manifest.json" >"$T/old/images/old/manifest.json"
[ "$("$MULETTO" ls "$T/old" --json | jq -r '.images[0].consistency')" = consistent ] &&
	! "$MULETTO" ls "$T/old" | grep -q NOTES && pass "a manifest without \"consistency\" reads as consistent" ||
	fail "a manifest without \"consistency\" reads as consistent" "$("$MULETTO" ls "$T/old" 2>&1)"
umount "$T/mnt"

# ---- a file that changes while it is read ----
# writer FILE: rewrites 4 KiB in the middle and at the end of FILE every few ms,
# until stopped; its pid in $T/writer.pid
writer_start() {
	local size blocks
	if [ -b "$1" ]; then size=$(blockdev --getsize64 "$1"); else size=$(stat -c %s "$1"); fi
	blocks=$((size / 4096))
	(
		while :; do
			dd if=/dev/urandom of="$1" bs=4k count=1 seek=$((blocks / 2)) conv=notrunc status=none
			dd if=/dev/urandom of="$1" bs=4k count=1 seek=$((blocks - 1)) conv=notrunc status=none
			sleep 0.005
		done
	) &
	echo $! >"$T/writer.pid"
	at_exit "kill $! 2>/dev/null"
	sleep 0.3 # it is writing before the capture starts
}
writer_stop() { kill "$(cat "$T/writer.pid")" 2>/dev/null; wait "$(cat "$T/writer.pid")" 2>/dev/null; sync; }

head -c 96M /dev/urandom >"$T/busy.img"
writer_start "$T/busy.img"
expect_fail "a file written to during the capture is refused" \
	"^muletto: source $T/busy.img changed while it was read \(.*\): the image would be torn; stop what writes to it, or $ways\$" \
	"$MULETTO" capture "$T/busy.img" "$repo" --name busyfile --progress none
writer_stop
nothing_stored busyfile "$repo" && pass "no image is left for the changed file" ||
	fail "no image is left for the changed file" "$(ls "$repo/images")"
"$MULETTO" capture "$T/busy.img" "$repo" --name stillfile --progress none >"$T/still.out" 2>&1 ||
	fail "the same file, unchanged, is captured" "$(cat "$T/still.out")"
"$MULETTO" restore "$repo" stillfile --to "$T/still.img" --yes --progress none >/dev/null 2>&1
check_cmp "the same file, unchanged, is captured and restores byte for byte" "$T/busy.img" "$T/still.img"

# --live tolerates the change
writer_start "$T/busy.img"
"$MULETTO" capture "$T/busy.img" "$repo" --name livefile --live --progress none >"$T/lf.out" 2>&1 &&
	[ "$(jq -r .consistency "$repo/images/livefile/manifest.json")" = live ] &&
	pass "--live captures a file that changes" || fail "--live captures a file that changes" "$(cat "$T/lf.out")"
writer_stop

# ---- a disk written to while it is read ----
head -c 64M /dev/urandom >"$T/busydisk.img"
bdev=$(loop_attach "$T/busydisk.img")
writer_start "$bdev"
expect_fail "a disk written to during the capture is refused" \
	"^muletto: source $bdev changed while it was read \(.*\): the image would be torn; stop what writes to it, or $ways\$" \
	"$MULETTO" capture "$bdev" "$repo" --name busydisk --progress none
writer_stop
nothing_stored busydisk "$repo" && pass "no image is left for the changed disk" ||
	fail "no image is left for the changed disk" "$(ls "$repo/images")"
"$MULETTO" capture "$bdev" "$repo" --name stilldisk --progress none >"$T/sd.out" 2>&1 ||
	fail "the same disk, unchanged, is captured" "$(cat "$T/sd.out")"
"$MULETTO" restore "$repo" stilldisk --to "$T/stilldisk.img" --yes --progress none >/dev/null 2>&1
check_cmp "the same disk, unchanged, is captured and restores byte for byte" "$bdev" "$T/stilldisk.img"

# ---- SIGTERM stops a capture at its next chunk: no image ----
head -c 256M /dev/urandom >"$T/slow.img"
"$MULETTO" capture "$T/slow.img" "$repo" --name slow --threads 1 --level 19 --progress none >"$T/slow.out" 2>"$T/slow.err" &
cpid=$!
# once it catches SIGTERM (bit 15 of SigCgt), not after a guessed second
for _ in $(seq 100); do
	cgt=$(awk '/^SigCgt:/ { print $2 }' /proc/$cpid/status 2>/dev/null)
	[ -n "$cgt" ] && [ $((0x$cgt & 0x4000)) != 0 ] && break
	sleep 0.1
done
sleep 0.2
kill -TERM $cpid
wait $cpid
rc=$?
[ "$rc" = 1 ] && grep -qx "muletto: interrupted: the capture stopped before the end of $T/slow.img, and no image was stored" "$T/slow.err" &&
	pass "SIGTERM stops a capture, saying so" || fail "SIGTERM stops a capture, saying so" "rc $rc: $(cat "$T/slow.err")"
nothing_stored slow "$repo" && pass "no image is left by the stopped capture" ||
	fail "no image is left by the stopped capture" "$(ls "$repo/images")"
