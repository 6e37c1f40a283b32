"""Out of core, a killed run leaves one run directory beside the target, and the next run removes it.

Runs are killed with SIGKILL (the OOM killer's signal: no ``finally`` runs) in a child process
while they write the result; a run that is still alive keeps its directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.pp._concat import _files

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and flock are POSIX")

GENES = {"A": ["TP53", "BRCA1", "BRCA2", "KRAS"], "B": ["TP53", "ENSG00000141510", "BRCA1", "BRAF"]}
KWARGS = {"to": "symbol", "join": "outer", "label": "dataset", "max_loaded_elems": 20}

# the child: patches the writer of one engine to stop after its second block, then either
# SIGKILLs itself or waits (alive) until the parent kills it
CHILD = """
import os, signal, sys
import idtrack_sc as its
from idtrack_sc.pp._concat import _dask, _stream

engine, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
paths = dict(arg.split("=", 1) for arg in sys.argv[4:])
calls = [0]

def stop_here():
    calls[0] += 1
    if calls[0] < 2:
        return
    print("writing", flush=True)
    if mode in ("SIGKILL", "SIGTERM"):
        os.kill(os.getpid(), getattr(signal, mode))
    sys.stdin.read()  # alive, mid-write, until killed

if engine == "stream":
    append = _stream._SparseOut.append
    def patched(self, block):
        append(self, block)
        stop_here()
    _stream._SparseOut.append = patched
else:
    write = _dask._write_matrix
    def patched(*args, **kwargs):
        write(*args, **kwargs)
        stop_here()
    _dask._write_matrix = patched
    import dask
    dask.config.set(scheduler="synchronous")
its.concat_harmonized(
    paths, snapshot="default", to="symbol", join="outer", label="dataset", max_loaded_elems=20,
    out_file=out, engine=engine,
)
print("finished", flush=True)
"""


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    paths = {}
    for name, genes in GENES.items():
        adata = ad.AnnData(
            sparse.csr_matrix(rng.poisson(1.0, (40, len(genes))).astype(np.float32)),
            obs=pd.DataFrame(index=[f"{name}{i}" for i in range(40)]),
            var=pd.DataFrame(index=pd.Index(genes, dtype=object)),
        )
        adata.layers["counts"] = adata.X.copy()
        paths[name] = tmp_path / f"{name}.h5ad"
        adata.write_h5ad(paths[name])
    return paths


def engines():
    out = ["stream"]
    try:
        import dask.array  # noqa: F401

        out.append("dask")
    except ImportError:  # pragma: no cover - dask is a test dependency
        pass
    return out


def start_child(engine, mode, out, paths):
    script = textwrap.dedent(CHILD)
    args = [
        sys.executable,
        "-W",
        "ignore",
        "-c",
        script,
        engine,
        mode,
        str(out),
        *(f"{k}={v}" for k, v in paths.items()),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )


def run_dirs(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(_files.RUN_PREFIX))


@pytest.mark.parametrize(("engine", "sig"), [*((e, "SIGKILL") for e in engines()), ("stream", "SIGTERM")])
def test_a_kill_mid_write_is_cleaned_by_the_next_run(snapshot_default, inputs, tmp_path, engine, sig):
    import signal

    out = tmp_path / "atlas.h5ad"
    child = start_child(engine, sig, out, inputs)
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == -getattr(signal, sig), stderr  # killed while writing (no finally ran)
    assert stdout.strip() == "writing"
    # what the killed run left: its run directory (with a part-written result), nothing under the final name
    left = run_dirs(tmp_path)
    assert len(left) == 1
    assert left[0].startswith(f"{_files.RUN_PREFIX}{child.pid}-")
    assert (tmp_path / left[0] / _files.LOCK_NAME).is_file()
    assert not out.exists()
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / ".idtrack-other").mkdir()

    its.concat_harmonized(inputs, snapshot=snapshot_default, out_file=out, engine=engine, **KWARGS)
    assert run_dirs(tmp_path) == []
    # only its own kind of files were removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".idtrack-other",
        "A.h5ad",
        "B.h5ad",
        "atlas.h5ad",
        "notes.txt",
    ]
    assert ad.read_h5ad(out).n_obs == 80


def test_a_live_run_keeps_its_directory_until_it_dies(snapshot_default, inputs, tmp_path):
    out = tmp_path / "atlas.h5ad"
    child = start_child("stream", "wait", out, inputs)
    try:
        assert child.stdout.readline().strip() == "writing"
        live = run_dirs(tmp_path)
        assert len(live) == 1
        # another run beside it, to another target: the live run's directory is left alone
        its.concat_harmonized(inputs, snapshot=snapshot_default, out_file=tmp_path / "other.h5ad", **KWARGS)
        assert run_dirs(tmp_path) == live
        assert child.poll() is None
    finally:
        child.kill()
        child.communicate(timeout=60)
    assert run_dirs(tmp_path) == live  # dead now, not yet swept
    its.concat_harmonized(inputs, snapshot=snapshot_default, out_file=out, **KWARGS)
    assert run_dirs(tmp_path) == []
    assert ad.read_h5ad(out).n_obs == 80


def test_lockless_leftovers_are_removed_by_age_only(tmp_path):
    out = tmp_path / "atlas.h5ad"
    old_dir = tmp_path / f"{_files.RUN_PREFIX}a1b2c3d4"  # an earlier version's staging folder
    fresh_dir = tmp_path / f"{_files.RUN_PREFIX}e5f6g7h8"
    old_tmp = tmp_path / ".atlas.h5ad.0123456789ab.tmp.h5ad"  # an earlier version's temporary result
    other_target_tmp = tmp_path / ".other.h5ad.0123456789ab.tmp.h5ad"
    for d in (old_dir, fresh_dir):
        d.mkdir()
        (d / "000000.h5ad").write_bytes(b"x" * 10)
    old_tmp.write_bytes(b"x")
    other_target_tmp.write_bytes(b"x")
    long_ago = time.time() - _files.STALE_AFTER - 60
    for p in (old_dir, old_tmp, other_target_tmp):
        os.utime(p, (long_ago, long_ago))

    removed = _files.sweep(out)
    assert sorted(p.name for p in removed) == sorted([old_dir.name, old_tmp.name])
    assert fresh_dir.is_dir()  # may belong to a run that is alive
    assert other_target_tmp.exists()  # another target's: not this run's kind


def test_a_file_system_without_locks_falls_back_to_the_age_rule(snapshot_default, inputs, tmp_path, monkeypatch):
    """flock failing with ENOLCK (some network mounts): the run works, and its folder is judged by age alone."""
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    fresh = tmp_path / f"{_files.RUN_PREFIX}999999-000000000000"
    fresh.mkdir()
    (fresh / _files.LOCK_NAME).write_text("pid 999999\n")  # unknowable owner, recent: kept
    out = tmp_path / "atlas.h5ad"
    its.concat_harmonized(inputs, snapshot=snapshot_default, out_file=out, **KWARGS)
    assert ad.read_h5ad(out).n_obs == 80
    assert run_dirs(tmp_path) == [fresh.name]
    long_ago = time.time() - _files.STALE_AFTER - 60
    os.utime(fresh, (long_ago, long_ago))
    assert _files.sweep(out) == [fresh]
