# A server that lies (tests/hostile/liar.py): answers that never end, trickle,
# stall or drop every N bytes, names and dates with terminal control
# characters. Memory stays bounded, deadlines fire, dropped transfers resume at
# once, and nothing a server sends reaches the terminal raw.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
export MULETTO_CONF=$T/none.conf
unset MULETTO_TRUST

liar_start() { # ROOT -> port; its log is ROOT.log
	local port
	python3 "$MULETTO_TOP/tests/hostile/liar.py" --root "$1" --port 0 --log "$1.log" >"$1.port" &
	at_exit "kill $!"
	for _ in $(seq 100); do
		port=$(head -1 "$1.port" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
	wait_port "$port"
	echo "$port"
}

make_sample_disk "$T/a.img" 32
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name web01 --progress none >/dev/null 2>&1 ||
	fail "capture" "the sample capture failed"
port=$(liar_start "$T/www")
L=http://127.0.0.1:$port
idx=$L/repo/images/web01/disk0.caibx
peak() { /usr/bin/time -f %M -o "$T/rss" "$@"; }

# answers that never end: each cut at the most its object can be, at once
expect_fail "an endless chunk is cut at the most a chunk can be" \
	"chunk .*: $L/endless/repo/store/.*: the server sends more than [0-9]+ bytes, the most this can be" \
	"$MULETTO" restore "$idx" --store "$L/endless/repo/store" --to "$T/e1.img" --yes
expect_fail "an endless manifest is cut at 16 MiB" \
	"$L/endless/repo/images/web01/manifest.json: the server sends more than 16777216 bytes" \
	"$MULETTO" restore "$L/endless/repo" web01 --to "$T/e2.img" --yes
expect_fail "an endless listing is cut at 16 MiB" "images/: the server sends more than 16777216 bytes" \
	"$MULETTO" ls "$L/endless/repo"
expect_fail "a bare index of no announced size is cut at 64 MiB" "the server sends more than 67108864 bytes" \
	"$MULETTO" restore "$L/endless/repo/images/web01/disk0.caibx" --store "$L/repo/store" --to "$T/e3.img" --yes
expect_fail "an announced length of 1 TiB is refused before it is read" "the server sends more than" \
	"$MULETTO" restore "$idx" --store "$L/endless-len/repo/store" --to "$T/e4.img" --yes
[ ! -s "$T/e1.img" ] || [ "$(tr -d '\0' <"$T/e1.img" | head -c1 | wc -c)" = 0 ] &&
	pass "nothing of an endless chunk is written" || fail "nothing of an endless chunk is written"
# memory, measured on the plain build (the sanitiser's shadow memory is not ours)
peak "$MULETTO_TOP/build/muletto" restore "$idx" --store "$L/endless/repo/store" --to "$T/m1.img" \
	--yes >/dev/null 2>&1
rss1=$(cat "$T/rss" | tail -1)
peak "$MULETTO_TOP/build/muletto" restore "$L/endless/repo/images/web01/disk0.caibx" \
	--store "$L/repo/store" --to "$T/m2.img" --yes >/dev/null 2>&1
rss2=$(cat "$T/rss" | tail -1)
[ "$rss1" -lt 262144 ] && [ "$rss2" -lt 262144 ] &&
	pass "peak memory against endless answers: $((rss1 / 1024)) MiB (chunks), $((rss2 / 1024)) MiB (index)" ||
	fail "peak memory against endless answers stays under 256 MiB" "$rss1 KiB, $rss2 KiB"

# deadlines that fire: a trickle, a stall and late headers are cut after
# MULETTO_STALL_SECONDS and given up after MULETTO_RETRY_SECONDS
for mode in trickle=2 stall slowheaders=30; do
	start=$SECONDS
	expect_fail "a server that answers with $mode is given up" \
		"too slow: [0-9]+ bytes in the last 2 s, less than 512 bytes a second.*still failing after [0-9]+ s of retrying" \
		env MULETTO_STALL_SECONDS=2 MULETTO_RETRY_SECONDS=5 timeout 120 \
		"$MULETTO" restore "$idx" --store "$L/$mode/repo/store" --to "$T/s.img" --yes
	[ $((SECONDS - start)) -lt 60 ] && pass "$mode: given up in $((SECONDS - start)) s, not never" ||
		fail "$mode: given up in time" "$((SECONDS - start)) s"
done

# a link that drops every 100 kB: each drop resumes at once where it stopped
: >"$T/www.log"
start=$SECONDS
"$MULETTO" restore "$L/drop=100000/repo" web01 --to "$T/d.img" --yes >"$T/d.out" 2>&1 ||
	fail "restore over a link that drops every 100 kB" "$(tail -3 "$T/d.out")"
check_cmp "restore over a link that drops every 100 kB: identical ($((SECONDS - start)) s)" "$T/a.img" "$T/d.img"
resumed=$(grep -c ' 206 .*bytes=[1-9][0-9]*-' "$T/www.log")
[ "$resumed" -gt 20 ] && pass "each drop resumed with a range ($resumed resumed requests)" ||
	fail "each drop resumed with a range" "$resumed"
# the byte counts in the message are of the whole object, after a resume too
out=$(env MULETTO_RETRY_SECONDS=0 MULETTO_MIN_RATE=1000000000 "$MULETTO" restore "$idx" \
	--store "$L/drop=100000/repo/store" --to "$T/d2.img" --yes 2>&1)
chunk=$(grep -o 'store/[0-9a-f]*/[0-9a-f]*\.cacnk' <<<"$out" | head -1)
size=$(stat -c %s "$T/www/repo/$chunk" 2>/dev/null)
got=$(grep -o "connection dropped after [0-9]* of $size bytes" <<<"$out" | awk '{print $4}')
[ -n "$got" ] && [ "$got" -gt 0 ] && [ "$got" -le 100000 ] &&
	pass "a dropped chunk says how much of its $size bytes came" ||
	fail "a dropped chunk says how much of its bytes came" "$out"

# nothing from a server reaches the terminal raw
"$MULETTO" ls "$L/ctrl/repo" >"$T/ctrl.out" 2>&1
grep -q $'\033\|\x9b\|\r' "$T/ctrl.out" && fail "hostile names are shown escaped" "$(cat -v "$T/ctrl.out")" ||
	{ grep -qF 'pwn\x1b]0;PWNED\x07' "$T/ctrl.out" && grep -qF 'csi\x9b2J' "$T/ctrl.out" &&
		pass "hostile names are shown escaped" || fail "hostile names are shown escaped" "$(cat -v "$T/ctrl.out")"; }
"$MULETTO" ls "$L/ctrl/repo" --json >"$T/ctrl.json" 2>&1
jq -e '[.images[].name] | length >= 5' "$T/ctrl.json" >/dev/null && ! grep -q $'\033' "$T/ctrl.json" &&
	pass "ls --json escapes them by JSON's rules" || fail "ls --json escapes them by JSON's rules" "$(cat -v "$T/ctrl.json" | head)"
mkdir -p "$T/www/evil/images/web01" && cp -r "$T/www/repo/store" "$T/www/evil/" &&
	cp "$T/www/repo/images/web01/disk0.caibx" "$T/www/evil/images/web01/"
sed 's/"created": "[^"]*"/"created": "\\u001b]0;PWNED\\u0007\\u001b[2J"/' \
	"$T/www/repo/images/web01/manifest.json" >"$T/www/evil/images/web01/manifest.json"
"$MULETTO" ls "$L/evil" >"$T/evil.out" 2>&1
grep -q $'\033' "$T/evil.out" && fail "a hostile date is shown escaped" "$(cat -v "$T/evil.out")" ||
	{ grep -qF '\x1b]0;PWNED\x07\x1b[2J' "$T/evil.out" && pass "a hostile date is shown escaped" ||
		fail "a hostile date is shown escaped" "$(cat -v "$T/evil.out")"; }
expect_fail "a 503 is retried then named" "HTTP 503.*still failing after" \
	env MULETTO_RETRY_SECONDS=1 "$MULETTO" restore "$idx" --store "$L/status=503/repo/store" --to "$T/x.img" --yes
