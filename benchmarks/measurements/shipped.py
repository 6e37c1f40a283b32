"""The snapshots shipped inside the package: wheel size, sessions as a new user meets them, lookup cost."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from child import PRELUDE
from context import REPO
from registry import Result, Table, measurement

WHEEL_TARGET_MB = 25
FIRST_SESSION_TARGET_S = 1.0
FIRST_SESSION_RSS_MB = 500
LATER_SESSION_TARGET_S = 0.5
LOOKUP_SHARE_TARGET = 0.5

_SESSION = (
    PRELUDE
    + """
t0 = time.perf_counter()
import idtrack_sc as its
t1 = time.perf_counter()
snapshot, namespaces = sys.argv[1], sys.argv[3].split(",")
queries = open(sys.argv[2], encoding="utf-8").read().split("\\n")
table = its.convert(queries, snapshot=snapshot, to=namespaces[0])
t2 = time.perf_counter()
rss = _status_mb("VmHWM")
for to in namespaces[1:]:
    its.convert(queries, snapshot=snapshot, to=to)
t3 = time.perf_counter()
cache = os.environ["IDTRACK_SC_CACHE"]
disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(cache) for f in files)
print(json.dumps({"import_s": t1 - t0, "ready_s": t2 - t1, "peak_rss_mb": rss, "more_s": t3 - t2,
                  "cache_mb": disk / 1e6, "outcomes": table["outcome"].astype(str).value_counts().to_dict()}))
"""
)
_EXPLAIN = (
    PRELUDE
    + """
t0 = time.perf_counter()
import idtrack_sc as its
out = its.explain(sys.argv[2], snapshot=sys.argv[1], to="symbol")
t1 = time.perf_counter()
print(json.dumps({"explain_s": t1 - t0, "peak_rss_mb": _status_mb("VmHWM"), "steps": len(out.steps)}))
"""
)
_DEMO = (
    PRELUDE
    + """
import subprocess
t0 = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "idtrack_sc.cli", "demo"], capture_output=True, text=True)
print(json.dumps({"demo_s": time.perf_counter() - t0, "rc": done.returncode}))
"""
)
QUERIES = {"human": "TP53,CD3E,MS4A1,IGJ,ENSG00000141510.11", "mouse": "Trp53,Cd3e,Ms4a1,Sept1"}
EXPLAIN = {"human": "p53", "mouse": "Sept1"}
PRODUCTION = {"human": "homo_sapiens", "mouse": "mus_musculus"}
#: Environment variable: a folder of snapshot files to measure instead of the shipped ones
#: (locally rebuilt snapshots before they are shipped; same file names).
ENV_SNAPSHOTS = "IDTRACK_SC_BENCH_SNAPSHOTS"
N_NAMES = 30_000


def _snapshot_file(organism: str) -> str:
    import os

    import idtrack_sc as its

    shipped = its.registry.resolve_snapshot(organism).path
    folder = os.environ.get(ENV_SNAPSHOTS)
    return str(Path(folder) / shipped.name) if folder else str(shipped)


def _name_list(ctx, organism: str, folder: str) -> tuple[str, str]:
    """A real list of 30,000 names: half symbols, half versioned Ensembl IDs of a real gene table."""
    import pandas as pd

    ctx.ensure_gathered()
    table = pd.read_csv(
        ctx.data_work / PRODUCTION[organism] / "gene_table_e104.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    table = table.sample(N_NAMES, random_state=1)
    names = [
        r.gene_name if i % 2 == 0 and r.gene_name else f"{r.gene_id}.{r.gene_version}"
        for i, r in enumerate(table.itertuples())
    ]
    big = Path(folder) / f"{organism}-names.txt"
    big.write_text("\n".join(names), encoding="utf-8")
    small = Path(folder) / f"{organism}-few.txt"
    small.write_text("\n".join(QUERIES[organism].split(",")), encoding="utf-8")
    return str(big), str(small)


@measurement("snapshot", "wheel", "The wheel a user installs")
def wheel(ctx) -> Result:
    """Build the wheel (``pip wheel --no-deps``) and list what it carries."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, str(REPO)],
            check=True,
            capture_output=True,
        )
        path = next(Path(out).glob("*.whl"))
        size = path.stat().st_size / 1e6
        with zipfile.ZipFile(path) as zf:
            data = [(i.filename, i.compress_size / 1e6) for i in zf.infolist() if i.filename.endswith(".idtrack.zip")]
    rows = [[name.rsplit("/", 1)[-1], mb] for name, mb in sorted(data)]
    rows.append(["whole wheel", size])
    ok = "✓" if size <= WHEEL_TARGET_MB else "✗"
    table = Table(
        f"Wheel size (target ≤ {WHEEL_TARGET_MB} MB) {ok}",
        ["file", "MB in the wheel"],
        rows,
        note="Snapshot files are already compressed (Parquet inside ZIP); the wheel stores them as they are.",
    )
    return Result(metrics={"wheel_mb": size, "snapshots_mb": {r[0]: r[1] for r in rows[:-1]}}, tables=[table])


@measurement("snapshot", "shipped_sessions", "A new user's sessions on the shipped snapshots")
def shipped_sessions(ctx) -> Result:
    """Fresh processes with an empty cache: import, convert 30,000 real names; again; a few names; explain; demo."""
    runs = 2 if ctx.quick else 5
    three = "ensembl_gene,symbol,entrez"
    rows, metrics = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for organism in ("human", "mouse"):
            path = _snapshot_file(organism)
            big, small = _name_list(ctx, organism, scratch)
            with tempfile.TemporaryDirectory() as cache, ctx.environ(IDTRACK_SC_CACHE=cache):
                _, first = ctx.python_json(_SESSION, path, big, three)
                later = [ctx.python_json(_SESSION, path, big, "ensembl_gene")[1] for _ in range(runs)]
                few = [ctx.python_json(_SESSION, path, small, "ensembl_gene")[1] for _ in range(runs)]
                _, explained = ctx.python_json(_EXPLAIN, path, EXPLAIN[organism])
            first_s = first["import_s"] + first["ready_s"]
            later_s = ctx.median([r["import_s"] + r["ready_s"] for r in later])
            few_s = ctx.median([r["import_s"] + r["ready_s"] for r in few])
            metrics[organism] = {
                "first_session_s": first_s,
                "first_session_peak_rss_mb": first["peak_rss_mb"],
                "later_session_s": later_s,
                "later_session_few_names_s": few_s,
                "import_s": ctx.median([r["import_s"] for r in later]),
                "two_more_namespaces_s": first["more_s"],
                "cache_mb_after_three_namespaces": first["cache_mb"],
                "first_explain_s": explained["explain_s"],
                "outcomes": first["outcomes"],
                "file": Path(path).name,
            }
            rows.append(
                [
                    organism,
                    first_s,
                    first["peak_rss_mb"],
                    "✓" if first_s <= FIRST_SESSION_TARGET_S and first["peak_rss_mb"] <= FIRST_SESSION_RSS_MB else "✗",
                    later_s,
                    few_s,
                    "✓" if later_s <= LATER_SESSION_TARGET_S else "✗",
                    explained["explain_s"],
                    first["cache_mb"],
                ]
            )
    _, demo = ctx.python_json(_DEMO)
    metrics["demo_cold_s"] = demo["demo_s"]
    metrics["demo_exit_status"] = demo["rc"]
    table = Table(
        "Sessions on the shipped snapshots: `import idtrack_sc` + `its.convert(30,000 real names, snapshot=…)`",
        [
            "organism",
            "first session, empty cache (s)",
            "peak RSS (MB)",
            f"≤ {FIRST_SESSION_TARGET_S} s and ≤ {FIRST_SESSION_RSS_MB} MB",
            f"later session (s, median of {runs})",
            "later session, 5 names (s)",
            f"≤ {LATER_SESSION_TARGET_S} s",
            "first `explain` in a fresh process (s)",
            "cache after 3 namespaces (MB)",
        ],
        rows,
        note=(
            "Fresh interpreter each, no network (the snapshot ships in the package). The names: 30,000 rows of "
            "the organism's Ensembl 104 gene table, every other one as its symbol, the others as versioned "
            "IDs. Nothing is written to the cache: every session resolves the keys its queries reach from the "
            "snapshot (with the key and spellings tables the build precomputes, schema 4). "
            f"`idtrack-sc demo`, cold (fresh process): {demo['demo_s']:.1f} s, exit status {demo['rc']} (target ≤ 10 s)."
        ),
    )
    return Result(metrics=metrics, tables=[table])


@measurement("resolver", "lookup_share", "Conversion against a bare hash lookup of the same queries")
def lookup_share(ctx) -> Result:
    """Warm ``convert`` beside a lookup of the same (upper-cased) queries in a prebuilt hash table."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    import idtrack_sc as its
    from idtrack_sc.resolve._key_index import key_index

    rows, metrics = [], {}
    for organism in ctx.organisms:
        qs = ctx.queries(organism)
        snap = ctx.fresh_snapshot(organism)
        its.convert(qs.queries, snapshot=snap)  # warm: the keys these queries reach are resolved
        table = pd.Index(pc.unique(key_index(snap).key).to_numpy(zero_copy_only=False), dtype=object)
        table.get_indexer(table[:1])  # the hash table is built now, not inside the timed calls
        queries = pa.array([str(q) for q in qs.queries], type=pa.string())

        def bare(q=queries, t=table):
            return t.get_indexer(pc.utf8_upper(q).to_numpy(zero_copy_only=False))

        bare_s = ctx.median(ctx.time_runs(bare, ctx.repeats))
        full = ctx.median(ctx.time_runs(lambda s=snap, q=qs.queries: its.convert(q, snapshot=s), ctx.repeats))
        n = len(qs.queries)
        share = bare_s / full
        metrics[organism] = {"bare_s": bare_s, "convert_s": full, "share": share, "convert_ids_per_s": n / full}
        ok = "✓" if share >= LOOKUP_SHARE_TARGET else "✗"
        rows.append([organism, n, n / bare_s, n / full, share, ok])
    table = Table(
        "Warm conversion beside a bare hash lookup",
        ["organism", "queries", "bare lookup ids/s", "convert ids/s", "convert speed / bare speed", "≥ 50 %"],
        rows,
        note=(
            "Bare lookup: `utf8_upper` of the queries in Arrow, then their positions in a prebuilt hash table of "
            "the snapshot's keys (a pandas `Index`, its hash table built before timing): it only finds each "
            "query's key, without parsing versions, suffixes, dates or namespaces and without producing the "
            "answer table. Warm `convert`: the keys the batch reaches were resolved by an earlier call."
        ),
    )
    return Result(metrics=metrics, tables=[table])
