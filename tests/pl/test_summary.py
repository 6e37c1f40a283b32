from __future__ import annotations

import json
import subprocess
import sys

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from idtrack_sc.get._collect import collect  # noqa: E402
from idtrack_sc.pl._summary import PALETTE, segments  # noqa: E402


def harmonized(names, **kw):
    adata = ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol", **kw)
    return adata


@pytest.fixture
def pair():
    return {
        "A": harmonized(["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"]),
        "B": harmonized(["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE", "ERCC-00002", "1-Mar", "SEPT1"]),
    }


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_import_does_not_load_matplotlib_or_scanpy():
    code = (
        "import sys, json, idtrack_sc, idtrack_sc.pl, idtrack_sc.get; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'scanpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_single_anndata_returns_axes(pair):
    ax = its.pl.harmonization_summary(pair["B"], show=False)
    assert isinstance(ax, mpl.axes.Axes)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["AnnData\n7 features"]
    texts = {t.get_text() for t in ax.texts}
    assert "1:0  2" in "\n".join(texts)  # NOT_A_REAL_GENE and the spike-in


def test_several_datasets_draw_width_panel(pair):
    axes = its.pl.harmonization_summary(pair, show=False)
    assert isinstance(axes, list)
    assert len(axes) == 2
    width_labels = [t.get_text() for t in axes[1].get_yticklabels()]
    assert width_labels[-2:] == ["union (join='outer')", "intersection (join='inner')"]
    values = [p.get_width() for p in axes[1].patches]
    found = collect(pair)
    assert values[-2:] == [found.widths["union"], found.widths["intersection"]]


def test_given_ax_and_return_fig(pair):
    fig, ax = plt.subplots()
    out = its.pl.harmonization_summary(pair, ax=ax, show=False)
    assert out is ax
    fig2 = its.pl.harmonization_summary(pair, show=False, return_fig=True)
    assert isinstance(fig2, mpl.figure.Figure)


def test_save(tmp_path, pair):
    out = its.pl.harmonization_summary(pair, save=tmp_path / "summary")
    assert isinstance(out, list)  # saving implies show=False
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_segments_by_reason(pair):
    rows = {name: seg for name, seg, _ in segments(collect(pair))}
    assert rows["A"] == {"unchanged": 5}
    b = rows["B"]
    assert b["unknown"] == 1  # NOT_A_REAL_GENE
    assert b["not_gene"] == 1  # ERCC spike-in
    assert sum(b.values()) == 7


def test_segments_without_reason_split_for_ambiguous():
    adata = harmonized(["TP53"])
    rec = adata.uns["idtrack"]
    rec["counts"]["outcome"] = {"1:1": 5, "1:n": 2, "1:0": 1}
    rec["counts"]["reason"] = {"unchanged": 4, "alias": 3, "not_found": 1}
    del rec["counts"]["outcome_reason"]  # as recorded before outcome_reason existed
    ((_, seg, outcomes),) = segments(collect(adata))
    assert seg == {"mapped": 5, "ambiguous": 2, "unknown": 1}
    assert outcomes == {"1:1": 5, "1:n": 2, "1:0": 1}


def test_palette_is_okabe_ito():
    okabe_ito = {"#0072B2", "#56B4E9", "#009E73", "#F0E442", "#E69F00", "#D55E00", "#CC79A7", "#999999"}
    assert {c.color for c in PALETTE} <= okabe_ito


def test_not_harmonized_error():
    with pytest.raises(ValueError, match="harmonize_var_names"):
        its.pl.harmonization_summary(ad.AnnData(np.ones((2, 2))), show=False)


@pytest.mark.skipif(not hasattr(its.pp, "concat_harmonized"), reason="concat_harmonized has not landed")
def test_concat_result(pair):
    def make(names):
        return ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))

    merged = its.concat_harmonized(
        {"A": make(["TP53", "KRAS"]), "B": make(["TP53", "NOT_A_REAL_GENE"])}, snapshot="default", to="symbol"
    )
    axes = its.pl.harmonization_summary(merged, show=False)
    assert [t.get_text().split("\n")[0] for t in axes[0].get_yticklabels()] == ["A", "B"]
    assert [p.get_width() for p in axes[1].patches][-2:] == [2, 1]
