#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise a trace v1 file for the scenario tests (and for humans).

  scn-trace-stats.py TRACE                 a table: contention by class/op,
                                           mmap_lock waits/holds by op/mode,
                                           reclaim episodes, top stack frames
  scn-trace-stats.py TRACE --count QUERY   one number, for shell assertions
  scn-trace-stats.py TRACE --depth         deepest process in the traced tree
                                           (the followed root is 1)
  scn-trace-stats.py TRACE --remaps        mmaps placed exactly where the same
                                           process had unmapped before
  scn-trace-stats.py TRACE --root          pid of the followed root

QUERY is a comma-separated list of KEY=VALUE filters on one event type:
  ev=contention,class=anon_vma,op=fork       contention samples
  ev=contention,frame=rmap_walk_anon         ... whose stack has that frame
  ev=lock,mode=write,kind=hold,op=mprotect   mmap_lock samples
  ev=reclaim                                 reclaim episodes
  ev=fault,major=1                           (fields are compared as text)
frame= may be given several times (all must be in the stack); frame_any=a|b
matches when one of them is.
"""
import json
import signal
import sys
from collections import Counter


def load(path):
    stacks, events = {}, []
    opener = open
    if path.endswith(".zst"):
        import subprocess
        data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
        lines = data.decode().splitlines()
    else:
        with opener(path) as f:
            lines = f.read().splitlines()
    for line in lines:
        if not line:
            continue
        e = json.loads(line)
        if e.get("ev") == "stack":
            stacks[e["id"]] = e["frames"]
        else:
            events.append(e)
    return stacks, events


def matches(e, stacks, filters):
    for k, v in filters:
        if k == "frame":
            if v not in stacks.get(e.get("stack"), []):
                return False
        elif k == "frame_any":
            fr = stacks.get(e.get("stack"), [])
            if not any(x in fr for x in v.split("|")):
                return False
        elif str(e.get(k)).lower() != v.lower():
            return False
    return True


def count(stacks, events, query):
    filters = [tuple(p.split("=", 1)) for p in query.split(",") if p]
    return sum(1 for e in events if matches(e, stacks, filters))


def depth(events):
    parent = {}
    for e in events:
        if e["ev"] == "fork" and not e.get("thread"):
            parent[e["child"]] = e["pid"]
    best = 0
    for p in parent:
        d, q, seen = 1, p, set()
        while q in parent and q not in seen:
            seen.add(q)
            q = parent[q]
            d += 1
        best = max(best, d)
    return best


def remaps(events):
    unmapped, n = {}, 0
    for e in events:
        if e["ev"] == "munmap" and e.get("ret", 0) == 0:
            unmapped.setdefault(e["pid"], set()).add(e["addr"])
        elif e["ev"] == "mmap" and e.get("ret", -1) in unmapped.get(e["pid"], ()):
            n += 1
    return n


def root(events):
    for e in events:
        if e["ev"] not in ("header", "footer", "stack") and "pid" in e:
            return e["pid"]
    return 0


def table(stacks, events):
    cont = Counter((e["class"], e["op"]) for e in events if e["ev"] == "contention")
    print("contention samples by class/op:")
    for (c, o), n in cont.most_common():
        print(f"  {c:10} {o:10} {n:8}")
    locks = Counter((e["op"], e["mode"], e["kind"]) for e in events if e["ev"] == "lock")
    lsum = Counter()
    for e in events:
        if e["ev"] == "lock":
            lsum[(e["op"], e["mode"], e["kind"])] += e.get("dur", 0)
    print("mmap_lock samples by op/mode/kind (count, total ms):")
    for k, n in locks.most_common(15):
        print(f"  {k[0]:10} {k[1]:6} {k[2]:5} {n:8} {lsum[k] / 1e6:10.2f}")
    rec = Counter(e["kind"] for e in events if e["ev"] == "reclaim")
    print("reclaim episodes:", dict(rec))
    frames = Counter()
    for e in events:
        if e["ev"] == "contention" and e["class"] == "anon_vma":
            for f in stacks.get(e.get("stack"), []):
                if f in ("rmap_walk_anon", "folio_lock_anon_vma_read", "anon_vma_fork",
                         "anon_vma_clone", "unlink_anon_vmas", "__anon_vma_prepare",
                         "try_to_unmap", "folio_referenced", "move_pages", "dup_mmap",
                         "mprotect_fixup", "exit_mmap", "free_pgtables",
                         "reclaim_folio_list", "shrink_folio_list", "vma_modify",
                         "move_vma", "copy_vma"):
                    frames[f] += 1
    print("anon_vma contention: samples whose stack has the frame:")
    for f, n in frames.most_common():
        print(f"  {f:28} {n:8}")
    ops = Counter(e["ev"] for e in events)
    print("events:", dict(ops))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head is fine
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    stacks, events = load(sys.argv[1])
    if len(sys.argv) == 4 and sys.argv[2] == "--count":
        print(count(stacks, events, sys.argv[3]))
        return 0
    if len(sys.argv) == 3:
        fn = {"--depth": depth, "--remaps": remaps, "--root": root}.get(sys.argv[2])
        if not fn:
            print(__doc__)
            return 2
        print(fn(events))
        return 0
    table(stacks, events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
