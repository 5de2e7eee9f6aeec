# SFTP: capture and restore over OpenSSH's sshd with key and password logins;
# host keys checked against known_hosts (unknown or changed: refused, showing
# the fingerprint); a wrong key or password refused plainly; the server going
# away mid-restore and coming back.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root sftp
command -v /usr/sbin/sshd >/dev/null || { fail "sftp" "sshd missing: run scripts/deps.sh check"; exit 1; }

make_sample_disk "$T/a.img" 48
port=$(sshd_start "$T/ssh")
ssh-keygen -q -t ed25519 -N '' -f "$T/id_tech"
cat "$T/id_tech.pub" >"$T/ssh/authorized_keys"
ssh-keyscan -p "$port" -t ed25519 127.0.0.1 >"$T/known_hosts" 2>/dev/null
fp=$(ssh-keygen -lf "$T/ssh/host_key.pub" | awk '{print $2}')
export MULETTO_SSH_KEY=$T/id_tech MULETTO_KNOWN_HOSTS=$T/known_hosts MULETTO_CONF=$T/none.conf
unset MULETTO_PASSWORD
mkdir -p "$T/srv"
repo=sftp://root@127.0.0.1:$port$T/srv/repo

"$MULETTO" capture "$T/a.img" "$repo" --name web01 --progress none >"$T/cap.log" 2>&1 ||
	fail "capture over SFTP" "$(cat "$T/cap.log")"
[ -f "$T/srv/repo/images/web01/manifest.json" ] && ! ls -R "$T/srv/repo" | grep -q '\.tmp-' &&
	pass "capture over SFTP: files in place, no temporary names left" ||
	fail "capture over SFTP: files in place, no temporary names left" "$(ls -R "$T/srv/repo" | head)"
"$MULETTO" ls "$repo" >"$T/ls.out" 2>&1 && grep -q "^web01 " "$T/ls.out" &&
	pass "ls over SFTP" || fail "ls over SFTP" "$(cat "$T/ls.out")"
"$MULETTO" restore "$repo" web01 --to "$T/out.img" --yes >"$T/o.log" 2>&1 ||
	fail "restore over SFTP (key)" "$(cat "$T/o.log")"
check_cmp "restore over SFTP with a key: identical" "$T/a.img" "$T/out.img"
"$MULETTO" verify "$repo" web01 >"$T/v.log" 2>&1 && grep -q "is intact" "$T/v.log" &&
	pass "verify over SFTP" || fail "verify over SFTP" "$(cat "$T/v.log")"

# host keys
: >"$T/empty_hosts"
expect_fail "an unknown host key is refused, showing its fingerprint" \
	"unknown host key ${fp//+/\\+} \(not in $T/empty_hosts\)" \
	env MULETTO_KNOWN_HOSTS="$T/empty_hosts" "$MULETTO" ls "$repo"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_key"
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$T/other_key.pub")" >"$T/changed_hosts"
rm -f "$T/bad.img"
expect_fail "a changed host key is refused, showing the new fingerprint" \
	"host key CHANGED \(it is now ${fp//+/\\+}" \
	env MULETTO_KNOWN_HOSTS="$T/changed_hosts" "$MULETTO" restore "$repo" web01 --to "$T/bad.img" --yes
[ ! -s "$T/bad.img" ] && pass "nothing written after a host key refusal" ||
	fail "nothing written after a host key refusal"

# wrong key, password logins
expect_fail "a key the server does not accept is refused plainly" \
	"authentication failed .*key or password is wrong" \
	env MULETTO_SSH_KEY="$T/other_key" "$MULETTO" ls "$repo"
id mulettosftp >/dev/null 2>&1 || useradd -M -d "$T" -s /bin/sh mulettosftp
at_exit "userdel mulettosftp"
echo 'mulettosftp:Pa55-w0rd.sftp' | chpasswd
chmod -R a+rX "$T/srv"
prepo=sftp://mulettosftp@127.0.0.1:$port$T/srv/repo
rm -f "$T/out.img"
env -u MULETTO_SSH_KEY HOME=/nonexistent MULETTO_PASSWORD=Pa55-w0rd.sftp \
	"$MULETTO" restore "$prepo" web01 --to "$T/out.img" --yes >"$T/o.log" 2>&1 ||
	fail "restore over SFTP with a password" "$(cat "$T/o.log")"
check_cmp "restore over SFTP with a password: identical" "$T/a.img" "$T/out.img"
expect_fail "a wrong password is refused plainly" "authentication failed" \
	env -u MULETTO_SSH_KEY HOME=/nonexistent MULETTO_PASSWORD=wrong "$MULETTO" ls "$prepo"
expect_fail "no key and no password: says where the password goes" \
	"password for mulettosftp@127.0.0.1:$port: not given" \
	env -u MULETTO_SSH_KEY HOME=/nonexistent "$MULETTO" ls "$prepo" </dev/null

# the server goes away mid-restore and comes back: not after a set time but once
# the restore is under way (session 1 fetched the manifest and index, and sends
# chunks) and its second session is held half set up, on a machine of any speed
sshd_slow "$T/ssh" 1500000
rm -f "$T/out.img" "$T/ssh/held"
: >"$T/ssh/sessions"
echo 2 >"$T/ssh/hold"
MULETTO_RETRY_SECONDS=60 "$MULETTO" restore "$repo" web01 --to "$T/out.img" --yes --threads 2 \
	>"$T/o.log" 2>&1 &
restore=$!
for _ in $(seq 600); do
	[ -f "$T/ssh/held" ] || ! kill -0 $restore 2>/dev/null && break
	sleep 0.05
done
sshd_stop "$T/ssh"
rm -f "$T/ssh/hold"
sleep 3
sshd_again "$T/ssh"
wait $restore
rc=$?
[ -f "$T/ssh/held" ] && [ $rc = 0 ] && grep -q retrying "$T/o.log" &&
	pass "the restore waits while sshd is down" ||
	fail "the restore waits while sshd is down" "rc $rc, $(wc -l <"$T/ssh/sessions") sessions: $(tail -2 "$T/o.log")"
check_cmp "restore across an sshd restart is identical" "$T/a.img" "$T/out.img"
