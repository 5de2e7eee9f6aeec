# S3: capture into a bucket, list, restore and verify, path-style and
# virtual-hosted, against s3rver behind a front that checks every SigV4
# signature with AWS's signer; listings page by page; wrong keys refused plainly;
# the server going away mid-restore and coming back.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root s3
[ -f "${MULETTO_NODE:-/var/cache/muletto/node}/.installed" ] ||
	{ fail "s3" "the test S3 server is missing: run scripts/deps.sh check"; exit 1; }

make_sample_disk "$T/a.img" 48
mkdir -p "$T/s3"
port=$(s3_start "$T/s3")
log=$T/s3/front.log
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=eu-south-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$port MULETTO_CONF=$T/none.conf
repo=s3://backups/site1/servers

"$MULETTO" capture "$T/a.img" "$repo" --name web01 --chunk-size 65536 --progress none \
	>"$T/cap.log" 2>&1 || fail "capture into S3" "$(cat "$T/cap.log")"
grep -q "PUT 127.0.0.1:$port /backups/site1/servers/images/web01/manifest.json 200" "$log" &&
	pass "capture puts the manifest into the bucket, signed" ||
	fail "capture puts the manifest into the bucket, signed" "$(tail -3 "$log")"
"$MULETTO" verify "$repo" web01 >"$T/v.log" 2>&1 && grep -q "is intact" "$T/v.log" &&
	pass "verify over S3" || fail "verify over S3" "$(cat "$T/v.log")"

"$MULETTO" restore "$repo" web01 --to "$T/out.img" --yes >"$T/o.log" 2>&1 ||
	fail "restore from S3 (path style)" "$(cat "$T/o.log")"
check_cmp "restore from S3, path style: identical" "$T/a.img" "$T/out.img"

: >"$log"
rm -f "$T/out.img"
AWS_ENDPOINT_URL=http://s3.localhost:$port MULETTO_S3_ADDRESSING=virtual \
	"$MULETTO" restore "$repo" web01 --to "$T/out.img" --yes >"$T/o.log" 2>&1 ||
	fail "restore from S3 (virtual-hosted)" "$(cat "$T/o.log")"
check_cmp "restore from S3, virtual-hosted: identical" "$T/a.img" "$T/out.img"
n=$(grep -c "^GET backups.s3.localhost:$port /site1/servers/store/.* 200" "$log")
[ "$n" -gt 50 ] && ! grep -q "^GET 127.0.0.1" "$log" &&
	pass "virtual-hosted requests name the bucket in the host ($n chunks)" ||
	fail "virtual-hosted requests name the bucket in the host" "$n; $(head -2 "$log")"

# listings page by page: three images and three stray files, one key per page
"$MULETTO" capture "$T/a.img" "$repo" --name web02 --progress none >/dev/null 2>&1
"$MULETTO" capture "$T/a.img" "$repo" --name db01 --progress none >/dev/null 2>&1
for f in notes.txt old.txt zz.txt; do
	curl -s -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user S3RVER:S3RVER -T /etc/hostname \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$AWS_ENDPOINT_URL/backups/site1/servers/images/$f"
done
: >"$log"
MULETTO_S3_PAGE=1 "$MULETTO" ls "$repo" --json >"$T/ls.json" 2>"$T/ls.err"
names=$(jq -r '.images[] | select(.status == "ok") | .name' "$T/ls.json" 2>/dev/null | sort | tr '\n' ' ')
pages=$(grep -c "continuation-token=" "$log")
[ "$names" = "db01 web01 web02 " ] && [ "$pages" -ge 2 ] &&
	pass "ls follows the listing across $((pages + 1)) pages" ||
	fail "ls follows the listing across pages" "names '$names', $pages continued pages, $(cat "$T/ls.err")"

# wrong keys: refused at once, with what to check; nothing written
rm -f "$T/bad.img"
expect_fail "a wrong secret key is refused plainly" \
	"S3 refused the request \(HTTP 403 SignatureDoesNotMatch.*check AWS_SECRET_ACCESS_KEY" \
	env AWS_SECRET_ACCESS_KEY=wrong "$MULETTO" restore "$repo" web01 --to "$T/bad.img" --yes
[ ! -s "$T/bad.img" ] && pass "nothing written after the refusal" || fail "nothing written after the refusal"
expect_fail "an unknown access key is refused plainly" \
	"InvalidAccessKeyId.*check AWS_ACCESS_KEY_ID" \
	env AWS_ACCESS_KEY_ID=nobody "$MULETTO" ls "$repo"
expect_fail "no keys: anonymous access is refused, saying so" "HTTP 403 AccessDenied" \
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$MULETTO" ls "$repo"
expect_fail "a bucket that does not exist" "NoSuchBucket.*check the name" \
	"$MULETTO" ls s3://nobucket/x
secret_seen=$(env AWS_SECRET_ACCESS_KEY=wrong-s3cret MULETTO_DEBUG=all "$MULETTO" ls "$repo" 2>&1 |
	grep -c "wrong-s3cret")
[ "$secret_seen" = 0 ] && pass "the secret key appears in no message" ||
	fail "the secret key appears in no message"

# the keys from a private muletto.conf
printf 'aws_access_key_id=S3RVER\naws_secret_access_key=S3RVER\n' >"$T/m.conf"
chmod 600 "$T/m.conf"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY MULETTO_CONF="$T/m.conf" "$MULETTO" ls "$repo" \
	>"$T/ls.out" 2>&1 && grep -q "^web01 " "$T/ls.out" &&
	pass "keys from a private muletto.conf" || fail "keys from a private muletto.conf" "$(cat "$T/ls.out")"

# the server goes away in the middle of a restore and comes back: the outage
# starts once the front has answered the restore's first chunk (a fixed delay
# raced the restore on a loaded machine: before the manifest, or after the end)
s3_front_delay "$T/s3" 1000
rm -f "$T/out.img"
seen=$(wc -l <"$T/s3/front.log")
( for _ in $(seq 600); do
	tail -n +$((seen + 1)) "$T/s3/front.log" | grep -q '^GET .*/store/' && break
	sleep 0.05
  done
  s3_front_stop "$T/s3"; sleep 3; s3_front_start "$T/s3" ) &
killer=$!
MULETTO_RETRY_SECONDS=60 "$MULETTO" restore "$repo" web01 --to "$T/out.img" --yes >"$T/o.log" 2>&1
rc=$?
wait $killer
[ $rc = 0 ] && grep -q retrying "$T/o.log" && pass "the restore waits while S3 is down" ||
	fail "the restore waits while S3 is down" "rc $rc: $(tail -2 "$T/o.log")"
check_cmp "restore across an S3 restart is identical" "$T/a.img" "$T/out.img"
