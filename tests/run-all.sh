#!/bin/bash
# The whole test suite, as CI runs it (README: "run all tests").
#  1. release build (-Werror in CI): unit, integration (real tracefs), e2e suites
#  2. AddressSanitizer + UndefinedBehaviorSanitizer build: unit suite
#  3. valgrind over the unit suite
#  4. libFuzzer targets, 60 s each (MMR_FUZZ_SECONDS to change)
# Prints "N passed, N failed, N skipped" last; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
src=$(pwd)
fuzz_secs=${MMR_FUZZ_SECONDS:-60}
passed=0 failed=0 skipped=0
failures=""

werror=false
[ "${CI:-}" = true ] && werror=true

# Integration tests read the real tracefs: mount it when we are root.
if [ "$(id -u)" = 0 ] && [ ! -e /sys/kernel/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi

# Add the counts from a `meson test` log to the totals.
count_meson() {
	local log=$1 stage=$2 ok fail skip exfail xpass tmo
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	exfail=$(sed -n 's/^Expected Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	xpass=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	tmo=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ -z "$ok" ]; then
		failed=$((failed + 1)); failures="$failures $stage(no-summary)"
		return
	fi
	passed=$((passed + ok + ${exfail:-0}))
	failed=$((failed + ${fail:-0} + ${xpass:-0} + ${tmo:-0}))
	skipped=$((skipped + ${skip:-0}))
	if [ $((${fail:-0} + ${xpass:-0} + ${tmo:-0})) -gt 0 ]; then
		failures="$failures $stage"
		grep -E "^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)" "$log" | sed 's/^/    /'
	fi
}

stage() { echo; echo "=== $* ==="; }

stage "build (werror=$werror)"
if [ ! -d build ]; then
	meson setup build -Dwerror=$werror >/tmp/mmr-setup.log 2>&1 || { cat /tmp/mmr-setup.log; echo "0 passed, 1 failed"; exit 1; }
else
	meson configure build -Dwerror=$werror >/dev/null
fi
if ! ninja -C build >/tmp/mmr-build.log 2>&1; then
	tail -40 /tmp/mmr-build.log
	echo "0 passed, 1 failed"
	exit 1
fi

stage "unit, integration and end-to-end tests"
meson test -C build --suite unit --suite integration --suite e2e --print-errorlogs \
	--num-processes 2 2>&1 | tee /tmp/mmr-test.log | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped):"
count_meson /tmp/mmr-test.log tests

stage "AddressSanitizer + UndefinedBehaviorSanitizer: unit tests"
if [ ! -d build-asan ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
		>/tmp/mmr-setup-asan.log 2>&1 || cat /tmp/mmr-setup-asan.log
fi
if ninja -C build-asan >/tmp/mmr-build-asan.log 2>&1; then
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	meson test -C build-asan --suite unit --print-errorlogs 2>&1 | tee /tmp/mmr-test-asan.log |
		grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped):"
	count_meson /tmp/mmr-test-asan.log asan
else
	tail -30 /tmp/mmr-build-asan.log; failed=$((failed + 1)); failures="$failures asan-build"
fi

stage "valgrind: unit tests"
if command -v valgrind >/dev/null; then
	meson test -C build --suite unit --print-errorlogs --timeout-multiplier 10 \
		--wrap='valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet' \
		2>&1 | tee /tmp/mmr-test-vg.log | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped):"
	count_meson /tmp/mmr-test-vg.log valgrind
fi

stage "libFuzzer targets, ${fuzz_secs}s each"
if command -v clang >/dev/null; then
	if [ ! -d build-fuzz ]; then
		CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=disabled -Db_lundef=false \
			-Db_sanitize=address,undefined >/tmp/mmr-setup-fuzz.log 2>&1 || cat /tmp/mmr-setup-fuzz.log
	fi
	if ninja -C build-fuzz >/tmp/mmr-build-fuzz.log 2>&1; then
		if tests/run-fuzz.sh build-fuzz "$fuzz_secs"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1)); failures="$failures fuzz"
		fi
	else
		tail -30 /tmp/mmr-build-fuzz.log; failed=$((failed + 1)); failures="$failures fuzz-build"
	fi
else
	echo "clang missing: fuzzing skipped"; skipped=$((skipped + 1))
fi

echo
[ -n "$failures" ] && echo "failed stages:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
