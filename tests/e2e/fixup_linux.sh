# muletto fixup on a real Debian 12 machine (tests/lib_debian.sh: Debian's
# kernel, initramfs-tools and GRUB, its initramfs holding virtio-blk only and
# its fstab and GRUB naming /dev/vda), captured once and restored onto disks
# on other controllers, booted under SeaBIOS:
#   - on virtio, where it came from, it boots (the positive control);
#   - on AHCI and on NVMe it cannot find its root (the negative control)
#     until fixup has run; then it boots to its marker with every fstab entry
#     mounted.
# Also: --dry-run changes no byte, the report's JSON, the log in the system,
# and the refusals (an image file, a disk in use, a disk without a system).
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
. "$MULETTO_TOP/tests/lib_debian.sh"
need_root "fixup (Linux)"
command -v qemu-system-x86_64 >/dev/null || { skip "fixup (Linux)" "qemu-system-x86_64 is missing"; exit 0; }
command -v mmdebstrap >/dev/null || { fail "fixup (Linux)" "mmdebstrap is missing: run scripts/deps.sh e2e"; exit 1; }
export MULETTO_CONF=$T/none.conf MTOOLS_SKIP_CHECK=1
E2E_TIMEOUT=150

debian_rootfs || { fail "the Debian sample machine" "$(tail -5 "$DEBIAN_DIR/mmdebstrap.log")"; exit 1; }
debian_disk "$T/sample.img" 800 2>"$T/disk.err" || { fail "the Debian sample disk" "$(cat "$T/disk.err")"; exit 1; }
"$MULETTO" capture "$T/sample.img" "$T/repo" --name debian --progress none >/dev/null 2>"$T/cap.err" ||
	{ fail "capture of the Debian sample" "$(cat "$T/cap.err")"; exit 1; }

boot() { # NAME CONTROLLER IMAGE: boots it under SeaBIOS; 0 when it reached its marker with fstab mounted
	Q=(-machine pc)
	e2e_target "$3" "$2"
	qemu_run "$1" "$T/$1.log"
	grep -qa "^$DEBIAN_MARKER" "$T/$1.log" && grep -qa '^FSTAB-OK' "$T/$1.log"
}
attach() { # IMAGE: a loop device with its partitions
	local d
	d=$(losetup -f --show "$1") && partx -a "$d" 2>/dev/null && echo "$d"
}
detach() { partx -d "$1" 2>/dev/null; losetup -d "$1"; }
sha() { sha256sum "$1" | cut -d" " -f1; }
root_of() { # LOOP: the restored root's folder, mounted read-only
	mkdir -p "$T/root" && mount -o ro "${1}p3" "$T/root"
}

"$MULETTO" restore "$T/repo" debian --to "$T/virtio.img" --yes --progress none >/dev/null 2>&1
boot virtio virtio "$T/virtio.img" &&
	pass "the Debian sample boots where it came from, on virtio (${E2E_SECONDS}s): the positive control" ||
	fail "the Debian sample boots on virtio" "$(tail -c 600 "$T/virtio.log")"

# ---- --dry-run: the plan, and not a byte changed ----
"$MULETTO" restore "$T/repo" debian --to "$T/ahci.img" --yes --progress none >/dev/null 2>&1
before=$(sha "$T/ahci.img")
d=$(attach "$T/ahci.img")
"$MULETTO" fixup "$d" --dry-run --firmware bios --nic ens18=ens9 >"$T/dry.out" 2>"$T/dry.err"
rc=$?
detach "$d"
[ $rc = 0 ] && [ -n "$before" ] && [ "$(sha "$T/ahci.img")" = "$before" ] &&
	grep -q '^Debian GNU/Linux 12 (bookworm) on /dev/loop[0-9]*p3, booting BIOS (dry run: nothing is changed):' "$T/dry.out" &&
	grep -q 'would change   /etc/fstab: /dev/vda3 -> UUID=' "$T/dry.out" &&
	grep -q 'would change   initramfs: initramfs of .* lacks ahci nvme sd_mod' "$T/dry.out" &&
	grep -q '^  would change   /etc/network/interfaces: ens18 -> ens9$' "$T/dry.out" &&
	grep -q '^fixup: 1 system, [0-9]* changes (dry run: nothing was written)' "$T/dry.out" &&
	pass "fixup --dry-run says what it would change (fstab, GRUB, initramfs, boot loader, the network card named by --nic) and changes no byte" ||
	fail "fixup --dry-run" "rc $rc: $(cat "$T/dry.out" "$T/dry.err")"

# ---- AHCI and NVMe: the negative control, then fixup, then it boots (NVMe
# with 4096-byte sectors, under UEFI: tests/e2e/fixup_uefi.sh) ----
for c in ahci nvme; do
	[ -f "$T/$c.img" ] || "$MULETTO" restore "$T/repo" debian --to "$T/$c.img" --yes --progress none >/dev/null 2>&1
	cp --sparse=always "$T/$c.img" "$T/$c-as-restored.img"
	if boot "$c-before" "$c" "$T/$c.img"; then
		fail "on $c the restored system without fixup does not boot (negative control)" "it booted"
	else
		grep -qa 'ALERT!  /dev/vda3 does not exist' "$T/$c-before.log" &&
			pass "on $c the restored system does not find its root without fixup (${E2E_SECONDS}s): the negative control" ||
			fail "on $c the restored system fails the expected way" "$(tail -c 600 "$T/$c-before.log")"
	fi
	cp --sparse=always "$T/$c-as-restored.img" "$T/$c.img"
	d=$(attach "$T/$c.img")
	t0=$SECONDS
	"$MULETTO" fixup "$d" --firmware bios --json >"$T/$c.json" 2>"$T/$c.err"
	rc=$?
	fix_s=$((SECONDS - t0))
	root_of "$d"
	fstab=$(cat "$T/root/etc/fstab")
	uuid=$(blkid -o value -s UUID "${d}p3")
	mods=$(lsinitramfs "$T/root/boot/initrd.img-"* 2>/dev/null | grep -cE '/(ahci|nvme|sd_mod)\.ko')
	logged=$(grep -c 'changed' "$T/root/var/log/muletto-fixup.log" 2>/dev/null)
	cfg_root=$(grep -o 'root=[^ ]*' "$T/root/boot/grub/grub.cfg" | sort -u | tr '\n' ' ')
	nic=$(grep -o 'allow-hotplug .*' "$T/root/etc/network/interfaces")
	nic_logged=$(grep -o '/etc/network/interfaces: ens18 -> [^ ,]*' "$T/root/var/log/muletto-fixup.log" 2>/dev/null)
	umount "$T/root"
	detach "$d"
	[ $rc = 0 ] && grep -q "^UUID=$uuid / ext4" <<<"$fstab" && ! grep -q '/dev/vda' <<<"$fstab" &&
		[ "${mods:-0}" -ge 3 ] && [ "${logged:-0}" -ge 4 ] && [ "$cfg_root" = "root=UUID=$uuid " ] &&
		[ -n "$nic_logged" ] && [ "$nic" = "allow-hotplug ${nic_logged##* }" ] &&
		jq -e '.dry_run == false and .firmware == "bios" and (.systems | length == 1) and
			([.systems[0].items[] | select(.state == "changed")] | length >= 5)' "$T/$c.json" >/dev/null &&
		pass "fixup for $c in ${fix_s}s: fstab and grub.cfg by UUID, the initramfs with ahci, nvme and sd_mod, GRUB for BIOS, the old network card mapped onto this machine's (${nic_logged#*: }), the log in /var/log/muletto-fixup.log" ||
		fail "fixup for $c" "rc $rc fstab [$fstab] mods $mods logged $logged cfg [$cfg_root] nic [$nic] [$nic_logged]: $(cat "$T/$c.json" "$T/$c.err")"
	boot "$c-after" "$c" "$T/$c.img" &&
		pass "on $c the fixed system boots to its marker with every fstab entry mounted (${E2E_SECONDS}s)" ||
		fail "on $c the fixed system boots" "$(tail -c 800 "$T/$c-after.log")"
	rm -f "$T/$c-as-restored.img"
done

# ---- a second run finds everything right ----
d=$(attach "$T/ahci.img")
"$MULETTO" fixup "$d" --dry-run --firmware bios >"$T/again.out" 2>&1
detach "$d"
grep -q 'already right  /etc/fstab' "$T/again.out" && grep -q 'already right  initramfs' "$T/again.out" &&
	pass "fixup on a fixed system finds fstab and the initramfs already right" ||
	fail "fixup a second time" "$(cat "$T/again.out")"

# ---- refusals ----
expect_fail "fixup on an image file says how to attach it" \
	"is not a disk: .*losetup -P --find --show" "$MULETTO" fixup "$T/ahci.img"
truncate -s 64M "$T/empty.img"
sgdisk -n 1:2048:0 -t 1:8300 "$T/empty.img" >/dev/null
d=$(attach "$T/empty.img")
mkfs.ext4 -q "${d}p1"
expect_fail "fixup on a disk without an operating system says so" \
	"no operating system found on $d" "$MULETTO" fixup "$d"
mkdir -p "$T/busy" && mount "${d}p1" "$T/busy"
expect_fail "fixup on a disk in use is refused" "refusing to change $d: .*mounted" "$MULETTO" fixup "$d"
umount "$T/busy"
detach "$d"
expect_fail "--firmware takes bios or uefi" "firmware efi: use bios or uefi" "$MULETTO" fixup /dev/null --firmware efi

# ---- a system without GRUB for the firmware: refused by name ----
cp --sparse=always "$T/ahci.img" "$T/nogrub.img"
d=$(attach "$T/nogrub.img")
mkdir -p "$T/rw" && mount "${d}p3" "$T/rw" && rm -rf "$T/rw/usr/lib/grub/x86_64-efi" "$T/rw/usr/lib/grub/i386-pc" && umount "$T/rw"
for fw in "uefi grub-efi-amd64-bin" "bios grub-pc-bin"; do
	set -- $fw
	"$MULETTO" fixup "$d" --dry-run --firmware "$1" >"$T/nogrub-$1.out" 2>&1
	rc=$?
	[ $rc != 0 ] && grep -q "^  failed *boot loader: this machine boots ${1^^} and the system has no GRUB for it: install $2" "$T/nogrub-$1.out" &&
		grep -q "^muletto: .*not every fix-up could be done" "$T/nogrub-$1.out" &&
		pass "booting ${1^^}, a system without $2 is refused by name, with what to install" ||
		fail "a system without GRUB for ${1^^}" "rc $rc: $(cat "$T/nogrub-$1.out")"
done
detach "$d"
