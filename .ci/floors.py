"""Print a pip constraints file pinning every declared dependency to its floor.

``python .ci/floors.py > floors.txt`` reads ``pyproject.toml`` (the runtime dependencies and
the ``test`` extra) and writes ``name==floor`` for every requirement with a ``>=`` bound,
keeping its environment marker, so that ``PIP_CONSTRAINT=floors.txt pip install '.[test]'``
installs the oldest versions the package says it supports. Standard library only: it runs
before anything is installed.
"""

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*?)\s*(;.*)?$")


def floors(pyproject: Path, extras: tuple[str, ...] = ("test",)) -> list[str]:
    """``name==floor [; marker]`` for every ``>=`` requirement of the project and its ``extras``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    out = []
    for requirement in requirements:
        match = REQUIREMENT.match(requirement.split("#", 1)[0])
        if match is None:
            msg = f"cannot parse requirement {requirement!r}"
            raise ValueError(msg)
        name, _extras, spec, marker = match.groups()
        floor = next((s.strip()[2:].strip() for s in spec.split(",") if s.strip().startswith(">=")), None)
        if floor is None:
            continue
        out.append(f"{name}=={floor}" + (f" {marker}" if marker else ""))
    return out


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.stdout.write("".join(f"{line}\n" for line in floors(root / "pyproject.toml")))
