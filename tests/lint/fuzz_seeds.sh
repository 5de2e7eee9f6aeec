# Every fuzz seed (what real servers sent, tests/fuzz/make-seeds.sh) through
# its parser, sanitised: the smoke test of make fuzz.
. "$(dirname "$0")/../lib.sh"
for d in "$MULETTO_TOP"/tests/fuzz/seeds/*/; do
	t=$(basename "$d")
	bin=$MULETTO_TOP/build/san/fuzz/fuzz_$t
	[ -x "$bin" ] || { fail "fuzz seeds: $t" "$bin missing: run make unit"; continue; }
	out=$("$bin" "$d"* 2>&1) && pass "fuzz seeds: $t ($(ls "$d" | wc -l) files)" ||
		fail "fuzz seeds: $t" "$out"
done
