"""``idtrack-sc convert``: convert identifiers to a namespace and release, as a table."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import (
    UsageError,
    add_command,
    add_out_option,
    add_release_option,
    add_snapshot_options,
    check_target,
    deprecated_alias,
    snapshot_from_args,
    table_format,
    write_table,
)

if TYPE_CHECKING:
    import argparse

    import pandas as pd

    from idtrack_sc.snapshot import Snapshot

logger = logging.getLogger(__name__)

_EPILOG = """\
input:
  identifiers come from the arguments, then from -i FILE (one per line, or the column
  --column of a TSV/CSV table; '-' reads stdin). Blank lines inside a list are kept as
  empty queries (outcome 1:0, reason empty), so rows stay aligned with the input.

output:
  the conversion table (one row per identifier, in input order) as TSV on stdout, or in
  -o FILE in the format of its extension: .tsv, .txt, .tab, .csv (also .gz), .parquet or
  .json; -o - is stdout. --summary and --explain reports go to stdout when the table goes
  to a file (or with --no-table), else to stderr, so that stdout stays a clean table.

examples:
  idtrack-sc convert TP53 P53 ENSG00000139618 --snapshot default --to symbol
  idtrack-sc convert -i genes.txt --snapshot homo_sapiens-114.idtrack.zip -o converted.tsv --summary
  cut -f2 features.tsv | idtrack-sc convert -i - --organism human --release 110 -o -
  idtrack-sc convert -i var.csv --column gene_ids --snapshot default -o mapping.csv
  idtrack-sc convert --snapshot default --explain 1-Mar --to symbol
"""


def add_parser(subparsers: Any) -> None:
    """Register ``convert``.

    Parameters
    ----------
    subparsers
        The top-level parser's subparsers.
    """
    parser = add_command(
        subparsers,
        "convert",
        help="convert gene identifiers to a namespace and Ensembl release (a table)",
        description=(
            "Convert gene identifiers of any namespace (Ensembl IDs with or without version, symbols, "
            "HGNC IDs, Entrez IDs) to a target namespace at a target Ensembl release, through a snapshot "
            "of the organism's identifier history. Every row says what happened (1:1, 1:n, 1:0) and why."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="identifiers to convert")
    parser.add_argument(
        "-i", "--input", metavar="FILE", help="read identifiers from FILE ('-' for stdin), one per line or --column"
    )
    parser.add_argument(
        "--column",
        metavar="NAME",
        help="read FILE as a table (TSV, or CSV if it ends in .csv) and take this column (a name, or a 1-based number)",
    )
    parser.add_argument("--sep", metavar="SEP", help="field separator of the --column table (default: by file name)")
    add_snapshot_options(parser)
    target = parser.add_argument_group("conversion")
    add_release_option(target, help="target Ensembl release (default: the snapshot's newest)")
    target.add_argument(
        "--to",
        default="ensembl_gene",
        metavar="NS",
        help="target namespace: ensembl_gene (default), symbol, hgnc_id, entrez, … ('HGNC Symbol' etc. accepted)",
    )
    target.add_argument(
        "--strategy",
        choices=("best", "all"),
        default="best",
        help="best: break ties by the documented ranking rule (default); all: keep every candidate",
    )
    target.add_argument(
        "--min-evidence",
        choices=("high", "medium", "low", "none"),
        default="medium",
        help="weakest evidence tier of inferred history links to follow: high, medium (default), low, "
        "none (Ensembl's own history only)",
    )
    output = parser.add_argument_group("output")
    add_out_option(output, help="write the table to FILE (format from its extension) instead of stdout; '-' is stdout")
    deprecated_alias(output, "--output", new="--out", dest="out", metavar="FILE")
    output.add_argument("--summary", action="store_true", help="report counts per outcome and reason")
    output.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="ID",
        help="explain how ID is resolved, step by step; repeatable",
    )
    output.add_argument("--no-table", action="store_true", help="do not write the table (reports only)")
    parser.set_defaults(handler=_convert)


# -- input ---------------------------------------------------------------------------------------
def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def _read_lines(source: str) -> list[str]:
    lines = [line.strip() for line in _read_text(source).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _read_column(source: str, column: str, sep: str | None) -> list[str]:
    import pandas as pd

    if sep is None:
        name = source.removesuffix(".gz").lower()
        sep = "," if name.endswith(".csv") else "\t"
    text = _read_text(source)
    # every cell as text: gene names such as NA or NAN must not become missing values
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    if column in table.columns:
        values = table[column]
    elif column.isdigit() and 1 <= int(column) <= table.shape[1]:
        values = table.iloc[:, int(column) - 1]
    else:
        where = "stdin" if source == "-" else source
        msg = f"no column {column!r} in {where}; its columns are: {', '.join(map(str, table.columns))}"
        raise UsageError(msg)
    return [value.strip() for value in values.tolist()]


def _queries(args: argparse.Namespace) -> list[str]:
    if args.column is not None and args.input is None:
        msg = "--column needs -i FILE (or -i - for stdin)"
        raise UsageError(msg)
    queries = list(args.ids)
    if args.input is not None:
        if args.column is not None:
            queries += _read_column(args.input, args.column, args.sep)
        else:
            queries += _read_lines(args.input)
    return queries


# -- reports -------------------------------------------------------------------------------------
def _summary_text(table: pd.DataFrame) -> str:
    from idtrack_sc.resolve import summarize

    info = table.attrs["idtrack"]
    counts = summarize(table).reset_index()
    counts["fraction"] = [f"{100 * f:.1f}%" for f in counts["fraction"]]
    counts = counts.astype({"outcome": str, "reason": str})
    head = (
        f"{len(table)} identifiers -> {info['namespace']} at Ensembl release {info['release']} "
        f"({info['snapshot']['organism']} snapshot {info['snapshot']['file'] or ''}, strategy {info['strategy']})"
    )
    rows = [("outcome", "reason", "count", "fraction")]
    rows += [
        (o, r, str(c), f) for o, r, c, f in counts[["outcome", "reason", "count", "fraction"]].itertuples(index=False)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{o:<{widths[0]}}  {r:<{widths[1]}}  {c:>{widths[2]}}  {f:>{widths[3]}}" for o, r, c, f in rows]
    return "\n".join([head, *lines])


def _resolution(args: argparse.Namespace) -> dict[str, Any]:
    """The options that decide how identifiers resolve, shared by the table and the explanations."""
    return {"to": args.to, "release": args.release, "strategy": args.strategy, "min_evidence": args.min_evidence}


def _explain_text(query: str, snap: Snapshot, args: argparse.Namespace) -> str:
    from idtrack_sc.resolve import explain

    exp = explain(query, snapshot=snap, **_resolution(args))
    return f"{query}\n" + "\n".join(f"  {line}" for line in str(exp).splitlines())


# -- the command ---------------------------------------------------------------------------------
def _convert(args: argparse.Namespace) -> int:
    from idtrack_sc.resolve import convert

    if args.out is not None:
        table_format(args.out)  # a wrong extension fails before any work
    queries = _queries(args)
    if not queries and not args.explain:
        msg = "no identifiers: give them as arguments, with -i FILE, or with -i - on stdin"
        raise UsageError(msg)
    snap = snapshot_from_args(args)
    check_target(snap, release=args.release, to=args.to)  # what the snapshot lacks is bad usage
    table = None
    if queries or not args.explain:
        table = convert(queries, snapshot=snap, **_resolution(args))
        info = table.attrs["idtrack"]
        logger.info("converted %d identifiers to %s at release %d", len(table), info["namespace"], info["release"])

    write = table is not None and not args.no_table
    out = "-" if args.out is None else args.out
    report_stream = sys.stderr if write and out == "-" else sys.stdout
    if write:
        write_table(table, out)
        if out != "-":
            logger.info("wrote %s", out)

    reports = []
    if args.summary and table is not None:
        reports.append(_summary_text(table))
    reports.extend(_explain_text(query, snap, args) for query in args.explain)
    if reports:
        print("\n\n".join(reports), file=report_stream)
    return 0
