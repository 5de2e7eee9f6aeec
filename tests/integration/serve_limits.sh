# muletto serve at its limits: a 2 TiB image served (read-only, and hydrating
# onto a new file) in under 128 MiB; two clients at once; a repository that
# goes away (the client waits, and gets an I/O error only after
# MULETTO_RETRY_SECONDS; the server goes on when it is back); signed images
# under a trusted key, as restore.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
export MULETTO_CONF=$T/none.conf
unset MULETTO_TRUST
REL=$MULETTO_TOP/build/muletto # memory is measured on the shipped build
S=$T/nbd.sock
uri="nbd+unix:///?socket=$S"

# serve_bg LOG BIN ARGS...: serve in the background (under /usr/bin/time) until ready
serve_bg() {
	local log=$1 bin=$2
	shift 2
	rm -f "$S"
	/usr/bin/time -f %M -o "$log.rss" "$bin" serve "$@" --nbd "unix:$S" --json >"$log" 2>&1 &
	TIME_PID=$!
	at_exit "pkill -9 -P $TIME_PID"
	for _ in $(seq 300); do
		grep -q '"state":"ready"' "$log" 2>/dev/null && return 0
		kill -0 $TIME_PID 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
serve_end() { pkill -TERM -P "$TIME_PID"; wait "$TIME_PID"; }

# a 2 TiB repository: two data chunks among 2 million empty ones
head -c 1M /dev/urandom >"$T/c1"
head -c 1M /dev/urandom >"$T/c2"
mkdir -p "$T/big/images/huge"
for c in c1 c2; do
	h=$(sha256sum "$T/$c" | cut -c1-64)
	mkdir -p "$T/big/store/${h:0:4}"
	zstd -q "$T/$c" -o "$T/big/store/${h:0:4}/$h.cacnk"
done
TIB2=$((2 << 20))
mapfile -t offs < <(python3 "$MULETTO_TOP/tests/mkcaibx.py" "$T/big/images/huge/disk0.caibx" $TIB2 "$T/c1" "$T/c2")
cat >"$T/big/images/huge/manifest.json" <<JSON
{ "format": "muletto-manifest", "version": 1, "name": "huge", "created": "2026-11-28T00:00:00Z",
  "chunking": { "hash": "sha256", "compression": "zstd", "chunk_size": 1048576 },
  "disks": [ { "index": 0, "file": "disk0.caibx",
    "index_sha256": "$(sha256sum "$T/big/images/huge/disk0.caibx" | cut -c1-64)",
    "size": $((TIB2 << 20)), "logical_sector_size": 512, "physical_sector_size": 512,
    "chunks": $TIB2, "chunks_zero": $((TIB2 - 2)), "bytes_used": 2097152 } ] }
JSON

check_chunks() { # NAME: the two data chunks, read through the export
	local ok=1 k
	for k in 0 1; do
		/usr/bin/python3 -c 'import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
sys.stdout.buffer.write(h.pread(1 << 20, int(sys.argv[2])))' "$uri" "${offs[k]}" >"$T/got" 2>/dev/null &&
			cmp -s "$T/got" "$T/c$((k + 1))" || ok=0
	done
	[ $ok = 1 ] && pass "$1: the data chunks read back exactly" || fail "$1: the data chunks read back exactly"
}

serve_bg "$T/ro.log" "$REL" "$T/big" huge || fail "serve 2 TiB read-only" "$(cat "$T/ro.log")"
[ "$(nbdinfo --size "$uri")" = $((TIB2 << 20)) ] && pass "a 2 TiB image served: its size" ||
	fail "a 2 TiB image served: its size" "$(nbdinfo --size "$uri" 2>&1)"
check_chunks "2 TiB read-only"
serve_end
rss=$(tail -1 "$T/ro.log.rss")
[ "$rss" -lt $((128 * 1024)) ] && pass "2 TiB read-only: peak memory $((rss / 1024)) MiB (limit 128)" ||
	fail "2 TiB read-only: peak memory under 128 MiB" "$((rss / 1024)) MiB"

serve_bg "$T/h.log" "$REL" "$T/big" huge --to "$T/huge.img" || fail "serve 2 TiB --to" "$(cat "$T/h.log")"
for _ in $(seq 600); do grep -q '"state":"hydrated"' "$T/h.log" && break; sleep 0.1; done
grep -q '"state":"hydrated"' "$T/h.log" && pass "2 TiB hydrated onto a new file (2 chunks fetched)" ||
	fail "2 TiB hydrated onto a new file" "$(tail -3 "$T/h.log")"
check_chunks "2 TiB hydrated"
serve_end
rss=$(tail -1 "$T/h.log.rss")
alloc=$(du -k "$T/huge.img" | cut -f1)
[ "$rss" -lt $((128 * 1024)) ] && [ "$alloc" -lt 8192 ] &&
	pass "2 TiB hydrated: peak memory $((rss / 1024)) MiB, $alloc KiB allocated" ||
	fail "2 TiB hydrated: memory and space" "$((rss / 1024)) MiB, $alloc KiB"

# two clients at once, and a repository that goes away
make_sample_disk "$T/a.img" 32
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name web01 --progress none >/dev/null 2>&1
port=$(nginx_start "$T/www")
# a stretch of data past the first chunk: fetched only when read
data_at=$(python3 -c 'import sys
f = open(sys.argv[1], "rb"); i = 2
while f.seek(i << 20) is not None and not any(f.read(1 << 20)): i += 1
print(i << 20)' "$T/a.img")
serve_bg "$T/two.log" "$MULETTO" "http://127.0.0.1:$port/repo" web01 || fail "serve over HTTP" "$(cat "$T/two.log")"
nbdcopy "$uri" "$T/x1.img" & p1=$!
nbdcopy "$uri" "$T/x2.img" & p2=$!
wait $p1 && wait $p2 && cmp -s "$T/a.img" "$T/x1.img" && cmp -s "$T/a.img" "$T/x2.img" &&
	pass "two clients at once both read the image" || fail "two clients at once both read the image"
serve_end
export MULETTO_RETRY_SECONDS=3
serve_bg "$T/away.log" "$MULETTO" "http://127.0.0.1:$port/repo" web01 ||
	fail "serve over HTTP" "$(cat "$T/away.log")"
unset MULETTO_RETRY_SECONDS
qemu-io -r -f raw "$uri" -c 'read 0 4k' >/dev/null 2>&1 # the server has answered once
nginx_stop "$T/nginx-$port"
start=$SECONDS
out=$(qemu-io -r -f raw "$uri" -c "read $data_at 64k" 2>&1)
waited=$((SECONDS - start))
grep -qi "input/output error" <<<"$out" && [ $waited -ge 3 ] &&
	pass "the repository away: the read fails with EIO after MULETTO_RETRY_SECONDS (${waited}s)" ||
	fail "the repository away: EIO after the retries" "${waited}s: $out"
/usr/sbin/nginx -c "$T/nginx-$port/nginx.conf" -e "$T/nginx-$port/error.log" 2>/dev/null
wait_port "$port"
nbdcopy "$uri" "$T/x3.img" && cmp -s "$T/a.img" "$T/x3.img" &&
	pass "the repository back: the same server serves the image again" ||
	fail "the repository back: the same server serves the image again"
serve_end

# under a trusted key, an unsigned image is not served
"$MULETTO" keygen "$T/k" >/dev/null 2>&1
expect_fail "an unsigned image is not served under --trust" "is not signed, and only images signed by" \
	"$MULETTO" serve "$T/www/repo" web01 --nbd "unix:$S" --trust "$T/k.pub"
[ ! -S "$S" ] && pass "... and no socket was opened" || fail "... and no socket was opened"
