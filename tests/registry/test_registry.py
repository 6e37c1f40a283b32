from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pooch
import pytest

import idtrack_sc as its
from idtrack_sc._cache import download_marker
from idtrack_sc.registry import (
    DEFAULT_BASE_URL,
    REGISTRY_FILE,
    SnapshotChecksumError,
    SnapshotDownloadError,
    _registry,
    fetch_snapshot,
    list_snapshots,
    load_registry,
    read_registry,
    registry_line,
    select_entry,
)
from idtrack_sc.snapshot import file_sha256, load_snapshot

HUMAN_114 = "homo_sapiens-114.idtrack.zip"

# most tests register small test files under the shipped snapshot's name, on purpose
pytestmark = pytest.mark.filterwarnings("ignore:The snapshot registry .* replaces the snapshot:UserWarning")
HUMAN_110 = "homo_sapiens-110.idtrack.zip"
MOUSE_114 = "mus_musculus-114.idtrack.zip"
DEFAULT = "homo_sapiens-default.idtrack.zip"


def _files(folder: Path) -> list[str]:
    """Everything in a folder, hidden and temporary files included."""
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def human_registry(published, server, write_registry):
    """A registry with human 110 and 114 served by the local server."""
    entries = []
    for name in (HUMAN_110, HUMAN_114):
        url = server.serve(f"/snapshots/{name}", published[name])
        entries.append((name, file_sha256(published[name]), url))
    return write_registry(entries)


def _no_network(monkeypatch):
    """Make any attempt to download fail loudly."""

    def refuse(*args, **kwargs):
        msg = "network touched"
        raise AssertionError(msg)

    monkeypatch.setattr(pooch, "create", refuse)
    monkeypatch.setattr(pooch.downloaders, "choose_downloader", refuse)


# -- registry files -------------------------------------------------------------------------------
def test_package_registry_is_valid():
    entries = read_registry(REGISTRY_FILE)
    assert DEFAULT in entries
    for entry in entries.values():
        assert len(entry.sha256) == 64
        assert entry.url.startswith(DEFAULT_BASE_URL)
        assert entry.url.endswith(entry.file)
    assert entries[DEFAULT].organism == "homo_sapiens"
    assert entries[DEFAULT].tag == "default"
    assert entries[DEFAULT].release is None


def test_package_registry_matches_embedded_snapshot():
    data = Path(its.__file__).parent / "data"
    embedded = list(data.glob("*.idtrack.zip")) if data.is_dir() else []
    if not embedded:
        pytest.skip("no snapshot embedded in the package yet")
    entries = read_registry(REGISTRY_FILE)
    for path in embedded:
        assert path.name in entries, f"{path.name} is embedded but not in registry.txt"
        assert entries[path.name].sha256 == file_sha256(path), f"update the checksum of {path.name} in registry.txt"


def test_read_registry_defaults_and_local_paths(tmp_path, published):
    (tmp_path / "snaps").mkdir()
    reg = tmp_path / "reg.txt"
    sha = "ab" * 32
    reg.write_text(
        "# comment\n\n"
        f"{HUMAN_114} sha256:{sha}\n"
        f"{HUMAN_110} {sha.upper()} snaps/{HUMAN_110}\n"
        f"{MOUSE_114} sha256:{sha} https://example.org/x/{MOUSE_114}\n"
    )
    entries = read_registry(reg)
    assert list(entries) == [HUMAN_114, HUMAN_110, MOUSE_114]
    assert entries[HUMAN_114].url == DEFAULT_BASE_URL + HUMAN_114
    assert entries[HUMAN_110].url == (tmp_path / "snaps" / HUMAN_110).resolve().as_uri()
    assert entries[HUMAN_110].sha256 == sha
    assert entries[MOUSE_114].url == f"https://example.org/x/{MOUSE_114}"
    assert entries[MOUSE_114].organism == "mus_musculus"


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (f"human.zip sha256:{'a' * 64}", "does not look like"),
        (f"{HUMAN_114} md5:{'a' * 32}", "must be 'sha256:'"),
        (f"{HUMAN_114} sha256:xyz", "must be 'sha256:'"),
        (f"{HUMAN_114} sha256:{'a' * 64} http://a b", "expected '<file> sha256"),
        (f"{HUMAN_114}", "expected '<file> sha256"),
    ],
)
def test_read_registry_rejects_bad_lines(tmp_path, line, match):
    reg = tmp_path / "reg.txt"
    reg.write_text(f"# header\n{line}\n")
    with pytest.raises(ValueError, match=match) as info:
        read_registry(reg)
    assert "line 2" in str(info.value)


def test_read_registry_rejects_duplicates(tmp_path):
    reg = tmp_path / "reg.txt"
    reg.write_text(f"{HUMAN_114} sha256:{'a' * 64}\n{HUMAN_114} sha256:{'b' * 64}\n")
    with pytest.raises(ValueError, match="listed twice"):
        read_registry(reg)


def test_missing_registry_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_registry(tmp_path / "nope.txt")


def test_own_registry_adds_and_overrides(write_registry, monkeypatch):
    own = write_registry([(HUMAN_114, "c" * 64, "https://example.org/h.zip"), (MOUSE_114, "d" * 64, None)])
    entries = load_registry(own)
    assert entries[HUMAN_114].sha256 == "c" * 64
    assert entries[HUMAN_114].registry == str(own)
    assert MOUSE_114 in entries
    # the environment variable does the same; the argument is applied after it
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(own))
    assert load_registry()[HUMAN_114].sha256 == "c" * 64
    later = write_registry([(HUMAN_114, "e" * 64, None)])
    assert load_registry(later)[HUMAN_114].sha256 == "e" * 64


# -- selection ------------------------------------------------------------------------------------
@pytest.mark.parametrize("organism", ["human", "Homo sapiens", "homo_sapiens", 9606, "HUMAN"])
def test_select_newest_release_by_alias(human_registry, organism):
    entry = select_entry(organism, registry=human_registry)
    assert entry.file == HUMAN_114
    assert select_entry(organism, 110, registry=human_registry).file == HUMAN_110
    assert select_entry(organism, "110", registry=human_registry).file == HUMAN_110


def test_unknown_organism_lists_registry(human_registry):
    with pytest.raises(ValueError, match=r"homo_sapiens: default, 110, 114") as info:
        fetch_snapshot("chicken", registry=human_registry)
    assert "'chicken'" in str(info.value)
    with pytest.raises(ValueError, match="homo_sapiens: default, 110, 114"):
        fetch_snapshot("no-such-beast", registry=human_registry)


def test_unknown_release_lists_releases(human_registry):
    with pytest.raises(ValueError, match=r"release 99 .* it has default, 110, 114"):
        fetch_snapshot("human", 99, registry=human_registry)
    with pytest.raises(ValueError, match=r"release 'latest' .* it has default, 110, 114"):
        fetch_snapshot("human", "latest", registry=human_registry)
    with pytest.raises(ValueError, match="Ensembl release number or a snapshot variant"):
        fetch_snapshot("human", "../etc", registry=human_registry)


def test_named_variant_is_never_the_newest_release(published, write_registry):
    assert select_entry("human", "default").file == DEFAULT
    assert select_entry("human", "DEFAULT").file == DEFAULT
    # the package's newest numbered human snapshot, never the demo subset
    assert select_entry("human").release is not None
    only_named = write_registry([("gallus_gallus-demo.idtrack.zip", file_sha256(published[HUMAN_110]), None)])
    with pytest.raises(ValueError, match="no numbered release of gallus_gallus, only demo; ask for release 'demo'"):
        select_entry("chicken", registry=only_named)
    reg = write_registry([(HUMAN_110, file_sha256(published[HUMAN_110]), None)])
    assert select_entry("human", 110, registry=reg).file == HUMAN_110


# -- fetching -------------------------------------------------------------------------------------
def test_fetch_downloads_then_uses_cache_without_network(human_registry, server, isolated, published, monkeypatch):
    snap = fetch_snapshot("human", registry=human_registry, progressbar=False)
    assert isinstance(snap, its.Snapshot)
    assert snap.path == isolated / HUMAN_114
    assert snap.releases == (104, 110, 114)
    assert snap.sha256 == file_sha256(published[HUMAN_114])
    assert server.hits == [f"/snapshots/{HUMAN_114}"]
    assert _files(isolated) == [HUMAN_114]

    server.stop()
    _no_network(monkeypatch)
    again = fetch_snapshot("human", 114, registry=human_registry, progressbar=False)
    assert again.path == snap.path
    assert again.genes.shape == snap.genes.shape
    assert server.hits == [f"/snapshots/{HUMAN_114}"]


def test_fetch_specific_release(human_registry, isolated):
    snap = fetch_snapshot("human", 110, registry=human_registry, progressbar=False)
    assert snap.releases == (104, 110)
    assert snap.path == isolated / HUMAN_110


def test_cache_dir_argument_beats_environment(human_registry, tmp_path, isolated):
    snap = fetch_snapshot("human", registry=human_registry, cache_dir=tmp_path / "mine", progressbar=False)
    assert snap.path == tmp_path / "mine" / HUMAN_114
    assert _files(isolated) == []


def test_checksum_mismatch_is_refused_and_not_cached(published, server, write_registry, isolated):
    url = server.serve(f"/bad/{HUMAN_114}", published[HUMAN_114], mode="wrong")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    with pytest.raises(SnapshotChecksumError) as info:
        fetch_snapshot("human", registry=reg, progressbar=False)
    msg = str(info.value)
    assert file_sha256(published[HUMAN_114]) in msg  # expected
    assert "got " in msg
    assert url in msg
    assert "retry" in msg
    assert len(server.hits) == 1 + _registry.RETRIES
    assert _files(isolated) == []


def test_interrupted_download_leaves_nothing(published, server, write_registry, isolated):
    url = server.serve(f"/drop/{HUMAN_114}", published[HUMAN_114], mode="drop")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    with pytest.raises(SnapshotDownloadError, match="Could not download") as info:
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert url in str(info.value)
    assert "Nothing was cached" in str(info.value)
    assert len(server.hits) == 1 + _registry.RETRIES
    assert _files(isolated) == []


def test_keyboard_interrupt_mid_download_leaves_nothing(human_registry, isolated, monkeypatch):
    def interrupted(self, url, output_file, pooch_obj):
        output_file.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(_registry._HTTPDownload, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch_snapshot("human", registry=human_registry, progressbar=False)
    assert _files(isolated) == []


def test_missing_file_on_server(published, server, write_registry, isolated):
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), server.url + "/missing.zip")])
    with pytest.raises(SnapshotDownloadError, match="404"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert _files(isolated) == []


def test_corrupted_cache_entry_is_replaced(human_registry, isolated, server):
    isolated.mkdir(parents=True)
    (isolated / HUMAN_114).write_bytes(b"damaged")
    snap = fetch_snapshot("human", registry=human_registry, progressbar=False)
    assert snap.releases == (104, 110, 114)
    assert len(server.hits) == 1


def test_corrupted_cache_entry_is_removed_even_if_download_fails(human_registry, isolated, server):
    isolated.mkdir(parents=True)
    (isolated / HUMAN_114).write_bytes(b"damaged")
    server.stop()
    with pytest.raises(SnapshotDownloadError):
        fetch_snapshot("human", registry=human_registry, progressbar=False)
    assert _files(isolated) == []


# -- mirrors and embedded data --------------------------------------------------------------------
def test_mirror_replaces_base_url_and_keeps_checksum(published, server, write_registry, isolated):
    dead = f"http://127.0.0.1:9/nowhere/{HUMAN_114}"
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), dead)])
    server.serve(f"/mirror/{HUMAN_114}", published[HUMAN_114])
    snap = fetch_snapshot("human", registry=reg, mirror=server.url + "/mirror", progressbar=False)
    assert snap.path == isolated / HUMAN_114
    assert server.hits == [f"/mirror/{HUMAN_114}"]


def test_mirror_from_environment_with_wrong_file(published, server, write_registry, isolated, monkeypatch):
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), None)])
    server.serve(f"/m/{HUMAN_114}", published[MOUSE_114])  # the mirror serves another file
    monkeypatch.setenv("IDTRACK_SC_MIRROR", server.url + "/m/")
    with pytest.raises(SnapshotChecksumError, match=f"{server.url}/m/{HUMAN_114}"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert _files(isolated) == []


def test_mirror_can_be_a_local_folder(published, write_registry, isolated, monkeypatch):
    reg = write_registry([(name, file_sha256(path), None) for name, path in published.items()])
    # files are copied by pooch with our file: downloader; no network downloader is chosen
    monkeypatch.setattr(pooch.downloaders, "choose_downloader", None)
    folder = next(iter(published.values())).parent
    snap = fetch_snapshot("mouse", registry=reg, mirror=folder, progressbar=False)
    assert snap.path == isolated / MOUSE_114
    assert snap.organism == "mus_musculus"
    with pytest.raises(SnapshotDownloadError, match="Cannot read"):
        fetch_snapshot("human", 114, registry=reg, mirror=folder / "empty", progressbar=False)
    assert _files(isolated) == [MOUSE_114]


def test_registry_with_local_paths(published, tmp_path, isolated):
    reg = tmp_path / "local.txt"
    reg.write_text(registry_line(published[MOUSE_114], url=str(published[MOUSE_114])) + "\n")
    snap = fetch_snapshot("mouse", registry=reg, progressbar=False)
    assert snap.path == isolated / MOUSE_114


def test_embedded_snapshot_needs_no_network(published, write_registry, tmp_path, monkeypatch, isolated):
    data = tmp_path / "data"
    data.mkdir()
    (data / HUMAN_114).write_bytes(published[HUMAN_114].read_bytes())
    monkeypatch.setattr(_registry, "PACKAGE_DATA", data)
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), None)])
    _no_network(monkeypatch)
    snap = fetch_snapshot("human", registry=reg, progressbar=False)
    assert snap.path == data / HUMAN_114
    assert _files(isolated) == []
    assert list_snapshots(reg).set_index("file").loc[HUMAN_114, "cached"]


def test_embedded_snapshot_with_other_checksum_is_not_used(published, server, write_registry, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / HUMAN_114).write_bytes(published[HUMAN_110].read_bytes())
    monkeypatch.setattr(_registry, "PACKAGE_DATA", data)
    url = server.serve(f"/{HUMAN_114}", published[HUMAN_114])
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    snap = fetch_snapshot("human", registry=reg, progressbar=False)
    assert snap.releases == (104, 110, 114)
    assert len(server.hits) == 1


# -- listing --------------------------------------------------------------------------------------
def test_list_snapshots(human_registry, published, isolated):
    table = list_snapshots(human_registry)
    assert list(table.columns) == [
        "organism",
        "release",
        "file",
        "sha256",
        "url",
        "size",
        "shipped",
        "cached",
        "releases",
        "sources",
    ]
    table = table[table["organism"] == "homo_sapiens"]
    assert isinstance(table, pd.DataFrame)
    ours = table[table["file"].isin([HUMAN_110, HUMAN_114])]
    assert ours["release"].tolist() == [110, 114]
    assert str(table["release"].dtype) == "Int64"
    assert table.set_index("file").loc[DEFAULT, "release"] is pd.NA
    assert table["cached"].dtype == bool
    # the user's registry replaced the shipped human 114 by another file, not cached yet
    assert not table.set_index("file")["cached"][[HUMAN_110, HUMAN_114]].any()
    assert table["file"].tolist() == [DEFAULT, HUMAN_110, HUMAN_114]  # variants, then releases ascending

    assert not table["shipped"].any()  # no embedded data here (the CLI test lists a shipped file)

    fetch_snapshot("human", 110, registry=human_registry, progressbar=False)
    listed = list_snapshots(human_registry).set_index("file")
    assert listed.loc[HUMAN_110, "cached"]
    assert not listed.loc[HUMAN_110, "shipped"]
    assert not listed.loc[HUMAN_114, "cached"]
    # what a snapshot available offline covers is read from its manifest; nothing for the others
    assert listed.loc[HUMAN_110, "releases"] == ",".join(str(r) for r in load_snapshot(published[HUMAN_110]).releases)
    assert listed.loc[HUMAN_114, "releases"] is None

    mirrored = list_snapshots(human_registry, mirror="https://mirror.example.org/idtrack")
    assert set(mirrored["url"]) == {f"https://mirror.example.org/idtrack/{f}" for f in mirrored["file"]}


def test_registry_line_round_trip(published, tmp_path):
    line = registry_line(published[HUMAN_110], url="https://example.org/h.zip")
    size = published[HUMAN_110].stat().st_size
    assert line == f"{HUMAN_110} sha256:{file_sha256(published[HUMAN_110])} https://example.org/h.zip size={size}"
    reg = tmp_path / "r.txt"
    reg.write_text(line + "\n")
    assert read_registry(reg)[HUMAN_110].sha256 == file_sha256(published[HUMAN_110])
    other = tmp_path / "snapshot.zip"
    other.write_bytes(b"x")
    with pytest.raises(ValueError, match="rename"):
        registry_line(other)


def test_top_level_export():
    assert its.fetch_snapshot is fetch_snapshot


def test_import_touches_no_network_library():
    code = "import sys, idtrack_sc.registry; import idtrack_sc; idtrack_sc.fetch_snapshot; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_default_snapshot_is_fetched_from_the_package(monkeypatch, isolated):
    real_data = Path(its.__file__).parent / "data"
    if not (real_data / DEFAULT).is_file():
        pytest.skip("no snapshot embedded in the package yet")
    monkeypatch.setattr(_registry, "PACKAGE_DATA", real_data)
    _no_network(monkeypatch)
    snap = fetch_snapshot("human", "default", progressbar=False)
    assert snap.path == real_data / DEFAULT
    assert _files(isolated) == []


# -- bounded downloads and a tidy cache -----------------------------------------------------------
def test_registry_size_field(published, tmp_path):
    sha = file_sha256(published[MOUSE_114])
    size = published[MOUSE_114].stat().st_size
    path = tmp_path / "sizes.txt"
    path.write_text(
        f"{MOUSE_114} sha256:{sha} https://example.org/m.zip?token=a=b size={size}\n{HUMAN_114} sha256:{sha} size=12\n"
    )
    entries = read_registry(path)
    assert entries[MOUSE_114].size == size
    assert entries[MOUSE_114].url == "https://example.org/m.zip?token=a=b"
    assert entries[HUMAN_114].size == 12
    assert entries[HUMAN_114].url == DEFAULT_BASE_URL + HUMAN_114
    for bad, match in (("size=-3", "positive integer"), ("size=0", "positive integer"), ("colour=red", "unknown")):
        path.write_text(f"{MOUSE_114} sha256:{sha} {bad}\n")
        with pytest.raises(ValueError, match=match):
            read_registry(path)
    line = registry_line(published[MOUSE_114], url="https://example.org/m.zip")
    assert line.endswith(f" https://example.org/m.zip size={size}")
    path.write_text(line + "\n")
    assert read_registry(path)[MOUSE_114].size == size


def test_endless_garbage_is_stopped_at_the_registry_size(published, server, write_registry, isolated):
    size = published[HUMAN_114].stat().st_size
    url = server.serve(f"/endless/{HUMAN_114}", b"", mode="endless")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url, size)])
    with pytest.raises(_registry.SnapshotSizeError, match=f"says the file has {size}"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    server.stop()  # waits for the handlers: every response has finished
    assert len(server.sent) == 1 + _registry.RETRIES
    # the client hung up right after `size` bytes; only what the sockets buffered was sent beyond
    assert max(server.sent) < 32 << 20
    assert _files(isolated) == []


def test_file_mirror_larger_than_registry_size(published, tmp_path, write_registry, isolated):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / HUMAN_114).write_bytes(published[HUMAN_114].read_bytes() + b"\0" * (4 << 20))
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), None, published[HUMAN_114].stat().st_size)])
    with pytest.raises(_registry.SnapshotSizeError, match="was stopped after"):
        fetch_snapshot("human", registry=reg, mirror=mirror, progressbar=False)
    assert _files(isolated) == []


def test_shorter_download_than_registry_size(published, server, write_registry, isolated):
    url = server.serve(f"/short/{HUMAN_114}", published[HUMAN_114])
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url, published[HUMAN_114].stat().st_size + 1)])
    with pytest.raises(_registry.SnapshotSizeError, match="registry entry"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert _files(isolated) == []


def test_right_size_downloads(published, server, write_registry, isolated):
    url = server.serve(f"/ok/{HUMAN_114}", published[HUMAN_114])
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url, published[HUMAN_114].stat().st_size)])
    assert fetch_snapshot("human", registry=reg, progressbar=False).releases == (104, 110, 114)
    assert _files(isolated) == [HUMAN_114]


def test_temporaries_of_killed_downloads_are_cleaned(human_registry, isolated):
    isolated.mkdir(parents=True)
    stale = isolated / "tmpk1ll3d_x"  # pooch's temporary of a download killed long ago
    running = isolated / "tmpstill_rn"  # another process's download, still being written
    mine = isolated / "tmp-notes.txt"  # not a name pooch or idtrack-sc uses
    users = isolated / "tmpk1ll3d_y"  # a name pooch could use, but no download of the package's
    for f in (stale, running, mine, users, download_marker(stale), download_marker(running)):
        f.write_bytes(b"PK\x03\x04 half a file")
    old = time.time() - 2 * 3600
    for f in (stale, mine, users, download_marker(stale), download_marker(running)):
        os.utime(f, (old, old))
    fetch_snapshot("human", registry=human_registry, progressbar=False)
    running_marker = download_marker(running).name
    assert _files(isolated) == sorted([HUMAN_114, running.name, running_marker, mine.name, users.name])
    assert not download_marker(stale).exists()


def test_a_download_marks_its_temporary_while_it_runs(human_registry, isolated, monkeypatch):
    seen = []
    real = _registry._CheckedDownload._download

    def watching(self, url, output_file, pooch_obj):
        seen.append(download_marker(output_file).exists())
        return real(self, url, output_file, pooch_obj)

    monkeypatch.setattr(_registry._CheckedDownload, "_download", watching)
    fetch_snapshot("human", registry=human_registry, progressbar=False)
    assert seen == [True]
    assert _files(isolated) == [HUMAN_114]  # no temporary, no marker left


def test_endless_garbage_without_registry_size_is_stopped_at_the_cap(
    published, server, write_registry, isolated, monkeypatch
):
    """An entry without size= (a 186 KB file could download 450 MiB) is bounded by MAX_DOWNLOAD_BYTES."""
    monkeypatch.setattr(_registry, "MAX_DOWNLOAD_BYTES", 4 << 20)
    url = server.serve(f"/endless/{HUMAN_114}", b"", mode="endless")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    with pytest.raises(
        _registry.SnapshotSizeError, match=r"gives no size=, and a snapshot download may be at most 4194304"
    ):
        fetch_snapshot("human", registry=reg, progressbar=False)
    server.stop()
    assert len(server.sent) == 1 + _registry.RETRIES
    assert max(server.sent) < 32 << 20
    assert _files(isolated) == []


def test_trickling_server_is_given_up_at_the_deadline(published, server, write_registry, isolated, monkeypatch):
    """A byte every 0.2 s never trips a read timeout; the deadline for the whole fetch ends it."""
    monkeypatch.setattr(_registry, "DOWNLOAD_DEADLINE", 1)
    url = server.serve(f"/trickle/{HUMAN_114}", b"", mode="trickle")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    with pytest.raises(SnapshotDownloadError, match=r"took more than 1 s \(DOWNLOAD_DEADLINE\)"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert _files(isolated) == []


def test_silent_server_is_timed_out(published, server, write_registry, isolated, monkeypatch):
    monkeypatch.setattr(_registry, "READ_TIMEOUT", 0.5)
    url = server.serve(f"/stall/{HUMAN_114}", b"", mode="stall")
    reg = write_registry([(HUMAN_114, file_sha256(published[HUMAN_114]), url)])
    with pytest.raises(SnapshotDownloadError, match=r"(?i)read timed out"):
        fetch_snapshot("human", registry=reg, progressbar=False)
    assert len(server.hits) == 1 + _registry.RETRIES
    assert _files(isolated) == []


def _shipped_sha(name: str) -> str:
    return read_registry(_registry.REGISTRY_FILE)[name].sha256


def test_user_registry_shadowing_a_shipped_snapshot_warns_with_both_checksums(
    published, write_registry, monkeypatch, isolated
):
    shipped = _shipped_sha(HUMAN_114)
    mine = file_sha256(published[HUMAN_114])
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(write_registry([(HUMAN_114, mine, str(published[HUMAN_114]))])))
    with pytest.warns(
        UserWarning, match=rf"replaces the snapshot {HUMAN_114} shipped .*sha256:{shipped}.*sha256:{mine}"
    ):
        snap = fetch_snapshot("human", progressbar=False)
    assert snap.sha256 == mine


@pytest.mark.filterwarnings("error")
def test_snapshot_pinned_by_checksum_either_shipped_or_shadowing(published, write_registry, monkeypatch, isolated):
    """``snapshot="sha256:<hex>"`` picks the shipped file even though a user registry replaces it, or the user's.

    A pin is explicit: it does not warn.
    """
    monkeypatch.setattr(_registry, "PACKAGE_DATA", Path(_registry.__file__).parents[1] / "data")
    shipped = _shipped_sha(HUMAN_114)
    mine = file_sha256(published[HUMAN_114])
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(write_registry([(HUMAN_114, mine, str(published[HUMAN_114]))])))
    assert its.registry.resolve_snapshot(f"sha256:{shipped}").sha256 == shipped
    assert its.registry.resolve_snapshot(f"sha256:{mine}").releases == (104, 110, 114)
    assert its.convert(["TP53"], snapshot=f"sha256:{shipped}")["target"].tolist() == ["ENSG00000141510"]
    with pytest.raises(ValueError, match="No registry entry has sha256:0000"):
        its.registry.resolve_snapshot("sha256:" + "0" * 64)


def test_missing_registry_in_environment_warns_and_shipped_snapshots_still_work(tmp_path, monkeypatch, isolated):
    monkeypatch.setattr(_registry, "PACKAGE_DATA", Path(_registry.__file__).parents[1] / "data")
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(tmp_path / "gone.txt"))
    with pytest.warns(
        UserWarning, match=r"IDTRACK_SC_REGISTRY names the snapshot registry .*gone.txt, which does not exist"
    ):
        snap = fetch_snapshot("human", progressbar=False)
    assert snap.sha256 == _shipped_sha(HUMAN_114)
