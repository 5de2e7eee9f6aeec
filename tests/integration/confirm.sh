# Without --yes, restore shows the target and asks; only "yes" writes.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root confirm
command -v script >/dev/null || { skip "confirmation on a terminal" "script(1) is missing"; exit 0; }

make_sample_disk "$T/disk.img" 32
"$MULETTO" capture "$T/disk.img" "$T/repo" --name img >/dev/null 2>&1
cp "$T/disk.img" "$T/old.img"
dd if=/dev/urandom of="$T/old.img" bs=1M seek=20 count=2 conv=notrunc status=none
dev=$(loop_attach "$T/old.img")
before=$(sha256sum <"$dev")

# on a terminal (script gives the tool a pty), answered "no"
printf 'no\n' | script -qec "$MULETTO restore $T/repo img --to $dev" /dev/null >"$T/no.out" 2>&1
rc=$?
[ $rc != 0 ] && [ "$(sha256sum <"$dev")" = "$before" ] && grep -q "not confirmed: $dev was left unchanged" "$T/no.out" &&
	pass "answering no leaves the disk unchanged" || fail "answering no leaves the disk unchanged" "rc $rc: $(cat "$T/no.out")"
grep -q "About to overwrite $dev: $T/old.img, 32 MiB, loop" "$T/no.out" &&
	grep -qE "partition 1 +16 MiB +vfat +\"ESP\"" "$T/no.out" &&
	grep -qE "partition 2 .* ext4 +\"root\"" "$T/no.out" && grep -q "Type 'yes' to continue" "$T/no.out" &&
	pass "the question shows the disk, its size and its partitions" ||
	fail "the question shows the disk, its size and its partitions" "$(cat "$T/no.out")"

# answered "yes": restored, with a progress bar on the terminal
printf 'yes\n' | script -qec "$MULETTO restore $T/repo img --to $dev" /dev/null >"$T/yes.out" 2>&1 ||
	fail "answering yes restores" "$(cat "$T/yes.out")"
check_cmp "answering yes restores the image" "$T/disk.img" "$dev"
grep -qE 'restore img disk0 \[#+\] 100% 32 MiB / 32 MiB' "$T/yes.out" &&
	pass "a terminal shows the progress bar with bytes and rate" || fail "a terminal shows the progress bar with bytes and rate" "$(cat "$T/yes.out")"
