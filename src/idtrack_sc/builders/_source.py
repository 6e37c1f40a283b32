"""What every source parser returns, and how sources are described in the manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..snapshot import file_sha256

if TYPE_CHECKING:
    import os

#: Columns of the observation tables a parser fills (missing ones are added as nulls).
OBSERVATION_COLUMNS = {
    # a gene ID seen in a release, with its version and biotype
    "genes": ["gene_id", "version", "release", "biotype"],
    # a name of a gene; release null = undated source (HGNC, NCBI)
    "names": ["gene_id", "namespace", "value", "kind", "release"],
    # a transcript / translation ID of a gene seen in a release
    "features": ["feature_id", "feature_type", "gene_id", "release"],
    # Ensembl history between IDs (see idtrack_sc.snapshot._schema.EVENTS)
    "events": ["old_id", "old_version", "new_id", "new_version", "old_release", "release", "score"],
    # where a gene lies in a release: 1-based, both ends included (Ensembl's convention)
    "loci": ["gene_id", "assembly", "chromosome", "start", "end", "strand", "release"],
}

#: Scopes of a source: which sequence regions it describes. ``full``: every region of the
#: assembly, patches and alternate haplotypes included (Ensembl's gene sets);
#: ``primary_assembly``: chromosomes and unplaced / unlocalized scaffolds only (GENCODE's
#: primary-assembly tables). A gene missing from a source that does not cover its region is
#: not retired there.
SCOPES = ("full", "primary_assembly")


def _empty(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OBSERVATION_COLUMNS[kind]})


@dataclass
class SourceData:
    """The parsed content of one source file (or dump folder).

    Attributes
    ----------
    name
        Short unique label, e.g. ``"gene_table:104"`` or ``"hgnc"``; stored in every row.
    kind
        ``ensembl_dump``, ``gtf``, ``gene_table``, ``hgnc``, ``ncbi_gene_info``, ``ncbi_gene2ensembl``,
        ``ncbi_gene_history``.
    origin
        Path or URL it was read from.
    release
        The Ensembl release it describes, or ``None`` for undated sources.
    sha256, date
        Checksum of the file (see :func:`describe_file`) and the date its content carries
        (ISO ``YYYY-MM-DD``), if any.
    organism, assembly
        What the source says about itself, if anything (checked for conflicts).
    releases
        Releases the source covers (e.g. every release of a dump's history).
    genes, names, features, events, loci
        Observation tables, columns as in ``idtrack_sc.builders._source.OBSERVATION_COLUMNS``.
    scope
        Which sequence regions the source describes (``"full"`` or ``"primary_assembly"``,
        ``idtrack_sc.builders._source.SCOPES``).
    geneless_symbols
        Approved symbols of genes that have no Ensembl gene (HGNC), symbol -> HGNC ID; the
        manifest's ``geneless_symbols``.
    """

    name: str
    kind: str
    origin: str
    release: int | None = None
    sha256: str | None = None
    date: str | None = None
    organism: str | None = None
    assembly: str | None = None
    releases: list[int] = field(default_factory=list)
    genes: pd.DataFrame = field(default_factory=lambda: _empty("genes"))
    names: pd.DataFrame = field(default_factory=lambda: _empty("names"))
    features: pd.DataFrame = field(default_factory=lambda: _empty("features"))
    events: pd.DataFrame = field(default_factory=lambda: _empty("events"))
    loci: pd.DataFrame = field(default_factory=lambda: _empty("loci"))
    scope: str = "full"
    notes: dict[str, Any] = field(default_factory=dict)
    geneless_symbols: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            msg = f"Source {self.name}: scope must be one of {SCOPES}, got {self.scope!r}."
            raise ValueError(msg)

    def manifest_entry(self) -> dict[str, Any]:
        """The entry for the manifest's ``sources`` list."""
        entry: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "origin": self.origin,
            "release": self.release,
            "sha256": self.sha256,
            "date": self.date,
        }
        if self.assembly:
            entry["assembly"] = self.assembly
        if self.scope != "full":
            entry["scope"] = self.scope
        entry["loci"] = len(self.loci) > 0
        if len(self.features):
            entry["transcripts"] = int((self.features["feature_type"] == "transcript").sum())
        if self.notes:
            entry["notes"] = dict(sorted(self.notes.items()))
        return entry


def describe_file(path: str | os.PathLike) -> tuple[str, str]:
    """Origin label and SHA-256 of a local source file.

    The origin is the file name, not its absolute path, and no file time is recorded: the
    same file content gives the same manifest on any machine. Parsers set
    :attr:`SourceData.date` from the content where it carries one (HGNC's modification
    dates, Ensembl's mapping sessions).
    """
    path = Path(path)
    return path.name, file_sha256(path)
