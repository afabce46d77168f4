#!/bin/bash
# Recorder overhead benchmark (issue "Recorder"). Interleaved runs of the
# page-fault workload, medians over REPS:
#   (a) no tracing                          -- the anchor
#   (b) the same events on, nobody reading  -- the floor
#   (c) perf record -a of the same events   -- a peer
#   (d) mmreplay record
# Prints throughput ratios against (a) from this same run, the recorder's
# CPU per second of workload, lost events and bytes per fault.
# Usage: bench/run-record-bench.sh [BUILD_DIR] [REPS] [SECONDS]   (root)
set -u
build=${1:-build}
reps=${2:-5}
secs=${3:-3}
wl=$build/bench/fault-workload
floor=$build/bench/tracefs-floor
mmr=$build/cli/mmreplay
T=$(mktemp -d /tmp/mmr-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
[ "$(id -u)" = 0 ] || { echo "run as root (tracefs)"; exit 4; }

# The events the recorder enables, as perf wants them.
events=$("$mmr" info --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("-e " + k for k, v in d["events"].items() if v))')

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fps() { sed -n 's/.*faults_per_sec \([0-9.]*\).*/\1/p' "$1"; }

for r in $(seq "$reps"); do
	# rotate the order so drift over time does not favour one mode
	for m in $(echo a b c d a b c d | cut -d' ' -f$(( (r - 1) % 4 + 1 ))-$(( (r - 1) % 4 + 4 ))); do
		case $m in
		a) "$wl" -s "$secs" >"$T/out" 2>&1 ;;
		b) "$floor" "$wl" -s "$secs" >"$T/out" 2>&1 ;;
		c) perf record -a -q $events -o "$T/perf.data" -- "$wl" -s "$secs" >"$T/out" 2>"$T/perf.err"
		   stat -c %s "$T/perf.data" >>"$T/c.bytes" ;;
		d) "$mmr" record -o "$T/d.jsonl" -- "$wl" -s "$secs" >"$T/out" 2>"$T/d.err"
		   sed -n 's/.*recorder CPU: \([0-9.]*\) s.*/\1/p' "$T/d.err" >>"$T/d.cpu"
		   sed -n 's/.*LOST EVENTS: \([0-9]*\).*/\1/p' "$T/d.err" >>"$T/d.lost"
		   sed -n 's/.*faults: .*(\([0-9.]*\) bytes\/fault).*/\1/p' "$T/d.err" >>"$T/d.bpf"
		   "$mmr" validate -q "$T/d.jsonl" || echo "INVALID TRACE" >>"$T/d.invalid" ;;
		esac
		fps "$T/out" >>"$T/$m.fps"
		echo "rep $r mode $m: $(fps "$T/out") faults/s"
	done
done

a=$(median <"$T/a.fps"); b=$(median <"$T/b.fps"); c=$(median <"$T/c.fps"); d=$(median <"$T/d.fps")
cpu=$(median <"$T/d.cpu")
lost=$(awk '{s+=$1} END {print s+0}' "$T/d.lost" 2>/dev/null)
bpf=$(median <"$T/d.bpf")
echo
echo "page-fault workload, $(nproc) CPUs, ${secs}s x $reps interleaved reps (medians)"
printf "  (a) no tracing             %12.0f faults/s   1.000\n" "$a"
printf "  (b) events on, no reader   %12.0f faults/s   b/a = %.3f  (floor)\n" "$b" "$(echo "$b/$a" | bc -l)"
printf "  (c) perf record -a         %12.0f faults/s   c/a = %.3f\n" "$c" "$(echo "$c/$a" | bc -l)"
printf "  (d) mmreplay record        %12.0f faults/s   d/a = %.3f  (target >= 0.90)\n" "$d" "$(echo "$d/$a" | bc -l)"
printf "  recorder CPU               %.1f%% of one core (target <= 30%%)\n" "$(echo "100*$cpu/$secs" | bc -l)"
printf "  lost events (all d runs)   %s (target 0)\n" "$lost"
printf "  trace bytes per fault      %s (target <= 2)\n" "$bpf"
[ -e "$T/d.invalid" ] && echo "  WARNING: some traces did not validate"
exit 0
