# Host peer of the net check: tests/rig/net_peer.py is the far end of the
# net device's socket backend (ARP, ping and a TFTP server for 10.0.2.2).
exec python3 "$(dirname "${BASH_SOURCE[0]}")/net_peer.py" \
	"$RIG_WORK/net-host.sock" "$RIG_WORK/net-guest.sock" "$RIG_WORK"
