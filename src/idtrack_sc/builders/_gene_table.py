"""Gene tables: BioMart exports, CellxGene-style feature tables, any CSV/TSV with a header."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from ._common import (
    CHROMOSOME_COLUMNS,
    END_COLUMNS,
    ONE_BASED_COLUMNS,
    START_COLUMNS,
    STRAND_COLUMNS,
    STRING,
    check_file,
    concat_rows,
    coordinate_offset,
    find_column,
    isin,
    locus_rows,
    name_rows,
    normalize_entrez,
    normalize_hgnc,
    read_header_table,
    require_column,
    split_gene_ids,
    to_int,
)
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os
    from pathlib import Path

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
UNIPROT_COLUMNS = (
    "uniprot_id",
    "UniProtKB/Swiss-Prot ID",
    "uniprotswissprot",
    "uniprot_gn_id",
    "UniProtKB Gene Name ID",
)
REFSEQ_COLUMNS = ("refseq_id", "RefSeq mRNA ID", "refseq_mrna", "refseq_accession")


def read_gene_table(
    path: str | os.PathLike,
    *,
    release: int,
    name: str | None = None,
    assembly: str | None = None,
    coordinates: str | None = None,
    scope: str = "full",
) -> SourceData:
    """Read a gene table (CSV or TSV with a header) describing one Ensembl release.

    Columns are found by name: the gene ID (``gene_id``, BioMart's ``Gene stable ID``, …),
    and optionally its version (``gene_version``, ``Version (gene)``, or a ``.N`` suffix in
    the ID or in ``Gene stable ID version``), its name (``gene_name``, ``Gene name``,
    ``symbol``), biotype (``gene_biotype``, ``gene_type``, ``Gene type``, ``biotype``), HGNC ID
    (``HGNC ID``, ``hgnc_id``) and NCBI gene ID (``NCBI gene (formerly Entrezgene) ID``,
    ``entrez_id``, ``entrezgene``), UniProt accession (``uniprot_id``, ``UniProtKB/Swiss-Prot ID``)
    and RefSeq accession (``refseq_id``, ``RefSeq mRNA ID``). GENCODE ``_PAR_Y`` copies of a gene
    are recorded once, under the base gene ID. Several rows per gene (as BioMart writes when a
    gene has several cross-references) are combined.

    The gene's locus is read from ``chromosome``/``Chromosome/scaffold name``, ``start``/``Gene
    start (bp)``, ``end``/``Gene end (bp)`` and ``strand``/``Strand`` (``+``/``-`` or
    ``1``/``-1``; ``chr1`` is read as ``1``). BioMart's column names say their convention
    (1-based, ends included); for any other table the convention must be declared with
    ``coordinates``, never guessed: without it the locus columns are left out (logged, and
    counted in the source's notes).

    Parameters
    ----------
    path
        The file; comma, tab or semicolon separated, plain or gzipped.
    release
        The Ensembl release the table describes.
    name
        Label of the source; default ``"gene_table:{release}"``.
    assembly
        Genome assembly of the coordinates (``"GRCh38"``, ``"GRCh37"``, ``"GRCm39"``); recorded
        with every locus.
    coordinates
        Coordinate convention of generic ``start``/``end`` columns: ``"1-based"`` (Ensembl,
        GTF, BioMart: both ends included) or ``"0-based"`` (BED, pyranges: start 0-based, end
        exclusive). Loci are stored 1-based.
    scope
        Sequence regions the table describes: ``"full"`` (default; every region, patches and
        haplotypes included) or ``"primary_assembly"`` (GENCODE primary-assembly tables). A
        gene missing from a table that does not cover its region is not retired.

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
    return _gene_table_source(
        read_header_table(path),
        path,
        release=int(release),
        name=name,
        assembly=assembly,
        coordinates=coordinates,
        scope=scope,
    )


def _gene_table_source(
    frame: pd.DataFrame,
    path: Path,
    *,
    release: int,
    name: str | None,
    assembly: str | None,
    coordinates: str | None,
    scope: str,
    notes: dict[str, int | str] | None = None,
) -> SourceData:
    """The source of a gene table read into ``frame`` (every cell a string) from ``path``."""
    columns = list(frame.columns)
    id_col = require_column(path, columns, "gene ID", GENE_ID_COLUMNS)
    notes = dict(notes or {})
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
    for namespace, candidates in (("uniprot", UNIPROT_COLUMNS), ("refseq", REFSEQ_COLUMNS)):
        col = find_column(columns, candidates)
        if col is not None:
            values = frame.loc[keep, col].astype(STRING).str.replace(r"\.\d+$", "", regex=True)
            names.append(name_rows(gid, values, namespace=namespace, kind="primary", release=release))

    loci = _loci(frame, columns, gid, keep, path=path, release=release, assembly=assembly, coordinates=coordinates)
    if loci is None:
        notes["loci"] = "none"
    elif isinstance(loci, str):
        notes["loci"] = loci
        loci = None
    else:
        notes["loci"] = len(loci)

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
        loci=concat_rows([] if loci is None else [loci], "loci"),
        assembly=assembly,
        scope=scope,
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


def _loci(
    frame: pd.DataFrame,
    columns: list[str],
    gid: pd.Series,
    keep: object,
    *,
    path: os.PathLike,
    release: int,
    assembly: str | None,
    coordinates: str | None,
) -> pd.DataFrame | str | None:
    """The table's loci; ``None`` without locus columns, a note when they cannot be read."""
    cols = [find_column(columns, c) for c in (CHROMOSOME_COLUMNS, START_COLUMNS, END_COLUMNS, STRAND_COLUMNS)]
    if any(c is None for c in cols):
        if coordinates is not None:
            msg = (
                f"{path.name}: coordinates={coordinates!r} was given, but the table lacks a chromosome, start, "
                f"end or strand column (columns found: {columns})."
            )
            raise ValueError(msg)
        return None
    chrom, start, end, strand = cols
    offset = coordinate_offset(coordinates)
    if start.strip().lower() in ONE_BASED_COLUMNS:
        if offset is not None and offset != 0:
            msg = f"{path.name}: column {start!r} is BioMart's 1-based start, but coordinates={coordinates!r}."
            raise ValueError(msg)
        offset = 0
    if offset is None:
        logger.warning(
            "%s: gene loci left out: the coordinate convention of columns %r/%r is not declared "
            "(pass coordinates='1-based' or '0-based')",
            path.name,
            start,
            end,
        )
        return "left out: coordinate convention not declared"
    sub = frame.loc[keep]
    return locus_rows(
        gid,
        sub[chrom],
        sub[start],
        sub[end],
        sub[strand],
        offset=offset,
        release=release,
        assembly=assembly,
        path=path,
    )
