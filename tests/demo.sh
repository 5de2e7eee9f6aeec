#!/bin/bash
# make demo: the whole job on built-in sample data, narrated.
# A sample machine disk is captured into a repository, the repository is served
# over HTTP on 127.0.0.1, and the image is restored onto a blank disk (a loop
# device) and compared byte for byte.
set -u
cd "$(dirname "$0")/.."
export MULETTO=$PWD/build/muletto
. tests/lib.sh
. tests/lib_disk.sh
[ "$(id -u)" = 0 ] || { echo "make demo needs root (loop devices)"; exit 1; }

start=$SECONDS
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

W=$PWD/build/demo
rm -rf "$W" && mkdir -p "$W"

say "Building a sample machine disk: 256 MiB, GPT, an EFI system partition and an ext4 root"
make_sample_disk "$W/server-disk.img" 256
src=$(loop_attach "$W/server-disk.img")
echo "attached as $src"

say "What muletto sees on this machine"
run "$MULETTO" disks

say "Capturing $src into a repository (casync chunk store + manifest)"
run "$MULETTO" capture "$src" "$W/repo" --name web01

say "Serving the repository over HTTP on 127.0.0.1, as a NAS or web server would"
port=$(nginx_start "$W")
echo "http://127.0.0.1:$port/repo"
run "$MULETTO" ls "http://127.0.0.1:$port/repo"

say "A blank replacement disk"
truncate -s 256M "$W/new-disk.img"
dst=$(loop_attach "$W/new-disk.img")
echo "attached as $dst"

say "Restoring web01 over HTTP onto $dst"
run "$MULETTO" restore "http://127.0.0.1:$port/repo" web01 --to "$dst" --yes --progress bar

say "Checking: the new disk is byte for byte the old one"
run cmp "$src" "$dst" && echo "identical: $(sha256sum <"$dst" | cut -c1-16)…"
ok=$?
run "$MULETTO" verify "$W/repo" web01

say "casync reads the same repository"
run casync extract --store="http://127.0.0.1:$port/repo/store" "$W/repo/images/web01/disk0.caibx" \
	"$W/casync-copy.img" && run cmp "$W/server-disk.img" "$W/casync-copy.img" && echo "identical"

say "Done in $((SECONDS - start)) s"
exit $ok
