"""Put built snapshots into the package and the registry (maintainers' step before a release).

Copies each built snapshot (``<organism>-<release>.idtrack.zip``) into ``src/idtrack_sc/data/``,
where :func:`idtrack_sc.fetch_snapshot` finds it without network, and rewrites the block of
shipped entries in ``src/idtrack_sc/registry/registry.txt`` with each file's SHA-256 and its
canonical download URL (the project's release assets, for users who prune the package data or
mirror the files). Older shipped files of the same organism are removed from the package; their
registry lines stay only if listed in ``--keep``.

The same step publishes snapshots built from newer Ensembl releases
(``idtrack-sc snapshot build --from-ensembl R``): upload the files as release assets under
:data:`idtrack_sc.registry.DEFAULT_BASE_URL` and commit the registry lines this script writes
(``--registry-only`` leaves the package data alone, for snapshots published but not shipped).

Usage::

    python scripts/ship_snapshots.py scripts/work/homo_sapiens-114.idtrack.zip scripts/work/mus_musculus-114.idtrack.zip
    python scripts/ship_snapshots.py --check   # package data and registry agree
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = REPO / "src" / "idtrack_sc" / "data"
REGISTRY = REPO / "src" / "idtrack_sc" / "registry" / "registry.txt"
BEGIN = "# >>> shipped snapshots (written by scripts/ship_snapshots.py)"
END = "# <<< shipped snapshots"
FILE_RE = re.compile(r"^(?P<organism>[a-z][a-z0-9_]*)-(?P<release>\d+)\.idtrack\.zip$")


def _entry_lines(files: list[Path]) -> list[str]:
    sys.path.insert(0, str(REPO / "src"))
    from idtrack_sc.registry import DEFAULT_BASE_URL, registry_line
    from idtrack_sc.snapshot import load_snapshot

    lines = []
    for path in sorted(files, key=lambda p: p.name):
        snap = load_snapshot(path)
        snap.table("genes")  # read (and so verify) before publishing
        lines.append(registry_line(path, DEFAULT_BASE_URL + path.name))
    return lines


def _rewrite_registry(lines: list[str], keep: list[str]) -> None:
    text = REGISTRY.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        msg = f"{REGISTRY} has no '{BEGIN}' ... '{END}' block."
        raise SystemExit(msg)
    head, rest = text.split(BEGIN, 1)
    old_block, tail = rest.split(END, 1)
    kept = [
        line for line in old_block.splitlines() if line.strip() and not line.startswith("#") and line.split()[0] in keep
    ]
    names = {line.split()[0] for line in lines}
    block = [line for line in kept if line.split()[0] not in names] + lines
    REGISTRY.write_text(head + BEGIN + "\n" + "\n".join(sorted(block)) + "\n" + END + tail, encoding="utf-8")


def check() -> int:
    """Every shipped file matches its registry line, and every shipped line has its file."""
    sys.path.insert(0, str(REPO / "src"))
    from idtrack_sc.registry import read_registry
    from idtrack_sc.snapshot import file_sha256

    entries = read_registry(REGISTRY)
    bad = 0
    for path in sorted(DATA.glob("*.idtrack.zip")):
        entry = entries.get(path.name)
        if entry is None:
            print(f"{path.name}: shipped but not in the registry")
            bad += 1
        elif file_sha256(path) != entry.sha256:
            print(f"{path.name}: sha256 differs from the registry")
            bad += 1
        else:
            print(f"{path.name}: ok ({path.stat().st_size / 1e6:.2f} MB)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="built snapshot files <organism>-<release>.idtrack.zip")
    parser.add_argument("--keep", nargs="*", default=[], help="registry entries of the block to keep")
    parser.add_argument("--registry-only", action="store_true", help="write registry lines, do not copy files")
    parser.add_argument("--check", action="store_true", help="check package data against the registry")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    if not args.files:
        parser.error("give the built snapshot files, or --check")
    for path in args.files:
        match = FILE_RE.match(path.name)
        if match is None:
            parser.error(f"{path.name}: expected <organism>-<release>.idtrack.zip")
    lines = _entry_lines(args.files)
    if not args.registry_only:
        for path in args.files:
            organism = FILE_RE.match(path.name)["organism"]
            for old in DATA.glob(f"{organism}-*.idtrack.zip"):
                if FILE_RE.match(old.name) and old.name != path.name:
                    old.unlink()
                    print(f"removed {old.relative_to(REPO)}")
            shutil.copyfile(path, DATA / path.name)
            print(f"shipped {path.name} ({path.stat().st_size / 1e6:.2f} MB)")
    _rewrite_registry(lines, args.keep)
    print(f"updated {REGISTRY.relative_to(REPO)}")
    return check()


if __name__ == "__main__":
    raise SystemExit(main())
