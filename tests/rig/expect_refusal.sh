#!/bin/sh
# expect_refusal.sh WANT_STATUS WANT_TEXT COMMAND...: passes when COMMAND
# exits with WANT_STATUS (not a signal) and its stderr contains WANT_TEXT.
want_status=$1 want_text=$2
shift 2
err=$("$@" 2>&1 >/dev/null)
status=$?
printf '%s\n' "$err"
if [ "$status" != "$want_status" ]; then
	echo "FAIL: exit status $status, want $want_status"
	exit 1
fi
case $err in
*"$want_text"*) echo "ok: refused with status $status and the expected message" ;;
*) echo "FAIL: stderr lacks: $want_text"; exit 1 ;;
esac
