# The file the net check's guest fetches by TFTP (net_peer.py serves it as
# get.bin): 1 MiB of random data; the guest gets its checksum in the
# initramfs.
head -c $((1 << 20)) /dev/urandom >"$RIG_WORK/net-get.bin"
sha256sum <"$RIG_WORK/net-get.bin" | cut -d' ' -f1 >"$RIG_ROOT/rig/net-get.sha256"
