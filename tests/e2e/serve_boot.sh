# Instant recovery: the sample machine boots in QEMU straight from `muletto
# serve` (QEMU's NBD client, no kernel module), its disk arriving while it runs.
# The guest writes and flushes; muletto is killed with -9 and served again:
# the write is there, and once hydrated the target is the image plus exactly
# the guest's write. With --cow ram nothing changes anywhere.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "serve boot"
e2e_need "serve boot"
export MULETTO_CONF=$T/none.conf

size_mib=96
SAMPLE_GUEST_WRITE=$(((size_mib - 1) * 2048)) # the last MiB, outside the partitions
export SAMPLE_GUEST_WRITE
SAMPLE=$T/sample.img
SAMPLE_DATA_MIB=40 # data the boot does not read: still arriving when the guest is done
e2e_bootable_sample "$SAMPLE" $size_mib
"$MULETTO" capture "$SAMPLE" "$T/repo" --name sample --progress none >/dev/null 2>&1 ||
	{ fail "serve boot" "capture failed"; exit 0; }
# the store over a slowed link, so that the boot overtakes the hydration
port=$(nginx_start "$T" 'location /repo/store/ { limit_rate 1m; }')
R=http://127.0.0.1:$port/repo
S=$T/nbd.sock

serve_bg() { # LOG ARGS...
	local log=$1
	shift
	rm -f "$S"
	"$MULETTO" serve "$R" sample --nbd "unix:$S" --json --yes "$@" >"$log" 2>&1 &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID"
	for _ in $(seq 200); do
		grep -q '"state":"ready"' "$log" && return 0
		sleep 0.05
	done
	return 1
}
boot_from_nbd() { # NAME LOG
	e2e_firmware uefi
	Q+=(-drive "file=nbd+unix:///?socket=$S,format=raw,if=none,id=d0,cache=none"
	    -device virtio-blk-pci,drive=d0)
	qemu_run "$1" "$2"
}

t0=$(date +%s.%N)
serve_bg "$T/s1.log" --to "$T/target.img" --threads 2 || fail "serve --to" "$(cat "$T/s1.log")"
boot_from_nbd "boot from serve" "$T/boot.log"
secs=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.0f')
grep -qa "$SAMPLE_MARKER" "$T/boot.log" &&
	pass "the machine boots from muletto serve to its marker (${secs}s from serve's start)" ||
	fail "the machine boots from muletto serve" "$(tail -c 400 "$T/boot.log") $(tail -3 "$T/s1.log")"
grep -q '"state":"hydrated"' "$T/s1.log" && mid=" (after hydration: not the case meant)" ||
	mid=", mid-hydration"
kill -9 $SERVE_PID
wait $SERVE_PID 2>/dev/null
serve_bg "$T/s2.log" --to "$T/target.img" --threads 4 || fail "serve again after kill -9" "$(cat "$T/s2.log")"
for _ in $(seq 600); do grep -q '"state":"hydrated"' "$T/s2.log" && break; sleep 0.2; done
kill -TERM $SERVE_PID
wait $SERVE_PID
off=$((SAMPLE_GUEST_WRITE * 512))
[ "$(dd if="$T/target.img" bs=1 skip=$off count=${#SAMPLE_GUEST_TEXT} status=none)" = "$SAMPLE_GUEST_TEXT" ] &&
	pass "the guest's flushed write survived kill -9$mid" ||
	fail "the guest's flushed write survived kill -9$mid"
cp "$SAMPLE" "$T/expect.img"
printf %s "$SAMPLE_GUEST_TEXT" | dd of="$T/expect.img" bs=1 seek=$off conv=notrunc status=none
check_cmp "hydrated: the target is the image plus exactly the guest's write" "$T/expect.img" "$T/target.img"

# --cow ram: a boot check that writes nothing anywhere
sum_before=$( (sha256sum "$SAMPLE"; find "$T/repo" -type f -exec sha256sum {} + | sort) | sha256sum)
serve_bg "$T/s3.log" --cow ram || fail "serve --cow ram" "$(cat "$T/s3.log")"
boot_from_nbd "boot with --cow ram" "$T/cow.log"
kill -TERM $SERVE_PID
wait $SERVE_PID
grep -qa "$SAMPLE_MARKER" "$T/cow.log" && pass "the machine boots with --cow ram (${E2E_SECONDS}s)" ||
	fail "the machine boots with --cow ram" "$(tail -c 400 "$T/cow.log")"
[ "$( (sha256sum "$SAMPLE"; find "$T/repo" -type f -exec sha256sum {} + | sort) | sha256sum)" = "$sum_before" ] &&
	pass "--cow ram: the repository and every disk unchanged" ||
	fail "--cow ram: the repository and every disk unchanged"
