r"""The ``idtrack-sc`` command line.

.. code-block:: console

    $ idtrack-sc snapshot build --organism human --out homo_sapiens-114.idtrack.zip \
          --gene-table 110=genes_110.tsv --gene-table 114=mart_export.txt --hgnc hgnc_complete_set.txt
    $ idtrack-sc snapshot info homo_sapiens-114.idtrack.zip
    $ idtrack-sc snapshot fetch human --release 114
    $ idtrack-sc snapshot list

Exit codes (the same in every command, listed in ``docs/cli.md``): 0 success, 1 the command
failed (a missing file, a failed download or checksum), 2 bad usage (an unknown option,
organism or namespace, a snapshot or release that does not exist), 130 interrupted. Errors
are one line on stderr; ``--debug`` adds the traceback, ``-v``/``-vv`` log progress.

Adding a command group: write ``idtrack_sc/cli/<group>.py`` with ``add_parser(subparsers)``
(see :mod:`idtrack_sc.cli._base`) and add its module name to :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
import logging
import sys
import traceback
from typing import TYPE_CHECKING

from ._base import COMMON, PROG, ArgumentParser, UsageError, rst_epilog

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["COMMANDS", "build_parser", "docs_parser", "main"]

#: Command group modules under ``idtrack_sc.cli``, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("snapshot", "convert", "harmonize", "demo")

#: Exceptions that are the command failing for a reason its message explains.
_EXPECTED = (ValueError, LookupError, OSError)


def build_parser() -> ArgumentParser:
    """Build the ``idtrack-sc`` argument parser with every command group of :data:`COMMANDS`.

    Returns
    -------
    The parser.
    """
    from idtrack_sc import __version__

    parser = ArgumentParser(
        prog=PROG,
        description="Reproducible gene identifier harmonization through versioned Ensembl identifier snapshots.",
        parents=[COMMON],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(subparsers)
    return parser


def docs_parser() -> ArgumentParser:
    """:func:`build_parser` with every epilog as reStructuredText, for the CLI reference page.

    The terminal help is plain text; in the docs, its examples must stay commands (console
    blocks, ``--`` not turned into a dash) rather than become prose.

    Returns
    -------
    The parser.
    """
    parser = build_parser()
    todo = [parser]
    while todo:
        current = todo.pop()
        if current.epilog:
            current.epilog = rst_epilog(current.epilog)
        for action in current.subcommands:
            todo.extend(action.choices.values())
    return parser


def _configure_logging(verbosity: int) -> tuple[logging.Logger, logging.Handler, int]:
    """Attach a stderr handler to the package logger; undone by :func:`_restore_logging`."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("idtrack_sc")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    return logger, handler, previous


def _one_line(err: BaseException) -> str:
    """The error in the shell's words, on one line: no Python quoting of ``KeyError`` or ``OSError``."""
    if isinstance(err, KeyError) and err.args:
        text = str(err.args[0])  # str(KeyError("x")) is "'x'"
    elif isinstance(err, OSError) and err.strerror and err.filename is not None:
        text = f"{err.filename}: {err.strerror[:1].lower()}{err.strerror[1:]}"  # not "[Errno 2] …: 'x'"
    else:
        text = str(err)
    text = " ".join(text.split())
    return text or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    The exit code: 0 success, 1 failure, 2 bad usage, 130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except UsageError as err:
        print(_one_line(err), file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0

    debug = getattr(args, "debug", False)
    logger, handler, previous = _configure_logging(getattr(args, "verbose", 0) or 0)
    pooch_logger = logging.getLogger("pooch")
    pooch_level = pooch_logger.level
    if logger.level > logging.INFO:
        pooch_logger.setLevel(logging.WARNING)  # our own log says what is downloaded, with -v
    try:
        code = args.handler(args)
    except UsageError as err:
        print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the command line reports every failure as one line
        if debug:
            traceback.print_exc(file=sys.stderr)
        hint = (
            ""
            if debug or isinstance(err, _EXPECTED)
            else f" ({type(err).__name__}; rerun with --debug for the traceback)"
        )
        print(f"{PROG}: error: {_one_line(err)}{hint}", file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        pooch_logger.setLevel(pooch_level)
    return 0 if code is None else int(code)
