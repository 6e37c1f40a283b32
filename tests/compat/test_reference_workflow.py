"""A reference-tool user's harmonization notebook, end to end, on an empty cache.

The calls (and their order) are those of the reference tool's "harmonization" tutorial: a
toy pair of datasets through ``HarmonizeFeatures``, an optional atlas part that runs only when
``HLCA_BASE_PATH`` names a folder of ``.h5ad`` files (here: three small ones made from real gene
names), the graph, and a legacy-identifier conversion with its binned summary. The snapshot
registry is pointed at the embedded human snapshot (listed as release 114), so the run needs no
network and starts from an empty ``local_repository``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import idtrack_sc as its
from idtrack_sc.datasets import default_snapshot_path
from idtrack_sc.snapshot import file_sha256


@pytest.fixture
def fresh_install(tmp_path, monkeypatch):
    """A registry that lists the embedded human snapshot as release 114, and an empty repository."""
    source = default_snapshot_path()
    registry = tmp_path / "registry.txt"
    registry.write_text(f"homo_sapiens-114.idtrack.zip sha256:{file_sha256(source)} {source.as_uri()}\n")
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(registry))
    repo = tmp_path / "idtrack_cache"
    repo.mkdir()
    return repo


def _write(path: Path, var_names: list[str], n_obs: int, seed: int) -> None:
    X = sparse.random(n_obs, len(var_names), density=0.2, format="csr", random_state=seed)
    obs = pd.DataFrame({"cell_type": np.resize(["AT2", "T cell"], n_obs)}, index=[f"cell{i}" for i in range(n_obs)])
    ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=var_names)).write_h5ad(path)


def _atlas(folder: Path) -> Path:
    """Three small studies named in three ways: release-84 symbols, versioned IDs, mixed."""
    snap = its.datasets.default_snapshot()
    names = snap.names
    old = names.loc[(names["namespace"] == "symbol") & (names["first_release"] == 84) & (names["kind"] == "primary")]
    symbols = sorted(set(old["value"]))[:120]
    genes = snap.genes
    ids = genes.loc[(genes["first_release"] <= 110) & (genes["last_release"] >= 110) & genes["version"].notna()]
    versioned = sorted(ids["gene_id"] + "." + ids["version"].astype(int).astype(str))[:150]
    folder.mkdir()
    _write(folder / "Study_A.h5ad", symbols, 40, 1)
    _write(folder / "Study_B.h5ad", versioned, 30, 2)
    _write(folder / "Study_C.h5ad", [*symbols[:60], *versioned[:60], "NOT_A_REAL_GENE"], 20, 3)
    return folder


@pytest.mark.parametrize("with_atlas", [False, True], ids=["toy-only", "with-atlas"])
def test_reference_harmonization_notebook(fresh_install, tmp_path, monkeypatch, caplog, with_atlas):
    repo = fresh_install
    atlas = _atlas(tmp_path / "hlca") if with_atlas else Path()
    if with_atlas:
        monkeypatch.setenv("HLCA_BASE_PATH", str(atlas))

    # the toy pair
    toy = repo / "toy_harmonization_demo"
    toy.mkdir()
    genes_a, genes_b = (
        ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"],
        ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"],
    )
    _write(toy / "toy_A_symbols.h5ad", genes_a, 50, 0)
    _write(toy / "toy_B_mixed.h5ad", genes_b, 60, 1)
    data = {"toy_A": str(toy / "toy_A_symbols.h5ad"), "toy_B": str(toy / "toy_B_mixed.h5ad")}
    organism, latest = its.API(str(repo)).resolve_organism("human")
    assert (organism, latest) == ("homo_sapiens", 114)
    toy_harmonizer = its.HarmonizeFeatures(
        project_name="toy_demo",
        data_h5ad_dict=data,
        project_local_repository=str(toy / "outputs"),
        idtrack_local_repository=str(repo),
        target_ensembl_release=latest,
        final_database="HGNC Symbol",
        organism_name=organism,
        graph_last_ensembl_release=latest,
        verbose_level=2,
    )
    assert sorted(toy_harmonizer.conversion_failed_identifiers) == ["ENSG00000141510", "NOT_A_REAL_GENE"]
    assert sorted(toy_harmonizer.conversion_failed_but_consistent_identifiers) == []
    assert list(toy_harmonizer.multiple_ensembl_dict)[:10] == genes_a
    assert toy_harmonizer.unify_multiple_anndatas(mode="union").shape == (110, 5)
    assert toy_harmonizer.unify_multiple_anndatas(mode="intersect").shape == (110, 2)

    # the atlas part: runs when HLCA_BASE_PATH names a folder with .h5ad files
    api = its.API(local_repository=str(repo))
    organism, release = api.resolve_organism("human")
    files = sorted(atlas.glob("*.h5ad")) if with_atlas and atlas.exists() else []
    atlas_data = {p.stem: str(p) for p in files}
    if atlas_data:
        api.build_graph(organism_name=organism, snapshot_release=release, calculate_caches=True)
        graph = api.track.graph
        assert graph.graph.get("organism") == "homo_sapiens"
        assert graph.graph.get("ensembl_release") == 114
        assert graph.number_of_nodes() > 0
        assert graph.number_of_edges() > 0
    pilot = dict(list(atlas_data.items())[:3])
    out = repo / "hlca_experiments"
    out.mkdir()
    atlas_harmonizer = its.HarmonizeFeatures(
        project_name="hlca_pilot",
        data_h5ad_dict=pilot,
        project_local_repository=str(out),
        idtrack_local_repository=str(repo),
        target_ensembl_release=release,
        final_database="HGNC Symbol",
        organism_name=organism,
        graph_last_ensembl_release=release,
        verbose_level=2,
    )
    assert len(atlas_harmonizer.data_h5ad_dict) == (3 if with_atlas else 0)
    union = atlas_harmonizer.unify_multiple_anndatas(mode="union")
    inter = atlas_harmonizer.unify_multiple_anndatas(mode="intersect")
    if with_atlas:
        # NOT_A_REAL_GENE is in one study only: removed; the studies share genes across namings
        assert "NOT_A_REAL_GENE" in atlas_harmonizer.conversion_failed_identifiers
        assert union.shape[0] == inter.shape[0] == 90
        assert 0 < inter.shape[1] < union.shape[1] <= 120 + 150
        assert len(atlas_harmonizer.multiple_ensembl_dict) >= union.shape[1] - len(
            atlas_harmonizer.conversion_failed_but_consistent_identifiers
        )
        assert union.var["converted_id"].astype(str).str.startswith("ENSG").sum() < union.shape[1]
    else:
        assert union.shape == inter.shape == (0, 0)
        assert len(atlas_harmonizer.conversion_failed_identifiers) == 0

    # legacy identifiers, binned
    api = its.API(local_repository=str(repo))
    api.configure_logger()
    organism, latest = api.resolve_organism("human")
    api.build_graph(organism_name=organism, snapshot_release=latest, calculate_caches=False)
    legacy = ["TP53", "P53", "ENSG00000141510", "ENSG00000139618", "BRCA1", "NOT_A_REAL_GENE"]
    results = api.convert_identifier_multiple(
        legacy, to_release=latest, final_database=None, strategy="all", verbose=False
    )
    summary = api.classify_multiple_conversion(results)
    with caplog.at_level(logging.INFO, logger="idtrack_sc"):
        api.print_binned_conversion(summary)
    assert "1→1: 5 (83.3%)" in caplog.text
    assert [r["target_id"] for r in results[:3]] == [["ENSG00000141510.19"]] * 3
    # one handler for the whole notebook, however many API objects it made
    handlers = [h for h in logging.getLogger("idtrack_sc").handlers if getattr(h, "_idtrack_sc_compat_handler", 0)]
    assert len(handlers) == 1
