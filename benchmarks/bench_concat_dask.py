"""The Dask engine of ``concat_harmonized(out_file=...)`` beside the streamer and anndata's ``concat_on_disk``.

For each number of datasets, one fresh child process per engine:

* ``dask``: ``concat_harmonized(..., engine="dask")`` under a ``dask.distributed.Client`` of
  a ``LocalCluster`` (``--workers`` processes, one thread each, ``--worker-memory`` each),
  started by the child; the driver's peak RSS is the child's ``VmHWM``, each worker's is
  read from its own ``/proc/self/status`` with ``Client.run`` at the end;
* ``stream``: ``concat_harmonized(..., engine="stream")`` (one process);
* ``concat_on_disk``: :func:`anndata.experimental.concat_on_disk` on the same input files
  (``join="outer"``, no harmonization: the raw names are joined as they are), as the
  reference for throughput.

Inputs are :func:`bench_concat.make_datasets` (sparse CSR float32 counts, about 5 %
non-zeros, real human names with duplicates, renames, aliases and junk), made once under
``--work``; outputs are deleted after each run. Results are appended to ``--json`` as they
come, so a run cut short keeps what finished::

    python benchmarks/bench_concat_dask.py --counts 8 32 128 --cells-scan 1250 2500 5000 \\
        --work /tmp/idtrack-bench --json benchmarks/results/concat_dask.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_concat import make_datasets  # noqa: E402 - needs HERE on the path when run as a script
from child import PRELUDE  # noqa: E402

REPO = HERE.parent
SNAPSHOT = REPO / "src" / "idtrack_sc" / "data" / "homo_sapiens-114.idtrack.zip"
ENGINES = ("dask", "stream", "concat_on_disk")

_CHILD = (
    PRELUDE
    + r"""
spec = json.loads(sys.argv[1])
import logging, warnings
warnings.filterwarnings("ignore")
import anndata as ad
engine = spec["engine"]
paths = spec["paths"]
workers = {}
if engine == "concat_on_disk":
    from anndata.experimental import concat_on_disk
    base_mb = _status_mb("VmRSS")
    t0 = time.perf_counter()
    concat_on_disk(paths, spec["out"], join="outer", max_loaded_elems=spec["max_loaded_elems"])
    seconds = time.perf_counter() - t0
else:
    import idtrack_sc as its
    snap = its.load_snapshot(spec["snapshot"])
    its.convert(["TP53"], snapshot=snap, release=114)  # index build: not part of the call
    client = cluster = None
    if engine == "dask":
        from distributed import Client, LocalCluster
        cluster = LocalCluster(
            n_workers=spec["workers"], threads_per_worker=1, memory_limit=spec["worker_memory"],
            dashboard_address=None, processes=True,
        )
        client = Client(cluster)
    base_mb = _status_mb("VmRSS")
    t0 = time.perf_counter()
    its.concat_harmonized(
        paths, snapshot=snap, release=114, to="ensembl_gene", join="outer", label="dataset",
        out_file=spec["out"], engine=engine, max_loaded_elems=spec["max_loaded_elems"],
    )
    seconds = time.perf_counter() - t0
    if client is not None:
        def _peak():
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        workers = client.run(_peak)
        client.close()
        cluster.close()
peak_mb = _status_mb("VmHWM")
backed = ad.read_h5ad(spec["out"], backed="r")
print(json.dumps({
    "seconds": seconds, "driver_peak_mb": peak_mb, "baseline_mb": base_mb,
    "worker_peak_mb": sorted(workers.values()), "shape": list(backed.shape),
}))
"""
)


def run(
    engine: str,
    n_datasets: int,
    *,
    n_obs: int,
    work: Path,
    workers: int,
    worker_memory: str,
    max_loaded_elems: int,
) -> dict[str, Any]:
    """One engine on ``n_datasets`` inputs of ``n_obs`` cells, in a fresh process."""
    import h5py

    paths = make_datasets(n_datasets, n_obs=n_obs, work=work, snapshot=SNAPSHOT)
    nnz = 0
    for path in paths.values():
        with h5py.File(path, "r") as f:
            nnz += int(f["X"]["indices"].shape[0])
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp) / "atlas.h5ad"
        spec = {
            "engine": engine,
            "paths": [str(p) for p in paths.values()],
            "out": str(out),
            "snapshot": str(SNAPSHOT),
            "workers": workers,
            "worker_memory": worker_memory,
            "max_loaded_elems": max_loaded_elems,
        }
        env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(spec)], capture_output=True, text=True, check=False, env=env
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            msg = f"{engine} child failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
            raise RuntimeError(msg)
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        output_mb = out.stat().st_size / 2**20
    return {
        "engine": engine,
        "n_datasets": n_datasets,
        "n_obs": n_obs,
        "cells": n_obs * n_datasets,
        "nnz": nnz,
        **stats,
        "wall_s": wall,
        "output_mb": output_mb,
        "load": os.getloadavg(),
        "max_loaded_elems": max_loaded_elems,
        "workers": workers,
        "worker_memory": worker_memory,
    }


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (one row per run, in the order run)."""
    lines = [
        "| engine | datasets | cells | non-zeros | time (s) | driver peak RSS (MB) | driver baseline (MB) "
        "| worker peak RSS (MB) | load (1 min) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        workers = " / ".join(f"{w:.0f}" for w in r["worker_peak_mb"]) or "–"
        lines.append(
            f"| {r['engine']} | {r['n_datasets']} | {r['cells']:,} | {r['nnz']:,} | {r['seconds']:.1f} "
            f"| {r['driver_peak_mb']:.0f} | {r['baseline_mb']:.0f} | {workers} | {r['load'][0]:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", nargs="*", type=int, default=[8, 32, 128])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--cells-scan", nargs="*", type=int, default=[1250, 2500, 5000])
    parser.add_argument("--scan-datasets", type=int, default=8)
    parser.add_argument("--n-obs", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="4GiB")
    parser.add_argument("--max-loaded-elems", type=int, default=2_000_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "idtrack-bench")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "concat_dask.json")
    parser.add_argument("--table", action="store_true", help="print the results of --json as Markdown and stop")
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(table(json.loads(args.json.read_text())))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    common = {
        "work": args.work,
        "workers": args.workers,
        "worker_memory": args.worker_memory,
        "max_loaded_elems": args.max_loaded_elems,
    }
    jobs = [("datasets", e, k, args.n_obs) for k in args.counts for e in args.engines]
    jobs[len(args.engines) * min(2, len(args.counts)) : len(args.engines) * min(2, len(args.counts))] = [
        ("cells", "dask", args.scan_datasets, n) for n in args.cells_scan if n != args.n_obs
    ]
    results = json.loads(args.json.read_text()) if args.json.exists() else []
    for series, engine, k, n_obs in jobs:
        try:
            r = run(engine, k, n_obs=n_obs, **common)
        except RuntimeError as err:
            sys.stderr.write(f"{err}\n")
            continue
        r["series"] = series
        results.append(r)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        workers = "/".join(f"{w:.0f}" for w in r["worker_peak_mb"]) or "-"
        sys.stdout.write(
            f"{engine:15s} {k:4d} x {n_obs:5d} cells: {r['seconds']:8.1f} s, driver peak {r['driver_peak_mb']:7.0f} MB"
            f" (baseline {r['baseline_mb']:.0f}), workers {workers} MB, load {r['load'][0]:.2f}\n"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
