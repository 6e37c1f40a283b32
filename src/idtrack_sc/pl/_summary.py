"""``harmonization_summary``: what happened to the features of one or several datasets."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..get._collect import collect, outcome_reason_counts

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from mudata import MuData

    from ..get._collect import Harmonized

logger = logging.getLogger(__name__)


class Category(NamedTuple):
    """A bar segment: a group of (outcome, reason) pairs with its label and colour."""

    name: str
    label: str
    color: str
    outcome: str
    reasons: tuple[str, ...]


# Okabe & Ito (2008) colours: distinguishable with every common colour-vision deficiency.
#: Bar segments, in stacking order. Reasons not listed fall into the last category of their outcome.
PALETTE: tuple[Category, ...] = (
    Category("unchanged", "1:1 unchanged", "#0072B2", "1:1", ("unchanged",)),
    Category(
        "cleaned",
        "1:1 cleaned up (version, suffix, date)",
        "#56B4E9",
        "1:1",
        ("version_stripped", "par_y", "date_repaired", "suffix_stripped", "separator_removed"),
    ),
    Category(
        "renamed",
        "1:1 renamed (previous symbol, alias)",
        "#009E73",
        "1:1",
        ("renamed", "previous_symbol", "previous_id", "alias"),
    ),
    Category(
        "history",
        "1:1 via ID history, transcript, protein",
        "#F0E442",
        "1:1",
        ("history_successor", "history_predecessor", "from_transcript", "from_protein"),
    ),
    Category("mapped", "1:1 mapped", "#0072B2", "1:1", ()),
    Category("ambiguous", "1:n ambiguous", "#E69F00", "1:n", ()),
    Category(
        "gone", "1:0 retired / no target name", "#D55E00", "1:0", ("retired", "not_yet_created", "no_target_name")
    ),
    Category("unknown", "1:0 not found", "#CC79A7", "1:0", ("not_found", "suffix_unconfirmed")),
    Category("not_gene", "1:0 not a gene / empty", "#999999", "1:0", ("not_a_gene", "empty")),
)
_DARK = {"#0072B2", "#009E73", "#D55E00", "#CC79A7"}
_BY_NAME = {c.name: c for c in PALETTE}


def _category(outcome: str, reason: str) -> Category:
    for cat in PALETTE:
        if cat.outcome == outcome and reason in cat.reasons:
            return cat
    return {"1:1": _BY_NAME["history"], "1:n": _BY_NAME["ambiguous"]}.get(outcome, _BY_NAME["gone"])


def segments(found: Harmonized) -> list[tuple[str, dict[str, int], dict[str, int]]]:
    """Per dataset: its label, the count per bar category and the outcome totals."""
    out = []
    for ds in found.datasets:
        outcomes, by = outcome_reason_counts(ds)
        seg: dict[str, int] = {}
        for outcome in ("1:1", "1:n", "1:0"):
            reasons = by[outcome]
            if outcome == "1:n":
                if outcomes["1:n"]:
                    seg["ambiguous"] = outcomes["1:n"]
                continue
            if reasons is None or (outcomes[outcome] and sum(reasons.values()) != outcomes[outcome]):
                if outcomes[outcome]:
                    seg["mapped" if outcome == "1:1" else "gone"] = outcomes[outcome]
                continue
            for reason, n in reasons.items():
                name = _category(outcome, reason).name
                seg[name] = seg.get(name, 0) + n
        out.append((ds.name or "AnnData", seg, outcomes))
    return out


def _subtitle(found: Harmonized) -> str:
    rec = found.record or (found.datasets[0].record if found.datasets else {})
    params = rec.get("params", {}) or found.datasets[0].params
    targets = {(str(d.params.get("to", "")), str(d.params.get("release", ""))) for d in found.datasets}
    if len(targets) > 1:
        params = {"to": "several namespaces", "release": "(datasets differ)"}
    snap = rec.get("snapshot", {}) or found.datasets[0].record.get("snapshot", {})
    sha = str(snap.get("sha256", ""))[:12]
    parts = []
    if params.get("to"):
        parts.append(f"to {params['to']} at Ensembl {params.get('release', '?')}")
    if snap.get("organism"):
        parts.append(f"{snap['organism']} snapshot {sha}" if sha else str(snap["organism"]))
    return " · ".join(parts)


def harmonization_summary(
    data: AnnData | MuData | Mapping[str, AnnData],
    *,
    key: str = "idtrack",
    ax: Axes | None = None,
    show: bool | None = None,
    save: str | os.PathLike | None = None,
    return_fig: bool = False,
    title: str | None = None,
) -> Axes | list[Axes] | Figure | None:
    """Plot what happened to each dataset's features: 1:1, 1:n and 1:0, by reason.

    One horizontal bar per dataset, as long as its number of features before
    harmonization, split into outcomes and reasons (colour-blind-safe Okabe-Ito colours,
    :data:`PALETTE`) with the counts written on the bars. For several datasets (a
    :func:`~idtrack_sc.concat_harmonized` result or a mapping of AnnDatas) a second panel
    shows each dataset's width after harmonization and the union (``join="outer"``) and
    intersection (``join="inner"``) widths.

    Parameters
    ----------
    data
        A harmonized AnnData, a MuData with harmonized modalities, a concat result, or a
        mapping of dataset names to harmonized AnnDatas.
    key
        The ``key_added`` used when harmonizing.
    ax
        Draw the outcome bars into this Axes (the width panel is then left out).
    show
        Show the figure; default: show unless ``save`` is given.
    save
        Save the figure to this file (format from the suffix; ``.png`` if there is none).
    return_fig
        Return the Figure instead of the Axes.
    title
        Title; default "Identifier harmonization".

    Returns
    -------
    ``None`` if the figure is shown; else the Figure if ``return_fig``, else the outcome
    Axes, or ``[outcome_axes, width_axes]`` when the width panel is drawn.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> its.pl.harmonization_summary({"A": a, "B": b}, show=False)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    found = collect(data, key)
    rows = segments(found)
    widths = found.widths
    with_widths = ax is None and widths is not None
    n = len(rows)
    if ax is None:
        height = 1.4 + 0.55 * n + ((0.32 * (n + 2) + 0.9) if with_widths else 0)
        fig = plt.figure(figsize=(9.0, height), layout="constrained")
        if with_widths:
            grid = fig.add_gridspec(2, 1, height_ratios=[0.55 * n + 0.6, 0.32 * (n + 2) + 0.3])
            ax = fig.add_subplot(grid[0])
            ax_w = fig.add_subplot(grid[1])
        else:
            ax = fig.add_subplot()
    else:
        fig = ax.figure
    _draw_outcomes(ax, rows)
    ax.set_title(title if title is not None else "Identifier harmonization", loc="left", fontsize=12, pad=16)
    subtitle = _subtitle(found)
    if subtitle:
        ax.text(0, 1.02, subtitle, transform=ax.transAxes, fontsize=8.5, color="#555555", va="bottom")
    axes: Axes | list[Axes] = ax
    if with_widths:
        after = [(ds.name, int(ds.counts.get("n_vars_after", 0))) for ds in found.datasets]
        _draw_widths(ax_w, after, widths)
        axes = [ax, ax_w]

    if save is not None:
        path = Path(save)
        if not path.suffix:
            path = path.with_suffix(".png")
        fig.savefig(path, dpi=150, bbox_inches="tight")
        logger.info("saved figure to %s", path)
    if show is None:
        show = save is None
    if show:
        plt.show()
        return None
    return fig if return_fig else axes


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def _draw_outcomes(ax: Axes, rows: list[tuple[str, dict[str, int], dict[str, int]]]) -> None:
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    used: set[str] = set()
    for y, (_, seg, outcomes) in enumerate(rows):
        total = sum(outcomes.values()) or 1
        left = 0.0
        for cat in PALETTE:
            count = seg.get(cat.name, 0)
            if not count:
                continue
            used.add(cat.name)
            width = count / total
            ax.barh(y, width, left=left, height=0.62, color=cat.color, edgecolor="white", linewidth=0.8)
            label = f"{count:,}"
            if width >= 0.012 * (len(label) + 1):
                color = "white" if cat.color in _DARK else "black"
                ax.text(left + width / 2, y, label, ha="center", va="center", fontsize=8.5, color=color)
            left += width
        note = "\n".join(f"{o}  {outcomes[o]:,}" for o in ("1:1", "1:n", "1:0") if outcomes[o])
        ax.text(1.015, y, note, ha="left", va="center", fontsize=8, color="#333333", linespacing=1.25)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_row_label(name, outcomes) for name, _, outcomes in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 1.12)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of the features before harmonization (counts on the bars)")
    _style(ax)
    handles = [Patch(color=c.color, label=c.label) for c in PALETTE if c.name in used]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8.5,
        title="outcome · reason",
        title_fontsize=8.5,
        alignment="left",
    )


def _row_label(name: str, outcomes: dict[str, int]) -> str:
    return f"{name}\n{sum(outcomes.values()):,} features"


def _draw_widths(ax: Axes, after: list[tuple[str, int]], widths: dict[str, int]) -> None:
    labels = [name for name, _ in after] + ["union (join='outer')", "intersection (join='inner')"]
    values = [n for _, n in after] + [widths.get("union", 0), widths.get("intersection", 0)]
    colors = ["#999999"] * len(after) + ["#0072B2", "#E69F00"]
    top = max(values, default=0) or 1
    ax.barh(range(len(values)), values, height=0.7, color=colors)
    for y, v in enumerate(values):
        ax.text(v + top * 0.01, y, f"{v:,}", ha="left", va="center", fontsize=8.5, color="#333333")
    ax.set_yticks(range(len(values)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(values) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.32)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("features after harmonization")
    ax.set_title("Width of the merged data", loc="left", fontsize=10)
    _style(ax)
