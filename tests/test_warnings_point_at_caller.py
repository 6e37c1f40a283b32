"""Every warning of the package is attributed to the caller's line, not to a line of idtrack_sc."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd

import idtrack_sc as its


def _caught(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        func(*args, **kwargs)
    return [
        w
        for w in caught
        if issubclass(w.category, UserWarning)
        and "idtrack" in str(w.message).lower()
        or "identifier columns" in str(w.message)
    ]


def test_harmonize_and_concat_warnings_point_at_the_users_line():
    # a 10x-style pair whose columns name different genes warns, from harmonize_var_names and
    # from concat_harmonized alike (one level deeper inside the package)
    var = pd.DataFrame({"gene_ids": ["ENSG00000141510", "ENSG00000139618"]}, index=["TP53", "BRCA1"])

    def data():
        return ad.AnnData(np.ones((2, 2), dtype=np.float32), var=var.copy())

    for func, args in (
        (its.pp.harmonize_var_names, (data(),)),
        (its.concat_harmonized, ({"a": data(), "b": data()},)),
    ):
        caught = _caught(func, *args, snapshot="default", release=114)
        assert caught, func
        assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]


def test_anndatas_own_concat_warning_points_at_the_users_line():
    # anndata warns from ad.concat, called by idtrack-sc: re-emitted at the user's line
    def data(raw):
        adata = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA2"]))
        if raw:
            adata.raw = adata.copy()
        return adata

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        its.concat_harmonized({"a": data(True), "b": data(False)}, snapshot="default", release=114)
    raw = [w for w in caught if "raw" in str(w.message)]
    assert raw
    assert {w.filename for w in raw} == {__file__}
