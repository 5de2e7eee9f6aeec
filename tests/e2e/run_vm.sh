# muletto run: the sample machine as a VM under QEMU (software emulation)
# while its disk arrives. The guest writes and reads its disk the whole time;
# hydration reaches 100 % in `muletto status --json`, the disk is moved onto
# the target while the guest runs, and afterwards the target is the image plus
# exactly the guest's writes. kill -9 of muletto mid-hydration: run again, the
# guest's flushed write is there. Two VMs of one image at once. A BIOS machine.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "muletto run"
e2e_need "muletto run"
export MULETTO_CONF=$T/none.conf MULETTO_RUN_DIR=$T/vms

size_mib=96
SAMPLE_GUEST_WRITE=$(((size_mib - 1) * 2048)) SAMPLE_GUEST_LOOP=25 SAMPLE_DATA_MIB=40
export SAMPLE_GUEST_WRITE SAMPLE_GUEST_LOOP SAMPLE_DATA_MIB
SAMPLE=$T/sample.img
e2e_bootable_sample "$SAMPLE" $size_mib
"$MULETTO" capture "$SAMPLE" "$T/repo" --name sample --progress none >/dev/null 2>&1 ||
	{ fail "run" "capture failed"; exit 0; }
port=$(nginx_start "$T" 'location /repo/store/ { limit_rate 600k; }')
R=http://127.0.0.1:$port/repo
off=$((SAMPLE_GUEST_WRITE * 512))

ended() { case "$(st '.vms[] | select(.name == "'"$1"'") | .state')" in stopped|failed|ended) ;; *) false ;; esac; }
expected() { # FILE: the image with the guest's writes: its text, and its last count
	cp "$SAMPLE" "$1"
	printf %s "$SAMPLE_GUEST_TEXT" | dd of="$1" bs=1 seek=$off conv=notrunc status=none
	printf 'GUEST-COUNT-%05d' $((SAMPLE_GUEST_LOOP - 1)) |
		dd of="$1" bs=1 seek=$((off + 512)) conv=notrunc status=none
}

# 1. one VM: hydration to 100 %, the move onto the target while the guest runs
"$MULETTO" run "$R" sample --to "$T/t1.img" --firmware uefi --net user --memory 768 --detach --threads 2 \
	>"$T/run1.out" 2>&1 || fail "muletto run --detach" "$(cat "$T/run1.out")"
pcts=$(for _ in $(seq 8); do st '.vms[0].disks[0] | (100 * .local_bytes / .total_bytes | floor)'; sleep 1; done | tr '\n' ' ')
wait_for 60 grep -qa "GUEST-CHECK 0 ok" "$T/vms/sample/serial.log" &&
	pass "the VM runs the sample machine, which reads and writes its disk" ||
	fail "the VM runs the sample machine" "$(tail -5 "$T/vms/sample/serial.log" "$T/vms/sample/run.log")"
timeout 4 "$MULETTO" console sample </dev/null >"$T/console.out" 2>&1
grep -qa "GUEST-CHECK [0-9]* ok" "$T/console.out" && pass "muletto console shows the guest's serial console" ||
	fail "muletto console shows the guest's serial console" "$(tail -c 300 "$T/console.out")"
wait_for 90 grep -q '"state":"local"\|runs from' "$T/vms/sample/run.log"
moved_at=$(grep -ac "GUEST-CHECK" "$T/vms/sample/serial.log")
disk_local() { [ "$(st ".vms[0].disks[0].state")" = local ]; }
wait_for 5 disk_local && [ "$moved_at" -lt $SAMPLE_GUEST_LOOP ] && [ "${pcts%% *}" != 100 ] &&
	pass "status shows the hydration moving (${pcts}%), then the disk on its target while the guest runs (check $moved_at of $SAMPLE_GUEST_LOOP)" ||
	fail "the disk moves onto its target while the guest runs" "$pcts; $moved_at; $(tail -3 "$T/vms/sample/run.log")"
wait_for 120 ended sample
bad=$(grep -ac "GUEST-CHECK .* BAD" "$T/vms/sample/serial.log")
good=$(grep -ac "GUEST-CHECK .* ok" "$T/vms/sample/serial.log")
[ "$bad" = 0 ] && [ "$good" = $SAMPLE_GUEST_LOOP ] && grep -qa "$SAMPLE_MARKER" "$T/vms/sample/serial.log" &&
	pass "the guest read back all its $good writes across the move, and reached its marker" ||
	fail "the guest's writes across the move" "$good ok, $bad bad"
expected "$T/expect1.img"
check_cmp "after the VM: the target is the image plus exactly the guest's writes" "$T/expect1.img" "$T/t1.img"

# 2. kill -9 of muletto mid-hydration; run again: the flushed write is there
rm -rf "$T/vms"
"$MULETTO" run "$R" sample --to "$T/t2.img" --firmware uefi --net none --memory 768 --detach \
	--threads 1 >"$T/run2.out" 2>&1 || fail "muletto run (2)" "$(cat "$T/run2.out")"
wait_for 60 grep -qa "GUEST-CHECK 2 ok" "$T/vms/sample/serial.log"
hydrated=$(st '.vms[0].disks[0].state')
kill -9 "$(st '.vms[0].pid')"
wait_for 20 ended sample
mv "$T/vms/sample/serial.log" "$T/serial-before-kill.log"
"$MULETTO" run "$R" sample --to "$T/t2.img" --firmware uefi --net none --memory 768 --detach --yes --stop-seconds 3 \
	>"$T/run3.out" 2>&1 || fail "muletto run again after kill -9" "$(cat "$T/run3.out")"
wait_for 60 grep -qa "GUEST-SAW" "$T/vms/sample/serial.log"
grep -qa "GUEST-SAW: $SAMPLE_GUEST_TEXT" "$T/vms/sample/serial.log" &&
	pass "kill -9 of muletto (disk $hydrated) and run again: the VM restarts and finds its flushed write" ||
	fail "kill -9 and run again: the flushed write" "$(grep -a GUEST-SAW "$T/vms/sample/serial.log")"
start=$SECONDS
"$MULETTO" stop sample >"$T/stop.out" 2>&1 && ended sample && grep -q "has stopped" "$T/stop.out" &&
	grep -q '"state":"stopping"\|power button' "$T/vms/sample/run.log" &&
	pass "muletto stop: the power button, then QEMU ended after --stop-seconds ($((SECONDS - start)) s)" ||
	fail "muletto stop" "$(cat "$T/stop.out")"

# 3. two VMs of one image at once
rm -rf "$T/vms"
# (vma with VNC on loopback, no password: a VNC client is offered no authentication)
display=$(vnc_free_display)
for n in a b; do
	vnc=()
	[ $n = a ] && [ -n "$display" ] && vnc=(--vnc "127.0.0.1:$display")
	"$MULETTO" run "$R" sample --name vm$n --to "$T/t$n.img" --firmware uefi --net none \
		--memory 768 --detach "${vnc[@]}" >"$T/run$n.out" 2>&1 ||
		fail "muletto run --name vm$n" "$(cat "$T/run$n.out")"
done
vnc=$(vnc_security_types 127.0.0.1 $((5900 + ${display:-0})) 2>&1)
[ "$vnc" = "RFB 003.008 1" ] && pass "VNC on 127.0.0.1 without a password offers no authentication ($vnc)" ||
	fail "VNC on 127.0.0.1 without a password" "display '$display': $vnc"
"$MULETTO" status >"$T/status.out"
grep -q "^vma " "$T/status.out" && grep -q "^vmb " "$T/status.out" &&
	pass "muletto status lists both VMs" || fail "muletto status lists both VMs" "$(cat "$T/status.out")"
wait_for 150 ended vma
wait_for 60 ended vmb
grep -qa "$SAMPLE_MARKER" "$T/vms/vma/serial.log" && grep -qa "$SAMPLE_MARKER" "$T/vms/vmb/serial.log" &&
	pass "two VMs at once both reach their markers" || fail "two VMs at once both reach their markers"
expected "$T/expect2.img"
cmp -s "$T/expect2.img" "$T/ta.img" && cmp -s "$T/expect2.img" "$T/tb.img" &&
	pass "... and both targets are the image plus their guest's writes" ||
	fail "... and both targets are the image plus their guest's writes"

# 4. BIOS firmware: an MBR machine booted by SeaBIOS (SYSLINUX), its target the image
SAMPLE_GUEST_WRITE= SAMPLE_GUEST_LOOP= SAMPLE_DATA_MIB=1 e2e_bootable_sample "$T/plain.img" 64 &&
	e2e_bios_sample "$T/bios.img" 48 "$T/plain.img" &&
	"$MULETTO" capture "$T/bios.img" "$T/repo" --name bios --progress none >/dev/null 2>&1 ||
	fail "the BIOS sample" "could not build or capture it"
rm -rf "$T/vms"
"$MULETTO" run "$R" bios --to "$T/tbios.img" --firmware bios --net none --memory 512 --detach \
	>"$T/runbios.out" 2>&1 || fail "muletto run --firmware bios" "$(cat "$T/runbios.out")"
wait_for 150 ended bios
grep -qa "$SAMPLE_MARKER" "$T/vms/bios/serial.log" && [ "$(st '.vms[0].firmware')" = bios ] &&
	cmp -s "$T/bios.img" "$T/tbios.img" &&
	pass "--firmware bios: SeaBIOS boots the MBR sample to its marker, and its target is the image" ||
	fail "--firmware bios" "$(tail -c 300 "$T/vms/bios/serial.log"; tail -3 "$T/vms/bios/run.log")"
