# A repository on a USB disk named by its file system's label or UUID: found
# with libblkid, mounted by the tool (read-only to restore), unmounted after.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root local

make_sample_disk "$T/a.img" 32
"$MULETTO" capture "$T/a.img" "$T/stage/backups" --name web01 --progress none >/dev/null 2>&1 ||
	fail "capture the sample disk"
truncate -s 96M "$T/usb.img"
mkfs.ext4 -q -F -L MULETTOTEST -U 5d3c9a4e-1f2b-4c6d-8e7f-0a1b2c3d4e5f -d "$T/stage" "$T/usb.img"
usb=$(loop_attach "$T/usb.img")

"$MULETTO" ls label://MULETTOTEST/backups >"$T/ls.out" 2>&1 && grep -q "^web01 " "$T/ls.out" &&
	pass "ls from a disk named by its label" || fail "ls from a disk named by its label" "$(cat "$T/ls.out")"
"$MULETTO" restore label://MULETTOTEST/backups web01 --to "$T/out.img" >"$T/o.log" 2>&1 ||
	fail "restore from label://" "$(cat "$T/o.log")"
check_cmp "restore from a disk named by its label: identical" "$T/a.img" "$T/out.img"
rm -f "$T/out.img"
"$MULETTO" restore uuid://5d3c9a4e-1f2b-4c6d-8e7f-0a1b2c3d4e5f/backups web01 --to "$T/out.img" \
	>"$T/o.log" 2>&1 || fail "restore from uuid://" "$(cat "$T/o.log")"
check_cmp "restore from a disk named by its UUID: identical" "$T/a.img" "$T/out.img"
[ -z "$(findmnt -n -S "$usb")" ] && [ -z "$(ls /run/muletto 2>/dev/null | grep mnt-)" ] &&
	pass "the disk is unmounted afterwards" || fail "the disk is unmounted afterwards" "$(findmnt -S "$usb")"

MULETTO_DEBUG=mount "$MULETTO" ls label://MULETTOTEST/backups 2>&1 >/dev/null | grep -q "mounted read-only" &&
	pass "restore and ls mount it read-only" || fail "restore and ls mount it read-only"
# capture mounts it read-write
"$MULETTO" capture "$T/a.img" label://MULETTOTEST/backups --name web02 --progress none \
	>"$T/c.log" 2>&1 || fail "capture onto label://" "$(cat "$T/c.log")"
"$MULETTO" verify label://MULETTOTEST/backups web02 >"$T/v.log" 2>&1 && grep -q "is intact" "$T/v.log" &&
	pass "capture onto a disk named by its label, verified" ||
	fail "capture onto a disk named by its label, verified" "$(cat "$T/v.log")"
expect_fail "a label no disk has is named" "no disk holds a file system with LABEL NOSUCHLABEL" \
	"$MULETTO" ls label://NOSUCHLABEL/backups
