"""The seed's legacy-rescue list, through ``idtrack_sc.convert`` on the embedded default snapshot."""

from __future__ import annotations

import pandas as pd
import pytest

import idtrack_sc as its

LEGACY = ["TP53", "P53", "ENSG00000141510", "ENSG00000139618", "BRCA1", "NOT_A_REAL_GENE"]
TP53, BRCA1, BRCA2 = "ENSG00000141510", "ENSG00000012048", "ENSG00000139618"


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("ensembl_gene", [TP53, TP53, TP53, BRCA2, BRCA1, ""]),
        ("symbol", ["TP53", "TP53", "TP53", "BRCA2", "BRCA1", ""]),
    ],
)
def test_legacy_rescue(snapshot_default, to, expected):
    table = its.convert(LEGACY, snapshot=snapshot_default, to=to)
    assert table["query"].tolist() == LEGACY
    assert table["target"].tolist() == expected
    assert table["outcome"].tolist() == ["1:1"] * 5 + ["1:0"]
    assert table["n_targets"].tolist() == [1] * 5 + [0]
    assert table["reason"].tolist() == ["unchanged", "alias", "unchanged", "unchanged", "unchanged", "not_found"]
    # P53 is an alias of TP53: it reaches the same gene
    assert table["gene_id"].tolist()[:5] == [TP53, TP53, TP53, BRCA2, BRCA1]
    assert table["symbol"].tolist()[:5] == ["TP53", "TP53", "TP53", "BRCA2", "BRCA1"]
    # NOT_A_REAL_GENE fails cleanly: no candidates, no key, no gene
    gone = table.iloc[-1]
    assert gone["targets"] == ""
    assert gone["gene_id"] == ""
    assert pd.isna(gone["key"])


def test_legacy_rescue_with_every_release_of_the_snapshot(snapshot_default):
    for release in snapshot_default.releases:
        table = its.convert(LEGACY, snapshot=snapshot_default, to="symbol", release=release)
        assert table["target"].tolist() == ["TP53", "TP53", "TP53", "BRCA2", "BRCA1", ""], release
