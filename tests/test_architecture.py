"""The package's layers: every import points down the data flow (see ``docs/architecture.md``).

Every module under ``src/idtrack_sc`` is parsed with :mod:`ast` (nothing is imported or run).
An import counts wherever it stands (module top, inside a function, under ``TYPE_CHECKING``):
an annotation naming a higher layer's type is a dependency on it too. Three rules:

- **down only**: a module imports only from its own unit or from a unit on a lower level of
  :data:`LAYERS`; units on one level do not import each other unless :data:`SAME_LEVEL` lists
  the pair;
- **through the front door**: an import from another unit names that unit (``from ..resolve
  import convert``), never one of its private modules (``from ..resolve._index import …``);
  what lower units must offer is exported by their ``__init__``;
- **no circles inside a unit**: the modules of one package do not import each other in a
  circle (imports under ``TYPE_CHECKING`` do not count here, they never run).

``idtrack_sc/__init__.py`` (its lazy ``__getattr__`` reaches every unit) is exempt, and
``from idtrack_sc import __version__`` is allowed everywhere.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "idtrack_sc"
PACKAGE = "idtrack_sc"

#: The layers, lowest first. A unit is a sub-package or a top-level module of idtrack_sc.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: plumbing every layer may use: cache folder, atomic writes, dependency check, environment
    ("_cache", "_atomic", "_requirements", "_provenance", "_userwarn"),
    # 1: the snapshot file format and its in-memory model
    ("snapshot",),
    # 2: the small demo snapshot shipped in the package (read by the registry's "default")
    ("datasets",),
    # 3: where snapshots come from: fetched and checksummed (registry) or built from sources (builders)
    ("registry", "builders"),
    # 4: the resolver
    ("resolve",),
    # 5: the harmonization record: var columns, uns layout, key escaping, vocabulary
    ("record",),
    # 6: the single-cell layer that writes the record
    ("pp",),
    # 7-9: readers of the record, and the report above both of them
    ("get",),
    ("pl",),
    ("report",),
    # 10: the compatibility layer and the command line, on top of everything
    ("compat", "cli"),
)

#: Pairs (importer, imported) of units on one level that may import each other.
SAME_LEVEL: frozenset[tuple[str, str]] = frozenset()

#: Tolerated violations, one entry each, ``(importing file, imported module, rule)``; none
#: today. The list may only shrink: an entry whose violation is gone fails the test.
KNOWN_VIOLATIONS: frozenset[tuple[str, str, str]] = frozenset()

LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}
_ROOT_NAMES_FOR_ALL = frozenset({"__version__"})


@dataclass(frozen=True)
class Import:
    """One import statement's dependency of a module on another."""

    file: str  # path relative to src/, e.g. "idtrack_sc/pp/_harmonize.py"
    line: int
    source: str  # importing module, e.g. "idtrack_sc.pp._harmonize"
    target: str  # imported module, e.g. "idtrack_sc.resolve._index"
    names: tuple[str, ...]  # for ``from idtrack_sc import x``: the names taken from the root package
    type_checking: bool

    def where(self) -> str:
        return f"src/{self.file}:{self.line}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(path: Path) -> list[Import]:
    source = _module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    file = path.relative_to(SRC.parent).as_posix()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [alias.name for alias in node.names]
            # ``from pkg import submodule`` depends on the submodule
            submodules = [f"{module}.{n}" for n in names if _is_module(f"{module}.{n}")]
            targets = [(m, ()) for m in submodules]
            rest = tuple(n for n in names if not _is_module(f"{module}.{n}"))
            if rest or not submodules:
                targets.append((module, rest if module == PACKAGE else ()))
        elif (dynamic := _dynamic_import(node)) is not None:
            # importlib.import_module("idtrack_sc.x") / __import__("idtrack_sc.x"): an import too
            targets = [(dynamic, ())]
        else:
            continue
        checking = _under_type_checking(node, parents)
        for target, names in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                found.append(Import(file, node.lineno, source, target, tuple(names), checking))
    return found


def _dynamic_import(node: ast.AST) -> str | None:
    """The module a call ``importlib.import_module("…")`` or ``__import__("…")`` names, if any."""
    if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    name = ast.unparse(node.func)
    if name in {"importlib.import_module", "import_module", "__import__"} and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _all_imports() -> list[Import]:
    return [imp for path in sorted(SRC.rglob("*.py")) for imp in _imports(path)]


def _layer_violations(imports: list[Import]) -> dict[tuple[str, str, str], str]:
    """Every broken rule, keyed like :data:`KNOWN_VIOLATIONS`, with a message for people."""
    out: dict[tuple[str, str, str], str] = {}
    for imp in imports:
        if imp.file == f"{PACKAGE}/__init__.py":
            continue
        src_unit, dst_unit = _unit(imp.source), _unit(imp.target)
        if src_unit == dst_unit:
            continue
        src_level = LEVEL.get(src_unit)
        if src_unit is not None and src_level is None:
            continue  # reported by test_every_unit_has_a_layer
        if dst_unit is None:  # the root package: only its version, except for the top level
            extra = sorted(set(imp.names) - _ROOT_NAMES_FOR_ALL)
            if (extra or not imp.names) and src_level != len(LAYERS) - 1:
                key = (imp.file, imp.target, "root")
                out[key] = out.get(key) or (
                    f"{imp.where()} imports {extra or 'the package'} from {PACKAGE}: only the top level "
                    f"({', '.join(LAYERS[-1])}) may use the package's public API; import from the unit that defines it."
                )
            continue
        dst_level = LEVEL.get(dst_unit)
        if dst_level is None:
            continue  # reported by test_every_unit_has_a_layer
        if dst_level > src_level:
            key = (imp.file, imp.target, "down")
            out[key] = out.get(key) or (
                f"{imp.where()} imports {imp.target}: {src_unit} (level {src_level}) may not import "
                f"{dst_unit} (level {dst_level}); imports must point down the layers."
            )
        elif dst_level == src_level and (src_unit, dst_unit) not in SAME_LEVEL:
            key = (imp.file, imp.target, "same-level")
            out[key] = out.get(key) or (
                f"{imp.where()} imports {imp.target}: {src_unit} and {dst_unit} share level {src_level} "
                "and may not import each other (unless listed in SAME_LEVEL)."
            )
        if imp.target != f"{PACKAGE}.{dst_unit}":
            key = (imp.file, imp.target, "private")
            out.setdefault(
                key,
                f"{imp.where()} imports {imp.target}, a module inside {dst_unit}: import from "
                f"{PACKAGE}.{dst_unit} itself (export the name from its __init__).",
            )
    return out


def _cycles(imports: list[Import]) -> list[list[str]]:
    """Circles of run-time imports between modules of one unit (sub-packages included)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.type_checking or imp.source == imp.target:
            continue
        if _unit(imp.source) is not None and _unit(imp.source) == _unit(imp.target):
            graph.setdefault(imp.source, set()).add(imp.target)
    cycles, seen = [], set()
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycle = frozenset(path)
                    if cycle not in seen:
                        seen.add(cycle)
                        cycles.append([*path, start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return cycles


def _units() -> set[str]:
    """The package's units as the source tree has them: sub-packages and top-level modules."""
    units = {
        p.stem if p.is_file() else p.name for p in SRC.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    return units - {"__init__"}


def test_every_unit_has_a_layer():
    missing = sorted(_units() - set(LEVEL))
    assert not missing, f"place {missing} in LAYERS of tests/test_architecture.py (and in docs/architecture.md)"


def test_every_layered_unit_exists():
    """LAYERS names only units the tree has: a removed or renamed unit leaves no stale entry."""
    stale = sorted(set(LEVEL) - _units())
    assert not stale, f"remove {stale} from LAYERS of tests/test_architecture.py (no such module or package)"


def test_imports_point_down_the_layers():
    violations = _layer_violations(_all_imports())
    new = [msg for key, msg in sorted(violations.items()) if key not in KNOWN_VIOLATIONS]
    assert not new, "imports against the layers (docs/architecture.md):\n" + "\n".join(new)


def test_known_violations_still_exist():
    """The allowlist only shrinks: drop an entry as soon as its import is fixed."""
    violations = _layer_violations(_all_imports())
    gone = sorted(KNOWN_VIOLATIONS - set(violations))
    assert not gone, "fixed, remove from KNOWN_VIOLATIONS in tests/test_architecture.py:\n" + "\n".join(map(str, gone))


def test_no_import_circles_inside_a_package():
    cycles = _cycles(_all_imports())
    assert not cycles, "modules importing each other in a circle:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("code", "rules"),
    [
        ("from ..pp import harmonize_var_names", {"down"}),
        ("from ..snapshot._model import Snapshot", {"private"}),
        ("def f():\n    from ..resolve._index import names_at", {"down", "private"}),
        ("from ..builders import build_snapshot", {"same-level"}),
        ("from idtrack_sc import convert", {"root"}),
        ("from .. import __version__\nfrom ..snapshot import Snapshot\nfrom . import _registry", set()),
        ("import importlib\ndef f():\n    return importlib.import_module('idtrack_sc.pp')", {"down"}),
        ("def f():\n    return __import__('idtrack_sc.resolve._index')", {"down", "private"}),
    ],
)
def test_the_rules_catch_what_they_name(tmp_path, monkeypatch, code, rules):
    """A registry module with one import, checked like the real ones, breaks exactly ``rules``."""
    root = tmp_path / PACKAGE
    (root / "registry").mkdir(parents=True)
    for module in ("__init__.py", "registry/__init__.py", "registry/_registry.py"):
        (root / module).write_text("", encoding="utf-8")
    (root / "registry" / "_fake.py").write_text(code + "\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SRC", root)
    found = _layer_violations(_imports(root / "registry" / "_fake.py"))
    assert {rule for _, _, rule in found} == rules
    for message in found.values():
        assert message.startswith("src/idtrack_sc/registry/_fake.py:")
