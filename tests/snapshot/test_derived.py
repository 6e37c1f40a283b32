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


def test_forged_spellings_refused(written, tmp_path):
    """A spellings table naming a symbol written one way only would make a tie out of nothing."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from idtrack_sc.snapshot import SnapshotFormatError

    _, path = written
    table = its.load_snapshot(path).spellings()
    forged = pa.concat_tables(
        [
            table,
            pa.table(
                {
                    "value": ["TP53"],
                    "gene_id": ["ENSG00000141510"],
                    "kind": ["alias"],
                    "last_release": pa.array([None], pa.int32()),
                },
                schema=table.schema,
            ),
        ]
    )
    sink = io.BytesIO()
    pq.write_table(forged, sink)
    out = tmp_path / "forged.idtrack.zip"
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(out, "w") as new:
        for info in zf.infolist():
            data = sink.getvalue() if info.filename == "spellings.parquet" else zf.read(info)
            if info.filename == "manifest.json":
                import json

                manifest = json.loads(data)
                manifest.pop("tables")
                data = json.dumps(manifest).encode()
            new.writestr(info.filename, data)
    with pytest.raises(SnapshotFormatError, match=r"spellings lists \['TP53'\] written in one way only"):
        its.convert(["TP53"], snapshot=its.load_snapshot(out))
