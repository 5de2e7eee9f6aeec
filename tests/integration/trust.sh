# Signed images: keygen, capture --sign, restore --trust. An unsigned image, one
# signed by another key, a changed manifest or a changed index are all refused
# before anything is written; so are raw images and bare indexes, which cannot
# be signed. A boot environment built with TRUST= enforces it by itself.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root trust
unset MULETTO_TRUST
export MULETTO_CONF=$T/none.conf

"$MULETTO" keygen "$T/site.key" >"$T/kg.out" 2>&1 || fail "keygen" "$(cat "$T/kg.out")"
[ "$(stat -c %a "$T/site.key")" = 600 ] && grep -q "BEGIN PUBLIC KEY" "$T/site.key.pub" &&
	pass "keygen: a private key only its owner reads, and a public one" ||
	fail "keygen: a private key only its owner reads, and a public one" "$(ls -l "$T")"
before=$(sha256sum <"$T/site.key")
expect_fail "keygen never overwrites a key" "exists|never overwritten" "$MULETTO" keygen "$T/site.key"
[ "$(sha256sum <"$T/site.key")" = "$before" ] && pass "the existing key is unchanged" ||
	fail "the existing key is unchanged"
"$MULETTO" keygen "$T/other.key" >/dev/null 2>&1

make_sample_disk "$T/a.img" 32
mkdir -p "$T/www"
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name signed --sign "$T/site.key" --progress none \
	>/dev/null 2>&1 || fail "capture --sign"
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name plain --progress none >/dev/null 2>&1
"$MULETTO" capture "$T/a.img" "$T/www/repo" --name foreign --sign "$T/other.key" --progress none \
	>/dev/null 2>&1
expect_fail "capture --sign with a key that is not one refuses before reading the disk" \
	"is not an Ed25519 private key" \
	"$MULETTO" capture "$T/a.img" "$T/www/repo" --name x --sign "$T/a.img"
[ ! -e "$T/www/repo/images/x" ] && pass "... and writes nothing" || fail "... and writes nothing"
port=$(nginx_start "$T/www")
url=http://127.0.0.1:$port/repo

"$MULETTO" restore "$url" signed --to "$T/out.img" --trust "$T/site.key.pub" >"$T/o.log" 2>&1 ||
	fail "restore --trust of a signed image" "$(cat "$T/o.log")"
check_cmp "a signed image restores under --trust: identical" "$T/a.img" "$T/out.img"

refused() { # name pattern image [env...]
	local name=$1 pattern=$2 image=$3; shift 3
	rm -f "$T/bad.img"
	expect_fail "$name" "$pattern" env "$@" "$MULETTO" restore "$url" "$image" --to "$T/bad.img" \
		--trust "$T/site.key.pub"
	[ ! -e "$T/bad.img" ] || [ ! -s "$T/bad.img" ] && pass "$name: nothing written" ||
		fail "$name: nothing written"
}
refused "an unsigned image is refused" "image 'plain' in .* is not signed" plain
refused "an image signed by another key is refused" "signed by key [0-9a-f]{16}…, not by the trusted key" foreign

# a changed manifest: one letter of the host name
cp -a "$T/www/repo/images/signed" "$T/www/repo/images/tampered"
sed -i 's/"hostname": "\(.\)/"hostname": "X\1/' "$T/www/repo/images/tampered/manifest.json"
refused "a changed manifest is refused" "does not match its signature: it was changed after it was signed" tampered
# a changed index (the manifest and its signature untouched)
cp -a "$T/www/repo/images/signed" "$T/www/repo/images/badindex"
printf '\xff' | dd of="$T/www/repo/images/badindex/disk0.caibx" bs=1 seek=200 conv=notrunc status=none
refused "a changed index is refused" "disk0.caibx does not match its manifest" badindex

# the key from the environment, without --trust
rm -f "$T/bad.img"
expect_fail "MULETTO_TRUST alone enforces signatures" "is not signed" \
	env MULETTO_TRUST="$T/site.key.pub" "$MULETTO" restore "$url" plain --to "$T/bad.img"
zstd -q -1 "$T/a.img" -o "$T/www/a.img.zst"
expect_fail "under a trusted key, raw images are refused (they cannot be signed)" \
	"cannot be signed, and only images signed by" \
	env MULETTO_TRUST="$T/site.key.pub" "$MULETTO" restore "$url/../a.img.zst" --to "$T/bad.img" --yes
expect_fail "under a trusted key, bare indexes are refused" "cannot be signed" \
	env MULETTO_TRUST="$T/site.key.pub" "$MULETTO" restore "$T/www/repo/images/plain/disk0.caibx" \
	--store "$T/www/repo/store" --to "$T/bad.img" --yes
[ ! -s "$T/bad.img" ] && pass "nothing written by the refused restores" ||
	fail "nothing written by the refused restores"

# the boot environment built with TRUST=: the tool inside it trusts only that key
if [ -x "$MULETTO_TOP/build/muletto" ] && [ -d "$MULETTO_TOP/build/debs" ]; then
	TRUST=$T/site.key.pub INITRAMFS_ROOT=$T/root INITRAMFS_OUT=$T/boot ZSTD_LEVEL=1 \
		"$MULETTO_TOP/scripts/mkinitramfs.sh" >"$T/mk.log" 2>&1 || fail "mkinitramfs with TRUST" "$(tail -3 "$T/mk.log")"
	cmp -s "$T/root/etc/muletto/trust.pub" "$T/site.key.pub" &&
		pass "TRUST= puts the key in the initramfs" || fail "TRUST= puts the key in the initramfs"
	expect_fail "the boot environment refuses an unsigned image by itself" "is not signed" \
		chroot "$T/root" /usr/bin/muletto restore "$url" plain --to /tmp/out.img
	chroot "$T/root" /usr/bin/muletto restore "$url" signed --to /tmp/out.img >"$T/o.log" 2>&1 ||
		fail "the boot environment restores a signed image" "$(cat "$T/o.log")"
	check_cmp "the boot environment restores a signed image: identical" "$T/a.img" "$T/root/tmp/out.img"
	TRUST=$T/a.img INITRAMFS_ROOT=$T/root2 INITRAMFS_OUT=$T/boot2 "$MULETTO_TOP/scripts/mkinitramfs.sh" \
		>"$T/mk2.log" 2>&1 && fail "TRUST= with something that is no key is refused" ||
		{ grep -q "is not a public key" "$T/mk2.log" && pass "TRUST= with something that is no key is refused" ||
			fail "TRUST= with something that is no key is refused" "$(cat "$T/mk2.log")"; }
else
	fail "boot environment with TRUST" "build/muletto or build/debs missing: run make iso first"
fi
