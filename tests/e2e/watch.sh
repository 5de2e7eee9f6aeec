# The boot environment watched from elsewhere: the ISO boots (BIOS, CD) with a
# muletto.conf that names an SSH key and an unattended restore from the host's
# nginx. Once the restore is done, from the host through QEMU's port
# forwarding: the key gets a shell that runs `muletto status`, the host key is
# the one the console showed, a wrong key and a password are refused. Then
# the guest is powered off over SSH and the disk compared with the image.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "boot environment watched"
e2e_need "boot environment watched"
for c in ssh ssh-keygen socat; do
	command -v $c >/dev/null || { skip "boot environment watched" "$c is missing"; exit 0; }
done

ssh-keygen -q -t ed25519 -N '' -C technician -f "$T/id_good"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/id_bad"
e2e_repo || { fail "e2e repository" "capture failed"; exit 0; }
SSH_PORT=$(free_port)
e2e_config_disk "$T/config.img" "repo=http://10.0.2.100:8080/repo" "image=sample" \
	"target=auto" "auto=restore" "after=shell" "ssh_authorized_keys=$(cat "$T/id_good.pub")"

# gssh KEY [ssh options] -- COMMAND: ssh into the guest as root with that key
gssh() {
	local key=$1; shift
	timeout 120 ssh -p "$SSH_PORT" -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=accept-new \
		-o ConnectTimeout=60 "$@"
}

# from the host while the guest runs: its results go to $T/checks
checks() {
	local log=$1 i fp
	for i in $(seq 600); do
		grep -qa -e 'RESTORE OK' -e 'RESTORE FAILED' "$log" && break
		sleep 0.5
	done
	if ! grep -qa 'RESTORE OK' "$log"; then
		fail "unattended restore before the SSH checks" "$(grep -a 'muletto:' "$log" | tail -3)"
		return
	fi
	gssh "$T/id_good" root@127.0.0.1 'muletto status; echo "SHELL-AS-$(id -u)"' >"$T/ssh.out" 2>"$T/ssh.err"
	if grep -q '^SHELL-AS-0$' "$T/ssh.out" && grep -q "^no VMs" "$T/ssh.out"; then
		pass "SSH with the configured key: a root shell that runs muletto status"
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
e2e_net ",hostfwd=tcp:127.0.0.1:$SSH_PORT-:22"
Q+=(-drive "file=$T/config.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
    -device usb-storage,drive=cfg,bus=ehci.0)
checks "$T/guest.log" >"$T/checks" 2>&1 &
checker=$!
E2E_TIMEOUT=420 qemu_run "watched" "$T/guest.log"
wait $checker
cat "$T/checks"
grep -q '^PASS: SSH with the configured key' "$T/checks" ||
	echo "    guest: $(grep -a 'muletto:' "$T/guest.log" | tail -5 | tr '\n' ' ') $(cat "$T/guest.log.err")"
cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" &&
	pass "the restore the SSH session watched: disk identical (powered off over SSH at ${E2E_SECONDS}s)" ||
	fail "the restored disk is the image" "$(cmp -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" 2>&1)"
