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
LATER_SESSION_TARGET_S = 0.5
LOOKUP_SHARE_TARGET = 0.5

_SESSION = (
    PRELUDE
    + """
t0 = time.perf_counter()
import idtrack_sc as its
t1 = time.perf_counter()
table = its.convert(sys.argv[2].split(","), organism=sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "ready_s": t2 - t1, "targets": table["target"].tolist(),
                  "shipped": str(its.registry.resolve_snapshot(sys.argv[1]).path)}))
"""
)
QUERIES = {"human": "TP53,CD3E,MS4A1,IGJ,ENSG00000141510.11", "mouse": "Trp53,Cd3e,Ms4a1,Sept1"}


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
    """Fresh processes: ``its.convert(queries, organism=...)`` with an empty cache, then again."""
    runs = 2 if ctx.quick else 5
    rows, metrics = [], {}
    for organism in ("human", "mouse"):
        with tempfile.TemporaryDirectory() as cache, ctx.environ(IDTRACK_SC_CACHE=cache, IDTRACK_SC_INDEX_CACHE="1"):
            _, first = ctx.python_json(_SESSION, organism, QUERIES[organism])
            later = [ctx.python_json(_SESSION, organism, QUERIES[organism])[1] for _ in range(runs)]
        ready = ctx.median([r["ready_s"] for r in later])
        imp = ctx.median([r["import_s"] for r in later])
        metrics[organism] = {
            "first_session_s": first["import_s"] + first["ready_s"],
            "later_session_s": imp + ready,
            "import_s": imp,
            "file": first["shipped"],
        }
        rows.append(
            [
                organism,
                first["import_s"] + first["ready_s"],
                "✓" if first["import_s"] + first["ready_s"] <= FIRST_SESSION_TARGET_S else "✗",
                imp + ready,
                "✓" if imp + ready <= LATER_SESSION_TARGET_S else "✗",
                imp,
            ]
        )
    table = Table(
        "Sessions on the shipped snapshots: `import idtrack_sc` + `its.convert(queries, organism=…)`",
        [
            "organism",
            "first session ever, empty cache (s)",
            f"≤ {FIRST_SESSION_TARGET_S} s",
            f"later sessions (s, median of {runs})",
            f"≤ {LATER_SESSION_TARGET_S} s",
            "of which import (s)",
        ],
        rows,
        note=(
            "Fresh interpreter each, no network (the snapshot ships in the package). The first session "
            "builds the resolution index of the newest release and keeps it in the cache; later "
            "sessions read it."
        ),
    )
    return Result(metrics=metrics, tables=[table])


@measurement("resolver", "lookup_share", "Conversion against a bare Arrow hash lookup of the same queries")
def lookup_share(ctx) -> Result:
    """Warm ``convert`` beside ``pyarrow.compute.index_in`` of the same (upper-cased) queries."""
    import pyarrow as pa
    import pyarrow.compute as pc

    import idtrack_sc as its
    from idtrack_sc.resolve import get_index

    rows, metrics = [], {}
    for organism in ctx.organisms:
        qs = ctx.queries(organism)
        snap = ctx.fresh_snapshot(organism)
        index = get_index(snap, snap.latest_release, "ensembl_gene")
        its.convert(qs.queries, snapshot=snap)  # warm
        queries = pa.array([str(q) for q in qs.queries], type=pa.string())
        bare = ctx.median(ctx.time_runs(lambda q=queries, k=index.keys: pc.index_in(pc.utf8_upper(q), k), ctx.repeats))
        full = ctx.median(ctx.time_runs(lambda s=snap, q=qs.queries: its.convert(q, snapshot=s), ctx.repeats))
        n = len(qs.queries)
        share = bare / full
        metrics[organism] = {"bare_s": bare, "convert_s": full, "share": share, "convert_ids_per_s": n / full}
        ok = "✓" if share >= LOOKUP_SHARE_TARGET else "✗"
        rows.append([organism, n, n / bare, n / full, share, ok])
    table = Table(
        "Warm conversion beside a bare hash lookup",
        ["organism", "queries", "bare lookup ids/s", "convert ids/s", "convert speed / bare speed", "≥ 50 %"],
        rows,
        note=(
            "Bare lookup: `pyarrow.compute.index_in(utf8_upper(queries), index keys)`: it only finds each "
            "query's key (building the hash set of the keys inside the call), without parsing versions, "
            "suffixes, dates or namespaces and without producing the answer table."
        ),
    )
    return Result(metrics=metrics, tables=[table])
