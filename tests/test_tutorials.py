"""The executed pages of the docs (``docs/quickstart.md`` and ``docs/tutorials``) run, offline.

Each is a MyST-NB text notebook (``file_format: mystnb``) that the docs build executes, so
every output it shows is what the code printed: no page may carry a hand-typed output block.
Here, its ``{code-cell}`` blocks are extracted and executed in order in one fresh namespace,
in a temporary working directory, with matplotlib's Agg backend — no Jupyter kernel process,
no Sphinx. Cells tagged ``remove-cell`` are run too: they hold the ``assert`` statements that
keep the page's prose truthful (every number the prose states is checked against what the
code computes). A cell's last expression is evaluated and its ``repr`` taken, as a notebook
would display it.

``.ci/run`` builds the docs with execution in its own leg; its Python 3.12 test leg sets
``IDTRACK_SC_DOCS_EXECUTED=1`` so that the same pages are not run twice there.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIALS = DOCS / "tutorials"
pytestmark = pytest.mark.skipif(not TUTORIALS.is_dir(), reason="docs/tutorials is not part of this checkout")

#: Tutorials in reading order (run times are watched with ``pytest --durations``, not asserted).
EXPECTED = ("legacy-rescue.md", "toy-harmonization.md", "integration-practice.md", "atlas-scale.md")
#: Every page the docs build executes, relative to ``docs/``.
EXECUTED = ("quickstart.md", *(f"tutorials/{name}" for name in EXPECTED))
#: Fenced blocks whose content is shown as is: on an executed page, an output typed by hand.
_TYPED = re.compile(r"^(`{3,}|~{3,})(text|output|pycon|none|console)?\s*$")

_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}(?P<rest>.*)$")


@dataclass
class Cell:
    """One ``{code-cell}``: its source, options and first line in the file."""

    source: str
    options: dict[str, str]
    line: int


def _options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split a cell body into its options (``:key: value`` lines or a ``---`` YAML block) and code."""
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        return options, lines[end + 1 :]
    i = 0
    while i < len(lines) and re.match(r"^:[\w-]+:", lines[i]):
        key, _, value = lines[i][1:].partition(":")
        options[key.strip()] = value.strip()
        i += 1
    return options, lines[i:]


def code_cells(text: str) -> list[Cell]:
    """The ``{code-cell}`` blocks of a MyST text notebook, in order."""
    lines = text.splitlines()
    cells: list[Cell] = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match["fence"]
        start = i + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != fence:
            end += 1
        if end == len(lines):
            msg = f"unclosed {{code-cell}} opened at line {i + 1}"
            raise ValueError(msg)
        options, body = _options(lines[start:end])
        cells.append(Cell("\n".join(body), options, i + 1))
        i = end + 1
    return cells


def _front_matter(text: str) -> str:
    if not text.startswith("---\n"):
        return ""
    return text[4 : text.index("\n---", 4)]


def run_cells(cells: list[Cell], name: str) -> dict:
    """Execute cells in order in one namespace; the last expression of each is repr'd."""
    namespace: dict = {"__name__": "__main__"}
    for cell in cells:
        filename = f"<{name}:{cell.line}>"
        tree = ast.parse(cell.source, filename=filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
            repr(value)
    return namespace


def test_every_tutorial_is_listed():
    assert sorted(p.name for p in TUTORIALS.glob("*.md")) == sorted(EXPECTED)


def typed_blocks(text: str) -> list[int]:
    """Lines (1-based) opening a fenced block that is shown as typed rather than executed.

    A ``{code-cell}``, a directive (``{note}``, ``{eval-rst}``, …) or a block of code in a named
    language (``python``, ``bash``) is not an output; a block of ``text`` or of no language is.
    """
    out = []
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is not None:
            if line.rstrip() == fence:
                fence = None
            continue
        match = re.match(r"^(`{3,}|~{3,})(.*)$", line)
        if match:
            fence = match[1]
            if _TYPED.match(line):
                out.append(number)
    return out


def test_typed_block_finder():
    text = "```{code-cell} ipython3\nx\n```\n\n```text\n  x  1\n```\n\n```python\ny\n```\n\n```\nout\n```\n"
    assert typed_blocks(text) == [5, 13]


@pytest.mark.parametrize("page", EXECUTED)
def test_executed_page_shows_only_what_the_code_prints(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    front = _front_matter(text)
    assert "file_format: mystnb" in front, f"{page} is not a MyST-NB text notebook"
    assert "kernelspec:" in front, f"{page} needs a kernelspec to be executed by the docs build"
    assert "execution_mode: cache" in front or "execution_mode: force" in front, f"{page} is not executed"
    typed = typed_blocks(text)
    assert not typed, f"{page}: hand-typed output blocks at lines {typed}; let a code cell print them"


def test_code_cell_parser():
    text = (
        "# t\n\n```{code-cell} ipython3\n:tags: [remove-cell]\nx = 1\n```\n\n"
        "````{code-cell}\n---\ntags: [hide-input]\n---\ny = x + 1\n```\n````\n"
    )
    cells = code_cells(text)
    assert [c.source for c in cells] == ["x = 1", "y = x + 1\n```"]
    assert cells[0].options == {"tags": "[remove-cell]"}
    assert cells[1].options == {"tags": "[hide-input]"}


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("IDTRACK_SC_DOCS_EXECUTED") == "1", reason="executed by the docs build of this CI run"
)
@pytest.mark.parametrize("name", EXECUTED)
def test_page_runs(name, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    text = (DOCS / name).read_text(encoding="utf-8")
    cells = code_cells(text)
    assert cells, f"{name} has no code cells"

    monkeypatch.chdir(tmp_path)
    try:
        run_cells(cells, name)
    finally:
        plt.close("all")


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_doc_extra_installs_what_executed_pages_import():
    """Read the Docs installs ``.[doc]`` (``.readthedocs.yaml``): that must run every executed page."""
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((DOCS.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = {_requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["doc"]}
    installed.add(project["name"])
    distributions = packages_distributions()
    missing = {}
    for page in EXECUTED:
        for cell in code_cells((DOCS / page).read_text(encoding="utf-8")):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names:
                        continue
                    names = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
                    if not names & installed:
                        missing.setdefault(top, set()).add(page)
    assert not missing, f"the doc extra lacks what these pages import: {missing}"
