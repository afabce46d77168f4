#!/bin/bash
# The README's main job: `mmreplay demo` records the zygote scenario, replays
# it here and reports; the files it leaves are valid and nothing else stays.
. "$(dirname "$0")/../e2e/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -d /sys/kernel/tracing/events ] || { echo "SKIP: tracefs not mounted"; exit 77; }

start=$(date +%s)
expect_rc 0 "demo runs" -- "$MMREPLAY" demo -o "$T/demo" -d 3
took=$(( $(date +%s) - start ))
[ "$took" -lt 120 ] && ok "demo finished in ${took}s (< 120 s)" || not_ok "demo took ${took}s"
expect_out out "==> \[1/3\] Recording" "says what it is doing: recording"
expect_out out "==> \[2/3\] Replaying" "says what it is doing: replaying"
expect_out out "Kernel locks" "prints the lock report"
expect_out out "Top kernel paths" "prints the kernel paths"
expect_out out "ops replayed ([0-9]+) of \1 recorded, 0 failed" "replay ran every recorded op"
expect_rc 0 "trace and result validate" -- "$MMREPLAY" validate "$T/demo/zygote.jsonl" "$T/demo/result.json"
# the zygote stress shows up: anon_vma rwsem waits on the fork/exit/mprotect side
if python3 - "$T/demo/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = [l for l in r["summary"]["locks"] if l["lock"] == "anon_vma" and l["source"] == "contention"]
ops = {l["op"] for l in rows if l["hist"]["count"] > 0}
print("anon_vma contention in ops:", sorted(ops))
sys.exit(0 if ops & {"fork", "exit", "mprotect", "reclaim"} else 1)
PY
then ok "anon_vma contention measured in the replay"; else not_ok "anon_vma contention measured in the replay"; fi
[ -z "$(ls -d /sys/kernel/tracing/instances/mmreplay-* 2>/dev/null)" ] && ok "no tracefs instance left" || not_ok "tracefs instance left"
! grep -q '^/dev/zram' /proc/swaps && ok "no zram swap left" || not_ok "zram swap left"
[ -z "$(ls -d /sys/fs/cgroup/memory/mmreplay* /sys/fs/cgroup/mmreplay* 2>/dev/null)" ] && ok "no cgroup left" || not_ok "cgroup left"
expect_rc 2 "demo with a bad option" -- "$MMREPLAY" demo --frob
finish
