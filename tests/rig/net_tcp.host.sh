# Host side of the net_tcp check: each upload the peer took holds exactly
# the guest's bytes, both downloads went to the end, and the times of both
# directions are printed with their ratio.
transfers=$RIG_WORK/net_tcp.transfers
sed 's/^/net_tcp peer: /' "$transfers" 2>/dev/null
tr -d '\r' <"$RIG_CONSOLE_LOG" | grep -E '^RIG: net_tcp: round' | sed 's/^RIG: //'
read -r _ put_bytes put_sha < <(tr -d '\r' <"$RIG_CONSOLE_LOG" | grep '^RIG-TCP-PUT ' || true)
ups=0 downs=0
while read -r dir n bytes _ sha; do
	if [ "$dir" = up ]; then
		ups=$((ups + 1))
		rig_expect "net_tcp peer: upload $n holds the guest's ${put_bytes:-?} bytes" \
			test "$bytes" = "${put_bytes:-x}" -a "$sha" = "${put_sha:-x}"
	else
		downs=$((downs + 1))
	fi
done < <(cat "$transfers" 2>/dev/null)
rig_expect "net_tcp peer: 2 uploads of 4 MiB ($ups)" test "$ups" = 2
rig_expect "net_tcp peer: 2 downloads served to the end ($downs)" test "$downs" = 2
# Both directions' times (guest clock) side by side; a report, not a
# verdict: the machine's load decides them (docs/real-guest-rig.md).
tr -d '\r' <"$RIG_CONSOLE_LOG" | awk '/^RIG: net_tcp: round/ {
		t[$5] += $11; c[$5]++ }
	END { if (c["guest"] && c["host"])
		printf "net_tcp: guest -> host %.2f s, host -> guest %.2f s (mean of %d), ratio %.2f\n",
			t["guest"] / c["guest"], t["host"] / c["host"], c["guest"],
			(t["guest"] / c["guest"]) / (t["host"] / c["host"]) }'
