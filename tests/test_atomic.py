"""Files written for later reading appear complete or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from idtrack_sc._atomic import write_atomically
from idtrack_sc._cache import clean_stale_temporaries


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
    left = tmp_path / ".snap.idtrack.zip.abc123.part"
    left.write_bytes(b"partial")
    os.utime(left, (0, 0))
    assert clean_stale_temporaries(tmp_path) == [left]
