# Host side of the console_idle check: the log file has every line; the
# scrollback the reader got ends with the last line and holds an unbroken
# run of lines before it; the daemon dropped the oldest output (the
# scrollback is 16 KiB, the lines ~100 KiB) and said so once, with the
# count when the reader had caught up.
lines_in() { # FILE: the line numbers of "rig-idle line N of 3000", in order
	tr -d '\r' <"$1" | sed -n 's/.*rig-idle line \([0-9]*\) of 3000$/\1/p'
}
unbroken() { # FILE FIRST: its whole lines run from FIRST (- any) to 3000
	python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1], "rb").read().decode("ascii", "replace")
nums = [int(n) for n in re.findall(r"rig-idle line (\d+) of 3000\r?\n", text)]
first = (nums[0] if nums else 1) if sys.argv[2] == "-" else int(sys.argv[2])
sys.exit(0 if nums == list(range(first, 3001)) else 1)
PY
}
rig_expect "log file: all 3000 kernel lines, in order" \
	unbroken "$RIG_WORK/hvc0.log" 1
rig_expect "reader attached afterwards: the last lines, unbroken, up to line 3000" \
	unbroken "$RIG_WORK/scrollback.txt" -
n=$(lines_in "$RIG_WORK/scrollback.txt" | wc -l)
size=$(stat -c %s "$RIG_WORK/scrollback.txt")
echo "console_idle: the reader got $size bytes, $n whole kernel lines"
rig_expect "the scrollback held no more than its 16 KiB before the last line" \
	test "$size" -le 20480
rig_expect "daemon: the full scrollback was logged once" \
	test "$(grep -c 'scrollback (16384 bytes) is full' "$RIG_DAEMON_LOG")" = 1
rig_expect "daemon: the dropped count was logged when the reader caught up" \
	grep -q 'bytes of output were dropped while nobody read them' "$RIG_DAEMON_LOG"
