"""NCBI Gene: ``gene_info`` (symbols, synonyms, Ensembl links), ``gene2ensembl`` (Ensembl links) and ``gene_history``."""

from __future__ import annotations

import csv
import logging
from typing import TYPE_CHECKING

import pandas as pd

from idtrack_sc.snapshot import ORGANISMS, taxonomy_id

from ._common import STRING, blank_to_na, check_file, concat_rows, first_line, isin, name_rows, read_text_table
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os
    from pathlib import Path

logger = logging.getLogger(__name__)

GENE_INFO_REQUIRED = ("#tax_id", "GeneID", "Symbol", "Synonyms", "dbXrefs")
GENE_HISTORY_REQUIRED = ("#tax_id", "GeneID", "Discontinued_GeneID", "Discontinued_Symbol")
GENE2ENSEMBL_REQUIRED = ("#tax_id", "GeneID", "Ensembl_gene_identifier")
_CHUNK_ROWS = 1_000_000


def _organism(tax_id: str) -> str:
    known = {o.taxonomy_str: name for name, o in ORGANISMS.items()}
    return known.get(str(tax_id), str(tax_id))


def _read(path: Path, required: tuple[str, ...], what: str, tax_id: int | str | None) -> pd.DataFrame:
    header = first_line(path).split("\t")
    if not header or not header[0].startswith("#"):
        msg = f"{path.name}, line 1: expected the NCBI {what} header starting with '#tax_id', found {header[:4]}."
        raise ValueError(msg)
    missing = [c for c in required if c not in header]
    if missing:
        msg = f"{path.name}: NCBI {what} header lacks column(s) {missing}. Columns found: {header}."
        raise ValueError(msg)
    usecols = [c for c in header if c in required or c in _OPTIONAL]
    reader = read_text_table(path, sep="\t", usecols=usecols, quoting=csv.QUOTE_NONE, chunksize=_CHUNK_ROWS, engine="c")
    frames = []
    with reader:
        for chunk in reader:
            frames.append(chunk[chunk["#tax_id"] == str(tax_id)] if tax_id is not None else chunk)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=usecols)
    frame = frame.rename(columns={"#tax_id": "tax_id"})
    for col in frame.columns:
        frame[col] = blank_to_na(frame[col].mask(frame[col] == "-", ""))
    return frame


_OPTIONAL = ("Symbol_from_nomenclature_authority", "Modification_date", "Discontinue_Date")


def _iso(dates: pd.Series) -> str | None:
    dates = dates.dropna()
    dates = dates[dates.str.fullmatch(r"\d{8}")]
    if not len(dates):
        return None
    top = str(dates.max())
    return f"{top[:4]}-{top[4:6]}-{top[6:]}"


def _one_taxon(frame: pd.DataFrame, path: Path, tax_id: int | str | None) -> str | None:
    taxa = sorted(frame["tax_id"].dropna().unique())
    if tax_id is None and len(taxa) > 1:
        msg = f"{path.name} holds several organisms (tax_id {taxa[:10]}…); pass tax_id=… to choose one."
        raise ValueError(msg)
    return str(tax_id) if tax_id is not None else (str(taxa[0]) if taxa else None)


def _source(
    path: Path,
    frame: pd.DataFrame,
    kind: str,
    name: str | None,
    date_column: str,
    taxon: str | None,
    names: list[pd.DataFrame],
    notes: dict[str, int],
) -> SourceData:
    """The parsed NCBI file: its undated names, dated by ``date_column``'s newest day, of ``taxon``."""
    origin, sha = describe_file(path)
    return SourceData(
        name=name or kind,
        kind=kind,
        origin=origin,
        sha256=sha,
        date=_iso(frame[date_column]) if date_column in frame else None,
        organism=_organism(taxon) if taxon is not None else None,
        names=concat_rows(names, "names"),
        notes=notes,
    )


def read_ncbi_gene_info(
    path: str | os.PathLike, *, tax_id: int | str | None = None, name: str | None = None
) -> SourceData:
    """Read NCBI ``gene_info`` (all organisms, or a per-organism file such as ``Homo_sapiens.gene_info.gz``).

    Each GeneID is linked to Ensembl gene(s) by its ``Ensembl:…`` entries in ``dbXrefs``;
    the names of a linked GeneID become undated names of those genes: the GeneID
    (``entrez``, primary), ``Symbol`` and ``Symbol_from_nomenclature_authority`` (symbol,
    primary) and ``Synonyms`` (symbol, alias).

    Parameters
    ----------
    path
        The file, plain or gzipped.
    tax_id
        NCBI taxonomy ID (or organism name) to keep; required when the file holds several.
    name
        Label of the source; default ``"ncbi_gene_info"``.

    Returns
    -------
    The parsed source (``kind="ncbi_gene_info"``). GeneIDs without an Ensembl link are
    counted in ``notes["genes_without_ensembl"]``.
    """
    path = check_file(path, "NCBI gene_info")
    if tax_id is not None and not str(tax_id).isdigit():
        tax_id = taxonomy_id(str(tax_id))
    frame = _read(path, GENE_INFO_REQUIRED, "gene_info", tax_id)
    taxon = _one_taxon(frame, path, tax_id)
    notes: dict[str, int] = {}
    xrefs = frame[["GeneID", "dbXrefs"]].assign(xref=frame["dbXrefs"].str.split("|", regex=False))
    xrefs = xrefs.explode("xref")
    xrefs = xrefs[xrefs["xref"].str.startswith("Ensembl:", na=False)]
    links = pd.DataFrame(
        {"GeneID": xrefs["GeneID"].to_numpy(), "gene_id": xrefs["xref"].str.slice(len("Ensembl:")).to_numpy()}
    ).drop_duplicates()
    unlinked = ~isin(frame["GeneID"], links["GeneID"])
    if unlinked.any():
        notes["genes_without_ensembl"] = int(unlinked.sum())
    linked = links.merge(frame, on="GeneID", how="inner")
    names = [
        name_rows(linked["gene_id"], linked["GeneID"], namespace="entrez", kind="primary", release=None),
        name_rows(linked["gene_id"], linked["Symbol"], namespace="symbol", kind="primary", release=None),
        name_rows(linked["gene_id"], linked["Synonyms"], namespace="symbol", kind="alias", release=None, sep="|"),
    ]
    if "Symbol_from_nomenclature_authority" in linked:
        names.append(
            name_rows(
                linked["gene_id"],
                linked["Symbol_from_nomenclature_authority"],
                namespace="symbol",
                kind="primary",
                release=None,
            )
        )
    data = _source(path, frame, "ncbi_gene_info", name, "Modification_date", taxon, names, notes)
    logger.info("%s: %d GeneIDs, %d linked to Ensembl", path.name, len(frame), int((~unlinked).sum()))
    return data


def read_ncbi_gene_history(
    path: str | os.PathLike,
    *,
    gene_info: SourceData,
    tax_id: int | str | None = None,
    name: str | None = None,
) -> SourceData:
    """Read NCBI ``gene_history``: discontinued GeneIDs and symbols as previous names.

    A discontinued GeneID whose successor (``GeneID``) is linked to an Ensembl gene in
    ``gene_info`` becomes an ``entrez`` name of kind ``previous`` of that gene, and its
    ``Discontinued_Symbol`` a ``symbol`` name of kind ``previous``.

    Parameters
    ----------
    path
        The file, plain or gzipped.
    gene_info
        The parsed ``gene_info`` of the same organism (:func:`read_ncbi_gene_info`).
    tax_id
        NCBI taxonomy ID (or organism name) to keep; default the organism of ``gene_info``.
    name
        Label of the source; default ``"ncbi_gene_history"``.

    Returns
    -------
    The parsed source (``kind="ncbi_gene_history"``). Rows without a successor, or whose
    successor has no Ensembl link, are counted in ``notes``.
    """
    path = check_file(path, "NCBI gene_history")
    if tax_id is None and gene_info.organism is not None:
        try:
            tax_id = taxonomy_id(gene_info.organism)
        except ValueError:
            tax_id = gene_info.organism if str(gene_info.organism).isdigit() else None
    elif tax_id is not None and not str(tax_id).isdigit():
        tax_id = taxonomy_id(str(tax_id))
    frame = _read(path, GENE_HISTORY_REQUIRED, "gene_history", tax_id)
    taxon = _one_taxon(frame, path, tax_id)
    notes: dict[str, int] = {}
    gi = gene_info.names
    links = gi.loc[(gi["namespace"] == "entrez") & (gi["kind"] == "primary"), ["gene_id", "value"]]
    links = links.rename(columns={"value": "GeneID"}).astype({"GeneID": STRING})
    no_successor = frame["GeneID"].isna()
    if no_successor.any():
        notes["discontinued_without_successor"] = int(no_successor.sum())
    with_successor = frame[~no_successor.to_numpy()].astype({"GeneID": STRING})
    linked = with_successor.merge(links, on="GeneID", how="inner")
    unlinked = ~isin(with_successor["GeneID"], links["GeneID"])
    if unlinked.any():
        notes["successor_without_ensembl"] = int(unlinked.sum())
    names = [
        name_rows(linked["gene_id"], linked["Discontinued_GeneID"], namespace="entrez", kind="previous", release=None),
        name_rows(linked["gene_id"], linked["Discontinued_Symbol"], namespace="symbol", kind="previous", release=None),
    ]
    data = _source(path, frame, "ncbi_gene_history", name, "Discontinue_Date", taxon, names, notes)
    logger.info("%s: %d discontinued GeneIDs, %d attached to Ensembl genes", path.name, len(frame), len(linked))
    return data


def read_ncbi_gene2ensembl(
    path: str | os.PathLike, *, tax_id: int | str | None = None, date: str | None = None, name: str | None = None
) -> SourceData:
    """Read NCBI ``gene2ensembl``: NCBI Gene's own links from GeneIDs to Ensembl genes.

    Each row links a GeneID to an Ensembl gene (``Ensembl_gene_identifier``; the transcript
    and protein columns are not used). A linked GeneID becomes an undated ``entrez`` name of
    kind ``primary`` of that gene: NCBI's curated, essentially one-to-one record of which
    Ensembl gene each GeneID is. No symbols are read (``gene_info`` has them).

    Parameters
    ----------
    path
        The file, plain or gzipped (``gene2ensembl.gz`` holds every organism).
    tax_id
        NCBI taxonomy ID (or organism name) to keep; required when the file holds several.
    date
        Date of the file (``YYYY-MM-DD``), recorded in the manifest: the format has no date column.
    name
        Label of the source; default ``"ncbi_gene2ensembl"``.

    Returns
    -------
    The parsed source (``kind="ncbi_gene2ensembl"``). ``notes`` count the GeneIDs linked to
    several Ensembl genes and the Ensembl genes linked to several GeneIDs (see
    :func:`~idtrack_sc.builders.build_snapshot` for how such ties are kept).
    """
    path = check_file(path, "NCBI gene2ensembl")
    if tax_id is not None and not str(tax_id).isdigit():
        tax_id = taxonomy_id(str(tax_id))
    frame = _read(path, GENE2ENSEMBL_REQUIRED, "gene2ensembl", tax_id)
    taxon = _one_taxon(frame, path, tax_id)
    links = frame[["GeneID", "Ensembl_gene_identifier"]].dropna().drop_duplicates()
    gene_ids = links["Ensembl_gene_identifier"].str.replace(r"\.\d+$", "", regex=True)
    notes: dict[str, int] = {
        "links": len(links),
        "geneids_with_several_ensembl_genes": int((links.groupby("GeneID").size() > 1).sum()),
        "ensembl_genes_with_several_geneids": int((gene_ids.value_counts() > 1).sum()),
    }
    names = [name_rows(gene_ids, links["GeneID"], namespace="entrez", kind="primary", release=None)]
    data = _source(path, frame, "ncbi_gene2ensembl", name, "", taxon, names, notes)
    data.date = date
    logger.info("%s: %d GeneID-Ensembl links", path.name, len(links))
    return data
