# The NBD server (recovery/serve/) against independent clients: libnbd's
# nbdinfo, nbdcopy and Python bindings (nbdsh), QEMU's qemu-img and qemu-io,
# and a raw socket for what no client library sends. The server is
# tests/nbd/nbd_file_server (sanitised) serving a file over a Unix socket and
# TCP; every case compares bytes or the exact NBD error.
. "$(dirname "$0")/../lib.sh"

SRV=$MULETTO_TOP/build/san/nbd_file_server
PY=/usr/bin/python3 # Debian's, where libnbd's bindings are
CASES=$MULETTO_TOP/tests/nbd/libnbd_cases.py
RAW=$MULETTO_TOP/tests/nbd/rawnbd.py
MiB=1048576
SIZE=$((64 * MiB))

for tool in nbdinfo nbdcopy nbdsh qemu-img qemu-io; do
	command -v "$tool" >/dev/null || { skip "nbd protocol" "$tool missing: scripts/deps.sh check"; exit 0; }
done
"$PY" -c 'import nbd' 2>/dev/null || { skip "nbd protocol" "python3-libnbd missing"; exit 0; }
[ -x "$SRV" ] || { fail "nbd protocol" "$SRV missing: make build/san/nbd_file_server"; exit 1; }

# nbd_start NAME FILE SPEC [OPTIONS]: the server in the background (log in
# $T/NAME.log, MULETTO_DEBUG=nbd), until it accepts connections; a tcp:...:0
# server's port goes to $T/NAME.port
nbd_start() {
	local name=$1 file=$2 spec=$3 i
	shift 3
	rm -f "$T/$name.port"
	# a small quarantine: the sanitizer's kept frees would hide what the server holds
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=16 MULETTO_DEBUG=nbd "$SRV" "$@" --port-file "$T/$name.port" "$file" "$spec" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.pid"
	at_exit "kill -9 $! 2>/dev/null"
	for i in $(seq 200); do
		grep -q '^serving ' "$T/$name.log" && return 0
		kill -0 "$(cat "$T/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "nbd_start $name: $(cat "$T/$name.log")" >&2
	return 1
}

# nbd_stop NAME CASE: SIGTERM; CASE passes when the server ends at once with
# status 0 and its log holds no sanitizer report
nbd_stop() {
	local name=$1 pid rc i
	pid=$(cat "$T/$name.pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$2" "still running 15 s after SIGTERM"
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ "$rc" != 0 ] || grep -qE 'Sanitizer|runtime error' "$T/$name.log"; then
		fail "$2" "exit $rc: $(grep -m3 -E 'ERROR|runtime error|nbd_file_server' "$T/$name.log")"
		return 1
	fi
	pass "$2"
}

# case NAME CMD...: CMD (a case script) prints one line; passes when it exits 0
case_run() {
	local name=$1 out
	shift
	if out=$(timeout 120 "$@" 2>&1); then pass "$name: $out"; else fail "$name" "$out"; fi
}

# The export's extents as the file system knows them: "OFFSET LENGTH data|hole"
seek_map() {
	"$PY" - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, pos = os.fstat(fd).st_size, 0
while pos < size:
    try:
        d = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        d = size
    if d > pos:
        print(pos, d - pos, "hole"); pos = d; continue
    h = os.lseek(fd, pos, os.SEEK_HOLE)
    print(pos, h - pos, "data"); pos = h
PY
}

# A sparse 64 MiB disk: data at 0, 8 MiB and 20 MiB, holes between
truncate -s $SIZE "$T/disk.img"
for at in 0:1 8:2 20:3; do
	dd if=/dev/urandom of="$T/disk.img" bs=1M seek=${at%:*} count=${at#*:} conv=notrunc status=none
done
cp --sparse=always "$T/disk.img" "$T/orig.img"
S=$T/s.sock
U="nbd+unix:///web01?socket=$S"
nbd_start main "$T/disk.img" "unix:$S" --name web01 --description "muletto test disk" ||
	{ fail "server starts"; exit 1; }

# --- what clients see -------------------------------------------------------
nbdinfo --json "$U" >"$T/info.json" 2>"$T/info.err"
want='{"size":67108864,"ro":false,"flush":true,"fua":true,"trim":true,"zero":true,"df":true,"multi":true,"min":1,"pref":4096,"max":33554432,"desc":"muletto test disk","ctx":["base:allocation"]}'
got=$(jq -c '{size: .exports[0]."export-size", ro: .exports[0].is_read_only, flush: .exports[0].can_flush,
	fua: .exports[0].can_fua, trim: .exports[0].can_trim, zero: .exports[0].can_zero, df: .exports[0].can_df,
	multi: .exports[0].can_multi_conn, min: .exports[0].block_size_minimum,
	pref: .exports[0].block_size_preferred, max: .exports[0].block_size_maximum,
	desc: .exports[0].description, ctx: .exports[0].contexts}' "$T/info.json" 2>&1)
[ "$got" = "$want" ] && jq -e '.protocol == "newstyle-fixed" and ."TLS" == false' "$T/info.json" >/dev/null &&
	pass "nbdinfo: size, flags, block sizes, description, base:allocation" ||
	fail "nbdinfo: size, flags, block sizes" "got $got $(cat "$T/info.err")"
nbdinfo --list --json "nbd+unix:///?socket=$S" | jq -e '.exports | length == 1 and .[0]["export-name"] == "web01"' >/dev/null &&
	pass "nbdinfo --list: the one export, web01" || fail "nbdinfo --list"
out=$(PATH=/usr/bin:$PATH nbdsh -c 'h.set_full_info(True)' -c "h.connect_uri('nbd+unix:///?socket=$S')" \
	-c 'print(h.get_size(), h.get_canonical_export_name())' 2>&1)
[ "$out" = "$SIZE web01" ] && pass "nbdsh: the default export is web01, $SIZE bytes" || fail "nbdsh: default export" "$out"

nbdinfo --map "$U" | awk '{print $1, $2, ($3 == 0 ? "data" : $4 == "hole,zero" ? "hole" : $4)}' >"$T/map.nbd"
seek_map "$T/disk.img" >"$T/map.seek"
if cmp -s "$T/map.nbd" "$T/map.seek" && grep -q "^$MiB $((7 * MiB)) hole$" "$T/map.nbd" &&
	grep -q "^$((8 * MiB)) $((2 * MiB)) data$" "$T/map.nbd"; then
	pass "nbdinfo --map: the file's holes ($(grep -c hole "$T/map.nbd")) and data ($(grep -c data "$T/map.nbd"))"
else
	fail "nbdinfo --map shows the holes" "nbd: $(tr '\n' ';' <"$T/map.nbd") file: $(tr '\n' ';' <"$T/map.seek")"
fi

# --- reading ------------------------------------------------------------------
nbdcopy "$U" "$T/copy.img" && check_cmp "nbdcopy over a Unix socket: the file's bytes" "$T/disk.img" "$T/copy.img" ||
	fail "nbdcopy over a Unix socket"
out=$(qemu-img compare -f raw -F raw "$T/disk.img" "$U" 2>&1)
[ "$out" = "Images are identical." ] && pass "qemu-img compare: identical" || fail "qemu-img compare" "$out"
qemu-img convert -f raw -O qcow2 "$U" "$T/conv.qcow2" 2>"$T/conv.err" &&
	qemu-img convert -f qcow2 -O raw "$T/conv.qcow2" "$T/conv.img" 2>>"$T/conv.err" &&
	check_cmp "qemu-img convert of the nbd: URL to qcow2 and back" "$T/disk.img" "$T/conv.img" ||
	fail "qemu-img convert" "$(cat "$T/conv.err")"
case_run "two clients at once" "$PY" "$CASES" "$U" two_clients "$T/disk.img"
nbdcopy "$U" "$T/par1.img" & p1=$!
nbdcopy "$U" "$T/par2.img" & p2=$!
wait $p1 && wait $p2 && cmp -s "$T/disk.img" "$T/par1.img" && cmp -s "$T/disk.img" "$T/par2.img" &&
	pass "two nbdcopy at once (multi-conn, 4 connections each): both copies equal the file" ||
	fail "two nbdcopy at once"
case_run "DF and REQ_ONE" "$PY" "$CASES" "$U" df_and_req_one

# --- hostile clients ------------------------------------------------------------
case_run "bad reads" "$PY" "$CASES" "$U" bad_reads $SIZE
case_run "bad writes" "$PY" "$CASES" "$U" bad_writes $SIZE
for c in unknown_command bad_flags block_status_unnegotiated bad_request_magic huge_option \
	option_over_limit lying_fields option_truncated unknown_options export_name_unknown \
	bad_client_flags many_options "export_name web01" "write_oversized 0"; do
	# shellcheck disable=SC2086
	case_run "raw client: ${c%% *}" "$PY" "$RAW" "$S" $c
done
case_run "raw client: write_cut" "$PY" "$RAW" "$S" write_cut $((40 * MiB))
sleep 0.3
cmp -s -n $((60 * MiB)) "$T/disk.img" "$T/orig.img" &&
	pass "hostile clients changed no byte of the disk" || fail "hostile clients changed the disk" "$(cmp "$T/disk.img" "$T/orig.img")"
nbdcopy "$U" "$T/after.img" && check_cmp "after the hostile clients the server still serves the file" "$T/disk.img" "$T/after.img" ||
	fail "server serves after hostile clients" "$(tail -3 "$T/main.log")"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$(cat "$T/main.pid")/status")
[ "$hwm" -lt $((256 * 1024)) ] && pass "server peak memory $((hwm / 1024)) MiB after the hostile clients and 32 MiB reads (sanitised, small quarantine)" ||
	fail "server memory bounded" "peak $((hwm / 1024)) MiB"

# --- writing -------------------------------------------------------------------
qemu-io -f raw "$U" -c 'write -P 0x5a 1M 64k' -c flush >"$T/qio.out" 2>&1 &&
	cmp -s <(dd if="$T/disk.img" bs=64k skip=16 count=1 status=none) <(head -c 65536 /dev/zero | tr '\0' 'Z') &&
	pass "qemu-io write -P 0x5a 1M 64k, flush: the bytes are in the file" || fail "qemu-io write" "$(cat "$T/qio.out")"
case_run "FUA and flush" "$PY" "$CASES" "$U" fua_flush
qemu-io -f raw "$U" -c 'discard 8M 1M' -c 'write -z 9M 512k' -c 'write -z -u 20M 1M' -c flush >"$T/qio.out" 2>&1 &&
	cmp -s <(dd if="$T/disk.img" bs=512k skip=16 count=3 status=none) <(head -c $((3 * MiB / 2)) /dev/zero) &&
	cmp -s <(dd if="$T/disk.img" bs=1M skip=20 count=1 status=none) <(head -c $MiB /dev/zero) &&
	pass "trim and write zeroes (with and without NO_HOLE) read back as zeros" ||
	fail "trim and write zeroes" "$(cat "$T/qio.out")"
# the extent holding the trimmed MiB (8 MiB to 9 MiB) is a hole
nbdinfo --map "$U" | awk -v a=$((8 * MiB)) -v b=$((9 * MiB)) '$1 <= a && $1 + $2 >= b && $4 == "hole,zero" {ok = 1} END {exit !ok}' &&
	pass "a trimmed range is reported as a hole" || fail "trimmed range is a hole" "$(nbdinfo --map "$U")"
head -c $SIZE /dev/urandom >"$T/new.img"
nbdcopy "$T/new.img" "$U" && check_cmp "nbdcopy into the export: the file holds the new bytes" "$T/new.img" "$T/disk.img" ||
	fail "nbdcopy into the export"
nbd_stop main "SIGTERM stops the server cleanly (no sanitizer report)"

# --- over TCP -------------------------------------------------------------------
if nbd_start tcp "$T/disk.img" tcp:127.0.0.1:0; then
	port=$(cat "$T/tcp.port")
	out=$(nbdinfo --size "nbd://127.0.0.1:$port" 2>&1)
	[ "$out" = "$SIZE" ] && pass "nbdinfo over TCP (127.0.0.1:$port): $SIZE bytes" || fail "nbdinfo over TCP" "$out"
	nbdcopy "nbd://127.0.0.1:$port" "$T/tcp.img" && check_cmp "nbdcopy over TCP" "$T/disk.img" "$T/tcp.img" ||
		fail "nbdcopy over TCP"
	out=$(qemu-img compare -f raw -F raw "$T/disk.img" "nbd://127.0.0.1:$port" 2>&1)
	[ "$out" = "Images are identical." ] && pass "qemu-img compare over TCP" || fail "qemu-img compare over TCP" "$out"
	nbd_stop tcp "TCP server stops cleanly"
else
	fail "TCP server starts" "$(cat "$T/tcp.log")"
fi
if "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	if nbd_start tcp6 "$T/disk.img" "tcp:[::1]:0"; then
		nbdcopy "nbd://[::1]:$(cat "$T/tcp6.port")" "$T/tcp6.img" &&
			check_cmp "nbdcopy over TCP on [::1]" "$T/disk.img" "$T/tcp6.img" || fail "nbdcopy over IPv6"
		nbd_stop tcp6 "IPv6 server stops cleanly"
	else
		fail "IPv6 server starts" "$(cat "$T/tcp6.log")"
	fi
else
	skip "IPv6" "no ::1 on this machine"
fi
out=$("$SRV" "$T/disk.img" tcp:0.0.0.0:0 2>&1)
rc=$?
[ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && grep -q -- '--allow-remote' <<<"$out" &&
	pass "tcp:0.0.0.0 refused without --allow-remote, in one line" || fail "non-loopback refused" "exit $rc: $out"
if nbd_start remote "$T/disk.img" tcp:0.0.0.0:0 --allow-remote; then
	[ "$(nbdinfo --size "nbd://127.0.0.1:$(cat "$T/remote.port")")" = "$SIZE" ] &&
		pass "tcp:0.0.0.0 with --allow-remote serves" || fail "--allow-remote serves"
	nbd_stop remote "--allow-remote server stops cleanly"
else
	fail "--allow-remote server starts" "$(cat "$T/remote.log")"
fi

# --- the Unix socket ------------------------------------------------------------
S2=$T/s2.sock
nbd_start unix2 "$T/disk.img" "unix:$S2"
mode=$(stat -c %a "$S2")
[ "$mode" = 600 ] && pass "the Unix socket is mode 600" || fail "socket mode 600" "mode $mode"
out=$("$SRV" "$T/disk.img" "unix:$S2" 2>&1)
[ $? = 1 ] && grep -q "another server is listening" <<<"$out" && pass "a second server on a live socket is refused" ||
	fail "live socket refused" "$out"
kill -9 "$(cat "$T/unix2.pid")"
wait "$(cat "$T/unix2.pid")" 2>/dev/null
[ -S "$S2" ] && nbd_start unix2 "$T/disk.img" "unix:$S2" &&
	[ "$(nbdinfo --size "nbd+unix:///?socket=$S2")" = "$SIZE" ] &&
	pass "the stale socket of a killed server is replaced" || fail "stale socket replaced" "$(cat "$T/unix2.log")"
nbd_stop unix2 "restarted server stops cleanly"
echo keep >"$T/notasock"
out=$("$SRV" "$T/disk.img" "unix:$T/notasock" 2>&1)
[ $? = 1 ] && grep -q "not a socket" <<<"$out" && [ "$(cat "$T/notasock")" = keep ] &&
	pass "a regular file at the socket path is refused and kept" || fail "file at socket path" "$out"

# --- read-only, block sizes, injected errors, parallel reads ---------------------
sum=$(sha256sum <"$T/disk.img")
nbd_start ro "$T/disk.img" "unix:$T/ro.sock" --read-only
case_run "read-only export" "$PY" "$CASES" "nbd+unix:///?socket=$T/ro.sock" read_only
out=$(qemu-io -f raw "nbd+unix:///?socket=$T/ro.sock" -c 'write -P 1 0 4k' 2>&1)
[ "$(sha256sum <"$T/disk.img")" = "$sum" ] && ! grep -q '^wrote' <<<"$out" &&
	pass "read-only export: qemu-io cannot write, the file is unchanged" || fail "read-only qemu-io" "$out"
nbd_stop ro "read-only server stops cleanly"

nbd_start aligned "$T/disk.img" "unix:$T/al.sock" --min-block 512 --max-block $((4 * MiB))
[ "$(nbdinfo --json "nbd+unix:///?socket=$T/al.sock" | jq -c '[.exports[0].block_size_minimum, .exports[0].block_size_maximum]')" = "[512,$((4 * MiB))]" ] &&
	pass "block sizes 512 and 4 MiB advertised" || fail "block sizes advertised"
case_run "unaligned requests" "$PY" "$CASES" "nbd+unix:///?socket=$T/al.sock" unaligned
nbdcopy "nbd+unix:///?socket=$T/al.sock" "$T/al.img" && check_cmp "nbdcopy keeps to a 4 MiB maximum block" "$T/disk.img" "$T/al.img" ||
	fail "nbdcopy with 4 MiB max block"
nbd_stop aligned "aligned server stops cleanly"

nbd_start eio "$T/disk.img" "unix:$T/eio.sock" --fail-at $((4 * MiB))
case_run "injected EIO" "$PY" "$CASES" "nbd+unix:///?socket=$T/eio.sock" eio $((4 * MiB))
out=$(qemu-io -f raw "nbd+unix:///?socket=$T/eio.sock" -c 'read 4M 4k' -c 'read 0 4k' 2>&1)
grep -q 'read failed: Input/output error' <<<"$out" && grep -q '^read 4096/4096 bytes at offset 0' <<<"$out" &&
	pass "qemu-io: the injected read fails with EIO, the next one works" || fail "qemu-io sees EIO" "$out"
nbd_start nozero "$T/disk.img" "unix:$T/nz.sock" --no-zero --no-trim --no-extents
out=$(nbdinfo --json "nbd+unix:///?socket=$T/nz.sock" | jq -c '[.exports[0].can_zero, .exports[0].can_trim]')
qemu-io -f raw "nbd+unix:///?socket=$T/nz.sock" -c 'write -z 2M 1M' >/dev/null 2>&1 &&
	cmp -s <(dd if="$T/disk.img" bs=1M skip=2 count=1 status=none) <(head -c $MiB /dev/zero) && [ "$out" = "[true,false]" ] &&
	pass "a backend without zero: write zeroes is done by writing zeros; no trim offered" ||
	fail "write zeroes fallback" "$out"
nbd_stop nozero "server without zero stops cleanly"
nbd_stop eio "EIO server stops cleanly"

nbd_start slow "$T/disk.img" "unix:$T/slow.sock" --read-delay-ms 200
out=$(timeout 60 "$PY" "$CASES" "nbd+unix:///?socket=$T/slow.sock" parallel 16 2>&1)
secs=$(grep -oE '[0-9.]+ s$' <<<"$out" | cut -d' ' -f1)
[ -n "$secs" ] && [ "$(echo "$secs < 1.6" | bc)" = 1 ] &&
	pass "16 reads of 200 ms on one connection ran in parallel: $secs s (one at a time: 3.2 s)" ||
	fail "reads run in parallel" "$out"
"$PY" - "nbd+unix:///?socket=$T/slow.sock" <<'PY' &
import nbd, sys, time
h = nbd.NBD(); h.connect_uri(sys.argv[1]); time.sleep(30)
PY
idle=$!
sleep 1
start=$SECONDS
nbd_stop slow "SIGTERM with a client connected: the server disconnects it and stops"
most=$(sed -n 's/^stopped; reads in parallel at most: //p' "$T/slow.log")
[ "${most:-0}" -ge 8 ] && pass "the server ran $most reads at once" || fail "reads at once" "${most:-none}"
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null
exit 0
