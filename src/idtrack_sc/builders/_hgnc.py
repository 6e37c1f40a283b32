"""HGNC complete set (``hgnc_complete_set.txt``): approved, previous and alias symbols."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._common import (
    STRING,
    blank_to_na,
    check_file,
    concat_rows,
    find_column,
    name_rows,
    normalize_entrez,
    normalize_hgnc,
    read_text_table,
    require_column,
)
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os

logger = logging.getLogger(__name__)

REQUIRED = ("hgnc_id", "symbol", "ensembl_gene_id")

#: column -> (namespace, kind) of the names it holds; multi-valued fields are ``|``-separated
NAME_FIELDS = (
    ("symbol", "symbol", "primary"),
    ("prev_symbol", "symbol", "previous"),
    ("alias_symbol", "symbol", "alias"),
    ("hgnc_id", "hgnc_id", "primary"),
    ("entrez_id", "entrez", "primary"),
    ("uniprot_ids", "uniprot", "primary"),
    ("refseq_accession", "refseq", "primary"),
)


def read_hgnc(path: str | os.PathLike, *, name: str | None = None) -> SourceData:
    """Read the HGNC complete set (``hgnc_complete_set.txt``, plain or gzipped).

    Columns are read by name; ``hgnc_id``, ``symbol`` and ``ensembl_gene_id`` are required,
    ``prev_symbol``, ``alias_symbol``, ``entrez_id``, ``uniprot_ids`` and ``refseq_accession``
    are used when present. Multi-valued fields are ``|``-separated, possibly double-quoted.
    Names are undated (valid as of the file's date, the newest ``date_modified``): symbol
    ``primary``, ``prev_symbol`` ``previous``, ``alias_symbol`` ``alias``; HGNC ID, Entrez,
    UniProt and RefSeq ``primary``. ``mgd_id`` (the *mouse* ortholog's MGI ID) is not a name
    of the human gene and is not used.

    Parameters
    ----------
    path
        The file.
    name
        Label of the source; default ``"hgnc"``.

    Returns
    -------
    The parsed source (``kind="hgnc"``, ``organism="homo_sapiens"``). Entries without an
    Ensembl gene ID are skipped and counted in ``notes["rows_without_ensembl_gene_id"]``;
    the approved symbols among them are kept in ``geneless_symbols`` (symbol -> HGNC ID),
    which the snapshot's manifest records.
    """
    path = check_file(path, "HGNC")
    frame = read_text_table(path, sep="\t")
    columns = list(frame.columns)
    for col in REQUIRED:
        require_column(path, columns, col, (col,))
    notes: dict[str, int] = {}
    gene_ids = blank_to_na(frame[find_column(columns, ("ensembl_gene_id",))])
    has_gene = gene_ids.notna()
    if (~has_gene).any():
        notes["rows_without_ensembl_gene_id"] = int((~has_gene).sum())
        logger.info("%s: %d entries without an Ensembl gene ID skipped", path.name, int((~has_gene).sum()))
    # approved symbols of genes without an Ensembl gene (AAVS1, fragile sites, many pseudogenes):
    # no names of a gene, but kept so that such a symbol is not read as another gene's alias
    status_col = find_column(columns, ("status",))
    approved = ~has_gene.to_numpy()
    if status_col is not None:
        approved &= (frame[status_col].astype(STRING).str.strip() == "Approved").fillna(False).to_numpy(dtype=bool)
    geneless = frame[approved]
    symbols = geneless[find_column(columns, ("symbol",))].astype(STRING).str.strip()
    ids = normalize_hgnc(geneless[find_column(columns, ("hgnc_id",))])
    keep = (symbols.notna() & (symbols != "") & ids.notna()).to_numpy(dtype=bool)
    geneless_symbols = dict(sorted(zip(symbols[keep].astype(str), ids[keep].astype(str), strict=True)))
    frame = frame[has_gene.to_numpy()]
    gene_ids = gene_ids[has_gene].str.replace(r"\.\d+$", "", regex=True)
    names = []
    for column, namespace, kind in NAME_FIELDS:
        col = find_column(columns, (column,))
        if col is None:
            continue
        normalize = {"hgnc_id": normalize_hgnc, "entrez": normalize_entrez}.get(namespace)
        names.append(
            name_rows(gene_ids, frame[col], namespace=namespace, kind=kind, release=None, sep="|", normalize=normalize)
        )

    date = None
    date_col = find_column(columns, ("date_modified",))
    if date_col is not None:
        dates = frame[date_col].astype(STRING).str.strip()
        dates = dates[dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}", na=False)]
        if len(dates):
            date = str(dates.max())
    origin, sha = describe_file(path)
    data = SourceData(
        name=name or "hgnc",
        kind="hgnc",
        origin=origin,
        sha256=sha,
        date=date,
        organism="homo_sapiens",
        names=concat_rows(names, "names"),
        notes=notes,
        geneless_symbols=geneless_symbols,
    )
    logger.info("%s: %d names of %d genes", path.name, len(data.names), int(gene_ids.nunique()))
    return data
