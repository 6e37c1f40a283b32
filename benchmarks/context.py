"""Shared state of one benchmark run: sizes, paths, cached snapshots and queries, helpers."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import queries as q

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCRIPTS = REPO / "scripts"
RELEASE = 114
ORGANISMS = ("homo_sapiens", "mus_musculus")


@dataclass
class Context:
    """Parameters and caches shared by the measurements of one run.

    Attributes
    ----------
    quick
        ``--quick``: smaller sizes and one repeat.
    n_queries
        Size of the mixed query batch.
    repeats
        Warm repeats of idtrack-sc measurements (median reported).
    peer_repeats
        Warm repeats of the peer tool (it is much slower).
    data_work
        Folder of the real source tables and snapshots (``scripts/work``).
    work
        Scratch folder of the benchmark (``benchmarks/work``, git-ignored).
    build
        Measure a fresh snapshot build (else only reuse the existing snapshot files).
    install_peer
        ``pip install stangene==0.5.1`` when it is missing.
    """

    quick: bool
    n_queries: int
    repeats: int
    peer_repeats: int
    data_work: Path
    work: Path
    build: bool = True
    install_peer: bool = True
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def organisms(self) -> tuple[str, ...]:
        """Organisms measured in this mode."""
        return ORGANISMS

    # -- data --------------------------------------------------------------------------------
    def ensure_gathered(self) -> None:
        """Run ``scripts/gather_real_data.py`` unless its output exists."""
        sources = self.data_work / "SOURCES.json"
        if sources.exists():
            files = json.loads(sources.read_text(encoding="utf-8"))["files"]
            if all((self.data_work / f["file"]).exists() for f in files):
                return
        print("  gathering the real source tables (scripts/gather_real_data.py) …", flush=True)
        subprocess.run(
            [sys.executable, str(SCRIPTS / "gather_real_data.py"), "--work", str(self.data_work)], check=True
        )

    def snapshot_path(self, organism: str) -> Path:
        """The real snapshot of ``organism`` in ``scripts/work``; built with the script when missing."""
        path = self.data_work / f"{organism}-{RELEASE}.idtrack.zip"
        if not path.exists():
            self.ensure_gathered()
            print(f"  building {path.name} (scripts/build_real_snapshots.py) …", flush=True)
            cmd = [sys.executable, str(SCRIPTS / "build_real_snapshots.py"), "--work", str(self.data_work)]
            subprocess.run([*cmd, "--organism", organism, "--no-repeat"], check=True)
        return path

    def fresh_snapshot(self, organism: str):
        """A new :class:`~idtrack_sc.Snapshot` with every table read (no resolver cache)."""
        import idtrack_sc as its
        from idtrack_sc.snapshot import TABLES

        snap = its.load_snapshot(self.snapshot_path(organism))
        for name in TABLES:
            snap.table(name)
        return snap

    def queries(self, organism: str, n: int | None = None) -> q.QuerySet:
        """The mixed query batch of ``organism`` (cached; fixed seed)."""
        n = n or self.n_queries
        key = ("queries", organism, n)
        if key not in self.cache:
            self.ensure_gathered()
            if organism == "homo_sapiens":
                pools, mix = q.human_pools(self.data_work), q.HUMAN_MIX
            else:
                pools, mix = q.mouse_pools(self.data_work), q.MOUSE_MIX
            self.cache[key] = q.draw(pools, mix, n, organism=organism)
        return self.cache[key]

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def time_once(func: Callable[[], Any]) -> tuple[float, Any]:
        """Wall time of one call and its value."""
        t0 = time.perf_counter()
        value = func()
        return time.perf_counter() - t0, value

    @staticmethod
    def time_runs(func: Callable[[], Any], repeats: int) -> list[float]:
        """Wall times of ``repeats`` calls."""
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            func()
            out.append(time.perf_counter() - t0)
        return out

    @staticmethod
    def median(values: list[float]) -> float:
        """Median (the one value when there is one)."""
        return float(statistics.median(values))

    @staticmethod
    @contextlib.contextmanager
    def environ(**values: str):
        """Set environment variables (inherited by child processes) for the ``with`` block."""
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    @staticmethod
    def python_json(code: str, *args: str, timeout: float = 900) -> tuple[float, dict]:
        """Run ``code`` in a fresh interpreter; return its wall time and the JSON of its last line."""
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, timeout=timeout
        )
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            msg = f"child process failed ({done.returncode}): {last[:1000]}"
            raise RuntimeError(msg)
        return wall, json.loads(done.stdout.strip().splitlines()[-1])
