"""Explain one answer as a path: query → key → anchor gene(s) → history → target.

This is the only place that walks the history graph per identifier; it is meant for people
reading one answer, not for batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._convert import convert
from ._index import MAX_HISTORY_STEPS, _candidates, alive_at, names_at

if TYPE_CHECKING:
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
        edges carry ``release`` and ``score``).
    """

    row: dict[str, Any]
    steps: list[str] = field(default_factory=list)
    paths: list[list[tuple[str, int | None]]] = field(default_factory=list)
    graph: nx.DiGraph = field(default_factory=lambda: _networkx().DiGraph())

    def __str__(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, 1))

    def _repr_markdown_(self) -> str:
        return "\n".join(f"{i}. {step}" for i, step in enumerate(self.steps, 1))


def _anchors(snapshot: Snapshot, release: int) -> pd.DataFrame:
    key = ("anchors", release)
    if key not in snapshot._derived:
        # the anchors the index was built from (built now if the index came from disk)
        snapshot._derived[key] = _candidates(snapshot, release)[1]["anchors"].set_index("key").sort_index()
    return snapshot._derived[key]


def _networkx():
    """networkx, imported on first use: only explanations need it, not batch conversion."""
    import networkx as nx

    return nx


def history_graph(snapshot: Snapshot) -> nx.MultiDiGraph:
    """Ensembl's history between different gene IDs as a directed multigraph (cached)."""
    key = ("history_graph",)
    if key not in snapshot._derived:
        ev = snapshot.events
        links = ev[ev["old_id"].notna() & ev["new_id"].notna() & (ev["old_id"] != ev["new_id"])]
        graph = _networkx().MultiDiGraph()
        for old, new, rel, score in links[["old_id", "new_id", "release", "score"]].itertuples(index=False):
            graph.add_edge(old, new, release=int(rel), score=float(score) if score == score else 1.0)  # noqa: PLR0124
        snapshot._derived[key] = graph
    return snapshot._derived[key]


def _walk(
    graph: nx.MultiDiGraph, start: str, release: int, alive: set[str], forward: bool
) -> list[list[tuple[str, int | None]]]:
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
    query: str, *, snapshot: Snapshot, to: str = "ensembl_gene", release: int | None = None, strategy: str = "best"
) -> Explanation:
    """Explain how one query is resolved, step by step.

    Parameters
    ----------
    query
        One identifier.
    snapshot, to, release, strategy
        As in :func:`~idtrack_sc.convert`.

    Returns
    -------
    An :class:`~idtrack_sc.resolve.Explanation`; ``print()`` it for the steps.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> print(its.explain("1-Mar", snapshot=its.datasets.default_snapshot(), to="symbol"))  # doctest: +SKIP
    """
    table = convert([query], snapshot=snapshot, to=to, release=release, strategy=strategy)
    row = table.iloc[0].to_dict()
    info = table.attrs["idtrack"]
    release, namespace = info["release"], info["namespace"]
    out = Explanation(row=row)
    steps = out.steps
    if row["reason"] == "empty":
        steps.append("The query is empty (None, NaN or blank): nothing to resolve.")
        return out
    if row["reason"] == "not_a_gene":
        steps.append(f"{query!r} looks like a non-gene feature (spike-in or antibody tag); it is not resolved.")
        return out
    if row["key"] is None:
        steps.append(f"{query!r} is not in the {snapshot.organism} snapshot under any namespace or release: not_found.")
        return out

    note = row["parse"]
    read = f"Read {query!r} as key {row['key']!r}"
    steps.append(read + ("." if note == "as_is" else f" ({note})."))
    anchors = _anchors(snapshot, release).loc[[row["key"]]]
    kinds = {0: "current name", 1: "name in another release", 2: "previous name", 3: "alias/synonym"}
    for a in anchors.itertuples():
        span = "undated source" if np.isnan(a.first) else f"releases {int(a.first)}-{int(a.last)}"
        what = "ID" if a.kind == "id" else (a.kind if a.qns != "symbol" else kinds.get(a.tier, a.kind))
        steps.append(f"Found as {a.qns} ({what}, {span}) of gene {a.gene}.")

    alive = set(alive_at(snapshot, release))
    graph = history_graph(snapshot)
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
            why = "was retired with no successor" if forward else "did not exist yet"
            steps.append(f"{gene} {why} by release {release}.")
        for path in paths:
            hops = " -> ".join(f"{g}" + (f" @{r}" if r is not None else "") for g, r in path)
            steps.append(f"History {'forward' if forward else 'backward'}: {hops}.")
        sub = {g for g, _ in (p for path in paths for p in path)} | {gene}
        out.graph.add_nodes_from(sub)
        for u, v, data in graph.subgraph(sub).edges(data=True):
            out.graph.add_edge(u, v, **data)

    if row["n_targets"]:
        if namespace != "ensembl_gene":
            lookup = names_at(snapshot, namespace, release)
            for gene in row["gene_id"].split("|"):
                steps.append(f"{gene} is {lookup.get(gene, '?')!r} in {namespace} at release {release}.")
        verdict = f"Outcome {row['outcome']} ({row['reason']})"
        if row["outcome"] == "1:1":
            verdict += f": {row['target']!r}."
        else:
            verdict += f": candidates {row['targets'].replace('|', ', ')}."
        steps.append(verdict)
    else:
        steps.append(f"Outcome 1:0 ({row['reason']}).")
    return out
