# The job watched from anywhere: a slow restore's record (its bytes, its
# chunks) grows in /status.json while muletto status --serve runs, its chunks
# at the end those of restore --json, and a local restore's too; the page
# behind its token (403 without), refused on a public address without one,
# not held by a trickling or an oversized request; the page in headless
# Chromium (screenshot not blank, its numbers those of status.json); notify=
# gets 25/50/75 % and the end of a good and of a failing restore,
# notify_email= a mail; the restore's record in a file:// repository and none
# in an http:// one; no secret anywhere.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root status
PY3=/usr/bin/python3 # Debian's, with python3-aiosmtpd

export MULETTO_RUN_DIR=$T/run/vms MULETTO_LOG=$T/muletto.log
jobs=$T/run/jobs
TOKEN=tok-$RANDOM$RANDOM
HOOK_PW=hooksecret$RANDOM
SMTP_PW=smtpsecret$RANDOM
echo "muletto: repository http://someone:logpw$RANDOM@nas/repo" >"$MULETTO_LOG"
logpw=$(grep -o 'logpw[0-9]*' "$MULETTO_LOG")

make_sample_disk "$T/a.img" 64
"$MULETTO" capture "$T/a.img" "$T/repo" --name a --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"
port=$(nginx_start "$T" "location /repo/store/ { limit_rate 256k; }")

# the hook: every POST's body in $T/hook/N.json, its Content-Type in N.type
hport=$(free_port)
mkdir -p "$T/hook"
daemon_start "$T/hook" "$hport" "$PY3" "$MULETTO_TOP/tests/hook_server.py" "$hport" "$T/hook"
at_exit "daemon_stop $T/hook 0"
mport=$(free_port)
if "$PY3" -c 'import aiosmtpd' 2>/dev/null; then
	daemon_start "$T/smtp" "$mport" "$PY3" -m aiosmtpd -n -l "127.0.0.1:$mport" \
		-c aiosmtpd.handlers.Mailbox "$T/mbox"
	at_exit "daemon_stop $T/smtp 0"
	smtp=1
else
	smtp=0
fi

conf=$T/muletto.conf
cat >"$conf" <<CONF
status_token=$TOKEN
notify=http://hook:$HOOK_PW@127.0.0.1:$hport/hook/T0123/secretpath
notify_email=tech@example.test
smtp=smtp://127.0.0.1:$mport
CONF
chmod 600 "$conf"
export MULETTO_CONF=$conf

# --- the page's server ---
sport=$(free_port)
daemon_start "$T/status" "$sport" "$MULETTO" status --serve "127.0.0.1:$sport" ||
	fail "status --serve starts" "$(cat "$T/status.out")"
at_exit "daemon_stop $T/status 0"
base=http://127.0.0.1:$sport
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
sj() { curl -s --max-time 5 "$base/status.json?token=$TOKEN"; }

# --- a slow restore, watched ---
"$MULETTO" restore "http://127.0.0.1:$port/repo" a --to "$T/b.img" --threads 2 --json \
	>"$T/slow.json" 2>"$T/slow.err" &
rpid=$!
job() { jq -c --argjson p "$rpid" '[.jobs[] | select(.pid == $p)][0] // empty'; }
: >"$T/seen"
dom_ok=""
for i in $(seq 200); do
	kill -0 "$rpid" 2>/dev/null || break
	sj | job >>"$T/seen"
	if [ -z "$dom_ok" ] && [ "$(grep -c '"running"' "$T/seen")" -ge 4 ]; then
		# the page at a moment: its numbers lie between status.json's before and after
		before=$(sj | job | jq '.done')
		chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" \
			--virtual-time-budget=1500 --dump-dom "$base/?token=$TOKEN" >"$T/mid.html" 2>/dev/null
		after=$(sj | job | jq '.done')
		mid=$(grep -oE "data-done=\"[0-9]+\" data-total=\"[0-9]+\" data-percent=\"[0-9]+\" data-state=\"[a-z]+\" data-pid=\"$rpid\"" \
			"$T/mid.html" | grep -oE '^data-done="[0-9]+' | tr -dc '0-9')
		dom_ok="$before ${mid:-none} $after"
	fi
	sleep 0.25
done
wait "$rpid"
rc=$?
[ "$rc" = 0 ] && check_cmp "the watched restore is identical" "$T/a.img" "$T/b.img" ||
	fail "the watched restore" "exit $rc: $(cat "$T/slow.err")"
n=$(grep -c . "$T/seen")
grow=$(jq -s '[.[] | select(.state == "running") | .done] | (length > 2) and (. == sort) and (.[0] < .[-1])' "$T/seen")
[ "$grow" = true ] && pass "status.json shows the restore running, its done growing ($n samples: $(jq -s -c '[.[] | select(.state == "running") | .done] | [.[0], .[-1]]' "$T/seen"))" ||
	fail "status.json shows the restore's done growing" "$(jq -c '[.state, .done]' "$T/seen" | tr '\n' ' ')"
read -r b m a <<<"$dom_ok"
[ -n "$m" ] && [ "$m" != none ] && [ "$b" -le "$m" ] && [ "$m" -le "$a" ] &&
	pass "the page during the restore shows $m bytes, between status.json's $b and $a" ||
	fail "the page during the restore matches status.json" "before/page/after: ${dom_ok:-not taken}"

# final numbers: status.json, the job's file and restore --json agree
final=$(sj | job)
ok=$(jq -n --argjson f "$final" --slurpfile r "$T/slow.json" '
	$f.state == "done" and $f.percent == 100 and $f.done == $r[0].bytes_total and
	([ "bytes_total", "bytes_written", "bytes_fetched", "chunks_total", "chunks_fetched",
	   "chunks_seeded", "chunks_zero" ] | all(. as $k | $f.counts[$k] == $r[0][$k]))')
[ "$ok" = true ] && pass "the final record matches restore --json ($(jq -c '{done, percent, counts}' <<<"$final"))" ||
	fail "the final record matches restore --json" "$final vs $(cat "$T/slow.json")"
# the chunk counts: growing while it runs, at the end those of restore --json
live=$(jq -s -c '[.[] | select(.state == "running" and .chunks != null) | .chunks]' "$T/seen")
ok=$(jq -n --argjson l "$live" '($l | length > 2) and ([$l[] | .fetched] | . == sort and .[0] < .[-1]) and
	all($l[]; .fetched + .seeded + .zero <= .total)')
[ "$ok" = true ] && pass "status.json shows the restore's chunks as they arrive ($(jq -c '[.[0], .[-1]]' <<<"$live"))" ||
	fail "status.json shows the restore's chunks growing" "$live"
chunks_match() { # JOB RESULT: 1 when the job's chunks are the restore --json result's
	jq -n --argjson f "$1" --slurpfile r "$2" '$f.chunks == {total: $r[0].chunks_total,
		fetched: $r[0].chunks_fetched, seeded: $r[0].chunks_seeded, zero: $r[0].chunks_zero}'
}
[ "$(chunks_match "$final" "$T/slow.json")" = true ] &&
	pass "status.json's chunks are restore --json's: $(jq -c .chunks <<<"$final")" ||
	fail "status.json's chunks are restore --json's" "$(jq -c .chunks <<<"$final") vs $(cat "$T/slow.json")"
cmp -s <(jq -S 'del(.seconds)' "$jobs/restore-$rpid.json") <(jq -S 'del(.seconds, .file)' <<<"$final") &&
	pass "status.json's job is the record in $jobs" || fail "status.json's job is its record file"
st=$("$MULETTO" status --json | jq -c --argjson p "$rpid" '.jobs[] | select(.pid == $p) | [.state, .done]')
[ "$st" = "[\"done\",$(jq .bytes_total "$T/slow.json")]" ] && pass "muletto status --json lists the job: $st" ||
	fail "muletto status --json lists the job" "$st"
"$MULETTO" status | grep -qE "^restore a +done +$rpid " && pass "muletto status shows the job's line" ||
	fail "muletto status shows the job's line" "$("$MULETTO" status)"
want=$(jq -r '"  fetched \(.chunks_fetched), seeded \(.chunks_seeded), zero \(.chunks_zero) of \(.chunks_total) chunks"' "$T/slow.json")
"$MULETTO" status | grep -A1 -E "^restore a +done +$rpid " | tail -1 | grep -qxF "$want" &&
	pass "muletto status shows the job's chunks:$want" ||
	fail "muletto status shows the job's chunks" "want '$want': $("$MULETTO" status)"
[ ! -e "$T/repo/images/a/restores" ] && pass "no restore record in an http:// repository" ||
	fail "no restore record in an http:// repository" "$(ls "$T/repo/images/a/restores")"

# --- the token ---
c1=$(code "$base/status.json") c2=$(code "$base/status.json?token=wrong$TOKEN") c3=$(code "$base/")
c4=$(code "$base/status.json?token=$TOKEN") c5=$(code -H "Authorization: Bearer $TOKEN" "$base/status.json")
c6=$(code -H "Authorization: Bearer x$TOKEN" "$base/") c7=$(code -X POST "$base/status.json?token=$TOKEN")
[ "$c1 $c2 $c3 $c6" = "403 403 403 403" ] && pass "no token or a wrong one: 403 ($c1 $c2 $c3 $c6)" ||
	fail "no token or a wrong one: 403" "$c1 $c2 $c3 $c6"
[ "$c4 $c5" = "200 200" ] && pass "the token as ?token= or a Bearer header: 200" ||
	fail "the right token: 200" "$c4 $c5"
[ "$c7" = 405 ] && pass "read-only: POST is refused (405)" || fail "POST refused" "$c7"
type=$(curl -s -o /dev/null -w '%{content_type}' "$base/status.json?token=$TOKEN")
[ "$type" = application/json ] && pass "status.json is application/json" || fail "status.json's type" "$type"

# --- a public address without a token ---
printf 'notify=\n' >"$T/plain.conf"
pport=$(free_port)
out=$(MULETTO_CONF=$T/plain.conf timeout 5 "$MULETTO" status --serve "0.0.0.0:$pport" 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q 'status_token=' <<<"$out" && [ "$(grep -c . <<<"$out")" = 1 ] &&
	pass "0.0.0.0 without a token is refused: $out" || fail "0.0.0.0 without a token is refused" "rc $rc: $out"
lport=$(free_port)
MULETTO_CONF=$T/plain.conf "$MULETTO" status --serve "127.0.0.1:$lport" >"$T/lo.out" 2>&1 &
lpid=$!
wait_port "$lport" && [ "$(code "http://127.0.0.1:$lport/status.json")" = 200 ] &&
	pass "loopback without a token is served" || fail "loopback without a token is served" "$(cat "$T/lo.out")"
kill "$lpid"

# --- clients that would hold the server ---
cat >"$T/hostile.py" <<'PY'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(('127.0.0.1', port))
t0 = time.time()
if what == 'big':
    try:
        s.sendall(b'GET /status.json HTTP/1.1\r\nX-Fill: ' + b'a' * 9000)
    except OSError:
        pass
    s.settimeout(8)
    try:
        print(s.recv(100).split(b'\r\n')[0].decode() or 'closed')
    except OSError as e:
        print('closed', type(e).__name__)
else:  # a byte every 0.4 s, until the server drops it
    try:
        for b in b'GET /status.json HTTP/1.1\r\nHost: x\r\n' * 20:
            s.send(bytes([b])); time.sleep(0.4)
            if time.time() - t0 > 20: break
        print('never dropped')
    except OSError:
        print('dropped after %.0f s' % (time.time() - t0))
PY
"$PY3" "$T/hostile.py" "$sport" trickle >"$T/trickle.out" 2>&1 &
tpid=$!
big=$("$PY3" "$T/hostile.py" "$sport" big 2>&1)
sleep 1
t0=$(date +%s.%N)
c=$(code "$base/status.json?token=$TOKEN")
t=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$c" = 200 ] && [ "$(echo "$t < 2" | bc)" = 1 ] &&
	pass "answered in ${t%????????} s while a client trickles" || fail "answered while a client trickles" "$c in $t s"
case "$big" in *431*) pass "a 9 KiB request: $big" ;; *) fail "a 9 KiB request is refused" "$big" ;; esac
wait "$tpid"
grep -q 'dropped after [4-9] s' "$T/trickle.out" && pass "the trickling client is $(cat "$T/trickle.out")" ||
	fail "the trickling client is dropped" "$(cat "$T/trickle.out")"
[ "$(code "$base/status.json?token=$TOKEN")" = 200 ] && pass "still answering after them" ||
	fail "still answering after them"

# --- the page in a browser ---
sj >"$T/final.json"
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" --window-size=1000,700 \
	--virtual-time-budget=1500 --screenshot="$T/page.png" "$base/?token=$TOKEN" >/dev/null 2>&1
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" \
	--virtual-time-budget=1500 --dump-dom "$base/?token=$TOKEN" >"$T/page.html" 2>/dev/null
if [ -s "$T/page.png" ] && pngv=$("$PY3" "$MULETTO_TOP/tests/png_blank.py" "$T/page.png"); then
	pass "the page's screenshot is not blank: $pngv"
else
	fail "the page's screenshot is not blank" "${pngv:-no screenshot}"
fi
fj=$(job <"$T/final.json")
want="data-done=\"$(jq .done <<<"$fj")\" data-total=\"$(jq .total <<<"$fj")\" data-percent=\"$(jq .percent <<<"$fj")\" data-state=\"done\" data-pid=\"$rpid\""
grep -qF "$want" "$T/page.html" && grep -qF "($(jq .done <<<"$fj") of $(jq .total <<<"$fj") bytes)" "$T/page.html" &&
	pass "the page shows status.json's numbers: $want" ||
	fail "the page shows status.json's numbers" "$want not in $(grep -o 'data-done[^>]*' "$T/page.html" | head -3)"
want=$(jq -r '"fetched \(.chunks_fetched), seeded \(.chunks_seeded), zero \(.chunks_zero) of \(.chunks_total) chunks"' "$T/slow.json")
grep -F "data-pid=\"$rpid\"" "$T/page.html" | grep -qF "$want" && pass "the page shows the restore's chunks: $want" ||
	fail "the page shows the restore's chunks" "$want not in $(grep -o 'fetched [^<]*chunks' "$T/page.html" | head -3)"
grep -q '<h2>Disks</h2>' "$T/page.html" && grep -q 'muletto: repository http://nas/repo' "$T/page.html" &&
	pass "the page shows the disks and the log" || fail "the page shows the disks and the log"

# --- notifications of the slow restore ---
hooked() { for f in "$T"/hook/*.json; do jq -c --argjson p "$1" 'select(.pid == $p)' "$f"; done; }
hooked "$rpid" >"$T/slow.hook"
ms=$(jq -s -c '[.[] | .milestone | select(. != null)]' "$T/slow.hook")
[ "$ms" = "[25,50,75]" ] && pass "notify= got 25, 50 and 75 %" || fail "notify= got 25, 50 and 75 %" "$ms"
last=$(tail -1 "$T/slow.hook")
[ "$(jq -r '.state' <<<"$last")" = done ] && [ "$(jq .counts.bytes_fetched <<<"$last")" = "$(jq .bytes_fetched "$T/slow.json")" ] &&
	pass "notify= got the final record, last ($(jq -c '{state, done, percent}' <<<"$last"))" ||
	fail "notify= got the final record" "$last"
grep -q '^application/json$' "$T"/hook/000.type && grep -q '^/hook/T0123/secretpath$' "$T"/hook/000.type &&
	grep -q '^Basic ' "$T"/hook/000.type && pass "POSTed as application/json to the hook's path, its user:password as Basic" ||
	fail "POSTed as application/json with Basic" "$(cat "$T"/hook/000.type)"
if [ "$smtp" = 1 ]; then
	mail=$(grep -rl '^Subject: muletto restore of a on .*: done' "$T/mbox" | head -1)
	[ -n "$mail" ] && grep -q '^To: <tech@example.test>' "$mail" &&
		pass "notify_email= got a mail: $(grep '^Subject:' "$mail")" ||
		fail "notify_email= got a mail" "$(grep -r '^Subject' "$T/mbox" 2>&1)"
else
	skip "notify_email= through a local SMTP sink" "python3-aiosmtpd is not installed (scripts/deps.sh check)"
fi

# --- a failing restore notifies too; a local restore leaves its record ---
"$MULETTO" restore "$T/repo" missing --to "$T/c.img" >"$T/fail.out" 2>"$T/fail.err" &
fpid=$!
wait "$fpid" && fail "a restore of a missing image fails"
hooked "$fpid" | tail -1 >"$T/fail.hook"
[ "$(jq -r .state "$T/fail.hook")" = failed ] && jq -r .error "$T/fail.hook" | grep -q "no image 'missing'" &&
	pass "a failing restore notifies: $(jq -c '{state, error}' "$T/fail.hook")" ||
	fail "a failing restore notifies" "$(cat "$T/fail.hook") / $(cat "$T/fail.err")"
[ ! -e "$T/repo/images/missing" ] && pass "no folder made for a missing image" || fail "no folder made for a missing image"

"$MULETTO" restore "file://$T/repo" a --to "$T/d.img" --json >"$T/local.json" 2>"$T/local.err" ||
	fail "a restore from a file:// repository" "$(cat "$T/local.err")"
rec=$(ls "$T"/repo/images/a/restores/*.json 2>/dev/null)
if [ "$(echo "$rec" | grep -c .)" = 1 ] && [[ "$(basename "$rec")" =~ ^[0-9]{8}-[0-9]{6}\.json$ ]] &&
	[ "$(jq -c '[.result, .image, .target.path, .target.size, .bytes_total, .bytes_fetched, .host, .error]' "$rec")" = \
	"$(jq -c --arg t "$T/d.img" --arg h "$(hostname)" '["ok", "a", $t, .bytes_total, .bytes_total, .bytes_fetched, $h, null]' "$T/local.json")" ]; then
	pass "the restore's record in the file:// repository: $(basename "$rec") $(jq -c '{result, target, seconds}' "$rec")"
else
	fail "the restore's record in the file:// repository" "$rec: $(cat $rec 2>&1)"
fi

# the same restore again, from a local repository: every chunk is on the disk
# already; the job's chunks in status.json are the restore's own
"$MULETTO" restore "file://$T/repo" a --to "$T/d.img" --yes --json >"$T/again.json" 2>"$T/again.err" &
apid=$!
wait "$apid" || fail "the same restore again" "$(cat "$T/again.err")"
aj=$(sj | jq -c --argjson p "$apid" '[.jobs[] | select(.pid == $p)][0] // empty')
[ "$(chunks_match "$aj" "$T/again.json")" = true ] && [ "$(jq .chunks.seeded <<<"$aj")" -gt 0 ] &&
	pass "a local restore's chunks in status.json are restore --json's: $(jq -c .chunks <<<"$aj")" ||
	fail "a local restore's chunks in status.json are restore --json's" "${aj:-no job} vs $(cat "$T/again.json")"

# --- notifications that fail are warnings; secrets stay out ---
dport=$(free_port)
cat >"$T/dead.conf" <<CONF
notify=http://hook:$HOOK_PW@127.0.0.1:$dport/hook/T0123/secretpath
notify_email=tech@example.test
smtp=smtp://127.0.0.1:$mport
smtp_user=muletto
smtp_password=$SMTP_PW
CONF
chmod 600 "$T/dead.conf"
MULETTO_CONF=$T/dead.conf "$MULETTO" restore "$T/repo" a --to "$T/e.img" >"$T/dead.out" 2>"$T/dead.err"
rc=$?
[ "$rc" = 0 ] && grep -q "notify: POST to http://127.0.0.1:$dport failed" "$T/dead.err" &&
	grep -q "notify_email: mail to <tech@example.test> through smtp://127.0.0.1:$mport failed" "$T/dead.err" &&
	pass "a hook that is down and an SMTP server without TLS are warnings; the restore succeeds" ||
	fail "failed notifications are warnings" "rc $rc: $(cat "$T/dead.err")"
leaks=$(grep -rlE "$HOOK_PW|$SMTP_PW|$logpw|secretpath" "$T"/*.out "$T"/*.err "$T"/*.json "$jobs" \
	"$T"/repo/images/a/restores "$T"/hook/*.json "$T"/page.html "$T/mbox" -r 2>/dev/null)
leaks2=$(grep -l "$TOKEN" "$T/status.out" "$jobs"/* "$T"/page.html 2>/dev/null)
[ -z "$leaks$leaks2" ] && pass "no password, hook path or token in any output, record, page or mail" ||
	fail "no secret anywhere" "$leaks $leaks2"
grep -q '^status page on\|^muletto: status page on http://127.0.0.1' "$T/status.out" &&
	pass "the server says where it listens: $(head -1 "$T/status.out")" || fail "the server says where" "$(cat "$T/status.out")"
grep -q 'AddressSanitizer\|runtime error' "$T"/*.err "$T"/*.out && fail "no sanitizer reports" "$(grep -l 'AddressSanitizer\|runtime error' "$T"/*.err "$T"/*.out)"
exit 0
