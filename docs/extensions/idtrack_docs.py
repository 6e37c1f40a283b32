"""Sphinx directives that render the package's vocabularies, so the docs follow the code.

- ``.. idtrack-outcomes::``: every outcome of :data:`idtrack_sc.resolve.OUTCOMES`;
- ``.. idtrack-reasons::``: every reason of :data:`idtrack_sc.resolve.REASONS`, with the
  outcomes it comes with;
- ``.. idtrack-parse-notes::``: every value of the conversion table's ``parse`` column;
- ``.. idtrack-pair-statuses::``: every value of ``var['{key_added}_pair']``;
- ``.. idtrack-record-keys::``, ``.. idtrack-record-params::``: every key of a harmonization
  record and of its ``params``.

Also: ``.. argparse::`` as a plain ``--help`` dump when sphinx-argparse is not installed.
"""

from __future__ import annotations

import argparse
import importlib

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import idtrack_tables

logger = logging.getLogger(__name__)


class _TableDirective(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(self.lines(), source="idtrack_docs"), self.content_offset, container)
        return container.children


class OutcomesDirective(_TableDirective):
    def lines(self) -> list[str]:
        return idtrack_tables.list_table(("outcome", "meaning"), idtrack_tables.outcome_rows())


class ReasonsDirective(_TableDirective):
    def lines(self) -> list[str]:
        rows = idtrack_tables.reason_rows()
        for reason, outcomes, _ in rows:
            if outcomes == "?":
                logger.warning(
                    "reason %r is not classified as success or failure in docs/extensions/idtrack_tables.py",
                    reason,
                    location=(self.env.docname, self.lineno),
                )
        return idtrack_tables.list_table(("reason", "outcome", "meaning"), rows)


class ParseNotesDirective(_TableDirective):
    def lines(self) -> list[str]:
        return idtrack_tables.list_table(("parse", "meaning"), idtrack_tables.parse_note_rows())


class PairStatusDirective(_TableDirective):
    def lines(self) -> list[str]:
        return idtrack_tables.list_table(("pair", "meaning"), idtrack_tables.pair_status_rows())


class RecordKeysDirective(_TableDirective):
    def lines(self) -> list[str]:
        return idtrack_tables.list_table(("key", "content"), idtrack_tables.record_key_rows())


class RecordParamsDirective(_TableDirective):
    def lines(self) -> list[str]:
        return idtrack_tables.list_table(("params key", "content"), idtrack_tables.record_param_rows())


class HelpDumpDirective(SphinxDirective):
    """Fallback for sphinx-argparse's ``argparse`` directive: each command's ``--help`` text."""

    has_content = True
    option_spec = {"module": str, "func": str, "prog": str, "nodefault": lambda x: True, "nosubcommands": str}

    def run(self) -> list[nodes.Node]:
        parser = getattr(importlib.import_module(self.options["module"]), self.options["func"])()
        parser.prog = self.options.get("prog", parser.prog)
        out: list[nodes.Node] = []
        for name, sub in _walk(parser, parser.prog):
            section = nodes.section(ids=[nodes.make_id(name)])
            section += nodes.title(text=name)
            section += nodes.literal_block(text=sub.format_help(), language="text")
            out.append(section)
        return out


def _walk(parser: argparse.ArgumentParser, name: str):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                sub.prog = f"{name} {sub_name}"
                yield from _walk(sub, f"{name} {sub_name}")


def _free_text_returns(self, section: str) -> list[str]:
    """Render a numpydoc ``Returns`` section as free text.

    The package follows scanpy's convention — types only in signatures, so a ``Returns``
    section is prose (possibly with a definition list of columns), not ``name : type``
    entries, which napoleon would otherwise mistake each line for.
    """
    lines = self._dedent(self._consume_to_next_section())
    while lines and not lines[-1].strip():
        lines.pop()
    # sphinx-autodoc-typehints may leave a lone ":" where it expected a return type
    while lines and not lines[0].strip(" :-"):
        lines.pop(0)
    if not lines:
        return []
    first, rest = lines[0], lines[1:]
    return [f":returns: {first}", *[("   " + line) if line.strip() else "" for line in rest], ""]


def setup(app):
    from sphinx.ext.napoleon.docstring import NumpyDocstring

    NumpyDocstring._parse_returns_section = _free_text_returns
    app.add_directive("idtrack-outcomes", OutcomesDirective)
    app.add_directive("idtrack-reasons", ReasonsDirective)
    app.add_directive("idtrack-parse-notes", ParseNotesDirective)
    app.add_directive("idtrack-pair-statuses", PairStatusDirective)
    app.add_directive("idtrack-record-keys", RecordKeysDirective)
    app.add_directive("idtrack-record-params", RecordParamsDirective)
    try:
        import sphinxarg  # noqa: F401
    except ImportError:
        app.add_directive("argparse", HelpDumpDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
