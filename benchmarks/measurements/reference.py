"""The reference tool's published figures (idtrack, theislab), quoted next to this run's."""

from __future__ import annotations

from registry import Result, Table, measurement

IDTRACK_DOCS_GRAPH = "https://idtrack.readthedocs.io/en/development/_notebooks/03_initialization_graph.html"

#: Published / briefed figures of idtrack (Kemal Inecik, github.com/theislab/idtrack).
REFERENCE_FIGURES = {
    "conversion_ids_per_s": {
        "value": "100–200 identifiers/s",
        "low": 100.0,
        "high": 200.0,
        "source": (
            "as stated in our design brief (DESIGN.md §5); no exact public source for the number was found "
            "in idtrack's README, docs or issues"
        ),
    },
    "graph_build": {
        "value": "hours",
        "source": (
            f'idtrack docs, "Part 3 — Graph Initialization & Management" ({IDTRACK_DOCS_GRAPH}): graph '
            'building "can take minutes to hours (depends on organism, enabled externals, and cache status)" '
            'and "multiple GB of disk"; "hours" as stated in our design brief'
        ),
    },
    "cached_graph_load": {
        "value": "minutes",
        "source": "as stated in our design brief (no exact public source found)",
    },
}


@measurement("reference", "reference_figures", "idtrack (theislab) figures next to idtrack-sc's from this run")
def reference_figures(ctx) -> Result:
    """Quote the reference tool's figures with their source; put this run's numbers beside them."""
    tp = ctx.cache.get(("throughput_metrics", "homo_sapiens"), {})
    build = ctx.cache.get(("build_metrics", "homo_sapiens"), {})
    load = ctx.cache.get(("load_metrics", "homo_sapiens"), {})
    rows = []
    rate = tp.get("ensembl_gene", {}).get("warm_ids_per_s")
    ref = REFERENCE_FIGURES["conversion_ids_per_s"]
    rows.append(
        [
            "conversion speed",
            ref["value"],
            f"{rate:,.0f} identifiers/s (warm, to=ensembl_gene)" if rate else "not measured",
            f"×{rate / ref['high']:,.0f} – ×{rate / ref['low']:,.0f}" if rate else "",
            ref["source"],
        ]
    )
    total = build.get("wall_s")
    rows.append(
        [
            "build (human)",
            REFERENCE_FIGURES["graph_build"]["value"],
            f"{total:.1f} s from the gene tables" if total else "not measured (--no-build)",
            "",
            REFERENCE_FIGURES["graph_build"]["source"],
        ]
    )
    cold = load.get("cold_load_s")
    rows.append(
        [
            "load from cache (human)",
            REFERENCE_FIGURES["cached_graph_load"]["value"],
            f"{cold:.2f} s cold (+ {load.get('cold_import_s', 0):.2f} s import)" if cold else "not measured",
            "",
            REFERENCE_FIGURES["cached_graph_load"]["source"],
        ]
    )
    note = (
        "The reference tool was not run here: it builds its graph from Ensembl's MySQL server and REST "
        "API, which this machine cannot reach. Its build also covers more external namespaces and "
        "merge/split history than the registry-derived snapshot used here (releases 84–114, no "
        "stable_id_event history), so the build figures are not like for like."
    )
    table = Table(
        "Reference tool vs this run",
        ["figure", "idtrack (reference)", "idtrack-sc (this run)", "ratio", "source"],
        rows,
        note,
    )
    return Result(metrics={"reference": REFERENCE_FIGURES, "idtrack_sc_warm_ids_per_s": rate}, tables=[table])
