"""Run the idtrack-sc benchmark suite and write the report.

Not part of the tests or CI. Builds (or reuses) the real human and mouse snapshots with the
scripts in ``scripts/``, measures build, size, load, index build and conversion throughput on
mixed real queries, runs the peer tool stangene on the same queries in the same run, quotes
the reference tool's figures, and measures the single-cell layer where it exists.

Usage::

    python benchmarks/run.py [--quick] [--out docs/benchmarks/results.md] [--json benchmarks/results/latest.json]

Add a measurement by registering a function in ``benchmarks/measurements/`` with
:func:`registry.measurement` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import os
import platform
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import measurements  # noqa: E402,F401 - registers the measurements
from context import REPO, Context  # noqa: E402
from registry import AREAS, REGISTRY, run_one  # noqa: E402
from report import write_json, write_markdown  # noqa: E402

PACKAGES = ("idtrack-sc", "numpy", "pandas", "pyarrow", "anndata", "scipy", "stangene")


def machine() -> dict:
    """CPU model, cores and RAM (from ``/proc`` where available)."""
    cpu = platform.processor() or platform.machine()
    ram_gb = float("nan")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "ram_gb": ram_gb, "os": platform.platform()}


def versions() -> dict:
    """Installed versions of the packages that matter for the figures."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _portable(arg: str) -> str:
    """An argument as the results page shows it: no path of the machine it ran on.

    A path inside the repository is shown relative to it; another absolute path by its name.
    """
    option, eq, value = arg.partition("=")
    if eq and option.startswith("--"):
        return f"{option}={_portable(value)}"
    if not Path(arg).is_absolute():
        return arg
    path = Path(arg).resolve()
    try:
        return str(path.relative_to(REPO.resolve()))
    except ValueError:
        return f"<{path.name}>"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat (about 2 minutes)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks" / "results.md")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--queries", type=int, help="number of mixed queries (default 100,000; quick 20,000)")
    parser.add_argument("--repeats", type=int, help="warm repeats (default 7; quick 1)")
    parser.add_argument("--data-work", type=Path, default=REPO / "scripts" / "work", help="real tables and snapshots")
    parser.add_argument("--work", type=Path, default=HERE / "work", help="scratch folder (git-ignored)")
    parser.add_argument("--no-build", action="store_true", help="reuse the snapshots, do not time a build")
    parser.add_argument("--no-install-peer", action="store_true", help="skip stangene when it is not installed")
    parser.add_argument("--only", action="append", help="run only these measurements (by name; repeatable)")
    args = parser.parse_args(argv)

    ctx = Context(
        quick=args.quick,
        n_queries=args.queries or (20_000 if args.quick else 100_000),
        repeats=args.repeats or (1 if args.quick else 7),
        peer_repeats=1 if args.quick else 3,
        data_work=args.data_work.resolve(),
        work=args.work.resolve(),
        build=not args.no_build,
        install_peer=not args.no_install_peer,
    )
    ctx.work.mkdir(parents=True, exist_ok=True)
    given = argv if argv is not None else sys.argv[1:]
    command = shlex.join(["python", "benchmarks/run.py", *map(_portable, given)])
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    records = []
    order = list(AREAS)
    for m in sorted(REGISTRY, key=lambda m: order.index(m.area)):  # stable within an area
        if args.only and m.name not in args.only:
            continue
        if ctx.quick and not m.quick:
            continue
        print(f"== {m.area}/{m.name}: {m.title}", flush=True)
        record = run_one(m, ctx)
        status = record["status"] + (f" ({record['reason']})" if record["status"] != "ok" else "")
        print(f"   {status} in {record['wall_s']:.1f} s", flush=True)
        if record["status"] == "error":
            print(record["traceback"], file=sys.stderr)
        records.append(record)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "quick": ctx.quick,
        "n_queries": ctx.n_queries,
        "repeats": ctx.repeats,
        "peer_repeats": ctx.peer_repeats,
        "machine": machine(),
        "python": sys.version.split()[0],
        "versions": versions(),
        "wall_s": time.perf_counter() - t0,
        "load_average": {"before": load_before, "after": os.getloadavg() if hasattr(os, "getloadavg") else None},
    }
    write_markdown(args.out, meta, records)
    write_json(args.json, meta, records)
    print(f"wrote {args.out} and {args.json} ({meta['wall_s']:.0f} s)")
    return 1 if any(r["status"] == "error" for r in records) else 0


if __name__ == "__main__":
    raise SystemExit(main())
