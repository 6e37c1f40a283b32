"""Derive the embedded default snapshot: a small, real subset of the human snapshot.

The subset keeps *every* row (genes, names, events, features) of the genes the bundled
examples need, taken unchanged from the full human snapshot built by
``build_real_snapshots.py``:

- the queries of ``scripts/default_examples.tsv`` (toy-dataset genes, renamed, moved, retired,
  new and ambiguous symbols, each with the reason it is there);
- every ``var_name`` of scanpy's ``pbmc68k_reduced`` dataset.

A query selects every gene that carries it as a symbol of any kind (primary, previous, alias)
in any release or source, compared case-insensitively; a name that matches nothing is tried
again without an anndata ``-N`` uniqueness suffix; an Ensembl ID (version stripped) selects
itself. The lookup is a plain pandas look-up on the full snapshot's ``names`` table, so it does
not depend on the resolver. Every example's ``expected_gene_ids`` must be among its matches,
otherwise the script stops: the examples file is checked against the real data on every run.

The result is written with :func:`idtrack_sc.snapshot.write_snapshot` to
``src/idtrack_sc/data/homo_sapiens-default.idtrack.zip``; its manifest is the full snapshot's
plus ``subset`` (SHA-256 of the full file, number of genes, how they were selected, the
packages the data came from).

Usage::

    python scripts/make_default_snapshot.py          # (re)write the embedded file
    python scripts/make_default_snapshot.py --check  # rebuild elsewhere, compare bytes
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from importlib.metadata import version
from importlib.resources import as_file, files
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
EXAMPLES = HERE / "default_examples.tsv"
TARGET = REPO / "src" / "idtrack_sc" / "data" / "homo_sapiens-default.idtrack.zip"
FULL_NAME = "homo_sapiens-114.idtrack.zip"
ENSEMBL_ID = r"^ENS[A-Z]*G\d{11}(\.\d+)?$"

SELECTION = (
    "genes carrying, as a symbol of any kind in any release or source (case-insensitive), a query of "
    "scripts/default_examples.tsv or a var_name of scanpy's pbmc68k_reduced (retried without an anndata "
    "'-N' suffix when nothing matches); Ensembl ID queries select themselves. Every row of the selected "
    "genes in genes, names, events and features is kept unchanged."
)


def pbmc68k_var_names() -> tuple[list[str], dict]:
    """``var_names`` of scanpy's bundled ``pbmc68k_reduced`` file, and where they came from."""
    import anndata as ad

    from idtrack_sc.snapshot import file_sha256

    resource = files("scanpy") / "datasets" / "10x_pbmc68k_reduced.h5ad"
    with as_file(resource) as path, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = ad.read_h5ad(path, backed="r")
        names = [str(v) for v in adata.var_names]
        adata.file.close()
        origin = {
            "package": "scanpy",
            "version": version("scanpy"),
            "member": "scanpy/datasets/10x_pbmc68k_reduced.h5ad",
            "sha256": file_sha256(path),
            "var_names": len(names),
        }
    return names, origin


def select_genes(names: pd.DataFrame, genes: pd.DataFrame, queries: list[str]) -> dict[str, list[str]]:
    """Map each query to the gene IDs it selects (see the module docstring for the rule)."""
    symbols = names[names["namespace"] == "symbol"]
    by_symbol = symbols.groupby(symbols["value"].astype(str).str.upper())["gene_id"].agg(lambda s: sorted(set(s)))
    known = set(genes["gene_id"])
    out = {}
    for query in queries:
        q = query.strip()
        if pd.Series([q]).str.match(ENSEMBL_ID).iloc[0]:
            base = q.split(".")[0]
            out[query] = [base] if base in known else []
            continue
        hit = by_symbol.get(q.upper(), [])
        if not hit:
            stripped = pd.Series([q]).str.replace(r"-\d+$", "", regex=True).iloc[0]
            if stripped != q:
                hit = by_symbol.get(stripped.upper(), [])
        out[query] = list(hit)
    return out


def read_examples(path: Path = EXAMPLES) -> pd.DataFrame:
    """Read ``default_examples.tsv`` (query, expected_gene_ids, category, why)."""
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def ensure_full(work: Path) -> Path:
    """Return the full human snapshot, building it if it is missing."""
    full = work / FULL_NAME
    if not full.exists():
        cmd = [sys.executable, str(HERE / "build_real_snapshots.py"), "--work", str(work)]
        subprocess.run([*cmd, "--organism", "homo_sapiens", "--no-repeat"], check=True)
    return full


def make_default(full_path: Path, out: Path, work: Path = WORK) -> dict:
    """Derive the subset of ``full_path`` and write it to ``out``; return a summary."""
    from idtrack_sc.snapshot import TABLES, file_sha256, load_snapshot, write_snapshot

    full = load_snapshot(full_path)
    names, genes = full.names, full.genes
    examples = read_examples()
    pbmc, pbmc_origin = pbmc68k_var_names()

    hits = select_genes(names, genes, [*examples["query"], *pbmc])
    problems = []
    for row in examples.itertuples(index=False):
        expected = set(row.expected_gene_ids.split())
        found = set(hits[row.query])
        if not expected <= found or (not expected and found):
            problems.append(f"{row.query}: expected {sorted(expected)}, found {sorted(found)}")
    if problems:
        msg = "default_examples.tsv does not match the real data:\n  " + "\n  ".join(problems)
        raise SystemExit(msg)
    chosen = {g for ids in hits.values() for g in ids}
    events = full.events
    # the genes at the other end of their history (Ensembl's or inferred), so time travel
    # through the subset lands where it lands in the full snapshot
    while True:
        touching = events[events["old_id"].isin(chosen) | events["new_id"].isin(chosen)]
        partners = set(touching["old_id"].dropna()) | set(touching["new_id"].dropna())
        if partners <= chosen:
            break
        chosen |= partners
    selected = sorted(chosen)

    tables = {
        "genes": genes[genes["gene_id"].isin(chosen)],
        "names": names[names["gene_id"].isin(chosen)],
        "events": events[events["old_id"].isin(chosen) | events["new_id"].isin(chosen)],
        "features": full.features[full.features["gene_id"].isin(chosen)],
        "loci": full.loci[full.loci["gene_id"].isin(chosen)],
    }
    tables = {name: tables[name].reset_index(drop=True) for name in TABLES}

    sources_file = work / "SOURCES.json"
    inputs = []
    if sources_file.exists():
        for entry in json.loads(sources_file.read_text(encoding="utf-8"))["files"]:
            if entry["organism"] != "homo_sapiens":
                continue
            o = entry["origin"]
            inputs.append(
                {
                    "file": Path(entry["file"]).name,
                    "sha256": entry["sha256"],
                    "package": o["package"],
                    "version": o["version"],
                    # a wheel (PyPI) or a Debian package (NCBI's links: org.Hs.eg.db)
                    **(
                        {"wheel": o["wheel"], "wheel_sha256": o["wheel_sha256"]}
                        if "wheel" in o
                        else {"deb": o["deb"], "deb_sha256": o["deb_sha256"]}
                    ),
                    "member": o["member"],
                }
            )
    manifest = {k: v for k, v in full.manifest.items() if k not in ("format", "schema_version")}
    pbmc_unmatched = sorted(q for q in pbmc if not hits[q])
    manifest["subset"] = {
        "of": file_sha256(full_path),
        "of_file": full_path.name,
        "of_counts": manifest.get("counts"),
        "genes": len(selected),
        "selection": SELECTION,
        "queries": {
            "examples": {"file": "scripts/default_examples.tsv", "rows": len(examples)},
            "pbmc68k_reduced": {**pbmc_origin, "unmatched": pbmc_unmatched},
        },
        "made_by": "scripts/make_default_snapshot.py",
        "inputs": sorted(inputs, key=lambda e: e["file"]),
    }
    manifest["counts"] = {
        "genes": int(tables["genes"]["gene_id"].nunique()),
        "gene_spans": len(tables["genes"]),
        "events": len(tables["events"]),
        "names": len(tables["names"]),
        "features": len(tables["features"]),
        "loci": len(tables["loci"]),
        "inferred_events": int((tables["events"]["source"] == "inferred_lineage").sum()),
    }
    write_snapshot(tables, manifest, out)
    return {
        "file": str(out),
        "sha256": file_sha256(out),
        "size_kb": out.stat().st_size / 1e3,
        "genes": len(selected),
        "counts": manifest["counts"],
        "pbmc_unmatched": pbmc_unmatched,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="rebuild to a temporary file and compare with --out")
    args = parser.parse_args(argv)
    full = ensure_full(args.work)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            again = Path(tmp) / args.out.name
            summary = make_default(full, again, args.work)
            same = args.out.exists() and again.read_bytes() == args.out.read_bytes()
        print(f"rebuilt {summary['sha256']}: {'identical to' if same else 'DIFFERENT from'} {args.out}")
        return 0 if same else 1
    summary = make_default(full, args.out, args.work)
    print(f"wrote {summary['file']} ({summary['size_kb']:.0f} kB, sha256 {summary['sha256']})")
    print(f"  genes {summary['genes']}; rows {summary['counts']}")
    print(f"  pbmc68k var_names matching nothing: {summary['pbmc_unmatched']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
