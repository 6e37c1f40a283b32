"""``idtrack-sc convert`` on the embedded default snapshot."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from idtrack_sc.cli import main
from idtrack_sc.datasets import default_snapshot_path

TP53, BRCA1, BRCA2 = "ENSG00000141510", "ENSG00000012048", "ENSG00000139618"
LEGACY = ["TP53", "P53", TP53, BRCA2, "BRCA1", "NOT_A_REAL_GENE"]
COLUMNS = ["query", "target", "n_targets", "targets", "outcome", "reason", "parse", "key", "query_namespace"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IDTRACK_SC_MIRROR", raising=False)
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)


def _tsv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)


def test_ids_from_arguments_to_stdout(capsys):
    assert main(["convert", *LEGACY, "--snapshot", "default"]) == 0
    captured = capsys.readouterr()
    table = _tsv(captured.out)
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    assert table["query"].tolist() == LEGACY
    assert table["target"].tolist() == [TP53, TP53, TP53, BRCA2, BRCA1, ""]
    assert table["outcome"].tolist() == ["1:1"] * 5 + ["1:0"]
    assert table["reason"].tolist()[1] == "alias"
    assert captured.err == ""


def test_to_symbol_release_and_strategy(capsys):
    argv = ["convert", "60B8AG", "ENSG00000002079", "--snapshot", "default", "--to", "HGNC Symbol", "--release", "110"]
    assert main([*argv, "--strategy", "all"]) == 0
    table = _tsv(capsys.readouterr().out)
    assert table["outcome"].tolist() == ["1:n", "1:1"]
    assert table["targets"].tolist()[0].split("|") == ["S100A8", "S100A9"]
    assert main(["convert", "ENSG00000139656", "--snapshot", "default"]) == 0  # retired by 114
    table = _tsv(capsys.readouterr().out)
    assert (table["reason"].item(), table["retired_in"].item()) == ("retired", "114")


def test_file_one_per_line_and_output_file(tmp_path, capsys):
    ids = tmp_path / "genes.txt"
    ids.write_text("TP53\n  P53 \n\nBRCA1\n\n", encoding="utf-8")
    out = tmp_path / "out.tsv"
    assert main(["convert", "-i", str(ids), "--snapshot", str(default_snapshot_path()), "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    table = _tsv(out.read_text(encoding="utf-8"))
    # the blank line inside the list stays (aligned rows); trailing blank lines do not
    assert table["query"].tolist() == ["TP53", "P53", "", "BRCA1"]
    assert table["reason"].tolist() == ["unchanged", "alias", "empty", "unchanged"]


@pytest.mark.parametrize(("name", "sep", "column"), [("var.csv", ",", "gene_ids"), ("var.tsv", "\t", "2")])
def test_column_of_a_table(tmp_path, capsys, name, sep, column):
    path = tmp_path / name
    path.write_text(sep.join(["cell_count", "gene_ids"]) + "\n" + "\n".join(f"1{sep}{g}" for g in LEGACY) + "\n")
    assert main(["convert", "-i", str(path), "--column", column, "--snapshot", "default", "--to", "symbol"]) == 0
    table = _tsv(capsys.readouterr().out)
    assert table["target"].tolist() == ["TP53", "TP53", "TP53", "BRCA2", "BRCA1", ""]


def test_ids_from_stdin_and_arguments(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("BRCA1\nNOT_A_REAL_GENE\n"))
    assert main(["convert", "TP53", "-i", "-", "--snapshot", "default", "--to", "symbol"]) == 0
    assert _tsv(capsys.readouterr().out)["target"].tolist() == ["TP53", "BRCA1", ""]


def test_summary_goes_to_stderr_next_to_a_table_on_stdout(capsys):
    assert main(["convert", *LEGACY, "--snapshot", "default", "--summary"]) == 0
    captured = capsys.readouterr()
    assert len(_tsv(captured.out)) == 6  # stdout stays a clean TSV
    assert "6 identifiers -> ensembl_gene at Ensembl release 114" in captured.err
    lines = {tuple(line.split()) for line in captured.err.splitlines()}
    assert ("1:1", "unchanged", "4", "66.7%") in lines
    assert ("1:1", "alias", "1", "16.7%") in lines
    assert ("1:0", "not_found", "1", "16.7%") in lines


def test_summary_and_explain_on_stdout_without_table(tmp_path, capsys):
    assert main(["convert", *LEGACY, "--snapshot", "default", "--summary", "--no-table", "--explain", "P53"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("6 identifiers -> ensembl_gene")
    assert "\nP53\n  1. Read 'P53' as key 'P53'." in captured.out
    assert "alias" in captured.out
    out = tmp_path / "t.tsv"
    assert main(["convert", "TP53", "--snapshot", "default", "-o", str(out), "--summary"]) == 0
    assert "1 identifiers -> ensembl_gene" in capsys.readouterr().out


def test_explain_alone(capsys):
    assert main(["convert", "--snapshot", "default", "--to", "symbol", "--explain", "1-Mar", "--explain", "X"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1-Mar\n  1. ")
    assert "date_repaired" in out
    assert "\nX\n" in out
    assert "not_found" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["convert", "TP53"], "--snapshot FILE"),
        (["convert", "--snapshot", "default"], "no identifiers"),
        (["convert", "TP53", "--snapshot", "default", "--column", "gene"], "--column needs -i"),
        (["convert", "TP53", "--snapshot", "default", "--organism", "mouse"], "does not match"),
        (["convert", "TP53", "--snapshot", "default", "--strategy", "first"], "invalid choice"),
        (["convert", "TP53", "--organism", "martian"], "Unknown organism"),
    ],
)
def test_usage_errors(capsys, argv, match):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert match in captured.err
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--release", "120"], "release 120 is outside the range"),
        (["--to", "uniprot_trembl"], "can convert to"),
    ],
)
def test_what_the_snapshot_lacks_is_bad_usage_in_one_line(capsys, extra, match):
    # like an organism the registry lacks: exit 2, and the message says what there is
    assert main(["convert", "TP53", "--snapshot", "default", *extra]) == 2
    err = capsys.readouterr().err
    assert match in err
    assert len(err.strip().splitlines()) == 1


def test_missing_column_and_file(tmp_path, capsys):
    path = tmp_path / "var.tsv"
    path.write_text("a\tb\nTP53\t1\n")
    assert main(["convert", "-i", str(path), "--column", "gene", "--snapshot", "default"]) == 2
    assert "its columns are: a, b" in capsys.readouterr().err
    assert main(["convert", "-i", str(tmp_path / "nope.txt"), "--snapshot", "default"]) == 1
    assert "nope.txt" in capsys.readouterr().err


def test_organism_uses_the_shipped_snapshot_offline(capsys, monkeypatch):
    monkeypatch.setenv("IDTRACK_SC_MIRROR", "http://127.0.0.1:9/unreachable")
    assert main(["convert", "TP53", "ENSMUSG00000059552", "--organism", "human", "--to", "symbol"]) == 0
    table = _tsv(capsys.readouterr().out)
    assert table["target"].fillna("").tolist() == ["TP53", ""]
    assert main(["convert", "Trp53", "--organism", "mouse"]) == 0
    assert _tsv(capsys.readouterr().out)["target"].item() == "ENSMUSG00000059552"


def test_organism_without_a_snapshot_says_what_exists_and_how_to_build(capsys):
    assert main(["convert", "TP53", "--organism", "chicken"]) == 2
    err = capsys.readouterr().err
    assert "homo_sapiens" in err
    assert "mus_musculus" in err
    assert "snapshot build" in err


def test_organism_with_a_snapshot_file_is_checked(capsys):
    assert main(["convert", "TP53", "--snapshot", str(default_snapshot_path()), "--organism", "Homo sapiens"]) == 0
    assert _tsv(capsys.readouterr().out)["target"].item() == TP53


def test_help_lists_convert(capsys):
    assert main(["--help"]) == 0
    assert "convert" in capsys.readouterr().out
    assert main(["convert", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--snapshot", "--organism", "--to", "--strategy", "--summary", "--explain", "--column"):
        assert option in out


def test_subprocess_reads_stdin(tmp_path):
    script = shutil.which("idtrack-sc")
    command = [script] if script else [sys.executable, "-m", "idtrack_sc.cli"]
    env = {**os.environ, "IDTRACK_SC_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [*command, "convert", "-i", "-", "--snapshot", "default", "--to", "symbol", "--summary"],
        input="\n".join(LEGACY) + "\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = _tsv(done.stdout)
    assert table["target"].tolist() == ["TP53", "TP53", "TP53", "BRCA2", "BRCA1", ""]
    assert "6 identifiers -> symbol" in done.stderr


def test_spreadsheet_formulas_are_written_as_text(tmp_path, capsys):
    """A query a spreadsheet would run (``=1+1``, ``@SUM(A1)``) is written with a leading ``'``; numbers stay."""
    out = tmp_path / "converted.csv"
    ids = tmp_path / "ids.txt"
    ids.write_text("=1+1\n@SUM(A1)\n-2+3\nTP53\n")
    assert main(["convert", "-i", str(ids), "--snapshot", "default", "-o", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["query"].tolist() == ["'=1+1", "'@SUM(A1)", "'-2+3", "TP53"]
    assert table.loc[3, "target"] == "ENSG00000141510"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in table.to_numpy().ravel())
