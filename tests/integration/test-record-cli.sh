#!/bin/bash
# mmreplay record from the command line: a kernel without an event (hidden
# with MMREPLAY_HIDE_EVENTS), no privilege, a command that cannot run,
# -d and Ctrl-C, and what each leaves behind.
. "$(dirname "$0")/../e2e/lib.sh"
WORKLOAD=${MMR_WORKLOAD:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -d /sys/kernel/tracing/events ] || { echo "SKIP: tracefs not mounted"; exit 77; }
no_instance() { [ -z "$(ls -d /sys/kernel/tracing/instances/mmreplay-* 2>/dev/null)" ]; }

# 1. events missing on this kernel: named once, recording goes on
MMREPLAY_HIDE_EVENTS=lock:contention_begin,syscalls:sys_enter_mprotect \
	expect_rc 0 "record with two events missing" -- "$MMREPLAY" record -o "$T/m.jsonl" -- "$WORKLOAD" -n 1 -s 0.3
expect_out err "no lock:contention_begin: the trace will lack rwsem" "missing event named with what is lost"
[ "$(grep -c 'no syscalls:sys_enter_mprotect' "$T/err")" = 1 ] && ok "reported once" || not_ok "reported once"
expect_rc 0 "trace still valid" -- "$MMREPLAY" validate "$T/m.jsonl"
grep -q '"missing_events":\["syscalls:sys_enter_mprotect","lock:contention_begin"\]' "$T/m.jsonl" &&
	ok "header lists the missing events" || not_ok "header lists the missing events"
! grep -q '"ev":"mprotect"' "$T/m.jsonl" && ok "no mprotect lines without the event" || not_ok "no mprotect lines"
grep -q '"ev":"fault"' "$T/m.jsonl" && ok "the rest is recorded" || not_ok "the rest is recorded"
no_instance && ok "no instance left" || not_ok "no instance left"
# The held child's life before exec is the recorder's, not the program's:
# the recorder sees it through its exec (stopped there under ptrace) and
# the header holds the program's own image for it, the binary and the
# stack, none of mmreplay's maps; the exec itself is not an event.
expect_rc 0 "record --keep-paths -- CMD" -- "$MMREPLAY" record -q --keep-paths -o "$T/k.jsonl" -- "$WORKLOAD" -n 1 -s 0.1
python3 - "$T/k.jsonl" "$(readlink -f "$WORKLOAD")" "$(readlink -f "$MMREPLAY")" <<'PY' &&
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
pid = lines[0]['filters']['pids'][0]
maps = [m for p in lines[0]['maps'] if p['pid'] == pid for m in p['maps']]
files = {m['file'] for m in maps}
ok = (sys.argv[2] in files and '[stack]' in files and sys.argv[3] not in files
      and not any(e['ev'] == 'exec' and e.get('pid') == pid for e in lines[1:]))
sys.exit(0 if ok else 1)
PY
	ok "-- CMD: the header has the program's image, no exec event" ||
	not_ok "-- CMD: the header has the program's image, no exec event"

# 2. no privilege: exit 4, one line that says what to do
if command -v setpriv >/dev/null; then
	expect_rc 4 "unprivileged record exits 4" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MMREPLAY" record -o /tmp/mmr-nobody.jsonl -- true
	expect_out err "root" "the message says to run as root"
	expect_one_line_err "one line"
	[ ! -e /tmp/mmr-nobody.jsonl ] && ok "no file created" || { not_ok "no file created"; rm -f /tmp/mmr-nobody.jsonl; }
fi

# 3. a command that cannot run
expect_rc 0 "record of a missing program still finishes" -- "$MMREPLAY" record -q -o "$T/x.jsonl" -- /nonexistent/prog
expect_out err "cannot run /nonexistent/prog" "says the command could not be run"
no_instance && ok "no instance left" || not_ok "no instance left"

# 4. -d stops a recording of a longer command; Ctrl-C (SIGINT) writes the footer
expect_rc 0 "-d 1 on a 3 s command" -- "$MMREPLAY" record -q -d 1 -o "$T/d.jsonl" -- "$WORKLOAD" -n 1 -s 3
grep -q '"ev":"footer"' "$T/d.jsonl" && ok "-d: footer written" || not_ok "-d: footer written"
# Ctrl-C reaches the whole foreground process group: do the same
setsid "$MMREPLAY" record -q -o "$T/c.jsonl" -- "$WORKLOAD" -n 1 -s 5 &
pid=$!
sleep 1.5
kill -INT -- -$pid
wait $pid; rc=$?
[ "$rc" = 0 ] && ok "SIGINT: exit 0" || not_ok "SIGINT: exit $rc"
"$MMREPLAY" validate -q "$T/c.jsonl" && grep -q '"ev":"footer"' "$T/c.jsonl" && ok "SIGINT: complete trace" || not_ok "SIGINT: complete trace"
no_instance && ok "no instance left" || not_ok "no instance left"
! pgrep -f "$WORKLOAD -n 1 -s 5" >/dev/null && ok "traced command stopped" || { not_ok "traced command left running"; pkill -f "$WORKLOAD -n 1 -s 5"; }

# 5. lock samples in a parent's wait are not its last fault's: a fork loop
# on 2 CPUs contends on tasklist_lock in wait4 hundreds of times a second
# (after the stack copy-on-write fault of every fork)
if [ -n "${MMR_FORK_WORKLOAD:-}" ]; then
	expect_rc 0 "record a fork loop" -- "$MMREPLAY" record -q -o "$T/f.jsonl" -- "$MMR_FORK_WORKLOAD" -s 1
	python3 - "$T/f.jsonl" >"$T/wait.txt" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
stacks = {e['id']: e['frames'] for e in ev if e['ev'] == 'stack'}
ops = [e['op'] for e in ev if e['ev'] == 'contention' and
       {'do_wait', '__do_wait', 'kernel_wait4'} & set(stacks.get(e.get('stack'), []))]
print(len(ops), sum(op == 'fault' for op in ops))
PY
	read -r nwait nfault <"$T/wait.txt"
	if [ "${nwait:-0}" -gt 0 ]; then
		[ "$nfault" = 0 ] && ok "wait4 contention ($nwait) is not a fault's" ||
			not_ok "$nfault of $nwait wait4 contentions attributed to a fault"
	else
		echo "# no contention in wait4 in this recording: attribution not checked"
	fi
	no_instance && ok "no instance left" || not_ok "no instance left"
fi

# 6. usage errors
expect_rc 2 "no target" -- "$MMREPLAY" record -o "$T/u.jsonl"
expect_rc 2 "--comm without -a" -- "$MMREPLAY" record --comm x -- true
expect_rc 2 "bad event group" -- "$MMREPLAY" record -e bogus -- true
expect_out err "unknown event group 'bogus'" "names the bad group"
finish
