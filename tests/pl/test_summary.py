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

from idtrack_sc.pl._summary import PALETTE, segments  # noqa: E402
from idtrack_sc.record import collect  # noqa: E402


def harmonized(names, *, to_ensembl=False, **kw):
    adata = ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))
    its.pp.harmonize_var_names(adata, snapshot="default", to="ensembl_gene" if to_ensembl else "symbol", **kw)
    return adata


@pytest.fixture
def pair():
    return {
        "A": harmonized(["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"]),
        "B": harmonized(["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE", "ERCC-00002", "2-Sep", "SEPT1"]),
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


def test_single_anndata_returns_panels(pair):
    axes = its.pl.harmonization_summary(pair["B"], show=False)
    assert set(axes) == {"outcomes", "details"}  # no width panel for one dataset
    ax = axes["outcomes"]
    assert isinstance(ax, mpl.axes.Axes)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["AnnData\n7 features"]
    texts = {t.get_text() for t in ax.texts}
    assert "1:0  2" in "\n".join(texts)  # NOT_A_REAL_GENE and the spike-in


def _details(ax):
    """(category label, count label) per bar of the details panel."""
    labels = [t.get_text() for t in ax.get_yticklabels()]
    return dict(zip(labels, [t.get_text() for t in ax.texts], strict=True))


def test_small_categories_get_their_own_bar_with_count_and_examples(pair):
    axes = its.pl.harmonization_summary(pair, show=False)
    details = _details(axes["details"])
    # one feature in seven is a sliver of the 100 % bar; here it is a bar with its count and name
    assert details["B · 1:0 not found"].startswith("1 (14.3%)")
    assert "NOT_A_REAL_GENE" in details["B · 1:0 not found"]
    assert "ERCC-00002" in details["B · 1:0 not a gene / empty"]
    assert details["B · 1:1 renamed"].startswith("2 (28.6%)   e.g. 2-Sep→SEPTIN2, SEPT1→SEPTIN1")
    assert not any(label.startswith("A ·") for label in details)  # A: all five unchanged
    assert axes["details"].get_xscale() == "log"
    # every bar is visible: at least half a decade wide on the log axis
    assert all(p.get_x() + p.get_width() >= 2 * p.get_x() for p in axes["details"].patches)


def test_gene_symbols_names_the_examples():
    adata = harmonized(["SEPT1", "TP53", "NOT_A_REAL_GENE"], to_ensembl=True)
    plain = _details(its.pl.harmonization_summary(adata, show=False)["details"])
    named = _details(its.pl.harmonization_summary(adata, gene_symbols="symbol", show=False)["details"])
    (renamed,) = (k for k in plain if "renamed" in k or "cleaned" in k)
    assert "SEPT1→ENSG" in plain[renamed]
    assert "SEPT1→SEPTIN1" in named[renamed]
    with pytest.raises(ValueError, match="gene_symbols='no_such_column' is not a column of var"):
        its.pl.harmonization_summary(adata, gene_symbols="no_such_column", show=False)


def test_width_panel_shows_the_difference(pair):
    axes = its.pl.harmonization_summary(pair, show=False)
    ax = axes["widths"]
    width_labels = [t.get_text() for t in ax.get_yticklabels()]
    assert width_labels[-2:] == ["union (join='outer')", "intersection (join='inner')"]
    found = collect(pair)
    union, inter = found.widths["union"], found.widths["intersection"]
    xs = [float(x) for x, _ in ax.collections[-1].get_offsets()]
    assert xs[-2:] == [union, inter]
    assert f"union − intersection = {union - inter:,} features" in ax.get_title(loc="left")
    low, high = ax.get_xlim()
    assert low > 0  # the axis spans the widths, so a small difference is visible
    assert low < min(xs)
    assert high > max(xs)


def test_given_ax_and_return_fig(pair):
    fig, ax = plt.subplots()
    out = its.pl.harmonization_summary(pair, ax=ax, show=False)
    assert out is ax
    fig2 = its.pl.harmonization_summary(pair, show=False, return_fig=True)
    assert isinstance(fig2, mpl.figure.Figure)


def test_save_path(tmp_path, pair):
    out = its.pl.harmonization_summary(pair, save=tmp_path / "summary", show=False)
    assert set(out) == {"outcomes", "details", "widths"}
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"
    assert not plt.get_fignums()  # closed after saving


@pytest.fixture
def scanpy_settings():
    """scanpy's settings, restored afterwards (its settings properties cannot be monkeypatched)."""
    sc = pytest.importorskip("scanpy")
    names = ("figdir", "file_format_figs", "plot_suffix", "autoshow", "autosave")
    saved = {name: getattr(sc.settings, name) for name in names}
    yield sc.settings
    for name, value in saved.items():
        setattr(sc.settings, name, value)


def test_save_like_scanpy(tmp_path, pair, scanpy_settings):
    scanpy_settings.figdir = tmp_path / "figures"
    scanpy_settings.file_format_figs = "png"
    scanpy_settings.plot_suffix = ""
    assert its.pl.harmonization_summary(pair, save=True, show=False) is not None
    assert (tmp_path / "figures" / "harmonization_summary.png").read_bytes()[:4] == b"\x89PNG"
    its.pl.harmonization_summary(pair, save="_pair.svg", show=False)
    assert (tmp_path / "figures" / "harmonization_summary_pair.svg").read_text().lstrip().startswith("<?xml")
    scanpy_settings.plot_suffix = "_v2"
    its.pl.harmonization_summary(pair, save="_pair", show=False)
    assert (tmp_path / "figures" / "harmonization_summary_pair_v2.png").is_file()
    assert not plt.get_fignums()
    # show=None follows scanpy's autoshow: a shown figure returns None
    scanpy_settings.autoshow = True
    assert its.pl.harmonization_summary(pair, save="_shown") is None
    scanpy_settings.autoshow = False
    assert isinstance(its.pl.harmonization_summary(pair), dict)


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
    assert [t.get_text().split("\n")[0] for t in axes["outcomes"].get_yticklabels()] == ["A", "B"]
    assert [float(x) for x, _ in axes["widths"].collections[-1].get_offsets()][-2:] == [2, 1]
    assert "NOT_A_REAL_GENE" in _details(axes["details"])["B · 1:0 not found"]


def test_absolute_path_string_saves_to_that_file(tmp_path, pair, scanpy_settings):
    # scanpy would append the string to the name under figdir; an absolute path is the file
    scanpy_settings.figdir = tmp_path / "figures"
    its.pl.harmonization_summary(pair, save=str(tmp_path / "qc.png"), show=False)
    assert (tmp_path / "qc.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "figures").exists()


def test_log_axis_labels_every_decade_it_draws(pair):
    axes = its.pl.harmonization_summary(pair, show=False)
    ax = axes["details"]
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.xaxis.get_major_ticks() if lo <= t.get_loc() <= hi and t.tick1line.get_visible()]
    labels = [t.label1.get_text() for t in ticks]
    assert labels
    assert all(labels), labels  # no tick without its count
    assert not [t for t in ax.xaxis.get_minor_ticks() if lo <= t.get_loc() <= hi]
    top = max(p.get_x() + p.get_width() for p in ax.patches)
    last = max(t.get_loc() for t in ticks)
    assert top <= last < 10 * top  # the labelled decades end at the first one past the longest bar
    # the axis line stops there too: the room right of it holds the bars' labels
    assert ax.spines["bottom"].get_bounds()[1] == last
    plt.close("all")


def test_concat_widths_panel_says_how_many_features_each_dataset_lacks():
    def make(names):
        return ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))

    merged = its.concat_harmonized(
        {"A": make(["TP53", "KRAS", "BRCA1"]), "B": make(["TP53"])}, snapshot="default", to="symbol", join="outer"
    )
    texts = [t.get_text() for t in its.pl.harmonization_summary(merged, show=False)["widths"].texts]
    assert "3 · lacks 0" in texts
    assert "1 · lacks 2" in texts  # B never measured KRAS and BRCA1
