#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Round trip on one kernel: record a known program with `mmreplay record`,
# replay its trace with `mmreplay replay`, and check that
# - every recorded op is replayed (fidelity: ops_replayed == ops_recorded,
#   ops_failed == 0), the mprotects one for one;
# - mprotect's mmap_lock write hold, the lock the program exercises, has
#   the same median in the replay as in the recording (within 25%): the
#   recorded p50 comes from the trace's lock lines (ev lock, mode write,
#   kind hold, op mprotect), the replayed one from the result
#   (source mmap_lock, mode write, kind hold, op mprotect).
# Both sides are measured the same way (mmap_lock tracepoints through the
# same recorder, every event group on), so the tracing overhead inside the
# hold is the same on both sides.
# Needs root and tracefs; exits 77 with a reason otherwise.
set -u

M=${MMREPLAY:?set MMREPLAY to the mmreplay binary}
WL=${MMR_WORKLOAD_MPROTECT:?set MMR_WORKLOAD_MPROTECT to the workload-mprotect binary}
ROUNDS=${MMR_ROUNDTRIP_ROUNDS:-1000}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: recording and replay lock measurement need root"
	exit 77
fi
if [ ! -d /sys/kernel/tracing/instances ] && [ ! -d /sys/kernel/debug/tracing/instances ]; then
	echo "SKIP: no tracefs (mount -t tracefs nodev /sys/kernel/tracing)"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed to read trace and result files"
	exit 77
fi

T=$(mktemp -d /tmp/mmr-test-roundtrip-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

fail() {
	echo "FAIL: $*"
	exit 1
}

echo "1. record workload-mprotect ($ROUNDS rounds: $((2 * ROUNDS)) mprotects of 2-page pieces)"
"$M" record -o rt.jsonl -- "$WL" -n "$ROUNDS" >wl.out 2>rec.err ||
	fail "record: exit $?: $(tail -3 rec.err)"
grep -q "^rounds $ROUNDS mprotects $((2 * ROUNDS)) " wl.out || fail "workload output: $(cat wl.out)"
grep -q "LOST EVENTS" rec.err && fail "the recording lost events: $(grep LOST rec.err)"
"$M" validate -q rt.jsonl || fail "the trace does not validate"

cat >p50.py <<'EOF'
import json, sys

def p50(v):
    v = sorted(v)
    return v[(len(v) - 1) // 2] if v else 0

what = sys.argv[1]
if what == 'trace':
    ops = ('mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'brk')
    holds, n_mprotect = [], 0
    for line in open(sys.argv[2]):
        e = json.loads(line)
        if e['ev'] == 'mprotect':
            n_mprotect += 1
        if (e['ev'] == 'lock' and e['mode'] == 'write' and e['kind'] == 'hold'
                and e['op'] == 'mprotect'):
            holds.append(e['dur'])
    print(n_mprotect, len(holds), p50(holds))
else:
    r = json.load(open(sys.argv[2]))
    s = r['summary']
    f = s['fidelity']
    h = [l['hist'] for l in s['locks'] if l['source'] == 'mmap_lock' and l['lock'] == 'mmap_lock'
         and l['mode'] == 'write' and l['kind'] == 'hold' and l['op'] == 'mprotect']
    n_mprotect = sum(o['hist']['count'] for o in s['ops'] if o['op'] == 'mprotect')
    print(f['ops_recorded'], f['ops_replayed'], f['ops_failed'], n_mprotect,
          h[0]['count'] if h else 0, h[0]['p50'] if h else 0, json.dumps(f['failures']))
EOF
set -- $(python3 p50.py trace rt.jsonl)
rec_mprotect=$1 rec_holds=$2 rec_p50=$3
[ "$rec_mprotect" -ge $((2 * ROUNDS)) ] || fail "only $rec_mprotect mprotects recorded"
[ "$rec_holds" -ge $((2 * ROUNDS)) ] || fail "only $rec_holds mprotect write holds recorded"
# The recorded p50 is one run on a shared machine (a burst of load once
# moved it by 35%): compare against the median of three recordings.
p50s=$rec_p50
for i in 2 3; do
	"$M" record -q -o rt$i.jsonl -- "$WL" -n "$ROUNDS" >/dev/null 2>rec$i.err ||
		fail "record $i: exit $?: $(tail -3 rec$i.err)"
	set -- $(python3 p50.py trace rt$i.jsonl)
	p50s="$p50s $3"
done
rec_p50=$(echo $p50s | tr ' ' '\n' | sort -n | sed -n 2p)
echo "   recorded p50s: $p50s ns (median $rec_p50)"

echo "2. replay it on this kernel, as recorded"
"$M" replay rt.jsonl -o rt.json >rep.out 2>rep.err || fail "replay: exit $?: $(tail -3 rep.err)"
"$M" validate -q rt.json || fail "the result does not validate"
set -- $(python3 p50.py result rt.json)
ops_rec=$1 ops_rep=$2 ops_failed=$3 rep_mprotect=$4 rep_holds=$5 rep_p50=$6
shift 6
[ "$ops_rec" -gt "$rec_mprotect" ] || fail "the plan has $ops_rec ops for $rec_mprotect recorded mprotects"
[ "$ops_rep" = "$ops_rec" ] || fail "ops replayed $ops_rep != recorded $ops_rec"
[ "$ops_failed" = 0 ] || fail "$ops_failed ops failed: $*"
[ "$rep_mprotect" = "$rec_mprotect" ] || fail "mprotects replayed $rep_mprotect != recorded $rec_mprotect"
[ "$rep_holds" -ge "$rec_mprotect" ] || fail "only $rep_holds mprotect write holds measured in the replay"

echo "   ops: $ops_rep of $ops_rec replayed, $ops_failed failed; mprotect $rep_mprotect of $rec_mprotect"
echo "   mmap_lock write hold in mprotect, p50: recorded $rec_p50 ns ($rec_holds samples), replayed $rep_p50 ns ($rep_holds samples), ratio $(python3 -c "print('%.3f' % ($rep_p50 / $rec_p50))")"
python3 -c "import sys; sys.exit(0 if abs($rep_p50 - $rec_p50) <= 0.25 * $rec_p50 else 1)" ||
	fail "replayed p50 $rep_p50 ns is not within 25% of the recorded $rec_p50 ns"
echo "PASS"
