# Windows made to boot on other hardware, on a disk built here (no Windows
# image can be fetched): a GPT disk with an ESP (FAT, through mtools) holding
# a BCD store, and an NTFS volume (ntfs-3g) holding SYSTEM and SOFTWARE hives
# grown from hivex's empty hive. Checked with hivexget: the storage drivers
# start at boot in both ControlSets, StartOverride is gone, a disk filter
# whose driver is missing is dropped, AutoReboot is 0, everything else is
# untouched; the BCD names the disk's partitions; the fallback loader and
# C:\muletto-fixup.txt are there. --dry-run changes no byte; a hibernated
# volume, a BitLocker one and a volume without Windows are refused or left.
# Driven through build/san/fixup_win (tests/fixup/fixup_win.c).
. "$(dirname "$0")/../lib.sh"
need_root fixup_windows
for t in sgdisk sfdisk mkntfs ntfs-3g mkfs.vfat mcopy mdir hivexregedit hivexget iconv python3; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null ||
		{ skip fixup_windows "$t is missing"; exit 0; }
done
FW=$MULETTO_TOP/build/san/fixup_win
[ -x "$FW" ] || { fail fixup_windows "$FW is not built (make unit)"; exit 0; }
export MULETTO_TMPDIR=$T MTOOLS_SKIP_CHECK=1
mkdir -p "$T/m"

# ---- the hives, as .reg files merged into hivex's empty hive ----
hexbytes() { od -An -v -tx1 | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }
msz() { { for s; do printf '%s\0' "$s"; done; printf '\0'; } | iconv -f latin1 -t UTF-16LE | hexbytes; }
guid_hex() { # the 16 bytes Windows stores for a GUID
	local g=$1
	echo "${g:6:2},${g:4:2},${g:2:2},${g:0:2},${g:11:2},${g:9:2},${g:16:2},${g:14:2},${g:19:2},${g:21:2},${g:24:2},${g:26:2},${g:28:2},${g:30:2},${g:32:2},${g:34:2}"
}
z() { local i s=; for i in $(seq "$1"); do s=$s,00; done; echo "${s#,}"; }
gpt_elem() { # partition GUID, disk GUID: a BCD partition device element
	echo "hex:$(z 16),06,00,00,00,$(z 4),48,00,00,00,$(z 4),$(guid_hex "$1"),$(z 4),00,00,00,00,$(guid_hex "$2"),$(z 16)"
}
mbr_elem() { # byte offset, signature (8 hex digits)
	local o s=$2
	o=$(printf '%016x' "$1")
	echo "hex:$(z 16),06,00,00,00,$(z 4),48,00,00,00,$(z 4),${o:14:2},${o:12:2},${o:10:2},${o:8:2},${o:6:2},${o:4:2},${o:2:2},${o:0:2},$(z 8),$(z 4),01,00,00,00,${s:6:2},${s:4:2},${s:2:2},${s:0:2},$(z 12),$(z 16)"
}
hive() { # file .reg: a new hive
	cp "$MULETTO_TOP/tests/fixtures/minimal-hive" "$1" && chmod 644 "$1" &&
		hivexregedit --merge --prefix '' "$1" "$2" 2>"$T/merge.err" ||
		{ fail "fixture hive $1" "$(cat "$T/merge.err")"; exit 0; }
}

# the disk: its identities now, and those the BCD has from the old machine
disk_guid=5e1f0c3a-7d2b-4c6e-9a1f-2b3c4d5e6f70
esp_guid=1a2b3c4d-0001-4e5f-8a9b-0c1d2e3f4a5b
c_guid=1a2b3c4d-0002-4e5f-8a9b-0c1d2e3f4a5b
old_disk=99999999-8888-4777-a666-555555555555
old_esp=0e0e0e0e-1111-4222-b333-444444444444
old_c=0c0c0c0c-1111-4222-b333-444444444444

cls='{4d36e967-e325-11ce-bfc1-08002be10318}'
dmio="44,4d,49,4f,3a,49,44,3a" # "DMIO:ID:", then a GPT partition's GUID
control_set() { # N, LowerFilters
	cat <<REG
[\\ControlSet00$1]

[\\ControlSet00$1\\Services]

[\\ControlSet00$1\\Services\\stornvme]
"Start"=dword:00000003
"Type"=dword:00000001
"ImagePath"=hex(2):$(printf 'System32\\drivers\\stornvme.sys\0' | iconv -t UTF-16LE | hexbytes)

[\\ControlSet00$1\\Services\\stornvme\\StartOverride]
"0"=dword:00000003

[\\ControlSet00$1\\Services\\storahci]
"Start"=dword:00000000

[\\ControlSet00$1\\Services\\iaStorV]
"Start"=dword:00000004

[\\ControlSet00$1\\Services\\partmgr]
"Start"=dword:00000000

[\\ControlSet00$1\\Services\\EhStorClass]
"Start"=dword:00000000

[\\ControlSet00$1\\Services\\Tcpip]
"Start"=dword:00000001

[\\ControlSet00$1\\Control]

[\\ControlSet00$1\\Control\\Class]

[\\ControlSet00$1\\Control\\Class\\$cls]
"Class"="DiskDrive"
"UpperFilters"=hex(7):$(msz EhStorClass gonefilter)
"LowerFilters"=hex(7):$(msz $2)

[\\ControlSet00$1\\Control\\CrashControl]
"AutoReboot"=dword:00000001
"CrashDumpEnabled"=dword:00000007

REG
}
{
	printf 'Windows Registry Editor Version 5.00\n\n[\\Select]\n"Current"=dword:00000002\n"LastKnownGood"=dword:00000001\n\n'
	control_set 1 partmgr
	control_set 2 gonelower
	printf '[\\MountedDevices]\n"\\\\DosDevices\\\\C:"=hex:%s,%s\n' $dmio "$(guid_hex $old_c)"
	printf '"\\\\??\\\\Volume{4a5b6c7d-0000-11ee-8000-0123456789ab}"=hex:%s,%s\n' $dmio "$(guid_hex $old_c)"
	printf '"\\\\DosDevices\\\\E:"=hex:5f,00,3f,00,3f,00\n\n'
} >"$T/system.reg"
hive "$T/SYSTEM" "$T/system.reg"
cat >"$T/software.reg" <<'REG'
Windows Registry Editor Version 5.00

[\Microsoft]

[\Microsoft\Windows NT]

[\Microsoft\Windows NT\CurrentVersion]
"ProductName"="Windows 10 Pro"
"CurrentBuild"="19045"
REG
hive "$T/SOFTWARE" "$T/software.reg"

loader='{d2c3b4a5-0000-11ee-8000-0123456789ab}'
bcd_reg() { # bootmgr's device, the loader's device and osdevice
	cat <<REG
Windows Registry Editor Version 5.00

[\\Objects]

[\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}]

[\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements]

[\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\11000001]
"Element"=$1

[\\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\12000004]
"Element"="Windows Boot Manager"

[\\Objects\\{b2721d73-1db4-4c62-bf78-c548a880142d}]

[\\Objects\\{b2721d73-1db4-4c62-bf78-c548a880142d}\\Elements]

[\\Objects\\{b2721d73-1db4-4c62-bf78-c548a880142d}\\Elements\\11000001]
"Element"=$1

[\\Objects\\$loader]

[\\Objects\\$loader\\Elements]

[\\Objects\\$loader\\Elements\\11000001]
"Element"=$2

[\\Objects\\$loader\\Elements\\21000001]
"Element"=$2

[\\Objects\\$loader\\Elements\\12000002]
"Element"="\\\\Windows\\\\system32\\\\winload.efi"

[\\Objects\\{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}]

[\\Objects\\{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}\\Elements]

[\\Objects\\{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}\\Elements\\11000001]
"Element"=hex:$(z 16),05,00,00,00,$(z 4),48,00,00,00,$(z 60)
REG
}
bcd_reg "$(gpt_elem $old_esp $old_disk)" "$(gpt_elem $old_c $old_disk)" >"$T/bcd.reg"
hive "$T/BCD" "$T/bcd.reg"

# ---- the disk: GPT, ESP 32 MiB, NTFS 100 MiB ----
truncate -s 160M "$T/disk.img"
sgdisk -U $disk_guid -n 1:2048:+32M -t 1:ef00 -u 1:$esp_guid -n 2:0:+100M -t 2:0700 -u 2:$c_guid \
	"$T/disk.img" >/dev/null || { fail "fixture disk" "sgdisk"; exit 0; }
dev=$(loop_attach "$T/disk.img")
ntfs_gone() { # ntfs-3g lets go of the device once it has written everything
	local i
	for i in $(seq 100); do
		python3 -c "import os,sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ntfs_in() { # device: mounted on $T/m
	ntfs-3g "$1" "$T/m" && at_exit "umount $T/m"
}
ntfs_out() { umount "$T/m" && ntfs_gone "$1"; }
mkfs.vfat -n ESP "${dev}p1" >/dev/null && mkntfs -Q -q -L Windows "${dev}p2" &&
	ntfs_in "${dev}p2" && mkdir -p "$T/m/WINDOWS/system32/CONFIG" &&
	cp "$T/SYSTEM" "$T/SOFTWARE" "$T/m/WINDOWS/system32/CONFIG/" && echo 'user data' >"$T/m/data.txt" &&
	ntfs_out "${dev}p2" ||
	{ fail "fixture volumes" "mkfs or copy failed"; exit 0; }
mmd -i "${dev}p1" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot 2>/dev/null &&
	printf 'MZ not really a boot manager\n' >"$T/bootmgfw.efi" &&
	mcopy -i "${dev}p1" "$T/BCD" "$T/bootmgfw.efi" ::/EFI/Microsoft/Boot/ 2>/dev/null ||
	{ fail "fixture ESP" "mtools"; exit 0; }
sha() { blockdev --flushbufs "$dev"; sha256sum <"$dev" | cut -c1-64; }
hives_out() { # the hives and the ESP's files after a run, into $T/out
	rm -rf "$T/out" && mkdir -p "$T/out" &&
		ntfs-3g -o ro "${dev}p2" "$T/m" && cp "$T/m/WINDOWS/system32/CONFIG/SYSTEM" "$T/out/" &&
		{ cp "$T/m/muletto-fixup.txt" "$T/out/" 2>/dev/null; true; } && ntfs_out "${dev}p2" &&
		mcopy -n -i "${dev}p1" ::/EFI/Microsoft/Boot/BCD "$T/out/BCD" 2>/dev/null &&
		{ mcopy -n -i "${dev}p1" ::/EFI/BOOT/BOOTX64.EFI "$T/out/" 2>/dev/null; true; }
}

# ---- probe ----
out=$("$FW" --probe "$dev" 2>&1)
[ "$out" = "${dev}p2: Windows 10 Pro (build 19045)" ] &&
	pass "Windows found by its SYSTEM hive (any case), named from its SOFTWARE hive" ||
	fail "probe" "$out"

# ---- muletto fixup finds it among the disk's systems ----
before=$(sha)
"$MULETTO" fixup "$dev" --dry-run --firmware uefi >"$T/mdry.out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$before" = "$(sha)" ] &&
	grep -q "^Windows 10 Pro (build 19045) on ${dev}p2, booting UEFI (dry run: nothing is changed):$" "$T/mdry.out" &&
	grep -q '^  would change   ControlSet001\\Services\\stornvme\\Start: 3 -> 0 (boot start)$' "$T/mdry.out" &&
	grep -q '^fixup: 1 system, [0-9]* changes (dry run: nothing was written)$' "$T/mdry.out" &&
	pass "muletto fixup --dry-run finds Windows on the disk and says what it would change, no byte changed" ||
	fail "muletto fixup --dry-run on Windows" "rc $rc: $(cat "$T/mdry.out")"

# ---- --dry-run: what would change, no byte changed ----
before=$(sha)
"$FW" "$dev" --dry-run >"$T/dry.out" 2>&1
rc=$?
after=$(sha)
[ $rc = 0 ] && [ "$before" = "$after" ] &&
	grep -q '^  would change   ControlSet002\\Services\\stornvme\\Start: 3 -> 0 (boot start)$' "$T/dry.out" &&
	grep -q '^  would change   ESP \\EFI\\BOOT\\BOOTX64.EFI' "$T/dry.out" &&
	! grep -q 'muletto-fixup.txt' "$T/dry.out" &&
	pass "--dry-run says what would change and changes no byte of the disk" ||
	fail "--dry-run" "rc $rc, sha $before -> $after: $(cat "$T/dry.out")"

# ---- the fix-up ----
start=$SECONDS
"$FW" "$dev" >"$T/fix.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "^muletto fixup: windows: Windows 10 Pro (build 19045) on ${dev}p2 (booted uefi when captured)$" "$T/fix.out" &&
	pass "fixup_windows reports Windows, its partition and its boot mode ($((SECONDS - start)) s)" ||
	fail "fixup_windows" "rc $rc: $(cat "$T/fix.out")"
hives_out || fail "reading the hives back" "ntfs-3g or mtools"
S=$T/out/SYSTEM
v() { hivexget "$S" "$1" "$2" 2>&1; }
ok=1
for n in 1 2; do
	[ "$(v "\\ControlSet00$n\\Services\\stornvme" Start)" = 0 ] && [ "$(v "\\ControlSet00$n\\Services\\iaStorV" Start)" = 0 ] &&
		[ "$(v "\\ControlSet00$n\\Services\\storahci" Start)" = 0 ] || ok=0
done
[ $ok = 1 ] && pass "the storage drivers start at boot in both ControlSets, not only Select\\Current" ||
	fail "drivers at boot start" "$(hivexregedit --export "$S" '\' 2>&1 | grep -A2 -i 'stornvme]\|iaStorV]')"
ok=1
for n in 1 2; do
	hivexget "$S" "\\ControlSet00$n\\Services\\stornvme\\StartOverride" >/dev/null 2>&1 && ok=0
done
[ $ok = 1 ] && pass "StartOverride removed in both ControlSets" || fail "StartOverride removed"
ok=1
for n in 1 2; do
	[ "$(v "\\ControlSet00$n\\Services\\Tcpip" Start)" = 1 ] && [ "$(v "\\ControlSet00$n\\Services\\stornvme" Type)" = 1 ] &&
		[ "$(v "\\ControlSet00$n\\Control\\CrashControl" CrashDumpEnabled)" = 7 ] &&
		[ "$(v "\\ControlSet00$n\\Control\\Class\\$cls" Class)" = DiskDrive ] &&
		hivexget "$S" "\\ControlSet00$n\\Services\\stornvme" | grep -qF '"ImagePath"=str(2):"System32\\drivers\\stornvme.sys"' || ok=0
done
[ "$(v '\Select' Current)" = 2 ] || ok=0
[ $ok = 1 ] && pass "sibling values and services untouched" || fail "siblings untouched" "$(hivexregedit --export "$S" '\' 2>&1 | head -60)"
[ "$(hivexget "$S" "\\ControlSet001\\Control\\Class\\$cls" | grep Filters)" = \
	"$(printf '"UpperFilters"=hex(7):%s\n"LowerFilters"=hex(7):%s' "$(msz EhStorClass)" "$(msz partmgr)")" ] &&
	[ "$(hivexget "$S" "\\ControlSet002\\Control\\Class\\$cls" | grep Filters)" = \
		"$(printf '"UpperFilters"=hex(7):%s' "$(msz EhStorClass)")" ] &&
	pass "disk filters whose driver is missing are dropped (a list left empty goes), the others kept" ||
	fail "disk filters" "$(hivexget "$S" "\\ControlSet001\\Control\\Class\\$cls"; hivexget "$S" "\\ControlSet002\\Control\\Class\\$cls")"
md=$(hivexget "$S" '\MountedDevices' 2>&1)
c_hex=$(guid_hex $c_guid)
[ "$(grep -c "=hex(3):$dmio,$c_hex\$" <<<"$md")" = 2 ] && grep -q '^"\\\\DosDevices\\\\E:"=hex(3):5f,00,3f,00,3f,00$' <<<"$md" &&
	pass "MountedDevices: C: and its volume name follow Windows' partition, E: untouched" ||
	fail "MountedDevices" "$md"
[ "$(v '\ControlSet001\Control\CrashControl' AutoReboot)" = 0 ] && [ "$(v '\ControlSet002\Control\CrashControl' AutoReboot)" = 0 ] &&
	pass "AutoReboot 0: a crash stays on its stop screen" || fail "AutoReboot"
B=$T/out/BCD
el() { hivexget "$B" "\\Objects\\$1\\Elements\\$2" Element 2>/dev/null | od -An -v -tx1 | tr -s ' \n' ',,' | sed 's/^,//; s/,$//'; }
want_esp=$(gpt_elem $esp_guid $disk_guid) want_c=$(gpt_elem $c_guid $disk_guid)
[ "hex:$(el '{9dea862c-5cdd-4e70-acc1-f32b344d4795}' 11000001)" = "$want_esp" ] &&
	[ "hex:$(el '{b2721d73-1db4-4c62-bf78-c548a880142d}' 11000001)" = "$want_esp" ] &&
	[ "hex:$(el "$loader" 11000001)" = "$want_c" ] && [ "hex:$(el "$loader" 21000001)" = "$want_c" ] &&
	[ "$(el '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}' 11000001)" = "$(z 16),05,00,00,00,$(z 4),48,00,00,00,$(z 60)" ] &&
	[ "$(hivexget "$B" "\\Objects\\$loader\\Elements\\12000002" Element)" = '\Windows\system32\winload.efi' ] &&
	pass "the BCD names the ESP and the Windows partition by the disk's GUIDs; other elements kept" ||
	fail "BCD elements" "$(hivexregedit --export "$B" '\' 2>&1 | grep -A1 '1000001]')"
cmp -s "$T/out/BOOTX64.EFI" "$T/bootmgfw.efi" && pass "the fallback loader \\EFI\\BOOT\\BOOTX64.EFI copied from bootmgfw.efi" ||
	fail "BOOTX64.EFI" "$(mdir -i "${dev}p1" ::/EFI 2>&1)"
r=$T/out/muletto-fixup.txt
[ -f "$r" ] && [ "$(grep -c $'\r$' "$r")" = "$(wc -l <"$r")" ] && grep -q '^muletto fixup: windows: Windows 10 Pro' "$r" &&
	grep -q 'changed        ControlSet001\\Services\\stornvme\\Start: 3 -> 0 (boot start)' "$r" &&
	pass "C:\\muletto-fixup.txt holds the report, CRLF line ends" || fail "C:\\muletto-fixup.txt" "$(cat "$r" 2>&1)"
fsck_out=$(ntfsfix -n "${dev}p2" 2>&1) && pass "the NTFS volume is consistent afterwards (ntfsfix -n)" ||
	fail "NTFS consistent" "$fsck_out"

# ---- again: all already right ----
"$FW" "$dev" >"$T/again.out" 2>&1
rc=$?
[ $rc = 0 ] && ! grep -v 'muletto-fixup.txt' "$T/again.out" | grep -q '^  changed' &&
	grep -q '^  already right  ESP BCD {9dea862c-5cdd-4e70-acc1-f32b344d4795} device: partition '$esp_guid "$T/again.out" &&
	pass "a second run finds everything already right" || fail "second run" "rc $rc: $(cat "$T/again.out")"

# ---- refused: hibernated or Fast Startup (hiberfil.sys starting with "hibr") ----
ntfs_in "${dev}p2" && head -c 65536 /dev/zero | { printf 'hibr'; cat; } | head -c 65536 >"$T/m/hiberfil.sys" &&
	ntfs_out "${dev}p2" || fail "hibernated fixture"
before=$(sha)
"$FW" "$dev" >"$T/hib.out" 2>&1
rc=$?
[ $rc = 3 ] && [ "$before" = "$(sha)" ] &&
	grep -q "^refused: nothing was changed" "$T/hib.out" &&
	grep -q "failed         volume: Windows was hibernated or shut down with Fast Startup.*shutdown /s /f /t 0" "$T/hib.out" &&
	pass "a hibernated or Fast-Startup volume is refused, saying how to shut Windows down, nothing changed" ||
	fail "hibernated volume refused" "rc $rc: $(cat "$T/hib.out")"
"$MULETTO" fixup "$dev" --firmware uefi >"$T/mhib.out" 2>&1
rc=$?
[ $rc = 1 ] && [ "$before" = "$(sha)" ] &&
	grep -q "^muletto: .*Windows 10 Pro (build 19045) on ${dev}p2 was refused: Windows was hibernated or shut down with Fast Startup" "$T/mhib.out" &&
	pass "muletto fixup refuses the hibernated Windows too, exit status 1, nothing changed" ||
	fail "muletto fixup on a hibernated Windows" "rc $rc: $(cat "$T/mhib.out")"
ntfs-3g -o remove_hiberfile "${dev}p2" "$T/m" && rm -f "$T/m/hiberfil.sys" && ntfs_out "${dev}p2"

# ---- refused: BitLocker ("-FVE-FS-" where NTFS has "NTFS    ") ----
off=$((2048 * 512 + 32 * 1048576))
dd if="$dev" of="$T/oem" bs=1 skip=$((off + 3)) count=8 status=none
printf -- '-FVE-FS-' | dd of="$dev" bs=1 seek=$((off + 3)) conv=notrunc status=none
before=$(sha)
"$FW" "$dev" >"$T/bl.out" 2>&1
rc=$?
[ $rc = 3 ] && [ "$before" = "$(sha)" ] && grep -q "^muletto fixup: windows: Windows (BitLocker-encrypted) on ${dev}p2" "$T/bl.out" &&
	grep -q "failed         volume: the volume is encrypted with BitLocker, which muletto cannot open" "$T/bl.out" &&
	pass "a BitLocker volume is refused, nothing changed" || fail "BitLocker refused" "rc $rc: $(cat "$T/bl.out")"
dd if="$T/oem" of="$dev" bs=1 seek=$((off + 3)) conv=notrunc status=none

# ---- no Windows: left alone ----
truncate -s 48M "$T/plain.img"
sgdisk -n 1:2048:0 -t 1:0700 "$T/plain.img" >/dev/null
plain=$(loop_attach "$T/plain.img")
mkntfs -Q -q "${plain}p1" && ntfs-3g "${plain}p1" "$T/m" && mkdir -p "$T/m/Windows/System32" && ntfs_out "${plain}p1"
before=$(sha256sum <"$plain")
"$FW" "$plain" >"$T/plain.out" 2>&1
rc=$?
[ $rc = 2 ] && [ ! -s "$T/plain.out" ] && [ "$before" = "$(sha256sum <"$plain")" ] &&
	pass "an NTFS volume without a SYSTEM hive is no Windows: left alone" ||
	fail "no Windows" "rc $rc: $(cat "$T/plain.out")"

# ---- BIOS and MBR: the BCD in C:\Boot names a partition moved and an old signature ----
truncate -s 64M "$T/mbr.img"
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, type=7, bootable\n' | sfdisk -q "$T/mbr.img" || fail "MBR fixture"
mbr=$(loop_attach "$T/mbr.img")
bcd_reg "$(mbr_elem 32256 deadbeef)" "$(mbr_elem 32256 deadbeef)" >"$T/bcd-mbr.reg"
hive "$T/BCD-MBR" "$T/bcd-mbr.reg"
mkntfs -Q -q "${mbr}p1" && ntfs-3g "${mbr}p1" "$T/m" && mkdir -p "$T/m/Windows/System32/config" "$T/m/Boot" &&
	cp "$MULETTO_TOP/tests/fixtures/minimal-hive" "$T/m/Boot/BCD.orig" && cp "$T/BCD-MBR" "$T/m/Boot/BCD" &&
	cp "$T/SYSTEM" "$T/m/Windows/System32/config/" && ntfs_out "${mbr}p1" || fail "MBR fixture volume"
"$FW" "$mbr" --bios >"$T/mbr.out" 2>&1
rc=$?
ntfs-3g -o ro "${mbr}p1" "$T/m" && cp "$T/m/Boot/BCD" "$T/out/BCD-MBR" && ntfs_out "${mbr}p1"
B=$T/out/BCD-MBR
want=$(mbr_elem 1048576 1234abcd)
[ $rc = 0 ] && grep -q "^muletto fixup: windows: Windows on ${mbr}p1 (booted bios when captured)$" "$T/mbr.out" &&
	[ "hex:$(el '{9dea862c-5cdd-4e70-acc1-f32b344d4795}' 11000001)" = "$want" ] &&
	[ "hex:$(el "$loader" 21000001)" = "$want" ] &&
	grep -q "changed        C: BCD $loader osdevice: the partition at byte 32256 of MBR disk deadbeef -> the partition at byte 1048576 of MBR disk 1234abcd (${mbr}p1)" "$T/mbr.out" &&
	grep -qF "changed        MountedDevices\DosDevices\C:: partition $old_c, on no disk here -> byte 1048576 of MBR disk 1234abcd (${mbr}p1), so Windows keeps its letter" "$T/mbr.out" &&
	pass "BIOS: the BCD in C:\\Boot and MountedDevices name the partition at its new offset on the disk's signature" ||
	fail "BIOS BCD" "rc $rc: $(cat "$T/mbr.out")"

# ---- BIOS with a System Reserved partition (active, NTFS) holding the BCD ----
truncate -s 96M "$T/sr.img"
printf 'label: dos\nlabel-id: 0x0badcafe\nstart=2048, size=32768, type=7, bootable\nstart=34816, type=7\n' |
	sfdisk -q "$T/sr.img" || fail "System Reserved fixture"
sr=$(loop_attach "$T/sr.img")
bcd_reg "$(mbr_elem 32256 deadbeef)" "$(mbr_elem 104890368 deadbeef)" >"$T/bcd-sr.reg"
hive "$T/BCD-SR" "$T/bcd-sr.reg"
mkntfs -Q -q -L "System Reserved" "${sr}p1" && ntfs-3g "${sr}p1" "$T/m" && mkdir -p "$T/m/Boot" &&
	cp "$T/BCD-SR" "$T/m/Boot/BCD" && ntfs_out "${sr}p1" &&
	mkntfs -Q -q "${sr}p2" && ntfs-3g "${sr}p2" "$T/m" && mkdir -p "$T/m/Windows/System32/config" &&
	cp "$T/SYSTEM" "$T/m/Windows/System32/config/" && ntfs_out "${sr}p2" || fail "System Reserved fixture volumes"
"$FW" "$sr" --bios >"$T/sr.out" 2>&1
rc=$?
ntfs-3g -o ro "${sr}p1" "$T/m" && cp "$T/m/Boot/BCD" "$T/out/BCD-SR" && ntfs_out "${sr}p1"
B=$T/out/BCD-SR
[ $rc = 0 ] && grep -q "^muletto fixup: windows: Windows on ${sr}p2 (booted bios when captured)$" "$T/sr.out" &&
	[ "hex:$(el '{9dea862c-5cdd-4e70-acc1-f32b344d4795}' 11000001)" = "$(mbr_elem 1048576 0badcafe)" ] &&
	[ "hex:$(el '{b2721d73-1db4-4c62-bf78-c548a880142d}' 11000001)" = "$(mbr_elem 1048576 0badcafe)" ] &&
	[ "hex:$(el "$loader" 21000001)" = "$(mbr_elem 17825792 0badcafe)" ] &&
	grep -q "changed        System Reserved (${sr}p1) BCD $loader osdevice: .* -> the partition at byte 17825792 of MBR disk 0badcafe (${sr}p2)" "$T/sr.out" &&
	pass "BIOS: the BCD on the System Reserved partition names it for the boot manager and Windows' partition for Windows" ||
	fail "System Reserved BCD" "rc $rc: $(cat "$T/sr.out")"
