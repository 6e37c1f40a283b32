"""MGI marker reports: mouse gene symbols, synonyms, withdrawn symbols and MGI IDs.

MGI (Mouse Genome Informatics) publishes tab-separated reports. Two are read:

- the marker list, ``MRK_List1.rpt`` (includes withdrawn symbols) or ``MRK_List2.rpt``
  (current markers only), with the header ``MGI Accession ID, Chr, cM Position, genome
  coordinate start, genome coordinate end, strand, Marker Symbol, Status, Marker Name, Marker
  Type, Feature Type, Marker Synonyms (pipe-separated)``. A withdrawn row (status ``W``) has no
  accession of its own and says where the symbol went in its name: ``withdrawn, = Sym``.
- the link to Ensembl: ``MRK_ENSEMBL.rpt`` (no header: MGI accession, symbol, name, cM
  position, chromosome, Ensembl gene ID, …) or ``MGI_Gene_Model_Coord.rpt`` (header
  ``1. MGI accession id, 2. marker type, 3. marker symbol, …, 6. Entrez gene id, …,
  11. Ensembl gene id, …``).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from typing import TYPE_CHECKING

import pandas as pd

from ._common import blank_to_na, check_file, concat_rows, first_line, name_rows, normalize_entrez, read_text_table
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os

logger = logging.getLogger(__name__)

MARKER_COLUMNS = ("MGI Accession ID", "Marker Symbol", "Status", "Marker Name", "Marker Type")
SYNONYMS = "Marker Synonyms (pipe-separated)"
#: Marker types that are not genes (MGI also lists QTLs, transgenes, cytogenetic markers, …).
GENE_TYPES = ("Gene", "Pseudogene", "Other Genome Feature")
_WITHDRAWN_TO = re.compile(r"^withdrawn,\s*=\s*(\S.*?)\s*$")
_ENSEMBL_GENE = re.compile(r"^ENSMUSG\d{11}$")


def _read_tsv(path, *, header: int | None) -> pd.DataFrame:
    return read_text_table(path, sep="\t", header=header, quoting=csv.QUOTE_NONE, index_col=False)


def _ensembl_links(path) -> tuple[pd.DataFrame, str]:
    """MGI accession -> Ensembl gene ID (and Entrez ID where the report has it)."""
    first = first_line(path)
    if first.startswith("1."):  # MGI_Gene_Model_Coord.rpt
        frame = _read_tsv(path, header=0)
        if frame.shape[1] < 11:
            msg = f"{path}: expected the 15+ columns of MGI_Gene_Model_Coord.rpt, found {frame.shape[1]}."
            raise ValueError(msg)
        links = pd.DataFrame({"mgi_id": frame.iloc[:, 0], "gene_id": frame.iloc[:, 10], "entrez": frame.iloc[:, 5]})
        kind = "MGI_Gene_Model_Coord.rpt"
    else:  # MRK_ENSEMBL.rpt
        frame = _read_tsv(path, header=None)
        if frame.shape[1] < 6:
            msg = f"{path}: expected MRK_ENSEMBL.rpt (MGI ID, symbol, name, cM, chromosome, Ensembl gene ID, …), found {frame.shape[1]} columns."
            raise ValueError(msg)
        links = pd.DataFrame({"mgi_id": frame.iloc[:, 0], "gene_id": frame.iloc[:, 5], "entrez": ""})
        kind = "MRK_ENSEMBL.rpt"
    links["gene_id"] = links["gene_id"].str.strip()
    bad = ~links["gene_id"].str.match(_ENSEMBL_GENE) & (links["gene_id"] != "") & (links["gene_id"] != "null")
    if bad.any():
        example = links.loc[bad, "gene_id"].iloc[0]
        msg = f"{path}: {int(bad.sum())} rows have an Ensembl gene ID that is not a mouse gene ID, e.g. {example!r}."
        raise ValueError(msg)
    links = links[links["gene_id"].str.match(_ENSEMBL_GENE)]
    return links.drop_duplicates(), kind


def read_mgi(
    markers: str | os.PathLike,
    *,
    ensembl: str | os.PathLike,
    date: str | None = None,
    name: str | None = None,
) -> SourceData:
    """Read MGI's marker list and its Ensembl links into a source of mouse gene names.

    Names are undated (valid as of the reports' date): the marker symbol ``primary``, each
    synonym ``alias``, each withdrawn symbol that points at a current marker (``withdrawn,
    = Sym``) ``previous``, the MGI accession in namespace ``mgi_id`` and, from
    ``MGI_Gene_Model_Coord.rpt``, the Entrez ID in ``entrez``. Markers that are not genes (QTLs,
    transgenes, …) and markers without an Ensembl gene are left out, with counts in ``notes``.

    Parameters
    ----------
    markers
        ``MRK_List1.rpt`` or ``MRK_List2.rpt`` (plain or gzipped).
    ensembl
        ``MRK_ENSEMBL.rpt`` or ``MGI_Gene_Model_Coord.rpt``.
    date
        Download date of the reports (``YYYY-MM-DD``), recorded in the manifest.
    name
        Label of the source; default ``"mgi"``.

    Returns
    -------
    The parsed source (``kind="mgi"``, ``organism="mus_musculus"``).
    """
    markers = check_file(markers, "MGI marker list")
    ensembl = check_file(ensembl, "MGI Ensembl links")
    frame = _read_tsv(markers, header=0)
    missing = [c for c in MARKER_COLUMNS if c not in frame.columns]
    if missing:
        msg = (
            f"{markers}: no column(s) {missing}; expected MGI's MRK_List1.rpt/MRK_List2.rpt header "
            f"({', '.join(MARKER_COLUMNS)}, …). Columns found: {list(frame.columns)[:12]}."
        )
        raise ValueError(msg)
    notes: dict[str, int] = {}
    status = frame["Status"].str.strip().str.upper()
    withdrawn = frame[status == "W"]
    current = frame[(status != "W") & frame["MGI Accession ID"].str.startswith("MGI:")]
    is_gene = current["Marker Type"].isin(GENE_TYPES)
    notes["markers_not_genes"] = int((~is_gene).sum())
    current = current[is_gene.to_numpy()]

    links, link_kind = _ensembl_links(ensembl)
    gene_of = current[["MGI Accession ID", "Marker Symbol"]].merge(
        links, left_on="MGI Accession ID", right_on="mgi_id", how="inner"
    )
    notes["genes_without_ensembl_gene_id"] = int(current["MGI Accession ID"].nunique() - gene_of["mgi_id"].nunique())
    by_mgi = gene_of[["mgi_id", "gene_id"]].drop_duplicates()
    rows = [
        name_rows(gene_of["gene_id"], gene_of["Marker Symbol"], namespace="symbol", kind="primary", release=None),
        name_rows(by_mgi["gene_id"], by_mgi["mgi_id"], namespace="mgi_id", kind="primary", release=None),
    ]
    if link_kind == "MGI_Gene_Model_Coord.rpt":
        entrez = gene_of[gene_of["entrez"].str.fullmatch(r"\d+")]
        rows.append(
            name_rows(
                entrez["gene_id"],
                entrez["entrez"],
                namespace="entrez",
                kind="primary",
                release=None,
                normalize=normalize_entrez,
            )
        )
    if SYNONYMS in current.columns:
        syn = current[["MGI Accession ID", SYNONYMS]].merge(by_mgi, left_on="MGI Accession ID", right_on="mgi_id")
        rows.append(name_rows(syn["gene_id"], syn[SYNONYMS], namespace="symbol", kind="alias", release=None, sep="|"))
    if len(withdrawn):
        to = withdrawn["Marker Name"].str.extract(_WITHDRAWN_TO, expand=False)
        moved = pd.DataFrame({"old": withdrawn["Marker Symbol"].str.strip(), "new": to}).dropna()
        # only a withdrawal into exactly one current marker names that marker's gene
        moved = moved[~moved["new"].str.contains(",")]
        prev = moved.merge(gene_of[["Marker Symbol", "gene_id"]], left_on="new", right_on="Marker Symbol")
        notes["withdrawn_symbols_linked"] = int(prev["old"].nunique())
        rows.append(name_rows(prev["gene_id"], prev["old"], namespace="symbol", kind="previous", release=None))
    names = concat_rows(rows, "names")
    names["gene_id"] = blank_to_na(names["gene_id"])
    names = names.dropna(subset=["gene_id", "value"]).drop_duplicates(ignore_index=True)

    origin_m, sha_m = describe_file(markers)
    origin_e, sha_e = describe_file(ensembl)
    sha = hashlib.sha256(f"{origin_m} {sha_m}\n{origin_e} {sha_e}\n".encode()).hexdigest()
    data = SourceData(
        name=name or "mgi",
        kind="mgi",
        origin=f"{origin_m} + {origin_e}",
        sha256=sha,
        date=date,
        organism="mus_musculus",
        names=names,
        notes=notes,
    )
    logger.info("%s: %d names of %d genes", origin_m, len(names), int(names["gene_id"].nunique()))
    return data
