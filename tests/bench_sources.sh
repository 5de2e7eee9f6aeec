#!/bin/bash
# The same image restored from each kind of repository, in one run: a folder,
# HTTP/1.1 (nginx), HTTPS with HTTP/2 (nginx), S3 (s3rver behind the SigV4
# front), SFTP (OpenSSH). The image: 512 MiB, an ext4 file system holding
# ~240 MB of real files from /usr. Targets are files on the same disk; every
# restore is compared with the original. Prints seconds, the rate of data
# restored (MB/s of non-empty chunks) and the bytes that came over the wire.
set -u
cd "$(dirname "$0")/.."
export MULETTO=${MULETTO:-$PWD/build/muletto}
. tests/lib.sh
. tests/lib_disk.sh
need_root bench_sources

log() { printf '==> %s\n' "$*" >&2; }
img=$T/src.img
log "building a 512 MiB image with ~240 MB of files from /usr"
mkdir -p "$T/stage"
find /usr/lib/x86_64-linux-gnu -type f -printf '%s %p\n' | sort -k2 |
	awk '{ s += $1; if (s > 240e6) exit; print $2 }' | xargs cp --parents -t "$T/stage" 2>/dev/null
truncate -s 512M "$img"
mkfs.ext4 -q -F -L data -d "$T/stage" "$img"
rm -rf "$T/stage"

mkdir -p "$T/www" "$T/sftp"
"$MULETTO" capture "$img" "$T/www/repo" --name img --progress none >/dev/null
data=$(jq -r '.disks[0].bytes_used' "$T/www/repo/images/img/manifest.json")
make_test_ca "$T"
tport=$(free_port)
port=$(nginx_start "$T/www" "listen 127.0.0.1:$tport ssl http2; ssl_certificate $T/srv.pem; ssl_certificate_key $T/srv.key;")
mkdir -p "$T/s3"
s3port=$(s3_start "$T/s3")
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL=http://127.0.0.1:$s3port \
	"$MULETTO" capture "$img" s3://backups/bench --name img --progress none >/dev/null
sshport=$(sshd_start "$T/ssh")
ssh-keygen -q -t ed25519 -N '' -f "$T/id"
cp "$T/id.pub" "$T/ssh/authorized_keys"
ssh-keyscan -p "$sshport" -t ed25519 127.0.0.1 >"$T/known_hosts" 2>/dev/null
cp -a "$T/www/repo" "$T/sftp/repo"

printf '\nrestore of a 512 MiB image (%d MB of data) from each kind of repository\n' $((data / 1000000))
printf '%-34s %8s %10s %12s\n' "source" "seconds" "MB/s" "fetched MB"
run() { # label env... -- url
	local label=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f "$T/out.img"
	sync; echo 3 >/proc/sys/vm/drop_caches
	if env "${envs[@]}" "$MULETTO" restore "$1" img --to "$T/out.img" --json --yes \
		>"$T/r.json" 2>"$T/r.err" && cmp -s "$img" "$T/out.img"; then
		jq -r --arg l "$label" --argjson d "$data" \
			'[$l, .seconds, ($d / .seconds / 1e6), (.bytes_fetched / 1e6)] |
			 "\(.[0]) \(.[1]) \(.[2]) \(.[3])"' "$T/r.json" |
			awk '{ printf "%-34s %8.2f %10.0f %12.0f\n", $1, $2, $3, $4 }'
	else
		printf '%-34s FAILED: %s\n' "$label" "$(tail -1 "$T/r.err")"
	fi
}
run folder -- "$T/www/repo"
run http/1.1-nginx -- "http://127.0.0.1:$port/repo"
run https-http/2-nginx MULETTO_CA_BUNDLE="$T/ca.pem" -- "https://127.0.0.1:$tport/repo"
run s3-s3rver AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	AWS_ENDPOINT_URL="http://127.0.0.1:$s3port" -- s3://backups/bench
run sftp-openssh MULETTO_SSH_KEY="$T/id" MULETTO_KNOWN_HOSTS="$T/known_hosts" -- \
	"sftp://root@127.0.0.1:$sshport$T/sftp/repo"
