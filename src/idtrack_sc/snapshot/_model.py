"""The in-memory :class:`Snapshot`: lazily loaded tables plus the manifest."""

from __future__ import annotations

import hashlib
import logging
import numbers
import time
import zipfile
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._io import (
    SnapshotFormatError,
    check_key_table,
    check_spellings,
    check_table_contents,
    check_table_releases,
    read_manifest,
    read_table,
    to_arrow,
    with_optional_tables,
)
from ._keys import build_key_table, build_spellings
from ._schema import SCHEMA_VERSION, TABLES

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import pandas as pd
    import pyarrow as pa


logger = logging.getLogger(__name__)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Snapshot:
    """An organism's gene identifier history up to a release, as tables.

    Do not construct directly: use :func:`idtrack_sc.load_snapshot`,
    :func:`idtrack_sc.fetch_snapshot` or a builder. Tables are read from the file on first
    access and kept.

    Attributes
    ----------
    manifest
        The file's manifest: organism, assembly, releases, sources, builder.
    path
        The file the snapshot was read from (``None`` for an in-memory snapshot).
    """

    def __init__(
        self, manifest: Mapping[str, Any], *, path: Path | None = None, tables: Mapping[str, pa.Table] | None = None
    ):
        self.manifest = dict(manifest)
        self.path = path
        self._arrow: dict[str, pa.Table] = dict(tables or {})
        self._frames: dict[str, pd.DataFrame] = {}

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Snapshot:
        """Open a snapshot file, reading only its manifest now."""
        path = Path(path)
        if not path.is_file():
            msg = f"Snapshot file {path} does not exist."
            raise FileNotFoundError(msg)
        try:
            with zipfile.ZipFile(path) as zf:
                manifest = read_manifest(zf, path)
        except (zipfile.BadZipFile, EOFError):
            msg = f"{path} is not an idtrack-sc snapshot (not a ZIP archive, or truncated)."
            raise SnapshotFormatError(msg) from None
        return cls(manifest, path=path)

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame], manifest: Mapping[str, Any]) -> Snapshot:
        """Make an in-memory snapshot from data frames (tests, builders before writing)."""
        tables = with_optional_tables(tables)
        arrow = {name: to_arrow(name, tables[name]) for name in TABLES}
        return cls({**manifest, "schema_version": SCHEMA_VERSION}, tables=arrow)

    # -- tables ------------------------------------------------------------------------------
    def arrow(self, name: str) -> pa.Table:
        """One table as :class:`pyarrow.Table`."""
        if name not in TABLES:
            msg = f"Unknown snapshot table {name!r}; tables are {list(TABLES)}."
            raise KeyError(msg)
        if name not in self._arrow:
            if self.path is None:  # pragma: no cover - in-memory snapshots hold every table
                msg = f"In-memory snapshot has no table {name!r}."
                raise KeyError(msg)
            with zipfile.ZipFile(self.path) as zf:
                table = read_table(zf, self.path, name, self.manifest)
            check_table_releases(table, name, self.releases, self.path)
            check_table_contents(table, name, self.releases, self.path)
            self._arrow[name] = table
        return self._arrow[name]

    def key_table(self) -> pa.Table:
        """The key table (``idtrack_sc.snapshot._keys``): every upper-cased key with its anchor rows.

        Read from the file when it holds one (schema 3), else computed from the other tables
        once per session (older or hand-written files; a log line says so).
        """
        if "keys" not in self._arrow:
            table = None
            if self.path is not None:
                with zipfile.ZipFile(self.path) as zf:
                    table = read_table(zf, self.path, "keys", self.manifest)
                if table is not None:
                    check_key_table(table, self.path)
                    check_table_releases(table, "keys", self.releases, self.path)
            if table is None:
                where = self.path.name if self.path is not None else "in-memory snapshot"
                if self.path is not None:
                    logger.info(
                        "%s holds no key table (written before snapshot schema 3): computing it once for this session",
                        where,
                    )
                start = time.perf_counter()
                table = build_key_table({name: self.arrow(name) for name in ("genes", "events", "features", "names")})
                logger.debug("key table of %s: %d rows in %.2f s", where, table.num_rows, time.perf_counter() - start)
            self._arrow["keys"] = table
        return self._arrow["keys"]

    def spellings(self) -> pa.Table:
        """Symbols the sources write in several ways (computed by the build, ``snapshot._keys.build_spellings``).

        Read from the file when it holds the table (schema 4), else computed from ``names``
        once per session.
        """
        if "spellings" not in self._arrow:
            table = None
            if self.path is not None:
                with zipfile.ZipFile(self.path) as zf:
                    table = read_table(zf, self.path, "spellings", self.manifest)
                if table is not None:
                    check_spellings(table, self.path)
                    check_table_releases(table, "spellings", self.releases, self.path)
            if table is None:
                table = build_spellings(self.arrow("names"))
            self._arrow["spellings"] = table
        return self._arrow["spellings"]

    def table(self, name: str) -> pd.DataFrame:
        """One table as :class:`pandas.DataFrame` (cached)."""
        if name not in self._frames:
            self._frames[name] = self.arrow(name).to_pandas()
        return self._frames[name]

    @property
    def genes(self) -> pd.DataFrame:
        """Gene IDs with version, release span, biotype and source."""
        return self.table("genes")

    @property
    def events(self) -> pd.DataFrame:
        """History events between different IDs, births and retirements."""
        return self.table("events")

    @property
    def names(self) -> pd.DataFrame:
        """External names (symbols, HGNC IDs, Entrez IDs, …) of genes with release spans."""
        return self.table("names")

    @property
    def features(self) -> pd.DataFrame:
        """Transcript and translation IDs with their gene."""
        return self.table("features")

    @property
    def loci(self) -> pd.DataFrame:
        """Gene loci (assembly, chromosome, 1-based start and end, strand) with release spans."""
        return self.table("loci")

    # -- identity ----------------------------------------------------------------------------
    @property
    def organism(self) -> str:
        """Organism production name, e.g. ``homo_sapiens``."""
        return str(self.manifest.get("organism", "unknown"))

    @property
    def assembly(self) -> str | None:
        """Genome assembly of the newest release, e.g. ``GRCh38``."""
        return self.manifest.get("assembly")

    @property
    def releases(self) -> tuple[int, ...]:
        """Ensembl releases the snapshot covers, ascending."""
        return tuple(sorted(int(r) for r in self.manifest.get("releases", ())))

    @property
    def latest_release(self) -> int:
        """The newest covered release (the default target)."""
        if not self.releases:
            msg = "Snapshot covers no release."
            raise ValueError(msg)
        return self.releases[-1]

    @property
    def schema_version(self) -> int:
        """Snapshot schema version."""
        return int(self.manifest.get("schema_version", SCHEMA_VERSION))

    @cached_property
    def sha256(self) -> str | None:
        """SHA-256 of the snapshot file (``None`` for an in-memory snapshot)."""
        return None if self.path is None else file_sha256(self.path)

    @cached_property
    def namespaces(self) -> tuple[str, ...]:
        """Namespaces the snapshot can express genes in, ``ensembl_gene`` first."""
        listed = self.manifest.get("namespaces")  # written by builders; saves reading `names`
        if listed is None:
            listed = self.names["namespace"].dropna().unique().tolist()
        return ("ensembl_gene", *sorted(str(ns) for ns in listed))

    def check_release(self, release: int | None) -> int:
        """Return ``release`` (or the latest one) if it is in the covered range, else raise.

        Any release from the oldest to the newest covered one is accepted: between two
        covered releases, a gene present at both is present (Ensembl never reuses a stable
        ID), and the resolver says when presence is undetermined.
        """
        if release is None:
            return self.latest_release
        release = as_release(release)
        if not self.releases or not self.releases[0] <= release <= self.releases[-1]:
            msg = (
                f"Ensembl release {release} is outside the range of the {self.organism} snapshot: it covers "
                f"releases {self.releases[0] if self.releases else '?'} to {self.releases[-1] if self.releases else '?'} "
                f"(tables of {_ranges(self.releases)}). Build or fetch a snapshot that includes it."
            )
            raise ValueError(msg)
        return release

    def identity(self) -> dict[str, Any]:
        """What identifies this snapshot in a provenance record."""
        return {
            "organism": self.organism,
            "assembly": self.assembly,
            "releases": _ranges(self.releases),
            "latest_release": self.latest_release if self.releases else None,
            "schema_version": self.schema_version,
            "sha256": self.sha256,
            "file": None if self.path is None else self.path.name,
            "builder_version": (self.manifest.get("builder") or {}).get("version"),
        }

    def summary(self) -> dict[str, Any]:
        """Counts of what the snapshot holds, for ``info`` displays."""
        names = self.names
        by_ns = names.groupby("namespace", sort=True, observed=True).size()
        return {
            **self.identity(),
            "genes": int(self.genes["gene_id"].nunique()),
            "gene_versions": len(self.genes),
            "events": len(self.events),
            "names": len(names),
            "names_by_namespace": {str(k): int(v) for k, v in by_ns.items()},
            "features": len(self.features),
            "loci": len(self.loci),
            "inferred_events": int((self.events["source"] == "inferred_lineage").sum()),
            "sources": [s.get("name") for s in self.manifest.get("sources", [])],
        }

    def __repr__(self) -> str:
        where = f" from {self.path.name}" if self.path else ""
        return f"Snapshot({self.organism}, {self.assembly}, releases {_ranges(self.releases)}{where})"


def as_release(value: object, name: str = "release") -> int:
    """An Ensembl release number as ``int``; floats, booleans and other types are refused.

    ``114``, ``numpy.int64(114)`` and ``"114"`` are accepted; ``114.7`` (or ``114.0``) is
    not silently truncated.
    """
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return int(value)
    msg = f"{name} must be an Ensembl release number (an int such as 114), got {type(value).__name__} {value!r}."
    raise TypeError(msg)


def _ranges(releases: tuple[int, ...] | list[int]) -> str:
    """Compact text for a list of releases: ``84, 93, 100-104``."""
    out: list[str] = []
    rel = sorted(releases)
    i = 0
    while i < len(rel):
        j = i
        while j + 1 < len(rel) and rel[j + 1] == rel[j] + 1:
            j += 1
        out.append(str(rel[i]) if i == j else f"{rel[i]}-{rel[j]}")
        i = j + 1
    return ", ".join(out)


def load_snapshot(path: str | os.PathLike) -> Snapshot:
    """Load a snapshot file.

    Only the manifest is read now; tables are read when first used, so opening is cheap.

    Parameters
    ----------
    path
        A snapshot file written by a builder or fetched from a registry.

    Returns
    -------
    The snapshot.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> snap = its.load_snapshot(its.datasets.default_snapshot_path())  # doctest: +SKIP
    >>> snap.releases  # doctest: +SKIP
    (84, 93, 100, 104, 110, 114)
    """
    return Snapshot.from_file(path)
