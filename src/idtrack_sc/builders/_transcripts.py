"""Transcript tables: transcript ID -> gene (and RefSeq, protein) for one release."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from ._common import (
    STRING,
    blank_to_na,
    check_file,
    concat_rows,
    find_column,
    name_rows,
    read_header_table,
    require_column,
    split_gene_ids,
)
from ._gene_table import GENE_ID_COLUMNS
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os

logger = logging.getLogger(__name__)

TRANSCRIPT_COLUMNS = ("transcript_id", "Transcript stable ID", "ensembl_transcript_id", "Transcript stable ID version")
PROTEIN_COLUMNS = ("protein_id", "Protein stable ID", "ensembl_peptide_id", "translation_id")
REFSEQ_COLUMNS = ("refseq_id", "RefSeq mRNA ID", "refseq_mrna", "NCBI Transcript ID", "refseq_transcript_id")


def read_transcript_table(
    path: str | os.PathLike, *, release: int, name: str | None = None, assembly: str | None = None
) -> SourceData:
    """Read a transcript table (CSV or TSV with a header) of one Ensembl release.

    Columns are found by name: transcript ID (``transcript_id``, BioMart's ``Transcript stable
    ID``), gene ID (``gene_id``, ``Gene stable ID``), and optionally protein ID
    (``protein_id``, ``Protein stable ID``) and RefSeq transcript accession (``refseq_id``,
    ``RefSeq mRNA ID``, ``NCBI Transcript ID``). Versions are removed from every ID. RefSeq
    accessions become names of the gene in namespace ``refseq``; transcripts and proteins go to
    the snapshot's ``features`` table, so ``ENST…`` and ``ENSP…`` queries resolve to their gene.

    Parameters
    ----------
    path
        The file; comma, tab or semicolon separated, plain or gzipped.
    release
        The Ensembl release the table describes.
    name
        Label of the source; default ``"transcript_table:{release}"``.
    assembly
        Genome assembly of the release (recorded in the manifest).

    Returns
    -------
    The parsed source (``kind="transcript_table"``): features and RefSeq names, no genes.
    """
    path = check_file(path, "Transcript table")
    release = int(release)
    frame = read_header_table(path)
    columns = list(frame.columns)
    tx_col = require_column(path, columns, "transcript ID", TRANSCRIPT_COLUMNS)
    gene_col = require_column(path, columns, "gene ID", GENE_ID_COLUMNS)
    gene = split_gene_ids(blank_to_na(frame[gene_col]))["gene_id"]
    features = []
    notes: dict[str, int] = {}
    for col, feature_type in ((tx_col, "transcript"), (find_column(columns, PROTEIN_COLUMNS), "translation")):
        if col is None:
            continue
        ids = split_gene_ids(blank_to_na(frame[col]))
        rows = pd.DataFrame(
            {
                "feature_id": ids["gene_id"].to_numpy(),
                "feature_type": feature_type,
                "gene_id": gene.to_numpy(),
                "release": release,
            }
        ).dropna(subset=["feature_id", "gene_id"])
        rows = rows[~ids["par_y"].to_numpy()[rows.index]]
        rows = rows.drop_duplicates(["feature_id", "gene_id"])
        two = rows["feature_id"].duplicated(keep=False)
        if two.any():
            example = rows.loc[two, "feature_id"].iloc[0]
            msg = f"{path.name}: {feature_type} {example} belongs to several genes ({int(two.sum())} rows)."
            raise ValueError(msg)
        notes[f"{feature_type}s"] = len(rows)
        features.append(rows)
    names = []
    refseq_col = find_column(columns, REFSEQ_COLUMNS)
    if refseq_col is not None:
        values = frame[refseq_col].astype(STRING).str.replace(r"\.\d+$", "", regex=True)
        names.append(name_rows(gene, values, namespace="refseq", kind="primary", release=release))
    features_frame = concat_rows(features, "features")
    features_frame["release"] = features_frame["release"].astype("Int64")
    origin, sha = describe_file(path)
    data = SourceData(
        name=name or f"transcript_table:{release}",
        kind="transcript_table",
        origin=origin,
        release=release,
        sha256=sha,
        assembly=assembly,
        releases=[release],
        features=features_frame,
        names=concat_rows(names, "names"),
        notes=notes,
    )
    logger.info("%s: %d transcripts/proteins (release %d)", path.name, len(data.features), release)
    return data
