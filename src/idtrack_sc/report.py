"""Reports of a harmonization: a folder that can go next to a paper's data (TSV, JSON, PNG, one HTML page).

Reports combine the getters (:func:`idtrack_sc.get.mapping_table`) and the plots
(:func:`idtrack_sc.pl.harmonization_summary`), so they live above both. ``idtrack_sc.get``
still forwards ``write_report`` and ``report_summary`` here.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .get import mapping_table
from .record import OUTCOME_ORDER, collect, json_safe, outcome_reason_counts, presence_key, spreadsheet_safe

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import pandas as pd
    from anndata import AnnData
    from mudata import MuData

logger = logging.getLogger(__name__)

#: Files :func:`write_report` writes into its folder.
REPORT_FILES = ("mapping.tsv", "summary.json", "summary.png", "index.html")
#: Rows shown per table in ``index.html`` (the full lists are in ``mapping.tsv``).
HTML_ROWS = 300
_RECORD_KEYS = ("function", "date", "params", "snapshot", "counts", "versions")


def _failed(table: pd.DataFrame) -> pd.DataFrame:
    failed = table[(table["outcome"] == "1:0") | ~table["kept"]]
    cols = [c for c in ("dataset", "original", "kept", "outcome", "reason", "name") if c in failed.columns]
    return failed[cols].reset_index(drop=True)


#: Reasons of identifiers that are the target gene's own identifier, only spelled differently
#: (a version or ``_PAR_Y`` suffix removed): not listed as changed.
SAME_IDENTIFIER = ("unchanged", "version_stripped", "par_y")


def _changed(table: pd.DataFrame) -> pd.DataFrame:
    """Kept ``1:1`` identifiers that now name their gene differently: renamed, aliases, repairs, history."""
    changed = table[table["kept"] & (table["outcome"] == "1:1") & ~table["reason"].astype(str).isin(SAME_IDENTIFIER)]
    cols = [c for c in ("dataset", "original", "symbol", "name", "reason") if c in changed.columns]
    return changed[cols].reset_index(drop=True)


def report_summary(data: AnnData | MuData | Mapping[str, AnnData], *, key: str = "idtrack") -> dict[str, Any]:
    """Provenance and counts of a harmonization as plain JSON types (what ``summary.json`` holds).

    Parameters
    ----------
    data
        Harmonized data, as for :func:`~idtrack_sc.get.mapping_table`.
    key
        The ``key_added`` used when harmonizing.

    Returns
    -------
    A dict of strings, numbers, lists and dicts: ``kind``, ``snapshot``, ``params``,
    ``versions``, ``datasets`` (per dataset its record without the environment report,
    outcome counts, reasons by outcome and failed identifiers; for a concat result with a
    presence matrix, ``presence``: features of the result it measured and lacks, and the
    first lacking ones), ``widths``, ``diagnostics`` and ``environment`` (and ``presence_key``,
    the ``varm`` key read).
    """
    found = collect(data, key)
    table = mapping_table(data, key=key)
    failed = _failed(table)
    datasets = {}
    for ds in found.datasets:
        outcomes, by = outcome_reason_counts(ds)
        mine = failed[failed["dataset"] == ds.name] if "dataset" in failed.columns else failed
        entry = {k: ds.record[k] for k in _RECORD_KEYS if k in ds.record}
        entry["outcome"] = outcomes
        entry["reasons_by_outcome"] = {o: r for o, r in by.items() if r is not None}
        entry["failed"] = {str(o): str(r) for o, r in zip(mine["original"], mine["reason"], strict=True)}
        datasets[ds.name or "AnnData"] = entry
    lacking = found.lacking()
    for name, missing in lacking.items():
        datasets[name]["presence"] = {
            "n_measured": int(len(found.presence) - len(missing)),
            "n_lacking": len(missing),
            "lacking": [str(v) for v in missing[:HTML_ROWS]],
        }
    top = found.record or found.datasets[0].record
    summary = {
        "report": "idtrack-sc harmonization report",
        "kind": found.kind,
        "function": top.get("function", ""),
        "snapshot": top.get("snapshot", {}),
        "params": top.get("params", {}),
        "versions": top.get("versions", {}),
        "datasets": datasets,
        "widths": found.widths or {},
        "diagnostics": found.diagnostics,
        **({"presence_key": presence_key(key)} if lacking else {}),
        "environment": top.get("environment", found.datasets[0].record.get("environment", "")),
    }
    return json_safe(summary)


def write_report(
    data: AnnData | MuData | Mapping[str, AnnData],
    path: str | os.PathLike,
    *,
    key: str = "idtrack",
    title: str = "Gene identifier harmonization",
) -> Path:
    """Write a harmonization report into a folder, ready to publish next to the data.

    The folder receives

    ``mapping.tsv``
        :func:`~idtrack_sc.get.mapping_table`: every original identifier, its new name, outcome and reason.
    ``summary.json``
        :func:`report_summary`: snapshot identity and checksum, parameters, counts,
        failed identifiers, package versions and the environment report.
    ``summary.png``
        :func:`idtrack_sc.pl.harmonization_summary`.
    ``index.html``
        One self-contained page (inline CSS, the figure embedded) with all of the above.

    Parameters
    ----------
    data
        Harmonized data: an AnnData, a MuData, a :func:`~idtrack_sc.concat_harmonized`
        result or a mapping of dataset names to harmonized AnnDatas.
    path
        The folder; created if needed. Files of an earlier report are replaced.
    key
        The ``key_added`` used when harmonizing.
    title
        Title of the HTML page.

    Returns
    -------
    The folder's path.

    Examples
    --------
    >>> import idtrack_sc as its
    >>> its.report.write_report(adata, "harmonization-report")  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from .pl import harmonization_summary

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    table = mapping_table(data, key=key)
    summary = report_summary(data, key=key)
    spreadsheet_safe(table).to_csv(folder / "mapping.tsv", sep="\t", index=False)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    fig = harmonization_summary(data, key=key, show=False, return_fig=True)
    try:
        fig.savefig(folder / "summary.png", dpi=150, bbox_inches="tight")
    finally:
        plt.close(fig)
    png = (folder / "summary.png").read_bytes()
    page = render_html(summary, table, png, title=title)
    (folder / "index.html").write_text(page, encoding="utf-8")
    logger.info("wrote a harmonization report to %s", folder)
    return folder


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
_CSS = """
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#e3e3e3; --bg:#ffffff; --accent:#0072B2; --fail:#D55E00; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 20px; }
.card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0 4px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f6f7f8; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.fail { color: var(--fail); }
.note { color: var(--muted); font-size: 12.5px; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
details pre { white-space: pre-wrap; font-size: 12px; background: #f6f7f8; padding: 10px; border-radius: 6px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{_num(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>" for i, v in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else _e(value)


def _kv(items: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td class='mono'>{_e(v)}</td></tr>" for k, v in items.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _frame_table(frame: pd.DataFrame, limit: int = HTML_ROWS) -> str:
    shown = frame.head(limit)
    rows = [[str(v) for v in row] for row in shown.astype(object).itertuples(index=False)]
    out = _table(list(frame.columns), rows)
    if len(frame) > limit:
        out += f'<p class="note">First {limit:,} of {len(frame):,} rows; all are in <code>mapping.tsv</code>.</p>'
    return out


def render_html(summary: dict[str, Any], table: pd.DataFrame, png: bytes, *, title: str) -> str:
    """The self-contained ``index.html`` of a report (inline CSS, the PNG as a data URI).

    Parameters
    ----------
    summary
        :func:`report_summary`.
    table
        :func:`~idtrack_sc.get.mapping_table`.
    png
        The figure as PNG bytes.
    title
        The page title.

    Returns
    -------
    The HTML text.
    """
    from .resolve import REASONS

    snap = summary.get("snapshot", {}) or {}
    params = summary.get("params", {}) or {}
    datasets = summary.get("datasets", {})
    versions = summary.get("versions", {}) or {}
    len(datasets) > 1 or summary.get("kind") in ("mapping", "concat")
    n_before = sum(int(d.get("counts", {}).get("n_vars_before", 0)) for d in datasets.values())
    n_failed = sum(int(d.get("outcome", {}).get("1:0", 0)) for d in datasets.values())
    n_amb = sum(int(d.get("outcome", {}).get("1:n", 0)) for d in datasets.values())
    n_changed = int(len(_changed(table)))

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="idtrack-sc {_e(versions.get("idtrack_sc", ""))}">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(len(datasets))} dataset{"s" if len(datasets) != 1 else ""} resolved to '
        f"<b>{_e(params.get('to', '?'))}</b> at Ensembl release <b>{_e(params.get('release', '?'))}</b> "
        f"through the {_e(snap.get('organism', '?'))} identifier-history snapshot "
        f"<code>{_e(str(snap.get('sha256', ''))[:12])}</code>, with idtrack-sc {_e(versions.get('idtrack_sc', ''))}.</p>",
        '<div class="cards">',
        f"<div class='card'><b>{n_before:,}</b><span>features before</span></div>",
        f"<div class='card'><b>{n_changed:,}</b><span>identifiers changed (1:1)</span></div>",
        f"<div class='card'><b>{n_amb:,}</b><span>ambiguous (1:n)</span></div>",
        f"<div class='card'><b class='fail'>{n_failed:,}</b><span>failed (1:0)</span></div>",
    ]
    widths = summary.get("widths") or {}
    if widths:
        parts.append(
            f"<div class='card'><b>{int(widths.get('union', 0)):,} / {int(widths.get('intersection', 0)):,}</b>"
            "<span>union / intersection</span></div>"
        )
    parts.append("</div>")
    parts.append(
        f'<img alt="Outcomes of the harmonization per dataset" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}">'
    )

    # outcomes per dataset
    parts.append("<h2>Outcomes per dataset</h2>")
    rows = []
    for name, d in datasets.items():
        c = d.get("counts", {})
        o = d.get("outcome", {})
        rows.append(
            [
                name,
                int(c.get("n_vars_before", 0)),
                int(o.get("1:1", 0)),
                int(o.get("1:n", 0)),
                int(o.get("1:0", 0)),
                int(c.get("dropped", 0)),
                int(c.get("collapsed_groups", 0)),
                int(c.get("n_vars_after", 0)),
            ]
        )
    parts.append(
        _table(
            ["dataset", "features before", "1:1", "1:n", "1:0", "dropped", "merged groups", "features after"],
            rows,
            numeric=set(range(1, 8)),
        )
    )
    if widths:
        parts.append(
            f'<p class="note">Union of the datasets\' features (<code>join="outer"</code>): '
            f'{int(widths.get("union", 0)):,}; intersection (<code>join="inner"</code>): '
            f"{int(widths.get('intersection', 0)):,}.</p>"
        )
    diagnostics = summary.get("diagnostics") or {}
    if diagnostics:
        parts.append(
            _table(
                ["cross-dataset diagnostic", "identifiers", "examples"],
                [[k, len(v), ", ".join(v[:12]) + (" …" if len(v) > 12 else "")] for k, v in diagnostics.items()],
                numeric={1},
            )
        )

    presence = {name: d["presence"] for name, d in datasets.items() if d.get("presence")}
    if presence:
        parts.append("<h2>Features each dataset lacks</h2>")
        parts.append(
            f'<p class="note">From <code>varm["{_e(summary.get("presence_key", "idtrack_presence"))}"]</code>: '
            "a feature a dataset never measured is filled by the outer join (zeros in sparse data), "
            "which this tells apart from a measured zero.</p>"
        )
        rows = [
            [
                name,
                p["n_measured"],
                p["n_lacking"],
                ", ".join(p["lacking"][:12]) + (" …" if p["n_lacking"] > 12 else ""),
            ]
            for name, p in presence.items()
        ]
        parts.append(_table(["dataset", "measured", "lacks", "examples"], rows, numeric={1, 2}))

    # reasons
    parts.append("<h2>Reasons</h2>")
    reasons: dict[tuple[str, str], dict[str, int]] = {}
    for name, d in datasets.items():
        by = d.get("reasons_by_outcome", {})
        known = {r for o in by.values() for r in o}
        for o in OUTCOME_ORDER:
            for r, n in (by.get(o) or {}).items():
                reasons.setdefault((o, r), {})[name] = int(n)
        for r, n in (d.get("counts", {}).get("reason") or {}).items():
            if r not in known and int(n):
                reasons.setdefault(("1:1 / 1:n", r), {})[name] = int(n)
    names = list(datasets)
    rows = [
        [o, r, *[cnt.get(n, 0) for n in names], REASONS.get(r, "")]
        for (o, r), cnt in sorted(reasons.items(), key=lambda kv: (_outcome_rank(kv[0][0]), -sum(kv[1].values())))
    ]
    parts.append(_table(["outcome", "reason", *names, "meaning"], rows, numeric=set(range(2, 2 + len(names)))))

    # failed and changed identifiers
    failed = _failed(table)
    parts.append(f"<h2>Failed or dropped identifiers ({len(failed):,})</h2>")
    if len(failed):
        parts.append(
            '<p class="note">Kept features (<code>kept=True</code>) stay in the data under their original name; '
            "the reason says why no target was found.</p>"
        )
        parts.append(_frame_table(failed))
    else:
        parts.append('<p class="note">None: every identifier was resolved.</p>')
    changed = _changed(table)
    parts.append(f"<h2>Changed identifiers ({len(changed):,})</h2>")
    if len(changed):
        parts.append(
            '<p class="note">Identifiers converted through a change: a rename, an alias, a repair or '
            "Ensembl's history (the reason says which). The gene's own identifiers in another namespace or "
            "with a version suffix removed are not listed.</p>"
        )
        parts.append(_frame_table(changed))

    # provenance
    parts.append("<h2>Snapshot</h2>")
    parts.append(_kv({k: snap[k] for k in sorted(snap)}))
    parts.append("<h2>Parameters</h2>")
    params_rows = {"function": summary.get("function", ""), **{k: params[k] for k in sorted(params)}}
    parts.append(_kv(params_rows))
    parts.append("<h2>Versions</h2>")
    parts.append(_kv({k: versions[k] for k in sorted(versions)}))
    dates = sorted({str(d.get("date", "")) for d in datasets.values() if d.get("date")})
    if dates:
        parts.append(f'<p class="note">Harmonized on {_e(", ".join(dates))} (UTC).</p>')
    environment = summary.get("environment") or ""
    if environment:
        parts.append(f"<details><summary>Environment report</summary><pre>{_e(environment)}</pre></details>")
    parts.append(
        "<footer>Files in this folder: <code>mapping.tsv</code> (every identifier), <code>summary.json</code> "
        "(provenance and counts), <code>summary.png</code> (the figure). Written by idtrack-sc.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _outcome_rank(outcome: str) -> int:
    return {"1:1": 0, "1:1 / 1:n": 1, "1:n": 2, "1:0": 3}.get(outcome, 4)
