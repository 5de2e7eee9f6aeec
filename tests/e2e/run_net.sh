# muletto run --net bridge, in network namespaces of the test's own: in A, a
# veth end with an address and a default route plays the muletto's NIC; its
# peer in B is the customer's network. The VM (the sample machine, a static
# address on its first card) runs in A with --net bridge:va; from B the guest
# answers pings with the manifest's MAC, A's address (moved to the bridge)
# still answers, a second run changes nothing, the taps go with the VM and
# the bridge stays. Refusals before anything runs: no default route, no such
# interface, VNC on the network without a password. VNC with a password
# offers VNC authentication.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "muletto run --net bridge"
for f in build/boot/vmlinuz build/debs.stamp; do
	[ -e "$MULETTO_TOP/$f" ] || { skip "muletto run --net bridge" "$f is missing: run make iso"; exit 0; }
done
for c in qemu-system-x86_64 ip jq python3; do
	command -v $c >/dev/null || { skip "muletto run --net bridge" "$c is missing"; exit 0; }
done
export MULETTO_CONF=$T/none.conf MULETTO_RUN_DIR=$T/vms
A=mlt-a$$ B=mlt-b$$ C=mlt-c$$
MAC0=52:54:00:6d:6c:30 MAC1=52:54:00:6d:6c:31 GUEST=10.77.0.50
# ping: busybox's, from the packages the boot media are made of
dpkg-deb -x "$(ls "$MULETTO_TOP"/build/debs/busybox-static_*.deb | head -1)" "$T/bb"
BB=$T/bb/bin/busybox
inA() { ip netns exec $A "$@"; }
inB() { ip netns exec $B "$@"; }

# the namespaces, gone at the end whatever happens (after the VMs: registered first)
for ns in $A $B $C; do
	ip netns add $ns || { fail "netns" "cannot make network namespace $ns"; exit 0; }
	at_exit "ip netns del $ns"
	ip -n $ns link set lo up
done
at_exit "$MULETTO stop sample --force"
ip -n $A link add va type veth peer name vb netns $B
ip -n $A addr add 10.77.0.1/24 dev va
ip -n $A link set va up
ip -n $A route add default via 10.77.0.254 dev va
ip -n $B addr add 10.77.0.254/24 dev vb
ip -n $B link set vb up

# the sample machine, its two network cards recorded with their MACs
SAMPLE=$T/sample.img
SAMPLE_GUEST_IP=$GUEST/24 SAMPLE_STAY_SECONDS=600 e2e_bootable_sample "$SAMPLE" 64
"$MULETTO" capture "$SAMPLE" "$T/repo" --name sample --progress none >/dev/null 2>&1 ||
	{ fail "run --net bridge" "capture failed"; exit 0; }
m=$T/repo/images/sample/manifest.json
jq --arg a $MAC0 --arg b $MAC1 '.machine.nics = [{name: "eth0", mac: $a, driver: "virtio_net"},
	{name: "eth1", mac: $b, driver: "virtio_net"}]' "$m" >"$m.new" && mv "$m.new" "$m"
run=("$MULETTO" run "$T/repo" sample --to "$T/t.img" --yes --firmware uefi --memory 384
     --nic-model virtio)

# refused before anything is served, written or changed
expect_fail "--net bridge without a default route: name the link" \
	"no default route.*--net bridge:IFACE" ip netns exec $C "${run[@]}" --net bridge
expect_fail "--bridge NOSUCH: no such interface" \
	"--net bridge:nosuch0: there is no network interface nosuch0" "${run[@]}" --bridge nosuch0
expect_fail "--vnc on the network without a password is refused" \
	"VNC on 0.0.0.0:7 without a password.*vnc_password=" "${run[@]}" --net none --vnc 0.0.0.0:7
[ ! -e "$T/t.img" ] && [ -z "$(ip -n $C -o link show type bridge)" ] &&
	pass "... and nothing was written, no bridge made" || fail "the refusals wrote or made something"

# the VM on a bridge over va (VNC with a password, on A's loopback), while B
# pings A ten times a second
wait_for 10 inB $BB ping -c 1 -W 1 10.77.0.1 >/dev/null || fail "B reaches A before the run"
ip netns exec $B "$BB" ping -i 0.1 10.77.0.1 >"$T/ping.out" 2>&1 & # $!: ip, then ping (exec)
pinger=$!
at_exit "kill $pinger"
inA env MULETTO_VNC_PASSWORD=not-on-the-command-line "${run[@]}" --detach --net bridge:va --vnc 127.0.0.1:7 \
	>"$T/run.out" 2>&1 || fail "muletto run --net bridge:va" "$(cat "$T/run.out")"
sleep 0.5 # a few more pings after the move
kill -INT $pinger
wait $pinger
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.out")
got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$T/ping.out")
[ -n "$sent" ] && [ "$sent" -gt 5 ] && [ $((sent - got)) -le 2 ] &&
	pass "A answered B all through the move onto the bridge ($got of $sent pings, 0.1 s apart)" ||
	fail "A answers B through the move" "$(tail -3 "$T/ping.out")"
at_exit "kill -9 $(st '.vms[0].pid' 2>/dev/null || echo 0)"
br=$(st '.vms[0].net.bridge')
taps=$(st '.vms[0].net.taps | join(" ")')
[ "$br" = mbr0 ] && [ "$(st '.vms[0].net.link')" = va ] && [ "$(wc -w <<<"$taps")" = 2 ] &&
	[ "$(ip -n $A -o link show master mbr0 | grep -c "mtap\|va")" = 3 ] &&
	"$MULETTO" status | grep -q "bridge mbr0 over va (taps $taps, gone when the VM ends; the bridge stays)" &&
	pass "va is a port of bridge mbr0 with one tap per network card ($taps); status says so" ||
	fail "the bridge and its taps" "bridge '$br', taps '$taps': $(ip -n $A -o link show master mbr0; "$MULETTO" status)"
addr_of() { ip -n $A -j addr show dev "$1" | jq -r '[.[].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(" ")'; }
[ "$(addr_of mbr0)" = 10.77.0.1/24 ] && [ -z "$(addr_of va)" ] &&
	[ "$(ip -n $A -j route show default | jq -r '.[0].dev + " " + .[0].gateway')" = "mbr0 10.77.0.254" ] &&
	[ "$(ip -n $A -j link show mbr0 | jq -r '.[0].address')" = "$(ip -n $A -j link show va | jq -r '.[0].address')" ] &&
	pass "A's address and default route moved onto the bridge, which has va's MAC" ||
	fail "A's address and route on the bridge" "mbr0: $(addr_of mbr0); va: $(addr_of va); $(ip -n $A route)"
wait_for 10 inB $BB ping -c 1 -W 1 10.77.0.1 >/dev/null &&
	pass "A's address answers from the customer's network through the bridge" ||
	fail "A's address answers from B" "$(inB $BB ping -c 1 -W 1 10.77.0.1)"
vnc=$(inA bash -c "$(declare -f vnc_security_types); vnc_security_types 127.0.0.1 5907" 2>&1)
[ "$vnc" = "RFB 003.008 2" ] && pass "VNC with a password offers VNC authentication only ($vnc)" ||
	fail "VNC with a password offers VNC authentication" "$vnc"

# the guest from B: its address answers, with the manifest's MAC
wait_for 120 grep -qa "GUEST-NET-UP" "$T/vms/sample/serial.log" ||
	fail "the guest brought its network card up" "$(tail -5 "$T/vms/sample/serial.log")"
wait_for 20 inB $BB ping -c 1 -W 1 $GUEST >/dev/null &&
	pass "the guest answers pings from the customer's network at $GUEST" ||
	fail "the guest answers pings from B" "$(inB $BB ping -c 1 -W 1 $GUEST; grep -a GUEST-NET "$T/vms/sample/serial.log")"
seen=$(ip -n $B -j neigh show $GUEST | jq -r '.[0].lladdr')
[ "$seen" = $MAC0 ] && grep -qa "GUEST-NET-UP $GUEST/24 $MAC0" "$T/vms/sample/serial.log" &&
	pass "B sees the guest at the manifest's MAC ($seen)" || fail "the guest's MAC" "B saw '$seen', wanted $MAC0"

# a second run over va: the same bridge, nothing moved, its taps handed to
# QEMU as descriptors (a stand-in QEMU that looks, then ends), then gone
mkdir -p "$T/bin"
cat >"$T/bin/qemu-system-x86_64" <<'SH'
#!/bin/bash
for a in "$@"; do case "$a" in tap,fd=*) n=${a#tap,fd=}; n=${n%%,*}
	echo "$n $(readlink /proc/$$/fd/$n)" ;; esac; done >"${0%/bin/*}/fake-qemu.fds"
echo "qemu-system-x86_64: the stand-in of run_net.sh ends here" >&2
exit 1
SH
chmod +x "$T/bin/qemu-system-x86_64"
before=$(ip -n $A -o addr show; ip -n $A route)
out=$(inA env PATH="$T/bin:$PATH" "${run[@]}" --name again --to "$T/t2.img" --net bridge:va 2>&1)
after=$(ip -n $A -o addr show; ip -n $A route)
grep -q "QEMU ended at once: qemu-system-x86_64: the stand-in of run_net.sh ends here" <<<"$out" &&
	[ "$(grep -c ' /dev/net/tun$' "$T/fake-qemu.fds")" = 2 ] &&
	pass "a tap per card reaches QEMU as an open /dev/net/tun descriptor; QEMU's end is said at once" ||
	fail "the taps reach QEMU as descriptors" "$out; $(cat "$T/fake-qemu.fds" 2>&1)"
[ "$before" = "$after" ] && [ "$(ip -n $A -o link show type bridge | wc -l)" = 1 ] &&
	! grep -q "moved onto the bridge" <<<"$out" &&
	[ "$(ip -n $A -o link show master mbr0 | grep -c mtap)" = 2 ] &&
	pass "a second run over va finds mbr0 and changes nothing; its own taps are gone" ||
	fail "a second run is idempotent" "$out; $(diff <(echo "$before") <(echo "$after")); $(ip -n $A -o link)"

# the end of the VM takes its taps; the bridge stays, and A still answers
"$MULETTO" stop sample --force >/dev/null 2>&1
wait_for 20 bash -c "! ip -n $A -o link show | grep -q mtap" &&
	[ "$(ip -n $A -o link show type bridge | wc -l)" = 1 ] && inB $BB ping -c 1 -W 2 10.77.0.1 >/dev/null &&
	pass "the VM's end took its taps; bridge mbr0 stays and A still answers" ||
	fail "after the VM" "$(ip -n $A -o link)"
