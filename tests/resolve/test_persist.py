"""Resolution indexes kept on disk give the same answers as freshly built ones."""

from __future__ import annotations

import pandas as pd

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
    table = its.convert(["TP53"], snapshot=snap)
    assert table["target"].tolist() == ["ENSG00000141510"]


def test_cache_can_be_switched_off(resolver_snapshot_path, monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    monkeypatch.setenv("IDTRACK_SC_INDEX_CACHE", "0")
    snap = its.load_snapshot(resolver_snapshot_path)
    assert index_path(snap, 114, "symbol") is None
    its.convert(["TP53"], snapshot=snap, to="symbol")
    assert not (tmp_path / "index").exists()
