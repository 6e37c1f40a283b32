"""``idtrack-sc demo``: the toy example and a legacy rescue of pbmc68k_reduced, offline."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import add_command

if TYPE_CHECKING:
    import argparse

    from anndata import AnnData

logger = logging.getLogger(__name__)

TOY_A = ("TP53", "BRCA1", "BRCA2", "BRAF", "KRAS")
TOY_B = ("TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE")
#: How many examples of each kind the demo prints.
N_EXAMPLES = 6


def add_parser(subparsers: Any) -> None:
    """Register ``demo``.

    Parameters
    ----------
    subparsers
        The top-level parser's subparsers.
    """
    parser = add_command(
        subparsers,
        "demo",
        help="run the toy example and rescue scanpy's pbmc68k_reduced, offline (about ten seconds)",
        description=(
            "Harmonize two toy datasets to symbols and concatenate them, then bring scanpy's bundled "
            "pbmc68k_reduced (2016-era symbols) to gene IDs of the snapshot's newest release (Ensembl 114 "
            "for the full human snapshot shipped with the package, the default). Prints what happened; "
            "nothing is downloaded."
        ),
    )
    parser.add_argument(
        "--snapshot",
        default="human",
        metavar="NAME|FILE",
        help="snapshot to use: human (the full snapshot shipped with the package, default), "
        "default (the small embedded demo subset) or a snapshot file",
    )
    parser.add_argument("--report", type=Path, metavar="DIR", help="write harmonization reports into DIR")
    parser.add_argument("-o", "--out", type=Path, metavar="DIR", help="write the resulting .h5ad files into DIR")
    parser.set_defaults(handler=_demo)


# -- data ----------------------------------------------------------------------------------------
def toy_datasets() -> dict[str, AnnData]:
    """The toy datasets: A (50 cells, 5 genes) and B (60 cells, 4 features incl. TP53 twice)."""
    import anndata as ad
    import numpy as np
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(0)
    out = {}
    for name, n_obs, genes in (("A", 50, TOY_A), ("B", 60, TOY_B)):
        counts = rng.poisson(2.0, size=(n_obs, len(genes))).astype(np.float32)
        out[name] = ad.AnnData(
            sparse.csr_matrix(counts),
            obs=pd.DataFrame(index=[f"{name}-cell{i}" for i in range(n_obs)]),
            var=pd.DataFrame(index=list(genes)),
        )
    return out


def pbmc68k_reduced() -> AnnData:
    """Scanpy's bundled ``pbmc68k_reduced``, read from scanpy's package folder (no import of scanpy)."""
    import importlib.util

    import anndata as ad

    spec = importlib.util.find_spec("scanpy")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "10x_pbmc68k_reduced.h5ad"
        if path.is_file():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ad.read_h5ad(path)
    import scanpy as sc  # pragma: no cover - another scanpy layout

    return sc.datasets.pbmc68k_reduced()  # pragma: no cover


def _concat(datasets: dict[str, AnnData], snap: Any, *, join: str) -> tuple[AnnData, Any]:
    """Harmonize to symbols and concatenate; returns the result and what to report on."""
    import idtrack_sc

    kwargs = {"snapshot": snap, "to": "symbol"}
    try:
        concat_harmonized = idtrack_sc.concat_harmonized
    except AttributeError:  # before concat_harmonized: harmonize each, then anndata.concat
        import anndata as ad

        from idtrack_sc.pp import harmonize_var_names

        done = {name: harmonize_var_names(a, unmapped="drop", copy=True, **kwargs) for name, a in datasets.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            merged = ad.concat(done, join=join, label="dataset")
        return merged, done
    merged = concat_harmonized({k: v.copy() for k, v in datasets.items()}, join=join, label="dataset", **kwargs)
    return merged, merged


# -- printing ------------------------------------------------------------------------------------
def _collapsed(merged: AnnData, report_data: Any) -> list[tuple[str, str, list[str]]]:
    """``(dataset, new name, originals)`` of every group of features merged into one."""
    from idtrack_sc.record import var_columns

    cols = var_columns("idtrack")
    out = []
    record = merged.uns.get("idtrack", {})
    if "collapsed" in record:  # concat_harmonized's record
        for dataset, table in record["collapsed"].items():
            for name, joined in zip(table["name"], table["originals"], strict=True):
                out.append((str(dataset), str(name), str(joined).split("|")))
        return out
    for dataset, adata in report_data.items():
        var = adata.var[adata.var[cols["n_merged"]] > 1]
        out.extend((dataset, str(n), str(o).split("|")) for n, o in zip(var.index, var[cols["original"]], strict=True))
    return out


def _reasons_text(reasons: dict[str, int]) -> str:
    items = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{n:,} {r.replace('_', ' ')}" for r, n in items if n)


def _toy(snap: Any, args: argparse.Namespace) -> None:
    import numpy as np

    from idtrack_sc import convert
    from idtrack_sc.get import mapping_table

    datasets = toy_datasets()
    union, report_data = _concat(datasets, snap, join="outer")
    inter, _ = _concat(datasets, snap, join="inner")
    table = mapping_table(report_data)

    print("1. Two toy datasets, harmonized to symbols and concatenated")
    for name, adata in datasets.items():
        print(f"   {name}: {adata.n_obs} cells x {', '.join(adata.var_names)}")
    for dataset, new, originals in _collapsed(union, report_data):
        adata = datasets[dataset]
        x = adata.X.toarray()
        cols = [list(adata.var_names).index(o) for o in originals]
        both = np.flatnonzero((x[:, cols] > 0).all(axis=1))
        i = int(both[0]) if len(both) else 0
        cell = " + ".join(f"{x[i, c]:g}" for c in cols)
        summed = union[union.obs["dataset"] == dataset][:, new].X
        summed = summed.toarray() if hasattr(summed, "toarray") else np.asarray(summed)
        print(
            f"   {dataset}: {' and '.join(originals)} are one gene -> {new}, their counts summed "
            f"(cell {i}: {cell} = {summed[i, 0]:g})"
        )
    failed = table[table["outcome"].astype(str).isin(["1:0", "dropped"])]
    if len(failed):
        why = convert(list(failed["original"]), snapshot=snap, to="symbol").set_index("query")["reason"].astype(str)
        for _, row in failed.iterrows():
            fate = "kept under its own name" if row["kept"] else "left out of the merge (it fails in this dataset only)"
            reason = str(why.get(row["original"], row["reason"]) or "no target").replace("_", " ")
            print(f"   {row['dataset']}: {row['original']} failed ({reason}), {fate}")
    print(f"   union (join='outer'):        {union.n_obs} cells x {union.n_vars}: {' '.join(union.var_names)}")
    print(f"   intersection (join='inner'): {inter.n_obs} cells x {inter.n_vars}: {' '.join(inter.var_names)}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, result in (("toy_union", union), ("toy_intersection", inter)):
            result.write_h5ad(args.out / f"{name}.h5ad")
    if args.report is not None:
        from idtrack_sc.report import write_report

        write_report(report_data, args.report / "toy", title="idtrack-sc demo: toy datasets")


def _pbmc(snap: Any, args: argparse.Namespace) -> None:
    from idtrack_sc import convert
    from idtrack_sc.get import mapping_table
    from idtrack_sc.pp import harmonize_var_names
    from idtrack_sc.record import Dataset, outcome_reason_counts

    adata = pbmc68k_reduced()
    release = snap.releases[-1]
    harmonize_var_names(adata, snapshot=snap, release=release, to="ensembl_gene")
    table = mapping_table(adata)
    outcomes, by = outcome_reason_counts(Dataset(name="", record=dict(adata.uns["idtrack"])))

    print()
    print(f"2. Legacy rescue: scanpy's pbmc68k_reduced (2016-era symbols) -> Ensembl {release} gene IDs")
    how = adata.uns["idtrack"]["release"]
    inferred = how.get("inferred", {})
    anchor = int(how.get("anchor_release", release))
    if inferred.get("status") == "determined":
        print(f"   {_annotation_line(inferred, anchor, snap)}")
    print(f"   {adata.n_obs} cells x {len(table):,} features:")
    for outcome in ("1:1", "1:n", "1:0"):
        if not outcomes[outcome]:
            continue
        if outcome == "1:n":  # a tie has candidates, not one reason to show: name the features
            names = list(table.loc[table["outcome"] == "1:n", "original"])
            shown = ", ".join(names[:N_EXAMPLES]) + (
                f", … ({len(names) - N_EXAMPLES} more)" if len(names) > N_EXAMPLES else ""
            )
            detail = f"ties between candidates, kept under their old names: {shown}"
        else:
            detail = _reasons_text(by[outcome]) if by[outcome] is not None else ""
        print(f"     {outcome}  {outcomes[outcome]:>4,}" + (f"  ({detail})" if detail else ""))
    changed = table[(table["outcome"] == "1:1") & (table["original"] != table["symbol"])]
    reasons = ("renamed", "previous_symbol", "alias", "suffix_stripped", "date_repaired", "history_successor")
    for reason in (*reasons, "inferred_successor"):
        rows = changed[changed["reason"] == reason]
        if len(rows):
            examples = ", ".join(f"{o} -> {s}" for o, s in zip(rows["original"], rows["symbol"], strict=True))
            shown = examples.split(", ")[:N_EXAMPLES]
            more = f", … ({len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
            print(f"   {reason.replace('_', ' ')}: {', '.join(shown)}{more}")
    failed = table[table["outcome"] == "1:0"]
    if len(failed):
        from_release = None if anchor == release else anchor
        detail = convert(list(failed["original"]), snapshot=snap, release=release, from_release=from_release)
        print("   failed (kept under their old names, so nothing is lost):")
        width = max(len(o) for o in failed["original"])
        for _, row in detail.iterrows():
            print(f"     {row['query']:<{width}}  {_why(row, release)}")
    print(f"   var_names are now Ensembl gene IDs; var['symbol'] holds the release-{release} symbols for display,")
    print("   e.g. sc.pl.umap(adata, color='JCHAIN', gene_symbols='symbol').")
    if args.out is not None:
        adata.write_h5ad(args.out / "pbmc68k_reduced.harmonized.h5ad")
    if args.report is not None:
        from idtrack_sc.report import write_report

        write_report(adata, args.report / "pbmc68k_reduced", title="idtrack-sc demo: pbmc68k_reduced")


def _annotation_line(inferred: dict, anchor: int, snap: Any) -> str:
    """One line: the release the names were inferred to come from, and the release they are read at."""
    from idtrack_sc.resolve import assembly_of

    release, assembly = int(inferred["release"]), inferred["assembly"]
    found = f"its names fit Ensembl {release} ({assembly}) best (confidence {float(inferred['confidence']):.3f})"
    if anchor == release:
        return f"{found}: they are read as they were meant then"
    evidence = inferred.get("evidence", {})
    fits = dict(zip((int(r) for r in evidence.get("release", ())), evidence.get("fit", ()), strict=True))
    fit = f", where {float(fits[anchor]):.0%} of them are valid" if anchor in fits else ""
    return (
        f"{found}; symbols carry no assembly, so they are read as in Ensembl {anchor}, "
        f"the best-fitting {assembly_of(snap, anchor)} release{fit}"
    )


def _why(row: Any, release: int) -> str:
    reason = str(row["reason"])
    if reason == "retired":
        last = row["found_last"]
        gone = row["retired_in"]
        seen = f"named so in release {last}; " if last is not None and str(last) != "<NA>" else ""
        when = f" by release {gone}" if gone is not None and str(gone) != "<NA>" else ""
        return f"retired: {seen}its gene {row['gene_id']} was retired{when} with no successor"
    if reason == "not_found":
        return "not found: no gene had this name in the snapshot's releases (a clone-based name?)"
    from idtrack_sc.resolve import REASONS

    return f"{reason.replace('_', ' ')}: {REASONS.get(reason, '')}"


def _demo(args: argparse.Namespace) -> int:
    from idtrack_sc.registry import resolve_snapshot

    start = time.perf_counter()
    snap = resolve_snapshot(args.snapshot, progressbar=False)
    ident = snap.identity()
    subset = snap.manifest.get("subset", {}).get("genes")
    scope = f"a {subset}-gene subset" if subset else f"{snap.summary()['genes']:,} gene IDs"
    print(
        f"idtrack-sc demo on the {ident['organism']} snapshot {str(ident['sha256'])[:12]} "
        f"(Ensembl {snap.releases[0]}-{snap.releases[-1]}, {scope}; offline)"
    )
    print()
    if args.report is not None:
        args.report.mkdir(parents=True, exist_ok=True)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    _toy(snap, args)
    _pbmc(snap, args)
    print()
    wrote = []
    if args.out is not None:
        wrote.append(f"data in {args.out}")
    if args.report is not None:
        wrote.append(f"reports in {args.report} (toy/index.html, pbmc68k_reduced/index.html)")
    tail = f"; {', '.join(wrote)}" if wrote else ""
    print(f"done in {time.perf_counter() - start:.1f} s{tail}")
    return 0
