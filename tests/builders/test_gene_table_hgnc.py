from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from idtrack_sc.builders import SourceConflictError, build_snapshot, read_gene_table, read_hgnc

DATA = Path(__file__).parents[1] / "data" / "builders"


def _names(src, gene, namespace, kind=None):
    n = src.names
    sel = (n["gene_id"] == gene) & (n["namespace"] == namespace)
    if kind is not None:
        sel &= n["kind"] == kind
    return sorted(n.loc[sel, "value"].astype(str))


def test_biomart_export():
    src = read_gene_table(DATA / "mart_export_114.txt", release=114)
    assert src.kind == "gene_table"
    assert src.name == "gene_table:114"
    assert src.release == 114
    assert len(src.sha256) == 64
    assert src.origin == "mart_export_114.txt"
    genes = src.genes.set_index("gene_id")
    assert genes.loc["ENSG00000141510", "version"] == 18
    assert genes.loc["ENSG00000141510", "biotype"] == "protein_coding"
    assert genes.index.is_unique  # SEPTIN2 is listed twice, recorded once
    assert src.notes["rows_repeating_a_gene"] == 1
    assert _names(src, "ENSG00000141510", "symbol") == ["TP53"]
    assert _names(src, "ENSG00000141510", "hgnc_id") == ["HGNC:11998"]
    assert _names(src, "ENSG00000141510", "entrez") == ["7157"]
    assert _names(src, "ENSG00000290825", "entrez") == []
    assert set(src.names["release"]) == {114}
    assert set(src.names["kind"]) == {"primary"}


def test_gencode_ids_and_par_y():
    src = read_gene_table(DATA / "genes_104.csv.gz", release=104, name="cxg")
    assert src.name == "cxg"
    genes = src.genes.set_index("gene_id")
    assert genes.loc["ENSG00000141510", "version"] == 17
    assert "ENSG00000002586_PAR_Y" not in genes.index
    assert genes.loc["ENSG00000002586", "version"] == 20
    assert src.notes["par_y_rows"] == 1
    assert not any("." in g for g in genes.index)


def test_normalized_xrefs_from_plain_columns():
    src = read_gene_table(DATA / "genes_110.csv", release=110)
    assert _names(src, "ENSG00000141510", "hgnc_id") == ["HGNC:11998"]
    assert _names(src, "ENSG00000141510", "entrez") == ["7157"]
    assert src.genes.set_index("gene_id").loc["ENSG00000139618", "version"] == 17


def test_missing_gene_column_lists_columns(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("symbol\tbiotype\nTP53\tprotein_coding\n")
    with pytest.raises(ValueError, match=r"genes\.tsv.*gene ID.*Columns found: \['symbol', 'biotype'\]"):
        read_gene_table(path, release=114)


def test_bad_version_names_line_and_column(tmp_path):
    path = tmp_path / "genes.csv"
    path.write_text("gene_id,gene_version\nENSG00000141510,18\nENSG00000139618,x\n")
    with pytest.raises(ValueError, match=r"genes\.csv, line 3, column 'gene_version'.*'x'"):
        read_gene_table(path, release=114)


def test_two_versions_in_one_table(tmp_path):
    path = tmp_path / "genes.csv"
    path.write_text("gene_id,gene_name\nENSG00000141510.17,TP53\nENSG00000141510.18,TP53\n")
    with pytest.raises(ValueError, match=r"ENSG00000141510 has versions \[17, 18\]"):
        read_gene_table(path, release=114)


def test_rows_without_id_are_counted(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("gene_id\tgene_name\nENSG00000141510\tTP53\n\tORPHAN\n")
    src = read_gene_table(path, release=114)
    assert src.notes["rows_without_gene_id"] == 1
    assert list(src.genes["gene_id"]) == ["ENSG00000141510"]


def test_symbol_na_is_a_name_not_missing(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("gene_id\tgene_name\nENSG00000000001\tNA\n")
    src = read_gene_table(path, release=114)
    assert _names(src, "ENSG00000000001", "symbol") == ["NA"]


def test_hgnc_complete_set():
    src = read_hgnc(DATA / "hgnc_complete_set.txt")
    assert src.kind == "hgnc"
    assert src.release is None
    assert src.organism == "homo_sapiens"
    assert src.date == "2024-10-01"
    assert src.notes["rows_without_ensembl_gene_id"] == 1
    assert src.names["release"].isna().all()
    assert _names(src, "ENSG00000145416", "symbol", "previous") == ["MARCH1"]
    assert _names(src, "ENSG00000168385", "symbol", "previous") == ["NEDD5", "SEPT2"]
    assert _names(src, "ENSG00000141510", "symbol", "alias") == ["LFS1", "p53"]
    assert _names(src, "ENSG00000141510", "symbol", "primary") == ["TP53"]
    assert _names(src, "ENSG00000141510", "hgnc_id") == ["HGNC:11998"]
    assert _names(src, "ENSG00000141510", "entrez") == ["7157"]
    assert _names(src, "ENSG00000141510", "uniprot") == ["P04637"]
    assert _names(src, "ENSG00000141510", "refseq") == ["NM_000546"]
    assert not (src.names["value"].astype(str).str.contains('"|\\|', regex=True)).any()
    assert "TRB" not in set(src.names["value"])


def test_hgnc_gzipped_and_missing_column(tmp_path):
    gz = tmp_path / "hgnc_complete_set.txt.gz"
    gz.write_bytes(gzip.compress((DATA / "hgnc_complete_set.txt").read_bytes()))
    assert len(read_hgnc(gz).names) == len(read_hgnc(DATA / "hgnc_complete_set.txt").names)
    bad = tmp_path / "hgnc.txt"
    bad.write_text("hgnc_id\tsymbol\nHGNC:11998\tTP53\n")
    with pytest.raises(ValueError, match=r"hgnc\.txt.*ensembl_gene_id.*\['hgnc_id', 'symbol'\]"):
        read_hgnc(bad)


def test_gene_tables_and_hgnc_give_spans(tmp_path):
    sources = [
        read_gene_table(DATA / "genes_104.csv.gz", release=104),
        read_gene_table(DATA / "genes_110.csv", release=110),
        read_gene_table(DATA / "mart_export_114.txt", release=114),
        read_hgnc(DATA / "hgnc_complete_set.txt"),
    ]
    snap = build_snapshot(sources, organism="human", out=tmp_path / "s.idtrack")
    assert list(snap.releases) == [104, 110, 114]
    genes = snap.genes
    tp53 = genes[genes["gene_id"] == "ENSG00000141510"].sort_values("first_release")
    assert tp53[["version", "first_release", "last_release"]].to_numpy().tolist() == [[17, 104, 104], [18, 110, 114]]
    brca2 = genes[genes["gene_id"] == "ENSG00000139618"].sort_values("first_release")
    assert brca2["version"].tolist() == [16, 17, 19]
    ddx = genes[genes["gene_id"] == "ENSG00000290825"]
    assert ddx[["first_release", "last_release"]].to_numpy().tolist() == [[114, 114]]
    names = snap.names
    sym = names[(names["gene_id"] == "ENSG00000145416") & (names["namespace"] == "symbol")]
    prim = sym[(sym["kind"] == "primary") & (sym["source"] == "gene_table")]
    assert prim[["value", "first_release", "last_release"]].to_numpy().tolist() == [["MARCHF1", 104, 114]]
    prev = sym[sym["kind"] == "previous"]
    assert prev["value"].tolist() == ["MARCH1"]
    assert pd.isna(prev["first_release"]).all()


def test_build_twice_is_byte_identical(tmp_path):
    def build(out):
        sources = [
            read_gene_table(DATA / "genes_110.csv", release=110),
            read_gene_table(DATA / "mart_export_114.txt", release=114),
            read_hgnc(DATA / "hgnc_complete_set.txt"),
        ]
        build_snapshot(sources, organism="homo_sapiens", out=out)
        return out.read_bytes()

    assert build(tmp_path / "a.idtrack") == build(tmp_path / "b.idtrack")


def test_conflicting_versions(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("gene_id,gene_version\nENSG00000141510,17\n")
    sources = [
        read_gene_table(DATA / "mart_export_114.txt", release=114),
        read_gene_table(other, release=114, name="other"),
    ]
    with pytest.raises(SourceConflictError, match="ENSG00000141510 in release 114"):
        build_snapshot(sources, organism="human")


def test_unknown_organism():
    with pytest.raises(ValueError, match="Unknown organism"):
        build_snapshot([read_gene_table(DATA / "mart_export_114.txt", release=114)], organism="unicorn")


def test_a_name_equal_to_the_gene_id_is_no_name(tmp_path):
    # CellxGene gene tables give an unnamed gene its own ID as feature name
    path = tmp_path / "genes.csv"
    path.write_text(
        "gene_id,gene_name,gene_type\n"
        "ENSG00000141510.17,TP53,protein_coding\n"
        "ENSG00000260000.4,ENSG00000260000,lncRNA\n"
        "ENSG00000290825.2,ENSG00000290825.2,lncRNA\n"
    )
    src = read_gene_table(path, release=114)
    assert _names(src, "ENSG00000260000", "symbol") == []
    assert _names(src, "ENSG00000290825", "symbol") == []
    snap = build_snapshot([src], organism="homo_sapiens", out=tmp_path / "s.idtrack.zip")
    import idtrack_sc as its

    table = its.convert(["ENSG00000260000", "ENSG00000290825", "TP53"], snapshot=snap, to="symbol")
    assert table["outcome"].tolist() == ["1:0", "1:0", "1:1"]
    assert table["reason"].tolist()[:2] == ["no_target_name", "no_target_name"]
    assert table["target"].tolist() == ["", "", "TP53"]
