"""Out-of-core ``concat_harmonized``: peak memory for N on-disk datasets (target: flat in N).

Entry point for other benchmark drivers (``benchmarks/run.py`` calls it)::

    import bench_concat

    result = bench_concat.measure(16)  # one fresh process, 16 files
    result["peak_rss_mb"], result["seconds"]

or from the shell (one fresh process per count, a table at the end)::

    python benchmarks/bench_concat.py 4 16 [--n-obs 5000 --n-vars 20000]

Each run happens in a fresh Python process, whose peak resident memory is read with
``VmHWM`` of ``/proc/self/status`` after the call (``ru_maxrss`` would count the parent's memory at fork); the synthetic ``.h5ad`` files are
made once and cached under ``benchmarks/work/concat_bench``.

Synthetic data: sparse CSR float32 counts (about 5 % non-zeros, values 1–9) with a realistic
mix of ``var_names`` drawn from the real human snapshot (``scripts/work/homo_sapiens-114
.idtrack.zip`` if built, else the embedded default subset): current symbols, versioned
Ensembl IDs (some of genes already present by symbol, so they collapse and are summed),
previous symbols, aliases and a few names that match nothing. Each dataset holds a seeded
random 90 % of the pool, so the union is wider than any dataset.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from child import PRELUDE  # noqa: E402 - needs HERE on the path when run as a script

REPO = HERE.parent
FULL_SNAPSHOT = REPO / "scripts" / "work" / "homo_sapiens-114.idtrack.zip"
WORK = HERE / "work" / "concat_bench"
SEED = 11

__all__ = ["make_datasets", "measure", "snapshot_path", "var_name_pool"]


def snapshot_path() -> Path:
    """The real human snapshot if it was built (``scripts/work``) or ships with the package, else the embedded subset."""
    if FULL_SNAPSHOT.is_file():
        return FULL_SNAPSHOT
    from importlib.resources import files

    shipped = Path(str(files("idtrack_sc") / "data" / FULL_SNAPSHOT.name))
    if shipped.is_file():
        return shipped
    from idtrack_sc.datasets import default_snapshot_path

    return default_snapshot_path()


def var_name_pool(n_vars: int, *, snapshot: str | Path | None = None, seed: int = SEED) -> np.ndarray:
    """``n_vars`` distinct feature names as real datasets mix them.

    About 70 % current symbols, 18 % versioned Ensembl gene IDs of other genes, 5 % versioned
    IDs of genes already present by symbol (they collapse onto one feature and are summed),
    3 % previous symbols, 3 % aliases and 1 % names that match nothing.
    """
    import idtrack_sc as its

    rng = np.random.default_rng(seed)
    snap = its.load_snapshot(snapshot or snapshot_path())
    names = snap.names
    symbols = names[(names["namespace"] == "symbol") & names["last_release"].isna()]
    primary = symbols[symbols["kind"] == "primary"].drop_duplicates("value").drop_duplicates("gene_id")
    primary = primary.iloc[rng.permutation(len(primary))]
    genes = snap.genes.dropna(subset=["version"]).drop_duplicates("gene_id", keep="last")
    version = dict(zip(genes["gene_id"], genes["version"].astype(int).astype(str), strict=True))

    def versioned(ids: pd.Series) -> np.ndarray:
        return np.array([f"{g}.{version[g]}" if g in version else g for g in ids], dtype=object)

    n_sym, n_dup = int(n_vars * 0.70), int(n_vars * 0.05)
    n_prev, n_alias, n_junk = int(n_vars * 0.03), int(n_vars * 0.03), max(1, int(n_vars * 0.01))
    sym = primary.iloc[:n_sym]
    others = genes[~genes["gene_id"].isin(set(sym["gene_id"]))]
    others = others.iloc[rng.permutation(len(others))]
    prev = symbols.loc[symbols["kind"] == "previous", "value"].unique()
    alias = symbols.loc[symbols["kind"] == "alias", "value"].unique()
    parts = [
        sym["value"].to_numpy(dtype=object),
        versioned(sym["gene_id"].iloc[:n_dup]),
        rng.choice(prev, min(n_prev, len(prev)), replace=False).astype(object),
        rng.choice(alias, min(n_alias, len(alias)), replace=False).astype(object),
        np.array([f"NOT_A_GENE_{i}" for i in range(n_junk)], dtype=object),
        versioned(others["gene_id"].iloc[:n_vars]),
    ]
    pool = pd.unique(pd.Series(np.concatenate(parts), dtype=object))
    return np.asarray(pool[:n_vars], dtype=object)


def _counts(n_obs: int, n_vars: int, density: float, seed: int):
    """Sparse CSR float32 counts, about ``density`` non-zeros, without a dense intermediate."""
    from scipy import sparse

    rng = np.random.default_rng(seed)
    nnz_row = rng.binomial(n_vars, density, size=n_obs)
    indptr = np.concatenate([[0], np.cumsum(nnz_row)]).astype(np.int64)
    indices = np.empty(indptr[-1], dtype=np.int32)
    for i in range(n_obs):
        indices[indptr[i] : indptr[i + 1]] = np.sort(rng.choice(n_vars, nnz_row[i], replace=False))
    data = rng.integers(1, 10, size=len(indices), dtype=np.int8).astype(np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))


def make_datasets(
    n_datasets: int,
    *,
    n_obs: int = 5_000,
    n_vars: int = 20_000,
    density: float = 0.05,
    work: str | Path | None = None,
    snapshot: str | Path | None = None,
) -> dict[str, Path]:
    """The first ``n_datasets`` synthetic ``.h5ad`` files (made once, then reused).

    Each has ``n_obs`` cells and 90 % of a pool of ``n_vars / 0.9`` names (so about
    ``n_vars`` features), with unique cell names.
    """
    import anndata as ad

    folder = Path(work or WORK) / f"{n_obs}x{n_vars}_d{density:g}"
    folder.mkdir(parents=True, exist_ok=True)
    pool = None
    paths = {}
    for i in range(n_datasets):
        path = folder / f"d{i:03d}.h5ad"
        if not path.exists():
            if pool is None:
                pool = var_name_pool(int(n_vars / 0.9), snapshot=snapshot)
            rng = np.random.default_rng(SEED + i)
            keep = np.sort(rng.choice(len(pool), n_vars, replace=False))
            adata = ad.AnnData(
                X=_counts(n_obs, n_vars, density, SEED + i),
                obs=pd.DataFrame(index=pd.Index([f"d{i}_c{j}" for j in range(n_obs)], dtype=object)),
                var=pd.DataFrame(index=pd.Index(pool[keep], dtype=object)),
            )
            tmp = path.with_suffix(".tmp.h5ad")
            adata.write_h5ad(tmp)
            tmp.replace(path)
        paths[f"d{i:03d}"] = path
    return paths


_CHILD = (
    PRELUDE
    + r"""
spec = json.loads(sys.argv[1])
import anndata as ad
import idtrack_sc as its
from idtrack_sc.pp._concat import _on_disk as _concat
out = spec["out"]
block = {"max_loaded_elems": spec["max_loaded_elems"]} if spec["max_loaded_elems"] else {}
if spec["engine"] == "anndata":
    # the peer: anndata's own on-disk concatenation of the same (unharmonized) files
    from anndata.experimental import concat_on_disk
    base_mb = _status_mb("VmRSS")
    t0 = time.perf_counter()
    concat_on_disk(list(spec["paths"].values()), out, join=spec["join"], label="dataset",
                   keys=list(spec["paths"]), **block)
    seconds = time.perf_counter() - t0
    peak_mb = _status_mb("VmHWM")
    backed = ad.read_h5ad(out, backed="r") if out.endswith(".h5ad") else ad.read_zarr(out)
    print(json.dumps({
        "seconds": seconds, "peak_rss_mb": peak_mb, "baseline_rss_mb": base_mb, "engine": "anndata",
        "concat_seconds": seconds, "shape": list(backed.shape), "n_vars_union": int(backed.n_vars),
    }))
    raise SystemExit(0)
_engine_seconds = []
_concat_files = _concat._concat_files
def _timed(*args, **kwargs):
    t = time.perf_counter()
    _concat_files(*args, **kwargs)
    _engine_seconds.append(time.perf_counter() - t)
_concat._concat_files = _timed
snap = its.load_snapshot(spec["snapshot"])
its.convert(["TP53"], snapshot=snap, release=spec["release"])  # index build: not part of the call
base_mb = _status_mb("VmRSS")
t0 = time.perf_counter()
its.concat_harmonized(
    spec["paths"], snapshot=snap, release=spec["release"], to=spec["to"], join=spec["join"],
    out_file=out, label="dataset", engine=spec["engine"], **block,
)
seconds = time.perf_counter() - t0
peak_mb = _status_mb("VmHWM")
backed = ad.read_h5ad(out, backed="r") if out.endswith(".h5ad") else ad.read_zarr(out)
print(json.dumps({
    "seconds": seconds, "peak_rss_mb": peak_mb, "baseline_rss_mb": base_mb, "engine": spec["engine"],
    "writer": str(backed.uns["idtrack"]["params"]["writer"]), "concat_seconds": sum(_engine_seconds),
    "shape": list(backed.shape), "n_vars_union": int(backed.uns["idtrack"]["n_vars"]["union"]),
}))
"""
)


def measure(
    n_datasets: int,
    *,
    n_obs: int = 5_000,
    n_vars: int = 20_000,
    density: float = 0.05,
    join: str = "outer",
    to: str = "ensembl_gene",
    release: int = 114,
    max_loaded_elems: int | None = None,
    work: str | Path | None = None,
    snapshot: str | Path | None = None,
    keep_output: bool = False,
    engine: str = "stream",
    suffix: str = ".h5ad",
) -> dict[str, Any]:
    """Concatenate ``n_datasets`` synthetic files out of core in a fresh process; report memory and time.

    Parameters
    ----------
    n_datasets
        How many files (each ``n_obs`` × ``n_vars``, sparse, ``density`` non-zeros).
    n_obs, n_vars, density
        Size of each file.
    join, to, release, max_loaded_elems
        Passed to :func:`idtrack_sc.concat_harmonized` (``release`` must be in the snapshot;
        ``max_loaded_elems=None``: the library's default block size).
    work
        Cache folder of the synthetic files (default ``benchmarks/work/concat_bench``).
    snapshot
        Snapshot file (default: the real human snapshot if built, else the embedded subset).
    keep_output
        Keep the concatenated file (else it is deleted after the run).
    engine
        ``"stream"`` or ``"dask"``: ``concat_harmonized(engine=...)`` (Dask on the default
        local scheduler; its ``concat_seconds`` is then 0); or ``"anndata"``, the peer:
        :func:`anndata.experimental.concat_on_disk` of the same input files (it does not
        harmonize: same shapes, no conversion, no duplicate summing).
    suffix
        ``".h5ad"`` or ``".zarr"``: the output format.

    Returns
    -------
    ``n_datasets``, ``n_obs_total``, ``n_vars``, ``nnz_total``, ``peak_rss_mb`` (peak resident
    memory of the child process), ``baseline_rss_mb`` (after imports, snapshot load and index
    build, before the call), ``seconds`` (the call), ``concat_seconds`` (of which the on-disk
    concatenation of the harmonized files), ``wall_s`` (the whole child),
    ``shape`` and ``n_vars_union`` of the result, ``output_mb``, ``snapshot``, ``python``.
    """
    import h5py

    snap = Path(snapshot or snapshot_path())
    if snap.name.endswith("default.idtrack.zip"):
        release = min(release, 114)
    paths = make_datasets(n_datasets, n_obs=n_obs, n_vars=n_vars, density=density, work=work, snapshot=snap)
    nnz = 0
    for path in paths.values():
        with h5py.File(path, "r") as f:
            nnz += int(f["X"]["indices"].shape[0])
    folder = Path(work or WORK)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        out = Path(tmp) / f"merged_{n_datasets}{suffix}"
        spec = {
            "paths": {k: str(v) for k, v in paths.items()},
            "out": str(out),
            "snapshot": str(snap),
            "release": release,
            "to": to,
            "join": join,
            "max_loaded_elems": max_loaded_elems,
            "engine": engine,
        }
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(spec)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            msg = f"concat child failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
            raise RuntimeError(msg)
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        output_mb = (
            out.stat().st_size if out.is_file() else sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        ) / 2**20
        if keep_output:
            kept = folder / out.name
            out.replace(kept)
    return {
        "n_datasets": n_datasets,
        "n_obs_total": n_obs * n_datasets,
        "n_vars": n_vars,
        "nnz_total": nnz,
        **stats,
        "wall_s": wall,
        "output_mb": output_mb,
        "suffix": suffix,
        "snapshot": snap.name,
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python benchmarks/bench_concat.py 4 16``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[4, 16])
    parser.add_argument("--n-obs", type=int, default=5_000)
    parser.add_argument("--n-vars", type=int, default=20_000)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--engine",
        nargs="+",
        default=["stream"],
        choices=("stream", "anndata", "dask"),
        help="engine(s) to measure ('anndata': anndata.experimental.concat_on_disk of the inputs, the peer)",
    )
    parser.add_argument("--suffix", nargs="+", default=[".h5ad"], choices=(".h5ad", ".zarr"), help="output format(s)")
    parser.add_argument("--max-loaded-elems", type=int, default=None, help="block size (default: the library's)")
    args = parser.parse_args(argv)
    results = [
        measure(
            k,
            n_obs=args.n_obs,
            n_vars=args.n_vars,
            density=args.density,
            engine=engine,
            suffix=suffix,
            max_loaded_elems=args.max_loaded_elems,
        )
        for k in args.counts
        for suffix in args.suffix
        for engine in args.engine
    ]
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    lines = [
        "| engine | writer | output | datasets | cells | genes/dataset | union | non-zeros | baseline RSS (MB) "
        "| peak RSS (MB) | time (s) | of which on-disk concat (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r.get('writer', 'anndata')} | {r['suffix']} | {r['n_datasets']} | {r['n_obs_total']:,} | {r['n_vars']:,} | {r['n_vars_union']:,} | "
            f"{r['nnz_total']:,} | {r['baseline_rss_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['seconds']:.1f} | "
            f"{r['concat_seconds']:.1f} |"
        )
    if len(results) > 1 and len(args.engine) == 1:
        ratio = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
        lines.append(
            f"\nPeak RSS ratio {results[-1]['n_datasets']} vs {results[0]['n_datasets']} datasets: {ratio:.2f}"
        )
    lines.append(f"Snapshot {results[0]['snapshot']}, Python {results[0]['python']}.")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
