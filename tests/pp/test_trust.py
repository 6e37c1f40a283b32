"""Nothing merged that should not be, nothing the user had lost (issues #19.5, #19.6, #20.2).

Real identifiers of the embedded human snapshot: TP53, CD3E, BRCA1 and their Ensembl IDs;
RN7SL1, whose name in release 75 belongs to a gene retired since with no known successor,
while today's RN7SL1 is another gene.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idtrack_sc as its
from idtrack_sc.pp import var_columns

COLS = var_columns("idtrack")
TP53, CD3E, BRCA1 = "ENSG00000141510", "ENSG00000198851", "ENSG00000012048"


def tenx(names, ids, x=None):
    """A 10x-style AnnData: symbols as var_names, Ensembl IDs in var['gene_ids']."""
    x = np.arange(1, 1 + 2 * len(names), dtype=np.float32).reshape(2, len(names)) if x is None else x
    return ad.AnnData(x, var=pd.DataFrame({"gene_ids": ids}, index=pd.Index(names, dtype=object)))


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# -- #19.5: a symbol and an ID that name different genes -------------------------------------------
def test_a_pair_that_disagrees_is_not_merged_into_the_ids_gene(snapshot_default):
    # CD3E's symbol beside TP53's Ensembl ID (a mislabelled row), next to the real TP53 row
    adata = tenx(["TP53", "CD3E", "BRCA1"], [TP53, TP53, BRCA1], x=np.array([[5, 7, 1]], dtype=np.float32))
    with pytest.warns(UserWarning, match=r"1 feature\(s\) whose two identifier columns name different genes"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default)
    var = adata.var
    assert var.loc[TP53, COLS["n_merged"]] == 1
    assert var.loc[TP53, COLS["original"]] == "TP53"
    assert float(adata[:, TP53].X[0, 0]) == 5  # not 5 + 7
    conflict = var[var[COLS["original"]] == "CD3E"]
    assert len(conflict) == 1
    row = conflict.iloc[0]
    assert (row[COLS["outcome"]], row[COLS["reason"]], row[COLS["pair"]]) == ("1:n", "pair_conflict", "disagree")
    assert set(row[COLS["gene_id"]].split("|")) == {TP53, CD3E}
    assert float(adata[:, conflict.index[0]].X[0, 0]) == 7
    assert adata.uns["idtrack"]["params"]["pair_conflict"] == "tie"


@pytest.mark.parametrize(
    ("policy", "ambiguous", "expect"),
    [
        ("tie", "drop", "dropped"),
        ("symbol", "best", CD3E),
        ("id", "best", TP53),
    ],
)
def test_pair_conflict_policies(snapshot_default, policy, ambiguous, expect):
    adata = tenx(["TP53", "CD3E", "BRCA1"], [TP53, TP53, BRCA1])
    quiet(its.pp.harmonize_var_names, adata, snapshot=snapshot_default, pair_conflict=policy, ambiguous=ambiguous)
    rec = adata.uns["idtrack"]
    if expect == "dropped":
        assert list(rec["dropped_ids"]) == ["CD3E"]
        assert list(rec["dropped_by"]) == ["ambiguous"]
        assert adata.var.loc[TP53, COLS["n_merged"]] == 1
    else:
        members = {o: name for name, j in adata.var[COLS["original"]].items() for o in j.split("|")}
        assert members["CD3E"] == expect
    assert list(rec["pair_disagreements"]["original"]) == ["CD3E"]


def test_pair_conflict_is_checked_and_passed_through_concat_and_mudata(snapshot_default):
    with pytest.raises(ValueError, match="pair_conflict='merge' is not a policy"):
        its.pp.harmonize_var_names(tenx(["TP53"], [TP53]), snapshot=snapshot_default, pair_conflict="merge")
    a = tenx(["TP53", "CD3E", "BRCA1"], [TP53, TP53, BRCA1])
    b = tenx(["TP53", "CD3E", "BRCA1"], [TP53, CD3E, BRCA1])
    merged = quiet(its.concat_harmonized, {"a": a, "b": b}, snapshot=snapshot_default, join="outer")
    assert merged.var.loc[TP53, COLS["original"]] == "TP53"
    assert merged.uns["idtrack"]["params"]["pair_conflict"] == "tie"
    assert merged.uns["idtrack"]["provenance"]["a"]["counts"]["reason"]["pair_conflict"] == 1

    import mudata as md

    mdata = quiet(md.MuData, {"rna": tenx(["TP53", "CD3E", "BRCA1"], [TP53, TP53, BRCA1])})
    with pytest.warns(UserWarning, match="name different genes"):
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default)
    assert mdata.mod["rna"].var.loc[TP53, COLS["n_merged"]] == 1


def test_cli_passes_pair_conflict(snapshot_default, tmp_path):
    from idtrack_sc.cli import main

    path = tmp_path / "in.h5ad"
    tenx(["TP53", "CD3E", "BRCA1"], [TP53, TP53, BRCA1]).write_h5ad(path)
    out = tmp_path / "out.h5ad"
    snap = tmp_path / "snap.idtrack.zip"
    snap.write_bytes(snapshot_default.path.read_bytes())
    quiet(main, ["harmonize", str(path), "-o", str(out), "--snapshot", str(snap), "--pair-conflict", "id"])
    result = ad.read_h5ad(out)
    assert result.uns["idtrack"]["params"]["pair_conflict"] == "id"
    assert result.var.loc[TP53, COLS["n_merged"]] == 2


# -- #19.6: a name that fails in one dataset and maps in another ------------------------------------
def test_a_name_failing_in_one_dataset_is_not_joined_with_the_gene_it_names_in_another(snapshot_default):
    today = ad.AnnData(np.full((2, 3), 1, dtype=np.float32), var=pd.DataFrame(index=["RN7SL1", "TP53", "BRCA1"]))
    old = ad.AnnData(np.full((3, 3), 9, dtype=np.float32), var=pd.DataFrame(index=["RN7SL1", "TP53", "CD3E"]))
    kwargs = {"snapshot": snapshot_default, "to": "symbol", "from_release": {"today": None, "old": 75}}
    with pytest.warns(UserWarning, match="another gene's name at the target release"):
        outer = its.concat_harmonized({"today": today, "old": old}, join="outer", **kwargs)
    var = outer.var
    assert var.loc["RN7SL1", COLS["outcome"]] == "1:1"
    assert var.loc["RN7SL1", "idtrack_n_datasets"] == 1  # today's RN7SL1 only
    rn7sl1 = np.asarray(outer.X)[:, outer.var_names.get_loc("RN7SL1")]
    assert rn7sl1[:2].tolist() == [1, 1]
    assert np.isnan(rn7sl1[2:]).all()  # the old dataset's counts (9) are not in today's RN7SL1
    apart = var.loc["RN7SL1~unmapped"]
    assert (apart[COLS["outcome"]], apart[COLS["reason"]], apart[COLS["original"]]) == ("1:0", "retired", "RN7SL1")
    assert apart["idtrack_n_datasets"] == 1
    kept = outer.uns["idtrack"]["kept_apart"]
    assert pd.DataFrame(kept).to_dict("records") == [
        {"id": "RN7SL1", "name": "RN7SL1~unmapped", "dataset": "old", "reason": "retired"}
    ]
    assert "RN7SL1" not in set(outer.uns["idtrack"]["failed_consistent"]["id"])
    inner = quiet(its.concat_harmonized, {"today": today, "old": old}, **kwargs)
    assert "RN7SL1" not in inner.var_names  # not measured as the same gene in both
    assert list(inner.var_names) == ["TP53"]


def test_a_name_failing_everywhere_is_still_one_feature(snapshot_default):
    a = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["RN7SL1", "TP53"]))
    b = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["RN7SL1", "TP53"]))
    merged = quiet(its.concat_harmonized, {"a": a, "b": b}, snapshot=snapshot_default, to="symbol", from_release=75)
    assert merged.var.loc["RN7SL1~unmapped", "idtrack_n_datasets"] == 2
    assert list(merged.uns["idtrack"]["failed_consistent"]["id"]) == ["RN7SL1"]


# -- #20.2: nothing the user had is lost ------------------------------------------------------------
def test_a_symbol_column_of_the_users_own_is_kept(snapshot_default):
    adata = ad.AnnData(np.ones((1, 2), dtype=np.float32), var=pd.DataFrame(index=[TP53, BRCA1]))
    adata.var["symbol"] = ["my TP53 label", "my BRCA1 label"]
    with pytest.warns(UserWarning, match="kept as var\\['symbol_before_idtrack'\\]"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, pair_key=None)
    assert adata.var["symbol_before_idtrack"].tolist() == ["my TP53 label", "my BRCA1 label"]
    assert adata.var["symbol"].tolist() == ["TP53", "BRCA1"]
    # the same values: nothing to keep, no warning
    same = ad.AnnData(
        np.ones((1, 2), dtype=np.float32), var=pd.DataFrame({"symbol": ["TP53", "BRCA1"]}, index=[TP53, BRCA1])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        its.pp.harmonize_var_names(same, snapshot=snapshot_default, pair_key=None, from_release=None)
    assert "symbol_before_idtrack" not in same.var


def test_columns_of_a_lost_record_are_refused_not_overwritten(snapshot_default):
    adata = ad.AnnData(np.ones((1, 2), dtype=np.float32), var=pd.DataFrame(index=["ENSG00000000003.16", TP53]))
    quiet(its.pp.harmonize_var_names, adata, snapshot=snapshot_default)
    del adata.uns["idtrack"]  # the record is lost (a tool that drops uns)
    before = adata.var.copy()
    with pytest.raises(ValueError, match="columns harmonization writes under key_added='idtrack'"):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default)
    pd.testing.assert_frame_equal(adata.var, before)
    assert adata.var.loc["ENSG00000000003", COLS["original"]] == "ENSG00000000003.16"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"symbol_key": "idtrack_original"}, "symbol_key='idtrack_original' is a column harmonization writes"),
        ({"symbol_key": "idtrack_reason"}, "is a column harmonization writes"),
        ({"symbol_key": "a/b"}, "symbol_key must be a var column name without '/'"),
        ({"key_added": "."}, "not made of dots only"),
        ({"key_added": ".."}, "not made of dots only"),
        ({"key_added": "x/y"}, "without '/'"),
        ({"key_added": " "}, "key_added must be a non-empty string"),
    ],
)
def test_record_names_that_would_erase_or_scatter_are_refused(snapshot_default, kwargs, match):
    adata = ad.AnnData(np.ones((1, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1"]))
    with pytest.raises(ValueError, match=match):
        its.pp.harmonize_var_names(adata, snapshot=snapshot_default, **kwargs)
    assert list(adata.var_names) == ["TP53", "BRCA1"]
    with pytest.raises(ValueError, match=match):
        its.concat_harmonized([adata, adata.copy()], snapshot=snapshot_default, **kwargs)


def test_old_var_names_are_kept_with_id_key(snapshot_default, tmp_path):
    var = pd.DataFrame({"ens": [TP53, TP53, BRCA1]}, index=["cell_ranger_1", "cell_ranger_2", "cell_ranger_3"])
    adata = ad.AnnData(np.ones((1, 3), dtype=np.float32), var=var)
    quiet(its.pp.harmonize_var_names, adata, snapshot=snapshot_default, id_key="ens")
    col = COLS["original_var_name"]
    assert adata.var.loc[TP53, col] == "cell_ranger_1|cell_ranger_2"
    assert adata.var.loc[BRCA1, col] == "cell_ranger_3"
    adata.write_h5ad(tmp_path / "x.h5ad")
    assert ad.read_h5ad(tmp_path / "x.h5ad").var.loc[TP53, col] == "cell_ranger_1|cell_ranger_2"


@pytest.mark.parametrize("engine", [None, "stream", "dask"])
def test_copy_inputs_false_is_all_or_nothing(snapshot_default, tmp_path, engine):
    first = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["ENSG00000000003.16", TP53]))
    first.uns["note"] = {"genes": np.array(["ENSG00000000003.16", TP53], dtype=object)}
    later = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["NOT_A_GENE_1", "NOT_A_GENE_2"]))
    kwargs = {"snapshot": snapshot_default, "copy_inputs": False, "unmapped": "drop"}
    if engine is not None:
        if engine == "dask":
            pytest.importorskip("dask")
        kwargs |= {"out_file": tmp_path / "out.h5ad", "engine": engine}
    with pytest.raises(ValueError, match="no feature would remain"):
        quiet(its.concat_harmonized, {"first": first, "later": later}, **kwargs)
    assert list(first.var_names) == ["ENSG00000000003.16", TP53]
    assert "idtrack" not in first.uns
    assert list(first.var.columns) == []
    assert list(first.uns["note"]["genes"]) == ["ENSG00000000003.16", TP53]
    # the true original identifiers are still there to be harmonized
    quiet(its.pp.harmonize_var_names, first, snapshot=snapshot_default)
    assert first.var[COLS["original"]].tolist() == ["ENSG00000000003.16", TP53]


@pytest.mark.parametrize("engine", [None, "stream", "dask"])
def test_copy_inputs_false_changes_every_input_once_all_succeeded(snapshot_default, tmp_path, engine):
    a = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["ENSG00000000003.16", TP53]))
    b = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1"]))
    kwargs = {"snapshot": snapshot_default, "copy_inputs": False}
    if engine is not None:
        if engine == "dask":
            pytest.importorskip("dask")
        kwargs |= {"out_file": tmp_path / "out.h5ad", "engine": engine}
    quiet(its.concat_harmonized, {"a": a, "b": b}, **kwargs)
    for adata in (a, b):
        assert "idtrack" in adata.uns
        assert TP53 in adata.var_names
    assert a.var[COLS["original"]].tolist() == ["ENSG00000000003.16", TP53]


@pytest.mark.parametrize("engine", [None, "stream", "dask"])
def test_concat_keeps_the_old_var_names_with_id_key(snapshot_default, tmp_path, engine):
    a = ad.AnnData(np.ones((1, 2), dtype=np.float32), var=pd.DataFrame({"ens": [TP53, BRCA1]}, index=["a1", "a2"]))
    b = ad.AnnData(np.ones((1, 2), dtype=np.float32), var=pd.DataFrame({"ens": [TP53, CD3E]}, index=["b1", "b2"]))
    kwargs = {"snapshot": snapshot_default, "id_key": "ens", "join": "outer"}
    if engine is not None:
        if engine == "dask":
            pytest.importorskip("dask")
        kwargs |= {"out_file": tmp_path / "out.h5ad", "engine": engine}
    merged = quiet(its.concat_harmonized, {"a": a, "b": b}, **kwargs)
    merged = ad.read_h5ad(tmp_path / "out.h5ad") if engine is not None else merged
    col = COLS["original_var_name"]
    assert merged.var[col].to_dict() == {TP53: "a1|b1", BRCA1: "a2", CD3E: "b2"}


def test_mudata_keeps_what_its_modalities_had(snapshot_default):
    import mudata as md

    rna = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=[TP53, BRCA1]))
    rna.var["symbol"] = ["label a", "label b"]
    mdata = quiet(md.MuData, {"rna": rna})
    with pytest.raises(ValueError, match="not made of dots only"):
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, key_added=".")
    with pytest.warns(UserWarning, match="kept as var\\['symbol_before_idtrack'\\]"):
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default, pair_key=None)
    assert mdata.mod["rna"].var["symbol_before_idtrack"].tolist() == ["label a", "label b"]
    # the modality's record lost: its columns are refused, the container left as it was
    del mdata.mod["rna"].uns["idtrack"]
    before = mdata.mod["rna"].var.copy()
    with pytest.raises(ValueError, match="uns\\['idtrack'\\] is missing"):
        its.pp.harmonize_var_names(mdata, snapshot=snapshot_default)
    pd.testing.assert_frame_equal(mdata.mod["rna"].var, before)


def test_copy_inputs_false_leaves_the_inputs_when_the_join_itself_fails(snapshot_default):
    a = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["ENSG00000000003.16", TP53]))
    b = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1"]))

    def failing_merge(elems):
        msg = "the join failed"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="the join failed"):
        quiet(its.concat_harmonized, [a, b], snapshot=snapshot_default, copy_inputs=False, merge=failing_merge)
    assert list(a.var_names) == ["ENSG00000000003.16", TP53]
    assert list(b.var_names) == ["TP53", "BRCA1"]
    assert "idtrack" not in a.uns
    assert "idtrack" not in b.uns


#: Real symbol/ID pairs of the default snapshot, mixed up at random by the property below.
PAIRS = [
    ("TP53", TP53),
    ("CD3E", CD3E),
    ("BRCA1", BRCA1),
    ("BRCA2", "ENSG00000139618"),
    ("KRAS", "ENSG00000133703"),
    ("p53", TP53),
    ("NOT_A_REAL_GENE", "ENSG00000099999"),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([p[0] for p in PAIRS]), st.sampled_from([p[1] for p in PAIRS])),
        min_size=1,
        max_size=8,
    ),
    ambiguous=st.sampled_from(["best", "drop", "all"]),
    to=st.sampled_from(["ensembl_gene", "symbol"]),
)
def test_no_conflicting_pair_is_ever_merged_into_a_gene(snapshot_default, rows, ambiguous, to):
    adata = tenx([symbol for symbol, _ in rows], [i for _, i in rows])
    adata.var_names_make_unique()
    try:
        quiet(its.pp.harmonize_var_names, adata, snapshot=snapshot_default, ambiguous=ambiguous, to=to)
    except ValueError as err:  # every feature dropped by the policies: a clear error
        error = str(err)
    else:
        error = ""
    if error:
        assert "no feature would remain" in error
        return
    var = adata.var
    for name, joined, statuses, reason in zip(
        var.index, var[COLS["original"]], var[COLS["pair"]], var[COLS["reason"]], strict=True
    ):
        if "disagree" in statuses.split("|"):
            # a conflict is never in a gene's own feature: kept apart (its own feature) or copied
            assert reason in ("pair_conflict", "ambiguous_expanded"), (name, joined, statuses)
            assert len(joined.split("|")) == 1 or set(statuses.split("|")) == {"disagree"}
