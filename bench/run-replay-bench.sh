#!/bin/bash
# Replayer benchmark (issue "Replayer"). Two workloads are recorded with
# `mmreplay record`: the page-fault workload (bench/fault-workload) and a
# fork-heavy one (bench/fork-workload), three times each; the recording
# whose pace is the median is replayed. Then, interleaved over REPS
# rounds, medians:
#   (a) the original program, untraced                -- the anchor
#   (b) replay as recorded (locks measured, as users run it):
#       timing lag p50/p99 from the result's fidelity, and p99 as a share
#       of the trace's duration (target <= 5%)
#   (n) the same without lock measurement (--no-locks): the replayer's own
#       timing, without the tracing it shares the CPUs with
#   (c) replay closed loop (--max-speed --no-locks): replayed ops per
#       second of replay wall time (fidelity.replayed_ns) against (a)'s
#       ops per second (target >= 0.8)
#   (m) replay closed loop with locks measured, against the traced
#       original (the trace's own pace): below 1, the as-recorded replay
#       (b) cannot keep up with the recorded timeline and lags; against
#       the trace's pace in its busier 20 ms stretches (p90): below 1, it
#       falls behind there and catches up only where the recorder slowed
#       the program down
# Ops: faults (pages) for the fault workload, forks for the fork workload;
# (a) counts what the program did itself, (c) what the replay did. The
# traced original (the trace's own ops per second of its duration) is
# printed for context: the replay can only do what was recorded.
# Usage: bench/run-replay-bench.sh [BUILD_DIR] [REPS] [SECONDS]   (root)
# REPS defaults to 5: on a shared 2-CPU VM one rep in five or so is hit by
# a neighbour (a closed-loop fork replay at half its speed), which a
# median of three does not always outvote.
# RECORD_OPTS adds options to the recordings (many CPUs: -b 65536, or the
# default ring buffers overrun and the trace has holes).
# On a VM, every rep also shows the share of CPU time the host stole
# during it (/proc/stat; the replay's from its result), and the closed-
# loop ratio and the as-recorded lags are printed a second time over the
# reps with less than 5% stolen, when there are three (of each).
set -u
build=${1:-build}
reps=${2:-5}
secs=${3:-2}
mmr=$build/cli/mmreplay
T=$(mktemp -d /tmp/mmr-bench-replay-XXXXXX)
trap 'rm -rf "$T"' EXIT
[ "$(id -u)" = 0 ] || { echo "run as root (tracefs)"; exit 4; }
for w in fault fork; do
	[ -x "$build/bench/$w-workload" ] || { echo "build first: $build/bench/$w-workload missing"; exit 1; }
done


# py EXPR RESULT: EXPR over r (the result) and s (its summary), then the
# share of the CPUs' time stolen during the run (-1: unknown)
py() {
	python3 -c "
import json, sys
r = json.load(open(sys.argv[1])); s = r['summary']; f = s['fidelity']
ops = {}
for o in s['ops']:
    ops[o['op']] = ops.get(o['op'], 0) + o['hist']['count']
# as mmr_result_steal_share: of the replay CPUs' time
cpus = (r.get('vm') or r['host'])['cpus']
steal = f['steal_ns'] / (f['replayed_ns'] * cpus) if 'steal_ns' in f and f['replayed_ns'] else -1
print($1, '%.4f' % steal)" "$2"
}

# cpu_times: "steal total" from /proc/stat (ticks, all CPUs)
cpu_times() {
	awk '/^cpu /{t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit}' /proc/stat
}

declare -A opname=([fault]=fault [fork]=fork)
declare -A field=([fault]=faults_per_sec [fork]=forks_per_sec)

# ops per second of a trace's own timeline (the traced program's pace)
pace() {
	python3 -c "
import json, sys
n = dur = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e['ev'] == sys.argv[2] and not e.get('thread'):
        n += e.get('n', 1)
    elif e['ev'] == 'footer':
        dur = e['duration_ns']
print(n / (dur / 1e9))" "$1" "$2"
}

for w in fault fork; do
	wl=$build/bench/$w-workload
	# The traced program's pace moves with the load on a shared machine
	# (0.43-0.81 of the untraced one for forks, in runs a few minutes
	# apart): record three times and replay the median one, not whichever
	# came first.
	for k in 1 2 3; do
		echo "recording $w-workload -s $secs ($k/3)"
		# shellcheck disable=SC2086 # options, split on purpose
		"$mmr" record ${RECORD_OPTS:-} -o "$T/$w.$k.jsonl" -- "$wl" -s "$secs" >"$T/$w.rec.out" 2>"$T/$w.rec.err" ||
			{ echo "recording failed: $(tail -3 "$T/$w.rec.err")"; exit 1; }
		grep -q 'LOST EVENTS' "$T/$w.rec.err" && echo "  WARNING: $(grep 'LOST EVENTS' "$T/$w.rec.err")"
		"$mmr" validate -q "$T/$w.$k.jsonl" || { echo "the trace does not validate"; exit 1; }
		echo "$(pace "$T/$w.$k.jsonl" "${opname[$w]}") $k" >>"$T/$w.paces"
	done
	k=$(sort -n "$T/$w.paces" | sed -n 2p | cut -d' ' -f2)
	mv "$T/$w.$k.jsonl" "$T/$w.jsonl"
	echo "  paces: $(sort -n "$T/$w.paces" | awk '{printf "%.0f ", $1}')${opname[$w]}s/s; replaying recording $k (the median)"
	for r in $(seq "$reps"); do
		# rotate the order so drift over time does not favour one mode
		for m in $(echo a b n c m a b n c m | cut -d' ' -f$(( (r - 1) % 5 + 1 ))-$(( (r - 1) % 5 + 5 ))); do
			case $m in
			a) c0=$(cpu_times)
			   "$wl" -s "$secs" >"$T/out" 2>&1
			   c1=$(cpu_times)
			   v=$(sed -n "s/.*${field[$w]} \([0-9.]*\).*/\1/p" "$T/out")
			   st=$(echo "$c0 $c1" | awk '{printf "%.4f", ($4 > $2 ? ($3 - $1) / ($4 - $2) : -1)}')
			   echo "$v $st" >>"$T/$w.a"
			   echo "  rep $r (a) original:    $v ${opname[$w]}s/s, stolen $(echo "$st" | awk '{printf "%.1f%%", 100 * $1}')" ;;
			b|n) opt=; [ $m = n ] && opt=--no-locks
			   "$mmr" replay "$T/$w.jsonl" -o "$T/b.json" $opt >"$T/out" 2>&1 ||
				{ echo "replay failed: $(tail -3 "$T/out")"; exit 1; }
			   py "f['lag_p50_ns'], f['lag_p99_ns'], r['trace']['duration_ns'], f['ops_replayed'], f['ops_recorded'], f['ops_failed']" \
				"$T/b.json" >>"$T/$w.$m"
			   echo "  rep $r ($m) as recorded${opt:+ $opt}: lag p50/p99 $(tail -1 "$T/$w.$m" | awk '{printf "%.2f / %.2f ms, trace %.3f s, stolen %.1f%%", $1/1e6, $2/1e6, $3/1e9, 100 * $NF}')"
			   # a lag that steps up at a stall and stays, or one that grows
			   python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['summary']['fidelity'].get('lag_tenths') or []
print('      lag mean by tenth of the timeline, ms:', ' '.join('%.1f' % (x['mean_ns'] / 1e6) for x in t))" "$T/b.json" ;;
			c|m) opt=--no-locks; [ $m = m ] && opt=
			   "$mmr" replay "$T/$w.jsonl" -o "$T/c.json" --max-speed $opt >"$T/out" 2>&1 ||
				{ echo "replay failed: $(tail -3 "$T/out")"; exit 1; }
			   py "ops.get('${opname[$w]}', 0), f['replayed_ns'], f['ops_replayed'], f['ops_recorded'], f['ops_failed']" \
				"$T/c.json" >>"$T/$w.$m"
			   echo "  rep $r ($m) closed loop${opt:+ $opt}: $(tail -1 "$T/$w.$m" | awk '{printf "%d %ss in %.3f s = %.0f/s, stolen %.1f%%", $1, "'"${opname[$w]}"'", $2/1e9, $1/($2/1e9), 100 * $NF}')" ;;
			esac
		done
	done
done

echo
echo "replay benchmark, $(nproc) CPUs, workloads of ${secs}s, $reps interleaved reps (medians)"
python3 - "$T" <<'EOF'
import json, statistics, sys
T = sys.argv[1]
def rows(path):
    return [[float(x) for x in line.split()] for line in open(path) if line.strip()]
def quiet(rs):
    # the reps with < 5% of the CPU time stolen (the last column; -1: unknown)
    return [v for v in rs if 0 <= v[-1] < 0.05]
for w, op in (('fault', 'fault'), ('fork', 'fork')):
    a = statistics.median(v[0] for v in rows(f'{T}/{w}.a'))
    n = dur = 0
    per = {}
    # The recorder's cost comes in bursts (when it reads): in between, the
    # program ran at nearly its untraced pace, and an as-recorded replay
    # slower than that falls behind there. The trace's pace in 20 ms bins:
    t0 = None
    bins = {}
    for line in open(f'{T}/{w}.jsonl'):
        e = json.loads(line)
        if t0 is None and 'ts' in e:
            t0 = e['ts']
        if e['ev'] == op and not e.get('thread'):
            n += e.get('n', 1)
            per[e['pid']] = per.get(e['pid'], 0) + e.get('n', 1)
            k = (e['ts'] - t0) // 20000000
            bins[k] = bins.get(k, 0) + e.get('n', 1)
        elif e['ev'] == 'footer':
            dur = e['duration_ns']
    # Closed loop ends with the busiest worker: a trace whose workers did
    # unequal shares caps c/a at (mean share / largest share).
    shares = [v for v in per.values() if v > n / (4 * len(per))]
    ceiling = sum(shares) / len(shares) / max(shares) if shares else 1
    # whole bins only (the first and last are cut)
    paces = sorted(bins.get(k, 0) * 50 for k in range(1, max(bins))) if len(bins) > 2 else []
    c = statistics.median(v[0] / (v[1] / 1e9) for v in rows(f'{T}/{w}.c'))
    print(f'  {w}-workload')
    print(f'    (a) original, untraced         {a:12.0f} {op}s/s   1.000')
    print(f'    traced original (the trace)    {n / (dur / 1e9):12.0f} {op}s/s   {n / (dur / 1e9) / a:.3f}'
          f'  ({n} {op}s in {dur / 1e9:.3f} s)')
    if paces:
        q = lambda f: paces[min(len(paces) - 1, int(f * len(paces)))]
        print(f'        its pace in 20 ms bins: p10 {q(0.1)}, p50 {q(0.5)}, p90 {q(0.9)}, max {paces[-1]} {op}s/s'
              f' ({q(0.9) / a:.3f} of (a) at p90)')
    print(f'    (c) replay, closed loop        {c:12.0f} {op}s/s   c/a = {c / a:.3f}  (target >= 0.8;'
          f' this trace\'s workers did {min(shares)}-{max(shares)} {op}s: c/a <= {ceiling:.3f} for a perfect replay)')
    qa = [v[0] for v in quiet(rows(f'{T}/{w}.a'))]
    qc = [v[0] / (v[1] / 1e9) for v in quiet(rows(f'{T}/{w}.c'))]
    if len(qa) >= 3 and len(qc) >= 3:
        print(f'        over the reps with < 5% CPU stolen ({len(qa)} a, {len(qc)} c): c/a = '
              f'{statistics.median(qc) / statistics.median(qa):.3f}')
    else:
        print(f'        too few reps with < 5% CPU stolen for a steal-free c/a ({len(qa)} a, {len(qc)} c)')
    mm = statistics.median(v[0] / (v[1] / 1e9) for v in rows(f'{T}/{w}.m'))
    print(f'    (m) closed loop, locks measured{mm:12.0f} {op}s/s   m/traced = {mm / (n / (dur / 1e9)):.3f}'
          + (f', against the trace\'s p90 bin {mm / q(0.9):.3f}' if paces else ''))
    for m, what in (('b', 'as recorded, locks measured'), ('n', 'as recorded, --no-locks   ')):
        r = rows(f'{T}/{w}.{m}')
        p50 = statistics.median(v[0] for v in r)
        p99 = statistics.median(v[1] for v in r)
        d = statistics.median(v[2] for v in r)
        print(f'    ({m}) replay {what}: lag p50 {p50 / 1e6:.3f} ms, p99 {p99 / 1e6:.3f} ms;'
              f' p99 / trace duration ({d / 1e9:.3f} s) = {p99 / d:.4f}  (target <= 0.05)')
        # as for c/a: a stall the host causes is lag the replay cannot help
        q = quiet(r)
        if len(q) >= 3:
            print(f'        over the reps with < 5% CPU stolen ({len(q)}): p99 / trace duration = '
                  f'{statistics.median(v[1] for v in q) / d:.4f}')
        else:
            print(f'        too few reps with < 5% CPU stolen for a steal-free lag ({len(q)})')
    bad = [v for m in 'bn' for v in rows(f'{T}/{w}.{m}') if v[3] != v[4] or v[5]]
    bad += [v for m in 'cm' for v in rows(f'{T}/{w}.{m}') if v[2] != v[3] or v[4]]
    if bad:
        print(f'    WARNING: some replays did not replay every op: {bad}')
EOF
exit 0
