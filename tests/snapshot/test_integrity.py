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
