# muletto mount and umount on this host, whose kernel has no nbd driver: the
# refusals that come before the driver (arguments, the folder), the driver's
# absence in one line, and umount's side, driven by records of mounts this
# host cannot make (a stand-in server holding the record's lock, and a record
# whose server died). The mounts themselves are tests/e2e/mount.sh.
. "$(dirname "$0")/../lib.sh"
need_root "mount on the host"
export MULETTO_CONF=$T/none.conf
if [ -e /sys/block/nbd0 ] || modprobe -n nbd 2>/dev/null; then
	skip "mount on the host" "this kernel has an nbd driver: tests/e2e/mount.sh covers it"
	exit 0
fi
RUNDIR=/run/muletto/mounts

truncate -s 8M "$T/a.img"
"$MULETTO" capture "$T/a.img" "$T/repo" --name sample --progress none >/dev/null 2>&1 ||
	fail "capture" "the sample capture failed"
mkdir -p "$T/d"
touch "$T/file"

expect_fail "no nbd driver: one line that says what to do" \
	'^muletto: the kernel has no nbd driver \(Linux .* has no nbd module\): mount needs the boot environment, or modprobe nbd$' \
	"$MULETTO" mount "$T/repo" sample "$T/d"
"$MULETTO" mount "$T/repo" sample "$T/d" >/dev/null 2>&1
[ $? = 1 ] && pass "no nbd driver: exit status 1" || fail "no nbd driver: exit status 1"
expect_fail "--foreground: the same line" '^muletto: the kernel has no nbd driver' \
	"$MULETTO" mount --foreground "$T/repo" sample "$T/d"
expect_fail "DIR that is a file" "^muletto: $T/file is not a folder: give a folder to mount the image on$" \
	"$MULETTO" mount "$T/repo" sample "$T/file"
expect_fail "DIR that does not exist" "^muletto: $T/none: No such file or directory: give an existing folder" \
	"$MULETTO" mount "$T/repo" sample "$T/none"
args() { # name pattern args...: exit status 2
	local name=$1 pattern=$2 out
	shift 2
	out=$("$MULETTO" "$@" 2>&1 >/dev/null)
	[ $? = 2 ] && grep -qE -- "$pattern" <<<"$out" && pass "$name: exit 2" || fail "$name" "$out"
}
args "mount without DIR" '^muletto: wrong or missing arguments; usage: muletto mount REPO NAME' \
	mount "$T/repo" sample
args "--partition 0" '^muletto: --partition 0: give a whole number from 1 to' \
	mount "$T/repo" sample --partition 0 "$T/d"
args "umount without DIR" '^muletto: wrong or missing arguments; usage: muletto umount DIR' umount
out=$("$MULETTO" mount --help)
grep -q "^usage: muletto mount REPO NAME" <<<"$out" && pass "mount --help" || fail "mount --help" "$out"

expect_fail "umount of a folder muletto did not mount" \
	"^muletto: $T/d was not mounted by muletto mount \(no record in $RUNDIR names it\): for other mounts, use umount $T/d$" \
	"$MULETTO" umount "$T/d"

# A record held by a live process (a stand-in for the server: it holds the
# lock as muletto does, and on SIGTERM removes the record and ends).
mkdir -p "$RUNDIR"
rec=$RUNDIR/nbd97
at_exit "rm -f $rec $RUNDIR/nbd98"
record() { # file dir
	printf 'pid=1\ndir=%s\ndevice=/dev/%s\npartition=2\npartition_device=/dev/%sp2\nfs=ext4\nlabel=root\nsize=1048576\nimage=sample disk0\nrepo=%s\n' \
		"$2" "$(basename "$1")" "$(basename "$1")" "$T/repo" >"$1"
}
record "$rec" "$T/d"
python3 - "$rec" "$T/held" <<'PY' &
import fcntl, os, signal, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
def stop(*_):
    os.unlink(sys.argv[1]); f.close(); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
holder=$!
at_exit "kill $holder"
for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.05; done
expect_fail "mount on a folder muletto already mounted on" \
	"^muletto: $T/d already shows sample disk0, mounted by muletto \(process $holder\): muletto umount $T/d first$" \
	"$MULETTO" mount "$T/repo" sample "$T/d"
out=$("$MULETTO" umount "$T/d/" 2>&1)
if [ $? = 0 ] && [ "$out" = "unmounted $T/d (sample disk0 partition 2, ext4); /dev/nbd97 released, process $holder, which served it, ended" ] &&
	! kill -0 "$holder" 2>/dev/null && [ ! -e "$rec" ]; then
	pass "umount stops the process that holds the record, and waits for its end"
else
	fail "umount stops the process that holds the record" "$out"
fi

# A record nobody holds: its server died (kill -9); umount cleans up.
record "$RUNDIR/nbd98" "$T/d"
out=$(cd "$T" && "$MULETTO" umount d 2>&1)
if [ $? = 0 ] && [ "$out" = "unmounted $T/d (sample disk0 partition 2, ext4); /dev/nbd98 released, its serving process had died" ] &&
	[ ! -e "$RUNDIR/nbd98" ]; then
	pass "umount after the server died: the record goes, a relative DIR is found"
else
	fail "umount after the server died" "$out"
fi
