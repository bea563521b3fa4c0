#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in build-fuzz/ (Debian's clang,
# address + undefined sanitizers, coverage everywhere) and runs each one for
# SECONDS (default 60), starting from the committed seed corpus.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (./dev fuzz runs this)
#
# New inputs go to build-fuzz/fuzz-corpus/<target>/ (kept between runs,
# never committed by this script). A crash is written to
# build-fuzz/crashes/<target>/ and named here with the command that
# replays it; the script then exits 1. To keep a fixed crash as a
# regression case: copy it to tests/fuzz/regression/<target>/ (replayed by
# `./dev test` as the meson test fuzz-<target>).
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS=-jobs=2); FUZZ_BUILD
# names another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
all=(mmio vq blk net console rng input virtio_json zone)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

dir=${FUZZ_BUILD:-build-fuzz}
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dwerror=false >/dev/null
fi
# The device targets load the plugin .so of the same build ("input" by
# its path: the SDK example's module has the same name).
ninja_targets=(testdev blk net console rng plugins/input/input)
for t in "${targets[@]}"; do
	ninja_targets+=("fuzz_$t")
done
# build.ninja first: meson regenerates after a meson.build change, and
# only then knows targets added since the last run.
if ! { ninja -C "$dir" build.ninja && meson compile -C "$dir" "${ninja_targets[@]}"; } \
	>"$dir/fuzz-build.log" 2>&1; then
	tail -20 "$dir/fuzz-build.log"
	echo "fuzz build failed (log: $dir/fuzz-build.log)" >&2
	exit 1
fi

status=0
printf '%-12s %12s %8s %8s %s\n' target execs cov ft result
for t in "${targets[@]}"; do
	work="$dir/fuzz-corpus/$t"
	crashes="$dir/crashes/$t"
	log="$dir/fuzz-$t.log"
	mkdir -p "$work" "$crashes"
	rc=0
	dict=()
	[ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
	# close_fd_mask=2: the target's own stderr (the daemon's log of every
	# malformed request) is closed; libFuzzer's report is not.
	# use_tls=0: LeakSanitizer of clang 14 misreads the dynamic TLS of a
	# dlopen'd module on Debian 12's glibc 2.36 (the tracer dies on a
	# garbage DTLS range, seen with the blk plugin's one __thread flag);
	# no pointer lives only in TLS here, so nothing is hidden by it.
	LSAN_OPTIONS=use_tls=0 ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" \
		-close_fd_mask=2 -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/" "${dict[@]}" ${FUZZ_FLAGS:-} \
		"$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	result=ok
	if [ "$rc" -ne 0 ]; then
		status=1
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		result="CRASH (exit $rc): ${artifact:-see $log}"
	fi
	printf '%-12s %12s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR: |SUMMARY: |runtime error|deadly signal|Timeout|out-of-memory' "$log" | head -5 | sed 's/^/    /' || true
		echo "    replay: $dir/tests/fuzz/fuzz_$t ${artifact:-CRASH_FILE}  (log: $log)"
	fi
done
exit $status
