# The one-way include rule of recovery/README.md and "only cli/ prints".
. "$(dirname "$0")/../lib.sh"
out=$("$MULETTO_TOP/scripts/check-layers.sh" "$MULETTO_TOP" 2>&1) &&
	pass "every include follows the layer rule; only cli/ prints" ||
	fail "every include follows the layer rule; only cli/ prints" "$out"

# the checker itself catches a violation (a copy of the tree with one bad include)
cp -a "$MULETTO_TOP/recovery" "$MULETTO_TOP/include" "$MULETTO_TOP/scripts" "$T/"
echo '#include "muletto/cli/cmd.h"' >>"$T/recovery/core/util.c"
echo 'static void noisy(void) { fprintf(stderr, "x"); }' >>"$T/recovery/store/fetch.c"
out=$("$T/scripts/check-layers.sh" "$T" 2>&1)
grep -q "core/util.c:.*core/ may not include cli/" <<<"$out" &&
	grep -q "store/fetch.c:.*only cli/ prints" <<<"$out" &&
	pass "the layer check finds an upward include and a print" ||
	fail "the layer check finds an upward include and a print" "$out"
