"""The files of an out-of-core concatenation: one run directory beside the target, and its cleanup.

Every temporary of a run (the staged datasets, the result being written, an old ``.zarr``
store being replaced) lives in one directory beside ``out_file``, named
``.idtrack-concat-<pid>-<token>`` (the run's identity). The result is written there and
renamed onto ``out_file`` at the end, so that nothing half-written ever appears under the
final name, and the directory is removed when the run ends, also on error.

A run killed outright (SIGKILL, the OOM killer; SIGTERM without a handler) cannot remove its
directory. So each run, before it starts, removes the directories that killed runs left
beside its target, by this rule (only directories named ``.idtrack-concat-*``, never
anything else):

* a run holds an exclusive :func:`fcntl.flock` on ``<dir>/run.lock`` for as long as it lives;
  the operating system releases it when the process dies, however it dies. A directory
  whose lock can be taken belongs to a dead run and is removed; one whose lock is held is
  left alone (another run is writing there, on this machine or, on a file system with
  working locks, another);
* a directory without a lock file (a run killed between creating it and locking it, or one
  left by an earlier idtrack-sc), or wherever locks are not available (no :mod:`fcntl`,
  e.g. Windows, or a file system without locks), is removed once it has not changed for
  :data:`STALE_AFTER` seconds; so is
  an earlier idtrack-sc's temporary result ``.<out_file name>.<12 hex digits>.tmp.h5ad``
  (or ``.zarr``) beside the same target.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

logger = logging.getLogger(__name__)

#: Name prefix of a run directory (and of nothing else idtrack-sc writes).
RUN_PREFIX = ".idtrack-concat-"
#: The lock file a live run holds inside its directory.
LOCK_NAME = "run.lock"
#: A run directory without a usable lock is removed once unchanged for this long (seconds).
STALE_AFTER = 24 * 3600


def _lock(path: Path) -> Any:
    """An open file holding an exclusive lock on ``path`` (``None`` where locks are not available).

    Raises :class:`OSError` when another process holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    handle = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        handle.close()
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise  # held by a live run
        return None  # the file system has no locks (some network mounts): the age rule applies
    return handle


def _owner_is_dead(run_dir: Path, *, now: float) -> bool:
    """Whether ``run_dir`` was left by a run that is no longer alive (see the module's rule)."""
    lock = run_dir / LOCK_NAME
    try:
        if lock.is_file():
            handle = _lock(lock)
            if handle is not None:
                handle.close()  # taken: its owner is gone
                return True
        return now - run_dir.stat().st_mtime > STALE_AFTER
    except OSError:  # held by a live run, or vanished meanwhile
        return False


def sweep(out_file: Path) -> list[Path]:
    """Remove what dead runs left beside ``out_file`` (see the module's rule); returns what was removed."""
    removed = []
    now = time.time()
    folder = out_file.parent
    legacy = re.compile(rf"^\.{re.escape(out_file.name)}\.[0-9a-f]{{12}}\.tmp{re.escape(out_file.suffix)}$")
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.is_symlink():
            continue
        if entry.name.startswith(RUN_PREFIX) and entry.is_dir():
            dead = _owner_is_dead(entry, now=now)
        elif legacy.match(entry.name):
            try:
                dead = now - entry.stat().st_mtime > STALE_AFTER
            except OSError:
                dead = False
        else:
            continue
        if not dead:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        if not entry.exists():
            removed.append(entry)
    if removed:
        logger.warning(
            "Removed %d temporary folder(s) left in %s by concatenations that were killed: %s.",
            len(removed),
            folder,
            ", ".join(p.name for p in removed),
        )
    return removed


@contextlib.contextmanager
def run_directory(out_file: Path) -> Iterator[Path]:
    """A new run directory beside ``out_file``, locked while the run lives, removed at its end.

    What dead runs left beside ``out_file`` is swept first (:func:`sweep`).
    """
    sweep(out_file)
    run_dir = out_file.parent / f"{RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    run_dir.mkdir()
    handle = None
    try:
        # locked under a temporary name, then renamed: a sweeper never sees an unlocked run.lock
        pending = run_dir / f".{LOCK_NAME}"
        handle = _lock(pending)
        owner = f"pid {os.getpid()} on {socket.gethostname()} since {time.time():.0f}\n"
        if handle is not None:
            handle.write(owner)
            handle.flush()
        else:  # no locks here: the file only names the owner (the age rule applies)
            pending.write_text(owner)
        pending.rename(run_dir / LOCK_NAME)
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if handle is not None:
            handle.close()


def release_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; elsewhere a no-op).

    Called between datasets: without it, glibc keeps the pages of one dataset's freed arrays
    and the resident memory creeps up with the number of datasets.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc (e.g. musl)
        return


def stage(adata: Any, path: Path, columns: list[str]) -> None:
    """Write one harmonized dataset to ``path`` (``.h5ad``) with only ``columns`` of its ``var``.

    The idtrack ``var`` columns are held by the feature union and written into the result at
    the end; only what a ``merge`` strategy needs is staged beside the matrices.
    """
    full_var = adata.var
    adata.var = full_var[columns]
    try:
        adata.write_h5ad(path)
    finally:
        adata.var = full_var


def replace_atomically(staged: Path, out_file: Path, run_dir: Path) -> None:
    """Move ``staged`` (in ``run_dir``) onto ``out_file``, replacing an existing file or store."""
    if out_file.is_dir() and not out_file.is_symlink():  # a .zarr store: move the old one aside first
        old = run_dir / f"replaced-{out_file.name}"
        out_file.rename(old)
        staged.rename(out_file)
        shutil.rmtree(old, ignore_errors=True)
        return
    staged.replace(out_file)


def result_path(run_dir: Path, out_file: Path) -> Path:
    """Where a run writes its result before the final rename."""
    return run_dir / f"result{out_file.suffix}"
