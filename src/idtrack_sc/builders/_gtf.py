"""GTF annotations, Ensembl and GENCODE flavours: the genes, transcripts and proteins of one release."""

from __future__ import annotations

import csv
import logging
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._common import (
    STRING,
    check_file,
    compression,
    concat_rows,
    isin,
    locus_rows,
    name_rows,
    normalize_hgnc,
    open_text,
    split_gene_ids,
)
from ._source import SourceData, describe_file

if TYPE_CHECKING:
    import os
    from pathlib import Path

logger = logging.getLogger(__name__)

#: ``Homo_sapiens.GRCh38.114.gtf.gz``, ``Mus_musculus.GRCm39.114.chr.gtf.gz``
_ENSEMBL_NAME = re.compile(
    r"^(?P<species>[A-Z][a-z]+(?:_[a-z]+)+)\.(?P<assembly>.+)\.(?P<release>\d+)(?:\.[a-z_]+)?\.gtf(?:\.gz)?$"
)
#: ``gencode.v48.annotation.gtf.gz``, ``gencode.vM37.basic.annotation.gtf.gz``
_GENCODE_NAME = re.compile(r"^gencode\.v(?P<mouse>M?)(?P<version>\d+)\..*gtf(?:\.gz)?$", re.I)
#: ``##description: evidence-based annotation of the human genome (GRCh38), version 48 (Ensembl 114)``
_GENCODE_DESCRIPTION = re.compile(
    r"annotation of the (?P<organism>\w+) genome \((?P<assembly>[^)]+)\), version (?P<version>M?\d+) "
    r"\(Ensembl (?P<release>\d+)\)",
    re.I,
)
_GENCODE_OFFSET = {"": ("homo_sapiens", 66), "M": ("mus_musculus", 77)}
_FEATURES = ("gene", "transcript", "CDS")
_CHUNK_ROWS = 500_000


def _attr(attrs: pd.Series, key: str) -> pd.Series:
    values = attrs.str.extract(rf'(?:^|;)\s*{key} "([^"]*)"', expand=False)
    return values.astype(STRING)


def _header_info(path: Path) -> dict[str, Any]:
    """Release, assembly, organism and date from the file name and the ``#`` header lines."""
    info: dict[str, Any] = {}
    match = _ENSEMBL_NAME.match(path.name)
    if match:
        info.update(release=int(match["release"]), assembly=match["assembly"], organism=match["species"].lower())
    match = _GENCODE_NAME.match(path.name)
    if match:
        organism, offset = _GENCODE_OFFSET[match["mouse"].upper()]
        info.update(release=int(match["version"]) + offset, organism=organism)
    with open_text(path) as fh:
        for _ in range(50):
            line = fh.readline()
            if not line.startswith("#"):
                break
            desc = _GENCODE_DESCRIPTION.search(line)
            if desc:
                organism = {"human": "homo_sapiens", "mouse": "mus_musculus"}.get(desc["organism"].lower())
                info.update(release=int(desc["release"]), assembly=desc["assembly"])
                if organism:
                    info["organism"] = organism
            date = re.match(r"^##date:\s*(\d{4}-\d{2}-\d{2})", line)
            if date:
                info["date"] = date.group(1)
            build = re.match(r"^#!genome-version\s+(\S+)", line)
            if build and "assembly" not in info:
                info["assembly"] = build.group(1)
    return info


def read_gtf(path: str | os.PathLike, *, release: int | None = None, name: str | None = None) -> SourceData:
    """Read a GTF annotation (Ensembl or GENCODE, plain or gzipped).

    ``gene`` lines give the genes (ID, version from ``gene_version`` or the ID's ``.N``
    suffix, biotype from ``gene_biotype``/``gene_type``) and their names (``gene_name`` as
    primary symbol, GENCODE's ``hgnc_id``) and their loci (GTF coordinates are 1-based with both
    ends included, as the snapshot stores them; ``chr1`` is read as ``1``, ``chrM`` as ``MT``;
    the assembly is the one the file name or header names); ``transcript`` lines give transcript IDs and
    ``CDS`` lines protein IDs (``protein_id``), each leading to its gene. GENCODE's
    ``_PAR_Y`` copies of chrY pseudo-autosomal genes are recorded once, under the base ID.

    Parameters
    ----------
    path
        The GTF file.
    release
        Ensembl release it describes. By default taken from an Ensembl file name
        (``Homo_sapiens.GRCh38.114.gtf.gz``), a GENCODE header (``… version 48 (Ensembl 114)``)
        or a GENCODE file name (``gencode.v48.annotation.gtf.gz``: v48 = Ensembl 114).
    name
        Label of the source; default ``"gtf:{release}"``.

    Returns
    -------
    The parsed source (``kind="gtf"``).

    Raises
    ------
    ValueError
        If the release cannot be found or contradicts the file, or the file has no gene lines.
    """
    path = check_file(path, "GTF")
    info = _header_info(path)
    if release is None:
        if "release" not in info:
            msg = (
                f"{path.name}: cannot tell which Ensembl release this GTF describes (neither an Ensembl file "
                "name like Homo_sapiens.GRCh38.114.gtf.gz nor a GENCODE header); pass release=…."
            )
            raise ValueError(msg)
        release = int(info["release"])
    elif "release" in info and int(info["release"]) != int(release):
        msg = f"{path.name}: release={release} was given, but the file describes Ensembl release {info['release']}."
        raise ValueError(msg)
    release = int(release)

    parts: dict[str, list[pd.DataFrame]] = {f: [] for f in _FEATURES}
    reader = pd.read_csv(
        path,
        sep="\t",
        header=None,
        usecols=[0, 2, 3, 4, 6, 8],
        names=["seqname", "source", "feature", "start", "end", "score", "strand", "frame", "attributes"],
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        na_filter=False,
        compression=compression(path),
        chunksize=_CHUNK_ROWS,
        engine="c",
    )
    with reader:
        for raw in reader:
            chunk = raw[~raw["seqname"].str.startswith("#")]
            for feature in _FEATURES:
                sub = chunk.loc[chunk["feature"] == feature, "attributes"]
                if not len(sub):
                    continue
                if feature == "gene":
                    keys = ("gene_id", "gene_version", "gene_name", "gene_biotype", "gene_type", "hgnc_id")
                elif feature == "transcript":
                    keys = ("transcript_id", "gene_id")
                else:
                    keys = ("protein_id", "gene_id")
                frame = pd.DataFrame({k: _attr(sub, k) for k in keys})
                if feature == "gene":  # GTF coordinates: 1-based, both ends included
                    for col in ("seqname", "start", "end", "strand"):
                        frame[col] = chunk.loc[sub.index, col].to_numpy()
                parts[feature].append(frame.drop_duplicates() if feature == "CDS" else frame)
    if not parts["gene"]:
        msg = (
            f"{path.name}: no 'gene' lines (third column) found; expected a GTF annotation with gene, "
            "transcript and exon lines from Ensembl or GENCODE."
        )
        raise ValueError(msg)
    notes: dict[str, int] = {}
    gene_lines = pd.concat(parts["gene"], ignore_index=True)
    ids = split_gene_ids(gene_lines["gene_id"])
    version = ids["version"]
    explicit = pd.to_numeric(gene_lines["gene_version"], errors="coerce").astype("Int64")
    version = explicit.fillna(version)
    biotype = gene_lines["gene_biotype"].fillna(gene_lines["gene_type"])
    genes = pd.DataFrame({"gene_id": ids["gene_id"], "version": version, "biotype": biotype})
    genes["release"] = pd.array([release] * len(genes), dtype="Int64")
    missing = genes["gene_id"].isna().to_numpy()
    if missing.any():
        notes["gene_lines_without_gene_id"] = int(missing.sum())
    par = ids["par_y"].to_numpy()
    par_dupe = par & isin(genes["gene_id"], genes.loc[~par, "gene_id"])
    if par_dupe.any():
        notes["par_y_genes"] = int(par_dupe.sum())
    keep = ~missing & ~par_dupe
    gene_rows = genes[keep].drop_duplicates("gene_id", ignore_index=True)
    if int(keep.sum()) != len(gene_rows):
        notes["repeated_gene_lines"] = int(keep.sum()) - len(gene_rows)
    gid = ids["gene_id"][keep]
    loci = locus_rows(
        gid,
        gene_lines.loc[keep, "seqname"],
        gene_lines.loc[keep, "start"],
        gene_lines.loc[keep, "end"],
        gene_lines.loc[keep, "strand"],
        offset=0,
        release=release,
        assembly=info.get("assembly"),
        path=path,
    )
    names = [
        name_rows(gid, gene_lines.loc[keep, "gene_name"], namespace="symbol", kind="primary", release=release),
        name_rows(
            gid, normalize_hgnc(gene_lines.loc[keep, "hgnc_id"]), namespace="hgnc_id", kind="primary", release=release
        ),
    ]

    features = []
    for feature, id_key, feature_type in (
        ("transcript", "transcript_id", "transcript"),
        ("CDS", "protein_id", "translation"),
    ):
        if not parts[feature]:
            continue
        lines = pd.concat(parts[feature], ignore_index=True)
        fid = split_gene_ids(lines[id_key])
        owner = split_gene_ids(lines["gene_id"])
        rows = pd.DataFrame(
            {
                "feature_id": fid["gene_id"],
                "feature_type": feature_type,
                "gene_id": owner["gene_id"],
                "release": release,
            }
        )
        par_y = fid["par_y"].to_numpy()
        if par_y.any():
            notes[f"par_y_{feature_type}s"] = int(par_y.sum())
        ok = rows["feature_id"].notna().to_numpy() & ~par_y
        features.append(rows[ok])
    features_frame = concat_rows(features, "features")
    features_frame["release"] = features_frame["release"].astype("Int64")

    origin, sha = describe_file(path)
    organism = info.get("organism")
    data = SourceData(
        name=name or f"gtf:{release}",
        kind="gtf",
        origin=origin,
        release=release,
        sha256=sha,
        date=info.get("date"),
        organism=organism,
        assembly=info.get("assembly"),
        releases=[release],
        genes=gene_rows[["gene_id", "version", "release", "biotype"]],
        names=concat_rows(names, "names"),
        features=features_frame,
        loci=loci,
        notes=notes,
    )
    logger.info(
        "%s: %d genes, %d transcripts/proteins (release %d)", path.name, len(data.genes), len(data.features), release
    )
    return data
