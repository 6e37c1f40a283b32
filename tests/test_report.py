from __future__ import annotations

import base64
import json
import shutil
import subprocess
from html.parser import HTMLParser

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.report import report_summary, write_report

pytest.importorskip("matplotlib")

B = ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE", "<script>"]


@pytest.fixture
def data():
    out = {}
    for name, genes in (("A", ["TP53", "BRCA1", "BRCA2"]), ("B", B)):
        adata = ad.AnnData(np.ones((3, len(genes)), dtype=np.float32), var=pd.DataFrame(index=genes))
        its.pp.harmonize_var_names(adata, snapshot="default", to="symbol")
        out[name] = adata
    return out


class Checker(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.external = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def test_write_report_files(tmp_path, data):
    folder = write_report(data, tmp_path / "report")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["mapping.tsv", "summary.json", "summary.png", "index.html"]
    )
    table = pd.read_csv(folder / "mapping.tsv", sep="\t", keep_default_na=False)
    assert list(table.columns[:3]) == ["dataset", "original", "name"]
    assert len(table) == 3 + len(B)
    summary = json.loads((folder / "summary.json").read_text())
    sha = data["A"].uns["idtrack"]["snapshot"]["sha256"]
    assert summary["snapshot"]["sha256"] == sha
    assert summary["datasets"]["B"]["failed"]["NOT_A_REAL_GENE"] == "not_found"
    assert summary["datasets"]["B"]["outcome"] == {"1:1": 3, "1:n": 0, "1:0": 2}
    assert summary["widths"] == {"union": 5, "intersection": 2}
    assert (folder / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_is_self_contained_and_well_formed(tmp_path, data):
    folder = write_report(data, tmp_path / "report")
    page = (folder / "index.html").read_text()
    checker = Checker()
    checker.feed(page)
    assert checker.errors == []
    assert checker.stack == []
    assert checker.external == []
    assert "<script>" not in page.split("<style>")[1]  # identifiers are escaped
    assert "&lt;script&gt;" in page
    png = base64.b64encode((folder / "summary.png").read_bytes()).decode()
    assert png in page
    sha = data["A"].uns["idtrack"]["snapshot"]["sha256"]
    assert sha in page
    for text in ("NOT_A_REAL_GENE", "not_found", "Parameters", "Versions", "anndata"):
        assert text in page


def test_summary_is_json_safe_after_h5ad_round_trip(tmp_path, data):
    data["B"].write_h5ad(tmp_path / "b.h5ad")
    back = ad.read_h5ad(tmp_path / "b.h5ad")
    summary = report_summary(back)
    json.dumps(summary)  # numpy scalars and arrays are converted
    assert summary["kind"] == "anndata"
    assert summary["params"]["to"] == "symbol"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_html_renders_in_headless_chromium(tmp_path, data):
    folder = write_report(data, tmp_path / "report")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1100,1600",
            f"--screenshot={shot}",
            (folder / "index.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 10_000


@pytest.mark.skipif(not hasattr(its.pp, "concat_harmonized"), reason="concat_harmonized has not landed")
def test_report_of_concat_result(tmp_path):
    def make(names):
        return ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))

    merged = its.concat_harmonized(
        {"A": make(["TP53", "BRCA1"]), "B": make(B)}, snapshot="default", to="symbol", label="dataset"
    )
    folder = write_report(merged, tmp_path / "report")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["kind"] == "concat"
    assert summary["widths"] == {"union": 2, "intersection": 2}
    assert summary["datasets"]["B"]["failed"] == {"NOT_A_REAL_GENE": "not_found", "<script>": "not_found"}
    assert "failed_consistent" in (folder / "index.html").read_text()


def test_report_of_datasets_named_like_math_text(tmp_path, data):
    """Dataset and feature names are the user's: a ``$`` in them is text, not matplotlib math."""
    name = "$\\frac{a}{$"
    adata = ad.AnnData(np.ones((2, 3), dtype=np.float32), var=pd.DataFrame(index=["TP53", "$x^$", "NOT_A_GENE"]))
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol")
    folder = write_report({name: adata, "B": data["B"]}, tmp_path / "report")
    assert (folder / "summary.png").read_bytes().startswith(b"\x89PNG")
    assert name in json.loads((folder / "summary.json").read_text())["datasets"]
    assert name in (folder / "index.html").read_text()
    fig = its.pl.harmonization_summary({name: adata}, title="50$ of $\\sqrt{", show=False, return_fig=True)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert any(label.startswith("\\$\\frac{a}{\\$") for label in labels)


def test_mapping_tsv_cells_never_run_as_formulas(tmp_path):
    names = ["TP53", "=1+1", "@SUM(A1)", "-2+3"]
    adata = ad.AnnData(np.ones((2, 4), dtype=np.float32), var=pd.DataFrame(index=names))
    its.pp.harmonize_var_names(adata, snapshot="default", to="symbol")
    folder = write_report(adata, tmp_path / "report")
    table = pd.read_csv(folder / "mapping.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert sorted(table["original"]) == sorted(["TP53", "'=1+1", "'@SUM(A1)", "'-2+3"])
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in table.to_numpy().ravel())


def _changed_rows(html):
    section = html.split("<h2>Changed identifiers", 1)[1].split("<h2>", 1)[0]
    return section


@pytest.mark.parametrize("concat", [False, True])
def test_changed_identifiers_give_each_identifier_its_own_reason(tmp_path, concat):
    # TP53 and its versioned Ensembl ID meet on one gene: the versioned ID is version_stripped
    # (not "changed"), MARCH1 is renamed; an ambiguous drop (P40, an alias of ten genes) keeps
    # the resolver's reason in every table
    def make(names):
        return ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))

    a, b = make(["TP53", "MARCH1", "P40"]), make(["ENSG00000141510.19", "BRCA2"])
    if concat:
        data = its.concat_harmonized({"A": a, "B": b}, snapshot="default", release=114, ambiguous="drop", join="outer")
    else:
        data = make(["TP53", "ENSG00000141510.19", "MARCH1", "P40"])
        its.pp.harmonize_var_names(data, snapshot="default", release=114, ambiguous="drop")
    table = its.get.mapping_table(data).set_index("original")
    assert table.loc["TP53", "reason"] == "unchanged"
    assert table.loc["ENSG00000141510.19", "reason"] == "version_stripped"
    assert (table.loc["P40", "outcome"], table.loc["P40", "reason"]) == ("1:n", "alias")
    html = (write_report(data, tmp_path / "r") / "index.html").read_text()
    changed = _changed_rows(html)
    assert "MARCH1" in changed
    assert "renamed" in changed
    assert "ENSG00000141510.19" not in changed
    assert "unchanged" not in changed


def test_report_of_concat_result_lists_what_each_dataset_lacks(tmp_path):
    def make(names):
        return ad.AnnData(np.ones((3, len(names)), dtype=np.float32), var=pd.DataFrame(index=names))

    merged = its.concat_harmonized(
        {"A": make(["TP53", "BRCA1", "KRAS"]), "B": make(["TP53"])}, snapshot="default", to="symbol", join="outer"
    )
    out = tmp_path / "merged.h5ad"
    merged.write_h5ad(out)
    folder = write_report(ad.read_h5ad(out, backed="r"), tmp_path / "report")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["datasets"]["A"]["presence"] == {"n_measured": 3, "n_lacking": 0, "lacking": []}
    assert summary["datasets"]["B"]["presence"]["n_lacking"] == 2
    assert sorted(summary["datasets"]["B"]["presence"]["lacking"]) == ["BRCA1", "KRAS"]
    page = (folder / "index.html").read_text()
    assert "Features each dataset lacks" in page
    assert "idtrack_presence" in page
