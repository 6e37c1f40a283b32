"""Resolution indexes kept on disk give the same answers as freshly built ones."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import idtrack_sc as its
from idtrack_sc.resolve._persist import index_path

QUERIES = ["TP53", "p53", "ENSG00000141510.16", "1-Mar", "60B8AG", "8263", "ENSG00000230202", "NOPE", "", None]


def test_index_is_kept_and_reused(resolver_snapshot_path, monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    fresh = its.load_snapshot(resolver_snapshot_path)
    path = index_path(fresh, 110, "symbol")
    assert path is not None
    assert not path.exists()
    first = its.convert(QUERIES, snapshot=fresh, to="symbol", release=110)
    assert path.is_file()

    again = its.load_snapshot(resolver_snapshot_path)  # a new session: nothing in memory
    second = its.convert(QUERIES, snapshot=again, to="symbol", release=110)
    pd.testing.assert_frame_equal(first, second)


def test_unreadable_index_is_rebuilt(resolver_snapshot_path, monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = its.load_snapshot(resolver_snapshot_path)
    path = index_path(snap, 114, "ensembl_gene")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an arrow file")
    with pytest.warns(UserWarning, match="rebuilt from the snapshot"):
        table = its.convert(["TP53"], snapshot=snap)
    assert table["target"].tolist() == ["ENSG00000141510"]


def test_cache_can_be_switched_off(resolver_snapshot_path, monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    monkeypatch.setenv("IDTRACK_SC_INDEX_CACHE", "0")
    snap = its.load_snapshot(resolver_snapshot_path)
    assert index_path(snap, 114, "symbol") is None
    its.convert(["TP53"], snapshot=snap, to="symbol")
    assert not (tmp_path / "index").exists()


def _built(resolver_snapshot_path, monkeypatch, tmp_path, release=114, namespace="ensembl_gene"):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = its.load_snapshot(resolver_snapshot_path)
    expected = its.convert(QUERIES, snapshot=snap, to=namespace, release=release)
    return index_path(snap, release, namespace), expected


def _again(resolver_snapshot_path, namespace="ensembl_gene", release=114):
    return its.convert(QUERIES, snapshot=its.load_snapshot(resolver_snapshot_path), to=namespace, release=release)


def test_edited_index_is_detected_and_rebuilt(resolver_snapshot_path, monkeypatch, tmp_path):
    path, expected = _built(resolver_snapshot_path, monkeypatch, tmp_path)
    table = pa.ipc.open_file(pa.BufferReader(path.read_bytes())).read_all()
    top = table["top"].to_pylist()
    top = ["ENSG00000000000" if t == "ENSG00000141510" else t for t in top]  # TP53 now answers anything
    table = table.set_column(table.schema.get_field_index("top"), "top", pa.array(top, pa.string()))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.warns(UserWarning, match="does not match its SHA-256"):
        again = _again(resolver_snapshot_path)
    pd.testing.assert_frame_equal(again, expected)
    assert again.loc[again["query"] == "TP53", "target"].tolist() == ["ENSG00000141510"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt index replaced the edited one
        pd.testing.assert_frame_equal(_again(resolver_snapshot_path), expected)


def test_truncated_index_is_detected_and_rebuilt(resolver_snapshot_path, monkeypatch, tmp_path):
    path, expected = _built(resolver_snapshot_path, monkeypatch, tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(UserWarning, match="truncated or replaced"):
        again = _again(resolver_snapshot_path)
    pd.testing.assert_frame_equal(again, expected)


def test_index_of_another_snapshot_is_not_used(resolver_snapshot_path, monkeypatch, tmp_path):
    """An intact index (with its checksum file) copied under another snapshot's name is refused."""
    path, expected = _built(resolver_snapshot_path, monkeypatch, tmp_path)
    other = its.load_snapshot(its.datasets.default_snapshot_path())  # fresh: its index is written to this cache
    its.convert(QUERIES, snapshot=other, release=114)
    other_path = index_path(other, 114, "ensembl_gene")
    for suffix in ("", ".sha256.json"):
        Path(f"{other_path}{suffix}").replace(f"{path}{suffix}")
    with pytest.warns(UserWarning, match="another snapshot file"):
        again = _again(resolver_snapshot_path)
    pd.testing.assert_frame_equal(again, expected)


def test_stale_temporary_files_are_cleaned(resolver_snapshot_path, monkeypatch, tmp_path):
    path, _ = _built(resolver_snapshot_path, monkeypatch, tmp_path)
    stale = path.parent / f".idtrack-sc.{path.name}.abc123_x.part"  # the temporary of a killed write
    fresh = path.parent / f".idtrack-sc.{path.name}.def456_y.part"  # another process may be writing it now
    keep = path.parent / "notes.part"
    users = path.parent / f".{path.name}.abc12345.part"  # no temporary of the package's: a user's file
    for f in (stale, fresh, keep, users):
        f.write_bytes(b"half an index")
    old = time.time() - 2 * 3600
    for f in (stale, keep, users):
        os.utime(f, (old, old))
    _again(resolver_snapshot_path, namespace="symbol")  # a new index is written: the folder is tidied
    assert not stale.exists()
    assert fresh.exists()
    assert keep.exists()
    assert users.exists()


def test_reader_racing_the_first_write_does_not_warn(resolver_snapshot_path, monkeypatch, tmp_path):
    """Another session reading between the writes of the index and its checksum file finds no index, silently."""
    from idtrack_sc.resolve import _persist

    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = its.load_snapshot(resolver_snapshot_path)
    path = index_path(snap, 114, "ensembl_gene")
    seen = []
    real = _persist.write_atomically

    def write_then_read(target, write):
        real(target, write)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen.append(_persist.load_index(path, snap.sha256, 114, "ensembl_gene"))
        seen.extend(str(w.message) for w in caught)

    monkeypatch.setattr(_persist, "write_atomically", write_then_read)
    its.convert(["TP53"], snapshot=snap)
    assert seen[0] is None  # between the two writes: no index yet, nothing to warn about
    assert isinstance(seen[-1], _persist.ResolutionIndex)  # after both: the index, verified
    assert not [s for s in seen if isinstance(s, str)]
