#!/bin/bash
# mmreplayd against the real tracefs: rotation on SIGHUP, clean stop on
# SIGTERM, every closed file valid, kill -9 leaves no broken final file,
# upload with retries to a real HTTP server, no tracefs instance left.
. "$(dirname "$0")/../e2e/lib.sh"
MMREPLAYD=${MMREPLAYD:?}
WORKLOAD=${MMR_WORKLOAD:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -d /sys/kernel/tracing/events ] || { echo "SKIP: tracefs not mounted"; exit 77; }

activity() { "$WORKLOAD" -n 2 -s 0.5 -m 4 >/dev/null 2>&1; }

# 1. rotate with SIGHUP, stop with SIGTERM
D=$T/out1
"$MMREPLAYD" -c /dev/null --output-dir "$D" --comm '^fault-workloa' --zstd no --min-free 1M \
	2>"$T/log1" &
pid=$!
sleep 1.5
activity
kill -HUP $pid
sleep 1
activity
kill -TERM $pid
wait $pid
rc=$?
[ "$rc" = 0 ] && ok "SIGTERM: exit 0" || { not_ok "SIGTERM: exit $rc"; cat "$T/log1"; }
n=$(ls "$D"/mmreplay-*.jsonl 2>/dev/null | wc -l)
[ "$n" -ge 2 ] && ok "SIGHUP rotated ($n files)" || { not_ok "SIGHUP rotated ($n files)"; cat "$T/log1"; }
[ -z "$(ls "$D"/*.tmp 2>/dev/null)" ] && ok "no .tmp left after SIGTERM" || not_ok "no .tmp left after SIGTERM"
if "$MMREPLAY" validate -q "$D"/mmreplay-*.jsonl 2>"$T/val1"; then ok "every file valid"; else
	not_ok "every file valid"; cat "$T/val1"; fi
if grep -L '"ev":"footer"' "$D"/mmreplay-*.jsonl | grep -q .; then not_ok "every file has a footer"; else ok "every file has a footer"; fi
faults=$(cat "$D"/mmreplay-*.jsonl | grep -c '"ev":"fault"')
[ "$faults" -gt 0 ] && ok "faults of the workload recorded ($faults lines)" || not_ok "faults recorded"
[ ! -e /sys/kernel/tracing/instances/mmreplay-$pid ] && ok "tracefs instance removed" || not_ok "tracefs instance removed"

# 2. kill -9 mid-write: no file under a final name is broken
D=$T/out2
"$MMREPLAYD" -c /dev/null --output-dir "$D" --zstd yes --rotate-size 64K --min-free 1M 2>"$T/log2" &
pid=$!
sleep 1
activity &
act=$!
sleep 1.5
kill -9 $pid
wait $pid 2>/dev/null
killed=$pid
wait $act
final=$(ls "$D"/mmreplay-*.jsonl.zst 2>/dev/null | wc -l)
if [ "$final" = 0 ] || "$MMREPLAY" validate -q "$D"/mmreplay-*.jsonl.zst 2>"$T/val2"; then
	ok "after kill -9 every final-named file is complete ($final files)"
else
	not_ok "after kill -9 every final-named file is complete"; cat "$T/val2"
fi
# the daemon always has a file open while recording: it must stay a .tmp
[ "$(ls "$D"/*.tmp 2>/dev/null | wc -l)" = 1 ] && ok "the interrupted file stays a .tmp" || not_ok "the interrupted file stays a .tmp"
# the next start cleans the stale instance of the killed daemon
"$MMREPLAYD" -c /dev/null --output-dir "$D" --min-free 1M 2>"$T/log3" &
pid=$!
sleep 1.5
kill -TERM $pid; wait $pid
grep -q "1 unfinished .tmp" "$T/log3" && ok "restart reports the unfinished file" || not_ok "restart reports the unfinished file"
[ ! -e /sys/kernel/tracing/instances/mmreplay-$killed ] && ok "stale instance of the killed daemon removed" || not_ok "stale instance removed"
[ ! -e /sys/kernel/tracing/instances/mmreplay-$pid ] && ok "restarted daemon removed its own" || not_ok "restarted daemon removed its own"

# 3. upload to a real HTTP server that fails twice first
U=$T/up; mkdir -p "$U"
python3 "$(dirname "$0")/upload-server.py" "$U" "$T/port" 2 &
srv=$!
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
D=$T/out3
"$MMREPLAYD" -c /dev/null --output-dir "$D" --comm '^fault-workloa' --upload-url "http://127.0.0.1:$(cat "$T/port")/traces" \
	--upload-retry-max 1 --min-free 1M 2>"$T/log4" &
pid=$!
sleep 1.5
activity
kill -HUP $pid
for i in $(seq 100); do [ -n "$(ls "$U"/mmreplay-* 2>/dev/null)" ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid
kill $srv 2>/dev/null; wait $srv 2>/dev/null
up=$(cd "$U" && ls mmreplay-* 2>/dev/null | head -1)
if [ -n "$up" ] && "$MMREPLAY" validate -q "$U/$up"; then ok "uploaded file arrived intact after retries"; else
	not_ok "uploaded file arrived"; cat "$T/log4"; fi
grep -q "retry in" "$T/log4" && [ "$(grep -c ' 503 application/x-ndjson$' "$U/requests.log")" = 2 ] &&
	ok "failed uploads were retried" || not_ok "failed uploads were retried: $(cat "$U/requests.log")"
[ ! -e "$D/$up" ] && ok "local copy deleted after 2xx" || not_ok "local copy deleted after 2xx"

# 4. bad configuration: one line, exit 2
"$MMREPLAYD" -c /dev/null --rotate-size lots 2>"$T/err"; rc=$?
[ "$rc" = 2 ] && grep -q "rotate_size: expected a size" "$T/err" && [ "$(wc -l <"$T/err")" = 1 ] &&
	ok "bad option: one-line error, exit 2" || not_ok "bad option: exit $rc: $(cat "$T/err")"
finish
