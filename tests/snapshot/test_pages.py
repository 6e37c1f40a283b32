"""Text columns written PLAIN are read as they are, bounded by their pages; anything else is read dictionary-encoded."""

from __future__ import annotations

import io
import types
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import idtrack_sc as its
from idtrack_sc.datasets import default_snapshot_path
from idtrack_sc.snapshot import SnapshotFormatError, write_snapshot
from idtrack_sc.snapshot._pages import plain_text_bytes


def _parquet(table: pa.Table, **options) -> tuple[bytes, pq.FileMetaData]:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", **options)
    data = sink.getvalue()
    return data, pq.ParquetFile(pa.BufferReader(data)).metadata


def _ids(n: int) -> pa.Table:
    return pa.table(
        {"gene_id": pa.array([f"ENSG{i:011d}" for i in range(n)]), "kind": pa.array(["id", None] * (n // 2))}
    )


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_plain_pages_bound_what_the_column_decodes_to(version):
    table = _ids(50_000)
    data, meta = _parquet(table, use_dictionary=False, data_page_size=1 << 14, data_page_version=version)
    assert meta.row_group(0).column(0).total_compressed_size < 1 << 20  # several pages
    for at, name in enumerate(table.column_names):
        bound = plain_text_bytes(data, meta.row_group(0).column(at))
        column = table[name].combine_chunks()
        # every value's bytes (and a length each) are in the pages the bound sums
        assert bound >= column.buffers()[2].size
        assert bound <= meta.row_group(0).column(at).total_uncompressed_size


def test_dictionary_pages_are_not_plain():
    data, meta = _parquet(_ids(50_000), use_dictionary=True)
    assert [plain_text_bytes(data, meta.row_group(0).column(i)) for i in range(2)] == [None, None]


def test_metadata_hiding_a_dictionary_page_is_not_believed():
    """The pages decide, not the metadata: a chunk whose first page is a dictionary page is no plain column."""
    one_long_value = pa.table({"gene_id": pa.array(["ENSG" + "0" * 5_000] * 20_000)})
    data, meta = _parquet(one_long_value, use_dictionary=True)
    real = meta.row_group(0).column(0)
    assert real.has_dictionary_page
    forged = types.SimpleNamespace(
        has_dictionary_page=False,
        dictionary_page_offset=None,
        data_page_offset=real.dictionary_page_offset,
        total_compressed_size=real.total_compressed_size,
        num_values=real.num_values,
    )
    assert plain_text_bytes(data, forged) is None


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.99])
def test_truncated_or_damaged_pages_are_not_plain(cut):
    data, meta = _parquet(_ids(20_000), use_dictionary=False)
    chunk = meta.row_group(0).column(0)
    short = data[: int(chunk.data_page_offset + cut * chunk.total_compressed_size)]
    assert plain_text_bytes(short, chunk) is None
    garbage = bytearray(data)
    garbage[chunk.data_page_offset : chunk.data_page_offset + 8] = b"\xff" * 8
    assert plain_text_bytes(bytes(garbage), chunk) is None


def test_written_snapshot_stores_distinct_text_plain_and_reads_the_same_tables(tmp_path):
    """Keys and names are written PLAIN, few-valued columns dictionary-encoded; the tables read back unchanged."""
    snap, tables, path = _rewritten(tmp_path)
    with zipfile.ZipFile(path) as zf:
        data = zf.read("keys.parquet")
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    encoded = {
        meta.schema.column(i).path: plain_text_bytes(data, meta.row_group(0).column(i)) for i in range(meta.num_columns)
    }
    assert encoded["key"] is not None  # distinct values: PLAIN
    assert encoded["namespace"] is None  # a handful of values: a dictionary
    again = its.load_snapshot(path)
    for name in tables:
        assert again.arrow(name).equals(snap.arrow(name)), name
    assert again.key_table().cast(snap.key_table().schema).equals(snap.key_table())


def _rewritten(tmp_path):
    snap = its.load_snapshot(default_snapshot_path())
    tables = {name: snap.table(name) for name in ("genes", "events", "names", "features", "loci")}
    manifest = {k: v for k, v in snap.manifest.items() if k != "tables"}
    return snap, tables, write_snapshot(tables, manifest, tmp_path / "x.idtrack.zip")


def test_plain_column_too_large_for_its_member_refused(tmp_path, monkeypatch):
    """A PLAIN column counts what its pages hold toward the decoded-size limit, before it is read."""
    from idtrack_sc.snapshot import _io

    _, _, path = _rewritten(tmp_path)
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo("keys.parquet").file_size
        data = zf.read("keys.parquet")
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    plain = _io._plain_text(data, meta, _io._text(meta))
    assert "key" in plain
    # a limit just below what the rows, widths and the plain pages add up to: refused unread
    rows = meta.num_rows
    widths = 4 + 4
    at_least = rows * (widths + 20 * len(_io._text(meta))) + sum(plain.values())
    monkeypatch.setattr(_io, "MAX_DECODED_RATIO", 1)
    monkeypatch.setattr(_io, "_DECODED_SLACK", at_least - size - 1)
    reads = []
    real = pq.ParquetFile.read
    monkeypatch.setattr(pq.ParquetFile, "read", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    with pytest.raises(SnapshotFormatError, match="would decode from"):
        its.load_snapshot(path).key_table()
    assert reads == []
