# The ISO runs a machine as a VM: boot build/muletto.iso in QEMU with a
# muletto.conf holding a run= line; init starts `muletto run` on the sample
# machine from the host's nginx, with the QEMU and OVMF the initramfs carries
# (QEMU inside QEMU, both emulated: the only nested test). On the booted
# muletto's serial console the test types one command, which shows `muletto
# status --json` and the inner VM's console (`muletto console`) until it
# powers off, then waits for the run to end and powers off. The inner VM must
# reach its marker, and the disk it ran from must be the image, byte for byte.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "ISO runs a VM"
e2e_need "ISO runs a VM"
command -v socat >/dev/null || { skip "ISO runs a VM" "socat is missing"; exit 0; }
TIMEOUT=${E2E_RUN_TIMEOUT:-900}

# the sample's kernel prints only the marker, on the serial console: every line
# on a framebuffer costs minutes when emulated inside an emulator
SAMPLE_KERNEL_ARGS="console=ttyS0,115200 quiet" e2e_repo 64 ||
	{ fail "e2e repository" "capture failed"; exit 0; }
# the commands typed on the console: status while the VM runs, its console
# until it powers off, status once the run has ended (its disk all local)
cat >"$T/muletto.sh" <<'SCRIPT'
echo STATUS-RUNNING-BEGIN; muletto status --json; echo STATUS-RUNNING-END
muletto status
timeout 800 muletto console sample </dev/null | sed 's/^/INNER| /'
i=0
until muletto status --json | grep -qE '"state": "(stopped|failed|ended)"' || [ $i -ge 300 ]; do
	sleep 1; i=$((i + 1))
done
echo STATUS-END-BEGIN; muletto status --json; echo STATUS-END-END
echo "SERIAL-LOG-MARKERS: $(grep -c MULETTO-SAMPLE-MACHINE-BOOTED /run/muletto/vms/sample/serial.log)"
sync
poweroff -f
SCRIPT
# the sample is a UEFI machine (captured here, its manifest says this host's
# firmware); one CPU: two emulated ones inside two emulated ones only contend;
# shell=1: the plain shell on the console (not the guided screens), typed into
e2e_config_disk "$T/config.img" "repo=http://10.0.2.100:8080/repo" "run=sample:auto" \
	"firmware=uefi" "memory=512" "cpus=1" "shell=1"
MTOOLS_SKIP_CHECK=1 mcopy -i "$T/config.img" "$T/muletto.sh" ::/muletto.sh
truncate -s 80M "$T/target.img"

# BIOS boot from the CD (isolinux's default entry), a blank virtio disk for
# the VM's disk to arrive on, the stick; the serial console on a socket the
# test can type into, everything it prints in $log
log=$T/outer.log
e2e_firmware bios; e2e_media cd; e2e_target "$T/target.img" virtio; e2e_net
Q+=(-drive "file=$T/config.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
    -device usb-storage,drive=cfg,bus=ehci.0)
: >"$log"
start=$SECONDS
# no SVM in the emulated CPU: with it the guest's kvm_amd loads, and this QEMU's
# emulation of nested SVM aborts (tcg_handle_interrupt assertion, QEMU 7.2)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64,-svm -m 2560 -smp 2 -nographic -no-reboot -monitor none \
	-chardev "socket,id=ser0,path=$T/serial.sock,server=on,wait=off,logfile=$log" -serial chardev:ser0 \
	"${Q[@]}" >/dev/null 2>"$T/qemu.err" &
qpid=$!
at_exit "kill $qpid"
t_run="" t_typed="" t_marker=""
while kill -0 $qpid 2>/dev/null; do
	if [ -z "$t_run" ] && grep -qa 'muletto: RUN \(OK\|FAILED\)' "$log"; then
		t_run=$((SECONDS - start))
	fi
	# the shell on the serial console is up once it has shown its hint
	if [ -n "$t_run" ] && [ -z "$t_typed" ] && grep -qa 'muletto: restore with' "$log"; then
		sleep 2
		printf 'sh /run/muletto.sh\n' | socat - "UNIX-CONNECT:$T/serial.sock" 2>>"$T/qemu.err"
		t_typed=$((SECONDS - start))
	fi
	[ -z "$t_marker" ] && tr -d '\r' <"$log" | grep -qa "INNER| $SAMPLE_MARKER" && t_marker=$((SECONDS - start))
	sleep 1
done
wait $qpid
rc=$?
total=$((SECONDS - start))
tr -d '\r' <"$log" >"$log.txt"
json() { # BEGIN-WORD: the JSON the guest printed between WORD-BEGIN and WORD-END
	sed -n "/^$1-BEGIN\$/,/^$1-END\$/p" "$log.txt" | sed '1d;$d'
}
echo "timing: booted to RUN OK in ${t_run:-?}s, inner marker at ${t_marker:-?}s, powered off at ${total}s (qemu exit $rc)"

grep -qa "muletto: RUN OK: sample started" "$log.txt" &&
	pass "init starts the run= line's VM with the QEMU the initramfs carries (${t_run}s after power-on)" ||
	fail "init starts the run= line's VM" "$(grep -a 'muletto:' "$log.txt" | tail -4 | tr '\n' ' ') $(cat "$T/qemu.err")"
st=$(json STATUS-RUNNING)
if [ "$(jq -r '.vms[] | select(.name == "sample") | .state' <<<"$st" 2>/dev/null)" = running ] &&
	[ "$(jq -r '.vms[0].firmware' <<<"$st")" = uefi ]; then
	pass "muletto status --json inside reports the VM running ($(jq -r '.vms[0] | "\(.accel), \(.firmware), \(.cpus) CPUs, \(.memory_mib) MiB"' <<<"$st"))"
else
	fail "muletto status --json inside reports the VM running" "$(tr '\n' ' ' <<<"$st" | head -c 400)"
fi
if grep -qa "INNER| $SAMPLE_MARKER" "$log.txt"; then
	pass "the inner VM booted the sample (OVMF, shim, GRUB, Linux) to its marker, seen through muletto console (${t_marker}s after power-on)"
	grep -a '^INNER| ' "$log.txt" | grep -av '^INNER| *$' | tail -3 | sed 's/^/    /'
else
	fail "the inner VM reaches its marker" "$(grep -a -e '^INNER|' -e 'SERIAL-LOG' -e 'muletto:' "$log.txt" | tail -8 | tr '\n' ' ') $(cat "$T/qemu.err")"
fi
end=$(json STATUS-END)
if [ "$(jq -r '.vms[0].state' <<<"$end" 2>/dev/null)" = stopped ] &&
	[ "$(jq -r '.vms[0].disks[0].local_bytes == .vms[0].disks[0].total_bytes' <<<"$end")" = true ]; then
	pass "after the VM powered off, the run ended with its disk all local"
else
	fail "after the VM powered off, the run ended with its disk all local" "$(tr '\n' ' ' <<<"$end" | head -c 400)"
fi
if cmp -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" >"$T/cmp.out" 2>&1; then
	pass "the disk the inner VM ran from is the image, byte for byte ($(sha256sum <"$SAMPLE" | head -c 16)…)"
else
	fail "the disk the inner VM ran from is the image, byte for byte" "$(cat "$T/cmp.out")"
fi
[ "$rc" = 0 ] && [ -n "$end" ] &&
	pass "power-on to power-off in ${total}s: the muletto up and the VM started at ${t_run}s, its marker at ${t_marker:-?}s (timeout ${TIMEOUT}s)" ||
	fail "the nested boot ended in time" "qemu exit $rc after ${total}s"
