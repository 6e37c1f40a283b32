"""CELLxGENE's twelve further organisms ship in the package: offline by Latin name, common name, taxonomy ID.

The snapshot files are built by ``scripts/build_organism_snapshots.py`` and committed by the
maintainers; where a checkout lacks them (the registry lists them first), these tests skip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.cli import main
from idtrack_sc.compat import API
from idtrack_sc.registry import load_registry
from idtrack_sc.registry._registry import PACKAGE_DATA
from idtrack_sc.snapshot import ORGANISMS, file_sha256

FURTHER = sorted(n for n, o in ORGANISMS.items() if o.cellxgene and n not in ("homo_sapiens", "mus_musculus"))


def _shipped(organism: str) -> None:
    if not (PACKAGE_DATA / f"{organism}-114.idtrack.zip").is_file():
        pytest.skip(f"{organism}-114.idtrack.zip is not in this checkout (scripts/build_organism_snapshots.py --ship)")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty cache and a mirror that cannot answer: anything that needs the network fails."""
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("IDTRACK_SC_MIRROR", "http://127.0.0.1:9/unreachable")


def test_the_registry_lists_all_twelve():
    listed = {name.split("-")[0] for name in load_registry()}
    assert set(FURTHER) <= listed
    assert len(FURTHER) == 12


@pytest.mark.parametrize("organism", FURTHER)
def test_each_organism_is_shipped_with_its_two_releases(offline, organism):
    _shipped(organism)
    entry = load_registry()[f"{organism}-114.idtrack.zip"]
    assert file_sha256(PACKAGE_DATA / entry.file) == entry.sha256
    snap = its.fetch_snapshot(ORGANISMS[organism].taxonomy_id)
    assert snap.path.parent == PACKAGE_DATA
    assert snap.organism == organism
    assert snap.releases == (113, 114)
    # every gene ID has the organism's own prefix (the fly table adds ncRNA and transposable-element rows)
    ids = pd.Series(snap.genes["gene_id"].astype(str).unique())
    own = ids.str.startswith(ORGANISMS[organism].gene_prefixes)
    assert ids[~own].str.fullmatch(r"FBtr\d{7}_df_nrg|RR\d+_transposable_element").all()
    assert own.mean() > 0.97
    # no gene carries its own ID as a symbol
    symbols = snap.names[snap.names["namespace"] == "symbol"]
    assert not (symbols["value"].astype(str) == symbols["gene_id"].astype(str)).any()


@pytest.mark.parametrize("organism", ["zebrafish", "danio_rerio", "Danio rerio", 7955, "NCBITaxon:7955"])
def test_zebrafish_by_any_name(offline, organism):
    _shipped("danio_rerio")
    out = its.convert(["ENSDARG00000035559", "tp53", "ENSDARG00000035559.2", "ENSG00000141510"], organism=organism)
    assert out["target"].tolist() == ["ENSDARG00000035559"] * 3 + [""]
    assert out["reason"].iloc[-1] == "other_organism"
    symbols = its.convert(["ENSDARG00000035559"], organism=organism, to="symbol")
    assert symbols["target"].item() == "TP53"


def test_zebrafish_has_loci_and_the_others_say_they_have_none(offline):
    _shipped("danio_rerio")
    _shipped("rattus_norvegicus")
    assert len(its.fetch_snapshot("zebrafish").loci) > 30_000
    assert len(its.fetch_snapshot("rat").loci) == 0


def test_fly_and_worm_ids_are_their_organisms_gene_ids(offline):
    _shipped("drosophila_melanogaster")
    _shipped("caenorhabditis_elegans")
    fly = its.convert(["FBgn0038189", "Art6", "WBGene00000003", "ENSG00000141510"], organism="fruit fly", to="symbol")
    assert fly["target"].tolist()[:2] == ["Art6", "Art6"]
    assert fly["query_namespace"].iloc[0] == "ensembl_gene"
    assert fly["reason"].tolist()[2:] == ["other_organism", "other_organism"]
    worm = its.convert(["WBGene00000003", "aat-2", "FBgn0038189"], organism="C. elegans", to="ensembl_gene")
    assert worm["target"].tolist() == ["WBGene00000003", "WBGene00000003", ""]
    assert worm["reason"].iloc[-1] == "other_organism"


def test_rat_ids_gone_with_the_new_assembly_are_retired_not_guessed(offline):
    _shipped("rattus_norvegicus")
    out = its.convert(["Rab11fip2", "Ep300", "ENSRNOG00000000190"], organism="rat")
    assert out["target"].tolist() == ["ENSRNOG00000009523", "ENSRNOG00000065659", ""]
    assert (out["reason"].iloc[-1], out["retired_in"].iloc[-1]) == ("retired", 114)


@pytest.mark.parametrize(
    ("organism", "unnamed"),
    [
        ("rhesus macaque", "ENSMMUG00000064799"),
        ("crab-eating macaque", "ENSMFAG00000055330"),
        ("chimp", "ENSPTRG00000052463"),
    ],
)
def test_primate_genes_without_a_name_get_no_symbol(offline, organism, unnamed):
    _shipped(its.resolve_organism(organism))
    out = its.convert([unnamed, f"{unnamed}.1"], organism=organism, to="symbol")
    assert out["target"].tolist() == ["", ""]
    assert out["reason"].tolist() == ["no_target_name", "no_target_name"]
    assert out["gene_id"].tolist() == [unnamed, unnamed]  # found, only nameless


def test_compat_layer_and_harmonize_by_taxonomy_id(offline, tmp_path):
    _shipped("danio_rerio")
    api = API(tmp_path)
    assert api.resolve_organism(7955) == ("danio_rerio", 114)
    assert api.resolve_organism("crab-eating macaque")[0] == "macaca_fascicularis"
    api.build_graph(organism_name="zebrafish")
    assert api.convert_identifier("ENSDARG00000035559", final_database="symbol")["target_id"] == ["TP53"]
    import anndata as ad

    adata = ad.AnnData(
        np.ones((2, 3), dtype=np.float32), var=pd.DataFrame(index=["tp53", "ENSDARG00000009657", "notagene"])
    )
    its.pp.harmonize_var_names(adata, organism=7955, release=114, check_organism=False)
    assert adata.uns["idtrack"]["snapshot"]["organism"] == "danio_rerio"
    assert "ENSDARG00000035559" in adata.var_names


def test_an_ambiguous_organism_lists_the_candidates(offline):
    with pytest.raises(ValueError, match=r"ambiguous.*macaca_mulatta.*macaca_fascicularis"):
        its.convert(["TP53"], organism="macaque")


def test_snapshot_list_shows_every_organism(offline, capsys):
    assert main(["snapshot", "list"]) == 0
    out = capsys.readouterr().out
    for organism in FURTHER:
        assert organism in out


def test_release_inference_names_the_releases_own_assembly(offline):
    _shipped("rattus_norvegicus")
    rat = its.fetch_snapshot("rat")
    names = rat.names[(rat.names["namespace"] == "symbol") & (rat.names["last_release"].astype("Int64") == 113)]
    found = its.infer_release(names["value"].astype(str).head(300).tolist(), snapshot=rat)
    assert found.release == 113
    assert "(mRatBN7.2)" in str(found)  # rat's assembly at 113, not the snapshot's GRCr8
