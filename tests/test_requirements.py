"""The import-time check of library versions, and its agreement with pyproject.toml."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from idtrack_sc import _requirements

ROOT = Path(__file__).resolve().parent.parent


def _floors() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {}
    for requirement in project["dependencies"]:
        match = re.match(r"^([A-Za-z0-9_.-]+)[^;]*?>=\s*([0-9][^,;\s]*)", requirement)
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def test_checked_floors_are_the_declared_ones():
    floors = _floors()
    for name, floor in _requirements.SUPPORTED.items():
        assert floors[name] == floor, f"{name}: import check says >={floor}, pyproject says >={floors[name]}"


def test_this_environment_passes():
    assert _requirements.problems() == []


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ({"pandas": "2.0.3"}, ["pandas 2.0.3 is installed; idtrack-sc supports pandas>=2.1."]),
        (
            {"pandas": "3.0.1", "anndata": "0.12.6"},
            [
                "anndata 0.12.6 is installed; idtrack-sc supports anndata>=0.12.7.",
                "pandas 3.0.1 is installed with anndata 0.12.6; with pandas>=3, idtrack-sc needs anndata>=0.13",
            ],
        ),
        ({"pandas": "3.0.1", "anndata": "0.13.0rc1"}, []),
        ({"pandas": "2.3.3", "anndata": "0.12.7"}, []),
        ({"anndata": "0.12.6"}, ["anndata 0.12.6 is installed; idtrack-sc supports anndata>=0.12.7."]),
    ],
)
def test_unsupported_versions_are_named(monkeypatch, installed, expected):
    monkeypatch.setattr(_requirements, "_installed", installed.get)
    found = _requirements.problems()
    assert len(found) == len(expected)
    for sentence, start in zip(found, expected, strict=True):
        assert sentence.startswith(start)


def test_import_fails_with_the_package_and_range(tmp_path):
    """A real import in a fresh interpreter whose pandas reports an unsupported version."""
    fake = tmp_path / "pandas-2.0.0.dist-info"
    fake.mkdir()
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: pandas\nVersion: 2.0.0\n", encoding="utf-8")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import idtrack_sc"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert "pandas 2.0.0 is installed; idtrack-sc supports pandas>=2.1." in proc.stderr
    assert "Traceback" in proc.stderr
    assert "h5py" not in proc.stderr
