# casync reads our images, and we read casync's, bit for bit.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root casync
command -v casync >/dev/null || { skip "casync interop" "casync is not installed"; exit 0; }

make_sample_disk "$T/disk.img" 48
"$MULETTO" capture "$T/disk.img" "$T/repo" --name img >"$T/cap.log" 2>&1 || fail "capture" "$(cat "$T/cap.log")"
port=$(nginx_start "$T")

# ours -> casync, from a folder and over HTTP
casync extract --store="$T/repo/store" "$T/repo/images/img/disk0.caibx" "$T/ca.img" >/dev/null 2>&1
check_cmp "casync extract restores a muletto image (folder store)" "$T/disk.img" "$T/ca.img"
casync extract --store="http://127.0.0.1:$port/repo/store" \
	"$T/repo/images/img/disk0.caibx" "$T/ca-http.img" >/dev/null 2>&1
check_cmp "casync extract restores a muletto image (HTTP store)" "$T/disk.img" "$T/ca-http.img"

# casync -> ours: content-defined chunks, every digest and compression casync offers
for variant in "default" "--digest=sha256" "--compression=xz" "--compression=gzip" \
	"--chunk-size=16384:65536:262144"; do
	opts=$variant; [ "$variant" = default ] && opts=
	st=$T/castore-${variant//[^a-z0-9]/_}
	rm -f "$T/ca.caibx"
	casync make $opts --store="$st" "$T/ca.caibx" "$T/disk.img" >/dev/null 2>&1 ||
		{ fail "casync make $variant"; continue; }
	rm -f "$T/out.img"
	"$MULETTO" restore "$T/ca.caibx" --store "$st" --to "$T/out.img" --yes >"$T/o.log" 2>&1 ||
		fail "muletto restores a casync index ($variant)" "$(cat "$T/o.log")"
	check_cmp "muletto restores a casync index bit-identical ($variant)" "$T/disk.img" "$T/out.img"
done

# a casync index with its store over HTTP
cp "$T/ca.caibx" "$T/http.caibx"
rm -rf "$T/castore-http" && cp -r "$st" "$T/castore-http"
rm -f "$T/out.img"
"$MULETTO" restore "http://127.0.0.1:$port/http.caibx" --store "http://127.0.0.1:$port/castore-http" \
	--to "$T/out.img" --yes >"$T/o.log" 2>&1 || fail "casync index and store over HTTP" "$(cat "$T/o.log")"
check_cmp "muletto restores a casync index and store over HTTP bit-identical" "$T/disk.img" "$T/out.img"

# small content-defined chunks reach the disk merged: far fewer writes than chunks
# (leak checking cannot run under strace)
rm -f "$T/out.img"
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=pwrite64 -o "$T/strace.log" "$MULETTO" restore "$T/ca.caibx" --store "$st" \
	--to "$T/out.img" --yes --json >"$T/merge.json" 2>"$T/o.log" ||
	fail "restore under strace" "$(cat "$T/o.log")"
check_cmp "merged writes restore bit-identical" "$T/disk.img" "$T/out.img"
chunks=$(jq '.chunks_fetched' "$T/merge.json")
writes=$(grep -c '^[0-9]* *pwrite64' "$T/strace.log")
[ "$chunks" -ge 40 ] && [ "$writes" -le $((chunks / 4)) ] &&
	pass "$chunks small chunks written in $writes writes" ||
	fail "neighbouring chunks are merged into few writes" "$chunks chunks, $writes writes"
