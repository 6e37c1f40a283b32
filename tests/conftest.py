"""Shared fixtures: snapshots built from the public-format files under ``tests/data``."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
RESOLVER_DATA = DATA / "resolver"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the test session's cache (fetched snapshots, resolution indexes) out of the user's."""
    import os

    old = os.environ.get("IDTRACK_SC_CACHE")
    os.environ["IDTRACK_SC_CACHE"] = str(tmp_path_factory.mktemp("idtrack-cache"))
    yield
    if old is None:
        os.environ.pop("IDTRACK_SC_CACHE", None)
    else:
        os.environ["IDTRACK_SC_CACHE"] = old


@pytest.fixture(scope="session")
def resolver_snapshot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A human snapshot of releases 100–114: gene tables, HGNC and an Ensembl dump."""
    from idtrack_sc.builders import build_snapshot, read_ensembl_dump, read_gene_table, read_hgnc

    sources = [read_gene_table(RESOLVER_DATA / f"genes_{r}.tsv", release=r) for r in (100, 104, 110, 114)]
    sources.append(read_hgnc(RESOLVER_DATA / "hgnc_complete_set.txt"))
    sources.append(read_ensembl_dump(RESOLVER_DATA / "ensembl_dump" / "homo_sapiens_core_114_38"))
    out = tmp_path_factory.mktemp("snapshots") / "homo_sapiens-test.idtrack.zip"
    build_snapshot(sources, organism="human", out=out)
    return out


@pytest.fixture(scope="session")
def resolver_snapshot(resolver_snapshot_path: Path):
    """The resolver test snapshot, loaded once per session (its indexes are cached on it)."""
    from idtrack_sc import load_snapshot

    return load_snapshot(resolver_snapshot_path)


@pytest.fixture(scope="session")
def snapshot_default():
    """The small real human snapshot embedded in the package."""
    from idtrack_sc.datasets import default_snapshot

    return default_snapshot()
