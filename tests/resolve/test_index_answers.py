"""Every answer of the resolution index on the shipped snapshots is pinned.

``tests/data/resolver/index_digests.tsv.gz`` holds, per target (snapshot, release,
namespace, anchor release, ``min_evidence``) and per column of the
:class:`~idtrack_sc.resolve.ResolutionIndex`, the number of rows and the SHA-256 of the
column's values, as built by the resolver before its index build was optimized. An index
column answers for every key the snapshot knows (every Ensembl gene ID with and without
version, transcript and protein ID, symbol, previous symbol, alias, HGNC, Entrez, RefSeq,
UniProt and MGI ID), so one changed answer changes a digest. Regenerate (only for an intended
change of answers) with ``python tests/resolve/test_index_answers.py``.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest

from idtrack_sc.resolve._index import build_index
from idtrack_sc.snapshot import load_snapshot

if TYPE_CHECKING:
    from idtrack_sc.resolve._resolution_index import ResolutionIndex

DATA = Path(__file__).parents[1] / "data" / "resolver" / "index_digests.tsv.gz"
PACKAGE_DATA = Path(__file__).parents[2] / "src" / "idtrack_sc" / "data"

#: (snapshot file, release, namespace, anchor release or "", min_evidence): old and new
#: releases, an uncovered release between two covered ones, names read in another release,
#: every evidence tier and the namespaces users convert to.
TARGETS = [
    ("homo_sapiens-114", 114, "ensembl_gene", "", "medium"),
    ("homo_sapiens-114", 114, "symbol", "", "medium"),
    ("homo_sapiens-114", 75, "ensembl_gene", "", "none"),
    ("homo_sapiens-114", 90, "symbol", "", "low"),
    ("homo_sapiens-114", 110, "entrez", 84, "high"),
    ("homo_sapiens-114", 100, "uniprot", "", "medium"),
    ("mus_musculus-114", 114, "ensembl_gene", "", "medium"),
    ("mus_musculus-114", 104, "mgi_id", 100, "low"),
]
#: The small demo subset: cheap, so every release, namespace and evidence tier.
DEMO_TARGETS = [
    ("homo_sapiens-default", release, namespace, anchor, evidence)
    for release in (75, 84, 95, 114)
    for namespace in ("ensembl_gene", "symbol", "hgnc_id", "entrez", "refseq", "ensembl_transcript")
    for anchor, evidence in (("", "medium"), ("", "none"), (84, "low"), (110, "high"))
]
COLUMNS = (
    "keys",
    "hashes",
    "note",
    "query_namespace",
    "namespaces",
    "n_targets",
    "targets",
    "top",
    "breakable",
    "genes",
    "symbol",
    "reason",
    "found_first",
    "found_last",
    "retired_in",
    "lost",
    "anchor_release",
)


def column_digest(index: ResolutionIndex, column: str) -> tuple[int, str]:
    """Number of values and SHA-256 of one column, independent of how it is laid out in memory."""
    value = getattr(index, column)
    digest = hashlib.sha256()
    if isinstance(value, pa.Array | pa.ChunkedArray):
        values = value.to_pylist()
        digest.update(f"arrow:{value.type}\n".encode())
        digest.update("\x1f".join("\x00" if v is None else v for v in values).encode())
    elif column == "hashes":
        values = value.to_numpy()
        digest.update(f"{values.dtype.str}\n".encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    elif isinstance(value, np.ndarray):
        values = value
        if values.dtype.kind == "f":  # one NaN, whatever its bit pattern
            values = np.where(np.isnan(values), np.nan, values)
        digest.update(f"{values.dtype.str}\n".encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    else:
        values = [value] if not isinstance(value, list) else value
        digest.update(repr(value).encode())
    return len(values), digest.hexdigest()


@functools.cache
def _demo_snapshot():
    return load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")


def _snapshot(name: str):
    # the full snapshots are loaded afresh for each target: their cached candidates are large
    if name == "homo_sapiens-default":
        return _demo_snapshot()
    return load_snapshot(PACKAGE_DATA / f"{name}.idtrack.zip")


def _build(target: tuple) -> ResolutionIndex:
    name, release, namespace, anchor, evidence = target
    return build_index(_snapshot(name), release, namespace, None if anchor == "" else int(anchor), evidence)


def _expected() -> dict[tuple, dict[str, tuple[int, str]]]:
    out: dict[tuple, dict[str, tuple[int, str]]] = {}
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            anchor = "" if row["anchor"] == "" else int(row["anchor"])
            target = (row["snapshot"], int(row["release"]), row["namespace"], anchor, row["min_evidence"])
            out.setdefault(target, {})[row["column"]] = (int(row["n"]), row["sha256"])
    return out


def _check(target: tuple) -> None:
    expected = _expected()[target]
    assert set(expected) == set(COLUMNS)
    index = _build(target)
    changed = [c for c in COLUMNS if column_digest(index, c) != expected[c]]
    assert not changed, f"answers changed for {target} in columns {changed}"


def test_fixture_covers_every_target():
    assert set(_expected()) == set(TARGETS) | set(DEMO_TARGETS)


@pytest.mark.parametrize("target", DEMO_TARGETS, ids=lambda t: "-".join(map(str, t[1:])))
def test_demo_index_answers_unchanged(target):
    _check(target)


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: "-".join(map(str, t)))
def test_shipped_index_answers_unchanged(target):
    _check(target)


def _write_fixture() -> None:  # pragma: no cover - run by hand
    DATA.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DATA, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["snapshot", "release", "namespace", "anchor", "min_evidence", "column", "n", "sha256"])
        for target in TARGETS + DEMO_TARGETS:
            index = _build(target)
            for column in COLUMNS:
                writer.writerow([*target, column, *column_digest(index, column)])


if __name__ == "__main__":  # pragma: no cover
    _write_fixture()
