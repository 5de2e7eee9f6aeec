# restore tells the machine it runs on from the captured one (what makes it
# run fixup by itself): the same machine differs in nothing; a manifest whose
# network card's MAC is not here, whose storage controllers are others, whose
# firmware is the other one or that recorded no machine differs in that, said
# in --json's "differs" and on screen; the restored bytes are the image's.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root machine
export MULETTO_CONF=$T/none.conf

make_sample_disk "$T/a.img" 16
"$MULETTO" capture "$T/a.img" "$T/repo" --name a --progress none >/dev/null 2>&1 ||
	{ fail "capture the sample disk"; exit 0; }
man=$T/repo/images/a/manifest.json
cp "$man" "$T/manifest.orig"
here_fw=$(jq -r .machine.firmware "$man")
other_fw=$([ "$here_fw" = bios ] && echo uefi || echo bios)

case_differs() { # NAME JQ-EDIT EXPECTED-DIFFERS
	jq "$2" "$T/manifest.orig" >"$man"
	rm -f "$T/out.img"
	"$MULETTO" restore "$T/repo" a --to "$T/out.img" --json >"$T/r.json" 2>"$T/r.err"
	local rc=$? got
	got=$(jq -r '.differs // ""' "$T/r.json")
	if [ $rc = 0 ] && [ "$got" = "$3" ] && cmp -s "$T/a.img" "$T/out.img" &&
		{ [ -z "$3" ] || grep -qF "this machine differs from the captured one ($3)" "$T/r.err"; }; then
		pass "$1: differs \"$got\", the disk restored as it was"
	else
		fail "$1" "rc $rc, differs '$got' (want '$3'): $(cat "$T/r.err")"
	fi
}

case_differs "the machine it was captured on" '.' ""
[ "$(jq '.machine.nics | length' "$T/manifest.orig")" -gt 0 ] &&
	case_differs "a network card that is not here" '.machine.nics[0].mac = "02:00:5e:00:00:99"' "network cards" ||
	skip "a network card that is not here" "this machine has no network card"
case_differs "the same card, its MAC in capitals" '.machine.nics |= map(.mac |= ascii_upcase)' ""
case_differs "other storage controllers" \
	'.machine.storage_controllers = ["0000:00:1f.2 [8086:2922] ahci"]' "storage controllers"
case_differs "the other firmware" ".machine.firmware = \"$other_fw\"" "firmware $other_fw -> $here_fw"
case_differs "a manifest without its machine" 'del(.machine)' "machine not recorded"
