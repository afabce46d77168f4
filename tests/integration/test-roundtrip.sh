#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Round trip on one kernel: record a known program with `mmreplay record`,
# replay its trace with `mmreplay replay`, and check that
# - every recorded op is replayed (fidelity: ops_replayed == ops_recorded,
#   ops_failed == 0), the mprotects one for one;
# - mprotect's mmap_lock write hold, the lock the program exercises, has
#   the same p50 in the replay as in the recording, within 25% (p25 and
#   p75 within 35%), median over seven record/replay pairs: the recorded ones come
#   from the trace's lock lines (ev lock, mode write, kind hold, op
#   mprotect), the replayed ones from the result's histogram (source
#   mmap_lock, mode write, kind hold, op mprotect).
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

echo "1. record workload-mprotect ($ROUNDS rounds: $((3 * ROUNDS)) mprotects, 2 splits and 1 merge a round)"
"$M" record -o rt.jsonl -- "$WL" -n "$ROUNDS" >wl.out 2>rec.err ||
	fail "record: exit $?: $(tail -3 rec.err)"
grep -q "^rounds $ROUNDS mprotects $((3 * ROUNDS)) " wl.out || fail "workload output: $(cat wl.out)"
grep -q "LOST EVENTS" rec.err && fail "the recording lost events: $(grep LOST rec.err)"
"$M" validate -q rt.jsonl || fail "the trace does not validate"

cat >q.py <<'EOF'
import json, sys

def quartiles(v):
    v = sorted(v)
    return [v[(len(v) - 1) * k // 4] if v else 0 for k in (1, 2, 3)]

def bucket_low(i):
    # lib/hist-geometry.h: 256 exact buckets, then 128 per octave
    if i < 256:
        return i
    octave, sub = 8 + (i - 256) // 128, 128 + (i - 256) % 128
    return sub << (octave - 7)

def hist_quartiles(h):
    out, seen = [], 0
    want = [(h['count'] - 1) * k // 4 for k in (1, 2, 3)]
    for i, n in h['buckets']:
        while want and seen + n > want[0]:
            out.append(bucket_low(i))
            want.pop(0)
        seen += n
    return out + [0] * len(want)

what = sys.argv[1]
if what == 'trace':
    holds, n_mprotect = [], 0
    for line in open(sys.argv[2]):
        e = json.loads(line)
        if e['ev'] == 'mprotect':
            n_mprotect += 1
        if (e['ev'] == 'lock' and e['mode'] == 'write' and e['kind'] == 'hold'
                and e['op'] == 'mprotect'):
            holds.append(e['dur'])
    print(n_mprotect, len(holds), *quartiles(holds))
elif what == 'result':
    r = json.load(open(sys.argv[2]))
    s = r['summary']
    f = s['fidelity']
    h = [l['hist'] for l in s['locks'] if l['source'] == 'mmap_lock' and l['lock'] == 'mmap_lock'
         and l['mode'] == 'write' and l['kind'] == 'hold' and l['op'] == 'mprotect']
    n_mprotect = sum(o['hist']['count'] for o in s['ops'] if o['op'] == 'mprotect')
    print(f['ops_recorded'], f['ops_replayed'], f['ops_failed'], n_mprotect,
          h[0]['count'] if h else 0, *(hist_quartiles(h[0]) if h else [0, 0, 0]),
          json.dumps(f['failures']))
else:
    # per pair "recorded p25 p50 p75 replayed p25 p50 p75": for each
    # quartile, the median replayed/recorded ratio, then the ratios of the pairs
    v = [int(x) for x in sys.argv[2:]]
    out = []
    for q in range(3):
        r = sorted(v[k + 3 + q] / v[k + q] for k in range(0, len(v), 6))
        out.append('%.3f %s' % (r[len(r) // 2], ','.join('%.3f' % x for x in r)))
    print(' '.join(out))
EOF

# A quartile of a few microseconds moves by a third between runs on a
# shared machine (idle states, steal time, neighbours' cache pressure):
# each replay is compared with the recording taken just before it, and
# the median over seven such pairs decides. Fidelity is checked on each.
# On the 2-CPU development VM, over some 40 runs of five pairs, the median
# p50 ratio ranged 0.76-1.09 and the p25 one 0.68-1.14, in spells of
# minutes: the outer quartiles get a wider band than the issue's p50.
pair() { # $1: pair number; adds the recorded and replayed quartiles to $pairs
	i=$1
	if [ "$i" != 1 ]; then
		"$M" record -q -o rt$i.jsonl -- "$WL" -n "$ROUNDS" >/dev/null 2>rec$i.err ||
			fail "record $i: exit $?: $(tail -3 rec$i.err)"
		grep -q "LOST EVENTS" rec$i.err && fail "recording $i lost events"
	else
		cp rt.jsonl rt1.jsonl
	fi
	set -- $(python3 q.py trace rt$i.jsonl)
	rec_mprotect=$1 rec_holds=$2 rec_q="$3 $4 $5"
	[ "$rec_mprotect" -ge $((3 * ROUNDS)) ] || fail "only $rec_mprotect mprotects recorded ($i)"
	[ "$rec_holds" -ge $((3 * ROUNDS)) ] || fail "only $rec_holds mprotect write holds recorded ($i)"
	"$M" replay rt$i.jsonl -o rt$i.json >rep$i.out 2>rep$i.err ||
		fail "replay $i: exit $?: $(tail -3 rep$i.err)"
	"$M" validate -q rt$i.json || fail "result $i does not validate"
	set -- $(python3 q.py result rt$i.json)
	ops_rec=$1 ops_rep=$2 ops_failed=$3 rep_mprotect=$4 rep_holds=$5 rep_q="$6 $7 $8"
	shift 8
	[ "$ops_rec" -gt "$rec_mprotect" ] || fail "the plan has $ops_rec ops for $rec_mprotect recorded mprotects"
	[ "$ops_rep" = "$ops_rec" ] || fail "ops replayed $ops_rep != recorded $ops_rec ($i)"
	[ "$ops_failed" = 0 ] || fail "$ops_failed ops failed ($i): $*"
	[ "$rep_mprotect" = "$rec_mprotect" ] || fail "mprotects replayed $rep_mprotect != recorded $rec_mprotect ($i)"
	[ "$rep_holds" -ge "$rec_mprotect" ] || fail "only $rep_holds mprotect write holds measured in replay $i"
	echo "   pair $i: ops $ops_rep of $ops_rec replayed, $ops_failed failed, mprotect $rep_mprotect of $rec_mprotect;" \
		"write hold p25 p50 p75 recorded $rec_q ns, replayed $rep_q ns"
	pairs="$pairs $rec_q $rep_q"
}

echo "2. replay it on this kernel, as recorded: seven record/replay pairs"
pairs=""
for i in 1 2 3 4 5 6 7; do
	pair $i
done
set -- $(python3 q.py ratios $pairs)
echo "   mmap_lock write hold in mprotect, replayed/recorded, median of pairs (each pair):"
echo "   p25 $1 ($2), p50 $3 ($4), p75 $5 ($6)"
python3 -c "import sys; sys.exit(0 if abs($3 - 1) <= 0.25 else 1)" ||
	fail "replayed write hold p50 not within 25% of the recorded one (ratio $3)"
python3 -c "import sys; sys.exit(0 if abs($1 - 1) <= 0.35 and abs($5 - 1) <= 0.35 else 1)" ||
	fail "replayed write hold p25/p75 not within 35% of the recorded ones (ratios $1, $5)"
echo "PASS"
