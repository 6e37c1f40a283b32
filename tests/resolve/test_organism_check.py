"""Whose genes are these: names of another organism are refused, with the organism named.

Real names: the MGI symbols and Ensembl IDs of squidpy's mouse test dataset
(``tests/data/organisms``) and the human symbols of pbmc68k_reduced, against the shipped
human and mouse snapshots and the embedded human subset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.resolve import OrganismMismatchError, check_organism, organism_fit

MOUSE_VAR = Path(__file__).parents[1] / "data" / "organisms" / "squidpy_mouse_var.tsv"


@pytest.fixture(scope="module")
def mouse_var() -> pd.DataFrame:
    return pd.read_csv(MOUSE_VAR, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def human_symbols() -> list[str]:
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced().var_names.tolist()


@pytest.fixture(scope="module")
def human():
    return its.registry.resolve_snapshot("human")


@pytest.fixture(scope="module")
def mouse():
    return its.registry.resolve_snapshot("mouse")


def test_mouse_symbols_under_human_name_mouse(mouse_var, human):
    with pytest.raises(OrganismMismatchError, match=r"look like mus_musculus genes, not homo_sapiens") as err:
        check_organism(mouse_var["symbol"], human, label="dataset 'brain'")
    message = str(err.value)
    assert message.startswith("dataset 'brain'")
    assert "convert_orthologs" in message
    assert "check_organism=False" in message
    fit = organism_fit(mouse_var["symbol"], human)
    assert list(fit.index) == ["homo_sapiens", "mus_musculus"]
    assert fit.loc["mus_musculus", "exact"] > 0.95
    assert fit.loc["homo_sapiens", "exact"] < 0.05


def test_mouse_ensembl_ids_under_human_name_the_prefix(mouse_var, human):
    with pytest.raises(OrganismMismatchError, match=r"IDs of mus_musculus \(ENSMUSG…\)"):
        check_organism(mouse_var["gene_ids"], human)
    with pytest.raises(OrganismMismatchError, match="mus_musculus"):
        check_organism(mouse_var["gene_ids"], its.datasets.default_snapshot())


def test_human_symbols_under_mouse_name_human(human_symbols, mouse):
    with pytest.raises(OrganismMismatchError, match=r"look like homo_sapiens genes, not mus_musculus"):
        check_organism(human_symbols, mouse)


def test_names_of_the_organism_pass(mouse_var, human_symbols, human, mouse):
    check_organism(mouse_var["symbol"], mouse)
    check_organism(mouse_var["gene_ids"], mouse)
    check_organism(human_symbols, human)
    # the 860-gene embedded subset knows few of them, but no other organism fits better
    check_organism(human_symbols, its.datasets.default_snapshot())
    # mouse symbols written in upper case fit human names as written and mouse names
    # better ignoring case: not refused under either organism
    upper = mouse_var["symbol"].str.upper()
    check_organism(upper, mouse)
    check_organism(upper, human)
    # too few names to judge
    check_organism(["Cd3e", "Actb"], human)
