# Authenticated HTTPS: basic auth with the password from the environment, from
# a private muletto.conf or refused from a readable one; bearer tokens; pinned
# keys; TLS failures that name the certificate; secrets never in a message.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root http_auth

make_sample_disk "$T/a.img" 32
mkdir -p "$T/www"
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name a --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"
make_test_ca "$T"
pw='Corr3ct horse;battery'
printf 'tech:%s\n' "$(openssl passwd -apr1 "$pw")" >"$T/htpasswd"
chmod 644 "$T/htpasswd"
tport=$(free_port)
port=$(nginx_start "$T/www" "listen 127.0.0.1:$tport ssl; ssl_certificate $T/srv.pem; ssl_certificate_key $T/srv.key;
	location /repo/ { auth_basic nas; auth_basic_user_file $T/htpasswd; }
	location /tok/ { alias $T/www/repo/; if (\$http_authorization != 'Bearer t0ken-42') { return 401; } }")
url=https://tech@127.0.0.1:$tport/repo
export MULETTO_CA_BUNDLE=$T/ca.pem
unset MULETTO_PASSWORD MULETTO_TOKEN MULETTO_PIN
export MULETTO_CONF=$T/none.conf

# the password from the environment
rm -f "$T/out.img"
MULETTO_PASSWORD=$pw "$MULETTO" restore "$url" a --to "$T/out.img" >"$T/o.log" 2>&1 ||
	fail "basic auth with MULETTO_PASSWORD" "$(cat "$T/o.log")"
check_cmp "basic auth, password from the environment: identical" "$T/a.img" "$T/out.img"

# from muletto.conf, private
printf 'repo=%s\npassword=%s\n' "$url" "$pw" >"$T/m.conf"
chmod 600 "$T/m.conf"
rm -f "$T/out.img"
MULETTO_CONF=$T/m.conf "$MULETTO" restore "$url" a --to "$T/out.img" >"$T/o.log" 2>&1 ||
	fail "basic auth with muletto.conf" "$(cat "$T/o.log")"
check_cmp "basic auth, password from a private muletto.conf: identical" "$T/a.img" "$T/out.img"

# ... refused when others can read it
chmod 644 "$T/m.conf"
expect_fail "a muletto.conf with a password that others can read is refused" \
	"m.conf holds password but other users can read it: run 'chmod 600" \
	env MULETTO_CONF="$T/m.conf" "$MULETTO" ls "$url"

# wrong and missing passwords: refused at once, no retries, nothing written
rm -f "$T/bad.img"
start=$SECONDS
expect_fail "a wrong password is refused plainly" "authentication failed \(HTTP 401\)" \
	env MULETTO_PASSWORD=wrong "$MULETTO" restore "$url" a --to "$T/bad.img"
[ $((SECONDS - start)) -lt 10 ] && [ ! -s "$T/bad.img" ] &&
	pass "a wrong password is not retried and nothing is written" ||
	fail "a wrong password is not retried and nothing is written" "$((SECONDS - start)) s"
expect_fail "no password and no terminal: says where it goes" \
	"password for tech@127.0.0.1:$tport: not given; put password=\.\.\. in .*MULETTO_PASSWORD" \
	"$MULETTO" ls "$url" </dev/null
expect_fail "a password in the URL is refused (it would be on the command line)" \
	"password in the URL is visible to every process" \
	"$MULETTO" ls "https://tech:secret@127.0.0.1:$tport/repo"

# a password never shows up, not even with every debug area on
MULETTO_DEBUG=all MULETTO_PASSWORD=$pw "$MULETTO" ls "$url" >"$T/ls.out" 2>&1
MULETTO_DEBUG=all MULETTO_PASSWORD=$pw "$MULETTO" restore "$url" nosuch --to "$T/x.img" >>"$T/ls.out" 2>&1
grep -q "^a " "$T/ls.out" && ! grep -qF "$pw" "$T/ls.out" &&
	pass "the password appears in no output or log line" ||
	fail "the password appears in no output or log line" "$(head -5 "$T/ls.out")"

# bearer token
rm -f "$T/out.img"
MULETTO_TOKEN=t0ken-42 "$MULETTO" restore "https://127.0.0.1:$tport/tok" a --to "$T/out.img" \
	>"$T/o.log" 2>&1 || fail "bearer token" "$(cat "$T/o.log")"
check_cmp "bearer token: identical" "$T/a.img" "$T/out.img"
expect_fail "a wrong token is refused" "authentication failed \(HTTP 401\)" \
	env MULETTO_TOKEN=nope "$MULETTO" ls "https://127.0.0.1:$tport/tok"

# pinned key: the right one works even without the CA, a wrong one is refused and
# the message shows the key the server has
pin=sha256//$(openssl x509 -in "$T/srv.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
MULETTO_PIN=$pin MULETTO_PASSWORD=$pw "$MULETTO" ls "$url" >"$T/ls.out" 2>&1 &&
	grep -q "^a " "$T/ls.out" && pass "the pinned key is accepted" ||
	fail "the pinned key is accepted" "$(cat "$T/ls.out")"
expect_fail "another key than the pinned one is refused, naming the server's key" \
	"key ${pin//+/\\+}\\) is not the pinned key" \
	env MULETTO_PIN=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= MULETTO_PASSWORD="$pw" \
	"$MULETTO" ls "$url"

# an unknown CA: the message names the certificate and why
expect_fail "an unknown CA: the message names the certificate and the reason" \
	"TLS failed: the server's certificate \(subject CN ?= ?127.0.0.1, issued by CN ?= ?muletto test CA.*unable to get local issuer" \
	env -u MULETTO_CA_BUNDLE MULETTO_PASSWORD="$pw" "$MULETTO" ls "$url"
