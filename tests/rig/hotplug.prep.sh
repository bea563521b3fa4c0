# Files of the hotplug check (tests/rig/hotplug.json): a 32 MiB disk, and
# the file `hvisor virtio add` gets to bring the console back (zone 1 with
# its running RAM, the console alone).
truncate -s 32M "$RIG_WORK/disk.img"
cat >"$RIG_WORK/console-add.json" <<JSON
{"zones": [{"id": 1,
  "memory_region": [{"zone0_ipa": "0x50000000", "zonex_ipa": "0x0",
                     "size": "0x20000000"}],
  "devices": [{"type": "console", "addr": "0xa003800", "len": "0x200",
               "irq": 76, "backend": "socket",
               "path": "$RIG_WORK/console.sock"}]}]}
JSON
