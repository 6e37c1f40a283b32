"""Files written for later reading appear complete or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from idtrack_sc._atomic import write_atomically
from idtrack_sc._cache import clean_stale_temporaries, download_marker


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "index.arrow"
    write_atomically(target, lambda fh: fh.write(b"first"))
    assert target.read_bytes() == b"first"

    def fails(fh):
        fh.write(b"half of the new cont")
        msg = "disk full"
        raise OSError(msg)

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fails)
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.arrow"]


def test_the_file_gets_the_permissions_of_the_umask_and_temporaries_are_known(tmp_path):
    old = os.umask(0o027)
    try:
        target = write_atomically(tmp_path / "snap.idtrack.zip", lambda fh: fh.write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    # a temporary left by a killed writer has the name the cache cleaner removes
    left = tmp_path / ".idtrack-sc.snap.idtrack.zip.abc123_x.part"
    left.write_bytes(b"partial")
    os.utime(left, (0, 0))
    assert clean_stale_temporaries(tmp_path) == [left]


def test_the_cleaner_deletes_only_files_the_package_made(tmp_path):
    # a user's own files in the cache folder, with names pooch or tempfile could also give
    users = ["tmpnotes_2024", "tmp_results_final", ".draft.part", ".homo_sapiens-115.idtrack.zip.abc12345.part"]
    for name in users:
        (tmp_path / name).write_bytes(b"mine")
    # what the package leaves when killed: its own temporary, and a pooch download it marked
    own = tmp_path / ".idtrack-sc.index.arrow.k1ll3d_x.part"
    pooch_tmp = tmp_path / "tmpk1ll3d_x"
    for path in (own, pooch_tmp, download_marker(pooch_tmp)):
        path.write_bytes(b"partial")
    for path in tmp_path.iterdir():
        os.utime(path, (0, 0))
    removed = clean_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([own.name, pooch_tmp.name, download_marker(pooch_tmp).name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(users)


def test_a_marked_download_still_running_is_left_alone(tmp_path):
    running = tmp_path / "tmpabcdef12"
    running.write_bytes(b"growing")  # fresh: another process is downloading
    marker = download_marker(running)
    marker.write_bytes(b"")
    os.utime(marker, (0, 0))
    assert clean_stale_temporaries(tmp_path) == []
    assert running.exists()
    assert marker.exists()
