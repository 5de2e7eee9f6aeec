# muletto verify --boot: a backup booted with nothing written (its disk in a
# layer in memory, no network) says whether it comes to life, and leaves a
# screenshot. A bootable image: exit 0 and a real PNG; a blanked disk: exit 1
# with the reason; the repository (but for each verdict, kept beside its image)
# and every disk unchanged.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "verify --boot"
e2e_need "verify --boot"
export MULETTO_CONF=$T/none.conf MULETTO_RUN_DIR=$T/vms

SAMPLE_STAY_SECONDS=20 e2e_bootable_sample "$T/sample.img" 96
truncate -s 96M "$T/blank.img"
"$MULETTO" capture "$T/sample.img" "$T/repo" --name sample --progress none >/dev/null 2>&1 &&
	"$MULETTO" capture "$T/blank.img" "$T/repo" --name blank --progress none >/dev/null 2>&1 ||
	{ fail "verify --boot" "capture failed"; exit 0; }
before=$(find "$T/repo" "$T/sample.img" -type f -exec sha256sum {} + | sort | sha256sum)

# png_check FILE: a PNG whose pixels are not all one colour; prints WxH
png_check() {
	python3 - "$1" <<'PY'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
pos, idat = 8, b""
while pos < len(d):
    n, t = struct.unpack(">I4s", d[pos:pos + 8])
    if t == b"IDAT":
        idat += d[pos + 8:pos + 8 + n]
    pos += 12 + n
px = zlib.decompress(idat)
assert len(set(px)) > 2, "blank"
print("%dx%d" % (w, h))
PY
}

out=$("$MULETTO" verify --boot "$T/repo" sample --expect "$SAMPLE_MARKER" --png "$T/sample.png" \
	--firmware uefi --memory 768 --timeout 180 2>&1)
rc=$?
size=$(png_check "$T/sample.png" 2>&1)
[ $rc = 0 ] && grep -q "sample booted: \"$SAMPLE_MARKER\" on its serial console after" <<<"$out" &&
	pass "a bootable image: booted, exit 0 ($(grep -o 'after [0-9]* s' <<<"$out"))" ||
	fail "a bootable image: booted, exit 0" "rc $rc: $out"
[[ $size =~ ^[0-9]+x[0-9]+$ ]] && pass "its screenshot is a real PNG ($size, not blank)" ||
	fail "its screenshot is a real PNG" "$size"

out=$("$MULETTO" verify --boot "$T/repo" blank --png "$T/blank.png" --firmware uefi --memory 768 \
	--timeout 25 --json 2>/dev/null)
rc=$?
[ $rc = 1 ] && [ "$(jq -r .booted <<<"$out")" = false ] && jq -r .why <<<"$out" | grep -q "no \"login:\" on its serial console in 25 s" &&
	pass "a blanked disk: not booted, exit 1, with the reason" || fail "a blanked disk: not booted, exit 1" "rc $rc: $out"
[ -s "$T/blank.png" ] && pass "... and a screenshot of what it shows ($(png_check "$T/blank.png" 2>&1))" ||
	fail "... and a screenshot of what it shows"
[ "$(find "$T/repo" "$T/sample.img" -type f ! -name boot-verified.json -exec sha256sum {} + | sort | sha256sum)" = "$before" ] &&
	pass "nothing was written: the repository (but for the verdicts) and the disks are unchanged" ||
	fail "nothing was written"
# each verdict kept beside its image, for the screens and the next technician
jq -e '.booted == true and .seconds > 0' "$T/repo/images/sample/boot-verified.json" >/dev/null 2>&1 &&
	jq -e '.booted == false and (.why | test("no \"login:\""))' "$T/repo/images/blank/boot-verified.json" >/dev/null 2>&1 &&
	[ "$(jq -r .kept <<<"$out")" = true ] &&
	pass "each verdict is kept in the repository: images/NAME/boot-verified.json" ||
	fail "each verdict is kept in the repository" "$(cat "$T"/repo/images/*/boot-verified.json 2>&1)"
