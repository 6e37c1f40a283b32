"""Explain one answer as a path: query → key → anchor gene(s) → history → target.

This is the only place that walks the history graph per identifier; it is meant for people
reading one answer, not for batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._convert import convert
from ._index import (
    DEFAULT_MIN_EVIDENCE,
    MAX_HISTORY_STEPS,
    alive_at,
    anchor_frame,
    anchor_rows,
    history_links,
    names_of,
)
from ._key_index import key_index
from ._snapshot_cache import snapshot_cache

#: Ties between readings, and what the other reading was.
_TIE_REASONS = {
    "separator_conflict": "the name without its separator before the final number",
    "suffix_conflict": "a uniquified copy of a name in the batch",
    "date_conflict": "another symbol a spreadsheet turns into the same date",
    "case_conflict": "the name exactly as written, case included",
    "geneless_symbol_conflict": "HGNC's approved symbol of a gene without an Ensembl gene",
}

if TYPE_CHECKING:
    import os

    import networkx as nx
    import pandas as pd

    from ..snapshot import Snapshot


@dataclass
class Explanation:
    """How one query was resolved.

    Attributes
    ----------
    row
        The query's row of the conversion table.
    steps
        Human-readable steps, in order.
    paths
        History paths taken: lists of ``(gene_id, release)`` from anchor to target.
    graph
        The part of the history graph around the anchor genes (:class:`networkx.DiGraph`;
        edges carry ``release``, ``score``, ``source`` and, for inferred links, ``evidence``
        and ``detail``).
    """

    row: dict[str, Any]
    steps: list[str] = field(default_factory=list)
    paths: list[list[tuple[str, int | None]]] = field(default_factory=list)
    graph: nx.DiGraph = field(default_factory=lambda: _networkx().DiGraph())

    def __str__(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, 1))

    def _repr_markdown_(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, 1))


#: Reasons given without a lookup, as explained to the user.
_NO_LOOKUP = {
    "missing_value": "a missing value written as text (nan, NA, None, …)",
    "not_a_name": (
        "no gene name: a positional default name or a bare integer in a batch that is not Entrez-like, or a "
        "common word matching a symbol only by case (explain() sees the query alone: convert() decides on the "
        "whole batch)"
    ),
    "other_organism": "an Ensembl ID of another organism than the snapshot's",
}


def _anchors(snapshot: Snapshot, key: str, anchor: int) -> pd.DataFrame:
    """The anchor rows of one key (names read in their meaning at ``anchor``), as the resolver reads them."""
    code = key_index(snapshot).lookup(np.array([key], dtype=object))
    return anchor_frame(anchor_rows(snapshot, code[code >= 0], anchor)).set_index("key")


def _networkx():
    """networkx, imported on first use: only explanations need it, not batch conversion."""
    import networkx as nx

    return nx


def _id_history(snapshot: Snapshot, min_evidence: str = DEFAULT_MIN_EVIDENCE) -> nx.MultiDiGraph:
    """History between different bare gene IDs as a directed multigraph (cached), for explanations.

    Ensembl's own events, and links inferred from loci and transcripts down to the
    ``min_evidence`` tier (edge attributes ``source``, ``evidence``, ``detail``).
    """
    key = ("id_history", min_evidence)
    if key not in snapshot_cache(snapshot):
        links = history_links(snapshot, min_evidence)
        graph = _networkx().MultiDiGraph()
        columns = ["old_id", "new_id", "release", "score", "source", "evidence", "detail"]
        for old, new, rel, score, source, evidence, detail in links[columns].itertuples(index=False):
            attrs = {"release": int(rel), "score": float(score), "source": source}
            if isinstance(evidence, str):
                attrs.update(evidence=evidence, detail=detail if isinstance(detail, str) else "")
            graph.add_edge(old, new, **attrs)
        snapshot_cache(snapshot)[key] = graph
    return snapshot_cache(snapshot)[key]


def _walk(
    graph: nx.MultiDiGraph, start: str, release: int, alive: set[str], forward: bool
) -> list[list[tuple[str, int | None]]]:  # each hop: (gene, release of the link)
    """Time-ordered paths from ``start`` to genes alive at ``release`` (depth-first)."""
    if start not in graph:
        return []
    paths: list[list[tuple[str, int | None]]] = []

    def step(node: str, at: float, path: list[tuple[str, int | None]]) -> None:
        if len(path) > MAX_HISTORY_STEPS:
            return
        edges = graph.out_edges(node, data=True) if forward else graph.in_edges(node, data=True)
        for u, v, data in sorted(edges, key=lambda e: (e[2]["release"], e[0], e[1])):
            nxt = v if forward else u
            rel = data["release"]
            ok = (at < rel <= release) if forward else (release < rel < at)
            if not ok or any(nxt == p for p, _ in path):
                continue
            new_path = [*path, (nxt, rel)]
            if nxt in alive:
                paths.append(new_path)
            else:
                step(nxt, rel, new_path)

    step(start, -np.inf if forward else np.inf, [(start, None)])
    return paths


def explain(
    query: str,
    *,
    snapshot: Snapshot | str | os.PathLike | None = None,
    organism: str | None = None,
    to: str = "ensembl_gene",
    release: int | None = None,
    strategy: str = "best",
    from_release: int | None = None,
    min_evidence: str = DEFAULT_MIN_EVIDENCE,
) -> Explanation:
    """Explain how one query is resolved, step by step.

    Parameters
    ----------
    query
        One identifier.
    snapshot, organism, to, release, strategy, from_release, min_evidence
        As in :func:`~idtrack_sc.convert`. A history step through an inferred link shows its
        evidence tier and what supports it.

    Returns
    -------
    An :class:`~idtrack_sc.resolve.Explanation`; ``print()`` it for the steps.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> print(its.explain("1-Mar", snapshot=its.datasets.default_snapshot(), to="symbol"))  # doctest: +SKIP
    """
    from ..registry import resolve_snapshot

    snapshot = resolve_snapshot(snapshot, organism)
    table = convert(
        [query],
        snapshot=snapshot,
        to=to,
        release=release,
        strategy=strategy,
        from_release=from_release,
        min_evidence=min_evidence,
    )
    row = table.iloc[0].to_dict()
    info = table.attrs["idtrack"]
    release, namespace, anchor = info["release"], info["namespace"], info.get("from_release")
    min_evidence = info["min_evidence"]
    out = Explanation(row=row)
    steps = out.steps
    if row["reason"] == "empty":
        steps.append("The query is empty (None, NaN or blank): nothing to resolve.")
        return out
    if row["reason"] == "not_a_gene":
        steps.append(f"{query!r} looks like a non-gene feature (spike-in or antibody tag); it is not resolved.")
        return out
    if row["reason"] in _NO_LOOKUP:
        steps.append(f"{query!r} is {_NO_LOOKUP[row['reason']]}; it is not looked up (see REASONS).")
        return out
    if row["key"] is None:
        steps.append(f"{query!r} is not in the {snapshot.organism} snapshot under any namespace or release: not_found.")
        return out

    note = row["parse"]
    read = f"Read {query!r} as key {row['key']!r}"
    steps.append(read + ("." if note == "as_is" else f" ({note})."))
    if anchor is not None and anchor != release:
        steps.append(f"Names are read in their meaning at release {anchor}, the release the data were annotated with.")
    anchors = _anchors(snapshot, row["key"], release if anchor is None else anchor)
    kinds = {0: "current name", 1: "name in another release", 2: "previous name", 3: "alias/synonym"}
    for a in anchors.itertuples():
        span = "undated source" if np.isnan(a.first) else f"releases {int(a.first)}-{int(a.last)}"
        what = "ID" if a.kind == "id" else (a.kind if a.qns != "symbol" else kinds.get(a.tier, a.kind))
        steps.append(f"Found as {a.qns} ({what}, {span}) of gene {a.gene}.")

    alive = set(alive_at(snapshot, release))
    graph = _id_history(snapshot, min_evidence)
    genes = sorted(set(anchors["gene"]))
    for gene in genes:
        if gene in alive:
            steps.append(f"{gene} exists in release {release}.")
            continue
        first = snapshot.genes.loc[snapshot.genes["gene_id"] == gene, "first_release"]
        forward = not (len(first) and first.min() > release)
        paths = _walk(graph, gene, release, alive, forward)
        out.paths.extend(paths)
        if not paths:
            why = {
                "presence_undetermined": f"is in only one of the covered releases around {release}: presence unknown",
                "outside_table_scope": "lies on a sequence region the later tables do not cover: not retired",
                "not_yet_created": "did not exist yet",
            }.get(str(row["reason"]), "was retired with no successor" if forward else "did not exist yet")
            steps.append(f"{gene} {why} by release {release}.")
        for path in paths:
            hops = " -> ".join(f"{g}" + (f" @{r}" if r is not None else "") for g, r in path)
            steps.append(f"History {'forward' if forward else 'backward'}: {hops}.")
            for (a, _), (b, rel) in zip(path[:-1], path[1:], strict=True):
                u, v = (a, b) if forward else (b, a)
                for data in graph.get_edge_data(u, v, default={}).values():
                    if data.get("evidence") and data["release"] == rel:
                        steps.append(
                            f"  {u} -> {v} is an inferred link ({data['evidence']} evidence, score "
                            f"{data['score']:.3f}): {data['detail']}; not Ensembl's own record."
                        )
        sub = {g for g, _ in (p for path in paths for p in path)} | {gene}
        out.graph.add_nodes_from(sub)
        for u, v, data in graph.subgraph(sub).edges(data=True):
            out.graph.add_edge(u, v, **data)

    if row["n_targets"]:
        if namespace != "ensembl_gene":
            lookup = names_of(snapshot, namespace, release, row["gene_id"].split("|"))
            for gene in row["gene_id"].split("|"):
                steps.append(f"{gene} is {lookup.get(gene, '?')!r} in {namespace} at release {release}.")
        if str(row["reason"]) in _TIE_REASONS:
            steps.append(
                f"Another plausible reading of {query!r} names other genes ({row['reason']}: "
                f"{_TIE_REASONS[str(row['reason'])]}): every candidate is kept, none is guessed."
            )
        verdict = f"Outcome {row['outcome']} ({row['reason']})"
        if row["outcome"] == "1:1":
            verdict += f": {row['target']!r}."
        else:
            verdict += f": candidates {row['targets'].replace('|', ', ')}."
        steps.append(verdict)
    else:
        steps.append(f"Outcome 1:0 ({row['reason']}).")
    return out
