#!/bin/bash
# make bench, instant recovery (issue 11): muletto serve over emulated links.
# nginx serves the repository from a network namespace at the far end of a
# veth pair shaped with tbf on both ends (this kernel has tbf and htb, not
# netem), at each link speed in turn. The sample machine (UEFI: shim, GRUB, a
# kernel and a busybox init that prints a marker) holds DATA_MB of data its
# boot never reads. Per link:
#   boot     QEMU (TCG) from a local copy of the disk, and from `muletto serve
#            --to` (serve's start to the guest's marker, bytes nginx sent by
#            then) and from `serve --cow ram` (no hydration: what the boot needs)
#   hydrate  serve's start to its "hydrated" event with the guest booting,
#            then idle, against `muletto restore` of the same image to a
#            file; and, with a guest writing steadily, the hydration after its
#            first write (the link slow until then, as TCG boots slower than a
#            hydration) against restore's time for as many bytes
#   restore  full and delta, muletto against curl | zstd -d | dd
# Prints a table per link and which of the issue's goals are met. Timings only:
# nothing here asserts. Alone: tests/bench_serve.sh (root; build/muletto and
# build/boot/vmlinuz built). SERVE_BENCH_LINKS="1gbit 100mbit",
# SERVE_BENCH_MIB=512 and SERVE_BENCH_DATA_MB=300 change what it runs.
set -u
cd "$(dirname "$0")/.."
export MULETTO=${MULETTO:-$PWD/build/muletto}
. tests/lib.sh
. tests/lib_disk.sh
. tests/lib_e2e.sh
need_root bench_serve
trap 'exit 130' INT TERM # through exit, so that lib.sh's EXIT trap cleans up
export MULETTO_CONF=$T/none.conf

LINKS=${SERVE_BENCH_LINKS:-"1gbit 100mbit"}
SIZE_MIB=${SERVE_BENCH_MIB:-512}
DATA_MB=${SERVE_BENCH_DATA_MB:-300}
BOOT_TIMEOUT=300
# the link while the writing guest boots (see bench_serve_write)
WRITE_BOOT_SHAPE="10mbit 64kb 200ms"

log() { printf '==> %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { echo "scale=6; $*" | bc -l; }

# What this script starts in the background is killed at exit only while it
# still runs as ours (a pid marked live), never a pid reused since.
owned() { touch "$T/live.$1" && at_exit "[ -e $T/live.$1 ] && kill -9 $1"; }
disowned() { rm -f "$T/live.$1"; }
stop_owned() { # PID [SIGNAL]
	[ -e "$T/live.$1" ] && kill "-${2:-KILL}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	disowned "$1"
}

# --- the link ------------------------------------------------------------------

# A namespace holding one end of a veth pair, in the first 10.200.N.0/24 that
# no interface of the host uses; the host routes that /24 only. Sets NS, VH
# (host end), VN (namespace end), HOST_IP, FAR_IP. Removed at exit.
net_up() {
	local n=0
	while ip -br -4 addr | grep -q " 10\.200\.$n\."; do n=$((n + 1)); done
	[ $n -lt 256 ] || { log "no free 10.200.N.0/24"; return 1; }
	HOST_IP=10.200.$n.1 FAR_IP=10.200.$n.2
	NS=mbench$$ VH=mb$$h VN=mb$$n
	ip netns add "$NS" || return 1
	at_exit "ip netns del $NS"
	ip link add "$VH" type veth peer name "$VN" || return 1
	at_exit "ip link del $VH"
	ip link set "$VN" netns "$NS" &&
		ip addr add "$HOST_IP/24" dev "$VH" && ip link set "$VH" up &&
		ip -n "$NS" addr add "$FAR_IP/24" dev "$VN" && ip -n "$NS" link set "$VN" up &&
		ip -n "$NS" link set lo up
}

# shape RATE BURST LATENCY: tbf on both ends, so that both directions have the
# link's speed (requests one way, chunks the other).
shape() {
	tc qdisc replace dev "$VH" root tbf rate "$1" burst "$2" latency "$3" &&
		tc -n "$NS" qdisc replace dev "$VN" root tbf rate "$1" burst "$2" latency "$3"
}

# What each link is: tbf's rate, burst (about 2 ms of the rate, and at least a
# 64 KiB segmentation-offload packet, which tbf would otherwise cut up) and
# latency (the longest a packet may wait in its queue, so its length).
link_shape() {
	case "$1" in
	1gbit) echo "1gbit 256kb 20ms" ;;
	100mbit) echo "100mbit 64kb 50ms" ;;
	*) log "unknown link $1 (1gbit, 100mbit)"; return 1 ;;
	esac
}

link_bits() { # 1gbit -> 1000000000
	local n=${1%bit}
	case "$n" in
	*g) echo $((${n%g} * 1000000000)) ;;
	*m) echo $((${n%m} * 1000000)) ;;
	*) echo "$n" ;;
	esac
}

# nginx in the namespace, serving WWW on FAR_IP:8080. Its log has, per
# request, when it ended ($msec) and the body bytes sent: bytes up to a moment
# are summed from it afterwards. Stopped at exit.
nginx_far_start() { # WWW
	local dir=$T/nginx-far
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<NGINX
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
	log_format b '\$msec \$body_bytes_sent \$status \$request_uri';
	access_log $dir/access.log b;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	default_type application/octet-stream;
	sendfile on;
	keepalive_requests 100000;
	server {
		listen $FAR_IP:8080;
		root $1;
	}
}
NGINX
	ip netns exec "$NS" /usr/sbin/nginx -c "$dir/nginx.conf" -e "$dir/error.log" ||
		return 1
	at_exit "nginx_stop $dir"
	ALOG=$dir/access.log
	BASE=http://$FAR_IP:8080
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$BASE/repo/images/sample/manifest.json" && return 0
		sleep 0.1
	done
	return 1
}

# Body bytes nginx sent in requests that ended between two moments.
sent_between() { # T0 T1
	awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { s += $2 } END { printf "%.0f\n", s }' "$ALOG"
}

# One curl stream for about three seconds of the link: MB/s.
curl_rate() { # RATE-BYTES-PER-S
	local want=$(($1 * 3)) have
	have=$(stat -c %s "$WWW/sample.img.zst")
	[ "$want" -lt "$have" ] || want=$have
	curl -sf -o /dev/null -r "0-$((want - 1))" -w '%{speed_download}' "$BASE/sample.img.zst" |
		awk '{ printf "%.1f\n", $1 / 1e6 }'
}

# --- the machine ---------------------------------------------------------------

# The sample (it idles or writes after its marker when given a second disk,
# see SAMPLE_GUEST_WRITER), a copy with ~7 % of its data chunks rewritten, both
# captured, and both as .img.zst for the curl | zstd -d | dd baseline.
build_samples() {
	local first=48 last=$((SIZE_MIB - 48))
	SAMPLE_DATA_MIB=$DATA_MB SAMPLE_GUEST_WRITER=$first:$((last - first)) \
		e2e_bootable_sample "$W/sample.img" "$SIZE_MIB" || return 1
	make_changed "$W/sample.img" "$W/sample2.img" || return 1
	"$MULETTO" capture "$W/sample.img" "$WWW/repo" --name sample --progress none >/dev/null &&
		"$MULETTO" capture "$W/sample2.img" "$WWW/repo" --name sample2 --progress none >/dev/null ||
		return 1
	zstd -q -T0 -3 -f "$W/sample.img" -o "$WWW/sample.img.zst" &&
		zstd -q -T0 -3 -f "$W/sample2.img" -o "$WWW/sample2.img.zst"
	DATA_BYTES=$(jq -r '.disks[0].bytes_used' "$WWW/repo/images/sample/manifest.json")
	for m in idle write; do
		printf '%s\n' "$m" >"$W/$m.mode" && truncate -s 1M "$W/$m.mode"
	done
}

# make_changed SRC DST: as make bench's delta, every 14th MiB that holds data
# gets 1 MiB of other (random) bytes: ~7 % of the image's data changed.
make_changed() {
	python3 - "$1" "$2" <<'PY'
import os, sys
src, dst = sys.argv[1:]
zero, k = bytes(1 << 20), 0
with open(src, "rb") as f, open(dst, "wb") as g:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        if b != zero[:len(b)]:
            if k % 14 == 7:
                b = os.urandom(len(b))
            k += 1
            g.write(b)
        else:
            g.seek(len(b), os.SEEK_CUR)
    g.truncate()
PY
}

# guest_start LOG MODE DRIVE... : QEMU (UEFI, TCG, as the e2e tests boot) in
# the background with the given disk, and a second disk that tells the guest
# what to do after its marker (idle | write). Sets GUEST_PID.
guest_start() {
	local log=$1 mode=$2
	shift 2
	Q=()
	e2e_firmware uefi
	: >"$log"
	qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
		-serial "file:$log" -monitor none "${Q[@]}" "$@" -device virtio-blk-pci,drive=d0 \
		-drive "file=$W/$mode.mode,format=raw,if=none,id=d1,readonly=on" \
		-device virtio-blk-pci,drive=d1 >/dev/null 2>"$log.err" &
	GUEST_PID=$!
	owned $GUEST_PID
	Q=()
}

guest_stop() { stop_owned "$GUEST_PID"; }

# wait_log FILE PATTERN SECONDS: prints the moment PATTERN was first seen
# (polled every 50 ms), or fails after SECONDS.
wait_log() {
	local end=$((SECONDS + $3))
	until grep -qa -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
	now
}

# stamp FILE PATTERN OUT: in the background, the moment PATTERN first shows
# in FILE goes into OUT, whatever else is being waited for meanwhile.
stamp() {
	rm -f "$3"
	(wait_log "$1" "$2" 3600 >"$3.new" && mv "$3.new" "$3"; disowned $BASHPID) &
	owned $!
	STAMP_PID=$!
}

# stamped OUT SECONDS: prints the moment in OUT once it is there, or fails;
# the watcher is stopped either way.
stamped() {
	local r=0
	wait_log "$1" . "$2" >/dev/null && cat "$1" || r=1
	stop_owned "$STAMP_PID"
	return $r
}

# On a failure, the end of a log, so that the run says why.
tell() { # WHAT LOG
	log "$1; the end of $2:"
	tail -5 "$2" | sed 's/^/    /' >&2
}

# --- muletto serve ---------------------------------------------------------------

# serve_start LOG ARGS... : muletto serve of the sample on a Unix socket until
# it is ready; SERVE_T0 is the moment it was started.
serve_start() {
	local log=$1
	shift
	NBD=$T/nbd.sock
	rm -f "$NBD"
	SERVE_T0=$(now)
	"$MULETTO" serve "$BASE/repo" sample --nbd "unix:$NBD" --json --yes "$@" >"$log" 2>&1 &
	SERVE_PID=$!
	owned $SERVE_PID
	wait_log "$log" '"state":"ready"' 60 >/dev/null || { log "serve did not start: $(tail -3 "$log")"; return 1; }
}

serve_stop() { stop_owned "$SERVE_PID" TERM; }

nbd_disk() {
	echo "file=nbd+unix:///?socket=$NBD,format=raw,if=none,id=d0,cache=none"
}

fresh_target() { # FILE: none, and no map of an earlier serve beside it
	rm -f "$1" "$1.muletto-map"
}

# Drops a file's pages from the host's cache, so that what is read of it
# comes from the disk (the repository's files stay cached: the far side's
# disks are not what is measured).
uncache() {
	dd if="$1" iflag=nocache count=0 status=none 2>/dev/null
}

# The same guest from a local copy of the disk: QEMU's start to the marker.
bench_local_boot() {
	local t0 t1
	cp --sparse=always "$W/sample.img" "$W/local.img"
	uncache "$W/local.img"
	t0=$(now)
	guest_start "$W/local.log" idle -drive "file=$W/local.img,format=raw,if=none,id=d0,cache=none"
	t1=$(wait_log "$W/local.log" "$SAMPLE_MARKER" $BOOT_TIMEOUT) ||
		{ tell "local boot: no marker" "$W/local.log"; t1=; }
	guest_stop
	[ -n "$t1" ] && R[boot_local]=$(calc "$t1 - $t0")
	log "boot from a local copy: ${R[boot_local]:-?} s"
}

# serve --to: the boot (serve's start to the marker, bytes sent by then), then
# the guest idles until hydrated (the two watched at once: at a fast link the
# image is all local before the guest's boot is done).
bench_serve_idle() { # LINK
	local l=$1 tm th
	fresh_target "$W/target.img"
	serve_start "$W/serve-idle.log" --to "$W/target.img" || return 1
	stamp "$W/serve-idle.log" '"state":"hydrated"' "$W/idle.hydrated"
	guest_start "$W/serve-idle.boot" idle -drive "$(nbd_disk)"
	tm=$(wait_log "$W/serve-idle.boot" "$SAMPLE_MARKER" $BOOT_TIMEOUT) ||
		{ tell "$l: serve --to: no marker" "$W/serve-idle.boot"; tm=; }
	th=$(stamped "$W/idle.hydrated" 600) || { tell "$l: serve --to: not hydrated" "$W/serve-idle.log"; th=; }
	guest_stop
	serve_stop
	[ -n "$tm" ] && R[$l.boot_serve]=$(calc "$tm - $SERVE_T0") R[$l.boot_serve_bytes]=$(sent_between "$SERVE_T0" "$tm")
	[ -n "$th" ] && R[$l.hydrate_idle]=$(calc "$th - $SERVE_T0") R[$l.hydrate_idle_bytes]=$(sent_between "$SERVE_T0" "$th")
	cmp -s "$W/sample.img" "$W/target.img" || log "WARNING: the hydrated target is not the image"
	log "$l: serve --to: marker at ${R[$l.boot_serve]:-?} s, hydrated at ${R[$l.hydrate_idle]:-?} s"
}

# serve --cow ram: nothing hydrates, so what nginx sent is what the boot read.
bench_serve_cow() { # LINK
	local l=$1 tm
	serve_start "$W/serve-cow.log" --cow ram || return 1
	guest_start "$W/serve-cow.boot" idle -drive "$(nbd_disk)"
	tm=$(wait_log "$W/serve-cow.boot" "$SAMPLE_MARKER" $BOOT_TIMEOUT) ||
		{ tell "$l: serve --cow ram: no marker" "$W/serve-cow.boot"; tm=; }
	guest_stop
	serve_stop
	[ -n "$tm" ] || return 1
	R[$l.boot_cow]=$(calc "$tm - $SERVE_T0")
	R[$l.boot_cow_bytes]=$(sent_between "$SERVE_T0" "$tm")
	log "$l: serve --cow ram: marker at ${R[$l.boot_cow]} s, $(mb "${R[$l.boot_cow_bytes]}") MB"
}

# serve --to with a guest that writes steadily, until hydrated. Under TCG the
# guest's boot is slower than most of a hydration at these speeds, so the link
# is slow (WRITE_BOOT_SHAPE) until the guest's first write and the link's own
# speed after it: the hydration measured is the rest of the image, fetched
# while the guest writes, against restore's time for as many bytes.
bench_serve_write() { # LINK
	local l=$1 tw th
	shape $WRITE_BOOT_SHAPE || return 1
	fresh_target "$W/target.img"
	serve_start "$W/serve-write.log" --to "$W/target.img" || return 1
	stamp "$W/serve-write.log" '"state":"hydrated"' "$W/write.hydrated"
	guest_start "$W/serve-write.boot" write -drive "$(nbd_disk)"
	tw=$(wait_log "$W/serve-write.boot" '^W' $BOOT_TIMEOUT) ||
		{ tell "$l: the writing guest did not write" "$W/serve-write.boot"; tw=; }
	shape $(link_shape "$l")
	th=$(stamped "$W/write.hydrated" 600) || { tell "$l: serve --to: not hydrated" "$W/serve-write.log"; th=; }
	R[$l.writes]=$(grep -c '^W' "$W/serve-write.boot")
	guest_stop
	serve_stop
	if [ -z "$tw" ] || [ -z "$th" ] || [ "$(calc "$th <= $tw")" = 1 ]; then
		log "$l: serve --to, guest writing: no hydration while the guest wrote"
		return 1
	fi
	R[$l.writes]=$((R[$l.writes] - 1)) # the one that started the clock
	R[$l.hydrate_write]=$(calc "$th - $tw")
	R[$l.hydrate_write_before]=$(sent_between "$SERVE_T0" "$tw")
	R[$l.hydrate_write_bytes]=$(sent_between "$tw" "$th")
	log "$l: serve --to, guest writing: $(mb "${R[$l.hydrate_write_bytes]}") MB hydrated in ${R[$l.hydrate_write]} s" \
		"after its first write (${R[$l.writes]} writes of 256 KiB)"
}

# timed NAME CMD... : wall seconds of CMD into R[NAME], nginx's bytes into
# R[NAME_bytes]; CMD's output in $W/last.log.
timed() {
	local name=$1 t0 t1
	shift
	sync
	t0=$(now)
	"$@" >"$W/last.log" 2>&1 || { log "FAILED: $*"; tail -3 "$W/last.log" >&2; }
	t1=$(now)
	R[$name]=$(calc "$t1 - $t0")
	R[${name}_bytes]=$(sent_between "$t0" "$t1")
}

curl_dd() { # NAME.img.zst FILE
	curl -sf "$BASE/$1" | zstd -dc | dd of="$2" bs=4M iflag=fullblock conv=sparse,fsync status=none
}

bench_restores() { # LINK
	local l=$1 r=$W/restored.img
	fresh_target "$r"
	timed "$l.restore" "$MULETTO" restore "$BASE/repo" sample --to "$r" --yes --progress none
	cmp -s "$W/sample.img" "$r" || log "WARNING: muletto restore did not restore the image"
	rm -f "$r"
	timed "$l.curl" curl_dd sample.img.zst "$r"
	cmp -s "$W/sample.img" "$r" || log "WARNING: curl | zstd -d | dd did not restore the image"
	cp --sparse=always "$W/sample.img" "$r" && sync && uncache "$r"
	timed "$l.delta" "$MULETTO" restore "$BASE/repo" sample2 --to "$r" --yes --progress none
	cmp -s "$W/sample2.img" "$r" || log "WARNING: the delta restore did not restore the changed copy"
	rm -f "$r"
	timed "$l.curl2" curl_dd sample2.img.zst "$r"
	cmp -s "$W/sample2.img" "$r" || log "WARNING: curl | zstd -d | dd did not restore the changed copy"
	rm -f "$r"
	log "$l: restore ${R[$l.restore]} s, curl|zstd|dd ${R[$l.curl]} s, delta ${R[$l.delta]} s"
}

# --- the report ----------------------------------------------------------------

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
# v KEY: the result, or "" when that step failed
v() { echo "${R[$1]:-}"; }
ratio() { # A B: A / B, or "" when either is missing
	[ -n "$1" ] && [ -n "$2" ] && calc "$1 / $2"
}
row() { # LABEL SECONDS BASE-SECONDS [BYTES]: "-" for what was not measured
	local r
	r=$(ratio "$2" "$3")
	printf '  %-46s %8s %8s %11s\n' "$1" "$(f2 "$2")" "$(f2 "$r")" "${4:+$(mb "$4")}"
}
f2() { if [ -n "$1" ]; then printf %.2f "$1"; else echo -; fi; }
goal() { # TEXT VALUE LIMIT DETAIL: met when VALUE <= LIMIT
	local met="NOT met"
	if [ -z "$2" ]; then
		met="not measured"
	elif [ "$(calc "$2 <= $3")" = 1 ]; then
		met=met
	fi
	printf '  %-50s %-12s %s\n' "$1" "$met" "${2:+($4)}"
}

report() { # LINK
	local l=$1 pct x w_base
	printf '\nlink %s: tbf %s both ways, no added delay; one curl stream: %s MB/s\n' \
		"$l" "$(v "$l.shape")" "$(v "$l.curl_rate")"
	printf '  %-46s %8s %8s %11s\n' "" seconds ratio "fetched MB"
	row "boot to marker, local copy of the disk" "$(v boot_local)" "$(v boot_local)"
	row "boot to marker, serve --to (from its start)" "$(v "$l.boot_serve")" "$(v boot_local)" "$(v "$l.boot_serve_bytes")"
	row "boot to marker, serve --cow ram" "$(v "$l.boot_cow")" "$(v boot_local)" "$(v "$l.boot_cow_bytes")"
	row "muletto restore (to a file)" "$(v "$l.restore")" "$(v "$l.restore")" "$(v "$l.restore_bytes")"
	row "hydration, guest booting then idle" "$(v "$l.hydrate_idle")" "$(v "$l.restore")" "$(v "$l.hydrate_idle_bytes")"
	# restore's time for as many bytes as the hydration fetched while the guest wrote
	w_base=$([ -n "$(v "$l.restore")" ] && [ -n "$(v "$l.hydrate_write_bytes")" ] &&
		calc "$(v "$l.restore") * $(v "$l.hydrate_write_bytes") / $(v "$l.restore_bytes")")
	row "restore, prorated to the bytes below" "$w_base" "$w_base"
	row "hydration, guest writing (from its 1st write)" "$(v "$l.hydrate_write")" "$w_base" "$(v "$l.hydrate_write_bytes")"
	row "curl | zstd -d | dd" "$(v "$l.curl")" "$(v "$l.restore")" "$(v "$l.curl_bytes")"
	row "muletto delta restore (~7 % changed)" "$(v "$l.delta")" "$(v "$l.delta")" "$(v "$l.delta_bytes")"
	row "curl | zstd -d | dd (the changed copy)" "$(v "$l.curl2")" "$(v "$l.delta")" "$(v "$l.curl2_bytes")"
	if [ -n "$(v "$l.hydrate_write")" ]; then
		printf '  guest writing: %s MB fetched on a %s link during its boot; then %s writes of 256 KiB,\n' \
			"$(mb "$(v "$l.hydrate_write_before")")" "${WRITE_BOOT_SHAPE%% *}" "$(v "$l.writes")"
		printf '    each flushed, in the %.0f s of the hydration (%.2f MB/s)\n' "$(v "$l.hydrate_write")" \
			"$(calc "$(v "$l.writes") * 262144 / $(v "$l.hydrate_write") / 1000000")"
	fi
	pct=$([ -n "$(v "$l.boot_cow_bytes")" ] && calc "100 * $(v "$l.boot_cow_bytes") / $DATA_BYTES")
	goal "boot fetches under 10 % of the image's data" "$pct" 10 \
		"$(printf '%.1f %%: %s of %s MB, serve --cow ram' "${pct:-0}" "$(mb "$(v "$l.boot_cow_bytes")")" "$(mb "$DATA_BYTES")")"
	x=$(ratio "$(v "$l.hydrate_idle")" "$(v "$l.restore")")
	goal "hydration, guest idle <= 1.1 x restore" "$x" 1.1 "$(printf '%.2f x' "${x:-0}")"
	x=$(ratio "$(v "$l.hydrate_write")" "$w_base")
	goal "hydration, guest writing <= 1.4 x restore" "$x" 1.4 "$(printf '%.2f x' "${x:-0}")"
}

# --- the run -------------------------------------------------------------------

for need in qemu-system-x86_64 nginx tc curl zstd jq; do
	command -v "$need" >/dev/null || PATH=$PATH:/usr/sbin command -v "$need" >/dev/null ||
		{ skip bench_serve "$need is missing"; exit 0; }
done
[ -f "$MULETTO_TOP/build/boot/vmlinuz" ] ||
	{ skip bench_serve "build/boot/vmlinuz is missing: make build/boot/initrd.img"; exit 0; }

declare -A R
START=$SECONDS
W=$T
WWW=$T/www
mkdir -p "$WWW"
log "building the sample machine (${SIZE_MIB} MiB, ${DATA_MB} MB of data its boot does not read) and a changed copy"
build_samples || { log "could not build the sample"; exit 1; }
net_up || { log "could not set up the namespace and veth pair"; exit 1; }
nginx_far_start "$WWW" || { log "nginx did not start in the namespace"; exit 1; }
log "repository at $BASE/repo (namespace $NS, $VH <-> $VN)"
bench_local_boot
for l in $LINKS; do
	R[$l.shape]=$(link_shape "$l") || continue
	shape $(link_shape "$l") || { log "tc: cannot shape $l"; continue; }
	R[$l.curl_rate]=$(curl_rate $(($(link_bits "$l") / 8)))
	log "$l: one curl stream $(printf %s "${R[$l.curl_rate]}") MB/s"
	bench_serve_idle "$l"
	bench_serve_cow "$l"
	bench_serve_write "$l"
	shape $(link_shape "$l")
	bench_restores "$l"
done

printf '\ninstant recovery: a %s MiB UEFI machine, %s MB of data (its boot reads a few MB),\n' \
	"$SIZE_MIB" "$(mb "$DATA_BYTES")"
printf 'repository on nginx behind a shaped veth pair; QEMU TCG (no KVM), -smp 2, on %s cores\n' "$(nproc)"
for l in $LINKS; do
	[ -n "${R[$l.shape]:-}" ] && report "$l"
done
printf '\nbench_serve took %d s\n' $((SECONDS - START))
