from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pooch
import pytest

from idtrack_sc import builders, cli, load_snapshot
from idtrack_sc.cli import main
from idtrack_sc.registry import _registry
from idtrack_sc.snapshot import file_sha256

GENES = {
    104: [("ENSG00000141510", 17, "TP53", "HGNC:11998"), ("ENSG00000012048", 23, "BRCA1", "HGNC:1100")],
    110: [("ENSG00000141510", 17, "TP53", "HGNC:11998"), ("ENSG00000012048", 23, "BRCA1", "HGNC:1100")],
    114: [
        ("ENSG00000141510", 18, "TP53", "HGNC:11998"),
        ("ENSG00000012048", 23, "BRCA1", "HGNC:1100"),
        ("ENSG00000157764", 14, "BRAF", "HGNC:1097"),
    ],
}
HGNC = (
    "hgnc_id\tsymbol\tstatus\tprev_symbol\talias_symbol\tensembl_gene_id\tentrez_id\n"
    "HGNC:11998\tTP53\tApproved\t\tp53|LFS1\tENSG00000141510\t7157\n"
    "HGNC:1100\tBRCA1\tApproved\t\tRNF53\tENSG00000012048\t672\n"
)
GTF = (
    "#!genome-build GRCh38.p14\n"
    '17\tensembl\tgene\t7661779\t7687538\t.\t-\t.\tgene_id "ENSG00000141510"; gene_version "18"; '
    'gene_name "TP53"; gene_biotype "protein_coding";\n'
    '7\tensembl\tgene\t140719327\t140924929\t.\t-\t.\tgene_id "ENSG00000157764"; gene_version "14"; '
    'gene_name "BRAF"; gene_biotype "protein_coding";\n'
)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IDTRACK_SC_MIRROR", raising=False)
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    monkeypatch.setattr(_registry, "PACKAGE_DATA", tmp_path / "no-embedded-data")
    monkeypatch.setattr(pooch.core.time, "sleep", lambda seconds: None)
    return tmp_path / "cache"


@pytest.fixture
def sources(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "sources"
    folder.mkdir()
    out = {}
    for release, rows in GENES.items():
        path = folder / f"genes_{release}.tsv"
        lines = ["gene_id\tgene_version\tgene_name\tgene_biotype\thgnc_id"]
        lines += [f"{g}\t{v}\t{n}\tprotein_coding\t{h}" for g, v, n, h in rows]
        path.write_text("\n".join(lines) + "\n")
        out[str(release)] = path
    out["hgnc"] = folder / "hgnc_complete_set.txt"
    out["hgnc"].write_text(HGNC)
    out["gtf"] = folder / "Homo_sapiens.GRCh38.114.gtf"
    out["gtf"].write_text(GTF)
    return out


def _build_args(sources, out, *extra):
    return [
        "snapshot",
        "build",
        "--organism",
        "human",
        "--out",
        str(out),
        "--gene-table",
        f"104={sources['104']}",
        "--gene-table",
        f"110={sources['110']}",
        "--gene-table",
        f"114={sources['114']}",
        "--hgnc",
        str(sources["hgnc"]),
        *extra,
    ]


@pytest.fixture
def built(sources, tmp_path) -> Path:
    out = tmp_path / "published" / "homo_sapiens-114.idtrack.zip"
    assert main(_build_args(sources, out, "--assembly", "GRCh38")) == 0
    return out


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- the frame ------------------------------------------------------------------------------------
def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "snapshot" in out
    assert "--verbose" in out
    assert main(["snapshot", "--help"]) == 0
    out = capsys.readouterr().out
    for command in ("build", "info", "fetch", "list"):
        assert command in out


def test_version(capsys):
    import idtrack_sc

    assert main(["--version"]) == 0
    assert idtrack_sc.__version__ in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        ([], "required: COMMAND"),
        (["snapshot"], "required: COMMAND"),
        (["frobnicate"], "invalid choice"),
        (["snapshot", "info"], "give --organism NAME"),
        (["snapshot", "build", "--organism", "human"], "required: -o/--out"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, match):
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert line.startswith("idtrack-sc")
    assert "error:" in line
    assert match in line
    assert captured.out == ""


def test_new_command_groups_plug_in(monkeypatch, capsys):
    """A module with add_parser(subparsers), listed in COMMANDS, becomes a command."""
    from idtrack_sc.cli._base import add_command

    module = types.ModuleType("idtrack_sc.cli._hello")

    def add_parser(subparsers):
        parser = add_command(subparsers, "hello", help="say hello")
        parser.add_argument("name")
        parser.set_defaults(handler=lambda args: print(f"hello {args.name}") or 3)

    module.add_parser = add_parser
    monkeypatch.setitem(sys.modules, "idtrack_sc.cli._hello", module)
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "_hello"))
    assert main(["hello", "world", "-v"]) == 3
    assert capsys.readouterr().out == "hello world\n"


# -- errors and logging ---------------------------------------------------------------------------
def test_failure_is_one_line_without_traceback(tmp_path, capsys):
    assert main(["snapshot", "info", str(tmp_path / "missing.zip")]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"idtrack-sc: error: Snapshot file {tmp_path / 'missing.zip'} does not exist."


def test_debug_shows_traceback(tmp_path, capsys):
    assert main(["snapshot", "info", str(tmp_path / "missing.zip"), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "FileNotFoundError" in err


def test_not_a_snapshot(tmp_path, capsys):
    bad = tmp_path / "bad.idtrack.zip"
    bad.write_text("hello")
    assert main(["snapshot", "info", str(bad)]) == 1
    assert "is not an idtrack-sc snapshot" in _one_error_line(capsys.readouterr().err)


def test_unexpected_errors_hint_at_debug(monkeypatch, capsys, built):
    def boom(path):
        msg = "something\nbroke"
        raise RuntimeError(msg)

    monkeypatch.setattr("idtrack_sc.registry._registry.load_snapshot", boom)
    assert main(["snapshot", "info", str(built)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == "idtrack-sc: error: something broke (RuntimeError; rerun with --debug for the traceback)"


def test_interrupt_exits_130(monkeypatch, capsys, built):
    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr("idtrack_sc.registry._registry.load_snapshot", interrupted)
    assert main(["snapshot", "info", str(built)]) == 130
    assert capsys.readouterr().err == "idtrack-sc: interrupted\n"


def test_verbose_logs_and_logging_is_left_as_found(sources, tmp_path, capsys):
    package = logging.getLogger("idtrack_sc")
    handlers, level = list(package.handlers), package.level
    root_handlers = list(logging.getLogger().handlers)

    assert main(_build_args(sources, tmp_path / "quiet.zip")) == 0
    assert "INFO" not in capsys.readouterr().err

    assert main(["-v", *_build_args(sources, tmp_path / "loud.zip")]) == 0
    err = capsys.readouterr().err
    assert "idtrack-sc: INFO: reading gene table" in err

    assert main([*_build_args(sources, tmp_path / "loud2.zip"), "-vv"]) == 0  # also after the command
    assert "INFO" in capsys.readouterr().err

    assert package.handlers == handlers
    assert package.level == level
    assert logging.getLogger().handlers == root_handlers


# -- build ----------------------------------------------------------------------------------------
def test_build_from_gene_tables_and_hgnc(sources, tmp_path, capsys):
    built = tmp_path / "homo_sapiens-114.idtrack.zip"
    assert main(_build_args(sources, built, "--assembly", "GRCh38")) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {built}\n")
    assert f"sha256 {file_sha256(built)}" in out
    snap = load_snapshot(built)
    assert snap.organism == "homo_sapiens"
    assert snap.assembly == "GRCh38"
    assert snap.releases == (104, 110, 114)
    assert {"symbol", "hgnc_id"} <= set(snap.namespaces)
    assert [s["name"] for s in snap.manifest["sources"]] == [
        "gene_table:104",
        "gene_table:110",
        "gene_table:114",
        "hgnc",
    ]


def test_build_is_reproducible_and_refuses_to_overwrite(sources, built, capsys):
    first = built.read_bytes()
    assert main(_build_args(sources, built, "--assembly", "GRCh38")) == 1
    assert "--force" in _one_error_line(capsys.readouterr().err)
    assert built.read_bytes() == first
    assert main(_build_args(sources, built, "--assembly", "GRCh38", "--force")) == 0
    assert built.read_bytes() == first


def test_build_with_gtf_release_from_file_name_or_given(sources, tmp_path):
    out = tmp_path / "gtf.zip"
    assert main(["snapshot", "build", "--organism", "human", "--out", str(out), "--gtf", str(sources["gtf"])]) == 0
    assert load_snapshot(out).releases == (114,)
    renamed = tmp_path / "annotation.gtf"
    shutil.copy(sources["gtf"], renamed)
    out2 = tmp_path / "gtf2.zip"
    assert main(["snapshot", "build", "--organism", "human", "--out", str(out2), "--gtf", f"114={renamed}"]) == 0
    assert load_snapshot(out2).releases == (114,)


def test_build_passes_every_source_to_its_builder(monkeypatch, tmp_path, capsys):
    calls = []

    def record(name):
        def reader(*args, **kwargs):
            calls.append((name, args, kwargs))
            if name == "read_gene_table":
                return builders.read_gene_table(*args, **kwargs)
            return builders.SourceData(name=name, kind="hgnc", origin=str(args[0]))

        return reader

    real_gene_table = builders.read_gene_table
    real_build = builders.build_snapshot
    readers = ("read_gtf", "read_ensembl_dump", "read_hgnc", "read_ncbi_gene_info", "read_ncbi_gene_history")
    for name in (*readers, "read_ncbi_gene2ensembl"):
        monkeypatch.setattr(builders, name, record(name))

    def build_snapshot(srcs, **kwargs):
        calls.append(("build_snapshot", (len(srcs),), kwargs))
        return real_build([s for s in srcs if s.kind == "gene_table"], **kwargs)

    monkeypatch.setattr(builders, "build_snapshot", build_snapshot)
    monkeypatch.setattr(
        builders, "read_gene_table", lambda *a, **k: calls.append(("read_gene_table", a, k)) or real_gene_table(*a, **k)
    )
    table = tmp_path / "g.tsv"
    table.write_text("gene_id\tgene_name\nENSG00000141510.18\tTP53\n")
    out = tmp_path / "all.zip"
    argv = [
        "snapshot", "build", "--organism", "Homo sapiens", "--out", str(out), "--assembly", "GRCh38",
        "--gene-table", f"114={table}", "--gtf", "g.gtf", "--gtf", "110=h.gtf",
        "--ensembl-dump", "dumps/homo_sapiens_core_114_38", "--ensembl-dump", "https://ftp.example.org/core_113/",
        "--hgnc", "hgnc.txt", "--ncbi-gene-info", "gene_info.gz", "--ncbi-gene-history", "gene_history.gz",
        "--ncbi-gene2ensembl", "gene2ensembl.gz",
        "--cache-dir", str(tmp_path / "dl"),
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    by_name = {}
    for name, args, kwargs in calls:
        by_name.setdefault(name, []).append((args, kwargs))
    assert by_name["read_gene_table"] == [((str(table),), {"release": 114})]
    assert by_name["read_gtf"] == [(("g.gtf",), {"release": None}), (("h.gtf",), {"release": 110})]
    assert by_name["read_ensembl_dump"] == [
        (("dumps/homo_sapiens_core_114_38",), {"cache_dir": tmp_path / "dl"}),
        (("https://ftp.example.org/core_113/",), {"cache_dir": tmp_path / "dl"}),
    ]
    assert by_name["read_hgnc"] == [((Path("hgnc.txt"),), {})]
    assert by_name["read_ncbi_gene_info"] == [((Path("gene_info.gz"),), {"tax_id": 9606})]
    [(args, kwargs)] = by_name["read_ncbi_gene_history"]
    assert args == (Path("gene_history.gz"),)
    assert kwargs["tax_id"] == 9606
    assert kwargs["gene_info"].name == "read_ncbi_gene_info"
    assert by_name["read_ncbi_gene2ensembl"] == [((Path("gene2ensembl.gz"),), {"tax_id": 9606})]
    assert by_name["build_snapshot"] == [((9,), {"organism": "homo_sapiens", "out": out, "assembly": "GRCh38"})]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--gene-table", "genes.tsv"], "expected RELEASE=PATH"),
        (["--gene-table", "abc=genes.tsv"], "expected RELEASE=PATH"),
        (["--gene-table", "114=a.tsv", "--gene-table", "114=b.tsv"], "release twice"),
        (["--ncbi-gene-history", "h.gz"], "needs --ncbi-gene-info"),
        ([], "no sources"),
    ],
)
def test_build_usage_errors(tmp_path, capsys, extra, match):
    argv = ["snapshot", "build", "--organism", "human", "--out", str(tmp_path / "x.zip"), *extra]
    assert main(argv) == 2
    assert match in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "x.zip").exists()


def test_build_unknown_organism_is_usage_error(tmp_path, sources, capsys):
    assert (
        main(
            [
                "snapshot",
                "build",
                "--organism",
                "martian",
                "--out",
                str(tmp_path / "x.zip"),
                "--hgnc",
                str(sources["hgnc"]),
            ]
        )
        == 2
    )
    assert "Unknown organism 'martian'" in _one_error_line(capsys.readouterr().err)


def test_build_missing_input_fails_cleanly(tmp_path, capsys):
    out = tmp_path / "x.zip"
    argv = [
        "snapshot",
        "build",
        "--organism",
        "human",
        "--out",
        str(out),
        "--gene-table",
        f"114={tmp_path / 'nope.tsv'}",
    ]
    assert main(argv) == 1
    assert "nope.tsv" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()


# -- info -----------------------------------------------------------------------------------------
def test_info_text(built, capsys):
    capsys.readouterr()
    assert main(["snapshot", "info", str(built)]) == 0
    out = capsys.readouterr().out
    assert "organism  homo_sapiens" in out
    assert "releases  104, 110, 114 (latest 114)" in out
    assert "assembly  GRCh38" in out
    assert f"sha256    {file_sha256(built)}" in out
    assert "  hgnc: hgnc_complete_set.txt" in out


def test_info_json(built, capsys):
    capsys.readouterr()
    assert main(["snapshot", "info", "--json", str(built)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["organism"] == "homo_sapiens"
    assert record["releases"] == "104, 110, 114"
    assert record["sha256"] == file_sha256(built)
    assert record["genes"] == 3
    assert record["path"] == str(built)
    assert [s["kind"] for s in record["sources"]] == ["gene_table"] * 3 + ["hgnc"]


# -- fetch / list ---------------------------------------------------------------------------------
@pytest.fixture
def own_registry(built, tmp_path) -> Path:
    reg = tmp_path / "my-registry.txt"
    reg.write_text(f"# lab snapshots\n{built.name} sha256:{file_sha256(built)} {built}\n")
    return reg


def test_fetch_prints_cached_path_and_then_works_offline(built, own_registry, tmp_path, capsys):
    capsys.readouterr()
    cache = tmp_path / "my-cache"
    argv = [
        "snapshot",
        "fetch",
        "human",
        "--release",
        "114",
        "--registry",
        str(own_registry),
        "--cache-dir",
        str(cache),
    ]
    assert main([*argv, "--no-progress"]) == 0
    assert capsys.readouterr().out == f"{cache / built.name}\n"
    built.unlink()  # the source is gone: the cached copy is used
    assert main(argv) == 0
    assert capsys.readouterr().out == f"{cache / built.name}\n"


def test_fetch_from_mirror_folder_and_env(built, own_registry, tmp_path, monkeypatch, capsys, isolated):
    capsys.readouterr()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.move(built, mirror / built.name)
    monkeypatch.setenv("IDTRACK_SC_REGISTRY", str(own_registry))
    assert main(["snapshot", "fetch", "homo_sapiens", "--mirror", str(mirror)]) == 0
    assert capsys.readouterr().out == f"{isolated / built.name}\n"


def test_fetch_unknown_organism_lists_registry(own_registry, capsys):
    assert main(["snapshot", "fetch", "chicken", "--registry", str(own_registry)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "No snapshot of organism 'chicken'" in line
    assert "homo_sapiens: default, 114" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["snapshot", "fetch", "chicken"],
        ["snapshot", "fetch", "human", "--release", "99"],
        ["snapshot", "info", "--organism", "chicken"],
        ["convert", "TP53", "--organism", "chicken"],
        ["convert", "TP53", "--organism", "human", "--release", "60"],  # outside the snapshot's range
        ["harmonize", "{h5ad}", "-o", "{out}", "--organism", "chicken"],
    ],
)
def test_a_snapshot_or_release_that_does_not_exist_is_bad_usage_everywhere(argv, own_registry, tmp_path, capsys):
    import anndata as ad
    import numpy as np
    import pandas as pd

    h5ad = tmp_path / "in.h5ad"
    ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["TP53", "BRCA1"])).write_h5ad(h5ad)
    argv = [a.format(h5ad=h5ad, out=tmp_path / "out.h5ad") for a in argv]
    assert main([*argv, "--registry", str(own_registry)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "chicken" in line or "release" in line  # the message says what was asked and what exists


def test_a_damaged_download_is_a_failure_not_bad_usage(built, tmp_path, capsys):
    reg = tmp_path / "wrong.txt"
    reg.write_text(f"{built.name} sha256:{'0' * 64} {built}\n")
    argv = ["convert", "TP53", "--organism", "human", "--release", "114", "--registry", str(reg)]
    assert main(argv) == 1
    assert "Checksum mismatch" in _one_error_line(capsys.readouterr().err)


def test_fetch_checksum_mismatch(built, tmp_path, capsys, isolated):
    reg = tmp_path / "wrong.txt"
    reg.write_text(f"{built.name} sha256:{'0' * 64} {built}\n")
    assert main(["snapshot", "fetch", "human", "--release", "114", "--registry", str(reg)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "Checksum mismatch" in line
    assert "0" * 64 in line
    assert file_sha256(built) in line
    assert not isolated.exists() or not any(isolated.iterdir())


def test_list_table_and_json(built, own_registry, capsys):
    capsys.readouterr()
    assert main(["snapshot", "list", "--registry", str(own_registry)]) == 0
    out = capsys.readouterr().out.splitlines()
    header = ["organism", "release", "file", "local", "sha256", "name", "releases", "sources", "url"]
    assert out[0].split() == header
    row = next(line for line in out if built.name in line).split()
    assert row[:4] == ["homo_sapiens", "114", built.name, "no"]
    assert row[4] == file_sha256(built)[:12]

    assert main(["snapshot", "fetch", "human", "--release", "114", "--registry", str(own_registry)]) == 0
    capsys.readouterr()
    assert main(["snapshot", "list", "--json", "--registry", str(own_registry)]) == 0
    records = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    # available offline: the releases and sources its manifest names
    assert records[built.name].pop("releases") == ",".join(str(r) for r in load_snapshot(built).releases)
    assert records[built.name].pop("sources") == "gene_table, hgnc"
    assert records[built.name] == {
        "organism": "homo_sapiens",
        "release": 114,
        "file": built.name,
        "sha256": file_sha256(built),
        "url": built.resolve().as_uri(),
        "size": None,  # the registry line gives no size
        "shipped": False,
        "cached": True,
    }
    assert records["homo_sapiens-default.idtrack.zip"]["release"] is None
    assert records["homo_sapiens-default.idtrack.zip"]["size"] > 0
    assert main(["snapshot", "list", "--registry", str(own_registry)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if built.name in line).split()
    assert row[3] == "cache"


def test_list_says_which_files_ship_inside_the_package(built, own_registry, tmp_path, monkeypatch, capsys):
    package = tmp_path / "package-data"
    package.mkdir()
    shutil.copy(built, package / built.name)
    monkeypatch.setattr(_registry, "PACKAGE_DATA", package)
    capsys.readouterr()
    assert main(["snapshot", "list", "--registry", str(own_registry)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if built.name in line).split()
    assert row[3] == "package"  # not "cached": nothing was ever downloaded
    assert main(["snapshot", "list", "--json", "--registry", str(own_registry)]) == 0
    record = {r["file"]: r for r in json.loads(capsys.readouterr().out)}[built.name]
    assert (record["shipped"], record["cached"]) == (True, True)


def _help_examples(parser, name="idtrack-sc"):
    """``(command, example lines)`` of every parser's ``examples:`` epilog section."""
    import argparse

    epilog = parser.epilog or ""
    if "examples:" in epilog:
        section = epilog.split("examples:", 1)[1].splitlines()[1:]
        lines = []
        for line in section:
            if line and not line[0].isspace():
                break
            if line.strip():
                lines.append(line)
        yield name, lines
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _help_examples(sub, f"{name} {sub_name}")


def test_help_examples_are_commands_that_parse():
    import shlex

    examples = list(_help_examples(cli.build_parser()))
    assert any(name == "idtrack-sc snapshot build" for name, _ in examples)
    for name, lines in examples:
        commands, current = [], ""
        for line in lines:
            stripped = line.strip()
            if current:  # a continuation: indented deeper than a command
                assert line.startswith("      "), f"{name}: {line!r} follows a continued line but is not indented"
            else:
                assert stripped.startswith(("idtrack-sc ", "cut ", "cat ")), f"{name}: {line!r} is not a command"
            # a backslash that ate its newline leaves a run of spaces in the middle of a command
            assert "   " not in stripped, f"{name}: {line!r} holds a broken line continuation"
            current += " " + stripped.removesuffix("\\")
            if not stripped.endswith("\\"):
                commands.append(current.strip())
                current = ""
        assert not current, f"{name}: the last example ends with a continuation"
        for command in commands:
            words = shlex.split(command.split("|")[-1])
            assert words[0] == "idtrack-sc", command
            cli.build_parser().parse_args(words[1:])  # raises UsageError on a broken example


# -- the installed console script -----------------------------------------------------------------
def test_console_script(built, tmp_path):
    script = Path(sys.executable).with_name("idtrack-sc")
    if not script.exists():
        found = shutil.which("idtrack-sc")
        if found is None:
            pytest.skip("the idtrack-sc console script is not installed")
        script = Path(found)
    env = {**os.environ, "IDTRACK_SC_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [str(script), "snapshot", "info", "--json", str(built)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sha256"] == file_sha256(built)
    bad = subprocess.run([str(script), "snapshot", "info"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
