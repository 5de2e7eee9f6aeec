# Targets somebody else uses: a file behind a loop device, a target another
# muletto or another process is writing. Each is refused before a byte is
# written, naming who uses it; the lock of a restore is held while it runs and
# freed when it ends (or dies).
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root target_lock

sha() { sha256sum "$1" | cut -d' ' -f1; }
unchanged() { # name file sha-before
	[ "$(sha "$2")" = "$3" ] && pass "$1" || fail "$1" "$2 changed"
}
locks=/run/muletto/locks

make_sample_disk "$T/disk.img" 32
"$MULETTO" capture "$T/disk.img" "$T/repo" --name img >/dev/null 2>&1
# a slow image: 12 MiB that does not compress, served at 192 KiB/s a connection
head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/rnd.img"
"$MULETTO" capture "$T/rnd.img" "$T/repo" --name rnd >/dev/null 2>&1
ln -s repo "$T/slow"
port=$(nginx_start "$T" "location /slow/ { limit_rate 192k; }")
fast=http://127.0.0.1:$port/repo slow=http://127.0.0.1:$port/slow

# --- a file behind a loop device ---
truncate -s 32M "$T/fs.img"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$T/fs.img"
fsdev=$(loop_attach "$T/fs.img")
mkdir -p "$T/mnt" && mount -o noatime "$fsdev" "$T/mnt" && at_exit "umount $T/mnt"
cp "$T/disk.img" "$T/mnt/kept" && sync
before=$(sha "$T/fs.img")
expect_fail "a file behind a loop device with a mounted file system is refused, naming both" \
	"refusing to write to $T/fs.img: it is the backing file of $fsdev \(mounted on $T/mnt\); unmount and detach it first \(losetup -d $fsdev\)" \
	"$MULETTO" restore "$T/repo" img --to "$T/fs.img" --yes
unchanged "the backing file of the mounted loop device is unchanged" "$T/fs.img" "$before"
check_cmp "the mounted file system still holds its file" "$T/disk.img" "$T/mnt/kept"
ln -s fs.img "$T/alias.img"
expect_fail "a symbolic link to a loop device's backing file is refused too" \
	"refusing to write to $T/alias.img: it is the backing file of $fsdev" \
	"$MULETTO" restore "$T/repo" img --to "$T/alias.img" --yes
umount "$T/mnt"
before=$(sha "$T/fs.img") # unmounting wrote the superblock
expect_fail "a file behind a loop device with nothing mounted is refused" \
	"refusing to write to $T/fs.img: it is the backing file of $fsdev; detach it first \(losetup -d $fsdev\) or choose another target" \
	"$MULETTO" restore "$T/repo" img --to "$T/fs.img" --yes
unchanged "the backing file of the unmounted loop device is unchanged" "$T/fs.img" "$before"
loop_detach "$fsdev"

# --- two mulettos on one target ---
# start_slow TARGET: a slow restore of rnd in the background, its pid in $slow_pid,
# once it holds the lock of TARGET (its pid in a lock file; never a sleep alone)
start_slow() {
	"$MULETTO" restore "$slow" rnd --to "$1" --yes --progress none >"$T/slow.out" 2>&1 &
	slow_pid=$!
	local i
	for i in $(seq 400); do
		grep -qlx "$slow_pid" "$locks"/*.lock 2>/dev/null && return 0
		kill -0 "$slow_pid" 2>/dev/null || break
		sleep 0.05
	done
	fail "the first restore onto $1 takes the lock" "$(cat "$T/slow.out")"
	return 1
}
# second_refused NAME TARGET: while the slow restore runs, a second is refused
second_refused() {
	kill -0 "$slow_pid" 2>/dev/null || { fail "$1" "the first restore ended too soon"; return; }
	expect_fail "$1" "refusing to write to $2: another muletto is writing it \(pid $slow_pid\)" \
		"$MULETTO" restore "$T/repo" rnd --to "$2" --yes
	kill -0 "$slow_pid" 2>/dev/null && pass "$1: refused while the first still ran" ||
		fail "$1: refused while the first still ran" "the first ended before the second was refused"
}
first_done() { # name target
	if wait "$slow_pid"; then pass "$1: the first restore succeeds"; else
		fail "$1: the first restore succeeds" "$(cat "$T/slow.out")"; fi
	if cmp -s -n "$(stat -c %s "$T/rnd.img")" "$T/rnd.img" "$2"; then
		pass "$1: the target holds the first's image"
	else fail "$1: the target holds the first's image" "$(cmp "$T/rnd.img" "$2" 2>&1 | head -1)"; fi
}

if start_slow "$T/two.img"; then
	second_refused "a second restore onto the same file" "$T/two.img"
	first_done "two restores onto one file" "$T/two.img"
	grep -qlx "$slow_pid" "$locks"/*.lock 2>/dev/null && fail "the lock file is gone once the restore ended" ||
		pass "the lock file is gone once the restore ended"
	# the lock is free again: a third restore writes the file
	dd if=/dev/urandom of="$T/two.img" bs=1M count=2 conv=notrunc status=none
	if "$MULETTO" restore "$fast" rnd --to "$T/two.img" --yes --progress none 2>"$T/third.err"; then
		check_cmp "after the first ended, a third restore onto the file succeeds" "$T/rnd.img" "$T/two.img"
	else fail "after the first ended, a third restore onto the file succeeds" "$(cat "$T/third.err")"; fi
fi

truncate -s 12M "$T/blk.img"
blk=$(loop_attach "$T/blk.img")
if start_slow "$blk"; then
	# named as the other muletto, not blamed on "mounted, swap, RAID or LVM"
	second_refused "a second restore onto the same disk" "$blk"
	first_done "two restores onto one disk" "$blk"
fi

# a muletto killed mid-restore leaves its lock file, and the lock with it is free
if start_slow "$T/killed.img"; then
	kill -9 "$slow_pid"; wait "$slow_pid" 2>/dev/null
	if "$MULETTO" restore "$fast" rnd --to "$T/killed.img" --yes --progress none 2>"$T/k.err"; then
		check_cmp "the lock of a killed muletto is free: the same restore again finishes" "$T/rnd.img" "$T/killed.img"
	else fail "the lock of a killed muletto is free: the same restore again finishes" "$(cat "$T/k.err")"; fi
fi

# --- other processes ---
head -c 12M /dev/urandom >"$blk"; before=$(sha "$blk")
sleep 300 9<>"$blk" &
holder=$!
at_exit "kill $holder"
expect_fail "a disk another process has open for writing is refused, naming it" \
	"refusing to write to $blk: it is in use by pid $holder \(sleep\), which has it open for writing" \
	"$MULETTO" restore "$T/repo" rnd --to "$blk" --yes
unchanged "the disk held open by another process is unchanged" "$blk" "$before"
kill "$holder"; wait "$holder" 2>/dev/null

# a reader with O_EXCL (as mkfs or a VM holds a disk): open(O_EXCL) says EBUSY
/usr/bin/python3 -c 'import os, sys, time
os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL); print("held", flush=True); time.sleep(300)' "$blk" >"$T/excl.out" &
excl=$!
at_exit "kill $excl"
for i in $(seq 200); do grep -q held "$T/excl.out" && break; sleep 0.05; done
expect_fail "a disk held exclusively by another process is refused, naming it" \
	"refusing to write to $blk: it is in use by pid $excl \(python3[.0-9]*\), which has it open;" \
	"$MULETTO" restore "$T/repo" rnd --to "$blk" --yes
unchanged "the disk held exclusively is unchanged" "$blk" "$before"
kill "$excl"; wait "$excl" 2>/dev/null

head -c 32M /dev/urandom >"$T/busy.img"; before=$(sha "$T/busy.img")
sleep 300 9>>"$T/busy.img" &
writer=$!
at_exit "kill $writer"
expect_fail "a file another process has open for writing is refused, naming it" \
	"refusing to write to $T/busy.img: it is in use by pid $writer \(sleep\), which has it open for writing" \
	"$MULETTO" restore "$T/repo" img --to "$T/busy.img" --yes
unchanged "the file held open for writing is unchanged" "$T/busy.img" "$before"
kill "$writer"; wait "$writer" 2>/dev/null
sleep 300 9<"$T/busy.img" &
reader=$!
at_exit "kill $reader"
if "$MULETTO" restore "$T/repo" img --to "$T/busy.img" --yes --progress none 2>"$T/r.err"; then
	check_cmp "a file another process only reads is restored" "$T/disk.img" "$T/busy.img"
else fail "a file another process only reads is restored" "$(cat "$T/r.err")"; fi
kill "$reader"; wait "$reader" 2>/dev/null

# --- no place for a lock: said, not skipped ---
if command -v unshare >/dev/null; then
	expect_fail "without a writable /run the restore is refused, not run unlocked" \
		"cannot lock target $T/nolock.img: no lock file can be made in $locks \(Read-only file system\)" \
		unshare -m sh -c 'mkdir -p /run/muletto && mount -t tmpfs -o ro tmpfs /run/muletto &&
			env -u XDG_RUNTIME_DIR "$@"' sh "$MULETTO" restore "$T/repo" img --to "$T/nolock.img" --yes
	[ ! -e "$T/nolock.img" ] && pass "nothing is left behind without a lock" ||
		fail "nothing is left behind without a lock"
else
	skip "without a writable /run the restore is refused" "unshare is missing"
fi

# --- what holds a disk is named (a captured /sys with LVM and RAID holders) ---
cp -a "$MULETTO_TOP/tests/fixtures/sysroot-three" "$T/sys3"
nvme=$(readlink -f "$T/sys3/sys/block/nvme0n1") sdb=$(readlink -f "$T/sys3/sys/block/sdb")
mkdir -p "$nvme/holders/dm-0" "$sdb/holders/md0" "$T/sys3/sys/block/dm-0/dm"
echo vg0-root >"$T/sys3/sys/block/dm-0/dm/name"
echo LVM-Xk3abc >"$T/sys3/sys/block/dm-0/dm/uuid"
out=$("$MULETTO" disks --sysroot "$T/sys3" 2>&1)
grep -q "in use: /dev/nvme0n1 is held by LVM volume vg0-root (/dev/dm-0)" <<<"$out" &&
	grep -q "in use: /dev/sdb is held by RAID array /dev/md0" <<<"$out" &&
	pass "a disk held by LVM or RAID names the volume or array" ||
	fail "a disk held by LVM or RAID names the volume or array" "$out"
