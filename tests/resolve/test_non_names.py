"""Names that are no gene names are not genes: missing values, positional names, common words.

On the shipped human and mouse snapshots, with real feature names: the human symbols of
pbmc68k_reduced (scanpy) and the MGI symbols and Ensembl IDs of squidpy's mouse test dataset
(``tests/data/organisms``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its

MOUSE_VAR = Path(__file__).parents[1] / "data" / "organisms" / "squidpy_mouse_var.tsv"
MISSING = ["nan", "NaN", "NA", "N/A", "#N/A", "<NA>", "None", "null", "NULL", "NaT", "inf", "-inf", "Inf"]


@pytest.fixture(scope="module")
def human_symbols() -> list[str]:
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced().var_names.tolist()


@pytest.fixture(scope="module")
def mouse_var() -> pd.DataFrame:
    return pd.read_csv(MOUSE_VAR, sep="\t", dtype=str, keep_default_na=False)


def _reasons(table: pd.DataFrame, queries: list[str]) -> dict[str, str]:
    rows = table.set_index("query").loc[queries]
    return dict(zip(queries, rows["reason"].astype(str), strict=True))


def test_missing_values_written_as_text_are_no_genes(human_symbols):
    made_unique = ["nan-1", "nan-2", "NA.1"]
    queries = human_symbols[:200] + MISSING + made_unique
    table = its.convert(queries, organism="human", to="symbol")
    spelled = table.iloc[200:]
    # before: nan and NaN were SCN11A (HGNC alias NaN), NA was XK, inf was CBLIF
    assert (spelled["outcome"] == "1:0").all()
    assert set(spelled["reason"].astype(str)) == {"missing_value"}
    assert (spelled["target"] == "").all()
    assert (spelled["query"].tolist()) == MISSING + made_unique  # the original stays
    # the real names around them are unaffected
    assert (table.iloc[:200]["outcome"] == "1:1").mean() > 0.95


def test_an_infinite_number_is_a_missing_value_not_an_error():
    table = its.convert([float("inf"), np.nan, 7157], organism="human", to="symbol")
    assert table["reason"].astype(str).tolist() == ["missing_value", "empty", "unchanged"]
    assert table["target"].tolist() == ["", "", "TP53"]


def test_positional_default_names_are_no_entrez_ids_but_an_entrez_column_is():
    snap = its.registry.resolve_snapshot("human")
    names = [str(i) for i in range(20_000)]  # AnnData's var_names without names
    table = its.convert(names, snapshot=snap, to="symbol")
    # before: 7,612 of them resolved 1:1 ('1' -> A1BG, '2' -> A2M)
    assert (table["outcome"] == "1:0").all()
    assert set(table["reason"].astype(str)) == {"not_a_name"}
    # what filtering leaves of them (no '0' any more) is no Entrez column either
    filtered = its.convert(names[1::7], snapshot=snap, to="symbol")
    assert set(filtered["reason"].astype(str)) == {"not_a_name"}
    # NCBI's own Gene IDs, as the snapshot holds them, are an Entrez-like column
    entrez = snap.names.loc[snap.names["namespace"] == "entrez", "value"].drop_duplicates().to_numpy()
    ids = entrez[np.linspace(0, len(entrez) - 1, 2000).astype(int)].tolist()
    back = its.convert(ids, snapshot=snap, to="symbol")
    assert back["outcome"].isin(["1:1", "1:n"]).mean() > 0.9
    assert "not_a_name" not in set(back["reason"].astype(str))
    # as integers too, and a single ID on its own
    assert its.convert([int(i) for i in ids[:50]], snapshot=snap, to="symbol")["reason"].ne("not_a_name").all()
    assert its.convert(["7157"], snapshot=snap, to="symbol")["target"].tolist() == ["TP53"]


@pytest.mark.parametrize(
    "queries",
    [["1", "nan", "NA"], ["1"], ["0", "1", "2"], ["1", "2", "3", "4"]],
    ids=["one-based-with-missing", "one", "zero-based", "one-based"],
)
def test_a_short_numbering_by_position_is_no_entrez_column(queries):
    # R numbers rows from 1, AnnData from 0: '1' first in a batch is a row number, not A1BG
    table = its.convert(queries, organism="human", to="symbol")
    assert (table["outcome"] == "1:0").all()
    integers = table[table["query"].str.isdigit()]
    assert (integers["reason"] == "not_a_name").all()


def test_a_numbering_does_not_depend_on_where_it_stands():
    # found by hypothesis: '1' second in a batch of three was a row number, third it was A1BG
    answers = {
        tuple(order): its.convert(list(order), organism="human", to="symbol").set_index("query").loc["1", "reason"]
        for order in (["TP53", "TP53", "1"], ["TP53", "1", "TP53"], ["1", "TP53", "TP53"])
    }
    assert set(answers.values()) == {"not_a_name"}


def test_short_entrez_lists_not_numbered_by_position_stay_entrez():
    table = its.convert(["7157", "1", "672"], organism="human", to="symbol")
    assert table["target"].tolist() == ["TP53", "A1BG", "BRCA1"]


def test_a_prefixed_entrez_id_is_entrez_in_any_batch():
    batch = [str(i) for i in range(30)] + ["GeneID:7157", "GeneID:1"]
    table = its.convert(batch, organism="human", to="symbol")
    assert set(table.iloc[:30]["reason"].astype(str)) == {"not_a_name"}
    assert table.iloc[30:]["target"].tolist() == ["TP53", "A1BG"]
    # 0 is never an NCBI Gene ID, also in a short batch
    short = its.convert(["0", "1", "2"], organism="human")
    assert set(short["reason"].astype(str)) == {"not_a_name"}


def test_common_words_in_another_case_are_no_symbols(human_symbols, mouse_var):
    human = its.convert([*human_symbols[:100], "yes", "no", "true", "Yes", "YES"], organism="human", to="symbol")
    reasons = _reasons(human, ["yes", "no", "true", "Yes", "YES"])
    # before: yes -> YES1 (HGNC alias "Yes", matched ignoring case)
    assert reasons["yes"] == "not_a_name"
    assert reasons["no"] == reasons["true"] == "not_found"
    # written exactly as HGNC writes the alias, or in upper case as human symbols are, it is
    # looked up as usual
    assert human.set_index("query").loc[["Yes", "YES"], "target"].tolist() == ["YES1", "YES1"]
    mouse = its.convert([*mouse_var["symbol"][:100], "no", "yes"], organism="mouse", to="symbol")
    # before: no -> Nos1 (MGI synonym "NO"), yes -> Yes1
    assert _reasons(mouse, ["no", "yes"]) == {"no": "not_a_name", "yes": "not_a_name"}
    # a word alone: no other names say how the list is written, so nothing is assumed
    assert its.convert(["yes"], organism="human", to="symbol")["target"].tolist() == ["YES1"]


def test_ensembl_ids_of_another_organism_say_so(mouse_var):
    ids = mouse_var["gene_ids"].tolist()[:50]
    for snapshot in ("human", its.datasets.default_snapshot()):
        table = its.convert(ids, snapshot=snapshot, to="symbol")
        assert set(table["reason"].astype(str)) == {"other_organism"}  # before: not_found
        assert (table["outcome"] == "1:0").all()
    # under their own organism they resolve
    assert its.convert(ids, organism="mouse", to="symbol")["outcome"].eq("1:1").mean() > 0.95


def test_explain_says_why_a_non_name_is_not_looked_up():
    snap = its.datasets.default_snapshot()
    assert "missing value" in str(its.explain("nan", snapshot=snap))
    assert "another organism" in str(its.explain("ENSMUSG00000059552", snapshot=snap))
