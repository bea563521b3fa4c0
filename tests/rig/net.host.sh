# Host side of the net check: the peer answered the pings (26 in two rounds
# at least) and saw no corrupted request.
counts=$(cat "$RIG_WORK/net.counts" 2>/dev/null)
echo "net peer: $counts"
echo_n=$(sed -n 's/.*echo=\([0-9]*\).*/\1/p' <<<"$counts")
bad=$(sed -n 's/.*bad_csum=\([0-9]*\).*/\1/p' <<<"$counts")
rig_expect "net peer answered ${echo_n:-0} echo requests (>= 26)" test "${echo_n:-0}" -ge 26
rig_expect "net peer: no request with a bad checksum" test "${bad:-1}" = 0
