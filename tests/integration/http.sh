# HTTP transport: every worker's requests share kept-alive connections (HTTP/1.1:
# a handful of connections for hundreds of chunks), HTTPS servers that offer
# HTTP/2 get every request multiplexed over one connection, a private CA is
# taken from MULETTO_CA_BUNDLE, and an unknown certificate is refused plainly.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root http

make_sample_disk "$T/a.img" 64
"$MULETTO" capture "$T/a.img" "$T/repo" --name a --chunk-size 65536 --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"

make_test_ca "$T"
tport=$(free_port)
port=$(nginx_start "$T" "listen 127.0.0.1:$tport ssl http2; ssl_certificate $T/srv.pem; ssl_certificate_key $T/srv.key;")
log=$T/nginx-$port/access.log
conns() { grep -o 'conn=[0-9]*' "$log" | sort -u | wc -l; }
reqs() { grep -c "$1" "$log"; }

# HTTP/1.1: kept alive and shared
: >"$log"
"$MULETTO" restore "http://127.0.0.1:$port/repo" a --to "$T/h1.img" --json >"$T/h1.json" 2>"$T/h1.err" ||
	fail "restore over HTTP/1.1" "$(cat "$T/h1.err")"
check_cmp "restore over HTTP/1.1 is identical" "$T/a.img" "$T/h1.img"
n=$(reqs 'HTTP/1.1"') c=$(conns)
[ "$n" -ge 100 ] && [ "$c" -le 16 ] && pass "HTTP/1.1: $n requests over $c kept-alive connections" ||
	fail "HTTP/1.1: requests share kept-alive connections" "$n requests, $c connections"

# HTTPS with HTTP/2: one connection, multiplexed
: >"$log"
MULETTO_CA_BUNDLE=$T/ca.pem "$MULETTO" restore "https://127.0.0.1:$tport/repo" a --to "$T/h2.img" \
	--json >"$T/h2.json" 2>"$T/h2.err" || fail "restore over HTTPS" "$(cat "$T/h2.err")"
check_cmp "restore over HTTPS (private CA in MULETTO_CA_BUNDLE) is identical" "$T/a.img" "$T/h2.img"
n=$(reqs 'HTTP/2.0"') c=$(conns) all=$(wc -l <"$log")
[ "$n" -ge 100 ] && [ "$n" = "$all" ] && [ "$c" -le 2 ] &&
	pass "HTTPS: all $n requests over HTTP/2, on $c connection(s)" ||
	fail "HTTPS: requests multiplexed over HTTP/2" "$n of $all over HTTP/2, $c connections"

# a certificate nobody vouches for
expect_fail "HTTPS with an unknown certificate authority is refused" \
	"TLS failed.*MULETTO_CA_BUNDLE" \
	"$MULETTO" restore "https://127.0.0.1:$tport/repo" a --to "$T/h3.img"
[ ! -s "$T/h3.img" ] && pass "nothing written after the TLS refusal" ||
	fail "nothing written after the TLS refusal"
