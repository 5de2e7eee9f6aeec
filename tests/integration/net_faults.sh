# Network faults: the web server goes away in the middle of a restore and comes
# back; the restore waits, resumes the interrupted downloads (Range requests)
# and finishes bit-identical. A name that does not resolve is named, at once.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root net_faults

make_sample_disk "$T/a.img" 64
mkdir -p "$T/www"
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name a --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"
zstd -q -1 "$T/a.img" -o "$T/www/a.img.zst"
# slow enough that the server can be stopped half-way
port=$(nginx_start "$T/www" "limit_rate 400k;")
dir=$T/nginx-$port
export MULETTO_RETRY_SECONDS=60

# stop_restart SECONDS_BEFORE SECONDS_DOWN: takes the server away and back
stop_restart() {
	sleep "$1"
	nginx_stop "$dir"
	sleep "$2"
	/usr/sbin/nginx -c "$dir/nginx.conf" -e "$dir/error.log" >/dev/null 2>&1
}

for what in image raw; do
	if [ $what = image ]; then
		args=("http://127.0.0.1:$port/repo" a)
	else
		args=("http://127.0.0.1:$port/a.img.zst")
	fi
	rm -f "$T/out.img"
	: >"$dir/access.log"
	stop_restart 1.5 3 &
	killer=$!
	start=$SECONDS
	"$MULETTO" restore "${args[@]}" --to "$T/out.img" --yes >"$T/o.log" 2>&1
	rc=$?
	wait $killer
	[ $rc = 0 ] && grep -q "retrying" "$T/o.log" &&
		pass "$what: the restore waits while the server is down ($((SECONDS - start)) s)" ||
		fail "$what: the restore waits while the server is down" "rc $rc: $(tail -3 "$T/o.log")"
	check_cmp "$what: restore across a server restart is identical" "$T/a.img" "$T/out.img"
done
# the raw image is one long download: it went on from where it stopped
grep -q '"GET /a.img.zst HTTP/1.1" 206 ' "$dir/access.log" &&
	pass "an interrupted download resumes with a Range request" ||
	fail "an interrupted download resumes with a Range request" "$(cut -c1-200 "$dir/access.log")"

# a server that never answered is not waited for
nginx_stop "$dir"
start=$SECONDS
expect_fail "a server that is down at the start is reported at once" \
	"cannot connect .*check the address and that the server is running" \
	"$MULETTO" ls "http://127.0.0.1:$port/repo"
[ $((SECONDS - start)) -lt 10 ] && pass "... without waiting ($((SECONDS - start)) s)" ||
	fail "... without waiting" "$((SECONDS - start)) s"

# DNS failures name the host
expect_fail "a name that does not resolve is named" \
	"http://no-such-nas.invalid/repo.*cannot resolve the host name" \
	"$MULETTO" ls "http://no-such-nas.invalid/repo"
