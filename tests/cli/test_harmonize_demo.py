from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import idtrack_sc as its
from idtrack_sc.cli import main
from idtrack_sc.cli.harmonize import dataset_names

HAS_CONCAT = hasattr(its.pp, "concat_harmonized")


def write(path, names, n_obs=5):
    rng = np.random.default_rng(0)
    adata = ad.AnnData(
        rng.poisson(2, (n_obs, len(names))).astype(np.float32),
        obs=pd.DataFrame(index=[f"{path.stem}-{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=names),
    )
    adata.write_h5ad(path)
    return path


@pytest.fixture
def files(tmp_path):
    return (
        write(tmp_path / "A.h5ad", ["TP53", "BRCA1", "BRCA2", "BRAF", "KRAS"], 50),
        write(tmp_path / "B.h5ad", ["TP53", "ENSG00000141510", "BRCA1", "NOT_A_REAL_GENE"], 60),
    )


def test_harmonize_one_file(tmp_path, files, capsys):
    out = tmp_path / "b.harmonized.h5ad"
    code = main(["harmonize", str(files[1]), "-o", str(out), "--snapshot", "default", "--to", "symbol"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "B: 4 -> 3 features (1:1 3, 1:n 0, 1:0 1)" in printed
    assert f"wrote {out}: 60 cells x 3 features" in printed
    result = ad.read_h5ad(out)
    assert list(result.var_names) == ["TP53", "BRCA1", "NOT_A_REAL_GENE"]
    assert result.uns["idtrack"]["params"]["to"] == "symbol"


def test_harmonize_policies_and_report(tmp_path, files, capsys):
    out = tmp_path / "b.h5ad"
    report = tmp_path / "report"
    argv = ["harmonize", str(files[1]), "-o", str(out), "--snapshot", "default", "--release", "114"]
    argv += ["--unmapped", "drop", "--duplicates", "first", "--report", str(report)]
    assert main(argv) == 0
    result = ad.read_h5ad(out)
    assert list(result.var_names) == ["ENSG00000141510", "ENSG00000012048"]
    assert result.uns["idtrack"]["params"]["duplicates"] == "first"
    assert (report / "index.html").is_file()
    assert "report:" in capsys.readouterr().out


def test_harmonize_id_key(tmp_path, capsys):
    adata = ad.AnnData(np.ones((2, 2), dtype=np.float32), var=pd.DataFrame({"sym": ["TP53", "KRAS"]}, index=["a", "b"]))
    adata.write_h5ad(tmp_path / "x.h5ad")
    assert (
        main(
            [
                "harmonize",
                str(tmp_path / "x.h5ad"),
                "-o",
                str(tmp_path / "y.h5ad"),
                "--snapshot",
                "default",
                "--id-key",
                "sym",
            ]
        )
        == 0
    )
    assert list(ad.read_h5ad(tmp_path / "y.h5ad").var_names) == ["ENSG00000141510", "ENSG00000133703"]


def test_harmonize_errors(tmp_path, files, capsys):
    out = tmp_path / "out.h5ad"
    assert main(["harmonize", str(files[0]), "-o", str(out)]) == 2
    assert "--snapshot" in capsys.readouterr().err
    assert main(["harmonize", str(files[0]), "-o", str(out), "--snapshot", "default", "--organism", "mouse"]) == 2
    assert "does not match the snapshot" in capsys.readouterr().err
    capsys.readouterr()
    out.write_text("x")
    assert main(["harmonize", str(files[0]), "-o", str(out), "--snapshot", "default"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (
        main(["harmonize", str(tmp_path / "missing.h5ad"), "-o", str(tmp_path / "o.h5ad"), "--snapshot", "default"])
        == 1
    )
    assert "missing.h5ad: no such file" in capsys.readouterr().err
    assert main(["harmonize", str(files[0]), "-o", str(files[0]), "--snapshot", "default", "--force"]) == 2


def test_dataset_names():
    from pathlib import Path

    assert dataset_names([Path("a/x.h5ad"), Path("b/x.h5ad"), Path("y.zarr")], None) == ["x", "x-2", "y"]
    assert dataset_names([Path("a.h5ad")], ["one"]) == ["one"]


@pytest.mark.skipif(not HAS_CONCAT, reason="concat_harmonized has not landed")
@pytest.mark.parametrize("out_of_core", [False, True])
@pytest.mark.parametrize(
    ("join", "genes"),
    [(None, ["BRCA1", "TP53"]), ("inner", ["BRCA1", "TP53"]), ("outer", ["BRAF", "BRCA1", "BRCA2", "KRAS", "TP53"])],
)
def test_harmonize_several_files(tmp_path, files, capsys, out_of_core, join, genes):
    out = tmp_path / "merged.h5ad"
    argv = ["harmonize", *map(str, files), "-o", str(out), "--snapshot", "default", "--to", "symbol"]
    argv += ["--label", "dataset", "--report", str(tmp_path / "report")]
    if out_of_core:
        argv.append("--out-of-core")
    if join is not None:
        argv += ["--join", join]
    assert main(argv) == 0
    result = ad.read_h5ad(out)
    assert result.n_obs == 110
    # the default is the intersection, as concat_harmonized's and anndata.concat's
    assert sorted(result.var_names) == genes
    assert set(result.obs["dataset"]) == {"A", "B"}
    assert (tmp_path / "report" / "index.html").is_file()


def test_demo(capsys):
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    # the showcase data give no warning: a dataset too small to infer its release is not a problem
    assert captured.err == ""
    out = captured.out
    assert "union (join='outer'):        110 cells x 5:" in out
    assert "intersection (join='inner'): 110 cells x 2: TP53 BRCA1" in out
    assert "TP53 and ENSG00000141510 are one gene -> TP53" in out
    assert "NOT_A_REAL_GENE failed (not found)" in out
    # the shipped human snapshot covers the GRCh37 gene set (as 75): 68k PBMCs were processed on hg19,
    # and symbols alone are read in the best-fitting GRCh38 release
    # one line says both, and why they differ
    (line,) = [line for line in out.splitlines() if "Ensembl 75 (GRCh37)" in line]
    assert "its names fit Ensembl 75 (GRCh37) best" in line
    assert "symbols carry no assembly, so they are read as in Ensembl 84, the best-fitting GRCh38 release" in line
    assert "renamed: " in out
    # a tie is not "renamed": its line names the features, kept under their old names
    (ties,) = [line.strip() for line in out.splitlines() if line.strip().startswith("1:n")]
    assert "ties between candidates, kept under their old names: " in ties
    assert "AC084018.1" in ties
    assert "renamed" not in ties
    # C9orf142's gene got a new ID in 114 at the same locus: an inferred successor
    assert "inferred successor: C9orf142 -> PAXX" in out
    assert "retired" in out


def test_demo_verbose_logs_each_inference_once(capsys):
    assert main(["-v", "demo"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert not [line for line in err if "WARNING" in line]
    # pbmc68k_reduced's X and .raw: one line each on the release their names are read at
    inferred = [line for line in err if "inferred release 75" in line or "Ensembl release 75" in line]
    assert len(inferred) == 2, inferred
    assert sum("AnnData .raw:" in line for line in inferred) == 1
    # the toy datasets are too small to infer a release: an info line each time they are harmonized
    small = [line for line in err if "too few to infer the annotation release" in line]
    assert small
    assert all(": INFO: " in line for line in small)


def test_demo_writes_files(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "data"), "--report", str(tmp_path / "report")]) == 0
    assert (tmp_path / "data" / "toy_union.h5ad").is_file()
    assert (tmp_path / "data" / "pbmc68k_reduced.harmonized.h5ad").is_file()
    assert (tmp_path / "report" / "toy" / "index.html").is_file()
    assert (tmp_path / "report" / "pbmc68k_reduced" / "mapping.tsv").is_file()
    pbmc = ad.read_h5ad(tmp_path / "data" / "pbmc68k_reduced.harmonized.h5ad")
    assert pbmc.var_names[0].startswith("ENSG")
    assert "symbol" in pbmc.var
    # the command the demo prints works on the demo's own output (scanpy plots from .raw by default)
    out = capsys.readouterr().out
    assert "sc.pl.umap(adata, color='JCHAIN', gene_symbols='symbol')" in out
    import matplotlib.pyplot as plt
    import scanpy as sc

    assert pbmc.raw.var_names.equals(pbmc.var_names)
    sc.pl.umap(pbmc, color="JCHAIN", gene_symbols="symbol", show=False)
    names = pbmc.uns["rank_genes_groups"]["names"]
    assert set(np.concatenate([names[f] for f in names.dtype.names])) <= set(pbmc.raw.var_names)
    sc.pl.rank_genes_groups(pbmc, gene_symbols="symbol", n_genes=3, show=False)
    plt.close("all")


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "harmonize" in out
    assert "demo" in out


class FakeBar:
    instances: list[FakeBar] = []

    def __init__(self, total):
        self.total, self.n, self.closed = total, 0, False
        FakeBar.instances.append(self)

    def update(self, n=1):
        self.n += n

    def close(self):
        self.closed = True


@pytest.mark.skipif(not HAS_CONCAT, reason="concat_harmonized has not landed")
@pytest.mark.parametrize("verbose", [False, True])
def test_progress_one_step_per_dataset(tmp_path, files, capsys, monkeypatch, verbose):
    from idtrack_sc.cli import harmonize as cli_harmonize

    FakeBar.instances = []
    steps = []

    def fake_progress(iterable, *, total, desc, disable):
        bar = FakeBar(total)
        original = bar.update
        bar.update = lambda n=1: (steps.append(desc), original(n))
        return bar if iterable is None else iterable

    monkeypatch.setattr(cli_harmonize, "progress", fake_progress)
    argv = ["harmonize", *map(str, files), "-o", str(tmp_path / "m.h5ad"), "--snapshot", "default", "--to", "symbol"]
    assert main([*argv, "--out-of-core"] + (["-v"] if verbose else [])) == 0
    (bar,) = FakeBar.instances
    assert (bar.total, bar.n, bar.closed) == (2, 2, True)
    assert steps == ["harmonizing", "harmonizing"]  # advanced by each dataset, not filled at the end
    err = capsys.readouterr().err
    assert ("5 -> 5 features (1:1 5" in err) is verbose


def test_harmonize_from_release(tmp_path, capsys):
    path = write(tmp_path / "old.h5ad", ["CAST", "TP53"], 5)
    out = tmp_path / "old.harmonized.h5ad"
    assert main(["harmonize", str(path), "-o", str(out), "--snapshot", "default", "--from-release", "84"]) == 0
    result = ad.read_h5ad(out)
    assert list(result.var_names) == ["ENSG00000153113", "ENSG00000141510"]
    assert int(result.uns["idtrack"]["release"]["anchor_release"]) == 84
    target = tmp_path / "target.h5ad"
    assert main(["harmonize", str(path), "-o", str(target), "--snapshot", "default", "--from-release", "target"]) == 0
    assert ad.read_h5ad(target).uns["idtrack"]["release"]["from_release"] == "target"
    capsys.readouterr()
    bad = ["harmonize", str(path), "-o", str(tmp_path / "x.h5ad"), "--snapshot", "default", "--from-release", "new"]
    assert main(bad) == 2
    assert "--from-release must be auto, target or a release number" in capsys.readouterr().err
    assert main([*bad[:-1], "30"]) == 1
    assert "outside the homo_sapiens snapshot" in capsys.readouterr().err


def test_another_organism_is_refused_unless_asked(tmp_path, capsys):
    from pathlib import Path

    var = pd.read_csv(Path(__file__).parents[1] / "data" / "organisms" / "squidpy_mouse_var.tsv", sep="\t", dtype=str)
    mouse = write(tmp_path / "brain.h5ad", var["symbol"].tolist()[:200], 5)
    out = tmp_path / "brain.harmonized.h5ad"
    # before: 200 mouse symbols became human genes (St18 -> ST18)
    assert main(["harmonize", str(mouse), "-o", str(out), "--snapshot", "default"]) == 1
    assert "look like mus_musculus genes" in capsys.readouterr().err
    assert not out.exists()
    args = ["harmonize", str(mouse), "-o", str(out), "--snapshot", "default", "--no-check-organism"]
    assert main(args) == 0
    assert out.exists()
