# The unattended path's other ends, booted straight into the kernel (no boot
# menu): a failed restore says so on the console and in the log on the
# MULETTO stick; a configuration baked into the initramfs (make iso CONFIG=)
# needs no stick at all; the log of a good restore lands on the stick.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
need_root "unattended restore"
e2e_need "unattended restore"
BOOT=$MULETTO_TOP/build/boot

e2e_repo || { fail "e2e repository" "capture failed"; exit 0; }

direct_boot() { # log kernel-dir config-disk-or-empty [extra kernel arguments]
	truncate -s 0 "$T/target.img"; truncate -s 112M "$T/target.img"
	e2e_target "$T/target.img" virtio; e2e_net
	Q+=(-kernel "$2/vmlinuz" -initrd "$2/initrd.img" -append "console=ttyS0,115200 quiet ${4:-}")
	[ -n "$3" ] && Q+=(-drive "file=$3,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
			   -device usb-storage,drive=cfg,bus=ehci.0)
	qemu_run direct "$1"
}
stick_log() { # config disk -> the muletto-*.log it holds, on stdout
	local f
	f=$(MTOOLS_SKIP_CHECK=1 mdir -b -i "$1" ::/ 2>/dev/null | grep -o 'muletto-[0-9-]*\.log' | head -1)
	[ -n "$f" ] && MTOOLS_SKIP_CHECK=1 mtype -i "$1" "::/$f"
}

# a restore that fails: named on the console, logged on the stick, disk untouched
e2e_config_disk "$T/bad.img" "repo=http://10.0.2.100:8080/repo" "image=no-such-image" \
	"target=auto" "auto=restore" "after=poweroff"
direct_boot "$T/bad.log" "$BOOT" "$T/bad.img"
grep -qa "RESTORE FAILED: muletto: no image 'no-such-image' in http://10.0.2.100:8080/repo; images there: sample" "$T/bad.log" &&
	pass "a failed unattended restore names the cause on the console" ||
	fail "a failed unattended restore names the cause on the console" "$(grep -a 'muletto:' "$T/bad.log" | tail -3)"
stick_log "$T/bad.img" | grep -q "RESTORE FAILED" &&
	pass "the failure is logged on the MULETTO stick" || fail "the failure is logged on the MULETTO stick"
[ "$(tr -d '\0' <"$T/target.img" | wc -c)" = 0 ] && pass "the disk is untouched after the failure" ||
	fail "the disk is untouched after the failure"

# a good restore: logged on the stick too; a static address from ip= instead of DHCP
e2e_config_disk "$T/good.img" "repo=http://10.0.2.100:8080/repo" "image=sample" \
	"target=auto" "auto=restore" "after=poweroff"
direct_boot "$T/good.log" "$BOOT" "$T/good.img" "ip=10.0.2.15::10.0.2.2:255.255.255.0:muletto:eth0:none"
grep -qa "muletto: eth0: 10.0.2.15 (static)" "$T/good.log" &&
	pass "ip= configures a static address" || fail "ip= configures a static address" "$(grep -a 'muletto:' "$T/good.log" | head -6)"
cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img" && stick_log "$T/good.img" | grep -q "RESTORE OK" &&
	pass "a good unattended restore is identical and logged on the stick" ||
	fail "a good unattended restore is identical and logged on the stick" "$(grep -a 'muletto:' "$T/good.log" | tail -3)"

# the configuration baked into the initramfs, no stick; target=auto with
# layout=auto: the one free disk, planned (the 112 MiB disk for the 96 MiB
# image: the root grows, the ESP stays byte for byte); grow_lv=yes passed on
# as --grow-lv (no volume group here: nothing else changes)
printf '%s\n' "repo=http://10.0.2.100:8080/repo" "image=sample" "target=auto" "layout=auto" \
	"grow_lv=yes" "auto=restore" "after=poweroff" >"$T/baked.conf"
INITRAMFS_OUT=$T/baked INITRAMFS_ROOT=$T/baked-root ZSTD_LEVEL=1 \
	"$MULETTO_TOP/scripts/mkinitramfs.sh" "$T/baked.conf" >/dev/null 2>"$T/mk.err" ||
	fail "an initramfs with a baked-in configuration builds" "$(cat "$T/mk.err")"
rm -rf "$T/baked-root"
direct_boot "$T/baked.log" "$T/baked" ""
ids() { sfdisk -d "$1" | sed -n 's/^label-id: /label-id=/p; s/^[^ ]*[^0-9]\([0-9]*\) : start=[ 0-9]*, size=[ 0-9]*, /\1 /p'; }
esp() { dd if="$1" bs=1M skip=1 count=40 status=none | sha256sum; }
grown() { # the root partition is larger than the sample's, and e2fsck finds it clean
	local root=$(($(partx -g -o START -n 2 "$T/target.img" | tr -d ' ') * 512))
	[ "$(partx -g -b -o SIZE -n 2 "$T/target.img" | tr -d ' ')" -gt "$(partx -g -b -o SIZE -n 2 "$SAMPLE" | tr -d ' ')" ] &&
		e2fsck -fn "$T/target.img?offset=$root" >/dev/null 2>&1
}
grep -qa "RESTORE OK: restored sample disk0 to /dev/vda" "$T/baked.log" &&
	grep -qa "partitions placed by the plan" "$T/baked.log" && [ "$(esp "$SAMPLE")" = "$(esp "$T/target.img")" ] &&
	[ "$(ids "$SAMPLE")" = "$(ids "$T/target.img")" ] && grown &&
	pass "a configuration baked in with CONFIG= restores without a stick; target=auto with layout=auto (and grow_lv=yes) picks the disk and grows the root (ESP identical, GUIDs kept, e2fsck clean)" ||
	fail "a configuration baked in with CONFIG= restores without a stick" "$(grep -a 'muletto:' "$T/baked.log" | tail -3)"

# everything on the kernel command line, an explicit target: 112 MiB for the
# 96 MiB image, so its root partition grows (the ESP stays byte for byte)
direct_boot "$T/cmdline.log" "$BOOT" "" "muletto.repo=http://10.0.2.100:8080/repo muletto.image=sample muletto.target=/dev/vda muletto.auto=restore muletto.after=poweroff"
root=$(($(partx -g -o START -n 2 "$T/target.img" | tr -d ' ') * 512))
grep -qa "RESTORE OK: restored sample disk0 to /dev/vda" "$T/cmdline.log" &&
	grep -qa "partitions placed by the plan" "$T/cmdline.log" && [ "$(esp "$SAMPLE")" = "$(esp "$T/target.img")" ] &&
	[ "$(ids "$SAMPLE")" = "$(ids "$T/target.img")" ] && e2fsck -fn "$T/target.img?offset=$root" >/dev/null 2>&1 &&
	[ "$(partx -g -b -o SIZE -n 2 "$T/target.img" | tr -d ' ')" -gt "$(partx -g -b -o SIZE -n 2 "$SAMPLE" | tr -d ' ')" ] &&
	pass "settings from the kernel command line restore to the named, larger disk: ESP identical, root grown and clean, GUIDs kept" ||
	fail "settings from the kernel command line restore to the named disk" "$(grep -a 'muletto:' "$T/cmdline.log" | tail -3)"
