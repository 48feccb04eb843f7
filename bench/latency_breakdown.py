#!/usr/bin/env python3
"""Where a workflow's start-to-close time goes at concurrency 1 (README "Performance").

Reads the trace files that a server and a workflow_bench built with
-DTEMPORALITE_LATENCY_TRACE=ON write at exit when TEMPORALITE_LATENCY_TRACE=PREFIX is set
(src/common/latency_trace.h; both use CLOCK_MONOTONIC, so their points line up), follows each
workflow's critical path through them and prints the median of every segment:

  cmake -S . -B build-trace -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEMPORALITE_UI=OFF \
        -DTEMPORALITE_LATENCY_TRACE=ON
  cmake --build build-trace -j1 --target temporalite workflow_bench
  TEMPORALITE_LATENCY_TRACE=/tmp/lt TEMPORALITE_BIN=build-trace/temporalite \
    WORKFLOW_BENCH=build-trace/bench/workflow_bench \
    bench/run_workflow_bench.sh --concurrency 1 --workflows 500 --warmup 50
  bench/latency_breakdown.py /tmp/lt.*

Only meaningful at concurrency 1 (one workflow in flight, so points follow one another) and
without eager dispatch (the path it follows is start, poll, completion, poll, activity completion,
poll, completion).
"""
import argparse
import statistics

COMMIT = ["s.unary_in", "s.commit_enq", "s.txn_begin", "s.commit_begin", "s.commit_end"]
POLL_REPLY = ["s.poll_finish"]


def critical_path():
    """The points one workflow's critical path passes, in order, with each step's name."""
    steps = [("start", "c.start_send", POLL_REPLY, "c.wftpoll_ret"),
             ("workflow task 1", "c.rwft_send", POLL_REPLY, "c.actpoll_ret"),
             ("activity", "c.ract_send", POLL_REPLY, "c.wftpoll_ret"),
             ("workflow task 2", "c.rwft_send", ["s.finish"], "c.rwft_ret")]
    path = []
    for name, send, reply, received in steps:
        path += [(name, p) for p in [send] + COMMIT + reply + [received]]
    return path


SEGMENT = {  # (from, to) -> what the time is
    ("c.start_send", "s.unary_in"): "request: driver's call -> server handler",
    ("c.rwft_send", "s.unary_in"): "request: driver's call -> server handler",
    ("c.ract_send", "s.unary_in"): "request: driver's call -> server handler",
    ("s.unary_in", "s.commit_enq"): "engine: handler -> commit queued",
    ("s.commit_enq", "s.txn_begin"): "commit queued -> transaction begins",
    ("s.txn_begin", "s.commit_begin"): "SQLite: BEGIN + the batch's writes",
    ("s.commit_begin", "s.commit_end"): "SQLite COMMIT: WAL write + fdatasync",
    ("s.commit_end", "s.poll_finish"): "commit done -> reply's Finish",
    ("s.commit_end", "s.finish"): "commit done -> reply's Finish",
    ("s.poll_finish", "c.wftpoll_ret"): "poll reply: Finish -> driver has the response",
    ("s.poll_finish", "c.actpoll_ret"): "poll reply: Finish -> driver has the response",
    ("s.finish", "c.rwft_ret"): "reply: Finish -> driver has the response",
    ("c.wftpoll_ret", "c.rwft_send"): "driver: response -> next call",
    ("c.actpoll_ret", "c.ract_send"): "driver: response -> next call",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--skip", type=int, default=50, help="workflows to leave out first (warm-up)")
    args = ap.parse_args()
    points = []
    inside_finish, open_finish = [], {}
    for f in args.files:
        with open(f) as fh:
            for line in fh:
                ns, name, thread = line.split()
                points.append((int(ns), name))
                if name == "s.poll_finish":
                    open_finish[thread] = int(ns)
                elif name == "s.poll_finish_ret" and thread in open_finish:
                    inside_finish.append((int(ns) - open_finish.pop(thread)) / 1000)
    points.sort()
    path = critical_path()
    names = [p for _, p in path]
    starts = [i for i, (_, n) in enumerate(points) if n == "c.start_send"]
    runs = []
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(points)
        j, times = 0, []
        for ns, n in points[i:end]:  # the path's points in order; others interleave
            if j < len(names) and n == names[j]:
                times.append(ns)
                j += 1
        if j == len(names):
            runs.append(times)
    runs = runs[args.skip:]
    if not runs:
        raise SystemExit("no workflow followed the expected path (concurrency 1, no eager dispatch?)")
    totals = [(r[-1] - r[0]) / 1000 for r in runs]
    print(f"workflows: {len(runs)}  path p50 {statistics.median(totals):.0f} us  mean {statistics.mean(totals):.0f} us")
    by_kind = {}
    print(f"{'step':<16} {'segment':<58} {'p50 us':>8}")
    for d in range(len(path) - 1):
        key = (names[d], names[d + 1])
        med = statistics.median((r[d + 1] - r[d]) / 1000 for r in runs)
        kind = SEGMENT.get(key, f"{key[0]} -> {key[1]}")
        print(f"{path[d][0]:<16} {kind:<58} {med:8.1f}")
        by_kind[kind] = by_kind.get(kind, 0) + med
    if inside_finish:
        print(f"(a poll reply's Finish call returns after {statistics.median(inside_finish):.0f} us (p50) on the "
              "committing thread; the driver may have the response before that)")
    print()
    print(f"{'segment (all steps)':<60} {'sum of p50s, us':>16}")
    for kind, us in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"{kind:<60} {us:16.0f}")


if __name__ == "__main__":
    main()
