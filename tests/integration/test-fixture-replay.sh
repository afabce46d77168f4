#!/bin/bash
# Every shipped scenario fixture replays on this kernel with exact op counts:
# replayed == recorded and nothing failed, as recorded and closed loop
# (--max-speed, where only the cross-task order the replay keeps protects
# a thread from touching what a sibling has not mapped or has protected).
. "$(dirname "$0")/../e2e/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for f in "$SRC"/tests/fixtures/{zygote,fork-under-fault-io,heap-mprotect,uffd-move,fork-topology,cow-break}.jsonl; do
	for mode in "" --max-speed; do
		n=$(basename "$f" .jsonl)${mode}
		expect_rc 0 "$n: replay" -- "$MMREPLAY" replay "$f" --no-locks --force $mode -o "$T/$n.json"
		if python3 - "$T/$n.json" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))["summary"]["fidelity"]
print(f"  recorded {f['ops_recorded']} replayed {f['ops_replayed']} failed {f['ops_failed']} {f.get('failures', [])}")
sys.exit(0 if f["ops_recorded"] == f["ops_replayed"] and f["ops_failed"] == 0 and f["ops_recorded"] > 0 else 1)
PY
		then ok "$n: exact op counts"; else not_ok "$n: exact op counts"; fi
	done
done
finish
