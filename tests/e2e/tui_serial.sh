# The guided screens on the serial console of the booted ISO (BIOS, the CD;
# isolinux's default entry after 5 s prints to ttyS0 and tty0, no
# configuration: the screens start by themselves on ttyS0, TERM=vt100), driven
# through tmux: plain ASCII; Back from every screen; a wrong password shown on
# the repository screen; the CD listed apart as the boot medium, not
# selectable; a partition of the image mounted on the screens and read in F2's
# shell; the typed confirmation refusing a wrong name; a restore from nginx
# (basic auth) on the host chosen entirely on the screens, then Power off; the
# disk compared byte for byte once the guest is off.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "tui on the serial console"
e2e_need "tui on the serial console"
command -v tmux >/dev/null || { skip "tui on the serial console" "tmux is missing"; exit 0; }

make_sample_disk "$T/a.img" 32
"$MULETTO" capture "$T/a.img" "$T/repo" --name web01 --progress none >/dev/null 2>&1 ||
	{ fail "e2e repository" "capture failed"; exit 0; }
pw='Serial-s3cret;pw'
printf 'tech:%s\n' "$(openssl passwd -apr1 "$pw")" >"$T/htpasswd"
chmod 644 "$T/htpasswd"
REPO_PORT=$(nginx_start "$T" "location /repo/ { auth_basic nas; auth_basic_user_file $T/htpasswd; }")
truncate -s 32M "$T/target.img"

sock=muletto-tui-e2e-$$
S() { tmux -L "$sock" "$@"; }
at_exit "tmux -L $sock kill-server"
screen() { S capture-pane -p -t g 2>/dev/null; }
keys() { S send-keys -t g "$@"; }
wait_for_screen() { # PATTERN SECONDS
	local i
	for i in $(seq $(($2 * 4))); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.25
	done
	return 1
}
# left_shell PATTERN SECONDS: the screens are back from F2's shell: PATTERN
# shown and the shell's prompt gone (what the screen showed before the shell
# may still be on the terminal while the shell runs: a key sent then is lost)
left_shell() {
	local i
	for i in $(seq $(($2 * 4))); do
		if ! screen | grep -q "muletto shell" && screen | grep -qE -- "$1"; then return 0; fi
		sleep 0.25
	done
	return 1
}
step() { # NAME PATTERN SECONDS
	if wait_for_screen "$2" "$3"; then pass "$1"; else
		fail "$1" "screen: $(screen | grep -v '^ *$' | tail -22)"
		return 1
	fi
}

e2e_firmware bios
e2e_target "$T/target.img" virtio
e2e_media cd
e2e_net
start=$SECONDS
{
	printf 'timeout --foreground 900 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot -monitor none'
	printf ' %q' "${Q[@]}"
	printf ' 2>%q\necho qemu-exit=$?\nsleep 600\n' "$T/qemu.err"
} >"$T/guest.sh"
S new-session -d -x 80 -y 25 -s g "bash $T/guest.sh"
S pipe-pane -t g -o "cat >>$T/serial.raw"

# each key only once its screen is drawn: the emulated guest is slow, and a
# key meant for one screen must not land on the one before
if step "the screens start by themselves on the serial console" "1/6 Network" 300; then
	booted=$((SECONDS - start))
	step "the guest's DHCP address is shown" "10\.0\.2\.15/24" 10
	# plain ASCII on the serial line: boxes of + - |, no VT100 line drawing
	# (SO, ESC ( 0) and no byte above 0x7e in what the screens sent
	why=
	screen | grep -qE '^ \+-+\+ 1/6 Network \+-+\+' && screen | grep -qF '| Next |' ||
		why="no + - | boxes: $(screen | head -4)"
	sed -n '/1\/6 Network/,$p' "$T/serial.raw" >"$T/screens.raw" # the firmware's before
	LC_ALL=C grep -q "$(printf '\016')" "$T/screens.raw" && why="$why; SO (line drawing) sent"
	LC_ALL=C grep -qF "$(printf '\033(0')" "$T/screens.raw" && why="$why; ESC ( 0 sent"
	LC_ALL=C grep -q '[^[:print:][:cntrl:]]' "$T/screens.raw" &&
		why="$why; bytes above 0x7e: $(LC_ALL=C grep -o '.\{0,20\}[^[:print:][:cntrl:]]' "$T/screens.raw" | head -2 | od -c | head -3)"
	[ -z "$why" ] && pass "the serial console's screens are plain ASCII (+ - | boxes)" ||
		fail "the serial console's screens are plain ASCII" "$why"
	# a static address besides it: Static, link, address, Enter
	keys Tab Tab Enter
	if step "the static address form" "Link \(ens3\):" 60; then
		keys -l eth0
		keys Tab
		keys -l 10.0.2.99/24
		keys Enter
		step "a static address set on the screen is listed" "eth0 +10\.0\.2\.99/24" 60
	fi
	wait_for_screen "1/6 Network" 30
	keys Enter
	step "repository screen" "2/6 Repository" 60 || exit 0
	keys Tab Tab Tab Tab Tab Enter
	step "Back from the repository screen: network" "1/6 Network" 60
	keys Enter
	wait_for_screen "2/6 Repository" 60
	# a wrong password: the error on the repository screen, which stays
	keys Tab
	keys -l "10.0.2.100:8080/repo"
	keys Tab
	keys -l tech
	keys Tab
	keys -l wrong-password
	keys Enter
	step "a wrong password is shown as an error on the repository screen" \
		"authentication failed \(HTTP 401\)" 120
	keys Enter
	wait_for_screen "2/6 Repository" 60
	keys -l "$pw" # the focus is on the password field again
	keys Enter
	step "the image on the host's nginx is listed" "3/6 Image" 180 || exit 0
	screen | grep -qE "web01 .* 1 +32 MiB" && pass "the image's name, disks and size" ||
		fail "the image's name, disks and size" "$(screen)"
	keys Tab Tab Enter
	step "Back from the image screen: repository" "2/6 Repository" 60
	keys Enter # the password typed is kept
	step "Next again: the images, the password kept" "3/6 Image" 120 || exit 0
	keys Enter
	step "action screen" "4/6 Action" 60 || exit 0
	keys Tab Tab Enter
	step "Back from the action screen: image" "3/6 Image" 60
	keys Enter
	wait_for_screen "4/6 Action" 60
	# Mount: partition 2 (ext4) at /mnt/image, read in F2's shell, Unmount
	keys Down Down Down Down Enter
	if step "the mount screen" "Partition of disk 0" 60; then
		keys Down Down Tab Tab Enter
		step "partition 2 is mounted at /mnt/image and the screen says so" \
			"is mounted read-only on|^.? +/mnt/image +\(/dev/nbd" 120
		[ -z "${TUI_SCREENS:-}" ] || screen >"$TUI_SCREENS/mounted.screen"
		keys F2
		wait_for_screen "muletto shell|# *$" 30
		keys -l 'echo mnt-$(md5sum </mnt/image/bash | cut -c1-32)'
		keys Enter
		sum=$(md5sum </usr/bin/bash | cut -c1-32)
		step "F2's shell reads the image's files at /mnt/image" "^mnt-$sum" 60
		keys -l exit
		keys Enter
		left_shell "is mounted read-only on" 60 && pass "back from the shell: the mount's screen" ||
			fail "back from the shell: the mount's screen" "$(screen | grep -v '^ *$' | tail -22)"
		keys Enter # Unmount
		step "Unmount: the action screen again" "4/6 Action" 120
		keys F2
		wait_for_screen "muletto shell|# *$" 30
		keys -l 'echo mounted-$(grep -c " /mnt/image " /proc/mounts)-nbd-$(cat /sys/block/nbd0/size)'
		keys Enter
		step "after Unmount nothing is mounted and nbd0 is released" "^mounted-0-nbd-0" 30
		keys -l exit
		keys Enter
		left_shell "4/6 Action" 60
	fi
	keys Enter
	step "the guest's virtio disk is offered" " vda .* 32 MiB virtio" 120 || exit 0
	screen | sed -n '/Not selectable:/,$p' | grep -qE " sr0 +CD/DVD, read-only" &&
		pass "the CD (sr0), the boot medium, is listed apart, not selectable" ||
		fail "the CD (sr0), the boot medium, is listed apart, not selectable" "$(screen)"
	[ -z "${TUI_SCREENS:-}" ] || screen >"$TUI_SCREENS/disk-iso.screen"
	keys Tab Tab Enter
	step "Back from the target disk screen: action" "4/6 Action" 60
	keys Enter
	wait_for_screen " vda .* 32 MiB virtio" 120
	keys Enter
	step "the confirmation asks for the disk's name" "Type the disk's name \(vda\)" 120 || exit 0
	keys -l sda
	keys Enter
	step "the typed confirmation refuses a wrong name" "'sda' is not the disk's name \(vda\)" 60
	keys Enter
	wait_for_screen "6/6 Confirm" 60
	keys Tab Tab Enter
	step "Back from the confirmation: target disk" "5/6 Target disk" 60
	keys Enter
	wait_for_screen "Type the disk's name \(vda\)" 120
	keys -l vda
	keys Enter
	step "the restore ends on the result screen" "Result: done" 300 || exit 0
	keys Tab Enter # Power off
	step "Power off ends the guest" "qemu-exit=0" 120
	check_cmp "restored on the serial screens: identical" "$T/a.img" "$T/target.img"
	grep -qF -- "$pw" "$T/serial.raw" "$T"/nginx-*/*.log 2>/dev/null &&
		fail "the password is in no serial output or server log" ||
		pass "the password is in no serial output or server log"
	echo "tui e2e: screens at ${booted}s after power-on, off at $((SECONDS - start))s"
fi
