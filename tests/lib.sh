# Shared helpers for integration tests: source it from a test script.
#   pass NAME / fail NAME [why] / skip NAME why   -- report one case
#   check_cmp NAME FILE1 FILE2                   -- byte comparison as a case
#   loop_attach FILE [-r]  -> prints /dev/loopN (partitions scanned with partx)
#   T                      -- a fresh temporary folder, removed at exit
# Everything a test sets up is torn down by the EXIT trap, in reverse order.
set -u
: "${MULETTO_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${MULETTO:=$MULETTO_TOP/build/san/muletto}"
export MULETTO_TOP MULETTO
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

T=$(mktemp -d /tmp/muletto-test.XXXXXX)
_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap _run_cleanups EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ ($2)}"; }
skip() { echo "SKIP: $1 ($2)"; }

check_cmp() { # name file1 file2
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ: $(cmp "$2" "$3" 2>&1 | head -1)"; fi
}

# expect_fail NAME PATTERN CMD... : CMD must exit non-zero and print PATTERN (ERE)
# on stderr in exactly one line starting with "muletto: ".
expect_fail() {
	local name=$1 pattern=$2; shift 2
	local out rc
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" = 0 ]; then fail "$name" "exit 0, expected failure"; return 1; fi
	if ! grep -qE -- "$pattern" <<<"$out"; then fail "$name" "message does not match /$pattern/: $out"; return 1; fi
	if grep -q 'AddressSanitizer\|runtime error' <<<"$out"; then fail "$name" "sanitizer: $out"; return 1; fi
	pass "$name"
}

loop_attach() { # file [-r]
	local dev
	dev=$(losetup -f --show ${2:+"$2"} "$1") || return 1
	partx -a "$dev" 2>/dev/null || true
	at_exit "loop_detach $dev"
	echo "$dev"
}

loop_detach() {
	partx -d "$1" 2>/dev/null || true
	losetup -d "$1" 2>/dev/null || true
}

need_root() {
	if [ "$(id -u)" != 0 ]; then skip "$1" "needs root for loop devices"; exit 0; fi
}
