"""The real human and mouse snapshots ship inside the package: offline, checksummed, the defaults."""

from __future__ import annotations

import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.registry import load_registry, resolve_snapshot
from idtrack_sc.registry._registry import PACKAGE_DATA
from idtrack_sc.snapshot import file_sha256

SHIPPED = {"homo_sapiens": "human", "mus_musculus": "mouse"}


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty cache and a mirror that cannot answer: anything that needs the network fails."""
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("IDTRACK_SC_MIRROR", "http://127.0.0.1:9/unreachable")


def test_every_shipped_file_matches_its_registry_entry():
    entries = load_registry()
    shipped = sorted(PACKAGE_DATA.glob("*.idtrack.zip"))
    assert {p.name for p in shipped} >= {"homo_sapiens-default.idtrack.zip"}
    for path in shipped:
        entry = entries[path.name]
        assert file_sha256(path) == entry.sha256
        assert entry.url.startswith("https://"), "shipped snapshots have a canonical download URL too"


@pytest.mark.parametrize(("organism", "alias"), SHIPPED.items())
def test_fetch_snapshot_returns_the_shipped_file_offline(offline, organism, alias):
    snap = its.fetch_snapshot(alias)
    assert snap.path.parent == PACKAGE_DATA
    assert snap.organism == organism
    assert snap.releases[-1] == 114
    assert snap.summary()["genes"] > 50_000  # the whole organism, not the demo subset
    assert resolve_snapshot(alias) is snap  # one object per session: indexes are reused
    assert resolve_snapshot(organism=organism) is snap


def test_organism_is_enough_everywhere(offline):
    table = its.convert(["TP53", "p53", "ENSG00000141510.11"], organism="human", to="symbol")
    assert table["target"].tolist() == ["TP53", "TP53", "TP53"]
    mouse = its.convert(["Trp53", "Cd3e"], snapshot="mouse")
    assert mouse["target"].str.startswith("ENSMUSG").all()

    import anndata as ad
    import numpy as np

    adata = ad.AnnData(np.ones((2, 3), dtype=np.float32), var=pd.DataFrame(index=["TP53", "CD3E", "NOTAGENE1"]))
    its.pp.harmonize_var_names(adata, organism="human", release=114)
    assert "ENSG00000141510" in adata.var_names
    assert adata.uns["idtrack"]["snapshot"]["organism"] == "homo_sapiens"


def test_unknown_organism_names_what_exists_and_how_to_build(offline):
    with pytest.raises(ValueError, match=r"danio_rerio: 114; .*homo_sapiens: default, 114; .*mus_musculus: 114") as err:
        its.fetch_snapshot("chicken")
    assert "snapshot build" in str(err.value)
    with pytest.raises(ValueError, match="neither a file nor an organism"):
        resolve_snapshot("hmuan")
    with pytest.raises(ValueError, match="does not match the snapshot"):
        resolve_snapshot("mouse", organism="human")
