"""Single-cell layer: harmonize ``var_names`` with duplicate summing; out-of-core concatenation.

Both functions are still being written. Each measurement is registered with ``requires=``, so
it is reported as *skipped* (with the reason) until the function exists, and runs as soon as
it does. The calls adapt to the final signatures through :func:`call_kwargs`; adjust the
candidate parameter names there if the final API differs.
"""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pandas as pd
from context import RELEASE
from registry import Result, Table, measurement, resolve_object

#: Issue #23: ``harmonize_var_names`` on pbmc68k-sized data in at most half a second.
HARMONIZE_TARGET_S = 0.5
#: pbmc68k (10x Genomics, "Fresh 68k PBMCs (Donor A)"): 68,579 cells x 32,738 genes, a median
#: of 525 genes per cell; 2 % density (about 650 per cell) stands for its long tail.
PBMC68K = (68_579, 32_738, 0.02)
SEED = 7


# --------------------------------------------------------------------------------------------
# synthetic data (public helpers: reusable by other benchmarks)
# --------------------------------------------------------------------------------------------
def synthetic_counts(n_obs: int, n_vars: int, density: float = 0.05, *, seed: int = SEED):
    """Sparse CSR float32 counts with about ``density`` non-zeros per row, fast and seeded.

    Column positions come from cumulative geometric gaps (a Bernoulli process per row), so no
    dense matrix is ever made; values are small integers (1–9) as float32.

    Parameters
    ----------
    n_obs, n_vars
        Shape.
    density
        Expected fraction of non-zeros.
    seed
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    :class:`scipy.sparse.csr_matrix`
    """
    from scipy import sparse

    rng = np.random.default_rng(seed)
    per_row = int(n_vars * density * 1.3) + 16  # enough gaps to pass n_vars almost always
    indptr = np.zeros(n_obs + 1, dtype=np.int64)
    chunks = []
    step = max(1, 2_000_000 // per_row)
    for start in range(0, n_obs, step):
        stop = min(n_obs, start + step)
        gaps = rng.geometric(density, size=(stop - start, per_row)).astype(np.int32)
        cols = np.cumsum(gaps, axis=1) - 1
        keep = cols < n_vars
        indptr[start + 1 : stop + 1] = keep.sum(axis=1)
        chunks.append(cols[keep].astype(np.int32))
    np.cumsum(indptr, out=indptr)
    indices = np.concatenate(chunks)
    data = rng.integers(1, 10, size=len(indices), dtype=np.int8).astype(np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(n_obs, n_vars))


def realistic_var_names(data_work, n_vars: int, *, seed: int = SEED) -> tuple[np.ndarray, dict[str, int]]:
    """Unique ``var_names`` mixing real human symbols and IDs, with duplicates after conversion.

    About 70 % current symbols, 20 % versioned Ensembl IDs of *other* genes, 6 % versioned
    IDs of genes already present by symbol (so they collapse onto the same gene after
    conversion), 2 % HGNC previous symbols, 2 % aliases; all strings distinct.

    Returns
    -------
    The names and how many of each kind.
    """
    rng = np.random.default_rng(seed)
    folder = data_work / "homo_sapiens"
    genes = pd.read_csv(folder / "gene_table_e114.tsv", sep="\t", dtype=str, keep_default_na=False)
    hgnc = pd.read_csv(folder / "hgnc_complete_set.txt", sep="\t", dtype=str, keep_default_na=False)
    named = genes[genes["gene_name"] != ""].drop_duplicates("gene_name")
    named = named.iloc[rng.permutation(len(named))]
    n_sym, n_dup = int(n_vars * 0.70), int(n_vars * 0.06)
    n_prev, n_alias = int(n_vars * 0.02), int(n_vars * 0.02)
    sym = named.iloc[:n_sym]
    dup = sym.iloc[:n_dup]
    versioned = lambda f: (f["gene_id"] + "." + f["gene_version"]).to_numpy(dtype=object)  # noqa: E731
    used_ids = set(sym["gene_id"])
    others = genes[~genes["gene_id"].isin(used_ids)]
    others = others.iloc[rng.permutation(len(others))]
    prev = hgnc["prev_symbol"][hgnc["prev_symbol"] != ""].str.split("|").explode().unique()
    alias = hgnc["alias_symbol"][hgnc["alias_symbol"] != ""].str.split("|").explode().unique()
    parts = {
        "symbol_current": sym["gene_name"].to_numpy(dtype=object),
        "ensembl_id_of_present_symbol": versioned(dup),
        "symbol_previous": rng.choice(prev, n_prev, replace=False).astype(object),
        "alias": rng.choice(alias, n_alias, replace=False).astype(object),
        "ensembl_id_other": versioned(others.iloc[:n_vars]),
    }
    frame = pd.DataFrame(
        {
            "name": np.concatenate(list(parts.values())),
            "kind": np.concatenate([np.full(len(v), k, dtype=object) for k, v in parts.items()]),
        }
    )
    frame = frame.drop_duplicates("name").head(n_vars)
    counts = {str(k): int(v) for k, v in frame["kind"].value_counts(sort=False).items()}
    return frame["name"].to_numpy(dtype=object), counts


def call_kwargs(func, snapshot_path, **wanted) -> dict:
    """Keyword arguments for ``func`` among the ones it accepts.

    ``snapshot`` (a loaded snapshot) is passed when accepted, else ``organism="human"``;
    ``wanted`` maps a value to a tuple of candidate parameter names, e.g.
    ``duplicates=(("duplicates", "on_duplicates"), "sum")``.
    """
    import idtrack_sc as its

    params = inspect.signature(func).parameters
    kwargs = {}
    if "snapshot" in params:
        kwargs["snapshot"] = its.load_snapshot(snapshot_path)
    elif "organism" in params:
        kwargs["organism"] = "human"
    for names, value in wanted.values():
        for name in names:
            if name in params:
                kwargs[name] = value
                break
    return kwargs


# --------------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------------
@measurement(
    "single_cell",
    "harmonize_var_names",
    "harmonize_var_names with duplicate summing (pbmc68k-sized: 68,579 cells × 32,738 genes; --quick: 5k cells)",
    requires="idtrack_sc.pp.harmonize_var_names",
)
def harmonize_var_names(ctx) -> Result:
    """Time ``its.pp.harmonize_var_names`` on synthetic counts with real, colliding var_names."""
    import anndata as ad

    harmonize = resolve_object("idtrack_sc.pp.harmonize_var_names")
    n_obs, n_vars, density = PBMC68K
    n_obs = 5_000 if ctx.quick else n_obs
    names, kinds = realistic_var_names(ctx.data_work, n_vars)
    X = synthetic_counts(n_obs, n_vars, density)
    base = ad.AnnData(X=X, var=pd.DataFrame(index=pd.Index(names, dtype=object)))
    kwargs = call_kwargs(
        harmonize,
        ctx.snapshot_path("homo_sapiens"),
        release=(("release",), RELEASE),
        to=(("to",), "ensembl_gene"),
        duplicates=(("duplicates", "on_duplicates", "duplicate_policy", "collapse"), "sum"),
    )
    times, shapes = [], []
    runs = 1 if ctx.quick else 3
    harmonize(base.copy(), **kwargs)  # index build and imports: not part of the figure
    for _ in range(runs):
        adata = base.copy()
        seconds, value = ctx.time_once(lambda adata=adata: harmonize(adata, **kwargs))
        out = value if value is not None else adata
        times.append(seconds)
        shapes.append(tuple(out.shape))
    median = ctx.median(times)
    table = Table(
        "harmonize_var_names (index already built; median of runs)",
        ["cells", "genes in", "non-zeros", "genes out", "median (s)", f"target ≤ {HARMONIZE_TARGET_S} s"],
        [[n_obs, n_vars, X.nnz, shapes[0][1], median, "✓" if median <= HARMONIZE_TARGET_S else "✗"]],
        note=f"var_names kinds: {kinds}. Call: harmonize_var_names(adata, {', '.join(kwargs)}).",
    )
    return Result(
        metrics={
            "n_obs": n_obs,
            "n_vars": n_vars,
            "nnz": int(X.nnz),
            "runs_s": times,
            "median_s": median,
            "shape_out": shapes[0],
        },
        tables=[table],
    )


@measurement(
    "single_cell",
    "concat_out_of_core",
    "concat_harmonized out of core: peak memory for 4 vs 16 datasets (--quick: 2 vs 4)",
    requires="idtrack_sc.concat_harmonized",
)
def concat_out_of_core(ctx) -> Result:
    """Peak RSS of a fresh process concatenating N on-disk datasets; target: flat in N."""
    import bench_concat

    counts = (2, 4) if ctx.quick else (4, 16)
    n_obs, n_vars = (1_000, 5_000) if ctx.quick else (5_000, 20_000)
    snapshot = str(ctx.snapshot_path("homo_sapiens"))
    rows, metrics = [], {}
    # the default engine when Dask is installed, and the streaming writer used without it
    for engine in ("dask", "stream"):
        for k in counts:
            stats = bench_concat.measure(
                k, n_obs=n_obs, n_vars=n_vars, snapshot=snapshot, work=ctx.work / "concat_bench", engine=engine
            )
            metrics[f"{engine}:{k}"] = stats
            rows.append(
                [
                    engine,
                    k,
                    stats["n_obs_total"],
                    n_vars,
                    stats["nnz_total"],
                    stats["baseline_rss_mb"],
                    stats["peak_rss_mb"],
                    stats["seconds"],
                ]
            )
    ratios = {
        engine: metrics[f"{engine}:{counts[1]}"]["peak_rss_mb"] / metrics[f"{engine}:{counts[0]}"]["peak_rss_mb"]
        for engine in ("dask", "stream")
    }
    table = Table(
        "Out-of-core concatenation (`benchmarks/bench_concat.py`, fresh process per run)",
        [
            "engine",
            "datasets",
            "cells",
            "genes per dataset",
            "non-zeros",
            "baseline RSS (MB)",
            "peak RSS (MB)",
            "time (s)",
        ],
        rows,
        note=(
            f"Peak RSS ratio {counts[1]} vs {counts[0]} datasets: dask {ratios['dask']:.2f}, stream "
            f"{ratios['stream']:.2f} (target ≈ 1: independent of the count). dask: `engine='dask'` (the "
            "default when Dask is installed) on the default local scheduler; stream: `engine='stream'`. "
            "Baseline = the child after imports, snapshot load and index build, before the call. "
            f"Python {sys.version.split()[0]}. Up to 128 datasets and on a cluster: {{doc}}`concat-dask`."
        ),
    )
    metrics["peak_ratio"] = ratios["stream"]
    metrics["peak_ratio_dask"] = ratios["dask"]
    return Result(metrics=metrics, tables=[table])
