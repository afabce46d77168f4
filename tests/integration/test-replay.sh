#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mmreplay replay on the real kernel: op counts replayed == recorded,
# timing (as recorded vs closed loop), lock measurement, --reclaim=memcg
# and pageout, and that nothing is left behind (cgroups, swap, tracefs
# instances, processes) after success, SIGINT and SIGKILL.
# Needs root and tracefs; exits 77 with a reason otherwise.
set -u

M=${MMREPLAY:?set MMREPLAY to the mmreplay binary}
SRC=${MMR_SRC:?set MMR_SRC to the source tree}
FIX=$SRC/tests/fixtures
EXAMPLE=$SRC/schemas/examples/trace-zygote-small.jsonl

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: replay measurement and reclaim need root"
	exit 77
fi
if [ -d /sys/kernel/tracing/instances ]; then
	TRACEFS=/sys/kernel/tracing
elif [ -d /sys/kernel/debug/tracing/instances ]; then
	TRACEFS=/sys/kernel/debug/tracing
else
	echo "SKIP: no tracefs (mount -t tracefs nodev /sys/kernel/tracing)"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed to read result files"
	exit 77
fi

T=$(mktemp -d /tmp/mmr-test-replay-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

fail() {
	echo "FAIL: $*"
	exit 1
}

# jq-like: py 'r["summary"]["fidelity"]["ops_failed"]' FILE
py() {
	python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$2"
}

# Swap devices whose label says mmreplay pid $1 made them (other sessions
# may use zram at the same time: their devices carry their own pid).
swap_of() {
	want=$(printf 'mmreplay-%s' "$1" | cut -c1-16)
	for dev in $(awk 'NR > 1 && $1 ~ /zram/ { print $1 }' /proc/swaps); do
		label=$(dd if="$dev" bs=1 skip=1052 count=16 2>/dev/null | tr -d '\000')
		[ "$label" = "$want" ] && echo "$dev"
	done
	return 0
}

# Nothing of mmreplay (pid $2) may remain: cgroup, state file, tracefs
# instance, zram swap.
no_leftovers() {
	what=$1
	pid=$2
	for d in /sys/fs/cgroup/memory/mmreplay-"$pid" /sys/fs/cgroup/mmreplay-"$pid"; do
		[ -e "$d" ] && fail "$what: cgroup $d left behind"
	done
	[ -e /run/mmreplay/reclaim-"$pid" ] && fail "$what: state file left behind"
	[ -e "$TRACEFS/instances/mmreplay-$pid" ] && fail "$what: tracefs instance left behind"
	left=$(swap_of "$pid")
	[ -z "$left" ] || fail "$what: swap on $left left behind"
	return 0
}

# (cgroup files have size 0: test their contents, never -s)

# A task that runs (a zombie waiting for init to reap it does not count).
running() {
	[ -r /proc/"$1"/stat ] && ! sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | grep -q '^Z'
}

# Run mmreplay in the background so its pid is known; sets PID and RC.
# catch_maps PATTERN FILE: while the replay $PID runs, the maps of the
# first of its processes whose maps match PATTERN (5 s at most), in FILE
catch_maps() {
	local found= i=0 c
	while [ $i -lt 100 ] && [ -z "$found" ]; do
		for c in $(pgrep -P "$PID"); do
			grep -q -e "$1" /proc/"$c"/maps 2>/dev/null && found=$c && break
		done
		[ -n "$found" ] || sleep 0.05
		i=$((i + 1))
	done
	sleep 0.3
	[ -z "$found" ] || cp /proc/"$found"/maps "$2" 2>/dev/null
}

run_bg() {
	"$M" "$@" >out.txt 2>err.txt &
	PID=$!
	wait $PID
	RC=$?
}

echo "1. example trace as recorded: every op replayed, locks measured"
run_bg replay "$EXAMPLE" -o ex.json --label itest
[ $RC = 0 ] || fail "replay of the example: exit $RC: $(cat err.txt)"
no_leftovers "example" $PID
"$M" validate -q ex.json || fail "result does not validate"
[ "$(py 'r["summary"]["fidelity"]["ops_recorded"]' ex.json)" = 8 ] || fail "example: ops_recorded != 8"
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' ex.json)" = 8 ] || fail "example: ops_replayed != 8"
[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' ex.json)" = 0 ] || fail "example: ops failed: $(py 'r["summary"]["fidelity"]["failures"]' ex.json)"
[ "$(py 'sum(o["hist"]["count"] for o in r["summary"]["ops"] if o["op"]=="fault")' ex.json)" = 32441 ] ||
	fail "example: not every recorded page was touched"
# the replayed mprotect takes mmap_lock for write: the measurement must see it
[ "$(py 'sum(l["hist"]["count"] for l in r["summary"]["locks"] if l["source"]=="mmap_lock" and l["op"]=="mprotect" and l["mode"]=="write")' ex.json)" -ge 1 ] ||
	fail "example: no mmap_lock write sample attributed to mprotect: $(py 'r["summary"]["locks"]' ex.json | head -c 600)"
# faults are not traced while measuring (their tracepoint would tax the
# replay); samples outside system calls are the faults': the first fault
# of each new anonymous mapping takes mmap_lock (no anon_vma yet)
[ "$(py 'sum(l["hist"]["count"] for l in r["summary"]["locks"] if l["source"]=="mmap_lock" and l["op"]=="fault")' ex.json)" -ge 1 ] ||
	fail "example: no mmap_lock sample attributed to fault"
[ "$(py 'sum(l["hist"]["count"] for l in r["summary"]["locks"] if l["source"]=="mmap_lock" and l["op"]=="other")' ex.json)" = 0 ] ||
	fail "example: mmap_lock samples left unattributed (op other)"
echo "   lag p50 $(py 'r["summary"]["fidelity"]["lag_p50_ns"]' ex.json) ns, p99 $(py 'r["summary"]["fidelity"]["lag_p99_ns"]' ex.json) ns"
"$M" report ex.json >report.txt || fail "report failed"
grep -q "ops replayed 8 of 8 recorded, 0 failed" report.txt || fail "report: fidelity line missing"
grep -q "Kernel locks" report.txt || fail "report: lock table missing"
"$M" report --json ex.json | python3 -c "import json,sys; json.load(sys.stdin)" || fail "report --json is not JSON"

echo "2. process tree fixture (forks, threads, mmap/mprotect/madvise/mremap/munmap/brk, files)"
run_bg replay "$FIX/replay-tree.jsonl" -o tree.json --runs 3
[ $RC = 0 ] || fail "tree: exit $RC: $(cat err.txt)"
no_leftovers "tree" $PID
[ "$(py 'r["summary"]["fidelity"]["ops_recorded"]' tree.json)" = 72 ] || fail "tree: ops_recorded != 3 x 24"
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' tree.json)" = 72 ] || fail "tree: ops_replayed != 72"
[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' tree.json)" = 0 ] ||
	fail "tree: failures: $(py 'r["summary"]["fidelity"]["failures"]' tree.json)"
for op in fork mmap munmap mremap mprotect madvise; do
	[ "$(py "sum(o['hist']['count'] for o in r['summary']['ops'] if o['op']=='$op')" tree.json)" -ge 3 ] ||
		fail "tree: no $op latencies"
done
# as recorded: the 15 ms timeline is followed, not compressed
wall=$(py 'min(x["wall_ns"] for x in r["runs"])' tree.json)
[ "$wall" -ge 13000000 ] || fail "tree: as-recorded run took $wall ns, less than the 15 ms timeline"
[ "$(py 'r["summary"]["fidelity"]["lag_p50_ns"]' tree.json)" -lt 20000000 ] || fail "tree: lag p50 above 20 ms"

echo "3. closed loop vs scaled timing on a 30 s trace"
run_bg replay "$FIX/replay-long.jsonl" -o fast.json --max-speed --no-locks
[ $RC = 0 ] || fail "max-speed: exit $RC: $(cat err.txt)"
wall=$(py 'r["runs"][0]["wall_ns"]' fast.json)
[ "$wall" -lt 10000000000 ] || fail "max-speed waited: $wall ns for a 30 s trace"
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' fast.json)" = 7 ] || fail "max-speed: ops_replayed != 7"
[ "$(py 'r["params"]["mode"]' fast.json)" = max-speed ] || fail "max-speed: mode not recorded"
run_bg replay "$FIX/replay-long.jsonl" -o scaled.json --speed 20 --no-locks
[ $RC = 0 ] || fail "scaled: exit $RC: $(cat err.txt)"
wall=$(py 'r["runs"][0]["wall_ns"]' scaled.json)
[ "$wall" -ge 1400000000 ] && [ "$wall" -lt 10000000000 ] ||
	fail "--speed 20: a 30 s trace took $wall ns (expected about 1.5 s)"
echo "   closed loop $(py 'r["runs"][0]["wall_ns"]' fast.json) ns, x20 $wall ns"

echo "4. --reclaim=memcg: real reclaim into zram, then everything undone"
run_bg replay "$EXAMPLE" -o memcg.json --reclaim memcg --memcg-limit 32M
[ $RC = 0 ] || fail "memcg: exit $RC: $(cat err.txt)"
grep -q "zram[0-9]* swap" out.txt || fail "memcg: no zram device reported: $(cat out.txt)"
no_leftovers "memcg" $PID
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' memcg.json)" = 8 ] || fail "memcg: ops_replayed != 8"
[ "$(py 'r["summary"]["reclaim"]["swapouts"]' memcg.json)" -gt 0 ] || fail "memcg: nothing was swapped out"
[ "$(py 'r["params"]["memcg_limit"]' memcg.json)" = 33554432 ] || fail "memcg: limit not recorded"

echo "5. --reclaim=pageout at the recorded moment, before the target's next op"
run_bg replay "$FIX/replay-tree.jsonl" -o pageout.json --reclaim pageout --no-locks
[ $RC = 0 ] || fail "pageout: exit $RC: $(cat err.txt)"
no_leftovers "pageout" $PID
[ "$(py 'r["summary"]["fidelity"]["ops_recorded"]' pageout.json)" = 25 ] || fail "pageout: the reclaim op is not counted"
[ "$(py 'sum(o["hist"]["count"] for o in r["summary"]["ops"] if o["op"]=="reclaim")' pageout.json)" = 1 ] ||
	fail "pageout: no process_madvise done: $(py 'r["summary"]["fidelity"]["failures"]' pageout.json)"
grep -q "pageout, zram[0-9]* swap" out.txt || fail "pageout: no swap set up: $(cat out.txt)"
# Closed loop, the target runs on at once after the op the reclaim came
# after and is gone microseconds later: the reclaim still lands before
# its next op, three times out of three.
for k in 1 2 3; do
	run_bg replay "$FIX/replay-tree.jsonl" -o pageout-max.json --reclaim pageout --no-locks --max-speed
	[ $RC = 0 ] || fail "pageout, closed loop: exit $RC: $(cat err.txt)"
	[ "$(py 'sum(o["hist"]["count"] for o in r["summary"]["ops"] if o["op"]=="reclaim")' pageout-max.json)" = 1 ] ||
		fail "pageout, closed loop (run $k): no process_madvise done: $(py 'r["summary"]["fidelity"]["failures"]' pageout-max.json)"
done
no_leftovers "pageout, closed loop" $PID

echo "6. SIGINT mid-run: the tree is killed, every setting undone"
"$M" replay "$FIX/replay-long.jsonl" -o int.json --reclaim memcg --memcg-limit 16M >out.txt 2>err.txt &
PID=$!
CG=/sys/fs/cgroup/memory/mmreplay-$PID
[ -d /sys/fs/cgroup/memory ] || CG=/sys/fs/cgroup/mmreplay-$PID
i=0
while [ $i -lt 100 ] && [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] || fail "SIGINT: the replay never entered its cgroup: $(cat err.txt)"
sleep 1
TASKS=$(cat "$CG/cgroup.procs")
[ -n "$(swap_of $PID)" ] || fail "SIGINT: no zram swap of ours during the run: $(cat /proc/swaps)"
kill -INT $PID
wait $PID
RC=$?
[ $RC = 1 ] || fail "SIGINT: exit $RC, expected 1: $(cat err.txt)"
grep -q "interrupted" err.txt || fail "SIGINT: no message: $(cat err.txt)"
no_leftovers "SIGINT" $PID
for t in $TASKS; do
	running "$t" && fail "SIGINT: replay process $t still runs"
done
[ -e int.json ] && fail "SIGINT: a result was written for an interrupted replay"

echo "7. SIGKILL of mmreplay: the tree dies with it, the next run cleans up"
"$M" replay "$FIX/replay-long.jsonl" -o kill.json --reclaim memcg --memcg-limit 16M >out.txt 2>err.txt &
PID=$!
CG=/sys/fs/cgroup/memory/mmreplay-$PID
[ -d /sys/fs/cgroup/memory ] || CG=/sys/fs/cgroup/mmreplay-$PID
i=0
while [ $i -lt 100 ] && [ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] || fail "SIGKILL: the replay never entered its cgroup"
TASKS=$(cat "$CG/cgroup.procs")
kill -KILL $PID
wait $PID 2>/dev/null
KPID=$PID
sleep 1
for t in $TASKS; do
	running "$t" && fail "SIGKILL: replay process $t outlived mmreplay"
done
run_bg replay "$FIX/replay-tree.jsonl" -o after.json --no-locks
[ $RC = 0 ] || fail "after SIGKILL: exit $RC: $(cat err.txt)"
no_leftovers "stale cleanup after SIGKILL" $KPID

echo "8. a malformed trace is refused before anything runs"
sed 's/"ts":1009200000/"ts":10/' "$EXAMPLE" >bad.jsonl
run_bg replay bad.jsonl --reclaim memcg -o bad.json
[ $RC = 1 ] || fail "malformed: exit $RC, expected 1"
grep -q "line 5: time goes backwards" err.txt || fail "malformed: message: $(cat err.txt)"
no_leftovers "malformed" $PID
[ -e bad.json ] && fail "malformed: a result was written"

echo "9. usage errors and missing privileges"
"$M" replay --speed 0 "$EXAMPLE" 2>/dev/null; [ $? = 2 ] || fail "--speed 0 is not a usage error"
"$M" replay --reclaim zram "$EXAMPLE" 2>/dev/null; [ $? = 2 ] || fail "--reclaim zram is not a usage error"
"$M" replay --speed 2 --max-speed "$EXAMPLE" 2>/dev/null; [ $? = 2 ] || fail "--speed with --max-speed accepted"
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	cp "$EXAMPLE" "$T/ex.jsonl"
	chmod 755 "$T"
	chmod 644 "$T/ex.jsonl"
	(cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups "$M" replay --reclaim memcg \
		-o /dev/null "$T/ex.jsonl" 2>"$T/err.txt")
	RC=$?
	[ $RC = 4 ] || fail "memcg without root: exit $RC, expected 4: $(cat "$T/err.txt")"
	grep -q "root" "$T/err.txt" || fail "memcg without root: message: $(cat "$T/err.txt")"
else
	echo "   (setpriv unavailable: not checking the unprivileged case)"
fi

echo "10. a recorded workload replays on this kernel"
WL=${MMR_WORKLOAD_KNOWN:-}
if [ -n "$WL" ] && [ -x "$WL" ]; then
	if "$M" record -q -o wl.jsonl -- "$WL" >/dev/null 2>rec.err; then
		run_bg replay wl.jsonl -o wl.json --runs 2
		[ $RC = 0 ] || fail "recorded workload: exit $RC: $(cat err.txt)"
		no_leftovers "recorded workload" $PID
		rec=$(py 'r["summary"]["fidelity"]["ops_recorded"]' wl.json)
		[ "$rec" -gt 50 ] || fail "recorded workload: only $rec ops planned"
		[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' wl.json)" = "$rec" ] ||
			fail "recorded workload: not every op replayed"
		[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' wl.json)" = 0 ] ||
			fail "recorded workload: failures: $(py 'r["summary"]["fidelity"]["failures"]' wl.json)"
		# every recorded process fork, in each of the 2 runs
		forks=$(grep -c '"ev":"fork".*"thread":false' wl.jsonl)
		[ "$(py 'sum(o["hist"]["count"] for o in r["summary"]["ops"] if o["op"]=="fork")' wl.json)" = $((2 * forks)) ] ||
			fail "recorded workload: fork count is not 2 x $forks"
		# A static helper moves the kernel's [vvar]...[vdso] block to
		# where the recorded process had it: fork copies [vvar]'s entries.
		vv=$(python3 -c "import json,sys; h=json.loads(open(sys.argv[1]).readline()); print(*['%x' % m['start'] for m in h['maps'][0]['maps'] if m['file'] == '[vvar]'][:1])" wl.jsonl)
		if [ -n "$vv" ]; then
			# stretched to a second, whatever the recording's length
			speed=$(python3 -c "
import json, sys
ts = [e['ts'] for e in map(json.loads, open(sys.argv[1])) if 'ts' in e and e['ev'] not in ('header', 'footer')]
print('%.6f' % max(1e-4, (max(ts) - min(ts)) / 1e9))" wl.jsonl)
			"$M" replay wl.jsonl -o wl-slow.json --speed "$speed" --no-locks >out.txt 2>err.txt &
			PID=$!
			catch_maps ' \[vvar\]' wl-maps.txt
			wait $PID || fail "slow replay of the recorded workload: $(cat err.txt)"
			[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' wl-slow.json)" = 0 ] ||
				fail "slow replay of the recorded workload: failures: $(py 'r["summary"]["fidelity"]["failures"]' wl-slow.json)"
			if [ ! -s wl-maps.txt ]; then
				fail "no replay process of wl.jsonl found"
			elif grep -q 'ld-linux' wl-maps.txt; then
				echo "   (the helper is not static: its vDSO stays where exec put it)"
			else
				grep -q "^$vv-.* \[vvar\]" wl-maps.txt ||
					fail "the replay process's [vvar] is not at the recorded $vv: $(grep ' \[v' wl-maps.txt)"
			fi
		fi
	else
		echo "   (recording failed, not checking: $(tail -1 rec.err))"
	fi
else
	echo "   (MMR_WORKLOAD_KNOWN not set: not checking)"
fi

echo "11. replay processes run mmreplay-task (static: its data, bss and heap one mapping); without it they are forks of mmreplay"
"$M" replay "$FIX/replay-long.jsonl" -o helper.json --speed 5 --no-locks >out.txt 2>err.txt &
PID=$!
exe=
i=0
while [ $i -lt 100 ] && [ "${exe##*/}" != mmreplay-task ]; do
	for c in $(pgrep -P $PID); do
		exe=$(readlink /proc/"$c"/exe 2>/dev/null)
		[ -n "$exe" ] && break
	done
	[ "${exe##*/}" = mmreplay-task ] || sleep 0.05
	i=$((i + 1))
done
# past its start-up, at the barrier or running (the trace lasts seconds)
sleep 0.5
cp /proc/"$c"/maps helper-maps.txt 2>/dev/null
kill -INT $PID
wait $PID
case $exe in
*/mmreplay-task) ;;
*) fail "a replay process runs '$exe', not mmreplay-task" ;;
esac
[ -s helper-maps.txt ] || fail "could not read the helper's maps"
# A replayed fork copies every mapping with anonymous pages (an anon_vma
# each): a static helper keeps its own to one, after its code, starting a
# 2 MiB block (where the recorded binary and heap then go: exec-layout.c).
if ! grep -q 'ld-linux' helper-maps.txt; then
	python3 - "$exe" helper-maps.txt >maps-check.txt <<'PYEOF' || fail "helper mappings: $(cat maps-check.txt)"
import sys
exe, maps = sys.argv[1], [l.split() for l in open(sys.argv[2])]
code = [i for i, m in enumerate(maps) if len(m) > 5 and m[5] == exe]
if any(maps[i][1].startswith('rw') for i in code):
    sys.exit('its data is still a file mapping')
data = maps[code[-1] + 1]
lo, hi = (int(x, 16) for x in data[0].split('-'))
if data[1] != 'rw-p' or len(data) > 5 and data[5] != '[heap]' or lo % (2 << 20):
    sys.exit('no anonymous data mapping on a 2 MiB boundary after its code: ' + ' '.join(data))
nxt = maps[code[-1] + 2]
if int(nxt[0].split('-')[0], 16) == hi and nxt[1] == 'rw-p':
    sys.exit('its data, bss and heap are more than one mapping: ' + ' '.join(nxt))
PYEOF
fi
# A static helper runs a root task right below the recorded [stack], in
# one mapping with it: fork then copies page tables the recorded program
# had anyway, and one VMA less than with a stack of its own.
if ! grep -q 'ld-linux' helper-maps.txt; then
	read -r rstack rend <<EOF2
$(python3 -c "import json,sys; h=json.loads(open(sys.argv[1]).readline()); print(*['%x %x' % (m['start'], m['end']) for p in h['maps'] for m in p['maps'] if m['file'] == '[stack]'][:1])" "$FIX/replay-tree.jsonl")
EOF2
	"$M" replay "$FIX/replay-tree.jsonl" -o slow.json --speed 0.02 --no-locks >out.txt 2>err.txt &
	PID=$!
	catch_maps "-$rend rw-p" tree-maps.txt
	wait $PID
	[ -s tree-maps.txt ] || fail "no replay process of replay-tree.jsonl found with its [stack] ending at $rend"
	python3 - tree-maps.txt "$rstack" "$rend" <<'PYEOF' ||
import sys
lo, hi = int(sys.argv[2], 16), int(sys.argv[3], 16)
spans = [[int(x, 16) for x in l.split()[0].split('-')] for l in open(sys.argv[1])]
# one mapping from well below the recorded stack (the helper's frames) to its end
sys.exit(not any(s <= lo - (1 << 20) and e == hi for s, e in spans))
PYEOF
		fail "the root does not run on a stack in one mapping with the recorded one ($rstack-$rend): $(grep -i -- "-$rend" tree-maps.txt)"
	# ... and the recorded heap (at 0x555500000000, a 2 MiB boundary)
	# next to the helper's data, in its 512 GiB: one page of PUDs for both
	python3 - tree-maps.txt <<'PYEOF' || fail "the recorded heap is not next to the helper's data: $(head -4 tree-maps.txt)"
import sys
maps = [l.split() for l in open(sys.argv[1])]
starts = [int(m[0].split('-')[0], 16) for m in maps if m[1] == 'rw-p' and len(m) == 5]
sys.exit(not any(1 << 20 <= a < 1 << 39 and a % (2 << 20) == 0 for a in starts))
PYEOF
fi
MMREPLAY_TASK_HELPER= run_bg replay "$FIX/replay-tree.jsonl" -o inproc.json --no-locks
[ $RC = 0 ] || fail "in-process replay: exit $RC: $(cat err.txt)"
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' inproc.json)" = 24 ] ||
	fail "in-process replay: ops_replayed != 24"
[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' inproc.json)" = 0 ] ||
	fail "in-process replay: failures: $(py 'r["summary"]["fidelity"]["failures"]' inproc.json)"
MMREPLAY_TASK_HELPER=/nonexistent/mmreplay-task run_bg replay "$FIX/replay-tree.jsonl" -o nohelper.json --no-locks
[ $RC = 2 ] || fail "missing helper: exit $RC, expected 2"
[ "$(wc -l <err.txt)" = 1 ] && grep -q "MMREPLAY_TASK_HELPER" err.txt ||
	fail "missing helper: message: $(cat err.txt)"
[ -e nohelper.json ] && fail "missing helper: a result was written"

echo "12. a fork chain 1000 processes deep (each replayed child runs on in its parent's frames); on a 1 MiB stack, a listed failure"
python3 - "$FIX/replay-tree.jsonl" chain.jsonl <<'PYEOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
hdr = json.loads(open(src).readline())
depth, t0, pid0 = 1000, 5000000000, 100
heap = hdr["maps"][0]["maps"][0]["start"]
ev = []
for i in range(depth):
    p = pid0 + i
    # each process dirties a heap page, forks the next and waits for it
    ev.append({"ev": "fault", "ts": t0 + i * 100000, "pid": p, "tid": p, "addr": heap + 4096 * (i % 32), "err": 6})
    ev.append({"ev": "fork", "ts": t0 + i * 100000 + 50000, "pid": p, "tid": p, "child": p + 1, "thread": False, "flags": 18874385})
end = t0 + depth * 100000
for i in range(depth, -1, -1):
    end += 1000
    ev.append({"ev": "exit", "ts": end, "pid": pid0 + i, "tid": pid0 + i, "group": True})
counts = {k: 0 for k in ("fork", "exec", "exit", "mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "fault", "reclaim", "lock", "contention", "stack")}
for e in ev:
    counts[e["ev"]] += 1
foot = {"ev": "footer", "counts": counts, "faults": counts["fault"], "lost": [0, 0], "lost_total": 0,
        "end_ns": end + 1000, "duration_ns": end + 1000 - t0}
with open(out, "w") as f:
    for e in [hdr] + ev + [foot]:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
PYEOF
"$M" validate -q chain.jsonl || fail "chain fixture does not validate"
run_bg replay chain.jsonl -o chain.json --max-speed --no-locks
[ $RC = 0 ] || fail "fork chain: exit $RC: $(cat err.txt)"
[ "$(py 'r["summary"]["fidelity"]["ops_failed"]' chain.json)" = 0 ] ||
	fail "fork chain: failures: $(py 'r["summary"]["fidelity"]["failures"]' chain.json)"
[ "$(py 'r["summary"]["fidelity"]["ops_replayed"]' chain.json)" = "$(py 'r["summary"]["fidelity"]["ops_recorded"]' chain.json)" ] ||
	fail "fork chain: replayed $(py 'r["summary"]["fidelity"]["ops_replayed"]' chain.json) of $(py 'r["summary"]["fidelity"]["ops_recorded"]' chain.json) ops"
[ "$(py '"lag_tenths" in r["summary"]["fidelity"]' chain.json)" = False ] ||
	fail "fork chain, closed loop: lag by tenth of a timeline it did not follow"
# a hundred times its recorded pace, which no replay of it keeps: the lag
# grows through the run, and the closing line and the report say so
run_bg replay chain.jsonl -o chain-fast.json --speed 100 --no-locks
[ $RC = 0 ] || fail "fork chain, --speed 100: exit $RC: $(cat err.txt)"
grep -Eq "lag p50 .* p99 .* and growing[,;]" out.txt ||
	fail "fork chain, --speed 100: closing line does not say the lag grows: $(cat out.txt)"
[ "$(py '(lambda f, t: " ".join(map(str, (len(t), sum(x["ops"] for x in t) == f["ops_replayed"], t[-1]["mean_ns"] > 10 * max(t[0]["mean_ns"], 1) and t[-1]["max_ns"] >= t[-1]["mean_ns"]))))(r["summary"]["fidelity"], r["summary"]["fidelity"]["lag_tenths"])' chain-fast.json)" = "10 True True" ] ||
	fail "fork chain, --speed 100: lag by tenth: $(py 'r["summary"]["fidelity"].get("lag_tenths")' chain-fast.json)"
"$M" report chain-fast.json >report.txt 2>&1 && grep -q "^  the lag grows through the run" report.txt ||
	fail "fork chain, --speed 100: report: $(grep -i lag report.txt)"
# deeper than a 1 MiB stack holds: a listed failure, not a crashed replay process
(ulimit -s 1024 && exec "$M" replay chain.jsonl -o chain-deep.json --max-speed --no-locks) >out.txt 2>err.txt ||
	fail "fork chain, 1 MiB stack: exit $?: $(cat err.txt)"
[ "$(py '[f["count"] for f in r["summary"]["fidelity"]["failures"] if f["op"] == "fork" and "ulimit -s" in f["error"]]' chain-deep.json)" = "[1]" ] ||
	fail "fork chain, 1 MiB stack: failures: $(py 'r["summary"]["fidelity"]["failures"]' chain-deep.json)"
# the ops the unforked tasks never ran are named on the closing line, and the report says why
notrun=$(py 'r["summary"]["fidelity"]["ops_recorded"] - r["summary"]["fidelity"]["ops_replayed"]' chain-deep.json)
[ "$notrun" -gt 0 ] && grep -q " failed, $notrun not run)" out.txt ||
	fail "fork chain, 1 MiB stack: closing line does not count the $notrun ops not run: $(cat out.txt)"
"$M" report chain-deep.json >report.txt 2>&1 && grep -q "^  failure: task not started x[1-9]" report.txt ||
	fail "fork chain, 1 MiB stack: report does not list the tasks not started: $(grep failure report.txt)"

echo "PASS"
