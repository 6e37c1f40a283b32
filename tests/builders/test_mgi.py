"""MGI marker reports -> mouse gene names (symbols, synonyms, withdrawn symbols, MGI and Entrez IDs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from idtrack_sc.builders import build_snapshot, read_gene_table, read_mgi
from idtrack_sc.resolve import convert

DATA = Path(__file__).parents[1] / "data" / "builders"


@pytest.fixture
def mgi():
    return read_mgi(DATA / "MRK_List1.rpt", ensembl=DATA / "MGI_Gene_Model_Coord.rpt", date="2026-06-25")


def _names(src, value):
    return src.names[src.names["value"] == value][["gene_id", "namespace", "kind"]].values.tolist()


def test_reads_symbols_synonyms_withdrawn_and_ids(mgi):
    assert mgi.kind == "mgi"
    assert mgi.organism == "mus_musculus"
    assert _names(mgi, "Trp53") == [["ENSMUSG00000059552", "symbol", "primary"]]
    assert ["ENSMUSG00000059552", "symbol", "alias"] in _names(mgi, "p53")
    assert _names(mgi, "MGI:98834") == [["ENSMUSG00000059552", "mgi_id", "primary"]]
    assert _names(mgi, "22059") == [["ENSMUSG00000059552", "entrez", "primary"]]
    # a withdrawn symbol names the marker it was renamed to, as a previous symbol
    assert ["ENSMUSG00000036469", "symbol", "previous"] in _names(mgi, "March1")
    assert ["ENSMUSG00000000486", "symbol", "previous"] in _names(mgi, "Sept1")
    # a QTL is no gene
    assert _names(mgi, "Atha1") == []
    assert mgi.notes["markers_not_genes"] == 1
    assert mgi.notes["withdrawn_symbols_linked"] == 2


def test_mrk_ensembl_layout_and_bad_files(tmp_path):
    links = tmp_path / "MRK_ENSEMBL.rpt"
    links.write_text("MGI:98834\tTrp53\ttransformation related protein 53\t42.7\t11\tENSMUSG00000059552\t\t\t\n")
    src = read_mgi(DATA / "MRK_List1.rpt", ensembl=links)
    assert _names(src, "Trp53") == [["ENSMUSG00000059552", "symbol", "primary"]]
    assert src.notes["genes_without_ensembl_gene_id"] == 3
    assert not (src.names["namespace"] == "entrez").any()  # MRK_ENSEMBL.rpt has no Entrez IDs

    wrong = tmp_path / "MRK_List2.rpt"
    wrong.write_text("symbol\tensembl\nTrp53\tENSMUSG00000059552\n")
    with pytest.raises(ValueError, match="MRK_List1.rpt/MRK_List2.rpt header"):
        read_mgi(wrong, ensembl=links)
    human = tmp_path / "bad_links.rpt"
    human.write_text("MGI:98834\tTrp53\tx\t1\t11\tENSG00000141510\n")
    with pytest.raises(ValueError, match="not a mouse gene ID"):
        read_mgi(DATA / "MRK_List1.rpt", ensembl=human)


def test_old_mouse_symbols_resolve_through_a_snapshot(mgi, tmp_path):
    genes = tmp_path / "genes_114.tsv"
    genes.write_text(
        "gene_id\tgene_version\tgene_name\tgene_biotype\n"
        "ENSMUSG00000059552\t17\tTrp53\tprotein_coding\n"
        "ENSMUSG00000036469\t15\tMarchf1\tprotein_coding\n"
        "ENSMUSG00000000486\t16\tSeptin1\tprotein_coding\n"
    )
    snap = build_snapshot([read_gene_table(genes, release=114), mgi], organism="mouse")
    table = convert(["Sept1", "March1", "p53", "MGI:98834"], snapshot=snap, to="symbol")
    assert table["target"].tolist() == ["Septin1", "Marchf1", "Trp53", "Trp53"]
