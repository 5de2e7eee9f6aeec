# What the command line takes: numbers checked (one line, exit 2), image names
# from one character set for every command, --progress json that stays JSON
# whatever a name holds, ls telling signed images and, under a trusted key,
# the ones restore would refuse.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
unset MULETTO_TRUST
export MULETTO_CONF=$T/none.conf

# expect_usage NAME PATTERN CMD...: exit status 2 and one "muletto: " line
expect_usage() {
	local name=$1 pattern=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -qE -- "^muletto: .*$pattern" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "rc $rc: $out"
	fi
}

make_sample_disk "$T/a.img" 24
"$MULETTO" capture "$T/a.img" "$T/repo" --name img --progress none >/dev/null 2>&1 ||
	fail "capture" "the sample capture failed"

# numbers
expect_usage "capture --chunk-size that is not a power of two: exit 2, not 3" \
	"--chunk-size 1000: use a power of two" \
	"$MULETTO" capture "$T/a.img" "$T/repo" --name x --chunk-size 1000
expect_usage "capture --chunk-size that is not a number" "--chunk-size 64k" \
	"$MULETTO" capture "$T/a.img" "$T/repo" --name x --chunk-size 64k
for v in 0 -1 abc 99999 4x ""; do
	expect_usage "restore --threads '$v' is refused" "--threads $v: give a whole number from 1 to 256" \
		"$MULETTO" restore "$T/repo" img --to "$T/t.img" --threads "$v"
done
expect_usage "capture --threads -3 is refused" "--threads -3" \
	"$MULETTO" capture "$T/a.img" "$T/repo" --name x --threads -3
expect_usage "verify --threads x is refused" "--threads x" "$MULETTO" verify "$T/repo" img --threads x
expect_usage "capture --level 20 is refused" "--level 20: give a whole number from 1 to 19" \
	"$MULETTO" capture "$T/a.img" "$T/repo" --name x --level 20
expect_usage "capture --level 3x is refused" "--level 3x" \
	"$MULETTO" capture "$T/a.img" "$T/repo" --name x --level 3x
expect_usage "restore --disk -1 is refused" "--disk -1: give the disk's number" \
	"$MULETTO" restore "$T/repo" img --to "$T/t.img" --disk -1
expect_usage "MULETTO_RETRY_SECONDS that is not a number is refused" "MULETTO_RETRY_SECONDS=soon" \
	env MULETTO_RETRY_SECONDS=soon "$MULETTO" ls "$T/repo"
expect_usage "an unknown --progress mode" "--progress loud: use auto, bar, json or none" \
	"$MULETTO" restore "$T/repo" img --to "$T/t.img" --progress loud
[ ! -e "$T/t.img" ] && [ ! -e "$T/repo/images/x" ] && pass "nothing written by refused options" ||
	fail "nothing written by refused options"

# image names: one character set, for every command
for n in "a b" "../x" ".hidden" 'we"b' "a/b" "$(printf 'x\033]0;T\a')"; do
	expect_fail "capture refuses the name '$(printf %q "$n")'" "is not a valid image name: use letters, digits" \
		"$MULETTO" capture "$T/a.img" "$T/repo" --name "$n" --progress none
done
expect_fail "restore refuses a name outside the set" "'a b' is not a valid image name" \
	"$MULETTO" restore "$T/repo" "a b" --to "$T/t.img"
expect_fail "verify refuses a name outside the set" "'a;b' is not a valid image name" \
	"$MULETTO" verify "$T/repo" "a;b"
out=$("$MULETTO" capture "$T/a.img" "$T/repo" --name "$(printf 'x\033]0;PWNED\a')" 2>&1)
grep -q $'\033' <<<"$out" && fail "a refused name is shown escaped" "$(cat -v <<<"$out")" ||
	{ grep -qF '\x1b]0;PWNED\x07' <<<"$out" && pass "a refused name is shown escaped" ||
		fail "a refused name is shown escaped" "$(cat -v <<<"$out")"; }
ls "$T/repo/images" >"$T/names"
[ "$(cat "$T/names")" = img ] && pass "no folder made for a refused name" ||
	fail "no folder made for a refused name" "$(cat "$T/names")"
mkdir -p "$T/repo/images/bad name" && cp "$T/repo/images/img/"* "$T/repo/images/bad name/"
"$MULETTO" ls "$T/repo" >"$T/ls.out" 2>&1
grep -q "^bad name .*bad name: 'bad name' is not a valid image name" "$T/ls.out" && grep -q "^img " "$T/ls.out" &&
	pass "ls marks a listed name outside the set" || fail "ls marks a listed name outside the set" "$(cat "$T/ls.out")"
rm -rf "$T/repo/images/bad name"

# --progress json: every line is JSON, whatever the image's name holds
cp "$T/repo/images/img/disk0.caibx" "$T/we\"ird\\name.caibx"
"$MULETTO" restore "$T/we\"ird\\name.caibx" --store "$T/repo/store" --to "$T/p.img" --yes \
	--progress json >"$T/p.out" 2>"$T/p.err" || fail "restore with --progress json" "$(cat "$T/p.err")"
n=$(grep -c . "$T/p.err")
ok=$(jq -c 'select(.progress != null) | .image' "$T/p.err" 2>/dev/null | grep -c 'we\\"ird\\\\name.caibx')
[ "$n" -ge 1 ] && [ "$ok" = "$n" ] && pass "--progress json escapes the name ($n lines, all JSON)" ||
	fail "--progress json escapes the name" "$n lines, $ok parsed: $(head -3 "$T/p.err")"
check_cmp "that restore is identical" "$T/a.img" "$T/p.img"
jq -e '.final == true and .ok == true' <<<"$(tail -1 "$T/p.err")" >/dev/null &&
	pass "--progress json ends with a final line" || fail "--progress json ends with a final line" "$(tail -1 "$T/p.err")"

# a raw image cannot go to "auto": its size is not known beforehand
expect_fail "a raw image with --to auto is refused" "--to auto needs the image's size" \
	"$MULETTO" restore "$T/a.img" --to auto --yes
[ ! -e auto ] && [ ! -e "$T/auto" ] && pass "no file named auto was made" || fail "no file named auto was made"

# ls: signed by which key; under a trusted key, which would be refused
"$MULETTO" keygen "$T/site.key" >"$T/kg.out" 2>&1
"$MULETTO" keygen "$T/other.key" >/dev/null 2>&1
fp=$(sed -n 's/^fingerprint: *//p' "$T/kg.out")
"$MULETTO" capture "$T/a.img" "$T/repo" --name signed --sign "$T/site.key" --progress none >/dev/null 2>&1
"$MULETTO" capture "$T/a.img" "$T/repo" --name foreign --sign "$T/other.key" --progress none >/dev/null 2>&1
"$MULETTO" ls "$T/repo" >"$T/ls.out" 2>&1
grep -q "^signed .* ${fp:0:16}$" "$T/ls.out" && grep -q "^img .* -$" "$T/ls.out" &&
	pass "ls shows who signed each image" || fail "ls shows who signed each image" "$(cat "$T/ls.out")"
"$MULETTO" ls "$T/repo" --trust "$T/site.key.pub" >"$T/lst.out" 2>&1
grep -q "^signed .* ${fp:0:16} yes$" "$T/lst.out" && grep -q "^img .* REFUSED$" "$T/lst.out" &&
	grep -q "^foreign .* REFUSED$" "$T/lst.out" && grep -q "refused: image 'img' .* is not signed" "$T/lst.out" &&
	grep -q "refused: .*signed by key .*not by the trusted key" "$T/lst.out" &&
	pass "ls --trust marks the images restore would refuse, and why" ||
	fail "ls --trust marks the images restore would refuse, and why" "$(cat "$T/lst.out")"
MULETTO_TRUST=$T/site.key.pub "$MULETTO" ls "$T/repo" --json >"$T/ls.json" 2>&1
[ "$(jq -r '.images[] | "\(.name) \(.trusted) \(.signed_by != null)"' "$T/ls.json" | tr '\n' ' ')" = \
	"foreign false true img false false signed true true " ] &&
	[ "$(jq -r '.images[] | select(.name == "signed") | .signed_by' "$T/ls.json")" = "$fp" ] &&
	pass "ls --json under MULETTO_TRUST: signed_by and trusted" ||
	fail "ls --json under MULETTO_TRUST: signed_by and trusted" "$(cat "$T/ls.json")"

# a muletto.conf is refused for its real reason
printf 'aws_secret_access_key=abc\n' >"$T/g.conf"
chmod 640 "$T/g.conf"
expect_fail "an S3 secret in a group-readable muletto.conf: says others can read it" \
	"g.conf holds aws_secret_access_key but other users can read it: run 'chmod 600" \
	env -u AWS_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID=k MULETTO_CONF="$T/g.conf" \
	"$MULETTO" ls s3://bucket/repo
chmod 600 "$T/g.conf"
printf 'ssh_key_passphrase=x\n' >"$T/p.conf"
chmod 644 "$T/p.conf"
expect_fail "an SSH key passphrase in a readable muletto.conf: says others can read it" \
	"p.conf holds ssh_key_passphrase but other users can read it" \
	env MULETTO_SSH_KEY="$T/site.key" MULETTO_CONF="$T/p.conf" "$MULETTO" ls sftp://u@127.0.0.1:1/x
mkdir -p "$T/dir.conf"
expect_fail "a muletto.conf that cannot be read: says so" "cannot read $T/dir.conf" \
	env -u AWS_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID=k MULETTO_CONF="$T/dir.conf" \
	"$MULETTO" ls s3://bucket/repo
head -c 2000000 /dev/zero | tr '\0' 'x' >"$T/big.conf"
expect_fail "a muletto.conf of 2 MB: too large to be one" "big.conf is larger than 1048576 bytes" \
	env -u AWS_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID=k MULETTO_CONF="$T/big.conf" \
	"$MULETTO" ls s3://bucket/repo
