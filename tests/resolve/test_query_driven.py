"""Query-driven resolution: a batch resolves only the keys it reaches, with the answers of a full build.

The reference is :func:`idtrack_sc.resolve._index.build_index` (every key of the snapshot,
pinned by ``test_index_answers.py``). Batches are real keys of the shipped snapshots, read as
users write them (other case, versions, ``GeneID:`` prefixes, uniquifying suffixes, blanks),
plus identifiers no snapshot knows; they are converted one after another in one session, so
the keys resolved by earlier batches are reused by later ones.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idtrack_sc as its
from idtrack_sc.resolve import snapshot_cache
from idtrack_sc.resolve._index import Resolved, resolve_keys
from idtrack_sc.resolve._key_index import key_index
from idtrack_sc.snapshot import SnapshotFormatError, load_snapshot, write_snapshot

PACKAGE_DATA = Path(__file__).parents[2] / "src" / "idtrack_sc" / "data"

#: (release, namespace, anchor release, min_evidence) of the demo snapshot: old and new
#: releases, names read in another release, every evidence tier.
DEMO_TARGETS = [
    (114, "ensembl_gene", 114, "medium"),
    (114, "symbol", 114, "medium"),
    (84, "hgnc_id", 84, "none"),
    (95, "entrez", 84, "low"),
    (75, "symbol", 110, "high"),
]


def _with_full_build(snapshot, release, namespace, anchor, evidence):
    """Seed the session's resolved keys of one target with the full build (the reference)."""
    keys = key_index(snapshot)
    full = Resolved(len(keys), release, namespace, anchor, evidence)
    full._append(resolve_keys(snapshot, None, release, namespace, anchor, evidence, keys.namespaces), keys.all_codes())
    snapshot_cache(snapshot)[("_resolved", release, namespace, anchor, evidence)] = full
    return snapshot


@functools.cache
def _snapshots(name: str):
    """The snapshot twice: queried batch by batch, and with every target fully built."""
    path = PACKAGE_DATA / f"{name}.idtrack.zip"
    reference = load_snapshot(path)
    targets = DEMO_TARGETS if name == "homo_sapiens-default" else [(114, "ensembl_gene", 114, "medium")]
    for target in targets:
        _with_full_build(reference, *target)
    return load_snapshot(path), reference, targets


@functools.cache
def _real_keys(name: str) -> tuple[list[str], list[str]]:
    """Keys of the snapshot as its sources write them (symbols in their case, IDs) and Entrez IDs."""
    snap = load_snapshot(PACKAGE_DATA / f"{name}.idtrack.zip")
    names = snap.names
    genes = snap.genes
    versioned = genes.dropna(subset=["version"])
    values = [
        *names["value"].tolist(),
        *genes["gene_id"].tolist(),
        *(versioned["gene_id"] + "." + versioned["version"].astype(int).astype(str)).tolist(),
        *snap.features["feature_id"].tolist(),
    ]
    entrez = names.loc[names["namespace"] == "entrez", "value"].tolist()
    return sorted(set(values)), sorted(set(entrez))


def _query(name: str) -> st.SearchStrategy[object]:
    values, entrez = _real_keys(name)
    known = st.sampled_from(values)
    rewritten = st.one_of(
        known.map(str.lower),
        known.map(lambda v: f"  {v} "),
        known.map(lambda v: f"{v}-1"),
        known.map(lambda v: f"{v}.7"),
        st.sampled_from(entrez).map(lambda v: f"GeneID:{v}"),
    )
    missing = st.one_of(
        st.text(alphabet="ACDEGKLMNPRSTXYZ0123456789-._", min_size=1, max_size=12),
        st.sampled_from(["", None, "ERCC-00002", "NOT_A_GENE_AT_ALL"]),
    )
    return st.one_of(known, known, rewritten, missing)


def _check(name: str, batch: list[object], which: int) -> None:
    queried, reference, targets = _snapshots(name)
    release, namespace, anchor, evidence = targets[which % len(targets)]
    kwargs = {"to": namespace, "release": release, "from_release": anchor, "min_evidence": evidence}
    got = its.convert(batch, snapshot=queried, **kwargs)
    expected = its.convert(batch, snapshot=reference, **kwargs)
    pd.testing.assert_frame_equal(got, expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(_query("homo_sapiens-default"), max_size=40), which=st.integers(0, 20))
def test_demo_batches_answer_as_the_full_build(batch, which):
    _check("homo_sapiens-default", batch, which)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(_query("homo_sapiens-114"), min_size=1, max_size=300))
def test_human_batches_answer_as_the_full_build(batch):
    _check("homo_sapiens-114", batch, 0)


def test_subsets_of_keys_resolve_as_in_the_full_build():
    """Any subset of the keys, resolved alone, gives the full build's rows of those keys."""
    snap = load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")
    keys = key_index(snap)
    full = resolve_keys(snap, None, 84, "symbol", 110, "low", keys.namespaces)
    at = np.sort(np.random.default_rng(0).choice(len(keys.all_codes()), size=500, replace=False))
    part = resolve_keys(snap, keys.all_codes()[at], 84, "symbol", 110, "low", keys.namespaces)
    assert part.keys.equals(full.keys.take(at))
    rows = np.append(at, full.missing)
    for column in ("n_targets", "reason", "breakable", "note", "query_namespace", "found_first", "retired_in"):
        np.testing.assert_array_equal(getattr(part, column), getattr(full, column)[rows])
    for column in ("targets", "top", "genes", "symbol", "lost"):
        assert getattr(part, column).equals(getattr(full, column).take(rows))


def test_nothing_is_written_to_the_cache(monkeypatch, tmp_path):
    """Answers come from the snapshot alone: no derived file to trust or to forge."""
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path))
    snap = load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")
    for to in ("ensembl_gene", "symbol", "entrez"):
        table = its.convert(["TP53", "ENSG00000139618.17", "2-Sep"], snapshot=snap, to=to)
        assert (table["outcome"] == "1:1").all()
    assert list(tmp_path.iterdir()) == []


def test_read_only_cache_still_answers(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(cache))
    try:
        snap = load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")
        table = its.convert(["TP53", "BRCA2"], snapshot=snap, to="symbol")
    finally:
        cache.chmod(0o700)
    assert table["target"].tolist() == ["TP53", "BRCA2"]


def test_stored_key_table_is_the_computed_one(tmp_path):
    """A snapshot written now stores its key table; it equals the one computed for older files."""
    old = load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")
    tables = {name: old.table(name) for name in ("genes", "events", "names", "features", "loci")}
    path = write_snapshot(tables, old.manifest, tmp_path / "homo_sapiens-rewritten.idtrack.zip")
    with zipfile.ZipFile(path) as zf:
        assert "keys.parquet" in zf.namelist()
    new = load_snapshot(path)
    assert _plain(new.key_table()).equals(_plain(old.key_table()))
    queries = ["TP53", "p53", "1-Mar", "ENSG00000141510.11", "GeneID:7157", "NOPE", None]
    pd.testing.assert_frame_equal(
        its.convert(queries, snapshot=new, to="symbol"),
        its.convert(queries, snapshot=old, to="symbol"),
    )


def _plain(table):
    """The table with dictionary columns decoded (a stored key table reads its few-valued columns so)."""
    import pyarrow as pa

    return pa.table(
        {
            c: table[c].cast(table[c].type.value_type) if pa.types.is_dictionary(table[c].type) else table[c]
            for c in table.column_names
        }
    )


def test_unsorted_stored_key_table_is_refused(tmp_path, monkeypatch):
    """A key table out of key order (hand-edited) would make keys unfindable: the file is refused."""
    import idtrack_sc.snapshot._io as snapshot_io

    real = snapshot_io.build_key_table
    monkeypatch.setattr(snapshot_io, "build_key_table", lambda t: real(t).take(np.arange(real(t).num_rows)[::-1]))
    old = load_snapshot(PACKAGE_DATA / "homo_sapiens-default.idtrack.zip")
    tables = {name: old.table(name) for name in ("genes", "events", "names", "features", "loci")}
    forged = write_snapshot(tables, old.manifest, tmp_path / "forged.idtrack.zip")
    with pytest.raises(SnapshotFormatError, match="not sorted by key"):
        its.convert(["TP53"], snapshot=load_snapshot(forged))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(_query("homo_sapiens-default"), max_size=60))
def test_key_scan_and_hash_table_find_the_same_keys(batch):
    """The first batches of a session scan the key column, later ones probe a hash table: same codes."""
    keys = key_index(_snapshots("homo_sapiens-default")[0])
    values = np.array([str(q).strip().upper() for q in batch if q], dtype=object)
    scanned = keys._scan(values) if len(values) else np.zeros(0, dtype=np.int64)
    probed = keys._probe(keys._hash_table(), values) if len(values) else np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(scanned, probed)
    found = scanned >= 0
    assert (keys.key_strings(scanned[found]) == values[found]).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(_query("homo_sapiens-default"), max_size=60))
def test_exact_symbols_read_from_their_rows_only(batch):
    """Whether a value is a symbol as written is read from the names rows of the batch's values only."""
    from idtrack_sc.resolve._index import exact_names, is_exact_symbol

    snap = _snapshots("homo_sapiens-default")[0]
    values = np.array([str(q).strip() for q in batch if q], dtype=object)
    np.testing.assert_array_equal(is_exact_symbol(snap, values), exact_names(snap).get_indexer(values) >= 0)
