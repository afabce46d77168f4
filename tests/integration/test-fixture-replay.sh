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
		# Every recorded page and fork has its latency sample, whether the
		# task kept it in its own record (short-lived children) or in the
		# shared histograms; but for pages of the kernel's own [vdso] and
		# [vvar], which a replay process has its own of (forked children
		# have their parent's).
		if python3 - "$f" "$T/$n.json" <<'PY'
import json, sys
rec = {"fault": 0, "fork": 0}
kernel = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["ev"] == "header":
        for p in e.get("maps", []):
            kernel[p["pid"]] = [(m["start"], m["end"]) for m in p["maps"] if m["file"].startswith("[v")]
    elif e["ev"] == "fault":
        step = e.get("stride", 0)
        for i in range(e.get("n", 1)):
            a = e["addr"] + i * step
            if not any(s <= a < t for s, t in kernel.get(e["pid"], [])):
                rec["fault"] += 1
    elif e["ev"] == "fork" and not e.get("thread"):
        rec["fork"] += 1
        kernel[e["child"]] = kernel.get(e["pid"], [])
got = {k: 0 for k in rec}
for o in json.load(open(sys.argv[2]))["summary"]["ops"]:
    if o["op"] in got:
        got[o["op"]] += o["hist"]["count"]
print(f"  samples {got}, recorded {rec}")
sys.exit(0 if got == rec else 1)
PY
		then ok "$n: a sample per page and fork"; else not_ok "$n: a sample per page and fork"; fi
	done
done
finish
