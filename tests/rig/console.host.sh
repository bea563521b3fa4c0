# Host side of the console check: the peer received exactly what the guest
# sent, in order (both rounds).
sent=$(tr -d '\r' <"$RIG_CONSOLE_LOG" | sed -n 's/^RIG-CONSOLE-SENT [0-9]* //p')
rounds=$(echo "$sent" | grep -c . || true)
concat_sha() { # the checksum of round 1's bytes then round 2's, from the console
	python3 - "$RIG_WORK/console.rx" <<'PY'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
print(hashlib.sha256(data[:262144]).hexdigest())
print(hashlib.sha256(data[262144:]).hexdigest())
print(len(data))
PY
}
got=$(concat_sha 2>/dev/null)
rig_expect "console peer: both rounds arrived, bytes as sent (${rounds} round(s) logged)" \
	test "$rounds" = 2 -a "$(echo "$got" | head -n2)" = "$sent"
rig_expect "console peer: 327680 bytes in all, nothing extra" \
	test "$(echo "$got" | tail -n1)" = 327680
