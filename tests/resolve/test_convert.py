"""Outcomes of the resolver on a snapshot built from public-format fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.resolve import COLUMNS, REASONS, summarize

CASES_114_SYMBOL = [
    # query, target, outcome, reason, parse
    ("TP53", "TP53", "1:1", "unchanged", "as_is"),
    ("  tp53 ", "TP53", "1:1", "unchanged", "as_is"),
    ("p53", "TP53", "1:1", "alias", "as_is"),
    ("ENSG00000141510", "TP53", "1:1", "unchanged", "as_is"),
    ("ENSG00000141510.16", "TP53", "1:1", "version_stripped", "version_stripped"),
    ("ENSG00000141510.99", "TP53", "1:1", "version_stripped", "version_stripped"),
    ("ENSG00000141510.18_PAR_Y", "TP53", "1:1", "par_y", "par_y"),
    ("ENST00000269305.9", "TP53", "1:1", "from_transcript", "version_stripped"),
    ("ENSP00000269305", "TP53", "1:1", "from_protein", "as_is"),
    ("HGNC:11998", "TP53", "1:1", "unchanged", "as_is"),
    ("7157", "TP53", "1:1", "unchanged", "as_is"),
    ("GeneID:7157", "TP53", "1:1", "unchanged", "as_is"),
    ("MARCH1", "MARCHF1", "1:1", "renamed", "as_is"),
    ("1-Mar", "MARCHF1", "1:1", "renamed", "date_repaired"),
    ("Mar-01", "MARCHF1", "1:1", "renamed", "date_repaired"),
    ("2-Sep", "SEPTIN2", "1:1", "renamed", "date_repaired"),
    ("SEPT5", "SEPTIN5", "1:1", "renamed", "as_is"),
    ("PNUTL1", "SEPTIN5", "1:1", "previous_symbol", "as_is"),
    ("FANCD1", "BRCA2", "1:1", "previous_symbol", "as_is"),
    ("C9orf142", "PAXX", "1:1", "renamed", "as_is"),
    ("4-Oct", "POU5F1", "1:1", "alias", "date_repaired"),
    ("TP53-1", "TP53", "1:1", "suffix_stripped", "suffix_stripped"),
    # TP53 is in the batch: TP53-1 is its uniquified copy; KRAS is not, and KRAS2 is a name
    ("KRAS.2", "KRAS", "1:1", "previous_symbol", "separator_removed"),
    ("PAXX-1", "PAXX", "1:1", "suffix_stripped", "suffix_stripped"),  # PAXX is written so: a copy
    ("Paxx-2", "", "1:0", "suffix_unconfirmed", "as_is"),  # no PAXX in the batch, no PAXX2, no "Paxx"
    ("BRAF_ENSG00000157764", "BRAF", "1:1", "suffix_stripped", "suffix_stripped"),
    ("ENSG00000260001", "CHAINC", "1:1", "history_successor", "as_is"),
    ("ENSG00000270011", "MERGEB", "1:1", "history_successor", "as_is"),
    ("ENSG00000270001", "SPLITA1", "1:1", "history_successor", "as_is"),
    ("ENSG00000270021", "", "1:n", "history_successor", "as_is"),
    ("60B8AG", "", "1:n", "alias", "as_is"),
    ("ENSG00000230202", "", "1:0", "retired", "as_is"),
    ("HIST2H2AA3", "H2AC18", "1:1", "previous_symbol", "as_is"),
    ("GeneID:8263", "", "1:n", "candidates_retired", "as_is"),
    ("ENSG00000289604", "", "1:0", "no_target_name", "as_is"),
    ("NOT_A_REAL_GENE", "", "1:0", "not_found", "as_is"),
    ("ERCC-00002", "", "1:0", "not_a_gene", "as_is"),
    ("CD3_TotalSeqB", "", "1:0", "not_a_gene", "as_is"),
    ("", "", "1:0", "empty", "as_is"),
]


@pytest.fixture(scope="module")
def table_114(resolver_snapshot):
    queries = [c[0] for c in CASES_114_SYMBOL]
    return its.convert(queries, snapshot=resolver_snapshot, to="symbol", release=114)


@pytest.mark.parametrize(("query", "target", "outcome", "reason", "parse"), CASES_114_SYMBOL)
def test_symbol_outcomes_at_114(table_114, query, target, outcome, reason, parse):
    row = table_114.set_index("query").loc[query]
    assert (row["target"], row["outcome"], row["reason"], row["parse"]) == (target, outcome, reason, parse)


def test_table_shape_and_vocabulary(table_114):
    assert list(table_114.columns) == list(COLUMNS)
    assert table_114["query"].tolist() == [c[0] for c in CASES_114_SYMBOL]
    assert set(table_114["reason"]) <= set(REASONS)
    n = table_114["n_targets"]
    assert ((table_114["outcome"] == "1:0") == (n == 0)).all()
    assert (table_114.loc[n > 1, "targets"].str.count(r"\|") == n[n > 1] - 1).all()


def test_split_candidates_ranked_by_score(resolver_snapshot):
    best = its.convert(["ENSG00000270001"], snapshot=resolver_snapshot, strategy="best").iloc[0]
    every = its.convert(["ENSG00000270001"], snapshot=resolver_snapshot, strategy="all").iloc[0]
    assert best["targets"] == every["targets"] == "ENSG00000290002|ENSG00000290003"
    assert (best["outcome"], best["target"]) == ("1:1", "ENSG00000290002")
    assert (every["outcome"], every["target"]) == ("1:n", "")


def test_equal_scores_stay_ambiguous_under_best(resolver_snapshot):
    row = its.convert(["ENSG00000270021"], snapshot=resolver_snapshot, strategy="best").iloc[0]
    assert row["outcome"] == "1:n"
    assert row["targets"] == "ENSG00000290021|ENSG00000290022"


def test_retired_gene_reports_release(resolver_snapshot):
    row = its.convert(["ENSG00000230202.1"], snapshot=resolver_snapshot, release=110).iloc[0]
    assert (row["outcome"], row["reason"], row["retired_in"]) == ("1:0", "retired", 108)
    assert (row["found_first"], row["found_last"]) == (100, 107)
    # still there in an earlier release
    row = its.convert(["ENSG00000230202"], snapshot=resolver_snapshot, release=104).iloc[0]
    assert (row["outcome"], row["target"]) == ("1:1", "ENSG00000230202")


def test_backward_travel(resolver_snapshot):
    table = its.convert(["ENSG00000260003", "ENSG00000289604"], snapshot=resolver_snapshot, release=101)
    assert table["target"].tolist() == ["ENSG00000260001", ""]
    assert table["reason"].tolist() == ["history_predecessor", "not_yet_created"]


def test_symbol_means_what_it_meant_then(resolver_snapshot):
    # MARCH1 was the primary symbol in release 100: at 100 it is simply current
    row = its.convert(["MARCH1"], snapshot=resolver_snapshot, to="symbol", release=100).iloc[0]
    assert (row["target"], row["reason"]) == ("MARCH1", "unchanged")
    row = its.convert(["MARCHF1"], snapshot=resolver_snapshot, to="ensembl_gene", release=100).iloc[0]
    assert row["target"] == "ENSG00000145416"


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("hgnc_id", "HGNC:1101"),
        ("HGNC ID", "HGNC:1101"),
        ("entrez", "675"),
        ("EntrezGene", "675"),
        ("HGNC Symbol", "BRCA2"),
    ],
)
def test_target_namespaces(resolver_snapshot, to, expected):
    assert its.convert(["ENSG00000139618"], snapshot=resolver_snapshot, to=to)["target"].tolist() == [expected]


def test_bad_arguments_are_clear(resolver_snapshot):
    with pytest.raises(ValueError, match="release 120 is outside the range .* releases 100 to 114"):
        its.convert(["TP53"], snapshot=resolver_snapshot, release=120)
    with pytest.raises(ValueError, match="Unknown target namespace 'kegg'"):
        its.convert(["TP53"], snapshot=resolver_snapshot, to="kegg")
    with pytest.raises(ValueError, match="strategy must be"):
        its.convert(["TP53"], snapshot=resolver_snapshot, strategy="first")
    with pytest.raises(TypeError, match="position 1"):
        its.convert(["TP53", ["BRCA1"]], snapshot=resolver_snapshot)
    with pytest.raises(TypeError, match="position 0 is a boolean"):
        its.convert([True], snapshot=resolver_snapshot)


def test_odd_inputs_get_explicit_outcomes(resolver_snapshot):
    queries = pd.Series([None, np.nan, 7157, 675.0, "x" * 10_000, "ΤΡ53", "TP53\u00a0", "TP53", "TP53"])
    table = its.convert(queries, snapshot=resolver_snapshot, to="symbol")
    assert table["reason"].tolist() == [
        "empty",
        "empty",
        "unchanged",
        "unchanged",
        "not_found",
        "not_found",
        "unchanged",
        "unchanged",
        "unchanged",
    ]
    assert table["target"].tolist()[2:4] == ["TP53", "BRCA2"]
    assert len(its.convert([], snapshot=resolver_snapshot)) == 0
    assert its.convert("TP53", snapshot=resolver_snapshot)["target"].tolist() == ["ENSG00000141510"]
    assert its.convert(np.array(["TP53"]), snapshot=resolver_snapshot)["outcome"].tolist() == ["1:1"]


def test_summary_bins(table_114):
    summary = summarize(table_114)
    assert summary["count"].sum() == len(table_114)
    assert list(dict.fromkeys(summary.index.get_level_values("outcome"))) == ["1:1", "1:n", "1:0"]
    assert summary.loc[("1:n", "alias"), "count"] == 1


def test_provenance_attrs(table_114, resolver_snapshot):
    info = table_114.attrs["idtrack"]
    assert info["release"] == 114
    assert info["namespace"] == "symbol"
    assert info["snapshot"]["sha256"] == resolver_snapshot.sha256


def test_explain_shows_history_path(resolver_snapshot):
    text = str(its.explain("ENSG00000260001", snapshot=resolver_snapshot))
    assert "ENSG00000260001 -> ENSG00000260002 @103 -> ENSG00000260003 @109" in text
    assert "history_successor" in text
    text = str(its.explain("1-Mar", snapshot=resolver_snapshot, to="symbol"))
    assert "date_repaired" in text
    assert "MARCHF1" in text
    exp = its.explain("ENSG00000230202", snapshot=resolver_snapshot)
    assert "retired" in str(exp)
    assert its.explain("NOT_A_REAL_GENE", snapshot=resolver_snapshot).steps[-1].endswith("not_found.")


def test_survivor_of_a_shared_identifier_is_not_confident(resolver_snapshot):
    # Entrez 8263 named three F8A copies in release 100; two are gone by 114 without a
    # recorded successor, so the one left is no confident answer.
    row = its.convert(["8263"], snapshot=resolver_snapshot, release=114).iloc[0]
    assert (row["outcome"], row["target"], row["targets"]) == ("1:n", "", "ENSG00000277150")
    assert row["lost_genes"] == "ENSG00000274791|ENSG00000277203"
    row = its.convert(["8263"], snapshot=resolver_snapshot, release=100).iloc[0]
    assert (row["outcome"], row["n_targets"], row["lost_genes"]) == ("1:n", 3, "")


def test_previous_symbol_leads_on_when_the_named_gene_is_gone(resolver_snapshot):
    # HIST2H2AA3 was the primary name of a gene retired after release 100; HGNC lists it as a
    # previous symbol of H2AC18, whose gene lives on.
    at_100 = its.convert(["HIST2H2AA3"], snapshot=resolver_snapshot, release=100).iloc[0]
    assert (at_100["target"], at_100["reason"]) == ("ENSG00000203812", "unchanged")
    at_114 = its.convert(["HIST2H2AA3"], snapshot=resolver_snapshot, release=114).iloc[0]
    assert (at_114["target"], at_114["reason"]) == ("ENSG00000288825", "previous_symbol")


def test_name_of_a_gene_outside_every_release_is_unknown_gene(tmp_path):
    from idtrack_sc.builders import build_snapshot, read_gene_table, read_hgnc

    from ..conftest import RESOLVER_DATA

    hgnc = tmp_path / "hgnc.txt"
    lines = (RESOLVER_DATA / "hgnc_complete_set.txt").read_text().splitlines()
    header = lines[0].split("\t")
    row = dict.fromkeys(header, "")
    row.update(hgnc_id="HGNC:4641", symbol="GSTT1", status="Approved", ensembl_gene_id="ENSG00000277656")
    hgnc.write_text("\n".join([*lines, "\t".join(row[c] for c in header)]) + "\n")
    snap = build_snapshot(
        [read_gene_table(RESOLVER_DATA / "genes_114.tsv", release=114), read_hgnc(hgnc)], organism="human"
    )
    row = its.convert(["GSTT1"], snapshot=snap).iloc[0]
    assert (row["outcome"], row["reason"], row["gene_id"]) == ("1:0", "unknown_gene", "ENSG00000277656")


@pytest.mark.parametrize("release", [114.7, 114.0, True, "latest", [114]])
def test_release_must_be_an_integer(resolver_snapshot, release):
    with pytest.raises(TypeError, match="release must be an Ensembl release number"):
        its.convert(["TP53"], snapshot=resolver_snapshot, release=release)


def test_release_accepts_integer_types(resolver_snapshot):
    for release in (114, np.int64(114), "114"):
        table = its.convert(["TP53"], snapshot=resolver_snapshot, release=release)
        assert table.attrs["idtrack"]["release"] == 114


def test_any_ordered_iterable_of_queries(resolver_snapshot):
    expected = its.convert(["TP53", "BRCA2"], snapshot=resolver_snapshot)
    for queries in ((q for q in ["TP53", "BRCA2"]), iter(("TP53", "BRCA2")), map(str.upper, ["tp53", "brca2"])):
        table = its.convert(queries, snapshot=resolver_snapshot)
        assert table["target"].tolist() == expected["target"].tolist()
    with pytest.raises(TypeError, match="order depends on hashing"):
        its.convert({"TP53", "BRCA2"}, snapshot=resolver_snapshot)
    with pytest.raises(TypeError, match="order depends on hashing"):
        its.convert({"TP53": 1}, snapshot=resolver_snapshot)


def test_case_folding_is_limited_to_the_letters_gene_names_use():
    """``ı`` (dotless i) and ``ſ`` (long s) are no ``I`` and ``S``: look-alikes fail like Cyrillic ones do.

    ASCII and Greek letters still match in any case (``rorα`` is RORα).
    """
    snap = its.fetch_snapshot("human", progressbar=False)
    table = its.convert(["ıl6", "ſox2", "İL6", "il6", "sox2", "rorα", "RORΑ"], snapshot=snap)
    assert table["outcome"].tolist() == ["1:0", "1:0", "1:0", "1:1", "1:1", "1:1", "1:1"]
    assert table["target"].tolist()[3:] == ["ENSG00000136244", "ENSG00000181449", "ENSG00000069667", "ENSG00000069667"]
