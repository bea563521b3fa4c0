# Host side of the rng check, after the guest powered off: the daemon saw
# the device initialised twice (before and after the guest's reset).
n=$(grep -c 'rng@.*: driver ok' "$RIG_DAEMON_LOG" || true)
rig_expect "daemon: rng reached DRIVER_OK twice (saw $n)" test "$n" -ge 2
