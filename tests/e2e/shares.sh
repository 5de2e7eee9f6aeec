# SMB and NFS with the boot environment's own kernel (this host has neither
# client): Samba's smbd and nfs-ganesha on 127.0.0.1, reached by the guest
# through QEMU's guestfwd; the unattended restore mounts the share itself with
# the password from the MULETTO stick. A wrong password is refused by name and
# leaves the disk untouched; NFS falls back to version 3 for a v3-only export.
. "$(dirname "$0")/../lib.sh"
. "$MULETTO_TOP/tests/lib_disk.sh"
. "$MULETTO_TOP/tests/lib_e2e.sh"
. "$MULETTO_TOP/tests/lib_shares.sh"
need_root "SMB and NFS"
e2e_need "SMB and NFS"
BOOT=$MULETTO_TOP/build/boot
command -v smbd >/dev/null && command -v ganesha.nfsd >/dev/null ||
	{ fail "SMB and NFS" "smbd or ganesha.nfsd missing: run scripts/deps.sh e2e"; exit 1; }

SAMPLE=$T/sample.img
e2e_bootable_sample "$SAMPLE" 96
pw='Sh4re,pass;word'
smb_port=$(smbd_start "$T/smb" mulettosmb "$pw")
read -r nfs_port mnt_port <<<"$(ganesha_start "$T/nfs")"
for d in "$T/smb/share" "$T/nfs/export" "$T/nfs/v3"; do
	"$MULETTO" capture "$SAMPLE" "$d/repo" --name sample >/dev/null 2>&1 || fail "capture into $d"
done
chown -R mulettosmb "$T/smb/share"

share_boot() { # log config-lines...   (IMAGE=name, TARGET_MIB=size: other than the sample)
	local log=$1; shift
	e2e_config_disk "$T/cfg.img" "$@" "image=${IMAGE:-sample}" "target=auto" "auto=restore" \
		"after=poweroff"
	truncate -s 0 "$T/target.img"; truncate -s "${TARGET_MIB:-112}M" "$T/target.img"
	e2e_target "$T/target.img" virtio
	Q+=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:445-cmd:socat STDIO TCP:127.0.0.1:$smb_port,guestfwd=tcp:10.0.2.100:2049-cmd:socat STDIO TCP:127.0.0.1:$nfs_port,guestfwd=tcp:10.0.2.100:20048-cmd:socat STDIO TCP:127.0.0.1:$mnt_port"
	    -device virtio-net-pci,netdev=n0
	    -kernel "$BOOT/vmlinuz" -initrd "$BOOT/initrd.img" -append "console=ttyS0,115200 quiet"
	    -drive "file=$T/cfg.img,if=none,id=cfg,format=raw" -device usb-ehci,id=ehci
	    -device usb-storage,drive=cfg,bus=ehci.0)
	qemu_run shares "$log" &
	local qpid=$!
	[ -n "${DURING:-}" ] && $DURING "$log"
	wait $qpid
	Q=()
}
restored() { # name log
	if grep -qa "RESTORE OK" "$2" && cmp -s -n "$(stat -c %s "$SAMPLE")" "$SAMPLE" "$T/target.img"; then
		pass "$1 ($(grep -ao 'in [0-9.]* s ([0-9.]* [KMG]iB/s)' "$2" | tail -1))"
	else
		fail "$1" "$(grep -a 'muletto:' "$2" | tail -3)"
	fi
}

share_boot "$T/smb.log" "repo=smb://mulettosmb@10.0.2.100/backups/repo" "password=$pw"
restored "restore from an SMB share, password from the stick: identical" "$T/smb.log"
grep -qa "$pw" "$T/smb.log" && fail "the SMB password is not on the console" ||
	pass "the SMB password is not on the console"

share_boot "$T/smb-bad.log" "repo=smb://mulettosmb@10.0.2.100/backups/repo" "password=wrong"
grep -qa "RESTORE FAILED: .*the server refused the login.*password is wrong" "$T/smb-bad.log" &&
	pass "a wrong SMB password is refused by name" ||
	fail "a wrong SMB password is refused by name" "$(grep -a 'muletto:' "$T/smb-bad.log" | tail -3)"
[ "$(tr -d '\0' <"$T/target.img" | wc -c)" = 0 ] && pass "the disk is untouched after the refusal" ||
	fail "the disk is untouched after the refusal"

share_boot "$T/nfs.log" "repo=nfs://10.0.2.100/backups/repo"
restored "restore from an NFS export (version 4): identical" "$T/nfs.log"

share_boot "$T/nfs3.log" "repo=nfs://10.0.2.100$T/nfs/v3/repo" "nfs_mountport=20048"
restored "restore from an NFS export that only speaks version 3: identical" "$T/nfs3.log"

# the servers go away in the middle of a restore and come back: the kernel's
# clients wait for them (hard mounts) and the restore completes identical
head -c 200M /dev/urandom >"$T/big.img"
for d in "$T/smb/share" "$T/nfs/export"; do
	"$MULETTO" capture "$T/big.img" "$d/repo" --name big --progress none >/dev/null 2>&1 ||
		fail "capture the large image into $d"
done
chown -R mulettosmb "$T/smb/share"
outage() { # log: once data reaches the disk, take the server away for 5 s
	local i
	for i in $(seq 1500); do
		[ "$(du -k "$T/target.img" | cut -f1)" -gt 20000 ] && break
		sleep 0.1
	done
	"${SERVER}_stop" "$T/$DIR"
	sleep 5
	"${SERVER}_again" "$T/$DIR"
}
big_restored() { # name log: identical, and it took the outage to finish
	local secs
	secs=$(grep -ao 'RESTORE OK: .* in [0-9.]* s' "$2" | grep -o '[0-9.]* s$' | cut -d' ' -f1)
	if grep -qa "RESTORE OK" "$2" && cmp -s -n 209715200 "$T/big.img" "$T/target.img" &&
		[ "${secs%.*}" -ge 5 ]; then
		pass "$1 (${secs} s)"
	else
		fail "$1" "$(grep -a 'muletto:' "$2" | tail -3)"
	fi
}

IMAGE=big TARGET_MIB=200 SERVER=ganesha DIR=nfs DURING=outage \
	share_boot "$T/nfs-outage.log" "repo=nfs://10.0.2.100/backups/repo"
big_restored "NFS server away for 5 s mid-restore: the restore waits and is identical" "$T/nfs-outage.log"
IMAGE=big TARGET_MIB=200 SERVER=smbd DIR=smb DURING=outage \
	share_boot "$T/smb-outage.log" "repo=smb://mulettosmb@10.0.2.100/backups/repo" "password=$pw"
big_restored "SMB server away for 5 s mid-restore: the restore waits and is identical" "$T/smb-outage.log"
