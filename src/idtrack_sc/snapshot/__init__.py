"""Snapshots: an organism's gene identifier history as versioned, single-file tables."""

from ._io import SnapshotFormatError, write_snapshot
from ._keys import build_key_table, fake_names, fold_case, upper_array, upper_strings
from ._model import Snapshot, file_sha256, load_snapshot
from ._organisms import (
    ORGANISMS,
    AmbiguousOrganismError,
    Organism,
    known_organisms,
    organism_info,
    resolve_organism,
    taxonomy_id,
)
from ._schema import FORMAT_NAME, NAME_KINDS, SCHEMA_VERSION, SOURCE_PRIORITY, TABLES

__all__ = [
    "AmbiguousOrganismError",
    "FORMAT_NAME",
    "NAME_KINDS",
    "ORGANISMS",
    "SCHEMA_VERSION",
    "SOURCE_PRIORITY",
    "TABLES",
    "Organism",
    "Snapshot",
    "SnapshotFormatError",
    "build_key_table",
    "fake_names",
    "file_sha256",
    "fold_case",
    "known_organisms",
    "load_snapshot",
    "organism_info",
    "resolve_organism",
    "taxonomy_id",
    "upper_array",
    "upper_strings",
    "write_snapshot",
]
