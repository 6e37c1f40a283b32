"""from_release='auto' on symbols alone: read in the target's assembly when it fits (pbmc68k, hg19-era)."""

from __future__ import annotations

import pytest

import idtrack_sc as its


@pytest.fixture
def pbmc():
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced()


def test_symbols_that_fit_the_grch37_set_best_are_read_in_grch38(pbmc):
    inference = its.infer_release(list(pbmc.var_names), snapshot=its.datasets.default_snapshot())
    assert inference.release == 75  # the names fit the GRCh37 gene set best ...
    its.pp.harmonize_var_names(pbmc, snapshot="default", release=114)
    record = pbmc.uns["idtrack"]["release"]
    assert record["anchor_release"] == 84  # ... but are read in the best-fitting GRCh38 release
    assert "inferred release 75 (GRCh37) from symbols alone" in record["assembly_note"]
    # the genes whose GRCh38 IDs sat on GRCh37 patches stay found
    symbols = set(pbmc.var["symbol"].astype(str))
    assert {"TXNIP", "MRPS21"} <= symbols


def test_an_explicit_older_release_is_honoured(pbmc):
    its.pp.harmonize_var_names(pbmc, snapshot="default", release=114, from_release=75)
    record = pbmc.uns["idtrack"]["release"]
    assert record["anchor_release"] == 75
    assert "assembly_note" not in record
