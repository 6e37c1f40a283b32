"""Stable facts of the real-data validation (docs/validation.md), on the embedded snapshot.

``scripts/validate_real_data.py`` measures idtrack-sc on real datasets with the full real
snapshots; the facts below are the strongest of them that the embedded default snapshot can
check offline and fast. Every renamed symbol is verified against the HGNC complete set
(2026-06-25): the HGNC entry of the expected symbol lists the 2016-era name as a previous
symbol and links the expected Ensembl gene.
"""

from __future__ import annotations

import pytest

import idtrack_sc as its

sc = pytest.importorskip("scanpy")

#: pbmc68k_reduced name -> (current HGNC symbol, HGNC ID, Ensembl gene of release 114).
RENAMED = {
    "ATPIF1": ("ATP5IF1", "HGNC:871", "ENSG00000130770"),
    "C10orf54": ("VSIR", "HGNC:30085", "ENSG00000107738"),
    "FAM65B": ("RIPOR2", "HGNC:13872", "ENSG00000111913"),
    "H2AFY": ("MACROH2A1", "HGNC:4740", "ENSG00000113648"),
    "HIST1H4C": ("H4C3", "HGNC:4787", "ENSG00000197061"),
    "IGJ": ("JCHAIN", "HGNC:5713", "ENSG00000132465"),
    "SEPT7": ("SEPTIN7", "HGNC:1717", "ENSG00000122545"),
    "SEPT9": ("SEPTIN9", "HGNC:7323", "ENSG00000184640"),
    "AES": ("TLE5", "HGNC:307", "ENSG00000104964"),
    "ADRBK1": ("GRK2", "HGNC:289", "ENSG00000173020"),
    "VIMP": ("SELENOS", "HGNC:30396", "ENSG00000131871"),
    "TCEB2": ("ELOB", "HGNC:11619", "ENSG00000103363"),
    "UFD1L": ("UFD1", "HGNC:12520", "ENSG00000070010"),
    "WBSCR22": ("BUD23", "HGNC:16405", "ENSG00000071462"),
    "CARS": ("CARS1", "HGNC:1493", "ENSG00000110619"),
    "PHB": ("PHB1", "HGNC:8912", "ENSG00000167085"),
}


@pytest.fixture(scope="module")
def pbmc_table():
    names = sc.datasets.pbmc68k_reduced().var_names
    return its.convert(names, snapshot=its.datasets.default_snapshot(), to="ensembl_gene", release=114)


def test_pbmc68k_resolves_almost_everything(pbmc_table):
    # full real snapshot and embedded subset agree: 761 of 765 resolve 1:1, none ambiguous
    assert len(pbmc_table) == 765
    assert (pbmc_table["outcome"] == "1:1").sum() >= 760
    assert (pbmc_table["outcome"] == "1:n").sum() == 0
    assert (pbmc_table["reason"].isin(["renamed", "previous_symbol"])).sum() >= 55


def test_pbmc68k_failures_are_the_documented_ones(pbmc_table):
    failed = pbmc_table[pbmc_table["outcome"] == "1:0"].set_index("query")["reason"].astype(str).to_dict()
    # clone-based names of the GRCh37 gene set (GENCODE v19) whose genes left before release 84
    # with no inferred successor, and a clone name retired in 93. C9orf142 (PAXX, whose Ensembl
    # ID was replaced in 114) is no failure any more: an inferred successor at the same locus.
    if 75 in its.datasets.default_snapshot().releases:
        assert failed == {"RP11-782C8.1": "retired", "RP11-277L2.3": "retired", "AL928768.3": "retired"}
        row = pbmc_table.set_index("query").loc["C9orf142"]
        assert (row["outcome"], row["reason"], row["target"]) == ("1:1", "inferred_successor", "ENSG00000310560")
    else:  # the subset before loci, transcripts and the GRCh37 gene set
        assert failed == {
            "RP11-782C8.1": "not_found",
            "RP11-277L2.3": "not_found",
            "C9orf142": "retired",
            "AL928768.3": "retired",
        }


@pytest.mark.parametrize("query", sorted(RENAMED))
def test_pbmc68k_renamed_symbols_reach_the_current_gene(pbmc_table, query):
    symbol, _hgnc_id, gene = RENAMED[query]
    row = pbmc_table.set_index("query").loc[query]
    assert row["outcome"] == "1:1"
    assert row["reason"] in ("renamed", "previous_symbol")
    assert row["target"] == gene
    assert row["symbol"] == symbol


def test_renamed_symbols_to_symbol_and_hgnc_id():
    snap = its.datasets.default_snapshot()
    queries = sorted(RENAMED)
    to_symbol = its.convert(queries, snapshot=snap, to="symbol", release=114)
    assert to_symbol["target"].tolist() == [RENAMED[q][0] for q in queries]
    to_hgnc = its.convert(queries, snapshot=snap, to="hgnc_id", release=114)
    assert to_hgnc["target"].tolist() == [RENAMED[q][1] for q in queries]


def test_uniquified_duplicate_is_read_back():
    # pbmc68k_reduced holds "TMBIM4-1", anndata's make-unique copy of TMBIM4
    table = its.convert(["TMBIM4-1"], snapshot=its.datasets.default_snapshot(), to="symbol", release=114)
    assert table.loc[0, "target"] == "TMBIM4"
    assert table.loc[0, "reason"] == "suffix_stripped"
