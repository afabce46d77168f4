#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Contention waits of one replay run, mmreplay against perf lock.
#
# Two traces are recorded here (the zygote and heap-mprotect scenarios) and
# each is replayed once by `mmreplay replay` while `perf lock record -a`
# records the same lock:contention_begin/end tracepoints with kernel call
# chains. For each lock class the test compares, on that same run:
#
#   mmreplay  runs[].stats.locks, source "contention", lock = class:
#             count and hist.sum (wait ns), summed over modes and ops
#   perf      the same tasks' contention_begin -> contention_end waits,
#             classified by the same rules
#
# Why it is the same quantity:
# - Both pair contention_begin with the next contention_end of the same
#   task and lock address; a second begin of a lock the task already waits
#   for (a mutex that spun, then sleeps) continues the first wait.
# - Class: perf's kernel call chain of contention_begin goes through
#   classify-stacks, which calls mmreplay's own classifier
#   (mmr_classify_stack, lib/event.c) after dropping the leading tracing
#   frames, as the recorder does with its stacktrace-trigger stacks.
# - Tasks: perf -a sees the whole machine. The replay tree is every process
#   descending from mmreplay in perf's own fork records, mmreplay's own
#   threads excluded: the tasks mmreplay's tracefs instance follows
#   (set_event_pid of the replay's roots plus event-fork). perf lock
#   contention (perf 6.1) cannot filter a perf.data file by task, so the
#   scoped sums pair `perf script` records by perf lock contention's rule;
#   that reader is checked against perf lock contention's own totals over
#   the whole machine for the compared class (5%: a check of the reader,
#   not the comparison).
#
# Known systematic difference, printed per class and mode: perf stamps a
# begin before unwinding its call chain (and, when its probe was attached
# first, before the recorder's stacktrace trigger runs); mmreplay starts a
# wait at its kernel_stack record, after the trigger's unwinding
# (lib/decode.c). On this 2-CPU VM that is 5-20 us per event, measured by
# matching single events of a recording (perf record -k mono next to
# mmreplay record): perf's begin is ~8 us earlier, the ends agree within a
# microsecond. Against a sleeping wait (rwsem, mutex: 0.1-30 ms) that is
# nothing; a spin wait is itself a few microseconds, so perf's spin totals
# come out about twice mmreplay's, and a class total that holds thousands
# of spins (a spin under rmap_walk_anon, the page table lock, is on the
# anon_vma path)
# moves by up to 15% with the mix of the run. That part is printed, not
# asserted.
#
# Asserted, for both traces: neither tool lost events; per class, event
# counts agree within 2% (classes with 20 or more), so both saw the same
# contentions of the same tasks; per class, the sleeping-lock wait (modes
# read, write, mutex: rwsem and mutex waits) agrees within 10%, plus 50 us
# an event for the begin offset above, wherever it reaches 10 ms in either
# tool; the dominant class of the trace (anon_vma
# for zygote, mmap_lock for heap-mprotect) has at least 5 sleeping waits
# and 20 ms of them.
#
# Needs root, tracefs with the lock events, perf and python3; exits 77 with
# a reason otherwise.
set -u

M=${MMREPLAY:?set MMREPLAY to the mmreplay binary}
CLS=${MMR_CLASSIFY:?set MMR_CLASSIFY to the classify-stacks helper}
SECS=${MMR_PERF_LOCK_SECONDS:-3}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: perf -a and replay lock measurement need root"
	exit 77
fi
if [ -d /sys/kernel/tracing/events/lock ]; then
	TRACEFS=/sys/kernel/tracing
elif [ -d /sys/kernel/debug/tracing/events/lock ]; then
	TRACEFS=/sys/kernel/debug/tracing
else
	echo "SKIP: no lock:contention_begin/end tracepoints (tracefs missing or kernel < 5.19)"
	exit 77
fi
[ -e "$TRACEFS/events/lock/contention_begin" ] ||
	{ echo "SKIP: this kernel has no lock:contention_begin"; exit 77; }
if ! command -v perf >/dev/null || ! perf lock contention -h 2>&1 | grep -q -- '--max-stack'; then
	echo "SKIP: perf with 'perf lock contention' is needed (Debian: linux-perf)"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed to read perf script output and result files"
	exit 77
fi

T=$(mktemp -d /tmp/mmr-test-perf-lock-XXXXXX)
# MMR_KEEP=1 keeps the traces, perf.data files and results for a look
trap '[ -n "${MMR_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
cd "$T" || exit 1

fail() {
	echo "FAIL: $*"
	exit 1
}

cat >cmp.py <<'EOF'
import collections, json, re, subprocess, sys

cls_exe, data, result, mpid, dominant = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
errors = []

def classify(stacks):
    """mmreplay's class of each stack (kernel symbols, innermost first)."""
    if not stacks:
        return []
    out = subprocess.run([cls_exe], input=''.join(' '.join(s) + '\n' for s in stacks),
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(out) == len(stacks)
    return out

def mode_of(flags):
    # mmr_lock_mode_from_lcb: WRITE, READ, SPIN, MUTEX, else other
    f = set(flags.split('|'))
    for m in ('WRITE', 'READ', 'SPIN', 'MUTEX'):
        if m in f:
            return m.lower()
    return 'other'

def new():
    return collections.defaultdict(lambda: [0, 0])

# 1. perf lock contention: per call stack, over the whole machine
UNIT = {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9, 'm': 60e9, 'h': 3600e9}
p = subprocess.run(['perf', 'lock', 'contention', '-i', data, '-v', '--max-stack', '64',
                    '-E', '100000000'], capture_output=True, text=True)
ent = re.compile(r'^\s+(\d+)\s+([\d.]+) (ns|us|ms|s|m|h)\s+[\d.]+ \w+\s+[\d.]+ \w+\s+\S+\s+\S+\s*$')
frm = re.compile(r'^\s+0x(ffff[0-9a-f]{12})\s+(\S+)')
entries, cur = [], None
for line in (p.stdout + p.stderr).splitlines():
    m = ent.match(line)
    if m:
        cur = [int(m.group(1)), float(m.group(2)) * UNIT[m.group(3)], []]
        entries.append(cur)
        continue
    m = frm.match(line)
    if m and cur:
        cur[2].append(re.sub(r'\+0x[0-9a-f]+$', '', m.group(2)))
plc = new()
for (n, w, fr), c in zip(entries, classify([e[2] for e in entries])):
    plc[c][0] += n
    plc[c][1] += w

# 2. perf script: every begin/end with its task, flags and kernel chain
p = subprocess.run(['perf', 'script', '-i', data, '--ns', '--show-task-events',
                    '-F', 'pid,tid,time,event,trace,ip,sym'], capture_output=True, text=True)
m = re.search(r'lost (\d+) chunks', p.stderr) or re.search(r'LOST (\d+) events', p.stderr)
if m and int(m.group(1)):
    errors.append('perf lost samples (%s): the comparison would be unfair' % m.group(0))
hdr = re.compile(r'^\s*(-?\d+)/(-?\d+)\s+([\d.]+):\s+lock:contention_(begin|end): (0x[0-9a-f]+)'
                 r'(?: \((?:flags=([A-Z_|]*)|ret=-?\d+)\))?')
fork = re.compile(r'PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):(\d+)\)')
parent, evs, cur = {}, [], None
for line in p.stdout.splitlines():
    m = fork.search(line)
    if m:
        if m.group(1) != m.group(3):       # a process, not a thread
            parent[int(m.group(1))] = int(m.group(3))
        cur = None
        continue
    m = hdr.match(line)
    if m:
        cur = [int(m.group(1)), int(m.group(2)), round(float(m.group(3)) * 1e9), m.group(4),
               int(m.group(5), 16), m.group(6) or '', []]
        evs.append(cur)
        continue
    s = line.split()
    if cur and len(s) >= 2 and len(s[0]) == 16 and s[0].startswith('ffff'):
        cur[6].append(s[1])

tree_cache = {}
def in_tree(pid):
    if pid not in tree_cache:
        q, hops = pid, 0
        while q in parent and hops < 1000 and q != mpid:
            q, hops = parent[q], hops + 1
        tree_cache[pid] = q == mpid and pid != mpid
    return tree_cache[pid]

begins = [e for e in evs if e[3] == 'begin']
bcls = dict(zip((id(e) for e in begins), classify([e[6] for e in begins])))
opened = {}
perf_all, perf_own, perf_tree = new(), new(), new()
for e in evs:
    pid, tid, ts, kind, lock, flags, _ = e
    key = (tid, lock)
    if kind == 'begin':
        if key in opened:                   # continues the first begin
            opened[key] = (opened[key][0], bcls[id(e)], mode_of(flags))
        else:
            opened[key] = (ts, bcls[id(e)], mode_of(flags))
        continue
    if key not in opened:
        continue
    t0, c, mode = opened.pop(key)
    scopes = [perf_all] + ([perf_own] if pid == mpid else [perf_tree] if in_tree(pid) else [])
    for d in scopes:
        for k in (c, (c, mode)):
            d[k][0] += 1
            d[k][1] += ts - t0

# 3. mmreplay's result of the same run
r = json.load(open(result))
mmr = new()
for l in r['summary']['locks']:
    if l['source'] == 'contention':
        for k in (l['lock'], (l['lock'], l['mode'])):
            mmr[k][0] += l['hist']['count']
            mmr[k][1] += l['hist']['sum']
lost = r['summary'].get('lost_events', 0)
if lost:
    errors.append('mmreplay lost %d tracefs events: the comparison would be unfair' % lost)
print('   replay tree: %d processes in perf\'s fork records; mmreplay lost %d events'
      % (sum(1 for x in parent if in_tree(x)), lost))

def ms(v):
    return v / 1e6

classes = sorted({k for k in list(plc) + list(perf_all) + list(mmr) if isinstance(k, str)},
                 key=lambda c: -max(perf_tree[c][1], mmr[c][1]))
print('   %-16s %21s | %21s %21s | %21s %21s %8s %12s' % (
    'class / mode', 'perf lock contention', 'perf, whole machine', 'perf, mmreplay proc',
    'perf, replay tree', 'mmreplay', 'ratio', 'diff/event'))
def cell(d, k):
    return '%6d %11.3f ms' % (d[k][0], ms(d[k][1])) if d[k][0] else '%21s' % '-'
for c in classes:
    for k in [c] + sorted({x for x in list(perf_tree) + list(mmr) if isinstance(x, tuple) and x[0] == c}):
        pt, mm = perf_tree[k], mmr[k]
        ratio = '%8.4f' % (mm[1] / pt[1]) if pt[1] else '%8s' % '-'
        per = '%9.1f us' % ((pt[1] - mm[1]) / pt[0] / 1e3) if pt[0] and pt[0] == mm[0] else '%12s' % '-'
        name = c if isinstance(k, str) else '  ' + k[1]
        print('   %-16s %s | %s %s | %s %s %s %s' % (
            name, cell(plc, k) if isinstance(k, str) else '%21s' % '', cell(perf_all, k),
            cell(perf_own, k), cell(perf_tree, k), cell(mmr, k), ratio, per))

# The reader of perf script against perf lock contention itself, for the
# class compared; elsewhere a difference is only reported. perf lock
# contention (6.1) files an end under the call stack of the end sample:
# when that chain lacks the __traceiter frame (seen on mutex ends), the
# stack key differs from the begin's and perf drops the wait, so its
# whole-machine 'other' can come out lower than the pairs counted here.
for c in classes:
    a, b = plc[c][1], perf_all[c][1]
    if max(a, b) >= 1e6 and abs(a - b) > 0.05 * max(a, b):
        msg = ('perf script pairing vs perf lock contention for %s (whole machine): %.3f vs %.3f ms'
               % (c, ms(b), ms(a)))
        if c == dominant:
            errors.append(msg)
        else:
            print('   note: ' + msg)

def sleeping(d, c):
    return [sum(d[(c, m)][i] for m in ('read', 'write', 'mutex')) for i in (0, 1)]

# the comparison: event counts, and sleeping-lock waits, per class
sp, sm = sleeping(perf_tree, dominant), sleeping(mmr, dominant)
if sp[0] < 5 or sp[1] < 20e6:
    errors.append('too little sleeping %s contention in the replay to compare (%d events, %.3f ms in perf)'
                  % (dominant, sp[0], ms(sp[1])))
for c in classes:
    pt, mm = perf_tree[c], mmr[c]
    if max(pt[0], mm[0]) >= 20 and abs(mm[0] - pt[0]) > 0.02 * max(pt[0], mm[0]):
        errors.append('%s events: mmreplay %d vs perf %d (beyond 2%%)' % (c, mm[0], pt[0]))
    sp, sm = sleeping(perf_tree, c), sleeping(mmr, c)
    # perf's waits hold mmreplay's unwinding too (see the top): 10%, plus
    # up to 50 us an event, which a class of few short waits can reach
    # (24 waits of 0.4 ms, 55 us apart each, in a run with CPU stolen)
    if max(sp[1], sm[1]) >= 10e6 and abs(sm[1] - sp[1]) > 0.10 * max(sp[1], 1) + 50e3 * max(sp[0], sm[0]):
        errors.append('%s sleeping-lock wait: mmreplay %.3f ms vs perf %.3f ms (beyond 10%% + 50 us an event)'
                      % (c, ms(sm[1]), ms(sp[1])))
    if c == dominant or max(sp[1], sm[1]) >= 10e6:
        sps, sms = perf_tree[(c, 'spin')], mmr[(c, 'spin')]
        print('   %s: sleeping-lock wait mmreplay %.3f ms / perf %.3f ms = %.4f (%d / %d events);'
              ' whole class %.3f / %.3f ms = %.4f; spin %.3f / %.3f ms, perf - mmreplay = %s per spin'
              % (c, ms(sm[1]), ms(sp[1]), sm[1] / sp[1] if sp[1] else float('nan'), sm[0], sp[0],
                 ms(mm[1]), ms(pt[1]), mm[1] / pt[1] if pt[1] else float('nan'),
                 ms(sms[1]), ms(sps[1]),
                 '%.1f us' % ((sps[1] - sms[1]) / sps[0] / 1e3) if sps[0] else '-'))
for e in errors:
    print('   MISMATCH: ' + e)
sys.exit(1 if errors else 0)
EOF

# $1 name, $2 dominant class, $3 replay options, rest: scenario run arguments
check() {
	name=$1
	dominant=$2
	ropts=$3
	shift 3
	"$M" scenario run "$name" -d "$SECS" -q --record "$name.jsonl" "$@" >rec.out 2>&1 ||
		fail "$name: recording the scenario failed: $(tail -3 rec.out)"
	# the replay runs as perf's workload; its pid is the shell's, kept by exec
	perf lock record -a --call-graph fp,64 -o "$name.data" -- \
		sh -c 'echo $$ >"$0.pid"; exec "$@"' "$name" \
		"$M" replay "$name.jsonl" -o "$name.json" $ropts \
		>"$name.out" 2>"$name.err" ||
		fail "$name: perf lock record / replay failed: $(tail -5 "$name.err")"
	grep -q '^replayed' "$name.out" || fail "$name: replay printed no summary: $(cat "$name.out" "$name.err")"
	if grep -qi 'lost [1-9]' "$name.err"; then
		fail "$name: perf lost samples: $(grep -i lost "$name.err")"
	fi
	echo "   $(grep '^replayed' "$name.out")"
	python3 cmp.py "$CLS" "$name.data" "$name.json" "$(cat "$name.pid")" "$dominant" ||
		fail "$name: mmreplay and perf lock disagree (table above)"
}

echo "1. zygote (anon_vma root rwsem: fork, exit, mprotect vs reclaim), replayed twice under a 128 MiB memcg with zram"
check zygote anon_vma "--reclaim memcg --memcg-limit 128M --runs 2"

echo "2. heap-mprotect (mmap_lock: mprotect writers vs faulting readers), replayed with --reclaim pageout"
check heap-mprotect mmap_lock "--reclaim pageout" heap=32M

echo "PASS"
