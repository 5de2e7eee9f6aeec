# Network file servers for the SMB and NFS tests, on 127.0.0.1 high ports
# (the guests reach them through QEMU's guestfwd). Source after lib.sh.
#   smbd_start DIR USER PASSWORD -> port; share "backups" = DIR/share, USER's
#   ganesha_start DIR            -> "NFSPORT MOUNTPORT"; export /backups = DIR/export
#                                   (NFS 4 and 3), /v3only = DIR/v3 (NFS 3 only)
#   smbd_stop/smbd_again DIR, ganesha_stop/ganesha_again DIR: away and back, same ports
# (daemon_start, daemon_stop and wait_port are lib.sh's)

smbd_start() {
	local dir=$1 user=$2 pw=$3 port
	port=$(free_port)
	mkdir -p "$dir/share" "$dir/lock" "$dir/state" "$dir/cache" "$dir/private" "$dir/ncalrpc"
	id "$user" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$user"
	at_exit "userdel $user"
	chown "$user" "$dir/share"
	cat >"$dir/smb.conf" <<SMB
[global]
	smb ports = $port
	interfaces = 127.0.0.1
	bind interfaces only = yes
	server role = standalone server
	server min protocol = SMB2_10
	pid directory = $dir
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	private dir = $dir/private
	ncalrpc dir = $dir/ncalrpc
	passdb backend = tdbsam:$dir/private/passdb.tdb
	log file = $dir/log.%m
	load printers = no
	disable spoolss = yes
	map to guest = never
[backups]
	path = $dir/share
	read only = no
	valid users = $user
SMB
	printf '%s\n%s\n' "$pw" "$pw" | smbpasswd -c "$dir/smb.conf" -s -a "$user" >/dev/null
	smbd_again "$dir"
	at_exit "smbd_stop $dir"
	echo "$port"
}

smbd_again() {
	# in a session of its own: smbd signals its whole process group when it stops
	daemon_start "$1/smbd" "$(sed -n 's/^\tsmb ports = //p' "$1/smb.conf")" \
		setsid /usr/sbin/smbd --foreground --no-process-group --configfile="$1/smb.conf"
}

smbd_stop() {
	daemon_stop "$1/smbd" 0.5
}

ganesha_start() {
	local dir=$1 nport mport
	# ganesha registers with the portmapper and will not serve without one
	if ! pgrep -x rpcbind >/dev/null; then
		rm -f /run/rpcbind.sock /run/rpcbind.lock
		rpcbind -w
		at_exit "pkill -x rpcbind"
	fi
	nport=$(free_port)
	mport=$(free_port)
	mkdir -p "$dir/export" "$dir/v3"
	cat >"$dir/ganesha.conf" <<GANESHA
NFS_CORE_PARAM {
	NFS_Port = $nport;
	MNT_Port = $mport;
	Bind_addr = 127.0.0.1;
	Protocols = 3, 4;
	Enable_NLM = false;
	Enable_RQUOTA = false;
	Enable_UDP = false;
}
NFSV4 { Graceless = true; }
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
	Export_Id = 1; Path = $dir/export; Pseudo = /backups;
	Access_Type = RW; Squash = No_Root_Squash; SecType = sys; Protocols = 3, 4;
	Transports = TCP; FSAL { Name = VFS; }
}
EXPORT {
	Export_Id = 2; Path = $dir/v3; Pseudo = /v3only;
	Access_Type = RO; Squash = No_Root_Squash; SecType = sys; Protocols = 3;
	Transports = TCP; FSAL { Name = VFS; }
}
LOG { Default_Log_Level = WARN; }
GANESHA
	ganesha_again "$dir"
	at_exit "ganesha_stop $dir"
	echo "$nport $mport"
}

ganesha_again() {
	daemon_start "$1/ganesha" "$(sed -n 's/^\tNFS_Port = \(.*\);/\1/p' "$1/ganesha.conf")" \
		ganesha.nfsd -F -f "$1/ganesha.conf" -L "$1/ganesha.log" -p "$1/ganesha.pid"
}

ganesha_stop() {
	daemon_stop "$1/ganesha" 1
}
