#!/bin/bash
# Regenerates tests/fuzz/seeds/ from what real servers send: a capture into a
# folder (index, manifest, signature), nginx's listing page, s3rver's
# ListObjectsV2 page, OpenSSH's SFTP listing, and a muletto.conf and URLs as
# the README writes them, and what NBD clients (qemu-img, qemu-io, nbdinfo,
# nbdcopy) send to the NBD server, and what curl sends the status page. Run by
# hand (as root, after make check's deps) when a format changes; the seeds
# are committed.
#   tests/fuzz/make-seeds.sh [nbd|status]     (only the NBD or status seeds)
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
S=$MULETTO_TOP/tests/fuzz/seeds

# Each client once through a recording proxy (tests/nbd/record.py) in front of
# tests/nbd/nbd_file_server, on a 16 MiB disk like the fuzz target's export.
nbd_seeds() {
	local srv=$MULETTO_TOP/build/san/nbd_file_server rec=$MULETTO_TOP/tests/nbd/record.py name i
	rm -rf "$S/nbd"
	mkdir -p "$S/nbd"
	truncate -s 16M "$T/nbd.img"
	head -c 1M /dev/urandom | dd of="$T/nbd.img" conv=notrunc status=none
	"$srv" --name web01 "$T/nbd.img" "unix:$T/nbd.sock" >"$T/nbd.log" 2>&1 &
	at_exit "kill $!"
	for i in $(seq 100); do [ -S "$T/nbd.sock" ] && break; sleep 0.05; done
	P="nbd+unix:///web01?socket=$T/rec.sock"
	while read -r name cmd; do
		/usr/bin/python3 "$rec" "$T/rec.sock" "$T/nbd.sock" "$S/nbd/$name" >"$T/rec.out" &
		for i in $(seq 100); do grep -q ready "$T/rec.out" 2>/dev/null && break; sleep 0.05; done
		eval "$cmd" >/dev/null 2>&1
		wait $!
	done <<SEEDS
qemu-img-info qemu-img info "$P"
qemu-img-convert qemu-img convert -f raw -O raw "$P" "$T/conv.img"
qemu-io-write qemu-io -f raw "$P" -c 'write -P 0x5a 1M 64k' -c 'write -z 2M 64k' -c 'discard 3M 64k' -c flush -c 'read 0 8k'
nbdinfo-map nbdinfo --map "$P"
nbdinfo-list nbdinfo --list "nbd+unix:///?socket=$T/rec.sock"
SEEDS
}

# What clients send the status page (muletto status --serve): each client's
# request as a listener on a free port received it, a connection a seed, in
# the order of the list; and two that are not requests: a TLS hello on the
# plain port, a request line cut by a NUL.
status_seeds() {
	local port name cmd
	port=$(free_port)
	rm -rf "$S/status"
	mkdir -p "$S/status"
	while read -r name cmd; do
		/usr/bin/python3 - "$port" "$S/status/$name" >"$T/http-rec.out" 2>&1 <<'PY' &
import socket, sys
ls = socket.create_server(('127.0.0.1', int(sys.argv[1])))
ls.settimeout(10)  # a client that never came: no seed, no hang
print('ready', flush=True)
c, _ = ls.accept()
c.settimeout(0.5)
data = b''
try:  # the header, and a body sent with it
    while len(data) < 8192 and (got := c.recv(8192)):
        data += got
        if b'\r\n\r\n' in data:
            c.settimeout(0.2)
except OSError:
    pass
open(sys.argv[2], 'wb').write(data)
c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
c.close()
PY
		for _ in $(seq 100); do grep -q ready "$T/http-rec.out" 2>/dev/null && break; sleep 0.05; done
		eval "$cmd" >/dev/null 2>&1
		wait $!
	done <<SEEDS
get-query curl -s "http://127.0.0.1:$port/status.json?token=tok-12345"
get-percent curl -s "http://127.0.0.1:$port/?token=t%2Fo%2Bk%20%7E+1&x=y"
get-bearer curl -s -H "Authorization: Bearer tok-12345" "http://127.0.0.1:$port/status.json"
head curl -s -I "http://127.0.0.1:$port/?token=tok-12345"
post curl -s -X POST -d 'a=b' "http://127.0.0.1:$port/status.json?token=tok-12345"
tls-hello curl -s -k --max-time 1 "https://127.0.0.1:$port/"
SEEDS
	printf 'GET /status.json\0?token=tok-12345 HTTP/1.1\r\nHost: x\r\n\r\n' >"$S/status/nul"
}
if [ "${1:-}" = nbd ] || [ "${1:-}" = status ]; then
	"$1_seeds"
	ls -l "$S/$1"
	exit 0
fi

rm -rf "$S"
mkdir -p "$S"/{index,manifest,url,html,s3,lines,sign,conf}
nbd_seeds
status_seeds
make_sample_disk "$T/a.img" 48
"$MULETTO" keygen "$T/k" >/dev/null
"$MULETTO" capture "$T/a.img" "$T/repo" --name web01 --chunk-size 65536 --sign "$T/k" \
	--progress none >/dev/null
cp "$T/repo/images/web01/disk0.caibx" "$S/index/"
cp "$T/repo/images/web01/manifest.json" "$S/manifest/"
cp "$T/repo/images/web01/manifest.json.sig" "$S/sign/"

port=$(nginx_start "$T")
curl -s "http://127.0.0.1:$port/repo/images/" >"$S/html/nginx-images.html"
curl -s "http://127.0.0.1:$port/repo/store/" >"$S/html/nginx-store.html"

mkdir -p "$T/s3"
sport=$(s3_start "$T/s3")
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL=http://127.0.0.1:$sport \
	MULETTO_CONF=$T/none "$MULETTO" capture "$T/a.img" s3://backups/repo --name web01 \
	--progress none >/dev/null
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL=http://127.0.0.1:$sport \
	MULETTO_CONF=$T/none "$MULETTO" capture "$T/a.img" s3://backups/repo --name db01 \
	--progress none >/dev/null
for q in "delimiter=%2F&list-type=2&max-keys=1000&prefix=repo%2Fimages%2F" \
	"delimiter=%2F&list-type=2&max-keys=1&prefix=repo%2Fimages%2F"; do
	curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$sport/backups?$q" >"$S/s3/list-$(echo "$q" | md5sum | cut -c1-8).xml"
done
curl -s "http://127.0.0.1:$sport/nosuchbucket?list-type=2" >"$S/s3/error.xml"

port=$(sshd_start "$T/ssh")
ssh-keygen -q -t ed25519 -N '' -f "$T/id"
cat "$T/id.pub" >"$T/ssh/authorized_keys"
ssh-keyscan -p "$port" -t ed25519 127.0.0.1 >"$T/kh" 2>/dev/null
curl -s -l --key "$T/id" --pubkey "$T/id.pub" -k \
	"sftp://root@127.0.0.1:$port$T/repo/images/" >"$S/lines/sftp-images.txt"
curl -s -l --key "$T/id" --pubkey "$T/id.pub" -k \
	"sftp://root@127.0.0.1:$port$T/repo/store/" >"$S/lines/sftp-store.txt"

cat >"$S/conf/muletto.conf" <<'CONF'
repo=http://nas.local/backups
image=web01
target=auto
auto=restore
after=poweroff
password=secret
aws_secret_access_key=abc/def+ghi
ip=192.168.1.50::192.168.1.1:255.255.255.0:muletto:eth0:none
CONF
i=0
for u in "/srv/backups" "file:///srv/my%20backups/" "label://BACKUPS/images" \
	"uuid://1234-ABCD/r" "https://tech@nas.example:8443/backups/" "s3://bucket/site1/servers" \
	"sftp://us%40er@[fe80::1%25eth0]:2222/srv/b" "smb://OFFICE;tech@[fe80::1]:445/share/path" \
	"nfs://[2001:db8::5]:2049/export/x" "http://tech:pw@nas/x" "HTTPS://Nas/X/"; do
	printf '%s' "$u" >"$S/url/$i"
	i=$((i + 1))
done
for d in "$S"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds, $(cat "$d"/* | wc -c) bytes"; done
