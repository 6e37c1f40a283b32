"""``harmonization_summary``: what happened to the features of one or several datasets."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..record import as_str, collect, outcome_reason_counts, var_columns
from ._utils import savefig_or_show

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from anndata import AnnData
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from mudata import MuData

    from ..record import Dataset, Harmonized

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
    Category(
        "unknown",
        "1:0 not found",
        "#CC79A7",
        "1:0",
        ("not_found", "suffix_unconfirmed", "no_protein_ids", "other_organism"),
    ),
    Category(
        "not_gene",
        "1:0 not a gene / empty",
        "#999999",
        "1:0",
        ("not_a_gene", "empty", "missing_value", "not_a_name"),
    ),
)
_DARK = {"#0072B2", "#009E73", "#D55E00", "#CC79A7"}
_BY_NAME = {c.name: c for c in PALETTE}
#: Categories of the "details" panel: all but unchanged, the ones a 100 % bar shrinks to slivers.
DETAILS = tuple(c.name for c in PALETTE if c.name not in ("unchanged", "mapped"))
#: Example identifiers written next to each bar of the "details" panel.
N_EXAMPLES = 3


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
    gene_symbols: str | None = None,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | os.PathLike[str] | None = None,
    return_fig: bool = False,
    title: str | None = None,
) -> Axes | dict[str, Axes] | Figure | None:
    """Plot what happened to each dataset's features: 1:1, 1:n and 1:0, by reason.

    Up to three panels:

    ``"outcomes"``
        One horizontal bar per dataset, as long as its number of features before
        harmonization, split into outcomes and reasons (colour-blind-safe Okabe-Ito colours,
        :data:`~idtrack_sc.pl.PALETTE`) with the counts written on the bars.
    ``"details"``
        Every feature that did not stay unchanged: cleaned up, renamed, mapped through
        history, ambiguous, retired, not found, not a gene. One bar per dataset and
        category on a logarithmic count axis, so that 3 ambiguous features next to 20,000
        unchanged ones are as visible as 3,000 would be. Each bar carries its count, its
        share of the dataset and a few example identifiers.
    ``"widths"``
        For several datasets (a :func:`~idtrack_sc.concat_harmonized` result or a mapping
        of AnnDatas): each dataset's width after harmonization and the union
        (``join="outer"``) and intersection (``join="inner"``) widths, as dots on an axis
        spanning just their range (it does not start at 0), with the difference between
        union and intersection written out; for a concat result, how many of the result's
        features each dataset lacks (never measured: ``varm['{key}_presence']``).

    Parameters
    ----------
    data
        A harmonized AnnData, a MuData with harmonized modalities, a concat result, or a
        mapping of dataset names to harmonized AnnDatas.
    key
        The ``key_added`` used when harmonizing.
    gene_symbols
        Column of ``var`` whose values name the example features (as in scanpy); default:
        the identifiers as the data had them (``var['{key}_original']``). Identifiers that
        were dropped, or have no value in the column, keep their original name.
    ax
        Draw only the ``"outcomes"`` panel, into this Axes.
    show
        Show the figure; default :attr:`scanpy.settings.autoshow`.
    save
        ``True`` or a string: save the figure to
        ``{scanpy.settings.figdir}/harmonization_summary{save}{plot_suffix}.{format}`` as
        scanpy does (the format from the string's extension, else
        :attr:`scanpy.settings.file_format_figs`); a :class:`~pathlib.Path`, or an absolute
        path as a string (``"/tmp/qc.png"``): save to exactly that file (where scanpy would
        append the string to the name under ``figdir``). The saved figure is closed.
    return_fig
        Return the Figure instead of the Axes.
    title
        Title; default "Identifier harmonization".

    Returns
    -------
    ``None`` if the figure is shown; else the Figure if ``return_fig``, else the Axes of
    the ``"outcomes"`` panel when ``ax`` is given, or a dict of the panels' Axes by name.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> axes = its.pl.harmonization_summary({"A": a, "B": b}, show=False)  # doctest: +SKIP
    >>> its.pl.harmonization_summary(adata, gene_symbols="symbol", save="_pbmc.png")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    found = collect(data, key)
    if gene_symbols is not None:
        _check_gene_symbols(found, gene_symbols)
    rows = segments(found)
    small = _details(found, rows, key=key, gene_symbols=gene_symbols)
    widths = found.widths
    n = len(rows)
    if ax is not None:
        fig = ax.figure
        _draw_outcomes(ax, rows)
        panels: dict[str, Axes] = {"outcomes": ax}
    else:
        n_legend = len({name for _, seg, _ in rows for name in seg})
        heights = [0.5 * n + 0.7, 0.2 * -(-n_legend // 3) + 0.3, 0.26 * max(len(small), 2) + 0.7]
        if widths is not None:
            heights.append(0.3 * (len(found.datasets) + 2) + 0.8)
        fig = plt.figure(figsize=(10.0, sum(heights) + 0.9), layout="constrained")
        grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
        panels = {"outcomes": fig.add_subplot(grid[0]), "details": fig.add_subplot(grid[2])}
        _draw_outcomes(panels["outcomes"], rows, legend_ax=fig.add_subplot(grid[1]))
        _draw_details(panels["details"], small, several=found.several)
        if widths is not None:
            panels["widths"] = fig.add_subplot(grid[3])
            after = [(ds.name, int(ds.counts.get("n_vars_after", 0))) for ds in found.datasets]
            lacking = {name: len(missing) for name, missing in found.lacking().items()}
            _draw_widths(panels["widths"], after, widths, lacking=lacking)
    top = panels["outcomes"]
    top.set_title(plain(title) if title is not None else "Identifier harmonization", loc="left", fontsize=12, pad=16)
    subtitle = plain(_subtitle(found))
    if subtitle:
        top.text(0, 1.02, subtitle, transform=top.transAxes, fontsize=8.5, color="#555555", va="bottom")

    if savefig_or_show(fig, "harmonization_summary", show=show, save=save):
        return None
    if return_fig:
        return fig
    return ax if ax is not None else panels


def _check_gene_symbols(found: Harmonized, column: str) -> None:
    with_var = [ds for ds in found.datasets if ds.var is not None]
    missing = [ds.name or "the AnnData" for ds in with_var if column not in ds.var.columns]
    if missing or not with_var:
        where = ", ".join(missing) if missing else "the data (its var was not kept)"
        msg = f"gene_symbols={column!r} is not a column of var in {where}."
        raise ValueError(msg)


class SmallBar(NamedTuple):
    """One bar of the "details" panel."""

    dataset: str
    category: Category
    count: int
    share: float  # of the dataset's features before harmonization
    examples: tuple[str, ...]


def _details(
    found: Harmonized, rows: list[tuple[str, dict[str, int], dict[str, int]]], *, key: str, gene_symbols: str | None
) -> list[SmallBar]:
    out = []
    for ds, (name, seg, outcomes) in zip(found.datasets, rows, strict=True):
        total = sum(outcomes.values()) or 1
        examples = _examples(ds, key=key, gene_symbols=gene_symbols)
        for cat_name in DETAILS:
            count = seg.get(cat_name, 0)
            if count:
                cat = _BY_NAME[cat_name]
                out.append(SmallBar(name, cat, count, count / total, tuple(examples.get(cat_name, ()))))
    return out


def _examples(ds: Dataset, *, key: str, gene_symbols: str | None) -> dict[str, list[str]]:
    """The first :data:`N_EXAMPLES` features of each category, in data order.

    A feature is shown as its original identifier, followed by ``→ new name`` when it has
    one: the new ``var_name``, or its value in ``var[gene_symbols]`` when given.
    """
    cols = var_columns(key)
    shown, outcomes, reasons = [], [], []
    var = ds.var
    if var is not None and cols["outcome"] in var.columns:
        original = as_str(var[cols["original"]])
        new = as_str(ds.var_names if ds.var_names is not None else var.index)
        if gene_symbols is not None:
            symbols = as_str(var[gene_symbols])
            new = np.where(symbols != "", symbols, new)
        first = np.array([o.split("|")[0] for o in original], dtype=object)
        shown.append(np.where(new != first, first + "→" + new, first))
        outcomes.append(as_str(var[cols["outcome"]]))
        reasons.append(as_str(var[cols["reason"]]) if cols["reason"] in var.columns else np.full(len(var), ""))
    dropped = ds.record.get("dropped_ids")
    if dropped is not None and len(dropped) and ds.record.get("dropped_outcomes") is not None:
        shown.append(as_str(dropped))
        outcomes.append(as_str(ds.record["dropped_outcomes"]))
        reasons.append(as_str(ds.record.get("dropped_reasons", np.full(len(dropped), ""))))
    out: dict[str, list[str]] = {}
    for shown_arr, outcome_arr, reason_arr in zip(shown, outcomes, reasons, strict=True):
        interesting = np.flatnonzero(~((outcome_arr == "1:1") & (reason_arr == "unchanged")))
        for i in interesting:
            outcome, reason = outcome_arr[i], reason_arr[i]
            if outcome not in ("1:1", "1:n", "1:0"):
                continue
            listed = out.setdefault(_category(outcome, reason).name, [])
            if len(listed) < N_EXAMPLES and shown_arr[i] not in listed:
                listed.append(shown_arr[i])
    return out


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def _draw_outcomes(
    ax: Axes, rows: list[tuple[str, dict[str, int], dict[str, int]]], *, legend_ax: Axes | None = None
) -> None:
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
        text = ax.text(1.015, y, note, ha="left", va="center", fontsize=8, color="#333333", linespacing=1.25)
        text.set_in_layout(False)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_row_label(name, outcomes) for name, _, outcomes in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 1.12)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of the features before harmonization (counts on the bars)")
    _style(ax)
    handles = [Patch(color=c.color, label=c.label) for c in PALETTE if c.name in used]
    style = {"frameon": False, "fontsize": 8.5, "title": "outcome · reason", "title_fontsize": 8.5, "alignment": "left"}
    if legend_ax is None:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), **style)
    else:  # a row of its own below the bars, so that the panels keep the figure's width
        legend_ax.axis("off")
        legend_ax.legend(handles=handles, loc="upper left", ncol=3, borderaxespad=0, **style)


def _row_label(name: str, outcomes: dict[str, int]) -> str:
    return f"{plain(name)}\n{sum(outcomes.values()):,} features"


def plain(text: object) -> str:
    r"""``text`` shown as written: ``$`` escaped, so matplotlib never reads it as math.

    Dataset names, feature names and titles come from the user's data; ``"$\frac{a}{$"``
    would otherwise be parsed as math text and fail when the figure is drawn.
    """
    return str(text).replace("$", r"\$")


def _draw_details(ax: Axes, bars: list[SmallBar], *, several: bool) -> None:
    """The categories a 100 % bar shrinks to slivers, each on a log count axis with its count."""
    ax.set_title("Every feature that did not stay unchanged, by reason (log scale)", loc="left", fontsize=10)
    _style(ax)
    if not bars:
        ax.text(0.5, 0.5, "every feature is unchanged", transform=ax.transAxes, ha="center", va="center")
        ax.set_axis_off()
        return
    top = max(b.count for b in bars)
    ys = np.arange(len(bars))
    # bars from 0.5 so that a count of 1 is a visible bar on the log axis
    ax.barh(ys, [b.count - 0.5 for b in bars], left=0.5, height=0.7, color=[b.category.color for b in bars])
    ax.set_xscale("log")
    # the longest bar takes 40 % of the width (log axis); its right is room for the labels
    decades = np.log10(top / 0.5)
    ax.set_xlim(0.5, 0.5 * 10 ** max(decades / 0.4, 2.5))
    for y, bar in zip(ys, bars, strict=True):
        share = f"{100 * bar.share:.1f}%" if bar.share >= 0.001 else "<0.1%"
        label = f"{bar.count:,} ({share})"
        if bar.examples:
            label += "   e.g. " + plain(_examples_text(bar.examples, bar.count))
        # clipped at the axes and out of the layout: long labels never squeeze the panels
        text = ax.text(bar.count * 1.15, y, label, ha="left", va="center", fontsize=8, color="#333333", clip_on=True)
        text.set_in_layout(False)
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [f"{plain(b.dataset)} · {_short_label(b.category)}" if several else _short_label(b.category) for b in bars]
    )
    ax.set_ylim(len(bars) - 0.5, -0.5)
    ax.set_xlabel("features (log scale; counts and share of the dataset on the bars)")
    _count_axis(ax, top)


def _count_axis(ax: Axes, top: int) -> None:
    """A log count axis labelled at every decade it draws: 1, 10, … up to the first at or above ``top``.

    The room right of it holds the bars' labels, not counts: no ticks, no axis line there
    (an axis running on through unlabelled decades reads as counts nobody has).
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    last = int(np.ceil(np.log10(max(top, 1))))
    decades = [10.0**k for k in range(last + 1)]
    ax.xaxis.set_major_locator(FixedLocator(decades))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.spines["bottom"].set_bounds(0.5, decades[-1])


def _examples_text(examples: tuple[str, ...], count: int, limit: int = 48) -> str:
    """Whole examples, comma-separated, as many as fit in ``limit`` characters (at least one)."""
    shown: list[str] = []
    for example in examples:
        if shown and len(", ".join([*shown, example])) > limit:
            break
        shown.append(example)
    return ", ".join(shown) + (", …" if count > len(shown) else "")


def _short_label(cat: Category) -> str:
    """The legend label without its parenthesis: ``1:1 renamed``."""
    return cat.label.split(" (")[0]


def _draw_widths(
    ax: Axes, after: list[tuple[str, int]], widths: dict[str, int], *, lacking: Mapping[str, int] | None = None
) -> None:
    """Widths as dots on an axis spanning just their range, with union − intersection written out.

    ``lacking``: per dataset, how many features of the result it never measured (a concat
    result's presence matrix), written beside its width.
    """
    lacking = lacking or {}
    union, inter = int(widths.get("union", 0)), int(widths.get("intersection", 0))
    labels = [plain(name) for name, _ in after] + ["union (join='outer')", "intersection (join='inner')"]
    values = [n for _, n in after] + [union, inter]
    colors = ["#555555"] * len(after) + ["#0072B2", "#E69F00"]
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, 1.0)
    ys = np.arange(len(values))
    for x, color in ((inter, "#E69F00"), (union, "#0072B2")):
        ax.axvline(x, color=color, linewidth=0.9, linestyle=(0, (4, 3)), zorder=1)
    ax.hlines(ys, low - pad, values, color="#d0d0d0", linewidth=1.0, zorder=1)
    ax.scatter(values, ys, s=46, color=colors, zorder=3)
    texts = [f"{n:,}" + (f" · lacks {lacking[name]:,}" if name in lacking else "") for name, n in after]
    texts += [f"{union:,}", f"{inter:,}"]
    for y, v, text in zip(ys, values, texts, strict=True):
        note = ax.annotate(
            text, (v, y), xytext=(6, 0), textcoords="offset points", ha="left", va="center", fontsize=8.5
        )
        note.set_in_layout(False)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_ylim(len(values) - 0.5, -0.7)
    ax.set_xlim(low - pad, high + 2.2 * pad)
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("features after harmonization (the axis spans their range; it does not start at 0)")
    gap = union - inter
    share = f", {100 * gap / union:.1f}% of the union" if union else ""
    ax.set_title(f"Width of the merged data: union − intersection = {gap:,} features{share}", loc="left", fontsize=10)
    _style(ax)
