"""The tutorials under ``docs/tutorials`` run, offline, on the embedded snapshot.

Each tutorial is a MyST-NB text notebook (``file_format: mystnb``). Its ``{code-cell}``
blocks are extracted here and executed in order in one fresh namespace, in a temporary
working directory, with matplotlib's Agg backend — no Jupyter kernel process. Cells tagged
``remove-cell`` are run too: they hold the ``assert`` statements that keep the tutorial's
prose truthful (every number the prose states is checked against what the code computes).
A cell's last expression is evaluated and its ``repr`` taken, as a notebook would display it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
pytestmark = pytest.mark.skipif(not TUTORIALS.is_dir(), reason="docs/tutorials is not part of this checkout")

#: Tutorials in reading order (run times are watched with ``pytest --durations``, not asserted).
EXPECTED = ("legacy-rescue.md", "toy-harmonization.md", "integration-practice.md", "atlas-scale.md")

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
@pytest.mark.parametrize("name", EXPECTED)
def test_tutorial_runs(name, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    text = (TUTORIALS / name).read_text(encoding="utf-8")
    front = _front_matter(text)
    assert "file_format: mystnb" in front, f"{name} is not a MyST-NB text notebook"
    assert "kernelspec:" in front, f"{name} needs a kernelspec to be executed by the docs build"
    cells = code_cells(text)
    assert cells, f"{name} has no code cells"

    monkeypatch.chdir(tmp_path)
    try:
        run_cells(cells, name)
    finally:
        plt.close("all")
