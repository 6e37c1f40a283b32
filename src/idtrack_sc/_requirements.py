"""Refuse, at import, an environment whose library versions idtrack-sc does not support.

pip installs what ``pyproject.toml`` declares, but some combinations cannot be ruled out there:
an environment may hold versions installed before idtrack-sc, and some pairs of versions fail
together although each is within its own range (anndata before 0.13 cannot write the string
columns of pandas 3). Such an environment would fail later, deep inside h5py or pandas, with
a message that names neither the package nor the fix; :func:`check` fails at
``import idtrack_sc`` instead, naming the package, the version found and the supported range.

Only :mod:`importlib.metadata` is read: nothing heavy is imported.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["PAIRS", "SUPPORTED", "check"]

#: Package -> oldest supported version (the floors of ``pyproject.toml``; a test keeps them equal).
SUPPORTED: dict[str, str] = {
    "anndata": "0.12.7",
    "mudata": "0.3.1",
    "numpy": "1.26",
    "pandas": "2.1",
    "pyarrow": "14",
    "scanpy": "1.10",
    "scipy": "1.12",
}

#: (package, from version, needs package, at least version, why): combinations that fail.
PAIRS: tuple[tuple[str, str, str, str, str], ...] = (
    ("pandas", "3", "anndata", "0.13", "anndata before 0.13 cannot write the string columns of pandas 3"),
)


def _release(text: str) -> tuple[int, ...]:
    """The numeric release of a version string (``"2.1.0rc1"`` -> ``(2, 1, 0)``), padded for comparison."""
    parts = []
    for piece in text.split("+", 1)[0].split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):  # a pre/post/dev suffix ends the release part
            break
    return tuple(parts) + (0,) * (4 - len(parts))


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def problems() -> list[str]:
    """One sentence per unsupported package version or combination in this environment."""
    found = {name: _installed(name) for name in {*SUPPORTED, *(p[0] for p in PAIRS), *(p[2] for p in PAIRS)}}
    out = []
    for name, floor in SUPPORTED.items():
        have = found[name]
        if have is not None and _release(have) < _release(floor):
            out.append(f"{name} {have} is installed; idtrack-sc supports {name}>={floor}.")
    for name, since, needs, at_least, why in PAIRS:
        have, other = found[name], found[needs]
        if have is None or other is None:
            continue
        if _release(have) >= _release(since) and _release(other) < _release(at_least):
            out.append(
                f"{name} {have} is installed with {needs} {other}; with {name}>={since}, idtrack-sc needs "
                f"{needs}>={at_least} ({why})."
            )
    return out


def check() -> None:
    """Raise :class:`ImportError` naming every unsupported version found."""
    found = problems()
    if found:
        msg = (
            "idtrack-sc cannot run with the installed libraries:\n  "
            + "\n  ".join(found)
            + "\nUpgrade them, e.g. pip install -U idtrack-sc anndata (anndata>=0.13 needs Python>=3.12), "
            "or install 'pandas<3' on Python 3.11."
        )
        raise ImportError(msg)
