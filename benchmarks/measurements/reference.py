"""The reference tool's published figures (idtrack, theislab), quoted next to this run's.

Only figures with a public source are quoted, with that source. The reference tool cannot be
installed and run here (it builds its graph from Ensembl's MySQL server and REST API), so its
conversion speed and cached-load time are not quoted: no public source states them.
"""

from __future__ import annotations

from registry import Result, Table, measurement

IDTRACK_DOCS_GRAPH = "https://idtrack.readthedocs.io/en/development/_notebooks/03_initialization_graph.html"

#: Published figures of idtrack (Kemal Inecik, github.com/theislab/idtrack), each with its public source.
REFERENCE_FIGURES = {
    "graph_build": {
        "value": "minutes to hours",
        "source": (
            f'idtrack docs, "Part 3 — Graph Initialization & Management" ({IDTRACK_DOCS_GRAPH}): graph '
            'building "can take minutes to hours (depends on organism, enabled externals, and cache status)" '
            'and "multiple GB of disk"'
        ),
    },
}


@measurement("reference", "reference_figures", "idtrack (theislab) figures next to idtrack-sc's from this run")
def reference_figures(ctx) -> Result:
    """Quote the reference tool's published figures with their source; put this run's numbers beside them."""
    build = ctx.cache.get(("build_metrics", "homo_sapiens"), {})
    total = build.get("wall_s")
    rows = [
        [
            "build (human)",
            REFERENCE_FIGURES["graph_build"]["value"],
            f"{total:.1f} s from the gene tables" if total else "not measured (--no-build)",
            REFERENCE_FIGURES["graph_build"]["source"],
        ]
    ]
    note = (
        "The reference tool was not run here: it builds its graph from Ensembl's MySQL server and REST "
        "API, which this machine cannot reach. Its build also covers more external namespaces and "
        "merge/split history than the registry-derived snapshot used here (releases 84–114, no "
        "stable_id_event history), so the build figures are not like for like. Its conversion speed "
        "and cached-load time are not quoted: no public source gives them."
    )
    table = Table(
        "Reference tool vs this run",
        ["figure", "idtrack (reference, published)", "idtrack-sc (this run)", "source"],
        rows,
        note,
    )
    return Result(metrics={"reference": REFERENCE_FIGURES}, tables=[table])
