# Shared helpers for integration tests: source it from a test script.
#   pass NAME / fail NAME [why] / skip NAME why   -- report one case
#   check_cmp NAME FILE1 FILE2                   -- byte comparison as a case
#   loop_attach FILE [-r]  -> prints /dev/loopN (partitions scanned with partx)
#   T                      -- a fresh temporary folder, removed at exit (KEEP_T=1:
#                             kept, servers left running, for a look afterwards)
# Everything a test sets up is torn down by the EXIT trap, in reverse order.
set -u
: "${MULETTO_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${MULETTO:=$MULETTO_TOP/build/san/muletto}"
export MULETTO_TOP MULETTO
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d /tmp/muletto-test.XXXXXX)
chmod 755 "$T" # nginx's workers run as www-data
# Cleanups go to a file, so helpers called in $(...) subshells can register them.
at_exit() { printf '%s\n' "$*" >>"$T/.cleanups"; }
_run_cleanups() {
	[ -n "${KEEP_T:-}" ] && return
	[ -f "$T/.cleanups" ] && tac "$T/.cleanups" | while IFS= read -r c; do eval "$c" >/dev/null 2>&1; done
	mountpoint -q "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap _run_cleanups EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; }
skip() { echo "SKIP: $1 ($2)"; }

check_cmp() { # name file1 file2
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ: $(cmp "$2" "$3" 2>&1 | head -1)"; fi
}

# expect_fail NAME PATTERN CMD... : CMD must exit non-zero and print PATTERN (ERE)
# on stderr in exactly one line starting with "muletto: ".
expect_fail() {
	local name=$1 pattern=$2; shift 2
	local out rc
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 0 ]; then fail "$name" "exit 0, expected failure"; return 1; fi
	if ! grep -qE -- "$pattern" <<<"$out"; then fail "$name" "message does not match /$pattern/: $out"; return 1; fi
	if grep -q 'AddressSanitizer\|runtime error' <<<"$out"; then fail "$name" "sanitizer: $out"; return 1; fi
	pass "$name"
}

loop_attach() { # file [-r]
	local dev
	dev=$(losetup -f --show ${2:+"$2"} "$1") || return 1
	partx -a "$dev" 2>/dev/null || true
	at_exit "loop_detach $dev $(realpath -m "$1")"
	echo "$dev"
}

# loop_detach DEV [FILE]: detaches DEV if it still holds FILE (without FILE: a
# file of this test's $T). Tests run side by side (tests/run): a device this
# test detached early may by now be another test's, and must be left alone.
loop_detach() {
	local back
	back=$(losetup -n -O BACK-FILE "$1" 2>/dev/null)
	[ -n "$back" ] || return 0
	if [ -n "${2:-}" ]; then
		[ "$back" = "$2" ] || return 0
	else
		case "$back" in "$T"/*) ;; *) return 0 ;; esac
	fi
	partx -d "$1" 2>/dev/null || true
	losetup -d "$1" 2>/dev/null || true
}

need_root() {
	if [ "$(id -u)" != 0 ]; then skip "$1" "needs root for loop devices"; exit 0; fi
}

# wait_port PORT: until something accepts connections on 127.0.0.1:PORT (10 s at most)
wait_port() {
	local i
	for i in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# port_closed PORT: waits (up to 10 s) until nothing listens on the port any
# more, so that a server started again on it does not find it still taken by
# the one just killed (on a loaded machine the new one lost that race and quit)
port_closed() {
	local i
	for i in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# daemon_start BASE PORT CMD...: CMD in the background (output to BASE.out, its pid
# in BASE.job) until PORT answers; daemon_stop BASE SECONDS: stopped, then a pause
# for its clients to notice
daemon_start() {
	local base=$1 port=$2
	shift 2
	"$@" >>"$base.out" 2>&1 &
	echo $! >"$base.job"
	echo "$port" >"$base.port"
	wait_port "$port"
}

daemon_stop() {
	[ -f "$1.job" ] && kill "$(cat "$1.job")" 2>/dev/null
	rm -f "$1.job"
	[ -f "$1.port" ] && port_closed "$(cat "$1.port")"
	sleep "$2"
}

# nginx
# nginx_start DOCROOT [EXTRA_CONF]: Debian's nginx on a free 127.0.0.1 port,
# serving DOCROOT with directory listings; prints the port; stopped at exit.
# EXTRA_CONF goes inside the server block (e.g. 'location /x { return 500; }').
# The access log is $T/nginx-<port>/access.log (bytes sent per request).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

nginx_start() {
	local root=$1 extra=${2:-} port dir
	port=$(free_port)
	dir=$T/nginx-$port
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<NGINX
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
	log_format m '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" conn=\$connection';
	access_log $dir/access.log m;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	types { application/octet-stream img zst cacnk caibx; application/json json; }
	default_type application/octet-stream;
	sendfile on;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		root $root;
		autoindex on;
		$extra
	}
}
NGINX
	/usr/sbin/nginx -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/start.log" 2>&1 || {
		echo "nginx_start: nginx failed: $(cat "$dir/start.log")" >&2
		return 1
	}
	at_exit "nginx_stop $dir"
	wait_port "$port"
	echo "$port"
}

# make_test_ca DIR: a private CA (DIR/ca.pem) and a certificate for 127.0.0.1
# signed by it (DIR/srv.pem, DIR/srv.key)
make_test_ca() {
	local d=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=muletto test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/srv.key" \
		-out "$d/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/san.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/san.ext" -out "$d/srv.pem" 2>/dev/null
	chmod 644 "$d/srv.key"
}

# s3_start DIR [DELAY_MS]: s3rver with bucket "backups" (data in DIR) behind the
# SigV4-checking front (tests/s3/front.js); key S3RVER / secret S3RVER.
# Prints the front's port; its request log is DIR/front.log. s3_front_stop DIR
# and s3_front_start DIR take the front away and back (the server "restarts").
s3_start() {
	local dir=$1 delay=${2:-} sport fport node=${MULETTO_NODE:-/var/cache/muletto/node}/node_modules
	sport=$(free_port)
	fport=$(free_port)
	mkdir -p "$dir/data"
	# s3rver's continuation tokens use DES, in OpenSSL 3's legacy provider
	node --openssl-legacy-provider "$node/s3rver/bin/s3rver.js" -d "$dir/data" -a 127.0.0.1 -p "$sport" -s \
		--service-endpoint localhost --configure-bucket backups >"$dir/s3rver.log" 2>&1 &
	echo $! >"$dir/s3rver.pid"
	at_exit "kill $(cat "$dir/s3rver.pid")"
	echo "$fport $sport S3RVER S3RVER $delay" >"$dir/front.args"
	s3_front_start "$dir"
	at_exit "s3_front_stop $dir"
	wait_port "$sport"
	echo "$fport"
}

s3_front_start() {
	# shellcheck disable=SC2046
	NODE_PATH=${MULETTO_NODE:-/var/cache/muletto/node}/node_modules \
		node "$MULETTO_TOP/tests/s3/front.js" $(cat "$1/front.args") >>"$1/front.log" 2>&1 &
	echo $! >"$1/front.pid"
	wait_port "$(cut -d' ' -f1 "$1/front.args")"
}

s3_front_delay() { # DIR MS: restart the front, slowing GETs down by MS
	s3_front_stop "$1"
	sed -i "s/^\([0-9]* [0-9]* [^ ]* [^ ]*\).*/\1 $2/" "$1/front.args"
	s3_front_start "$1"
}

s3_front_stop() {
	[ -f "$1/front.pid" ] && kill "$(cat "$1/front.pid")" 2>/dev/null
	rm -f "$1/front.pid"
	port_closed "$(cut -d' ' -f1 "$1/front.args")"
}

# sshd_start DIR: OpenSSH's sshd on a free 127.0.0.1 port with its own ed25519
# host key (DIR/host_key) and DIR/authorized_keys, SFTP only; prints the port.
# sshd_stop DIR / sshd_again DIR take it away and back; sshd_slow DIR BYTES_PER_S
# restarts it with every SFTP answer throttled (pv), its sessions numbered in
# DIR/sessions: the one whose number is in DIR/hold stops just before SFTP starts
# and touches DIR/held (a session that a server going down catches half set up).
sshd_start() {
	local dir=$1 port
	port=$(free_port)
	mkdir -p /run/sshd "$dir"
	[ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
	touch "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<SSHD
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
MaxStartups 100
Subsystem sftp internal-sftp
ForceCommand internal-sftp
SSHD
	sshd_again "$dir"
	at_exit "sshd_stop $dir"
	echo "$port"
}

sshd_again() {
	/usr/sbin/sshd -f "$1/sshd_config" -E "$1/sshd.log"
	wait_port "$(sed -n 's/^Port //p' "$1/sshd_config")"
}

sshd_slow() {
	sshd_stop "$1"
	cat >"$1/sftp-slow" <<SLOW
#!/bin/sh
n=\$(flock $1/sessions sh -c 'echo >>$1/sessions; wc -l <$1/sessions')
if [ "\$n" = "\$(cat $1/hold 2>/dev/null)" ]; then touch $1/held; exec timeout 60 cat >/dev/null; fi
/usr/lib/openssh/sftp-server | pv -q -L $2
SLOW
	chmod 755 "$1/sftp-slow"
	sed -i "s|^ForceCommand .*|ForceCommand $1/sftp-slow|" "$1/sshd_config"
	sshd_again "$1"
}

sshd_stop() {
	[ -f "$1/sshd.pid" ] || return 0
	pkill -9 -P "$(cat "$1/sshd.pid")" 2>/dev/null # the sessions: connections drop
	kill "$(cat "$1/sshd.pid")" 2>/dev/null
	rm -f "$1/sshd.pid"
	port_closed "$(sed -n 's/^Port //p' "$1/sshd_config")"
}

nginx_stop() {
	[ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null
	local i
	for i in $(seq 50); do [ -f "$1/nginx.pid" ] || break; sleep 0.05; done
}
