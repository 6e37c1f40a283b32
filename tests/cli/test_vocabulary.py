"""One command-line vocabulary: the same options for the same things, outputs checked by extension."""

from __future__ import annotations

import io

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from idtrack_sc.cli import _one_line, build_parser, docs_parser, main
from idtrack_sc.datasets import default_snapshot_path

SNAPSHOT_OPTIONS = {"--snapshot", "--organism", "--cache-dir", "--registry", "--mirror", "--release"}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IDTRACK_SC_MIRROR", raising=False)
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)


def _commands(parser, prefix=()):
    """Every leaf command: its words and parser."""
    if not parser.subcommands:
        yield prefix, parser
    for action in parser.subcommands:
        for name, child in action.choices.items():
            yield from _commands(child, (*prefix, name))


def _options(parser) -> dict[str, tuple[str, ...]]:
    """Visible option strings by destination."""
    out = {}
    for action in parser._get_optional_actions():
        if action.help != "==SUPPRESS==":
            out.setdefault(action.dest, ())
            out[action.dest] += tuple(action.option_strings)
    return out


def test_same_options_for_the_same_things():
    commands = dict(_commands(build_parser()))
    assert set(commands) >= {
        ("convert",),
        ("harmonize",),
        ("demo",),
        ("snapshot", "build"),
        ("snapshot", "info"),
        ("snapshot", "fetch"),
        ("snapshot", "list"),
    }
    for words in [("convert",), ("harmonize",), ("snapshot", "info")]:
        options = {o for opts in _options(commands[words]).values() for o in opts}
        assert options >= SNAPSHOT_OPTIONS, words
    for words in [("convert",), ("harmonize",), ("demo",), ("snapshot", "build"), ("snapshot", "list")]:
        assert _options(commands[words])["out"] == ("-o", "--out"), words
    for words in [("snapshot", "fetch"), ("snapshot", "list")]:
        options = {o for opts in _options(commands[words]).values() for o in opts}
        assert options >= {"--organism", "--cache-dir", "--registry", "--mirror"}, words
    # one spelling of each option across commands: no --output next to --out, no --cache next to --cache-dir
    spellings: dict[str, set[tuple[str, ...]]] = {}
    for parser in commands.values():
        for dest, opts in _options(parser).items():
            spellings.setdefault(dest, set()).add(opts)
    for dest in ("out", "snapshot", "organism", "cache_dir", "registry", "mirror", "release"):
        assert len(spellings[dest]) == 1, (dest, spellings[dest])


def _tsv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)


def test_convert_out_dash_is_stdout_and_formats_follow_the_extension(tmp_path, capsys):
    argv = ["convert", "TP53", "2-Sep", "--snapshot", "default", "--to", "symbol"]
    assert main([*argv, "-o", "-", "--summary"]) == 0
    captured = capsys.readouterr()
    assert _tsv(captured.out)["target"].tolist() == ["TP53", "SEPTIN2"]
    assert "outcome" in captured.err  # the summary goes to stderr: stdout stays a table
    for name, read in [
        ("t.csv", lambda p: pd.read_csv(p, dtype=str)),
        ("t.tsv.gz", lambda p: pd.read_csv(p, sep="\t", dtype=str)),
        ("t.parquet", pd.read_parquet),
        ("t.json", lambda p: pd.read_json(p, orient="records", dtype=False)),
    ]:
        assert main([*argv, "-o", str(tmp_path / name)]) == 0, name
        assert read(tmp_path / name)["target"].tolist() == ["TP53", "SEPTIN2"], name
    assert main([*argv, "-o", str(tmp_path / "t.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "t.xlsx: cannot tell the table format from the extension" in err
    assert ".csv" in err
    assert not (tmp_path / "t.xlsx").exists()


def test_old_output_flag_still_works_with_a_warning(tmp_path, capsys):
    out = tmp_path / "t.tsv"
    assert main(["convert", "TP53", "--snapshot", "default", "--output", str(out)]) == 0
    assert "--output is deprecated; use --out" in capsys.readouterr().err
    assert _tsv(out.read_text())["query"].tolist() == ["TP53"]
    assert "--output" not in build_parser().format_help()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["harmonize", "IN", "-o", "OUT/x.txt", "--snapshot", "default"], "x.txt: a harmonized dataset must end in"),
        (["snapshot", "build", "--organism", "human", "-o", "OUT/x.tar", "--hgnc", "h.txt"], "must end in .zip"),
        (["convert", "TP53", "--organism", "martian"], "martian"),
        (["snapshot", "fetch"], "give the organism once"),
        (["snapshot", "info", "--snapshot", "default", "--organism", "mouse"], "does not match the snapshot"),
        (["snapshot", "list", "-o", "OUT/l.xlsx"], "cannot tell the table format"),
    ],
)
def test_usage_errors_in_the_shells_words(tmp_path, capsys, argv, message):
    h5ad = tmp_path / "in.h5ad"
    ad.AnnData(np.ones((2, 1), dtype=np.float32), var=pd.DataFrame(index=["TP53"])).write_h5ad(h5ad)
    argv = [str(h5ad) if a == "IN" else a.replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("idtrack-sc: error: ")
    assert message in err[0]
    assert "Traceback" not in err[0]


def test_errors_are_not_python_reprs():
    assert _one_line(KeyError("no snapshot of organism zebrafish")) == "no snapshot of organism zebrafish"
    assert _one_line(FileNotFoundError(2, "No such file or directory", "pbmc.h5ad")) == (
        "pbmc.h5ad: no such file or directory"
    )


def test_snapshot_info_on_a_file_the_embedded_subset_or_a_flag(capsys):
    assert main(["snapshot", "info", str(default_snapshot_path())]) == 0
    from_file = capsys.readouterr().out
    assert main(["snapshot", "info", "--snapshot", "default"]) == 0
    from_flag = capsys.readouterr().out
    assert from_file.splitlines()[1:] == from_flag.splitlines()[1:]  # the same but the file line
    assert "homo_sapiens" in from_flag


def test_harmonize_progress_comes_from_the_callback(tmp_path, monkeypatch):
    from idtrack_sc.cli import harmonize as cmd
    from idtrack_sc.pp import on_harmonized

    seen = []
    original = cmd._DatasetProgress.__call__

    def spy(self, label, counts):
        seen.append((label, counts["n_vars_before"]))
        return original(self, label, counts)

    monkeypatch.setattr(cmd._DatasetProgress, "__call__", spy)
    files = []
    for name, genes in (("a", ["TP53", "KRAS"]), ("b", ["TP53", "NOT_A_REAL_GENE", "1-Mar"])):
        path = tmp_path / f"{name}.h5ad"
        ad.AnnData(np.ones((2, len(genes)), dtype=np.float32), var=pd.DataFrame(index=genes)).write_h5ad(path)
        files.append(str(path))
    argv = ["harmonize", *files, "-o", str(tmp_path / "m.h5ad"), "--snapshot", "default", "--no-progress"]
    assert main(argv) == 0
    assert seen == [("dataset 'a'", 2), ("dataset 'b'", 3)]
    seen.clear()
    argv = ["harmonize", *files, "-o", str(tmp_path / "m2.h5ad"), "--snapshot", "default", "--out-of-core"]
    assert main([*argv, "--no-progress"]) == 0
    assert [n for _, n in seen] == [2, 3]  # the on-disk path reports through the same callback
    # outside the block nothing is called
    calls = []
    with on_harmonized(lambda label, counts: calls.append(label)):
        pass
    import idtrack_sc as its

    its.pp.harmonize_var_names(
        ad.AnnData(np.ones((1, 1), dtype=np.float32), var=pd.DataFrame(index=["TP53"])), snapshot="default"
    )
    assert calls == []


def test_docs_render_commands_verbatim():
    parser = docs_parser()
    convert = dict(_commands(parser))[("convert",)]
    epilog = convert.epilog
    assert ".. code-block:: console" in epilog
    assert "   $ idtrack-sc convert TP53 P53 ENSG00000139618 --snapshot default --to symbol" in epilog
    build = dict(_commands(parser))[("snapshot", "build")].epilog
    # a continued command is one console entry: the continuation lines get no prompt
    assert "   $ idtrack-sc snapshot build --organism human --out homo_sapiens-114.idtrack.zip \\" in build
    assert "   --gene-table 104=genes_104.tsv" in build
    harmonize = dict(_commands(parser))[("harmonize",)].epilog
    assert "atlas/*.h5ad" in harmonize  # inside a code block: not emphasis markup
    # the terminal help stays plain text
    assert ".. code-block" not in dict(_commands(build_parser()))[("convert",)].epilog
