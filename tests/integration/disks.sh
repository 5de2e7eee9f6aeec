# muletto disks: what the technician sees, checked against sgdisk, blkid and sysfs.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
need_root disks

make_sample_disk "$T/gpt.img" 64
sgdisk -n 3:0:+2M -t 3:8200 "$T/gpt.img" >/dev/null 2>&1 # swap in the free space at the end
truncate -s 2M "$T/swap.part" && mkswap -L SWAPPY "$T/swap.part" >/dev/null 2>&1
dd if="$T/swap.part" of="$T/gpt.img" bs=512 seek="$(partx -g -o START -n 3 "$T/gpt.img" | tr -d ' ')" \
	conv=notrunc status=none
truncate -s 32M "$T/mbr.img"
printf 'label: dos\nstart=2048, size=20480, type=83\nstart=22528, type=c\n' | sfdisk -q "$T/mbr.img"
gpt=$(loop_attach "$T/gpt.img")
mbr=$(loop_attach "$T/mbr.img")
"$MULETTO" disks --json >"$T/d.json" 2>"$T/d.err" || fail "disks --json runs" "$(cat "$T/d.err")"

python3 - "$T/d.json" "$gpt" "$mbr" "$T/gpt.img" 2>"$T/py.err" <<'PY' && pass "disks --json: sizes, tables, partitions, file systems of loop disks" || fail "disks --json: sizes, tables, partitions, file systems of loop disks" "$(tail -3 "$T/py.err" | tr "\n" " ")"
import json, sys, subprocess
d = {x["device"]: x for x in json.load(open(sys.argv[1]))["disks"]}
g, m = d[sys.argv[2]], d[sys.argv[3]]
assert g["size"] == 64 << 20 and m["size"] == 32 << 20, (g["size"], m["size"])
assert g["transport"] == "loop" and g["model"] == sys.argv[4]
assert g["partition_table"] == "gpt" and m["partition_table"] == "dos"
assert g["logical_sector_size"] == 512
# partition geometry as sgdisk/partx sees it
out = subprocess.run(["partx", "-g", "-b", "-o", "NR,START,SIZE", sys.argv[4]], capture_output=True, text=True).stdout
want = {int(l.split()[0]): (int(l.split()[1]) * 512, int(l.split()[2])) for l in out.splitlines()}
got = {p["number"]: (p["start"], p["size"]) for p in g["partitions"]}
assert got == want, (got, want)
p = {x["number"]: x for x in g["partitions"]}
assert p[1]["fs"] == "vfat" and p[1]["label"] == "ESP" and p[1]["type_name"] == "EFI System"
assert p[2]["fs"] == "ext4" and p[2]["label"] == "root" and p[2]["fs_uuid"] == "8c7b3f1e-0d6a-4a55-9d3c-2f4b5c6d7e8f"
assert p[3]["fs"] == "swap" and p[3]["label"] == "SWAPPY" and p[3]["type_name"] == "Linux swap"
assert p[1]["device"] == sys.argv[2] + "p1"
blk = subprocess.run(["blkid", "-p", "-s", "UUID", "-o", "value", sys.argv[2] + "p1"], capture_output=True, text=True).stdout.strip()
assert p[1]["fs_uuid"] == blk, (p[1]["fs_uuid"], blk)
mp = {x["number"]: x for x in m["partitions"]}
assert mp[1]["type"] == "0x83" and mp[2]["type"] == "0x0c" and mp[1]["start"] == 1 << 20
assert not g["in_use"] and not g["boot"]
PY

# the disk holding / is flagged as the boot disk and in use
python3 - "$T/d.json" <<'PY' && pass "the disk holding / is flagged boot and in use" || fail "the disk holding / is flagged boot and in use" "$(head -c 1500 "$T/d.json")"
import json, sys, os
st = os.stat("/")
root = "%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))
disks = json.load(open(sys.argv[1]))["disks"]
boot = [x for x in disks if x["boot"]]
real = os.path.realpath("/sys/dev/block/" + root) if os.path.exists("/sys/dev/block/" + root) else ""
if real:
    name = real.split("/block/")[1].split("/")[0]
    assert [x["name"] for x in boot] == [name], ([x["name"] for x in boot], name)
    assert boot[0]["in_use"] and "mounted on /" in boot[0]["in_use_why"]
PY

# a mounted partition makes its disk in use, and says where
mkdir -p "$T/mnt"
mount -o ro "${gpt}p2" "$T/mnt" && at_exit "umount $T/mnt"
"$MULETTO" disks --json | jq -e --arg d "$gpt" --arg w "${gpt}p2 is mounted on $T/mnt" \
	'.disks[] | select(.device == $d) | .in_use and .in_use_why == $w' >/dev/null &&
	pass "a mounted partition marks its disk in use, naming the mount point" ||
	fail "a mounted partition marks its disk in use, naming the mount point"
out=$("$MULETTO" disks)
grep -qE "^$gpt +64 MiB .* loop +gpt +IN USE" <<<"$out" && grep -qE "^  ${gpt}p1 +16 MiB +vfat +ESP +EFI System" <<<"$out" &&
	pass "the table shows the disk and its partitions" || fail "the table shows the disk and its partitions" "$out"
umount "$T/mnt"

# a captured sysfs tree: identity and transport of disks this machine does not have
"$MULETTO" disks --json --sysroot "$MULETTO_TOP/tests/fixtures/sysroot-three" >"$T/s.json" 2>"$T/s.err"
python3 - "$T/s.json" <<'PY' && pass "--sysroot: model, serial, transport, sizes, flags from a captured /sys" || fail "--sysroot: model, serial, transport, sizes, flags from a captured /sys" "$(cat "$T/s.err") $(head -c 1500 "$T/s.json")"
import json, sys
d = {x["name"]: x for x in json.load(open(sys.argv[1]))["disks"]}
assert sorted(d) == ["nvme0n1", "sda", "sdb"], sorted(d)
n, s, u = d["nvme0n1"], d["sda"], d["sdb"]
assert n["transport"] == "nvme" and n["model"] == "Samsung SSD 980 PRO 1TB" and n["serial"] == "S5GXNF0R123456"
assert n["size"] == 1000204886016 and n["physical_sector_size"] == 512 and not n["rotational"]
assert s["transport"] == "sata" and s["model"] == "WDC WD40EFRX-68N" and s["rotational"] and s["physical_sector_size"] == 4096
assert s["boot"] and s["in_use"] and "/dev/sda2 is mounted on /" == s["in_use_why"], s
assert u["transport"] == "usb" and u["removable"] and u["serial"] == "4C530001230101" and not u["in_use"]
PY

expect_fail "an unknown option is a usage error" "usage: muletto disks" "$MULETTO" disks --bogus
"$MULETTO" disks --bogus >/dev/null 2>&1; [ $? = 2 ] && pass "usage errors exit 2" || fail "usage errors exit 2"

# a partition used as swap makes its disk in use
if swapon "${gpt}p3" 2>/dev/null; then
	at_exit "swapoff ${gpt}p3"
	"$MULETTO" disks --json | jq -e --arg d "$gpt" --arg w "${gpt}p3 is in use as swap" \
		'.disks[] | select(.device == $d) | .in_use and .in_use_why == $w' >/dev/null &&
		pass "a swap partition marks its disk in use" || fail "a swap partition marks its disk in use"
	"$MULETTO" capture "$T/mbr.img" "$T/repo" --name small >/dev/null 2>&1
	expect_fail "restore refuses a disk with active swap" "refusing to write to $gpt: ${gpt}p3 is in use as swap" \
		"$MULETTO" restore "$T/repo" small --to "$gpt" --yes
	swapoff "${gpt}p3"
else
	skip "a swap partition marks its disk in use" "swapon does not work on loop devices here"
fi
