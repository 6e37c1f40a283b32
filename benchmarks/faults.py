"""Inject each fault of the reliability review and record what idtrack-sc does.

Every row is measured, not asserted: the script injects the fault into a scratch copy (the
embedded real human snapshot, real identifiers, a local HTTP server on 127.0.0.1), observes
the package's answer, and checks that nothing was lost (identifiers, counts, the container,
the cache). The table goes between the markers of ``docs/reliability.md``::

    python benchmarks/faults.py              # rewrite the table in docs/reliability.md
    python benchmarks/faults.py --print      # only print it

Exit status 1 if any row's check fails. Needs no network (the server is local) and about
half a minute; the 1 GiB member of the decompression-bomb row is written to a scratch folder
(about 1 MB on disk) and deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- faults:start -->", "<!-- faults:end -->"

ROWS: list[tuple[str, str, str, bool]] = []


def row(fault: str):
    """Register a fault; the function returns (what the package does, what was kept, ok)."""

    def wrap(func):
        def run(scratch: Path) -> None:
            try:
                does, kept, ok = func(scratch)
            except Exception as err:  # noqa: BLE001 - a crash is a result worth reporting
                does, kept, ok = f"crashed: {type(err).__name__}: {err}", "-", False
            ROWS.append((fault, does, kept, ok))
            print(f"[{'ok' if ok else 'FAIL'}] {fault}: {does}", file=sys.stderr)

        run.fault = fault
        FAULTS.append(run)
        return run

    return wrap


FAULTS: list = []


def _adata(names, x=None, dtype=np.float32):
    import anndata as ad

    x = np.arange(1, 3 * len(names) + 1).reshape(3, len(names)) if x is None else np.asarray(x)
    adata = ad.AnnData(x.astype(dtype))
    adata.var_names = pd.Index(names, dtype=object)
    adata.obs_names = pd.Index([f"c{i}" for i in range(adata.n_obs)], dtype=object)
    return adata


def _snap():
    import idtrack_sc as its

    return its.datasets.default_snapshot()


def _error(func) -> str:
    try:
        func()
    except Exception as err:  # noqa: BLE001
        text = re.sub(r"^\S+\.idtrack\.zip: ", "", str(err).split("\n")[0])  # the scratch path says nothing
        return f"{type(err).__name__}: {text[:120]}"
    return "no error"


# -- the single-cell layer ------------------------------------------------------------------------
@row("MuData, genes merge and are dropped (`to='ensembl_gene'`, `unmapped='drop'`)")
def _(scratch):
    import mudata as md

    import idtrack_sc as its

    rna = _adata(["TP53", "p53", "BRCA2", "NOT_A_GENE"])
    prot = _adata(["CD3_TotalSeqB"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdata = md.MuData({"rna": rna, "prot": prot})
        mdata.var["note"] = list(mdata.var_names)
        its.pp.harmonize_var_names(mdata, snapshot=_snap(), unmapped="drop")
    r = mdata.mod["rna"]
    originals = {p for v in r.var["idtrack_original"] for p in v.split("|")} | set(r.uns["idtrack"]["dropped_ids"])
    ok = (
        mdata.var_names.tolist() == [*r.var_names, "CD3_TotalSeqB"]
        and originals == {"TP53", "p53", "BRCA2", "NOT_A_GENE"}
        and mdata.var["note"].tolist() == ["TP53", "BRCA2", "CD3_TotalSeqB"]
    )
    return (
        f"container updated: {mdata.n_vars} features, global var kept for {mdata.var['note'].notna().sum()}",
        "4/4 identifiers in `var` or `dropped_ids`",
        ok,
    )


@row("MuData, one modality cannot be harmonized")
def _(scratch):
    import mudata as md

    import idtrack_sc as its

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdata = md.MuData({"rna": _adata(["TP53", "p53"]), "prot": _adata(["CD3_TotalSeqB"])})
        before = mdata.var_names.tolist()
        msg = _error(lambda: its.pp.harmonize_var_names(mdata, snapshot=_snap(), mod=["rna", "prot"], unmapped="drop"))
    ok = mdata.var_names.tolist() == before and mdata.mod["rna"].var_names.tolist() == ["TP53", "p53"]
    return msg, "container and every modality unchanged", ok and "no feature would remain" in msg


@row("sum of duplicates in `uint8` (200+100+50) and `int16` (30000+20000+10000)")
def _(scratch):
    import idtrack_sc as its

    got = []
    for dtype, values in ((np.uint8, [200, 100, 50]), (np.int16, [30000, 20000, 10000])):
        adata = _adata(["TP53", "p53", "LFS1"], [values], dtype=dtype)
        its.pp.harmonize_var_names(adata, snapshot=_snap(), to="symbol")
        got.append((int(np.asarray(adata.X)[0, 0]), adata.uns["idtrack"]["dtype_promoted"]["X"]))
    ok = [g[0] for g in got] == [350, 60000]
    return f"sums {got[0][0]} and {got[1][0]}; recorded `{got[0][1]}`, `{got[1][1]}`", "exact totals", ok


@row("sum of duplicates in `float16`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["TP53", "p53"], [[60000, 60000]], dtype=np.float16)
    its.pp.harmonize_var_names(adata, snapshot=_snap(), to="symbol")
    total = float(np.asarray(adata.X)[0, 0])
    return f"summed in {adata.X.dtype}: {total:.0f}", "exact total (float16 would give inf)", total == 120000


@row("`duplicates='first'` discards `p53`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["TP53", "p53", "BRCA2"])
    its.pp.harmonize_var_names(adata, snapshot=_snap(), duplicates="first")
    rec = adata.uns["idtrack"]
    ok = list(rec["dropped_ids"]) == ["p53"] and rec["counts"]["dropped"] == 1
    return (
        f"`dropped_ids={list(rec['dropped_ids'])}`, `dropped_by={list(rec['dropped_by'])}`",
        "counts say dropped: 1",
        ok,
    )


@row("input columns shuffled (7 identifiers, 3 orders)")
def _(scratch):
    import idtrack_sc as its

    names = ["p53", "ENSG00000141510.16", "TP53", "LFS1", "BRCA2", "1-Mar", "MARCH1"]
    frames = []
    for order in (range(7), [6, 5, 4, 3, 2, 1, 0], [3, 0, 6, 1, 5, 2, 4]):
        adata = _adata([names[i] for i in order])
        its.pp.harmonize_var_names(adata, snapshot=_snap())
        frames.append(adata.var.sort_index())
    same = all(f.equals(frames[0]) for f in frames[1:])
    return "identical `var` for merged features", "every member listed, fixed order", same


@row("`release=114.7`; a generator of queries")
def _(scratch):
    import idtrack_sc as its

    msg = _error(lambda: its.convert(["TP53"], snapshot=_snap(), release=114.7))
    table = its.convert((q for q in ["TP53", "BRCA2"]), snapshot=_snap())
    ok = msg.startswith("TypeError") and table["outcome"].tolist() == ["1:1", "1:1"]
    return f"{msg}; generator accepted", "-", ok


# -- the resolver keeps nothing on disk -----------------------------------------------------------
@row("cache folder read-only (nothing can be written)")
def _(scratch):
    import idtrack_sc as its

    cache = scratch / "read-only-cache"
    cache.mkdir()
    cache.chmod(0o500)
    os.environ["IDTRACK_SC_CACHE"] = str(cache)
    try:
        snap = its.load_snapshot(its.datasets.default_snapshot_path())
        tables = [
            its.convert(["TP53", "p53", "BRCA2", "2-Sep"], snapshot=snap, to=to)
            for to in ("ensembl_gene", "symbol", "entrez")
        ]
    finally:
        cache.chmod(0o700)
    ok = all((t["outcome"] == "1:1").all() for t in tables) and not any(cache.iterdir())
    return "answers as usual: the resolver writes no file", "cache untouched (empty)", ok


# -- snapshot files --------------------------------------------------------------------------------
def _rewrite(scratch: Path, name: str, *, manifest=None, extra=(), drop=()) -> Path:
    from idtrack_sc.datasets import default_snapshot_path

    out = scratch / name
    with zipfile.ZipFile(default_snapshot_path()) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = src.read(info)
            if info.filename == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            dst.writestr(info.filename, data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate member names, on purpose
            for member, data in extra:
                dst.writestr(member, data)
    return out


def _refused(path: Path, use=None) -> tuple[str, str, bool]:
    import idtrack_sc as its

    def load():
        snap = its.load_snapshot(path)
        if use is not None:
            use(snap)

    msg = _error(load)
    return msg, "file refused; no answer given from it", msg.startswith("SnapshotFormatError")


@row("manifest lists release 120 that the tables do not hold")
def _(scratch):
    import idtrack_sc as its

    path = _rewrite(scratch, "r120.idtrack.zip", manifest=lambda m: {**m, "releases": [*m["releases"], 120]})
    return _refused(path, lambda s: its.convert(["TP53"], snapshot=s, release=120))


@row('manifest `releases: ["abc"]`')
def _(scratch):
    return _refused(_rewrite(scratch, "abc.idtrack.zip", manifest=lambda m: {**m, "releases": ["abc"]}))


@row('manifest `schema_version: "1"`')
def _(scratch):
    return _refused(_rewrite(scratch, "sv.idtrack.zip", manifest=lambda m: {**m, "schema_version": "1"}))


@row("stored key table out of key order (hand-edited `keys.parquet`)")
def _(scratch):
    import idtrack_sc as its
    import idtrack_sc.snapshot._io as snapshot_io

    old = its.load_snapshot(its.datasets.default_snapshot_path())
    real = snapshot_io.build_key_table
    snapshot_io.build_key_table = lambda t: real(t).take(np.arange(real(t).num_rows)[::-1])  # rows reversed
    try:
        tables = {name: old.table(name) for name in ("genes", "events", "names", "features", "loci")}
        forged = snapshot_io.write_snapshot(tables, old.manifest, scratch / "keys-forged.idtrack.zip")
    finally:
        snapshot_io.build_key_table = real
    return _refused(forged, lambda s: its.convert(["TP53"], snapshot=s))


@row("duplicate ZIP member (a second `genes.parquet`)")
def _(scratch):
    return _refused(_rewrite(scratch, "dup.idtrack.zip", extra=[("genes.parquet", b"PAR1")]))


@row("extra ZIP member")
def _(scratch):
    return _refused(_rewrite(scratch, "extra.idtrack.zip", extra=[("run.py", b"print('hi')")]))


@row("1 GiB deflated member in a 1 MB snapshot")
def _(scratch):
    import idtrack_sc as its

    path = _rewrite(
        scratch,
        "bomb.idtrack.zip",
        drop=("genes.parquet",),
        manifest=lambda m: {k: v for k, v in m.items() if k != "tables"},
    )
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("genes.parquet", "w", force_zip64=True) as fh,
    ):
        block = b"\0" * (64 << 20)
        for _ in range(16):
            fh.write(block)
    msg = _error(lambda: its.load_snapshot(path).arrow("genes"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    size = path.stat().st_size / 1e6
    path.unlink()
    return (
        f"{msg.split(';')[0]} ({size:.1f} MB file)",
        f"nothing inflated: peak memory of the whole run {peak:.0f} MB",
        msg.startswith("SnapshotFormatError") and peak < 1024,
    )


# -- downloads ---------------------------------------------------------------------------------------
class _Garbage(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        sent, chunk = 0, b"\x00garbage" * 8192
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 300 << 20:
                self.wfile.write(chunk)
                sent += len(chunk)
        self.server.sent.append(sent)

    def log_message(self, *args):
        pass


@row("mirror streams 300 MB of garbage for a snapshot")
def _(scratch):
    import idtrack_sc as its
    from idtrack_sc.datasets import default_snapshot_path
    from idtrack_sc.registry import registry_line

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    httpd.sent = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    file = scratch / "homo_sapiens-900.idtrack.zip"
    file.write_bytes(default_snapshot_path().read_bytes())
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{file.name}"
    registry = scratch / "registry.txt"
    registry.write_text(registry_line(file, url) + "\n")
    cache = scratch / "download-cache"
    try:
        msg = _error(lambda: its.fetch_snapshot("human", 900, registry=registry, cache_dir=cache, progressbar=False))
    finally:
        httpd.shutdown()
        httpd.server_close()
    sent = max(httpd.sent) / 1e6 if httpd.sent else float("nan")
    left = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    ok = msg.startswith("SnapshotSizeError") and sent < 50 and not left
    return (
        f"stopped at the registry size ({file.stat().st_size} bytes); server got to send {sent:.1f} MB per attempt",
        f"cache holds {left or 'nothing'}",
        ok,
    )


@row("download killed mid-way left `tmp*` in the cache")
def _(scratch):
    import idtrack_sc as its

    cache = scratch / "killed-cache"
    cache.mkdir()
    stale = cache / "tmpk1ll3d_x"
    stale.write_bytes(b"PK\x03\x04 half a snapshot")
    marker = cache / ".tmpk1ll3d_x.idtrack-sc-download"  # the sidecar a download of the package leaves
    marker.write_bytes(b"")
    old = time.time() - 7200
    for path in (stale, marker):
        os.utime(path, (old, old))
    its.fetch_snapshot("human", "default", cache_dir=cache, progressbar=False)
    left = sorted(p.name for p in cache.iterdir())
    return "removed on the next fetch", f"cache holds {left or 'nothing'}", not stale.exists()


# -- pptrust: nothing merged that is not the same gene, nothing the user had lost ------------------
def _tenx(names, ids, values):
    adata = _adata(names, [values])
    adata.var["gene_ids"] = ids
    return adata


@row("`CD3E` as var_name beside TP53's Ensembl ID in `var['gene_ids']`")
def _(scratch):
    import idtrack_sc as its

    tp53 = "ENSG00000141510"
    adata = _tenx(["TP53", "CD3E", "BRCA1"], [tp53, tp53, "ENSG00000012048"], [5, 7, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        its.pp.harmonize_var_names(adata, snapshot=_snap())
    var = adata.var
    conflict = var[var["idtrack_original"] == "CD3E"]
    said = any("name different genes" in str(w.message) for w in caught)
    ok = (
        said
        and float(np.asarray(adata[:, tp53].X)[0, 0]) == 5
        and len(conflict) == 1
        and conflict["idtrack_reason"].iloc[0] == "pair_conflict"
        and conflict["idtrack_pair"].iloc[0] == "disagree"
    )
    return (
        f"warning; kept apart as a tie ({conflict['idtrack_outcome'].iloc[0]}, reason "
        f"`{conflict['idtrack_reason'].iloc[0]}`), not merged into TP53",
        f"TP53 holds {float(np.asarray(adata[:, tp53].X)[0, 0]):g} (its own), CD3E's 7 in its own column",
        ok,
    )


@row("`RN7SL1` fails in one dataset (release 75: a retired gene) and maps in another (`to='symbol'`)")
def _(scratch):
    import idtrack_sc as its

    today, old = _adata(["RN7SL1", "TP53"]), _adata(["RN7SL1", "TP53"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merged = its.concat_harmonized(
            {"today": today, "old": old},
            snapshot=_snap(),
            to="symbol",
            from_release={"today": None, "old": 75},
            join="outer",
        )
    var = merged.var
    apart = list(merged.uns["idtrack"]["kept_apart"]["name"])
    ok = (
        var.loc["RN7SL1", "idtrack_n_datasets"] == 1 and apart == ["RN7SL1~unmapped"] and "RN7SL1~unmapped" in var.index
    )
    return (
        f"two features: `RN7SL1` (1:1, {var.loc['RN7SL1', 'idtrack_n_datasets']} dataset) and `RN7SL1~unmapped` "
        f"({var.loc['RN7SL1~unmapped', 'idtrack_outcome']}, {var.loc['RN7SL1~unmapped', 'idtrack_reason']})",
        "`uns['idtrack']['kept_apart']` names it",
        ok,
    )


@row("the dataset's own `var['symbol']`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["ENSG00000141510", "ENSG00000012048"])
    adata.var["symbol"] = ["my label 1", "my label 2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its.pp.harmonize_var_names(adata, snapshot=_snap())
    kept = adata.var.get("symbol_before_idtrack")
    ok = kept is not None and kept.tolist() == ["my label 1", "my label 2"]
    does = "kept as `var['symbol_before_idtrack']`, with a warning" if ok else "replaced by the new symbols"
    return does, f"{sum(v.startswith('my label') for v in (kept if kept is not None else []))}/2 values", ok


@row("`idtrack_*` columns whose `uns` record was lost, harmonized again")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["ENSG00000000003.16", "ENSG00000141510"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its.pp.harmonize_var_names(adata, snapshot=_snap())
    del adata.uns["idtrack"]
    msg = _error(lambda: its.pp.harmonize_var_names(adata, snapshot=_snap()))
    original = adata.var["idtrack_original"].iloc[0]
    return msg, f"`idtrack_original` still `{original}`", msg.startswith("ValueError") and original.endswith(".16")


@row("`symbol_key='idtrack_original'`; `key_added='.'`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["TP53", "BRCA1"])
    first = _error(lambda: its.pp.harmonize_var_names(adata, snapshot=_snap(), symbol_key="idtrack_original"))
    second = _error(lambda: its.pp.harmonize_var_names(adata, snapshot=_snap(), key_added="."))
    ok = (
        first.startswith("ValueError")
        and second.startswith("ValueError")
        and list(adata.var_names) == ["TP53", "BRCA1"]
    )
    return f"{first[:70]}…; {second[:60]}…", "data unchanged", ok


@row("`id_key` set: the old `var_names`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["cr_1", "cr_2"])
    adata.var["ens"] = ["ENSG00000141510", "ENSG00000141510"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its.pp.harmonize_var_names(adata, snapshot=_snap(), id_key="ens")
    kept = adata.var["idtrack_original_var_name"].tolist()
    return "kept in `var['idtrack_original_var_name']`", f"{kept}", kept == ["cr_1|cr_2"]


@row("`concat_harmonized(copy_inputs=False)`, the second dataset fails")
def _(scratch):
    import idtrack_sc as its

    first = _adata(["ENSG00000000003.16", "ENSG00000141510"])
    later = _adata(["NOT_A_GENE_1", "NOT_A_GENE_2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msg = _error(
            lambda: its.concat_harmonized(
                {"first": first, "later": later}, snapshot=_snap(), copy_inputs=False, unmapped="drop"
            )
        )
    ok = list(first.var_names) == ["ENSG00000000003.16", "ENSG00000141510"] and "idtrack" not in first.uns
    return msg, "first input unchanged (`…0003.16`, no record)", ok and msg.startswith("ValueError")


@row("user files `tmpnotes_2024`, `.draft.part` in the cache folder")
def _(scratch):
    import idtrack_sc as its

    cache = scratch / "user-cache"
    cache.mkdir()
    old = time.time() - 7200
    for name in ("tmpnotes_2024", ".draft.part"):
        (cache / name).write_bytes(b"mine")
        os.utime(cache / name, (old, old))
    its.fetch_snapshot("human", "default", cache_dir=cache, progressbar=False)
    left = sorted(p.name for p in cache.iterdir())
    ok = len(left) == 2
    does = "left alone (only the package's own temporaries are removed)" if ok else "deleted"
    return does, f"cache holds {left}", ok


# -- issue #20: bounded reads, configuration that cannot surprise, safe output (helper `faults`) ----
# The memory rows run in a child process (its own peak RSS, under a 12 GiB address-space limit);
# run this script with PYTHONPATH pointing at an older checkout to measure it "before".
_LIMIT_GIB = 12


def _child(code: str, timeout: int = 900) -> dict:
    """Run ``code`` in a fresh interpreter; it sets ``out`` (a dict); returns it with ``peak_mb``/``error``."""
    import subprocess

    wrapped = (
        "import json, resource, sys, time, warnings\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({_LIMIT_GIB} << 30, {_LIMIT_GIB} << 30))\n"
        "warnings.simplefilter('ignore')\n"
        "out = {}\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines()) + "except Exception as err:\n"
        "    out['error'] = f'{type(err).__name__}: {str(err).splitlines()[0][:160]}'\n"
        "out['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"error": f"child died (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}", "peak_mb": 0}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _yrna(n: int, last: str) -> dict:
    """Harmonize ``n`` features ending in ``last`` in a fresh process (indexes read from the cache)."""
    return _child(
        f"""
import numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
import idtrack_sc as its
snap = its.fetch_snapshot("human", progressbar=False)
names = snap.names
sym = names[(names.namespace == "symbol") & (names.kind == "primary") & (names.last_release == 114)]["value"]
sym = [s for s in sym.drop_duplicates().tolist() if s != "Y_RNA"][:33000]
var = sym[: {n} - 1] + [f"NOTAGENE{{i}}" for i in range(max(0, {n} - 1 - len(sym)))] + [{last!r}]
adata = ad.AnnData(sp.csr_matrix((3, len(var)), dtype=np.float32))
adata.var_names = pd.Index(var, dtype=object)
t = time.perf_counter()
its.pp.harmonize_var_names(adata, snapshot=snap)
out["seconds"] = time.perf_counter() - t
out["targets"] = len(adata.var["idtrack_targets"].iloc[-1].split("|"))
"""
    )


def _memory_row(n: int, slack_mb: float) -> tuple[str, str, bool]:
    """``Y_RNA`` last among ``n`` features, against the same features without it (after a warm-up run)."""
    _yrna(n, "NOTAGENE")  # builds and stores the resolution indexes: the next runs only read them
    base, got = _yrna(n, "NOTAGENE"), _yrna(n, "Y_RNA")
    if "error" in got or "error" in base:
        why = got.get("error") or base.get("error")
        return why, f"peak memory {got['peak_mb']:.0f} MB (without `Y_RNA`: {base['peak_mb']:.0f} MB)", False
    return (
        f"harmonized in {got['seconds']:.1f} s (without `Y_RNA`: {base['seconds']:.1f} s)",
        f"peak memory {got['peak_mb']:.0f} MB (without `Y_RNA`: {base['peak_mb']:.0f} MB)",
        got["peak_mb"] - base["peak_mb"] < slack_mb and got["targets"] > 700,
    )


@row("`Y_RNA` (a symbol of 758 genes) among 33k features")
def _(scratch):
    return _memory_row(33_000, 200)


@row("`Y_RNA` among 1M features")
def _(scratch):
    return _memory_row(1_000_000, 500)


@row("manifest declares the 1 GiB of a deflated member (1.1 MB file)")
def _(scratch):
    path = _rewrite(
        scratch,
        "declared.idtrack.zip",
        drop=("genes.parquet",),
        manifest=lambda m: {**m, "tables": {**m["tables"], "genes": {"bytes": 1 << 30, "rows": 1}}},
    )
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("genes.parquet", "w", force_zip64=True) as fh,
    ):
        block = b"\0" * (64 << 20)
        for _ in range(16):
            fh.write(block)
    got = _child(f"import idtrack_sc as its\nits.load_snapshot({str(path)!r}).arrow('genes')")
    size = path.stat().st_size / 1e6
    path.unlink()
    msg = re.sub(r"\S+\.idtrack\.zip: ", "", got.get("error", "no error"))
    return (
        f"{msg.split(';')[0]} ({size:.1f} MB file)",
        f"nothing inflated: peak memory {got['peak_mb']:.0f} MB",
        msg.startswith("SnapshotFormatError") and got["peak_mb"] < 1024,
    )


@row("`genes.parquet` of 20M identical rows (encoded in kB), then `convert(['TP53'])`")
def _(scratch):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from idtrack_sc.datasets import default_snapshot_path
    from idtrack_sc.snapshot._schema import GENES

    snap = _snap()
    genes = snap.arrow("genes")
    one = genes.filter(pa.compute.equal(genes["gene_id"], "ENSG00000141510")).slice(0, 1).to_pylist()[0]
    one.update(first_release=min(snap.releases), last_release=max(snap.releases))
    batch = pa.Table.from_pylist([one] * 1_000_000, schema=GENES)
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, GENES, compression="zstd", use_dictionary=True) as writer:
        for _ in range(20):
            writer.write_table(batch, row_group_size=1 << 20)
    path = scratch / "rows.idtrack.zip"
    with zipfile.ZipFile(default_snapshot_path()) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = sink.getvalue() if info.filename == "genes.parquet" else src.read(info)
            if info.filename == "manifest.json":
                data = json.dumps({k: v for k, v in json.loads(data).items() if k != "tables"}).encode()
            dst.writestr(info.filename, data)
    got = _child(f"import idtrack_sc as its\nits.convert(['TP53'], snapshot={str(path)!r})")
    msg = re.sub(r"\S+\.idtrack\.zip: ", "", got.get("error", "no error"))
    return (
        f"{msg.split(';')[0]} ({path.stat().st_size / 1e3:.0f} kB file)",
        f"peak memory {got['peak_mb']:.0f} MB",
        msg.startswith("SnapshotFormatError") and got["peak_mb"] < 1024,
    )


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.sent, httpd.daemon_threads = [], True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _registry_of(scratch: Path, url: str, *, size: bool) -> tuple[Path, Path]:
    from idtrack_sc.datasets import default_snapshot_path
    from idtrack_sc.registry import registry_line

    file = scratch / "homo_sapiens-900.idtrack.zip"
    file.write_bytes(default_snapshot_path().read_bytes())
    line = registry_line(file, f"{url}/{file.name}")
    registry = scratch / "registry.txt"
    registry.write_text((line if size else line.rsplit(" size=", 1)[0]) + "\n")
    return registry, scratch / "download-cache"


@row("registry entry without `size=`, mirror streams 300 MB of garbage")
def _(scratch):
    import idtrack_sc as its
    from idtrack_sc.registry import _registry

    httpd, url = _serve(_Garbage)
    registry, cache = _registry_of(scratch, url, size=False)
    try:
        msg = _error(lambda: its.fetch_snapshot("human", 900, registry=registry, cache_dir=cache, progressbar=False))
    finally:
        httpd.shutdown()
        httpd.server_close()
    sent = max(httpd.sent) / 1e6 if httpd.sent else float("nan")
    left = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    cap = getattr(_registry, "MAX_DOWNLOAD_BYTES", None)
    ok = msg.startswith("SnapshotSizeError") and sent < 300 and not left
    return (
        f"{msg.split(':')[0]}: stopped at the cap ({cap and cap >> 20} MiB); server got to send {sent:.0f} MB per attempt",
        f"cache holds {left or 'nothing'}",
        ok,
    )


class _Trickle(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(self.server.bytes):
                threading.Event().wait(self.server.every)
                self.wfile.write(b"x")
                self.wfile.flush()

    def log_message(self, *args):
        pass


def _stalled(scratch: Path, every: float, n: int, **settings) -> tuple[str, str, bool]:
    import idtrack_sc as its
    from idtrack_sc.registry import _registry

    saved = {name: getattr(_registry, name, None) for name in settings}
    for name, value in settings.items():
        setattr(_registry, name, value)
    httpd, url = _serve(_Trickle)
    httpd.every, httpd.bytes = every, n
    registry, cache = _registry_of(scratch, url, size=True)
    t = time.perf_counter()
    try:
        msg = _error(lambda: its.fetch_snapshot("human", 900, registry=registry, cache_dir=cache, progressbar=False))
    finally:
        httpd.shutdown()
        httpd.server_close()
        for name, value in saved.items():
            setattr(_registry, name, value)
    took = time.perf_counter() - t
    left = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    said = ", ".join(f"`{k}={v}`" for k, v in settings.items())
    return (
        f"{msg.split(' (')[0][:70]}…: given up after {took:.0f} s ({said} for this run)",
        f"cache holds {left or 'nothing'}",
        msg.startswith("SnapshotDownloadError") and not left and took < 60,
    )


@row("server sends one byte every 2 s (15 in all)")
def _(scratch):
    return _stalled(scratch, 2.0, 15, DOWNLOAD_DEADLINE=6)


@row("server sends the headers, then nothing for 20 s")
def _(scratch):
    return _stalled(scratch, 20.0, 1, READ_TIMEOUT=2)


@row("`IDTRACK_SC_REGISTRY` replaces the shipped human snapshot")
def _(scratch):
    import idtrack_sc as its
    from idtrack_sc.datasets import default_snapshot_path

    mine = scratch / "homo_sapiens-114.idtrack.zip"
    mine.write_bytes(default_snapshot_path().read_bytes())
    registry = scratch / "registry.txt"
    registry.write_text(f"{its.registry.registry_line(mine, str(mine))}\n")
    os.environ["IDTRACK_SC_REGISTRY"] = str(registry)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            snap = its.fetch_snapshot("human", progressbar=False)
    finally:
        del os.environ["IDTRACK_SC_REGISTRY"]
    said = [str(w.message) for w in caught if "replaces the snapshot" in str(w.message)]
    both = bool(said) and said[0].count("sha256:") >= 3
    return (
        'warning naming both checksums; `snapshot="sha256:<hex>"` pins either' if said else "no warning",
        f"answers from {snap.path.name} ({len(snap.genes)} gene rows), as the user asked",
        both,
    )


@row("`IDTRACK_SC_REGISTRY` names a file that does not exist")
def _(scratch):
    import idtrack_sc as its

    os.environ["IDTRACK_SC_REGISTRY"] = str(scratch / "gone.txt")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            msg = _error(lambda: its.convert(["TP53"], snapshot="human"))
    finally:
        del os.environ["IDTRACK_SC_REGISTRY"]
    warned = any("does not exist" in str(w.message) for w in caught)
    return (
        ("warning; " if warned else "") + ("the shipped snapshot answers offline" if msg == "no error" else msg),
        "-",
        warned and msg == "no error",
    )


def _table_edited(scratch: Path, name: str, edit, file: str) -> Path:
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(edit(_snap().arrow(name)), sink)
    return _rewrite(
        scratch,
        file,
        drop=(f"{name}.parquet",),
        manifest=lambda m: {k: v for k, v in m.items() if k != "tables"},
        extra=[(f"{name}.parquet", sink.getvalue())],
    )


@row("empty `genes` table")
def _(scratch):
    import idtrack_sc as its

    path = _table_edited(scratch, "genes", lambda t: t.slice(0, 0), "empty.idtrack.zip")
    return _refused(path, lambda s: its.convert(["TP53"], snapshot=s))


@row("a second primary symbol for TP53 at 114 (`EVILSYM`)")
def _(scratch):
    import pyarrow as pa

    import idtrack_sc as its

    def forge(table):
        row = {
            "gene_id": ["ENSG00000141510"],
            "namespace": ["symbol"],
            "value": ["EVILSYM"],
            "kind": ["primary"],
            "first_release": [114],
            "last_release": [114],
            "source": ["gtf"],
        }
        return pa.concat_tables([table, pa.table(row, schema=table.schema)])

    path = _table_edited(scratch, "names", forge, "evil.idtrack.zip")
    return _refused(path, lambda s: its.convert(["TP53"], snapshot=s, to="symbol"))


@row("manifest nested 100,000 levels deep")
def _(scratch):
    deep = "[" * 100_000 + "]" * 100_000
    path = _rewrite(
        scratch,
        "deep.idtrack.zip",
        drop=("manifest.json",),
        extra=[("manifest.json", b'{"x": ' + deep.encode() + b"}")],
    )
    return _refused(path)


@row('`write_report` of a dataset named `"$\\frac{a}{$"`')
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["TP53", "BRCA2"])
    its.pp.harmonize_var_names(adata, snapshot=_snap())
    msg = _error(lambda: its.report.write_report({"$\\frac{a}{$": adata}, scratch / "report"))
    made = (scratch / "report" / "summary.png").is_file()
    return ("report written" if msg == "no error" else msg), "name shown as written", made and msg == "no error"


@row("`mapping.tsv` of features named `=1+1` and `@SUM(A1)`")
def _(scratch):
    import idtrack_sc as its

    adata = _adata(["TP53", "=1+1", "@SUM(A1)"])
    its.pp.harmonize_var_names(adata, snapshot=_snap())
    folder = its.report.write_report(adata, scratch / "report")
    cells = pd.read_csv(folder / "mapping.tsv", sep="\t", dtype=str, keep_default_na=False)["original"].tolist()
    risky = [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    return (
        f"written as {', '.join(f'`{c}`' for c in cells if c != 'TP53')}",
        "the value is the cell minus its `'`",
        not risky,
    )


@row("look-alike letters: `ıl6` (dotless i), `ſox2` (long s)")
def _(scratch):
    import idtrack_sc as its

    table = its.convert(["ıl6", "ſox2", "il6", "rorα"], snapshot="human")
    got = dict(zip(table["query"], table["outcome"].astype(str), strict=True))
    ok = got == {"ıl6": "1:0", "ſox2": "1:0", "il6": "1:1", "rorα": "1:1"}
    return f"`ıl6` {got['ıl6']}, `ſox2` {got['ſox2']}; `il6`, `rorα` {got['il6']}", "no gene guessed", ok


def table() -> str:
    lines = ["| fault injected | what idtrack-sc does | nothing lost | check |", "| --- | --- | --- | --- |"]
    for fault, does, kept, ok in ROWS:
        cell = does.replace("|", "\\|")
        lines.append(f"| {fault} | {cell} | {kept} | {'✓' if ok else '✗'} |")
    import idtrack_sc

    lines.append("")
    lines.append(
        f"Produced by `python benchmarks/faults.py` with idtrack-sc {idtrack_sc.__version__}, "
        f"Python {sys.version.split()[0]}, {len(ROWS)} faults, {sum(r[3] for r in ROWS)} checks passed."
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table instead of writing docs/reliability.md")
    parser.add_argument(
        "--only", metavar="TEXT", help="run only the faults whose description contains TEXT (implies --print)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="idtrack-faults-") as tmp:
        os.environ["IDTRACK_SC_CACHE"] = str(Path(tmp) / "cache")
        for i, fault in enumerate(FAULTS):
            if args.only and args.only not in fault.fault:
                continue
            scratch = Path(tmp) / f"fault-{i}"
            scratch.mkdir()
            fault(scratch)
    text = table()
    if args.print or args.only:
        print(text)
    else:
        doc = DOC.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        DOC.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", doc), encoding="utf-8")
        print(f"wrote {DOC}", file=sys.stderr)
    return 0 if all(r[3] for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
