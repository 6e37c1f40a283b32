"""The documentation follows the code: every reason and outcome, every snapshot column, and
the read-without-idtrack-sc snippet of ``docs/snapshot-format.md`` actually works.

Fast and offline; Sphinx is not run (and not needed) here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from idtrack_sc.datasets import default_snapshot, default_snapshot_path
from idtrack_sc.resolve import OUTCOMES, PARSE_NOTES, REASONS
from idtrack_sc.snapshot import TABLES
from idtrack_sc.snapshot._schema import ADDED_IN_2, DERIVED_TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.skipif(not DOCS.is_dir(), reason="docs/ is not part of this checkout")


def _tables_module():
    spec = importlib.util.spec_from_file_location("idtrack_tables", DOCS / "extensions" / "idtrack_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reason_table_covers_every_reason():
    tables = _tables_module()
    rows = tables.reason_rows()
    assert [r[0] for r in rows] == list(REASONS)
    unclassified = [reason for reason, outcomes, _ in rows if outcomes == "?"]
    assert not unclassified, f"classify {unclassified} in idtrack_sc.resolve.REASON_OUTCOMES"


def test_outcome_and_parse_tables_cover_the_vocabulary():
    tables = _tables_module()
    assert [o for o, _ in tables.outcome_rows()] == list(OUTCOMES)
    assert [n for n, _ in tables.parse_note_rows()] == list(PARSE_NOTES)
    lines = tables.list_table(("reason", "outcome", "meaning"), tables.reason_rows())
    assert sum(line.startswith("   * - ``") for line in lines) == len(REASONS)


def test_generated_vocabulary_tables_cover_the_code():
    from idtrack_sc.record import PAIR_STATUS, RECORD_KEYS, RECORD_PARAMS

    tables = _tables_module()
    assert [k for k, _ in tables.record_key_rows()] == list(RECORD_KEYS)
    assert [k for k, _ in tables.record_param_rows()] == list(RECORD_PARAMS)
    assert [k for k, _ in tables.pair_status_rows()] == list(PAIR_STATUS)
    concepts = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert "```{idtrack-pair-statuses}" in concepts
    page = (DOCS / "reproducibility.md").read_text(encoding="utf-8")
    for directive in ("idtrack-record-keys", "idtrack-record-params"):
        assert f"```{{{directive}}}" in page
    assert "Maintainer" not in page
    for name in ("apply_record", "check_record"):
        assert f"its.pp.{name}(" in page
    # backticks in a description become literals, everything else stays literal text
    assert tables._escape("a `x_y` b_c | d") == "a ``x_y`` b\\_c \\| d"
    assert tables._escape("one ` alone") == "one \\` alone"


def test_concepts_page_renders_and_explains_every_reason():
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    for directive in ("idtrack-outcomes", "idtrack-reasons", "idtrack-parse-notes"):
        assert f"```{{{directive}}}" in text
    for outcome in OUTCOMES:
        assert f"`{outcome}`" in text
    missing = [reason for reason in REASONS if f"`{reason}`" not in text]
    assert not missing, f"docs/concepts.md does not explain reasons {missing}"


def _format_section(text: str, table: str) -> str:
    start = text.index(f"### `{table}.parquet`")
    end = text.find("\n#", start + 1)
    return text[start : end if end >= 0 else None]


@pytest.mark.parametrize("table", [*TABLES, *DERIVED_TABLES])
def test_snapshot_format_lists_every_column_with_its_type(table):
    text = (DOCS / "snapshot-format.md").read_text(encoding="utf-8")
    section = _format_section(text, table)
    documented = re.findall(r"^\| `([a-z_]+)` \| `([a-z0-9]+)` \|", section, flags=re.MULTILINE)
    expected = [(field.name, str(field.type)) for field in {**TABLES, **DERIVED_TABLES}[table]]
    assert documented == expected


def _read_snippet() -> str:
    text = (DOCS / "snapshot-format.md").read_text(encoding="utf-8")
    marker = text.index("% test: read-without-package")
    match = re.search(r"```python\n(.*?)```", text[marker:], flags=re.DOTALL)
    assert match is not None
    return match.group(1)


def _shown_output() -> str:
    text = (DOCS / "snapshot-format.md").read_text(encoding="utf-8")
    after = text[text.index("% test: read-without-package") :]
    match = re.search(r"this prints[^\n]*:\n\n```text\n(.*?)```", after, flags=re.DOTALL)
    assert match is not None
    return match.group(1).strip()


def test_read_without_package_snippet(tmp_path):
    code = _read_snippet()
    assert "idtrack_sc" not in code
    shutil.copy(default_snapshot_path(), tmp_path / "homo_sapiens-default.idtrack.zip")
    check = (
        "\nimport json as _json\n"
        "print('RESULT', _json.dumps({'manifest': manifest, 'rows': {k: t.num_rows for k, t in tables.items()},"
        " 'columns': {k: t.schema.names for k, t in tables.items()}}))\n"
    )
    # -I: isolated mode, so the snippet cannot see this checkout's sources
    done = subprocess.run(
        [sys.executable, "-I", "-c", code + check],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "TP53" in done.stdout
    printed, _, tail = done.stdout.partition("RESULT ")
    # the page shows what the snippet prints, not an output typed once and left to go stale
    assert printed.strip() == _shown_output(), "docs/snapshot-format.md: update the output shown after the snippet"
    result = json.loads(tail)
    snap = default_snapshot()
    assert result["manifest"] == snap.manifest
    # a schema-1 file has no loci member and events without the columns schema 2 added
    present = [name for name in TABLES if name in result["rows"]]
    assert set(TABLES) - set(present) <= ({"loci"} if snap.schema_version == 1 else set())
    assert result["rows"] == {name: len(snap.table(name)) for name in present}
    added = ADDED_IN_2 if snap.schema_version == 1 else {}
    assert result["columns"] == {
        name: [c for c in TABLES[name].names if c not in (added.get(name) or ())] for name in present
    }


def _conf(monkeypatch, **env) -> dict:
    import runpy

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DOCS / "conf.py"))


def test_docs_are_nitpicky_with_intersphinx_always_on(monkeypatch, tmp_path):
    online = _conf(monkeypatch, IDTRACK_SC_DOCS_OFFLINE="0", IDTRACK_SC_DOCS_INVENTORIES=str(tmp_path))
    assert online["nitpicky"] is True
    assert set(online["intersphinx_mapping"]) >= {"python", "numpy", "pandas", "anndata", "scanpy", "matplotlib"}
    assert online["nitpick_ignore_regex"] == []  # with the network nothing is exempt


def test_offline_docs_exempt_only_projects_without_an_inventory(monkeypatch, tmp_path):
    (tmp_path / "pandas.inv").write_bytes(b"# Sphinx inventory version 2\n")
    conf = _conf(monkeypatch, IDTRACK_SC_DOCS_OFFLINE="1", IDTRACK_SC_DOCS_INVENTORIES=str(tmp_path))
    assert conf["intersphinx_mapping"] == {"pandas": (conf["_INTERSPHINX"]["pandas"][0], str(tmp_path / "pandas.inv"))}
    patterns = [re.compile(target) for _, target in conf["nitpick_ignore_regex"]]

    def exempt(target: str) -> bool:
        return any(p.fullmatch(target) for p in patterns)

    assert exempt("anndata.AnnData")
    assert exempt("numpy.ndarray")
    assert exempt("str")
    assert exempt("collections.abc.Mapping")
    assert not exempt("pandas.DataFrame")  # its inventory is cached: checked
    assert not exempt("idtrack_sc.resolve.REASONS")  # our own references are always checked
    assert not exempt("Snapshot")


#: Pages written by scripts from measured results (benchmarks/run.py, scripts/validate_real_data.py).
GENERATED = ("benchmarks/results.md", "validation.md")


@pytest.mark.parametrize("page", GENERATED)
def test_generated_pages_show_no_path_of_the_machine_they_ran_on(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    found = re.findall(r"(?<![\w.~-])/(?:work|home|root|tmp|Users|opt|mnt|private|var/folders)/[^\s`|)]*", text)
    assert not found, f"{page} shows paths of the machine it was generated on: {found[:5]}"
