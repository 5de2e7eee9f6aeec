# muletto serve: an image's disk as an NBD export before it has arrived. Read
# by independent clients (qemu-img, nbdcopy, qemu-io) it is the image; writes
# land on the target; hydration brings in the rest; a crash (kill -9) loses no
# flushed write; --cow leaves every disk as it was; bad requests and a broken
# repository are errors, never wrong bytes.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
export MULETTO_CONF=$T/none.conf
unset MULETTO_TRUST
for t in qemu-img qemu-io nbdcopy nbdinfo; do
	command -v $t >/dev/null || { fail "serve" "$t is missing: run scripts/deps.sh check"; exit 1; }
done

make_sample_disk "$T/a.img" 48
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name web01 --progress none >/dev/null 2>&1 ||
	fail "capture" "the sample capture failed"
# the store is slowed down so that hydration takes a while; the rest is fast
port=$(nginx_start "$T/www" 'location /slow/ { alias '"$T"'/www/; limit_rate 400k; }')
R=http://127.0.0.1:$port/repo
SLOW=http://127.0.0.1:$port/slow/repo
S=$T/nbd.sock
uri="nbd+unix:///?socket=$S"

# serve_start LOG ARGS...: muletto serve in the background until its socket answers
serve_start() {
	local log=$1
	shift
	rm -f "$S"
	"$MULETTO" serve "$@" --nbd "unix:$S" --json >"$log" 2>&1 &
	SERVE_PID=$!
	at_exit "kill -9 $SERVE_PID"
	for _ in $(seq 200); do
		grep -q '"state":"ready"' "$log" 2>/dev/null && return 0
		kill -0 $SERVE_PID 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
serve_stop() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID"; }
wait_hydrated() { # LOG
	for _ in $(seq 600); do
		grep -q '"state":"hydrated"' "$1" && return 0
		sleep 0.1
	done
	return 1
}

# read-only, no target: what clients read is the image
serve_start "$T/ro.log" "$R" web01 || fail "serve read-only" "$(cat "$T/ro.log")"
qemu-img compare -f raw -F raw "$T/a.img" "$uri" >"$T/cmp.out" 2>&1 &&
	pass "qemu-img compare: the served image is the image" || fail "qemu-img compare" "$(cat "$T/cmp.out")"
nbdcopy "$uri" "$T/copy.img" && check_cmp "nbdcopy of the served image is identical" "$T/a.img" "$T/copy.img"
nbdinfo --map "$uri" >"$T/map.out" 2>&1
grep -q "hole,zero" "$T/map.out" && grep -q "data" "$T/map.out" &&
	pass "block status shows the empty regions as holes" || fail "block status shows holes" "$(cat "$T/map.out")"
out=$(qemu-io -f raw "$uri" -c 'write -P 0x5a 0 4k' 2>&1)
grep -qi "read-only\|permission\|denied" <<<"$out" && pass "a read-only export refuses writes" ||
	fail "a read-only export refuses writes" "$out"
serve_stop

# --to FILE: writes land on the target, hydration brings the rest
serve_start "$T/t.log" "$SLOW" web01 --to "$T/t.img" --threads 2 ||
	fail "serve --to" "$(cat "$T/t.log")"
qemu-io -f raw "$uri" -c 'write -P 0xa5 1M 64k' -c 'write -P 0x3c 40M 1M' -c flush >/dev/null 2>&1 ||
	fail "writes through qemu-io"
local_at_kill=$(jq -r 'select(.event == "progress") | .done' "$T/t.log" 2>/dev/null | tail -1)
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
[ ! -e "$T/t.img.muletto-map" ] && fail "the chunk map is next to the file target" ||
	pass "the chunk map is kept next to the file target"
# served again: the flushed writes are there, hydration goes on to the end
serve_start "$T/t2.log" "$R" web01 --to "$T/t.img" --threads 2 --yes ||
	fail "serve --to again after kill -9" "$(cat "$T/t2.log")"
nbdcopy "$uri" "$T/after.img"
cmp -s -n 65536 -i 1048576:0 "$T/after.img" <(head -c 65536 /dev/zero | tr '\0' '\245') &&
	cmp -s -n 1048576 -i 41943040:0 "$T/after.img" <(head -c 1048576 /dev/zero | tr '\0' '\074') &&
	pass "after kill -9, every flushed write is there (killed at ${local_at_kill:-0} bytes local)" ||
	fail "after kill -9, every flushed write is there"
wait_hydrated "$T/t2.log" && pass "hydration ends and says so" || fail "hydration ends and says so" "$(tail -3 "$T/t2.log")"
serve_stop
# the target: the image, but for exactly the client's writes
cp "$T/a.img" "$T/expect.img"
head -c 65536 /dev/zero | tr '\0' '\245' | dd of="$T/expect.img" bs=64k seek=16 conv=notrunc status=none
head -c 1048576 /dev/zero | tr '\0' '\074' | dd of="$T/expect.img" bs=1M seek=40 conv=notrunc status=none
check_cmp "the hydrated target is the image plus exactly the client's writes" "$T/expect.img" "$T/t.img"

# --cow ram: the client writes, nothing else changes
sha_repo=$(find "$T/www/repo" -type f -exec sha256sum {} + | sort | sha256sum)
serve_start "$T/c.log" "$R" web01 --cow ram || fail "serve --cow ram" "$(cat "$T/c.log")"
qemu-io -f raw "$uri" -c 'write -P 0x11 2M 1M' -c flush >/dev/null 2>&1
qemu-io -f raw "$uri" -c 'read -P 0x11 2M 1M' >"$T/cr.out" 2>&1 && ! grep -qi fail "$T/cr.out" &&
	pass "--cow ram: the client reads its own writes" || fail "--cow ram: the client reads its own writes" "$(cat "$T/cr.out")"
serve_stop
[ "$(find "$T/www/repo" -type f -exec sha256sum {} + | sort | sha256sum)" = "$sha_repo" ] &&
	pass "--cow ram: the repository is unchanged" || fail "--cow ram: the repository is unchanged"

# bad input
dev_size=$(stat -c %s "$T/a.img")
serve_start "$T/b.log" "$R" web01 || fail "serve for bad input" "$(cat "$T/b.log")"
out=$(qemu-io -r -f raw "$uri" -c "read $dev_size 4k" 2>&1)
grep -qi "error\|invalid\|out of range\|beyond" <<<"$out" && pass "a read beyond the end is refused" ||
	fail "a read beyond the end is refused" "$out"
nbdcopy "$uri" "$T/again.img" && check_cmp "still serving after a bad request" "$T/a.img" "$T/again.img"
serve_stop
# a corrupt chunk: the read fails with EIO and the log names it; never wrong bytes
mkdir -p "$T/bad" && cp -r "$T/www/repo" "$T/bad/" 
chunk=$(find "$T/bad/repo/store" -name '*.cacnk' -size +20k | head -1)
printf 'garbage' | dd of="$chunk" bs=1 seek=100 conv=notrunc status=none
serve_start "$T/k.log" "$T/bad/repo" web01 || fail "serve a damaged repository" "$(cat "$T/k.log")"
nbdcopy "$uri" "$T/k.img" >"$T/k.out" 2>&1 && fail "a corrupt chunk fails the read" ||
	pass "a corrupt chunk fails the read"
grep -qE "chunk [0-9a-f]{64} from $T/bad/repo/store(: not a valid| does not match its id)" "$T/k.log" && pass "the log names the corrupt chunk" ||
	fail "the log names the corrupt chunk" "$(tail -3 "$T/k.log")"
serve_stop
expect_fail "a non-local address needs --allow-remote" "allow-remote" \
	"$MULETTO" serve "$R" web01 --nbd tcp:0.0.0.0:0
expect_fail "--to and --cow together are refused" "choose one" \
	"$MULETTO" serve "$R" web01 --nbd "unix:$S" --to "$T/x.img" --cow ram
