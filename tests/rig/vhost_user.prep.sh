# Backends of the vhost_user check (tests/rig/vhost_user.json), started
# before the daemon and stopped by vhost_user.host.sh:
# - nbdkit serves disk.img (64 MiB, blank) over NBD on a UNIX socket;
#   qemu-storage-daemon is its NBD client and the vhost-user-blk backend;
# - virtiofsd shares $RIG_WORK/share, which holds host.txt.
# Each backend's listening socket is bound before this returns.
vu_dir=$(dirname "${BASH_SOURCE[0]}")
truncate -s 64M "$RIG_WORK/disk.img"
mkdir -p "$RIG_WORK/share"
echo "written on the host" >"$RIG_WORK/share/host.txt"
nbdkit -U "$RIG_WORK/nbd.sock" -P "$RIG_WORK/nbdkit.pid" file "$RIG_WORK/disk.img"
python3 "$vu_dir/vu_spawn.py" "$RIG_WORK/blk.sock" "$RIG_WORK/qsd.pid" \
	"$RIG_WORK/qsd.log" qemu-storage-daemon \
	--blockdev "driver=nbd,node-name=disk,server.type=unix,server.path=$RIG_WORK/nbd.sock" \
	--export "type=vhost-user-blk,id=exp,node-name=disk,addr.type=fd,addr.str={fd},writable=on"
python3 "$vu_dir/vu_spawn.py" "$RIG_WORK/fs.sock" "$RIG_WORK/virtiofsd.pid" \
	"$RIG_WORK/virtiofsd.log" /usr/lib/qemu/virtiofsd "--fd={fd}" \
	-o "source=$RIG_WORK/share" -o cache=none -o sandbox=chroot
