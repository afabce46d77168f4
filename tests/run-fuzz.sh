#!/bin/sh
# Run every libFuzzer target for a bounded time with the shipped examples
# and fixtures as seeds. Usage: run-fuzz.sh BUILD_DIR SECONDS
# Exit 0 when no target crashed; a crash leaves its input in $work.
set -u
build=$(cd "$1" && pwd)
secs=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/mmr-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for fz in "$build"/tests/fuzz/fuzz-*; do
	[ -x "$fz" ] && [ -f "$fz" ] || continue
	name=$(basename "$fz")
	mkdir -p "$work/$name/corpus"
	cp "$src"/schemas/examples/* "$work/$name/corpus/" 2>/dev/null
	cp "$src"/tests/fixtures/*.json* "$work/$name/corpus/" 2>/dev/null
	if [ -d "$src/tests/fuzz/seeds-$name" ]; then
		cp "$src/tests/fuzz/seeds-$name"/* "$work/$name/corpus/"
	fi
	for f in "$work/$name/corpus"/*.jsonl; do
		[ -f "$f" ] && zstd -q -f "$f" -o "$f.zst" 2>/dev/null
	done
	echo "fuzz: $name for ${secs}s"
	if ! (cd "$work/$name" && "$fz" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 corpus >log 2>&1); then
		echo "fuzz: $name FAILED"; tail -40 "$work/$name/log"
		mkdir -p "$src/build-fuzz-crashes" && cp "$work/$name"/crash-* "$work/$name"/leak-* \
			"$work/$name"/timeout-* "$src/build-fuzz-crashes/" 2>/dev/null
		status=1
	else
		grep -E "stat::number_of_executed_units|Done" "$work/$name/log" | tr '\n' ' '; echo
	fi
done
exit $status
