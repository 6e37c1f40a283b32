"""Derived tables: what is the same for every query is written by the snapshot writer and read, not recomputed."""

from __future__ import annotations

import zipfile

import pytest

import idtrack_sc as its
from idtrack_sc.datasets import default_snapshot_path
from idtrack_sc.snapshot import _keys, _model, write_snapshot


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    snap = its.load_snapshot(default_snapshot_path())
    tables = {name: snap.table(name) for name in ("genes", "events", "names", "features", "loci")}
    manifest = {k: v for k, v in snap.manifest.items() if k != "tables"}
    return snap, write_snapshot(tables, manifest, tmp_path_factory.mktemp("derived") / "x.idtrack.zip")


def test_spellings_are_stored_and_read_not_recomputed(written, monkeypatch):
    original, path = written
    with zipfile.ZipFile(path) as zf:
        assert "spellings.parquet" in zf.namelist()
    monkeypatch.setattr(_model, "build_spellings", lambda names: pytest.fail("recomputed"))
    stored = its.load_snapshot(path).spellings()
    assert stored.num_rows > 0
    # the same rows as computed from the names table (the case readings of SEPTIN-like names)
    assert stored.equals(_keys.build_spellings(original.arrow("names")))


def test_a_file_without_spellings_computes_them(written):
    original, path = written
    with zipfile.ZipFile(default_snapshot_path()) as zf:
        has = "spellings.parquet" in zf.namelist()
    computed = original.spellings() if not has else _keys.build_spellings(original.arrow("names"))
    assert computed.equals(its.load_snapshot(path).spellings())


def test_case_conflict_answered_the_same_from_the_stored_table(written):
    """The stored table gives the same answers as the names table it came from."""
    original, path = written
    values = original.spellings()["value"].to_pylist()[:50]
    again = its.load_snapshot(path)
    cols = ["query", "targets", "outcome", "reason"]
    before = its.convert(values, snapshot=original, to="symbol")[cols]
    after = its.convert(values, snapshot=again, to="symbol")[cols]
    assert before.equals(after)
