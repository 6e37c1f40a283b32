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
            its.convert(["TP53", "p53", "BRCA2", "1-Mar"], snapshot=snap, to=to)
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
    old = time.time() - 7200
    os.utime(stale, (old, old))
    its.fetch_snapshot("human", "default", cache_dir=cache, progressbar=False)
    left = sorted(p.name for p in cache.iterdir())
    return "removed on the next fetch", f"cache holds {left or 'nothing'}", not stale.exists()


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
