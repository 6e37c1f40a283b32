"""Shared pieces of the command line: the parser class, errors, and option helpers.

A command group lives in its own module under :mod:`idtrack_sc.cli` and exposes
``add_parser(subparsers)``, which registers its commands with :func:`add_command` and
sets ``handler`` on each leaf parser (``parser.set_defaults(handler=...)``). A handler takes
the parsed :class:`argparse.Namespace`, prints its result to stdout, and returns an exit
code (``None`` means 0). It reports failures by raising: :class:`UsageError` for bad usage
(exit 2), anything else for a failed run (exit 1). Heavy imports belong inside handlers so
that ``idtrack-sc --help`` stays fast.

One vocabulary: the same thing has the same option in every command. Add options through
the helpers here rather than by hand:

- :func:`add_out_option`: ``-o``/``--out`` (``-`` for stdout where a table is written);
- :func:`add_snapshot_options`: ``--snapshot``, ``--organism``, ``--cache-dir``,
  ``--registry``, ``--mirror``, resolved by :func:`snapshot_from_args`;
- :func:`add_release_option`: ``--release``;
- :func:`deprecated_alias`: an old spelling that keeps working with a warning.

Output files are checked against their extension (:func:`table_format`,
:func:`check_suffix`) before any work is done.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from idtrack_sc.snapshot import Snapshot

PROG = "idtrack-sc"


class UsageError(Exception):
    """The command line was used wrongly (exit code 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting.

    It remembers what :meth:`add_subparsers` returned (``subcommands``), so that the
    command tree can be walked without argparse internals.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands: list[Any] = []

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Add subcommands, as :meth:`argparse.ArgumentParser.add_subparsers`."""
        action = super().add_subparsers(**kwargs)
        self.subcommands.append(action)
        return action

    def error(self, message: str):
        """Raise :class:`UsageError` with the parser's program name and the message."""
        msg = f"{self.prog}: error: {message} (see '{self.prog} --help')"
        raise UsageError(msg)


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("general options")
    # SUPPRESS: an option given before the command name is not reset by the command's parser
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log progress (-v) or details (-vv) to stderr",
    )
    group.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors"
    )
    return common


COMMON = _common_options()


def add_command(
    subparsers: Any, name: str, *, help: str, description: str | None = None, **kwargs: Any
) -> ArgumentParser:
    """Add a command (or command group) with the general options to ``subparsers``.

    Parameters
    ----------
    subparsers
        What ``parser.add_subparsers()`` returned.
    name
        The command's name.
    help
        One line for the parent's command list.
    description
        Longer text for the command's ``--help``; default ``help``.
    **kwargs
        Passed to ``add_parser``.

    Returns
    -------
    The command's parser.
    """
    return subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[COMMON],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


_RELEASE_PATH = re.compile(r"^(?P<release>[0-9]+)=(?P<path>.+)$")


def release_path(value: str, *, required: bool) -> tuple[int | None, str]:
    """Parse ``RELEASE=PATH`` (or ``PATH`` if the release is optional).

    Parameters
    ----------
    value
        The option's value.
    required
        Whether the release must be given.

    Returns
    -------
    ``(release, path)``; release ``None`` if not given.
    """
    match = _RELEASE_PATH.match(value)
    if match is not None:
        return int(match["release"]), match["path"]
    if required:
        msg = f"expected RELEASE=PATH (e.g. 114=genes_114.tsv), got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return None, value


def required_release_path(value: str) -> tuple[int | None, str]:
    """Argparse type for ``RELEASE=PATH``."""
    return release_path(value, required=True)


def optional_release_path(value: str) -> tuple[int | None, str]:
    """Argparse type for ``[RELEASE=]PATH``."""
    return release_path(value, required=False)


# -- one vocabulary ------------------------------------------------------------------------------
#: Table formats by file extension (a text format may end in ``.gz`` as well).
TABLE_FORMATS = {".tsv": "tsv", ".txt": "tsv", ".tab": "tsv", ".csv": "csv", ".parquet": "parquet", ".json": "json"}


class _DeprecatedAlias(argparse.Action):
    """Store like the new option, and warn once on stderr that the old spelling is deprecated."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: Any = None):
        sys.stderr.write(f"{PROG}: warning: {option} is deprecated; use {self.new}\n")
        setattr(namespace, self.dest, values)


def deprecated_alias(parser: Any, old: str, *, new: str, dest: str, **kwargs: Any) -> None:
    """Keep the old option ``old`` working as ``new``, hidden from ``--help``, with a warning."""
    parser.add_argument(old, dest=dest, action=_DeprecatedAlias, new=new, help=argparse.SUPPRESS, **kwargs)


def add_out_option(parser: Any, *, help: str, required: bool = False, metavar: str = "FILE") -> None:
    """``-o``/``--out``: where the command writes its result."""
    parser.add_argument("-o", "--out", required=required, metavar=metavar, help=help)


def add_release_option(parser: Any, *, help: str, type: Any = int) -> None:
    """``--release``: an Ensembl release."""
    parser.add_argument("--release", type=type, metavar="N", help=help)


def add_snapshot_options(parser: Any, *, title: str = "snapshot") -> None:
    """``--snapshot``, ``--organism``, ``--cache-dir``, ``--registry`` and ``--mirror``."""
    group = parser.add_argument_group(title)
    group.add_argument(
        "--snapshot",
        metavar="FILE",
        help="snapshot file, an organism (human, zebrafish, 7955, …), or 'default' for the small human demo subset",
    )
    group.add_argument(
        "--organism",
        metavar="NAME",
        help="organism (human, zebrafish, danio_rerio, 7955, …): without --snapshot, use its newest snapshot "
        "(the 14 organisms CELLxGENE pins ship with the package; others from the registry); with --snapshot, check it",
    )
    add_registry_options(group)


def add_registry_options(parser: Any) -> None:
    """``--cache-dir``, ``--registry`` and ``--mirror``: where registry snapshots come from."""
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="snapshot cache folder (default: $IDTRACK_SC_CACHE or the OS cache)",
    )
    parser.add_argument(
        "--registry",
        action="append",
        type=Path,
        metavar="FILE",
        help="your own registry file, adding to or overriding the package's; repeatable (default: $IDTRACK_SC_REGISTRY)",
    )
    parser.add_argument(
        "--mirror",
        metavar="URL|DIR",
        help="base URL or folder replacing the registry's URLs (default: $IDTRACK_SC_MIRROR)",
    )


def organism_name(value: str) -> str:
    """The canonical organism name of ``value``, or a :class:`UsageError`."""
    from idtrack_sc.snapshot import resolve_organism

    try:
        return resolve_organism(value)
    except ValueError as err:
        raise UsageError(str(err)) from None


def snapshot_from_args(args: argparse.Namespace, *, release: int | str | None = None) -> Snapshot:
    """The snapshot the options of :func:`add_snapshot_options` name.

    Parameters
    ----------
    args
        The parsed options.
    release
        With ``--organism`` and no ``--snapshot``: the registry snapshot of this release
        (default: the newest).

    Returns
    -------
    The loaded snapshot.
    """
    from idtrack_sc.registry import fetch_snapshot, resolve_snapshot

    if args.snapshot is None and args.organism is None:
        msg = (
            "give --organism NAME (the 14 organisms CELLxGENE pins ship with the package), --snapshot FILE, "
            "or --snapshot default"
        )
        raise UsageError(msg)
    if args.organism is not None:
        organism_name(args.organism)  # an unknown organism is a usage error
    registry_kw = {
        "registry": args.registry,
        "mirror": args.mirror,
        "cache_dir": args.cache_dir,
        "progressbar": sys.stderr.isatty() and not getattr(args, "no_progress", False),
    }
    if args.snapshot is not None and Path(args.snapshot).expanduser().exists():
        snap = resolve_snapshot(args.snapshot)  # a file: its own errors (not a snapshot, …) are not usage errors
        if args.organism is not None and organism_name(args.organism) != snap.organism:
            msg = f"--organism {args.organism} does not match the snapshot, which is for {snap.organism}"
            raise UsageError(msg)
        return snap
    if args.snapshot is None and release is not None:
        return registry_lookup(fetch_snapshot, args.organism, release, **registry_kw)
    return registry_lookup(resolve_snapshot, args.snapshot, args.organism, **registry_kw)


def registry_lookup(fetch: Any, *args: Any, **kwargs: Any) -> Snapshot:
    """``fetch(*args, **kwargs)``; a snapshot the registry does not have is a :class:`UsageError`.

    Asking for an organism, release or variant the registry has no snapshot of is bad usage
    (exit 2, the message says what it has), in every command; a snapshot that cannot be
    downloaded or fails its checksum is a failed run (exit 1).
    """
    from idtrack_sc.registry import SnapshotChecksumError

    try:
        return fetch(*args, **kwargs)
    except SnapshotChecksumError:
        raise
    except ValueError as err:  # no such organism, release or variant: say what exists
        raise UsageError(str(err)) from None


def check_target(snap: Snapshot, *, release: int | None, to: str | None = None) -> None:
    """A target release ``snap`` does not cover, or a namespace it cannot convert to, is a :class:`UsageError`.

    The message says what the snapshot covers: like an organism the registry has no snapshot
    of (:func:`registry_lookup`), it is bad usage (exit 2), not a failed run.
    """
    from idtrack_sc.resolve import canonical_namespace

    try:
        snap.check_release(release)
        if to is not None:
            canonical_namespace(to, snap.namespaces)
    except ValueError as err:
        raise UsageError(str(err)) from None


def table_format(path: str, *, option: str = "--out") -> str:
    """The table format a file name asks for (``"tsv"`` for ``-``, stdout), or a :class:`UsageError`."""
    if path == "-":
        return "tsv"
    name = Path(path).name.lower()
    base = name.removesuffix(".gz")
    suffix = Path(base).suffix
    fmt = TABLE_FORMATS.get(suffix)
    if fmt is None or (name.endswith(".gz") and fmt in ("parquet", "json")):
        known = ", ".join(TABLE_FORMATS) + " (.tsv, .txt, .tab and .csv also with .gz)"
        msg = f"{option} {path}: cannot tell the table format from the extension; use one of {known}, or - for stdout"
        raise UsageError(msg)
    return fmt


def write_table(table: pd.DataFrame, path: str) -> None:
    """Write ``table`` to ``path`` in the format of its extension; ``-`` writes TSV to stdout."""
    from ..record import spreadsheet_safe

    fmt = table_format(path)
    if fmt in ("tsv", "csv"):  # opened in spreadsheets: no cell runs as a formula
        table = spreadsheet_safe(table)
    if path == "-":
        table.to_csv(sys.stdout, sep="\t", index=False, lineterminator="\n", na_rep="")
        sys.stdout.flush()
        return
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    elif fmt == "json":
        table.to_json(path, orient="records", indent=1, force_ascii=False)
    else:
        compression = "gzip" if path.lower().endswith(".gz") else None
        sep = "," if fmt == "csv" else "\t"
        table.to_csv(path, sep=sep, index=False, lineterminator="\n", na_rep="", compression=compression)


def check_suffix(path: str | Path, suffixes: tuple[str, ...], *, option: str = "--out", what: str = "file") -> Path:
    """``path`` as a Path if it ends in one of ``suffixes``, else a :class:`UsageError`."""
    path = Path(path)
    if not any(path.name.lower().endswith(s) for s in suffixes):
        msg = f"{option} {path}: a {what} must end in {' or '.join(suffixes)}"
        raise UsageError(msg)
    return path


def rst_epilog(text: str) -> str:
    """An epilog as reStructuredText, for the docs: commands and variables verbatim.

    Epilogs are sections (``name:`` then indented lines). ``examples`` become console
    blocks, ``environment`` a literal block, and the others paragraphs with the
    reStructuredText markup characters escaped, so that ``--out`` or ``*.h5ad`` show as typed.
    """
    out: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            sections.append((line.rstrip()[:-1], []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip():
            sections.append(("", [line]))
    for name, lines in sections:
        body = [line.strip() for line in lines]
        if name:
            out += [f"**{name}**", ""]
        if name == "examples":
            out += [".. code-block:: console", ""]
            continued = False
            for line in body:
                if line:
                    out.append(f"   {'' if continued else '$ '}{line}")
                    continued = line.endswith("\\")
            out.append("")
        elif name == "environment":
            out += ["::", "", *[f"   {line}" for line in lines if line.strip()], ""]
        else:
            paragraph = " ".join(line for line in body if line)
            for char in "\\*`|_":
                paragraph = paragraph.replace(char, "\\" + char)
            out += [paragraph, ""]
    return "\n".join(out)
