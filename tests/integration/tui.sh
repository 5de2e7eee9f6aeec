# muletto tui driven through tmux at 80x25, as a technician would: a restore
# from nginx (basic auth) onto a loop device chosen entirely on the screens,
# compared byte for byte; Back from every screen; a wrong password shown on the
# repository screen; disks in use shown and not selectable; the typed
# confirmation refusing a wrong name; F2's shell; the password nowhere (screen,
# ps, environment, logs).
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root tui
command -v tmux >/dev/null || { skip tui "tmux is not installed (scripts/deps.sh check)"; exit 0; }

make_sample_disk "$T/a.img" 32
mkdir -p "$T/www"
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name web01 --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"
# verify --boot's verdict kept in the repository: this sample has no boot
# loader, so it does not boot; web02 (the same disk) was never tried
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name web02 --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk again"
# web02's record is a lie: 100 KiB of junk where the verdict goes (read no
# further than 64 KiB, and not taken for a verdict)
head -c 102400 /dev/urandom >"$T/www/repo/images/web02/boot-verified.json"
if command -v qemu-system-x86_64 >/dev/null; then
	MULETTO_RUN_DIR=$T/vms MULETTO_CONF=$T/none.conf "$MULETTO" verify --boot "$T/www/repo" web01 \
		--timeout 5 --memory 256 >"$T/vb.out" 2>&1
	jq -e '.booted == false and (.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' \
		"$T/www/repo/images/web01/boot-verified.json" >/dev/null 2>&1 &&
		grep -q "kept in the repository: images/web01/boot-verified.json" "$T/vb.out" &&
		pass "verify --boot keeps its verdict in the repository (did not boot)" ||
		fail "verify --boot keeps its verdict in the repository" "$(cat "$T/vb.out")"
fi
pw='Tui-s3cret;pw'
printf 'tech:%s\n' "$(openssl passwd -apr1 "$pw")" >"$T/htpasswd"
chmod 644 "$T/htpasswd"
# chunks slowed so that the progress screen is seen while the restore runs
port=$(nginx_start "$T/www" "location /repo/ { auth_basic nas; auth_basic_user_file $T/htpasswd;
	location /repo/store/ { limit_rate 128k; } }")

truncate -s 32M "$T/target.img"
tgt=$(loop_attach "$T/target.img") || fail "loop device for the target"
tname=${tgt#/dev/}
truncate -s 48M "$T/larger.img"
larger=$(loop_attach "$T/larger.img")
truncate -s 40M "$T/vmdisk.img" # room after the image for the map of what arrived
vmdisk=$(loop_attach "$T/vmdisk.img")
# a disk in use: a file system mounted from a loop device
truncate -s 8M "$T/busy.img"
mkfs.ext4 -q -F "$T/busy.img"
busy=$(loop_attach "$T/busy.img")
mkdir -p "$T/mnt"
mount "$busy" "$T/mnt" && at_exit "umount $T/mnt"
root_src=$(findmnt -no SOURCE /)
root_disk=$(lsblk -no PKNAME "$root_src" 2>/dev/null | head -1)
[ -n "$root_disk" ] || root_disk=$(lsblk -ndo NAME "$root_src" 2>/dev/null | head -1)

sock=muletto-tui-$$
S() { tmux -L "$sock" "$@"; }
at_exit "tmux -L $sock kill-server"
screen() { S capture-pane -p -t tui; }
keys() { S send-keys -t tui "$@"; }
# wait_for PATTERN [SECONDS]: until the screen shows PATTERN (ERE)
wait_for() {
	local i
	for i in $(seq $((${2:-10} * 10))); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
step() { # NAME PATTERN [SECONDS]: a case passes when the screen shows PATTERN
	if wait_for "$2" "${3:-10}"; then pass "$1"; else fail "$1" "screen: $(screen | grep -v '^ *$' | head -30)"; fi
}
# the row of disk name in the selectable list (0 the first), -1 when not there
disk_row() {
	screen | sed -n '/DISK  *MODEL/,/Not selectable:/p' | sed '1d;$d' |
		awk -v n="$1" '$2 == n { print NR - 1; f = 1; exit } END { if (!f) print -1 }'
}
# the place of disk name in the screen's list: the disks that are not the boot
# medium, in use or read-only, in the order muletto disks gives (other tests'
# loop devices come and go: the list may scroll past what the screen shows)
disk_index() {
	"$MULETTO" disks --json 2>/dev/null | jq -r --arg n "$1" '[.disks[] |
		select((.boot | not) and (.in_use | not) and (.read_only | not)) | .name] | index($n) // -1'
}
pick_disk() { # [NAME]: selects the target (or NAME); 0 once the confirmation names it
	local try i n name=${1:-$tname}
	for try in 1 2 3; do
		wait_for "5/6 Target disk" || return 1
		n=$(disk_index "$name")
		[ "$n" -ge 0 ] || return 1
		for ((i = 0; i < n; i++)); do keys Down; done
		keys Enter
		wait_for "6/6 Confirm" 30 || return 1
		screen | grep -qF "Type the disk's name ($name)" && return 0
		keys Tab Tab Enter # another disk: the list changed in between; Back, again
	done
	return 1
}

start=$SECONDS
S new-session -d -x 80 -y 25 -s tui "env TERM=linux MULETTO_CONF=$T/none.conf MULETTO_DEBUG=all \
	MULETTO_RUN_DIR=$T/vms $MULETTO tui --no-network-changes 2>$T/tui.err; echo tui-exit=\$?; sleep 600"
S pipe-pane -t tui -o "cat >>$T/screen.raw"

# network
addr=$(ip -4 -o addr show | awk '$2 != "lo" { print $4; exit }')
step "network screen shows each link's address" "1/6 Network"
[ -z "$addr" ] || screen | grep -qF "$addr" && pass "network screen lists $addr" ||
	fail "network screen lists $addr" "$(screen)"
keys Tab Tab Enter
step "Static opens the static address form" "Link \(ens3\):"
keys Tab Tab Tab Tab Enter
step "Back from the static address form: network" "1/6 Network"
keys Enter
step "Next: repository screen" "2/6 Repository"
keys Tab Tab Tab Tab Tab Enter
step "Back from repository: network" "1/6 Network"
keys Enter
wait_for "2/6 Repository"

# a wrong password: an error on the repository screen, which stays
keys Tab
keys -l "127.0.0.1:$port/repo"
keys Tab
keys -l tech
keys Tab
keys -l wrong-password
keys Enter
step "a wrong password is shown as an error on the repository screen" \
	"authentication failed \(HTTP 401\)"
keys Enter
step "after the error, the repository screen stays" "2/6 Repository"

# F2: a shell, then back to the same screen
keys F2
wait_for "muletto shell" 5
keys -l 'echo shell-$((6*7))'
keys Enter
step "F2 opens a shell" "^shell-42"
keys -l exit
keys Enter
# the screen from before the shell may still show while it ends: wait for its prompt to go
for _ in $(seq 100); do screen | grep -q "muletto shell" || break; sleep 0.1; done
step "leaving the shell returns to the screen" "2/6 Repository"

# the right password (focus is on the password field)
keys -l "$pw"
if screen | grep -qF "$pw"; then fail "the password is masked as it is typed"; else
	pass "the password is masked as it is typed"; fi
keys Enter
step "image screen: name, date, disks, size" "web01 +20[0-9-]+T[0-9:]+Z +1 +32 MiB"
if [ -f "$T/www/repo/images/web01/boot-verified.json" ]; then
	day=$(jq -r '.date[0:10]' "$T/www/repo/images/web01/boot-verified.json")
	step "the image screen says what verify --boot found: did not boot, and when" \
		"boot-verified: did NOT boot on $day"
	[ -z "${TUI_SCREENS:-}" ] || screen >"$TUI_SCREENS/image.screen"
	keys Down
	step "an image never tried (its record junk) says so, with the command" \
		"boot-verified: never \(muletto verify --boot web02\)"
	keys Up
	wait_for "boot-verified: did NOT boot"
fi
ps -eo args | grep -F -- "$pw" | grep -v grep >"$T/ps.out"
# the program itself: the pane's shell runs env, which runs muletto tui
pid=$(pgrep -P "$(S list-panes -t tui -F '#{pane_pid}')" | head -1)
[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$MULETTO")" ] || pid=
if [ -s "$T/ps.out" ] || [ -z "$pid" ] || { tr '\0' '\n' <"/proc/$pid/environ" | grep -qF -- "$pw"; }; then
	fail "the password is in no process's command line or environment" "$(cat "$T/ps.out")"
else pass "the password is in no process's command line or environment"; fi
keys Tab Tab Enter
step "Back from image: repository" "2/6 Repository"
keys Enter # the password field left empty keeps the one typed
step "Next again with the password kept" "3/6 Image"
keys Enter
step "Next: action screen" "4/6 Action"
keys Tab Tab Enter
step "Back from action: image" "3/6 Image"
keys Enter
wait_for "4/6 Action"
# run as a VM: a disk chosen and its name typed as for a restore, muletto run
# --detach started with the password in a private muletto.conf; then Menu
if command -v qemu-system-x86_64 >/dev/null; then
	keys Down Enter
	if pick_disk "${vmdisk#/dev/}"; then
		screen | grep -qF "│ Run │" && screen | grep -qF "runs as a VM:" &&
			! screen | grep -qF "The disks differ" &&
			pass "the confirmation says the VM's disk arrives there (no plan), button Run" ||
			fail "the confirmation says the VM's disk arrives there, button Run" "$(screen)"
		keys -l "${vmdisk#/dev/}"
		keys Enter
		step "run as a VM: started, its state and the console command" \
			"muletto console web01" 90
		vmpid=$(pgrep -f -- "run http://tech@127.0.0.1:$port/repo web01" | head -1)
		conf=/run/muletto/tui/run-web01.conf
		[ -n "$vmpid" ] && ! tr '\0' '\n' <"/proc/$vmpid/cmdline" | grep -qF -- "$pw" &&
			! tr '\0' '\n' <"/proc/$vmpid/environ" | grep -qF -- "$pw" &&
			tr '\0' '\n' <"/proc/$vmpid/environ" | grep -qx "MULETTO_CONF=$conf" &&
			[ "$(stat -c %a "$conf")" = 600 ] && grep -qxF "password=$pw" "$conf" &&
			pass "the run has the password from a 0600 muletto.conf, not argv or environment" ||
			fail "the run has the password from a 0600 muletto.conf" "pid '$vmpid'"
		MULETTO_RUN_DIR=$T/vms "$MULETTO" status --json 2>/dev/null |
			jq -e '.vms[] | select(.name == "web01")' >/dev/null &&
			pass "muletto status lists the VM web01" || fail "muletto status lists the VM web01"
		MULETTO_RUN_DIR=$T/vms timeout 30 "$MULETTO" stop web01 --force >/dev/null 2>&1
		for _ in $(seq 100); do [ -e "$conf" ] || break; sleep 0.1; done
		[ ! -e "$conf" ] && pass "the private muletto.conf with the password is gone when the run ends" ||
			fail "the private muletto.conf with the password is gone when the run ends"
		rm -f "$conf"
		keys Enter
		step "after the run started: the repository screen" "2/6 Repository" 10
		keys Enter
		wait_for "3/6 Image" && keys Enter
	else fail "the VM's disk chosen" "$(screen)"; fi
	wait_for "4/6 Action"
fi
keys Down Down Down Enter # verify: every chunk checked on its progress screen, then the outcome
step "verify from the action screen: the image is intact" \
	"Image 'web01' is intact: [0-9]+ distinct chunks, .*every one" 30
keys Enter
wait_for "4/6 Action"
# mount: the partitions of the image, a folder; this host's kernel has no nbd
# driver: the failure is said and the action screen comes back (mounting
# itself is the engine of muletto mount: tests/e2e)
keys Down Down Down Down Enter
wait_for "Partition of disk 0"
keys Tab Tab Tab Enter
step "Back from the mount screen: action" "4/6 Action"
keys Down Down Down Down Enter
step "mount from the action screen: the image's partitions and a folder" \
	"Partition of disk 0 \(read-only\)" 10
screen >"$T/mount.screen"
[ -z "${TUI_SCREENS:-}" ] || cp "$T/mount.screen" "$TUI_SCREENS/"
grep -qE "^ *. +2 ext4 " "$T/mount.screen" && grep -qF "/mnt/image" "$T/mount.screen" &&
	pass "the mount screen lists partition 2 (ext4) and the folder /mnt/image" ||
	fail "the mount screen lists partition 2 (ext4) and the folder /mnt/image" "$(screen)"
keys Down Down Tab
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
keys -l "$T/mnt-image"
keys Tab Enter
if [ -e /sys/module/nbd ] || modprobe -n nbd 2>/dev/null; then
	step "the partition is mounted and the screen says where" "is mounted read-only on" 30
	keys Enter
	step "Unmount returns to the action screen" "4/6 Action" 30
	grep -qF " $T/mnt-image " /proc/mounts && fail "Unmount unmounted the folder" ||
		pass "Unmount unmounted the folder"
else
	step "without an nbd driver the mount fails with why" "Mount: failed.*|no nbd driver" 30
	screen | grep -qF "no nbd driver" && pass "the failure names the missing nbd driver" ||
		fail "the failure names the missing nbd driver" "$(screen)"
	[ -d "$T/mnt-image" ] && pass "the folder typed was made" || fail "the folder typed was made"
	keys Enter
	step "after the failure, the action screen" "4/6 Action"
fi
# serve: disk 0 over NBD on every address, the client's writes in memory; a
# client on this host copies it (qemu-img) and writes into it; Stop
nport=$(free_port)
serve_how() { # MODE-ROW: the serve screen's way (0..2) and the port
	keys Down Down Enter
	wait_for "Serve over NBD" || return 1
	local i
	for ((i = 0; i < $1; i++)); do keys Down; done
	keys Tab BSpace BSpace BSpace BSpace BSpace BSpace
	keys -l "$nport"
	keys Tab Enter
}
keys Down Down Enter
wait_for "Serve over NBD"
keys Tab Tab Tab Enter
step "Back from the serve screen: action" "4/6 Action"
# a port another program listens on: the failure says so, and the action
# screen comes back
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", '"$nport"')); s.listen(); time.sleep(120)' &
squatter=$!
wait_port "$nport"
serve_how 0
step "serve on a port in use fails, saying so and what to do" \
	"tcp:0.0.0.0:$nport: another program listens on that port: choose" 30
keys Enter
step "after the failed serve: the action screen" "4/6 Action"
kill $squatter; wait $squatter 2>/dev/null
serve_how 0
step "serve from the action screen: the address a client connects to" \
	"nbd://[0-9.]+:$nport" 30
screen >"$T/serve.screen"
[ -z "${TUI_SCREENS:-}" ] || cp "$T/serve.screen" "$TUI_SCREENS/"
grep -qE "Serving web01 disk0 \(32 MiB\); writes kept in memory until Stop" "$T/serve.screen" &&
	pass "the serve screen names the image, its size, writable" || fail "the serve screen names the image" "$(screen)"
rm -f "$T/served.img"
timeout 120 qemu-img convert -f raw -O raw "nbd://127.0.0.1:$nport" "$T/served.img" 2>"$T/qi.err"
check_cmp "a client's copy of the served disk is the image" "$T/a.img" "$T/served.img"
timeout 60 qemu-io -f raw -c "write -P 0xab 1M 64k" -c "read -P 0xab 1M 64k" \
	"nbd://127.0.0.1:$nport" >"$T/qio.out" 2>&1 && grep -q "read 65536/65536" "$T/qio.out" &&
	pass "a client writes into the served disk (in memory) and reads it back" ||
	fail "a client writes into the served disk and reads it back" "$(cat "$T/qio.out")"
# the job records of this process: OP-PID.json, then OP-PID-N.json for its n-th job
last_rec() { ls -t "$T/jobs/$1-$pid".json "$T/jobs/$1-$pid"-*.json 2>/dev/null | head -1; }
srec=$(last_rec serve)
jq -e '.state == "running" and .op == "serve"' "$srec" >/dev/null 2>&1 &&
	pass "the serve is a running job for muletto status and the status page" ||
	fail "the serve is a running job" "$(ls "$T/jobs"; cat "$srec" 2>&1)"
keys Enter # Stop
step "Stop ends the serve" "Stopped\." 30
jq -e '.state == "done"' "$srec" >/dev/null 2>&1 &&
	pass "the serve's job record says done after Stop" ||
	fail "the serve's job record says done" "$(cat "$srec" 2>&1)"
(exec 3<>/dev/tcp/127.0.0.1/"$nport") 2>/dev/null && fail "the port is closed after Stop" ||
	pass "the port is closed after Stop"
keys Enter
wait_for "4/6 Action"
# onto a disk (the third way), a port out of range typed first
keys Down Down Enter
wait_for "Serve over NBD"
keys Down Down Tab BSpace BSpace BSpace BSpace BSpace BSpace
keys -l 99999
keys Tab Enter
step "a port out of range is refused on the serve screen" "'99999' is not a TCP port" 10
keys Enter
wait_for "Serve over NBD"
screen | grep -qF "$nport" && pass "the port typed before is kept" || fail "the port typed before is kept" "$(screen)"
keys Down Down Tab Tab Enter
dd if=/dev/zero of="$vmdisk" bs=1M count=40 conv=fsync status=none
if pick_disk "${vmdisk#/dev/}"; then
	screen | grep -qF "│ Serve │" && screen | grep -qF "served over NBD:" &&
		pass "the confirmation says the disk is served there, button Serve" ||
		fail "the confirmation says the disk is served there" "$(screen)"
	keys -l "${vmdisk#/dev/}"
	keys Enter
	step "serve onto a disk: the address, the image arriving on the disk" \
		"Arriv(ing|ed): .* on ${vmdisk}" 30
	step "serve onto a disk: every chunk arrives" "Arrived: .*all of it" 120
	rm -f "$T/served.img"
	timeout 120 qemu-img convert -f raw -O raw "nbd://127.0.0.1:$nport" "$T/served.img" 2>"$T/qi.err"
	check_cmp "the disk served from this machine's disk is the image" "$T/a.img" "$T/served.img"
	keys Enter
	step "Stop: what arrived is kept" "What arrived on the disk is kept" 30
	cmp -s -n 33554432 "$T/a.img" "$vmdisk" && pass "the disk holds the image after Stop" ||
		fail "the disk holds the image after Stop" "$(cmp -n 33554432 "$T/a.img" "$vmdisk" 2>&1)"
	keys Enter
	step "after the serve: the repository screen" "2/6 Repository" 10
	keys Enter
	wait_for "3/6 Image" && keys Enter
else fail "the disk to serve onto chosen" "$(screen)"; fi
wait_for "4/6 Action"
keys Enter # a new action screen: Restore is chosen again

# the disks
step "target disk screen" "5/6 Target disk"
[ "$(disk_index "$tname")" -ge 0 ] && ! screen | sed -n '/Not selectable:/,$p' | grep -q "^ . $tname " &&
	pass "the loop device $tname is selectable" || fail "the loop device $tname is selectable" "$(screen)"
screen | sed -n '/Not selectable:/,$p' >"$T/notsel"
grep -qE "^ . ${busy#/dev/} .*mounted" "$T/notsel" && [ "$(disk_row "${busy#/dev/}")" = -1 ] &&
	pass "a disk with a mounted file system is shown, not selectable, with why" ||
	fail "a disk with a mounted file system is shown, not selectable, with why" "$(screen)"
if [ -n "$root_disk" ]; then
	grep -qE "^ . $root_disk " "$T/notsel" && [ "$(disk_row "$root_disk")" = -1 ] &&
		pass "the disk holding / ($root_disk) is not selectable" ||
		fail "the disk holding / ($root_disk) is not selectable" "$(cat "$T/notsel")"
fi
# a larger disk: the plan on the confirmation, then Back
if pick_disk "${larger#/dev/}"; then
	screen | grep -qE "The disks differ \(image 32 MiB, this disk 48 MiB\)" &&
		screen | grep -qE "^ . +2 ext4 +11 MiB at +17 MiB -> +30 MiB at +17 MiB +grow" &&
		pass "onto a larger disk the confirmation shows the plan" ||
		fail "onto a larger disk the confirmation shows the plan" "$(screen)"
	keys Tab Tab Enter
	wait_for "5/6 Target disk"
else fail "the larger disk chosen" "$(screen)"; fi
cmp -s -n 50331648 "$larger" /dev/zero && pass "the plan wrote nothing to the larger disk" ||
	fail "the plan wrote nothing to the larger disk"
keys Tab Tab Enter
step "Back from target disk: action" "4/6 Action"
keys Enter
wait_for "5/6 Target disk"
if pick_disk; then pass "confirmation names the disk to type ($tname)"; else
	fail "confirmation names the disk to type ($tname)" "$(screen)"
	exit 0 # the keys below are for that disk only
fi
keys -l sda
keys Enter
step "the typed confirmation refuses a wrong name" "'sda' is not the disk's name \($tname\)"
keys Enter
wait_for "6/6 Confirm"
cmp -s -n 33554432 "$tgt" /dev/zero && pass "nothing was written after the wrong name" ||
	fail "nothing was written after the wrong name"
keys Tab Tab Enter
step "Back from confirmation: target disk" "5/6 Target disk"
pick_disk || { fail "the target chosen again" "$(screen)"; exit 0; }
keys -l "$tname"
keys Enter
step "the progress screen counts fetched, seeded and zero chunks as the restore runs" \
	"chunks: [0-9]+ of [0-9]+: [0-9]+ fetched, [0-9]+ seeded, [0-9]+ zero" 30
screen >"$T/progress.screen"
# TUI_SCREENS=DIR keeps the captures (the README shows them)
[ -z "${TUI_SCREENS:-}" ] || cp "$T/progress.screen" "$TUI_SCREENS/"
grep -qF "Restoring web01 onto $tgt" "$T/progress.screen" && ! grep -q "Result:" "$T/progress.screen" &&
	pass "the counts were seen before the result" || fail "the counts were seen before the result" \
	"$(cat "$T/progress.screen")"
step "the restore runs to its result screen" "Result: done" 60
screen | grep -qE "chunks: [0-9]+ in all, [0-9]+ fetched, [0-9]+ seeded" &&
	pass "result shows fetched, seeded and zero chunks" || fail "result shows the counts" "$(screen)"
# the same image restored by the command onto a blank file: the same counts
screen >"$T/result.screen"
[ -z "${TUI_SCREENS:-}" ] || cp "$T/result.screen" "$TUI_SCREENS/"
counts=$(sed 's/[│|]/ /g' "$T/result.screen" | tr '\n' ' ' | tr -s ' ' |
	LC_ALL=C sed -nE 's/.*chunks: ([0-9]+) in all, ([0-9]+) fetched, ([0-9]+) seeded \(already there\), ([0-9]+) zero.*/\1 \2 \3 \4/p')
"$MULETTO" restore "$T/www/repo" web01 --to "$T/cmd.img" --json 2>/dev/null |
	jq -r '"\(.chunks_total) \(.chunks_fetched) \(.chunks_seeded) \(.chunks_zero)"' >"$T/cmd.counts"
[ -n "$counts" ] && [ "$counts" = "$(cat "$T/cmd.counts")" ] &&
	pass "the result's counts ($counts) equal restore --json's" ||
	fail "the result's counts equal restore --json's" "screen '$counts', json '$(cat "$T/cmd.counts")'"
check_cmp "restored through the screens: identical" "$T/a.img" "$tgt"
# the restore on the screens is a job as the command's is: muletto status,
# the status page and notifications see it
rec=$(last_rec restore)
[ -n "$counts" ] && jq -e --arg t "$tgt" --arg c "$counts" '.state == "done" and .target == $t and
	"\(.counts.chunks_total) \(.counts.chunks_fetched) \(.counts.chunks_seeded) \(.counts.chunks_zero)" == $c' \
	"$rec" >/dev/null 2>&1 && pass "the job record of the screens' restore: done, its target and counts" ||
	fail "the job record of the screens' restore: done, its target and counts" "$(cat "$rec" 2>&1)"

# from the result back to the menu: the same restore again seeds every chunk
# from the disk; then one that fails (the disk blanked, the chunk store gone
# after the image was chosen) ends on the result screen with why
again() { # from the repository screen to the confirmation of the target
	keys Enter
	wait_for "3/6 Image" && keys Enter
	wait_for "4/6 Action" && keys Enter
	pick_disk
}
keys Tab Tab Enter
step "Menu from the result: repository" "2/6 Repository"
if again; then
	keys -l "$tname"
	keys Enter
	step "the same restore again: nothing fetched, every chunk seeded from the disk" \
		"0 B fetched; chunks: [0-9]+ in all, 0 fetched, [1-9][0-9]* seeded" 60
	keys Tab Tab Enter
	wait_for "2/6 Repository"
else fail "the target chosen a third time" "$(screen)"; fi
if again; then
	dd if=/dev/zero of="$tgt" bs=1M count=32 conv=fsync status=none
	mv "$T/www/repo/store" "$T/www/store.away"
	keys -l "$tname"
	keys Enter
	step "a failed restore ends on the result screen" "Result: failed" 60
	why=$(screen | grep -iE "404|not found|missing|does not exist" | head -1 | tr -s ' │|x')
	[ -n "$why" ] && pass "the failure says why:$why" || fail "the failure says why" "$(screen)"
	frec=$(last_rec restore)
	[ "$frec" != "$rec" ] && jq -e '.state == "failed" and (.error | length > 0)' "$frec" >/dev/null 2>&1 &&
		jq -e '.state == "done"' "$rec" >/dev/null 2>&1 &&
		pass "the failed restore has a record of its own, failed with its error; the first stays done" ||
		fail "the failed restore's own job record says failed" "$(ls "$T/jobs"; cat "$frec" 2>&1)"
	mv "$T/www/store.away" "$T/www/repo/store"
	keys Enter # Menu is chosen after a failure
	wait_for "2/6 Repository"
else fail "the target chosen a fourth time" "$(screen)"; fi
keys Tab Tab Enter
wait_for "1/6 Network"
keys Tab Enter
step "Back from the first screen leaves with status 0 (a shell)" "tui-exit=0"

if [ ! -s "$T/screen.raw" ] || grep -qF -- "$pw" "$T/screen.raw" "$T/tui.err" "$T"/nginx-*/*.log; then
	fail "the password is in no screen output or log"
else pass "the password is in no screen output or log"; fi
grep -q 'AddressSanitizer\|runtime error' "$T/tui.err" &&
	fail "no sanitizer report" "$(head -20 "$T/tui.err")" || pass "no sanitizer report"
echo "tui: $((SECONDS - start)) s of screens"
