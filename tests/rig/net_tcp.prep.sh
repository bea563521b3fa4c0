# The file the net_tcp check's guest downloads over TCP (net_tcp_peer.py
# serves it): 4 MiB of random data; the guest gets its checksum in the
# initramfs.
head -c $((4 << 20)) /dev/urandom >"$RIG_WORK/net_tcp-get.bin"
sha256sum <"$RIG_WORK/net_tcp-get.bin" | cut -d' ' -f1 >"$RIG_ROOT/rig/net_tcp-get.sha256"
