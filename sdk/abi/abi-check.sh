#!/usr/bin/env bash
# The ABI checks of the SDK (run by `./dev abi` and CI; `./dev abi-update`
# regenerates the baselines). Rules: sdk/abi/README.md.
#
#   abi-check.sh check    compare the build with the committed baselines
#   abi-check.sh update   write the baselines for the current versions,
#                         after checking that a minor bump only appended
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-check}
abi=sdk/abi
build=build-abi
header=sdk/include/hvd/plugin.h
# Stable dumps: no paths of this machine, type ids that do not depend on
# the order in which the compiler emitted them.
dump_opts=(--no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed
	--type-id-style hash)

fail() {
	echo "abi: $*" >&2
	exit 1
}

command -v abidw >/dev/null || fail "abidw not found (Debian package abigail-tools)"
[ -f "$build/build.ninja" ] ||
	meson setup "$build" --buildtype=debug -Dtests=false >/dev/null
meson compile -C "$build" hvd-abi-probe hvd-mock >/dev/null

major=$(sed -n 's/^#define HVD_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
minor=$(sed -n 's/^#define HVD_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
[ -n "$major" ] && [ -n "$minor" ] || fail "cannot read HVD_ABI_MAJOR/MINOR from $header"
probe=$(find "$build/sdk/abi" -name 'libhvd-abi-probe.so' | head -n1)
mock=$(find "$build/sdk" -maxdepth 1 -name 'libhvd-mock.so.*.*' | head -n1)
soname=$(objdump -p "$mock" | awk '$1 == "SONAME" {print $2}')

abidw "${dump_opts[@]}" --out-file "$build/hvd-plugin.abi" "$probe"
# Only what hvd/mock.h declares: the harness's internal types stay private.
abidw "${dump_opts[@]}" --headers-dir sdk/include/hvd --drop-private-types \
	--out-file "$build/$soname.abi" "$mock"

plugin_base=$abi/hvd-plugin-$major.$minor.abi
mock_base=$abi/$soname.abi

# The newest baseline of the same major with a smaller minor, if any.
previous_minor() {
	local m best=
	for f in "$abi"/hvd-plugin-"$major".*.abi; do
		[ -e "$f" ] || continue
		m=${f##*/hvd-plugin-"$major".}
		m=${m%.abi}
		if [ "$m" -lt "$minor" ] && { [ -z "$best" ] || [ "$m" -gt "$best" ]; }; then
			best=$m
		fi
	done
	echo "$best"
}

# Is NEW an extension of OLD (appended members only)?
extends() {
	local rc=0
	abidiff "$1" "$2" >"$build/extends.txt" || rc=$?
	[ "$rc" -eq 0 ] && return 0
	python3 "$abi/additive.py" "$1" <"$build/extends.txt"
}

same() {
	abidiff "$1" "$2" >"$build/diff.txt" 2>&1
}

prev=$(previous_minor)
case "$mode" in
check)
	[ -f "$plugin_base" ] || fail "plugin.h says ABI $major.$minor but there is no
  baseline $plugin_base. If you changed the ABI on purpose, run ./dev abi-update."
	if ! same "$plugin_base" "$build/hvd-plugin.abi"; then
		cat "$build/diff.txt" >&2
		fail "the plugin ABI differs from $plugin_base (report above),
  but HVD_ABI_MAJOR/MINOR still say $major.$minor. Appending a member to a
  table: bump HVD_ABI_MINOR; any other change: bump HVD_ABI_MAJOR and set
  the minor to 0. Then run ./dev abi-update and commit both."
	fi
	if [ -n "$prev" ] && ! extends "$abi/hvd-plugin-$major.$prev.abi" "$plugin_base"; then
		cat "$build/extends.txt" >&2
		fail "ABI $major.$minor is not an extension of $major.$prev: a change
  other than appending needs a new major version."
	fi
	[ -f "$mock_base" ] || fail "no baseline $mock_base for the harness library; run ./dev abi-update"
	if ! same "$mock_base" "$build/$soname.abi"; then
		cat "$build/diff.txt" >&2
		fail "the harness library's ABI differs from $mock_base (report
  above). Additions: run ./dev abi-update. Anything else also needs a new
  soversion of hvd-mock in sdk/meson.build."
	fi
	echo "abi: plugin ABI $major.$minor and $soname match their baselines"
	;;
update)
	if [ -f "$plugin_base" ] && same "$plugin_base" "$build/hvd-plugin.abi"; then
		echo "abi: $plugin_base is up to date"
	else
		if [ -n "$prev" ] && ! extends "$abi/hvd-plugin-$major.$prev.abi" "$build/hvd-plugin.abi"; then
			cat "$build/extends.txt" >&2
			fail "this is not an extension of ABI $major.$prev: bump HVD_ABI_MAJOR
  (and set HVD_ABI_MINOR to 0) instead of the minor."
		fi
		# Another change inside an already written minor is only allowed
		# while it stays an extension of the previous minor (merging
		# several additions into one bump).
		if [ -f "$plugin_base" ] && [ -z "$prev" ]; then
			cat "$build/diff.txt" >&2
			fail "the ABI changed but plugin.h still says $major.$minor:
  bump HVD_ABI_MINOR (appended members) or HVD_ABI_MAJOR (anything else) first."
		fi
		cp "$build/hvd-plugin.abi" "$plugin_base"
		echo "abi: wrote $plugin_base"
	fi
	if [ -f "$mock_base" ] && same "$mock_base" "$build/$soname.abi"; then
		echo "abi: $mock_base is up to date"
	else
		if [ -f "$mock_base" ] && ! extends "$mock_base" "$build/$soname.abi"; then
			cat "$build/extends.txt" >&2
			fail "the harness library changed incompatibly: bump its
  soversion in sdk/meson.build first."
		fi
		cp "$build/$soname.abi" "$mock_base"
		echo "abi: wrote $mock_base"
	fi
	;;
*)
	fail "usage: abi-check.sh check|update"
	;;
esac
