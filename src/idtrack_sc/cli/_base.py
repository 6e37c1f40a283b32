"""Shared pieces of the command line: the parser class, errors, and option helpers.

A command group lives in its own module under :mod:`idtrack_sc.cli` and exposes
``add_parser(subparsers)``, which registers its commands with :func:`add_command` and
sets ``handler`` on each leaf parser (``parser.set_defaults(handler=...)``). A handler takes
the parsed :class:`argparse.Namespace`, prints its result to stdout, and returns an exit
code (``None`` means 0). It reports failures by raising: :class:`UsageError` for bad usage
(exit 2), anything else for a failed run (exit 1). Heavy imports belong inside handlers so
that ``idtrack-sc --help`` stays fast.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

PROG = "idtrack-sc"


class UsageError(Exception):
    """The command line was used wrongly (exit code 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting."""

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
