"""Conversion throughput of two idtrack-sc checkouts side by side, on the same queries.

Each (checkout, snapshot) pair runs in its own child process, alternating, ``--rounds`` times;
each child builds the index (timed) and converts the same 100,000 mixed human queries seven
times (median). Used to check that a change keeps conversion throughput, e.g. before and after
the snapshot gained loci, transcripts and inferred history::

    python benchmarks/bench_side_by_side.py \\
        --a /path/to/old/src /path/to/old/homo_sapiens-114.idtrack.zip \\
        --b src scripts/work/homo_sapiens-114.idtrack.zip --tables scripts/work

Not part of the tests; prints one JSON line per run and a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import json, statistics, sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
import queries as Q
import idtrack_sc as its
pools = Q.human_pools(Path({tables!r}))
values = list(Q.draw(pools, Q.HUMAN_MIX, 100_000, organism="homo_sapiens").queries)
snap = its.load_snapshot({snapshot!r})
for to in ("ensembl_gene", "symbol"):
    t0 = time.perf_counter(); its.convert(values[:1], snapshot=snap, to=to); build = time.perf_counter() - t0
    runs = []
    for _ in range(7):
        t0 = time.perf_counter(); its.convert(values, snapshot=snap, to=to); runs.append(time.perf_counter() - t0)
    print(json.dumps({{"to": to, "index_build_s": build, "warm_s": statistics.median(runs)}}))
"""


def run(src: str, snapshot: str, tables: str) -> list[dict]:
    """One child process: index build and warm throughput for both targets."""
    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
    code = _CHILD.format(bench=str(HERE), tables=str(Path(tables).resolve()), snapshot=str(Path(snapshot).resolve()))
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", nargs=2, metavar=("SRC", "SNAPSHOT"), required=True)
    parser.add_argument("--b", nargs=2, metavar=("SRC", "SNAPSHOT"), required=True)
    parser.add_argument("--tables", required=True, help="gathered human tables the queries are drawn from")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.rounds):
        for label, (src, snapshot) in (("a", args.a), ("b", args.b)):
            for row in run(src, snapshot, args.tables):
                print(json.dumps({"side": label, **row}))
                results.setdefault((label, row["to"]), []).append(row)
    print("side  to            index build (s)  warm ids/s")
    for (label, to), rows in sorted(results.items()):
        build = statistics.median(r["index_build_s"] for r in rows)
        rate = 100_000 / statistics.median(r["warm_s"] for r in rows)
        print(f"{label:5s} {to:13s} {build:15.1f}  {rate:10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
