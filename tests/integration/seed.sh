# Seeding: what the target (or another local copy) already holds is not
# fetched again. Delta restore, --seed, --no-seed, resume after kill -9, --verify.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root seed

make_sample_disk "$T/a.img" 64
make_changed_copy "$T/a.img" "$T/b.img"
"$MULETTO" capture "$T/a.img" "$T/repo" --name a >/dev/null 2>&1
"$MULETTO" capture "$T/b.img" "$T/repo" --name b >/dev/null 2>&1
port=$(nginx_start "$T")
url=http://127.0.0.1:$port/repo
field() { jq -r ".$2" "$1"; }

# yesterday's restore is on the disk: today's moves only what changed
truncate -s 64M "$T/disk.img"
dev=$(loop_attach "$T/disk.img")
"$MULETTO" restore "$url" a --to "$dev" --yes --json >"$T/full.json" 2>/dev/null
"$MULETTO" restore "$url" b --to "$dev" --yes --json >"$T/delta.json" 2>"$T/delta.err" ||
	fail "delta restore runs" "$(cat "$T/delta.err")"
check_cmp "delta restore onto the older disk is identical" "$T/b.img" "$dev"
full=$(field "$T/full.json" bytes_fetched) delta=$(field "$T/delta.json" bytes_fetched)
seeded=$(field "$T/delta.json" chunks_seeded) fetched=$(field "$T/delta.json" chunks_fetched)
# 3 MiB of random bytes changed: 3 chunks (4 if the change straddles a boundary)
[ "$fetched" -le 4 ] && [ "$seeded" -ge 8 ] && [ "$delta" -le $((4 * 1048576 + 4096)) ] &&
	pass "delta restore fetches only the changed chunks ($fetched fetched, $seeded seeded, $delta of $full bytes)" ||
	fail "delta restore fetches only the changed chunks" "$(cat "$T/delta.json")"
"$MULETTO" restore "$url" b --to "$dev" --yes --json >"$T/again.json" 2>/dev/null
[ "$(field "$T/again.json" chunks_fetched)" = 0 ] && [ "$(field "$T/again.json" bytes_written)" = 0 ] &&
	pass "restoring what the disk already holds fetches and writes nothing" ||
	fail "restoring what the disk already holds fetches and writes nothing" "$(cat "$T/again.json")"

# --no-seed fetches everything again
"$MULETTO" restore "$url" b --to "$dev" --yes --json --no-seed >"$T/noseed.json" 2>/dev/null
[ "$(field "$T/noseed.json" chunks_seeded)" = 0 ] &&
	[ "$(field "$T/noseed.json" chunks_fetched)" = $(( $(field "$T/noseed.json" chunks_total) - $(field "$T/noseed.json" chunks_zero) )) ] &&
	pass "--no-seed fetches every chunk" || fail "--no-seed fetches every chunk" "$(cat "$T/noseed.json")"
check_cmp "--no-seed restore is identical" "$T/b.img" "$dev"

# --seed: another local copy (yesterday's image on a USB disk) onto a new file
"$MULETTO" restore "$url" b --to "$T/new.img" --seed "$T/a.img" --json >"$T/seedfile.json" 2>"$T/sf.err" ||
	fail "--seed runs" "$(cat "$T/sf.err")"
check_cmp "--seed restore is identical" "$T/b.img" "$T/new.img"
[ "$(field "$T/seedfile.json" chunks_fetched)" -le 4 ] &&
	pass "--seed takes unchanged chunks from the local copy ($(field "$T/seedfile.json" chunks_seeded) seeded)" ||
	fail "--seed takes unchanged chunks from the local copy" "$(cat "$T/seedfile.json")"
expect_fail "a seed that does not exist" "seed $T/nope.img: No such file" \
	"$MULETTO" restore "$url" b --to "$T/new2.img" --seed "$T/nope.img"

# a stale region (garbage where the image has zeros) is zeroed, not trusted
dd if=/dev/urandom of="$dev" bs=1M seek=40 count=2 conv=notrunc status=none
"$MULETTO" restore "$url" b --to "$dev" --yes >/dev/null 2>&1
check_cmp "garbage in an empty region is zeroed on the next restore" "$T/b.img" "$dev"

# resume: kill -9 in the middle, run again, identical, little fetched twice
head -c $((48 << 20)) /dev/urandom >"$T/r.img"
"$MULETTO" capture "$T/r.img" "$T/slowrepo" --name r >/dev/null 2>&1
sport=$(nginx_start "$T" "limit_rate 1m;")
truncate -s 48M "$T/rdisk.img"
rdev=$(loop_attach "$T/rdisk.img")
"$MULETTO" restore "http://127.0.0.1:$sport/slowrepo" r --to "$rdev" --yes --progress none >/dev/null 2>&1 &
pid=$!
for i in $(seq 200); do # until about 40 % is on the disk
	sleep 0.1
	[ "$(awk '$9 == 200 && $7 ~ /cacnk/ {n++} END {print n+0}' "$T/nginx-$sport/access.log")" -ge 19 ] && break
done
kill -9 $pid; wait $pid 2>/dev/null
first=$(awk '$7 ~ /cacnk/ {b += $10} END {print b+0}' "$T/nginx-$sport/access.log")
"$MULETTO" restore "http://127.0.0.1:$sport/slowrepo" r --to "$rdev" --yes --json >"$T/resume.json" 2>"$T/resume.err" ||
	fail "the restore runs again after kill -9" "$(cat "$T/resume.err")"
check_cmp "a restore killed with -9 and run again is identical" "$T/r.img" "$rdev"
total=$(awk '$7 ~ /cacnk/ {b += $10} END {print b+0}' "$T/nginx-$sport/access.log")
one=$(du -b "$T/slowrepo/store" | tail -1 | cut -f1)
[ "$(field "$T/resume.json" chunks_seeded)" -ge 10 ] && [ $((total * 10)) -le $((one * 13)) ] &&
	pass "the second run takes what the first wrote ($(field "$T/resume.json" chunks_seeded) seeded; both runs fetched $total bytes, one full restore $one)" ||
	fail "the second run takes what the first wrote" "first $first total $total one $one: $(cat "$T/resume.json")"

# --verify reads the disk back
out=$("$MULETTO" restore "$url" a --to "$dev" --yes --verify 2>&1) && check_cmp "--verify restore is identical" "$T/a.img" "$dev" ||
	fail "--verify restore" "$out"

# a blank disk is recognised from a few places and not read in full first
truncate -s 64M "$T/blank.img"
bdev=$(loop_attach "$T/blank.img")
MULETTO_DEBUG=seed "$MULETTO" restore "$url" a --to "$bdev" --yes --json >"$T/blank.json" 2>"$T/blank.err"
grep -q "looks blank: not seeding" "$T/blank.err" && check_cmp "a blank disk: not read first, restored identical" "$T/a.img" "$bdev" ||
	fail "a blank disk: not read first, restored identical" "$(cat "$T/blank.err")"
