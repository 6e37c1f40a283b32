"""The snapshot's history as a :class:`networkx.MultiDiGraph`, for people who want to look at it.

The resolver never walks this graph (it answers whole batches from precomputed tables); it is
built on request, from the snapshot's tables with vectorized joins, and cached per snapshot.
networkx is imported only here, on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._snapshot_cache import snapshot_cache

if TYPE_CHECKING:
    import networkx as nx

    from ..snapshot import Snapshot

#: ``node_type`` of Ensembl gene nodes.
GENE_NODE = "ensembl_gene"


def versioned_ids(gene_ids: pd.Series, versions: pd.Series) -> pd.Series:
    """``ENSG….18`` where the version is known, else the bare ID (vectorized)."""
    ids = gene_ids.astype(object)
    version = pd.to_numeric(versions, errors="coerce")
    known = version.notna().to_numpy()
    out = ids.to_numpy(dtype=object).copy()
    if known.any():
        out[known] = (ids[known].astype(str) + "." + version[known].astype("int64").astype(str)).to_numpy(dtype=object)
    return pd.Series(out, index=gene_ids.index, dtype=object)


def assembly_number(assembly: str | None) -> int | None:
    """The number in an assembly name (``GRCh38`` -> 38, ``Sscrofa11.1`` -> 111), else ``None``."""
    digits = "".join(c for c in str(assembly or "") if c.isdigit())
    return int(digits) if digits else None


def _gene_nodes(snapshot: Snapshot, release: int) -> pd.DataFrame:
    """One row per gene node (a gene ID with one version) known by ``release``."""
    genes = snapshot.genes
    spans = genes.loc[genes["first_release"] <= release].copy()
    spans["node"] = versioned_ids(spans["gene_id"], spans["version"]).to_numpy()
    spans["last_release"] = np.minimum(spans["last_release"].to_numpy(), release)
    spans = spans.sort_values(["gene_id", "first_release", "node"], kind="stable")
    nodes = spans.groupby("node", sort=False).agg(
        gene_id=("gene_id", "first"),
        version=("version", "first"),
        first_release=("first_release", "min"),
        last_release=("last_release", "max"),
        biotype=("biotype", "first"),
        source=("source", "first"),
    )
    return nodes.reset_index()


def _resolve_side(
    ids: pd.Series, versions: pd.Series, at: pd.Series, nodes: pd.DataFrame, *, newer: bool
) -> np.ndarray:
    """The gene node an event side refers to.

    Its own version if that node exists, else the node of the gene alive at the event's
    release (the closest one before or after).
    """
    exact = versioned_ids(ids, versions)
    known = set(nodes["node"])
    out = exact.to_numpy(dtype=object).copy()
    todo = ~exact.isin(known).to_numpy()
    if not todo.any():
        return out
    left = pd.DataFrame({"gene_id": ids[todo].astype(str).to_numpy(), "at": at[todo].astype("int64").to_numpy()})
    left["row"] = np.flatnonzero(todo)
    right = nodes[["gene_id", "first_release", "last_release", "node"]].copy()
    right["first_release"] = right["first_release"].astype("int64")
    left = left.sort_values("at", kind="stable")
    right = right.sort_values("first_release", kind="stable")
    before = pd.merge_asof(
        left, right, left_on="at", right_on="first_release", by="gene_id", direction="backward"
    ).set_index("row")
    after = pd.merge_asof(
        left, right, left_on="at", right_on="first_release", by="gene_id", direction="forward"
    ).set_index("row")
    rows = left["row"].to_numpy()
    b, a = before.loc[rows, "node"], after.loc[rows, "node"]
    if newer:  # the new side of an event: the node alive at the release, else the first after it
        alive = (before.loc[rows, "last_release"] >= before.loc[rows, "at"]).to_numpy()
        pick = np.where(alive & b.notna().to_numpy(), b.to_numpy(dtype=object), a.to_numpy(dtype=object))
        pick = np.where(pd.isna(pick), b.to_numpy(dtype=object), pick)
    else:  # the old side: the last node before the release, else the first one
        pick = np.where(b.notna().to_numpy(), b.to_numpy(dtype=object), a.to_numpy(dtype=object))
    pick = np.where(pd.isna(pick), exact.to_numpy(dtype=object)[rows], pick)
    out[rows] = pick
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as attribute dicts with plain Python values and ``None`` for missing ones."""
    cols = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_float_dtype(col.dtype) and name in (
            "version",
            "first_release",
            "last_release",
            "old_release",
        ):
            values = [None if v != v else int(v) for v in col.tolist()]  # noqa: PLR0124 - NaN test
        else:
            values = [None if v is None or (isinstance(v, float) and v != v) else v for v in col.tolist()]  # noqa: PLR0124
        cols[name] = values
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)] if names else []


def history_graph(snapshot: Snapshot, *, release: int | None = None, names: bool = True) -> nx.MultiDiGraph:
    """The snapshot's identifier history as a :class:`networkx.MultiDiGraph`.

    Nodes are Ensembl genes as they were in a range of releases — one node per gene ID and
    version (``ENSG00000141510.18``; the bare ID where the source gives no version) — and,
    with ``names=True``, the external names attached to them (symbols, HGNC IDs, Entrez IDs…).
    Edges point forward in time:

    - ``kind="version"``: the same gene's next version (attribute ``release``: the first
      release of the new version);
    - ``kind="event"``: a history event between different IDs (a replacement, merge or split,
      from Ensembl's own history or inferred), with its ``release``, ``old_release``,
      ``score`` and ``source``, and any other column the snapshot's events carry;
    - ``kind="name"``: from a name to the gene node it names, with ``namespace``,
      ``name_kind`` (primary, previous, alias, …), ``source`` and release range (``None`` for
      undated sources). A name is attached to the newest version of its gene in its
      release range (undated names: the gene's newest version).

    Gene nodes carry ``node_type="ensembl_gene"``, ``gene_id``, ``version``,
    ``first_release``, ``last_release``, ``biotype`` and ``source``; name nodes carry
    ``node_type`` set to their namespace. The graph's attributes (``G.graph``) are
    ``organism``, ``ensembl_release`` (the newest release the graph holds), ``assembly``,
    ``genome_assembly`` (its number, e.g. ``38``), ``releases`` and ``snapshot_sha256``.

    The graph is for inspection, exploration and drawing (closures, components, paths);
    conversions do not walk it: use :func:`~idtrack_sc.convert` for those. It is built with
    table joins and cached per snapshot, so later calls are free.

    Parameters
    ----------
    snapshot
        The organism's snapshot.
    release
        Newest release to include (default the snapshot's newest): genes first seen after it,
        and events and names dated after it, are left out.
    names
        Include external names as nodes (a graph of the human snapshot then has about 400,000
        nodes and edges, built in seconds); ``False`` for the Ensembl genes and their history alone.

    Returns
    -------
    The graph. Do not modify it: it is shared by later calls (copy it first).

    Examples
    --------
    >>> import idtrack_sc as its
    >>> g = its.history_graph(its.datasets.default_snapshot())
    >>> g.graph["organism"], g.graph["ensembl_release"]
    ('homo_sapiens', 114)
    >>> sorted(v for _, v, d in g.out_edges("TP53", data=True) if d["kind"] == "name")[-1]
    'ENSG00000141510.19'
    """
    import networkx as nx

    releases = snapshot.releases
    release = snapshot.latest_release if release is None else int(release)
    if not releases or not releases[0] <= release <= releases[-1]:
        msg = (
            f"release={release} is outside the releases the {snapshot.organism} snapshot covers "
            f"({releases[0] if releases else '-'}-{releases[-1] if releases else '-'})."
        )
        raise ValueError(msg)
    key = ("history_graph", release, bool(names))
    if key in snapshot_cache(snapshot):
        return snapshot_cache(snapshot)[key]

    nodes = _gene_nodes(snapshot, release)
    graph = nx.MultiDiGraph(
        organism=snapshot.organism,
        ensembl_release=release,
        assembly=snapshot.assembly,
        genome_assembly=assembly_number(snapshot.assembly),
        releases=[r for r in releases if r <= release],
        snapshot_sha256=snapshot.sha256,
    )
    attrs = nodes.drop(columns="node").assign(node_type=GENE_NODE)
    graph.add_nodes_from(zip(nodes["node"].tolist(), _records(attrs), strict=True))

    # the same gene's successive versions
    ordered = nodes.sort_values(["gene_id", "first_release"], kind="stable")
    same = (ordered["gene_id"].to_numpy()[1:] == ordered["gene_id"].to_numpy()[:-1]) if len(ordered) else []
    prev, nxt = ordered.iloc[:-1][same], ordered.iloc[1:][same]
    version_edges = pd.DataFrame(
        {
            "release": nxt["first_release"].to_numpy(),
            "source": nxt["source"].to_numpy(),
            "kind": "version",
        }
    )
    graph.add_edges_from(zip(prev["node"].tolist(), nxt["node"].tolist(), _records(version_edges), strict=True))

    # history events between different IDs
    ev = snapshot.events
    ev = ev.loc[
        ev["old_id"].notna() & ev["new_id"].notna() & (ev["old_id"] != ev["new_id"]) & (ev["release"] <= release)
    ]
    if len(ev):
        ev = ev.reset_index(drop=True)
        old_at = ev["old_release"].fillna(ev["release"] - 1)
        old = _resolve_side(ev["old_id"], ev["old_version"], old_at, nodes, newer=False)
        new = _resolve_side(ev["new_id"], ev["new_version"], ev["release"], nodes, newer=True)
        for node in set(old) | set(new):  # IDs the events know but no gene table does
            if node not in graph:
                graph.add_node(node, node_type=GENE_NODE, gene_id=str(node).split(".")[0])
        extra = [c for c in ev.columns if c not in ("old_id", "new_id", "old_version", "new_version")]
        event_attrs = ev[extra].copy()
        event_attrs["score"] = event_attrs["score"].astype("float64").round(6)
        event_attrs["kind"] = "event"
        graph.add_edges_from(zip(old.tolist(), new.tolist(), _records(event_attrs), strict=True))

    if names:
        _add_names(graph, snapshot, nodes, release)
    snapshot_cache(snapshot)[key] = graph
    return graph


def _add_names(graph: nx.MultiDiGraph, snapshot: Snapshot, nodes: pd.DataFrame, release: int) -> None:
    """Name nodes and ``name -> gene node`` edges (dated names to the spans they overlap)."""
    table = snapshot.names
    table = table.loc[table["value"].notna() & (table["first_release"].isna() | (table["first_release"] <= release))]
    table = table[["gene_id", "namespace", "value", "kind", "first_release", "last_release", "source"]]
    spans = nodes[["gene_id", "node", "first_release", "last_release"]].rename(
        columns={"first_release": "node_first", "last_release": "node_last"}
    )
    dated = table["first_release"].notna()
    # a dated name goes to the newest version of its gene that it overlaps (one edge per name)
    joined = table.loc[dated].reset_index(names="_row").merge(spans, on="gene_id", how="inner")
    joined = joined.loc[
        (joined["node_first"] <= joined["last_release"]) & (joined["first_release"] <= joined["node_last"])
    ]
    joined = joined.sort_values(["_row", "node_first"], kind="stable").drop_duplicates("_row", keep="last")
    joined = joined.drop(columns="_row")
    newest = spans.sort_values(["gene_id", "node_first"], kind="stable").drop_duplicates("gene_id", keep="last")
    undated = table.loc[~dated].merge(newest, on="gene_id", how="inner")
    edges = pd.concat([joined, undated], ignore_index=True)
    edges = edges.sort_values(["value", "namespace", "node", "kind", "source"], kind="stable")
    values = edges[["value", "namespace"]].drop_duplicates("value")
    graph.add_nodes_from((v, {"node_type": ns}) for v, ns in zip(values["value"], values["namespace"], strict=True))
    attrs = edges[["namespace", "kind", "first_release", "last_release", "source"]].assign(edge_kind="name")
    attrs = attrs.rename(columns={"kind": "name_kind"}).rename(columns={"edge_kind": "kind"})
    graph.add_edges_from(zip(edges["value"].tolist(), edges["node"].tolist(), _records(attrs), strict=True))
