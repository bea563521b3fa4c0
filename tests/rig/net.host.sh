# Host side of the net check: the peer answered the pings (26 in two rounds
# at least), holds each upload exactly as the guest says it sent it, served
# both downloads to the end, and saw no corrupted packet. The guest judged
# the downloads' contents itself.
counts=$(cat "$RIG_WORK/net.counts" 2>/dev/null)
echo "net peer: $counts"
cat "$RIG_WORK/net.transfers" 2>/dev/null | sed 's/^/net peer: /'
count() { # NAME: a counter of the peer's, empty if missing
	sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$counts"
}
echo_n=$(count echo)
rig_expect "net peer answered ${echo_n:-0} echo requests (>= 26)" test "${echo_n:-0}" -ge 26
rig_expect "net peer: no packet with a bad checksum" test "$(count bad_csum)" = 0
rig_expect "net peer: no malformed frame" test "$(count bad_frame)" = 0
rig_expect "net peer: the guest left UDP checksums to the device ($(count csum_completed) completed)" \
	test "$(count csum_completed)" -gt 0
rig_expect "net peer: IP fragments from the guest reassembled ($(count fragments))" \
	test "$(count fragments)" -gt 0
rig_expect "net peer: 2 downloads served to the end" test "$(count gets_done)" = 2
puts=0
while read -r _ round bytes sha; do
	puts=$((puts + 1))
	file=$RIG_WORK/net-put.$round
	rig_expect "net peer: upload $round holds the guest's $bytes bytes" \
		test -f "$file" -a "$(stat -c %s "$file" 2>/dev/null)" = "$bytes" \
		-a "$(sha256sum <"$file" | cut -d' ' -f1)" = "$sha"
done < <(tr -d '\r' <"$RIG_CONSOLE_LOG" | grep '^RIG-NET-PUT ' || true)
rig_expect "net peer: 2 uploads ($puts logged by the guest)" test "$puts" = 2
