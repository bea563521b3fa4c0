# Host peer of the net_tcp check: the daemon's tap (hvdtcp0, created by the
# daemon in the rig's own network namespace, see "# rig-netns") gets
# 10.0.3.1/24, and tests/rig/net_tcp_peer.py takes the guest's uploads and
# serves the download over TCP.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/net_tcp_peer.py" hvdtcp0 10.0.3.1/24 "$RIG_WORK"
