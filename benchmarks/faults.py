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


# -- the resolution index on disk ------------------------------------------------------------------
def _index_fault(scratch: Path, damage) -> tuple[str, str, bool]:
    import idtrack_sc as its
    from idtrack_sc.resolve._persist import index_path

    os.environ["IDTRACK_SC_CACHE"] = str(scratch / "cache")
    snap_path = scratch / "homo_sapiens-default.idtrack.zip"
    snap_path.write_bytes(its.datasets.default_snapshot_path().read_bytes())
    queries = ["TP53", "p53", "BRCA2", "1-Mar", "NOT_A_GENE"]
    expected = its.convert(queries, snapshot=its.load_snapshot(snap_path))
    path = index_path(its.load_snapshot(snap_path), 114, "ensembl_gene")
    damage(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = its.convert(queries, snapshot=its.load_snapshot(snap_path))
    said = next(
        (str(w.message).split(": ", 1)[1].split(".")[0] for w in caught if "resolution index" in str(w.message)), ""
    )
    ok = again.equals(expected) and bool(said)
    return f"warning ({said}); index rebuilt", "answers identical to a fresh build", ok


@row("cached resolution index edited (TP53 answers another gene)")
def _(scratch):
    import pyarrow as pa

    def edit(path):
        table = pa.ipc.open_file(pa.BufferReader(path.read_bytes())).read_all()
        top = ["ENSG00000000000" if t == "ENSG00000141510" else t for t in table["top"].to_pylist()]
        table = table.set_column(table.schema.get_field_index("top"), "top", pa.array(top, pa.string()))
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)

    return _index_fault(scratch, edit)


@row("cached resolution index truncated")
def _(scratch):
    return _index_fault(scratch, lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]))


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


@row("`SOD2` fails in one dataset (release 75: a retired gene) and maps in another (`to='symbol'`)")
def _(scratch):
    import idtrack_sc as its

    today, old = _adata(["SOD2", "TP53"]), _adata(["SOD2", "TP53"])
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
    ok = var.loc["SOD2", "idtrack_n_datasets"] == 1 and apart == ["SOD2~unmapped"] and "SOD2~unmapped" in var.index
    return (
        f"two features: `SOD2` (1:1, {var.loc['SOD2', 'idtrack_n_datasets']} dataset) and `SOD2~unmapped` "
        f"({var.loc['SOD2~unmapped', 'idtrack_outcome']}, {var.loc['SOD2~unmapped', 'idtrack_reason']})",
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="idtrack-faults-") as tmp:
        os.environ["IDTRACK_SC_CACHE"] = str(Path(tmp) / "cache")
        for i, fault in enumerate(FAULTS):
            scratch = Path(tmp) / f"fault-{i}"
            scratch.mkdir()
            fault(scratch)
    text = table()
    if args.print:
        print(text)
    else:
        doc = DOC.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        DOC.write_text(pattern.sub(lambda _: f"{START}\n{text}\n{END}", doc), encoding="utf-8")
        print(f"wrote {DOC}", file=sys.stderr)
    return 0 if all(r[3] for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
