"""The harmonization record: one layout shared by the writer (pp) and every reader (get, pl, report)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.record import (
    FAILURE_REASONS,
    collect,
    is_harmonized,
    make_record,
    outcome_reason_counts,
    uns_key,
    var_columns,
)
from idtrack_sc.resolve import REASON_OUTCOMES

FAILING = sorted(r for r, o in REASON_OUTCOMES.items() if o == "1:0")


def test_failure_reasons_are_the_resolvers():
    assert sorted(FAILURE_REASONS) == FAILING
    assert {"unknown_gene", "outside_table_scope", "presence_undetermined"} <= set(FAILURE_REASONS)


def test_uns_key_escapes_group_separators():
    assert uns_key("batch/1") == "batch_1"
    assert uns_key("") == "_"
    assert uns_key("plain") == "plain"


def _older_record(reason: str) -> ad.AnnData:
    """A real harmonization whose record is written as releases before ``outcome_reason`` wrote it.

    Its one failed identifier (dropped by ``unmapped="drop"``) failed with ``reason``; such a
    record only has reason counts, so readers must know which reasons are failures.
    """
    adata = ad.AnnData(np.ones((2, 3), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1", "NOT_A_REAL_GENE"]))
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol", unmapped="drop")
    rec = adata.uns["idtrack"]
    assert dict(rec["counts"]["reason"]) == {"not_found": 1, "unchanged": 2}
    for key in ("dropped_outcomes", "dropped_reasons", "dropped_targets", "dropped_by"):
        del rec[key]
    del rec["counts"]["outcome_reason"]
    rec["counts"]["reason"] = {reason: 1, "unchanged": 2}
    return adata


@pytest.mark.parametrize("reason", FAILING)
def test_every_failure_reason_counts_as_failed(reason):
    """Regression: readers listed failure reasons of their own and missed some of the resolver's.

    ``outside_table_scope`` and ``presence_undetermined`` (1:0 reasons of the resolver) were
    counted as successes (1:1) by the report and the plot, and the mapping table could not
    give dropped identifiers their reason.
    """
    adata = _older_record(reason)
    summary = its.report.report_summary(adata)
    by = summary["datasets"]["AnnData"]["reasons_by_outcome"]
    assert by["1:0"] == {reason: 1}
    assert by["1:1"] == {"unchanged": 2}
    table = its.get.mapping_table(adata)
    dropped = table[~table["kept"]]
    assert dropped["original"].tolist() == ["NOT_A_REAL_GENE"]
    assert dropped["outcome"].tolist() == ["1:0"]
    assert dropped["reason"].tolist() == [reason]
    outcomes, by = outcome_reason_counts(collect(adata).datasets[0])
    assert outcomes == {"1:1": 2, "1:n": 0, "1:0": 1}
    assert by["1:0"] == {reason: 1}


def test_plot_counts_every_failure_as_failed():
    pytest.importorskip("matplotlib")
    from idtrack_sc.pl._summary import segments

    ((_, seg, outcomes),) = segments(collect(_older_record("outside_table_scope")))
    assert outcomes["1:0"] == 1
    assert sum(seg.values()) == 3
    assert seg.get("unchanged") == 2  # the failure is not drawn as a 1:1 feature


def test_writer_and_reader_share_the_layout(snapshot_default):
    adata = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1"]))
    assert not is_harmonized(adata)
    its.pp.harmonize_var_names(adata, snapshot=snapshot_default, key_added="ids")
    assert is_harmonized(adata, "ids")
    assert set(var_columns("ids").values()) - {"ids_pair", "ids_pair_gene_id", "ids_original_var_name"} <= set(
        adata.var.columns
    )
    rec = adata.uns["ids"]
    plain = make_record(function="f", params={"a/b": None}, snapshot=snapshot_default, counts={}, environment=False)
    assert set(plain) <= set(rec)
    assert plain["params"] == {"a_b": ""}
    assert plain["snapshot"] == rec["snapshot"]
    found = collect(adata, "ids")
    assert found.kind == "anndata"
    assert found.datasets[0].var is not None


def test_concat_record_is_read_per_dataset(snapshot_default):
    datasets = {
        "lab/1": ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "NOT_A_REAL_GENE"])),
        "lab/2": ad.AnnData(np.ones((3, 2), dtype=np.float32), var=pd.DataFrame(index=["BRCA1", "NOT_A_REAL_GENE"])),
    }
    result = its.concat_harmonized(datasets, snapshot=snapshot_default, unmapped="drop")
    rec = result.uns["idtrack"]
    assert sorted(rec["provenance"]) == ["lab_1", "lab_2"]
    found = collect(result)
    assert found.kind == "concat"
    assert [d.name for d in found.datasets] == ["lab/1", "lab/2"]
    for ds in found.datasets:
        assert list(ds.record["dropped_ids"]) == ["NOT_A_REAL_GENE"]
        assert list(ds.record["dropped_outcomes"]) == ["1:0"]


def test_written_records_have_exactly_the_documented_keys(tmp_path):
    # the key table of docs/reproducibility.md is generated from RECORD_KEYS: a key written but
    # not described there (or described but never written) fails here
    import warnings

    from idtrack_sc.record import OPTIONAL_RECORD_KEYS, RECORD_KEYS, RECORD_PARAMS

    names = ["TP53", "BRCA1", "KRAS", "P40", "NOT_A_REAL_GENE"]
    ids = ["ENSG00000141510", "ENSG00000141510", "ENSG00000133703", "", "ENSG00000012048"]
    adata = ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame({"gene_ids": ids}, index=names))
    adata.raw = adata.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        its.pp.harmonize_var_names(adata, snapshot="default", ambiguous="drop")
        other = ad.AnnData(np.ones((3, 1), dtype=np.float32), var=pd.DataFrame(index=["TP53"]))
        its.pp.apply_record(other, adata.uns["idtrack"])
    for record in (adata.uns["idtrack"], other.uns["idtrack"]):
        keys = set(record)
        assert keys <= set(RECORD_KEYS), keys - set(RECORD_KEYS)
        assert set(RECORD_KEYS) - set(OPTIONAL_RECORD_KEYS) <= keys
        assert set(record["params"]) == set(RECORD_PARAMS)
    assert {"raw_counts", "pair_disagreements"} <= set(adata.uns["idtrack"])
    assert "applied_record" in other.uns["idtrack"]
