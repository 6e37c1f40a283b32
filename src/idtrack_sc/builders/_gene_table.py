"""Gene tables: BioMart exports, CellxGene-style feature tables, any CSV/TSV with a header."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from ._common import (
    STRING,
    check_file,
    compression,
    concat_rows,
    find_column,
    first_line,
    isin,
    missing_column,
    name_rows,
    normalize_entrez,
    normalize_hgnc,
    split_gene_ids,
    to_int,
)
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os

logger = logging.getLogger(__name__)

GENE_ID_COLUMNS = (
    "gene_id",
    "Gene stable ID",
    "ensembl_gene_id",
    "gene_ids",
    "feature_id",
    "Gene stable ID version",
    "Ensembl Gene ID",
)
VERSIONED_ID_COLUMNS = ("Gene stable ID version", "gene_id_version", "ensembl_gene_id_version")
VERSION_COLUMNS = ("gene_version", "Version (gene)", "version")
NAME_COLUMNS = ("gene_name", "Gene name", "symbol", "gene_symbol", "feature_name", "HGNC symbol", "external_gene_name")
BIOTYPE_COLUMNS = ("gene_biotype", "gene_type", "Gene type", "biotype", "feature_biotype_ensembl", "feature_type")
HGNC_COLUMNS = ("HGNC ID", "hgnc_id", "HGNC ID(s)")
ENTREZ_COLUMNS = (
    "NCBI gene (formerly Entrezgene) ID",
    "NCBI gene ID",
    "entrez_id",
    "entrezgene",
    "entrezgene_id",
    "EntrezGene ID",
)


def _sniff_sep(header: str) -> str:
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";")}
    sep = max(counts, key=lambda s: counts[s])
    return sep if counts[sep] else "\t"


def read_gene_table(path: str | os.PathLike, *, release: int, name: str | None = None) -> SourceData:
    """Read a gene table (CSV or TSV with a header) describing one Ensembl release.

    Columns are found by name: the gene ID (``gene_id``, BioMart's ``Gene stable ID``, …),
    and optionally its version (``gene_version``, ``Version (gene)``, or a ``.N`` suffix in
    the ID or in ``Gene stable ID version``), its name (``gene_name``, ``Gene name``,
    ``symbol``), biotype (``gene_biotype``, ``gene_type``, ``Gene type``, ``biotype``), HGNC ID
    (``HGNC ID``, ``hgnc_id``) and NCBI gene ID (``NCBI gene (formerly Entrezgene) ID``,
    ``entrez_id``, ``entrezgene``). GENCODE ``_PAR_Y`` copies of a gene are recorded once,
    under the base gene ID. Several rows per gene (as BioMart writes when a gene has several
    cross-references) are combined.

    Parameters
    ----------
    path
        The file; comma, tab or semicolon separated, plain or gzipped.
    release
        The Ensembl release the table describes.
    name
        Label of the source; default ``"gene_table:{release}"``.

    Returns
    -------
    The parsed source (``kind="gene_table"``).

    Raises
    ------
    ValueError
        If no gene ID column is found (the message lists the columns present), a version is
        not an integer, or one gene has two versions in the file.
    """
    path = check_file(path, "Gene table")
    release = int(release)
    header = first_line(path)
    sep = _sniff_sep(header)
    frame = pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        compression=compression(path),
        skipinitialspace=True,
    )
    columns = list(frame.columns)
    id_col = find_column(columns, GENE_ID_COLUMNS)
    if id_col is None:
        raise missing_column(path, "gene ID", GENE_ID_COLUMNS, columns)
    notes: dict[str, int] = {}
    ids = split_gene_ids(frame[id_col].str.strip().mask(frame[id_col].str.strip() == ""))
    version = ids["version"]
    ver_col = find_column(columns, VERSION_COLUMNS)
    if ver_col is not None:
        explicit = to_int(frame[ver_col], path=path, column=ver_col)
        version = explicit.fillna(version)
    else:
        vid_col = find_column(columns, VERSIONED_ID_COLUMNS)
        if vid_col is not None and vid_col != id_col:
            version = version.fillna(split_gene_ids(frame[vid_col].str.strip())["version"])
    genes = pd.DataFrame(
        {
            "gene_id": ids["gene_id"],
            "version": version,
            "release": pd.array([release] * len(frame), dtype="Int64"),
            "biotype": pd.Series(pd.NA, index=frame.index, dtype=STRING),
        }
    )
    bio_col = find_column(columns, BIOTYPE_COLUMNS)
    if bio_col is not None:
        biotype = frame[bio_col].astype(STRING).str.strip()
        genes["biotype"] = biotype.mask(biotype == "")

    missing_id = genes["gene_id"].isna()
    if missing_id.any():
        notes["rows_without_gene_id"] = int(missing_id.sum())
        logger.warning("%s: %d rows without a gene ID skipped", path.name, int(missing_id.sum()))
    par_y = ids["par_y"].to_numpy() & isin(genes["gene_id"], genes.loc[~ids["par_y"].to_numpy(), "gene_id"])
    if par_y.any():
        # the chrY pseudo-autosomal copy of a gene already listed: same gene, not a second version
        notes["par_y_rows"] = int(par_y.sum())
    keep = ~missing_id.to_numpy() & ~par_y
    gene_rows = genes[keep]
    _check_one_version(gene_rows, path)
    # a row without a version does not add anything when another row of the gene has one
    gene_rows = gene_rows.sort_values(["gene_id", "version"], na_position="last", kind="stable")
    gene_rows = gene_rows.drop_duplicates("gene_id", ignore_index=True)
    dupes = int(keep.sum()) - len(gene_rows)
    if dupes:
        notes["rows_repeating_a_gene"] = dupes

    gid = ids["gene_id"][keep]
    names = []
    name_col = find_column(columns, NAME_COLUMNS)
    if name_col is not None:
        names.append(name_rows(gid, frame.loc[keep, name_col], namespace="symbol", kind="primary", release=release))
    hgnc_col = find_column(columns, HGNC_COLUMNS)
    if hgnc_col is not None:
        values = normalize_hgnc(frame.loc[keep, hgnc_col])
        names.append(name_rows(gid, values, namespace="hgnc_id", kind="primary", release=release))
    entrez_col = find_column(columns, ENTREZ_COLUMNS)
    if entrez_col is not None:
        values = normalize_entrez(frame.loc[keep, entrez_col])
        names.append(name_rows(gid, values, namespace="entrez", kind="primary", release=release))

    src_origin, sha = describe_file(path)
    data = SourceData(
        name=name or f"gene_table:{release}",
        kind="gene_table",
        origin=src_origin,
        release=release,
        sha256=sha,
        releases=[release],
        genes=gene_rows.reset_index(drop=True),
        names=concat_rows(names, "names"),
        notes=notes,
    )
    logger.info("%s: %d genes, %d names (release %d)", path.name, len(data.genes), len(data.names), release)
    return data


def _check_one_version(genes: pd.DataFrame, path: os.PathLike) -> None:
    versioned = genes.dropna(subset=["version"]).drop_duplicates(["gene_id", "version"])
    clash = versioned[versioned.duplicated("gene_id", keep=False)]
    if len(clash):
        gene = clash["gene_id"].iloc[0]
        found = sorted(int(v) for v in clash.loc[clash["gene_id"] == gene, "version"])
        lines = [int(i) + 2 for i in clash.index[clash["gene_id"] == gene]]
        msg = (
            f"{path.name}: gene {gene} has versions {found} on lines {lines}; a gene table describes one "
            f"release, where each gene has one version ({clash['gene_id'].nunique()} genes affected)."
        )
        raise ValueError(msg)
