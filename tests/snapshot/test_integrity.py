"""A snapshot file is checked against its own manifest and the schema before it is trusted."""

from __future__ import annotations

import json
import zipfile

import pytest

import idtrack_sc as its
from idtrack_sc.datasets import default_snapshot_path
from idtrack_sc.snapshot import SnapshotFormatError, write_snapshot


def _members(path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def rewrite(tmp_path, *, manifest=None, members=None, compress=None, name="edited.idtrack.zip"):
    """Write a copy of the default snapshot with a changed manifest and/or member list."""
    entries = members if members is not None else _members(default_snapshot_path())
    out = tmp_path / name
    with zipfile.ZipFile(out, "w") as zf:
        for member, original in entries:
            data = original
            if member == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(original))).encode()
            zf.writestr(zipfile.ZipInfo(member), data, compress_type=(compress or {}).get(member, zipfile.ZIP_STORED))
    return out


def test_default_snapshot_passes():
    snap = its.load_snapshot(default_snapshot_path())
    assert snap.genes.shape[0] > 0
    assert snap.names.shape[0] > 0


def test_manifest_release_the_tables_do_not_hold(tmp_path):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "releases": [*m["releases"], 120]})
    snap = its.load_snapshot(path)
    with pytest.raises(SnapshotFormatError, match=r"lists releases \[120\], but no gene exists"):
        its.convert(["TP53"], snapshot=snap, release=120)


def test_manifest_missing_a_release_the_tables_use(tmp_path):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "releases": [r for r in m["releases"] if r != 100]})
    with pytest.raises(SnapshotFormatError, match=r"releases .* do not list"):
        its.convert(["TP53"], snapshot=its.load_snapshot(path))


@pytest.mark.parametrize(
    ("releases", "match"),
    [
        (["abc"], "must be a non-empty list"),
        ([114.0], "must be a non-empty list"),
        ([], "non-empty"),
        ([114, 114], "more than once"),
        ("114", "non-empty list"),
        ([True], "non-empty"),
    ],
)
def test_manifest_releases_must_be_integers(tmp_path, releases, match):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "releases": releases})
    with pytest.raises(SnapshotFormatError, match=match):
        its.load_snapshot(path)


@pytest.mark.parametrize("version", [0, -1, 1.0, "1", True, None, 1.5])
def test_schema_version_checked_strictly(tmp_path, version):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "schema_version": version})
    with pytest.raises(SnapshotFormatError, match="schema_version must be an integer"):
        its.load_snapshot(path)


def test_newer_schema_asks_for_an_upgrade(tmp_path):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "schema_version": 99})
    with pytest.raises(SnapshotFormatError, match="Upgrade idtrack-sc"):
        its.load_snapshot(path)


def test_duplicate_member_refused(tmp_path):
    members = _members(default_snapshot_path())
    genes = next(m for m in members if m[0] == "genes.parquet")
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = rewrite(tmp_path, members=[*members, genes])
    with pytest.raises(SnapshotFormatError, match=r"\['genes.parquet'\] appear more than once"):
        its.load_snapshot(path)


def test_extra_or_missing_member_refused(tmp_path):
    members = _members(default_snapshot_path())
    path = rewrite(tmp_path, members=[*members, ("notes.txt", b"hello")])
    with pytest.raises(SnapshotFormatError, match=r"unexpected ZIP members \['notes.txt'\]"):
        its.load_snapshot(path)
    path = rewrite(tmp_path, members=[m for m in members if m[0] != "events.parquet"], name="missing.idtrack.zip")
    with pytest.raises(SnapshotFormatError, match=r"\['events.parquet'\] are missing"):
        its.load_snapshot(path)


def test_decompression_bomb_refused_before_reading(tmp_path, monkeypatch):
    """A 64 MiB member that deflates to 64 kB is refused from its header, without inflating it."""
    members = [m for m in _members(default_snapshot_path()) if m[0] != "genes.parquet"]
    members.append(("genes.parquet", b"\0" * (64 << 20)))
    path = rewrite(
        tmp_path,
        members=members,
        compress={"genes.parquet": zipfile.ZIP_DEFLATED},
        manifest=lambda m: {k: v for k, v in m.items() if k != "tables"},
    )
    assert path.stat().st_size < 1 << 20
    snap = its.load_snapshot(path)
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, pwd=None: read.append(name))
    with pytest.raises(SnapshotFormatError, match="would expand from .* more than 16 times"):
        snap.arrow("genes")
    assert read == []


def test_member_size_must_match_the_manifest(tmp_path):
    path = rewrite(
        tmp_path, manifest=lambda m: {**m, "tables": {**m.get("tables", {}), "genes": {"bytes": 10, "rows": 1}}}
    )
    with pytest.raises(SnapshotFormatError, match="the manifest declares 10"):
        its.load_snapshot(path).arrow("genes")


def test_written_snapshot_declares_its_tables(tmp_path):
    snap = its.load_snapshot(default_snapshot_path())
    tables = {name: snap.table(name) for name in ("genes", "events", "names", "features")}
    out = write_snapshot(tables, snap.manifest, tmp_path / "again.idtrack.zip")
    again = its.load_snapshot(out)
    assert again.manifest["tables"]["genes"]["rows"] == len(tables["genes"])
    with zipfile.ZipFile(out) as zf:
        assert again.manifest["tables"]["names"]["bytes"] == zf.getinfo("names.parquet").file_size
    assert again.genes.equals(snap.genes)


def test_truncated_file(tmp_path):
    data = default_snapshot_path().read_bytes()
    path = tmp_path / "cut.idtrack.zip"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SnapshotFormatError, match="not a ZIP archive, or truncated"):
        its.load_snapshot(path)


def test_declared_size_is_no_bound_on_a_deflated_member(tmp_path, monkeypatch):
    """A manifest that declares the bomb's size (it comes from the same file) does not skip the ratio check."""
    members = [m for m in _members(default_snapshot_path()) if m[0] != "genes.parquet"]
    members.append(("genes.parquet", b"\0" * (64 << 20)))

    def declare(m):
        return {**m, "tables": {**m["tables"], "genes": {"bytes": 64 << 20, "rows": 1}}}

    path = rewrite(tmp_path, members=members, compress={"genes.parquet": zipfile.ZIP_DEFLATED}, manifest=declare)
    snap = its.load_snapshot(path)
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda self, name, pwd=None: read.append(name))
    with pytest.raises(SnapshotFormatError, match="would expand from .* more than 16 times"):
        snap.arrow("genes")
    assert read == []


def _genes_member(tmp_path, table) -> object:
    """The default snapshot with ``genes.parquet`` replaced by ``table`` (dictionary-encoded, zstd)."""
    import io

    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=True, row_group_size=1 << 20)
    members = [m for m in _members(default_snapshot_path()) if m[0] != "genes.parquet"]
    members.append(("genes.parquet", sink.getvalue()))
    return rewrite(tmp_path, members=members, manifest=lambda m: {k: v for k, v in m.items() if k != "tables"})


def _genes(rows: int, gene_id: str, releases=(84, 114)):
    import pyarrow as pa

    from idtrack_sc.snapshot._schema import GENES

    return pa.table(
        {
            "gene_id": pa.array([gene_id] * rows, pa.string()),
            "version": pa.array([1] * rows, pa.int32()),
            "first_release": pa.array([releases[0]] * rows, pa.int32()),
            "last_release": pa.array([releases[1]] * rows, pa.int32()),
            "biotype": pa.array(["protein_coding"] * rows, pa.string()),
            "source": pa.array(["gtf"] * rows, pa.string()),
        },
        schema=GENES,
    )


def test_parquet_rows_bounded_from_metadata_before_reading(tmp_path, monkeypatch):
    """Millions of identical rows encode into a few kB: refused from the row count, nothing decoded."""
    import pyarrow.parquet as pq

    path = _genes_member(tmp_path, _genes(3_000_000, "ENSG00000141510"))
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("genes.parquet").file_size < 200_000
    snap = its.load_snapshot(path)
    reads = []
    real = pq.ParquetFile.read
    monkeypatch.setattr(pq.ParquetFile, "read", lambda self, *a, **k: reads.append(1) or real(self, *a, **k))
    with pytest.raises(SnapshotFormatError, match="would decode from .* more than 128 times"):
        snap.arrow("genes")
    assert reads == []


def test_parquet_text_bounded_before_it_is_expanded(tmp_path):
    """Few rows, one long value repeated: its decoded length is summed from the dictionary first."""
    path = _genes_member(tmp_path, _genes(200_000, "ENSG" + "0" * 1000))
    snap = its.load_snapshot(path)
    with pytest.raises(SnapshotFormatError, match="would decode from .* more than 128 times"):
        its.convert(["TP53"], snapshot=snap)


def test_deeply_nested_manifest_is_a_format_error(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    members = [
        (n, deep.encode()[:0] + b'{"format": "idtrack-sc snapshot", "x": ' + deep.encode() + b"}")
        if n == "manifest.json"
        else (n, d)
        for n, d in _members(default_snapshot_path())
    ]
    path = rewrite(tmp_path, members=members)
    with pytest.raises(SnapshotFormatError, match="nested more than"):
        its.load_snapshot(path)
    path = rewrite(
        tmp_path, manifest=lambda m: {**m, "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
    )
    with pytest.raises(SnapshotFormatError, match="nested more than 32"):
        its.load_snapshot(path)


def _with_table(tmp_path, name, edit):
    """The default snapshot with table ``name`` replaced by ``edit(table)`` (manifest sizes dropped)."""
    import io

    import pyarrow.parquet as pq

    table = its.load_snapshot(default_snapshot_path()).arrow(name)
    sink = io.BytesIO()
    pq.write_table(edit(table), sink)
    members = [(n, sink.getvalue() if n == f"{name}.parquet" else d) for n, d in _members(default_snapshot_path())]
    return rewrite(tmp_path, members=members, manifest=lambda m: {k: v for k, v in m.items() if k != "tables"})


def test_empty_genes_table_refused(tmp_path):
    path = _with_table(tmp_path, "genes", lambda t: t.slice(0, 0))
    with pytest.raises(SnapshotFormatError, match="table genes is empty"):
        its.convert(["ENSG00000141510"], snapshot=its.load_snapshot(path))


def test_empty_table_declared_in_the_manifest_refused(tmp_path):
    path = rewrite(tmp_path, manifest=lambda m: {**m, "tables": {**m["tables"], "names": {"bytes": 1, "rows": 0}}})
    with pytest.raises(SnapshotFormatError, match=r"declares table\(s\) \['names'\] empty"):
        its.load_snapshot(path)


def test_two_primary_symbols_for_one_gene_at_one_release_refused(tmp_path):
    """One added row would make TP53 answer to another symbol at 114."""
    import pyarrow as pa

    def forge(table):
        row = {
            "gene_id": ["ENSG00000141510"],
            "namespace": ["symbol"],
            "value": ["EVILSYM"],
            "kind": ["primary"],
            "first_release": [114],
            "last_release": [114],
            "source": ["gtf"],
        }
        return pa.concat_tables([table, pa.table(row, schema=table.schema)])

    path = _with_table(tmp_path, "names", forge)
    with pytest.raises(SnapshotFormatError, match=r"ENSG00000141510 has 2 primary symbol names at release 114"):
        its.convert(["TP53"], snapshot=its.load_snapshot(path), to="symbol")
