# After the hotplug run: the host side did its part, and the daemon log
# shows the console removed and added with no device needing a reset.
rig_expect "host removed and re-added the console" grep -q '^hotplug: removed and re-added' "$RIG_WORK/hotplug.log"
rig_expect "daemon: console removed" grep -q 'console@0xa003800: removed' "$RIG_DAEMON_LOG"
rig_expect "daemon: console added" grep -q 'added 1 device(s) in 1 zone(s)' "$RIG_DAEMON_LOG"
rig_expect "daemon: no device needed a reset" sh -c "! grep -q 'needs reset' '$RIG_DAEMON_LOG'"
grep '^hotplug:' "$RIG_WORK/hotplug.log" || true
