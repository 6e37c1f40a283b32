"""Invariants of the resolver, checked with hypothesis on the fixture snapshot."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import idtrack_sc as its

KNOWN = [
    "TP53",
    "p53",
    "ENSG00000141510.17",
    "MARCH1",
    "1-Mar",
    "SEPT5",
    "FANCD1",
    "60B8AG",
    "ENSG00000230202",
    "ENSG00000260001",
    "ENSG00000270001",
    "ENSG00000270021",
    "ENSG00000289604",
    "HGNC:1101",
    "GeneID:675",
    "NOT_A_REAL_GENE",
    "ERCC-00002",
    "KRAS.2",
    "",
    "C9orf142",
    "8263",
    "HIST2H2AA3",
]
queries = st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=30)), max_size=40)
namespaces = st.sampled_from(["ensembl_gene", "symbol", "hgnc_id", "entrez"])
releases = st.sampled_from([100, 104, 108, 110, 114])
common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@common
@given(qs=queries, to=namespaces, release=releases, seed=st.randoms(use_true_random=False))
def test_same_answer_in_any_order(resolver_snapshot, qs, to, release, seed):
    table = its.convert(qs, snapshot=resolver_snapshot, to=to, release=release)
    order = list(range(len(qs)))
    seed.shuffle(order)
    shuffled = its.convert([qs[i] for i in order], snapshot=resolver_snapshot, to=to, release=release)
    pd.testing.assert_frame_equal(table.iloc[order].reset_index(drop=True), shuffled)


@common
@given(qs=queries, to=namespaces, release=releases)
def test_converting_an_answer_again_returns_it(resolver_snapshot, qs, to, release):
    first = its.convert(qs, snapshot=resolver_snapshot, to=to, release=release)
    answers = first.loc[first["outcome"] == "1:1", "target"].tolist()
    again = its.convert(answers, snapshot=resolver_snapshot, to=to, release=release)
    assert again["target"].tolist() == answers
    assert set(again["outcome"]) <= {"1:1"}


@common
@given(qs=queries, to=namespaces, release=releases, strategy=st.sampled_from(["best", "all"]))
def test_outcome_is_consistent_with_targets(resolver_snapshot, qs, to, release, strategy):
    table = its.convert(qs, snapshot=resolver_snapshot, to=to, release=release, strategy=strategy)
    assert len(table) == len(qs)
    one = table["outcome"] == "1:1"
    assert (table.loc[one, "target"] != "").all()
    assert (table.loc[~one, "target"] == "").all()
    assert (table.loc[table["outcome"] == "1:0", "n_targets"] == 0).all()
    ambiguous = table[table["outcome"] == "1:n"]
    assert ((ambiguous["n_targets"] > 1) | (ambiguous["lost_genes"] != "")).all()
    hits = table[one]
    assert [t in ts.split("|") for t, ts in zip(hits["target"], hits["targets"], strict=True)] == [True] * len(hits)


@common
@given(release=releases, to=namespaces, strategy=st.sampled_from(["best", "all"]))
def test_shared_alias_is_never_one_to_one(resolver_snapshot, release, to, strategy):
    row = its.convert(["60B8AG"], snapshot=resolver_snapshot, release=release, to=to, strategy=strategy).iloc[0]
    assert row["outcome"] == "1:n"


@common
@given(release=st.sampled_from([108, 110, 114]), to=namespaces)
def test_retired_gene_never_maps_to_another(resolver_snapshot, release, to):
    row = its.convert(["ENSG00000230202"], snapshot=resolver_snapshot, release=release, to=to).iloc[0]
    assert (row["outcome"], row["reason"], row["retired_in"]) == ("1:0", "retired", 108)


def test_same_answer_under_any_hash_seed(resolver_snapshot_path):
    script = textwrap.dedent(
        f"""
        import hashlib, idtrack_sc as its
        snap = its.load_snapshot({str(resolver_snapshot_path)!r})
        table = its.convert({KNOWN!r} * 3, snapshot=snap, to="symbol", strategy="best")
        print(hashlib.sha256(table.to_csv(index=False).encode()).hexdigest())
        """
    )
    digests = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    snap = its.load_snapshot(resolver_snapshot_path)
    table = its.convert(KNOWN * 3, snapshot=snap, to="symbol", strategy="best")
    digests.add(hashlib.sha256(table.to_csv(index=False).encode()).hexdigest())
    assert len(digests) == 1
