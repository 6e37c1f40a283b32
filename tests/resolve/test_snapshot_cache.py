"""The resolver keeps what it derives from a snapshot in its own cache, one per snapshot,
and lets go of it together with the snapshot."""

from __future__ import annotations

import gc
import weakref

from idtrack_sc import convert, explain, history_graph, infer_release
from idtrack_sc.datasets import default_snapshot_path
from idtrack_sc.resolve import get_index, names_at, snapshot_cache
from idtrack_sc.snapshot import Snapshot


def test_derived_values_are_built_once_per_snapshot(monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = Snapshot.from_file(default_snapshot_path())
    first = get_index(snap, 114, "symbol")
    assert get_index(snap, 114, "symbol") is first
    # another snapshot object of the same file has caches of its own (read from disk, equal)
    other = Snapshot.from_file(default_snapshot_path())
    again = get_index(other, 114, "symbol")
    assert again is not first
    assert again.keys.equals(first.keys)
    assert snapshot_cache(snap) is not snapshot_cache(other)
    assert not hasattr(snap, "_derived")


def test_caches_do_not_keep_the_snapshot_alive(monkeypatch, tmp_path):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = Snapshot.from_file(default_snapshot_path())
    table = convert(["TP53", "MARCH1", "ENSG00000139618.17"], snapshot=snap, release=114, to="symbol")
    assert table["target"].tolist() == ["TP53", "MARCHF1", "BRCA2"]
    assert "TP53" in str(explain("p53", snapshot=snap, release=114, to="symbol"))
    symbols = names_at(snap, "symbol", 114).sort_values().iloc[:200].tolist()
    assert infer_release(symbols, snapshot=snap).releases
    assert history_graph(snap, release=114).number_of_nodes() > 0
    assert snapshot_cache(snap)
    ref = weakref.ref(snap)
    del snap
    gc.collect()
    assert ref() is None
