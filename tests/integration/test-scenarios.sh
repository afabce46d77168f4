#!/bin/bash
# Every built-in scenario, recorded for a few seconds on this kernel: the
# stress each one claims shows up in its recording, and nothing is left
# behind (cgroups, swap, zram, mounts, files, tracefs instances,
# processes), also after Ctrl-C. Effects this machine cannot show (too few
# CPUs for a given wait to happen in a short run) are reported as SKIP
# with the reason, never passed silently. Needs root and tracefs (77).
. "$(dirname "$0")/../e2e/lib.sh"
STATS="$(dirname "$0")/scn-trace-stats.py"
DUR=${MMR_SCN_DURATION:-2}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -d /sys/kernel/tracing/events ] || { echo "SKIP: tracefs not mounted"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }

nskip=0
skip() { nskip=$((nskip + 1)); echo "skip - $*"; }
count() { python3 "$STATS" "$1" --count "$2"; }
# stat NAME: a counter from the last run's summary (stdout)
stat() { awk -v k="$1" '$1 == k { print $2; exit }' "$T/out"; }

# expect_some FILE QUERY DESC: the trace has such events
expect_some() {
	local n
	n=$(count "$1" "$2")
	if [ "${n:-0}" -gt 0 ]; then ok "$3 ($n)"; else not_ok "$3 (none: $2)"; fi
}
# maybe_some FILE QUERY DESC REASON: present, or skipped with the reason
maybe_some() {
	local n
	n=$(count "$1" "$2")
	if [ "${n:-0}" -gt 0 ]; then ok "$3 ($n)"; else skip "$3: $4"; fi
}
expect_stat_gt() {
	local v
	v=$(stat "$1")
	if [ "${v:-0}" -gt "$2" ]; then ok "$3 ($1=$v)"; else not_ok "$3 ($1=${v:-missing})"; fi
}

# What a run must not leave behind. $1: the runner's pid, $2: the trace.
left_nothing() {
	local pid=$1 trace=$2 name=$3 root zram bad=""
	[ -e /sys/fs/cgroup/memory/mmreplay-$pid ] && bad="$bad cgroup"
	[ -e /sys/fs/cgroup/mmreplay-$pid ] && bad="$bad cgroup-v2"
	[ -e /run/mmreplay/reclaim-$pid ] && bad="$bad reclaim-state"
	[ -e /sys/kernel/tracing/instances/mmreplay-$pid ] && bad="$bad tracefs-instance"
	grep -q " /tmp/mmreplay-scn-$pid-" /proc/mounts && bad="$bad mount"
	ls -d /tmp/mmreplay-scn-$pid-* >/dev/null 2>&1 && bad="$bad mount-dir"
	[ -e /var/tmp/mmreplay-scn-$pid-data ] && bad="$bad data-file"
	zram=$(grep -o 'zram[0-9]* swap' "$T/out" | head -1 | cut -d' ' -f1)
	# the same device number may be in use by a concurrent mmreplay run: its state file says so
	if [ -n "$zram" ] && ! grep -qx "zram ${zram#zram}" /run/mmreplay/reclaim-* 2>/dev/null; then
		grep -q "^/dev/$zram " /proc/swaps && bad="$bad swap-$zram"
		[ "$(cat /sys/block/$zram/disksize 2>/dev/null || echo 0)" != 0 ] && bad="$bad $zram-configured"
	fi
	if [ -s "$trace" ]; then
		root=$(python3 "$STATS" "$trace" --root)
		[ "${root:-0}" -gt 0 ] && pgrep -g "$root" >/dev/null && bad="$bad processes(pgid $root)"
	fi
	if [ -z "$bad" ]; then ok "$name: nothing left behind"; else not_ok "$name: left behind:$bad"; fi
}

# run_scn NAME ARGS...: record NAME for $DUR s into $T/NAME.jsonl; sets rc
run_scn() {
	local name=$1
	shift
	"$MMREPLAY" scenario run "$name" --duration "$DUR" "$@" --record "$T/$name.jsonl" \
		>"$T/out" 2>"$T/err" &
	local pid=$!
	wait $pid
	rc=$?
	sed 's/^/    /' "$T/out"
	if [ "$rc" = 0 ]; then ok "$name: ran and recorded"; elif [ "$rc" = 4 ]; then :; else
		not_ok "$name: exit $rc"; sed 's/^/    /' "$T/err" | tail -5
	fi
	if [ "$rc" = 0 ]; then
		if "$MMREPLAY" validate -q "$T/$name.jsonl" 2>"$T/val"; then ok "$name: trace valid"; else
			not_ok "$name: trace valid"; head -3 "$T/val"; fi
	fi
	left_nothing "$pid" "$T/$name.jsonl" "$name"
}

TWO_CPU="on $(nproc) CPUs in ${DUR} s this wait did not happen (the seed data needed many runnable tasks; run on a bigger machine)"

# ---- usage errors: one line, exit 2
expect_rc 2 "unknown scenario: exit 2" -- "$MMREPLAY" scenario run no-such-scenario
expect_one_line_err "unknown scenario: one line"
expect_rc 2 "unknown parameter: exit 2" -- "$MMREPLAY" scenario run zygote bogus=1
expect_one_line_err "unknown parameter: one line"
expect_rc 2 "bad parameter value: exit 2" -- "$MMREPLAY" scenario run zygote reclaim=sometimes
expect_rc 0 "scenario list" -- "$MMREPLAY" scenario list
for s in zygote fork-under-fault-io heap-mprotect uffd-move fork-topology cow-break; do
	expect_out out "^$s " "listed: $s"
done

# ---- zygote: anon_vma root rwsem, reclaim vs fork/mprotect/exit
# (a 32 MiB heap: with 64 MiB the children's COW under the memcg limit
# alone takes about 2 s on 2 CPUs; a longer run gives the writers a chance)
run_scn zygote heap=32M --duration $((DUR + 2))
F=$T/zygote.jsonl
if [ "$rc" = 0 ]; then
	expect_some "$F" "ev=reclaim" "zygote: reclaim ran against the tree"
	expect_some "$F" "ev=contention,class=anon_vma" "zygote: anon_vma contention samples"
	expect_some "$F" "ev=contention,class=anon_vma,frame_any=rmap_walk_anon|folio_lock_anon_vma_read" \
		"zygote: reclaim side (rmap_walk_anon) waits on the anon_vma root"
	maybe_some "$F" "ev=contention,class=anon_vma,op=fork,frame=anon_vma_fork" \
		"zygote: fork waits on the anon_vma root (anon_vma_fork)" "$TWO_CPU"
	maybe_some "$F" "ev=contention,class=anon_vma,op=mprotect,frame=anon_vma_clone" \
		"zygote: mprotect waits on the anon_vma root (anon_vma_clone)" "$TWO_CPU"
	maybe_some "$F" "ev=contention,class=anon_vma,op=exit,frame=unlink_anon_vmas" \
		"zygote: exit waits on the anon_vma root (unlink_anon_vmas)" "$TWO_CPU"
	expect_stat_gt grandchildren 0 "zygote: fork+exit loop ran"
	expect_stat_gt mprotects 0 "zygote: mprotect loop ran"
fi

# ---- fork-under-fault-io: fork vs fault I/O, chained waiting on mmap_lock
run_scn fork-under-fault-io
F=$T/fork-under-fault-io.jsonl
if [ "$rc" = 0 ]; then
	if grep -q "slow I/O: FUSE" "$T/out"; then
		expect_stat_gt fuse_reads 0 "fork-under-fault-io: faults did FUSE I/O"
	else
		skip "fork-under-fault-io: FUSE unusable here, page-cache eviction was used"
	fi
	expect_stat_gt vmas 1000 "fork-under-fault-io: 1000+ VMAs"
	expect_stat_gt threads 9 "fork-under-fault-io: 10+ threads"
	expect_some "$F" "ev=lock,op=fork,mode=write,kind=hold" "fork-under-fault-io: fork holds mmap_lock for write"
	expect_some "$F" "ev=lock,op=fault,mode=read,kind=wait" "fork-under-fault-io: faults wait for mmap_lock"
	maybe_some "$F" "ev=lock,op=fork,mode=write,kind=wait" \
		"fork-under-fault-io: fork waits for mmap_lock" "$TWO_CPU"
	maybe_some "$F" "ev=contention,class=mmap_lock,op=fault" \
		"fork-under-fault-io: chained waiting (faults block on mmap_lock rwsem)" "$TWO_CPU"
fi

# ---- heap-mprotect: mmap_lock writers vs faults falling back from the VMA lock
run_scn heap-mprotect
F=$T/heap-mprotect.jsonl
if [ "$rc" = 0 ]; then
	expect_some "$F" "ev=lock,op=mprotect,mode=write,kind=hold" "heap-mprotect: mprotect holds mmap_lock for write"
	expect_some "$F" "ev=lock,op=fault,mode=read,kind=wait" \
		"heap-mprotect: faults fall back to mmap_lock and wait"
	maj=$(awk '/page faults \(tree\)/ { print $(NF-1) }' "$T/out")
	if [ "${maj:-0}" -gt 0 ]; then ok "heap-mprotect: swap-in faults (do_swap_page): $maj major"; else
		not_ok "heap-mprotect: no major (swap-in) faults"; fi
	maybe_some "$F" "ev=contention,class=mmap_lock,op=fault" \
		"heap-mprotect: faults block on the mmap_lock rwsem" "$TWO_CPU"
fi

# ---- uffd-move: UFFDIO_MOVE vs reclaim on the shared root
run_scn uffd-move
F=$T/uffd-move.jsonl
if [ "$rc" = 4 ]; then
	skip "uffd-move: not supported by this kernel ($(tail -1 "$T/err"))"
elif [ "$rc" = 0 ]; then
	expect_stat_gt moves 0 "uffd-move: UFFDIO_MOVE ran"
	expect_stat_gt moved_bytes 0 "uffd-move: pages moved"
	v=$(stat data_mismatches)
	[ "${v:-1}" = 0 ] && ok "uffd-move: moved data arrived intact" || not_ok "uffd-move: data mismatches: $v"
	expect_some "$F" "ev=reclaim" "uffd-move: reclaim ran against the tree"
	expect_some "$F" "ev=contention,class=anon_vma,frame_any=rmap_walk_anon|folio_lock_anon_vma_read" \
		"uffd-move: reclaim waits on the anon_vma root"
	maybe_some "$F" "ev=contention,frame=move_pages" \
		"uffd-move: UFFDIO_MOVE waits for the anon_vma root" "$TWO_CPU"
fi

# ---- fork-topology: the tree shapes
run_scn fork-topology
F=$T/fork-topology.jsonl
if [ "$rc" = 0 ]; then
	d=$(python3 "$STATS" "$F" --depth)
	[ "${d:-0}" -ge 4 ] && ok "fork-topology: root->A->B->C chains recorded (depth $d)" ||
		not_ok "fork-topology: tree depth ${d:-0} < 4"
	expect_some "$F" "ev=mremap" "fork-topology: mremap in the child"
	r=$(python3 "$STATS" "$F" --remaps)
	[ "${r:-0}" -gt 0 ] && ok "fork-topology: munmap + mmap at the same address ($r)" ||
		not_ok "fork-topology: no mmap at an unmapped address"
	expect_stat_gt watchdogs 0 "fork-topology: watchdog children"
	maybe_some "$F" "ev=contention,class=anon_vma" "fork-topology: anon_vma chain contention" "$TWO_CPU"
fi

# ---- cow-break: memory cost of the early unshare vs its contention
run_scn cow-break heap=32M
F=$T/cow-break.jsonl
if [ "$rc" = 0 ]; then
	n=$(stat children)
	kib=$(stat private_kib_after_unshare)
	want=$(( ${n:-0} * 32768 * 9 / 10 ))
	[ "${kib:-0}" -ge "$want" ] && ok "cow-break: each child owns its copy after MADV_POPULATE_WRITE ($kib KiB)" ||
		not_ok "cow-break: private KiB after unshare ${kib:-0} < $want"
	expect_some "$F" "ev=madvise,advice=23" "cow-break: MADV_POPULATE_WRITE recorded"
	expect_some "$F" "ev=lock,op=madvise,mode=read,kind=hold" "cow-break: the populate holds mmap_lock"
	maybe_some "$F" "ev=contention,class=anon_vma" "cow-break: anon_vma contention" "$TWO_CPU"
fi

# ---- Ctrl-C in the middle: footer written, every setting undone
"$MMREPLAY" scenario run zygote --duration 30 --record "$T/int.jsonl" >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
[ "$rc" = 0 ] && ok "SIGINT: clean exit" || not_ok "SIGINT: exit $rc"
"$MMREPLAY" validate -q "$T/int.jsonl" 2>/dev/null && ok "SIGINT: trace complete and valid" ||
	not_ok "SIGINT: trace valid"
left_nothing "$pid" "$T/int.jsonl" "SIGINT"

echo "$nskip skipped"
finish
