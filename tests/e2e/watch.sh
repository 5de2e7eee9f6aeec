# The boot environment watched from elsewhere: the ISO boots (BIOS, CD) with a
# muletto.conf that names an SSH key, the status page (status=on, its token), a
# web hook (notify=) and an unattended restore from the host's nginx, slowed
# down. From the host, through QEMU's port forwarding:
#   - during the restore, /status.json shows it running with its bytes growing;
#     without the token the page is 403; headless Chromium shows the page (its
#     screenshot not blank); once it has ended, the page's numbers are those of
#     /status.json;
#   - the hook gets the 25/50/75 % notifications and the final record;
#   - the key gets a shell that runs `muletto status`, which lists the restore;
#     the host key is the one the console showed; a wrong key and a password
#     are refused.
# Then the guest is powered off over SSH and the disk compared with the image.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "boot environment watched"
e2e_need "boot environment watched"
for c in ssh ssh-keygen socat chromium; do
	command -v $c >/dev/null || { skip "boot environment watched" "$c is missing"; exit 0; }
done

ssh-keygen -q -t ed25519 -N '' -C technician -f "$T/id_good"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/id_bad"
# the chunks at 64 KiB/s a connection: the restore takes some seconds to watch
E2E_NGINX_EXTRA="location /repo/store/ { limit_rate 64k; }" e2e_repo ||
	{ fail "e2e repository" "capture failed"; exit 0; }
SSH_PORT=$(free_port) PAGE_PORT=$(free_port) HOOK_PORT=$(free_port)
TOKEN=tok$RANDOM$RANDOM
mkdir -p "$T/hook"
daemon_start "$T/hookd" "$HOOK_PORT" python3 "$MULETTO_TOP/tests/hook_server.py" "$HOOK_PORT" "$T/hook"
at_exit "daemon_stop $T/hookd 0"
e2e_config_disk "$T/config.img" "repo=http://10.0.2.100:8080/repo" "image=sample" \
	"target=auto" "auto=restore" "after=shell" "ssh_authorized_keys=$(cat "$T/id_good.pub")" \
	"status=on" "status_token=$TOKEN" "notify=http://10.0.2.100:8081/hook/secretpath"

# gssh KEY [ssh options] -- COMMAND: ssh into the guest as root with that key
gssh() {
	local key=$1; shift
	timeout 120 ssh -p "$SSH_PORT" -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=accept-new \
		-o ConnectTimeout=60 "$@"
}

page() { curl -s --max-time 20 "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@"; }
browser() { # what: --screenshot=FILE or --dump-dom, of the page with its token
	timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" \
		--window-size=1000,700 --virtual-time-budget=3000 "$@" \
		"http://127.0.0.1:$PAGE_PORT/?token=$TOKEN" 2>/dev/null
}
restore_job() { jq -c '[.jobs[] | select(.op == "restore")][0] // empty'; }

# from the host while the guest runs: its results go to $T/checks
checks() {
	local log=$1 i fp
	# the status page during the restore
	: >"$T/seen"
	for i in $(seq 1200); do
		grep -qa -e 'RESTORE OK' -e 'RESTORE FAILED' "$log" && break
		grep -qa 'status page: http' "$log" &&
			page "http://127.0.0.1:$PAGE_PORT/status.json?token=$TOKEN" | restore_job >>"$T/seen"
		if [ ! -s "$T/mid.png" ] && grep -q '"running"' "$T/seen"; then
			echo "$(code "http://127.0.0.1:$PAGE_PORT/status.json") $(code "http://127.0.0.1:$PAGE_PORT/?token=x$TOKEN")" >"$T/codes"
			browser --screenshot="$T/mid.png" >/dev/null
		fi
		sleep 0.5
	done
	local grew
	grew=$(jq -s '[.[] | select(.state == "running") | .done] | (length >= 2) and (. == sort) and (.[0] < .[-1])' "$T/seen")
	[ "$grew" = true ] &&
		pass "the guest's /status.json shows the restore running, its bytes growing ($(jq -s -c '[.[] | select(.state == "running") | .done] | [length, .[0], .[-1]]' "$T/seen"))" ||
		fail "the guest's /status.json shows the restore running" "$(jq -c '[.state, .done]' "$T/seen" | head -20 | tr '\n' ' ')"
	# "auto" until the disk is chosen (before any byte is written), then the disk
	[ "$(jq -s -r '[.[] | select(.state == "running") | .target] | .[index("/dev/vda") // length:] |
		unique | join(" ")' "$T/seen")" = /dev/vda ] &&
		pass "while it runs, the job names the disk target=auto chose: /dev/vda" ||
		fail "the job names the disk target=auto chose" "$(jq -s -c '[.[] | .target] | unique' "$T/seen")"
	[ "$(cat "$T/codes" 2>/dev/null)" = "403 403" ] && pass "without the token, or with a wrong one: 403" ||
		fail "without the token: 403" "$(cat "$T/codes" 2>/dev/null)"
	# WATCH_PNG=FILE keeps the screenshot (the README shows it)
	[ -z "${WATCH_PNG:-}" ] || [ ! -s "$T/mid.png" ] || cp "$T/mid.png" "$WATCH_PNG"
	if [ -s "$T/mid.png" ] && pngv=$(python3 "$MULETTO_TOP/tests/png_blank.py" "$T/mid.png"); then
		pass "Chromium shows the page during the restore: $pngv"
	else
		fail "Chromium shows the page during the restore" "${pngv:-no screenshot}"
	fi
	if ! grep -qa 'RESTORE OK' "$log"; then
		fail "unattended restore before the SSH checks" "$(grep -a 'muletto:' "$log" | tail -3)"
		return
	fi
	# once it has ended: the page's numbers are status.json's
	local fj want
	fj=$(page "http://127.0.0.1:$PAGE_PORT/status.json?token=$TOKEN" | restore_job)
	browser --dump-dom >"$T/page.html"
	want="data-done=\"$(jq .done <<<"$fj")\" data-total=\"$(jq .total <<<"$fj")\" data-percent=\"$(jq .percent <<<"$fj")\" data-state=\"done\""
	[ "$(jq -r .state <<<"$fj")" = done ] && grep -qF "$want" "$T/page.html" &&
		pass "the page in Chromium shows /status.json's final numbers: $want" ||
		fail "the page shows /status.json's numbers" "$fj; page: $(grep -o 'data-done[^>]*' "$T/page.html" | head -3)"
	# the hook: 25, 50, 75 %, then the final record
	local ms last
	ms=$(for f in "$T"/hook/*.json; do jq -c '.milestone // empty' "$f"; done | paste -sd, -)
	last=$(ls "$T"/hook/*.json 2>/dev/null | tail -1)
	[ "$ms" = "25,50,75" ] && [ "$(jq -r .state "$last")" = done ] && [ "$(jq .done "$last")" = "$(jq .done <<<"$fj")" ] &&
		grep -q '^/hook/secretpath$' "$T"/hook/000.type &&
		pass "notify= got 25, 50 and 75 %, then the final record ($(jq -c '{state, done}' "$last"))" ||
		fail "notify= from the guest" "milestones [$ms], last $(cat "$last" 2>/dev/null | head -c 300)"
	gssh "$T/id_good" root@127.0.0.1 'muletto status; echo "SHELL-AS-$(id -u)"' >"$T/ssh.out" 2>"$T/ssh.err"
	if grep -q '^SHELL-AS-0$' "$T/ssh.out" && grep -qE '^restore sample +done ' "$T/ssh.out"; then
		pass "SSH with the configured key: a root shell where muletto status lists the restore"
	else
		fail "SSH with the configured key" "$(cat "$T/ssh.out" "$T/ssh.err" | tail -5)"
	fi
	fp=$(ssh-keygen -lf "$T/known_hosts" 2>/dev/null | awk '{print $2}' | head -1)
	if [ -n "$fp" ] && grep -qa "SSH: ssh root@10.0.2.15 (1 keys may log in), host key $fp" "$log"; then
		pass "the console shows the address and the host key the client got ($fp)"
	else
		fail "the console shows the host key" "client got '$fp'; console: $(grep -a 'SSH:' "$log")"
	fi
	gssh "$T/id_bad" root@127.0.0.1 'echo SHOULD-NOT-RUN' >"$T/bad.out" 2>"$T/bad.err"
	if [ $? = 255 ] && ! grep -q SHOULD-NOT-RUN "$T/bad.out" && grep -q 'Permission denied' "$T/bad.err"; then
		pass "a key that is not configured is refused"
	else
		fail "a key that is not configured is refused" "$(cat "$T/bad.out" "$T/bad.err" | tail -3)"
	fi
	# the server offers no password method at all
	gssh "$T/id_bad" -v -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
		root@127.0.0.1 'echo SHOULD-NOT-RUN' >"$T/pw.out" 2>"$T/pw.err"
	if ! grep -q SHOULD-NOT-RUN "$T/pw.out" &&
		grep -q 'Authentications that can continue: publickey' "$T/pw.err" &&
		! grep -qE 'Authentications that can continue: .*(password|keyboard)' "$T/pw.err"; then
		pass "passwords are refused: the server offers public keys only"
	else
		fail "passwords are refused" "$(grep -E 'Authentications|denied' "$T/pw.err" | tail -3)"
	fi
	gssh "$T/id_good" root@127.0.0.1 'sync; poweroff -f' >/dev/null 2>&1 </dev/null &
}

truncate -s 112M "$T/target.img"
e2e_firmware bios
e2e_media cd
e2e_target "$T/target.img" virtio
e2e_net ",hostfwd=tcp:127.0.0.1:$SSH_PORT-:22,hostfwd=tcp:127.0.0.1:$PAGE_PORT-:80,guestfwd=tcp:10.0.2.100:8081-cmd:socat STDIO TCP:127.0.0.1:$HOOK_PORT"
Q+=(-drive "file=$T/config.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
    -device usb-storage,drive=cfg,bus=ehci.0)
checks "$T/guest.log" >"$T/checks" 2>&1 &
checker=$!
E2E_TIMEOUT=420 qemu_run "watched" "$T/guest.log"
wait $checker
cat "$T/checks"
grep -q '^FAIL' "$T/checks" &&
	echo "    guest: $(grep -a 'muletto:' "$T/guest.log" | tail -5 | tr '\n' ' ') $(cat "$T/guest.log.err")"
cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" &&
	pass "the restore the SSH session watched: disk identical (powered off over SSH at ${E2E_SECONDS}s)" ||
	fail "the restored disk is the image" "$(cmp -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" 2>&1)"
