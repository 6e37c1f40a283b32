"""Building from a new Ensembl release: the FTP layout, CHECKSUMS, the cache, failures.

A local HTTP server on 127.0.0.1 serves fixture files in Ensembl's exact FTP layout
(``pub/release-R/mysql/{species}_core_R_{asm}/`` with the dump tables, schema and ``CHECKSUMS``;
``pub/release-R/gtf/{species}/`` with the GTF and its ``CHECKSUMS``).
"""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from idtrack_sc.builders import (
    EnsemblDownloadError,
    _ensembl_ftp,
    build_from_ensembl,
    ensembl_dump_url,
    ensembl_gtf_url,
    fetch_ensembl_dump,
)
from idtrack_sc.builders._ensembl_ftp import bsd_sum, parse_checksums
from idtrack_sc.cli import main

DATA = Path(__file__).parents[1] / "data" / "builders"
DUMP = DATA / "homo_sapiens_core_114_38"
GTF = DATA / "Homo_sapiens.GRCh38.114.gtf.gz"


class _Handler(SimpleHTTPRequestHandler):
    """Serves the tree; paths in ``server.drop`` promise the whole file and send half of it."""

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        if self.path in self.server.drop:
            body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def ftp(tmp_path):
    """Ensembl's FTP layout for release 114 (human dump and GTF; a mouse dump folder), served locally."""
    root = tmp_path / "site"
    mysql = root / "pub" / "release-114" / "mysql"
    shutil.copytree(DUMP, mysql / "homo_sapiens_core_114_38")
    (mysql / "mus_musculus_core_114_39").mkdir()
    gtf_dir = root / "pub" / "release-114" / "gtf" / "homo_sapiens"
    gtf_dir.mkdir(parents=True)
    shutil.copyfile(GTF, gtf_dir / GTF.name)
    shutil.copyfile(GTF, gtf_dir / "Homo_sapiens.GRCh38.114.chr_patch_hapl_scaff.gtf.gz")
    checksum, blocks = bsd_sum(GTF)
    (gtf_dir / "CHECKSUMS").write_text(f"{checksum:05d} {blocks:5d} {GTF.name}\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    server.hits, server.drop = [], set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}/pub/"
    server.root = root
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_bsd_sum_matches_ensembl_checksums_with_and_without_the_system_tool(monkeypatch):
    published = parse_checksums((DUMP / "CHECKSUMS").read_text())
    assert len(published) == 11
    for name, expected in published.items():
        assert bsd_sum(DUMP / name) == expected
    monkeypatch.setattr(_ensembl_ftp.shutil, "which", lambda name: None)  # the pure-Python path
    for name, expected in published.items():
        assert bsd_sum(DUMP / name) == expected


def test_finds_the_folders_of_a_release_in_the_layout(ftp):
    assert ensembl_dump_url("human", 114, base_url=ftp.base) == f"{ftp.base}release-114/mysql/homo_sapiens_core_114_38/"
    assert ensembl_dump_url("Mus musculus", 114, base_url=ftp.base).endswith("/mus_musculus_core_114_39/")
    assert ensembl_gtf_url("human", 114, base_url=ftp.base).endswith("/gtf/homo_sapiens/Homo_sapiens.GRCh38.114.gtf.gz")
    with pytest.raises(EnsemblDownloadError, match="no danio_rerio_core_114_"):
        ensembl_dump_url("zebrafish", 114, base_url=ftp.base)
    with pytest.raises(EnsemblDownloadError, match="404"):
        ensembl_dump_url("human", 999, base_url=ftp.base)


def test_build_from_ensembl_end_to_end_then_offline_from_the_cache(ftp, tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "homo_sapiens-114.idtrack.zip"
    # the dump fixture is Ensembl's own test database (assembly NCBI34), so it is built without the
    # GRCh38 GTF here; test_gtf_is_found_fetched_and_read checks the GTF path
    snap = build_from_ensembl("human", 114, out=out, base_url=ftp.base, cache_dir=cache, progressbar=False, gtf=False)
    # Ensembl's own history: the fixture's stable_id_event has births, retirements, a split and a merge
    events = snap.table("events")
    assert (events["source"] == "ensembl_dump").sum() > 0
    assert events["old_id"].isna().any()
    assert events["new_id"].isna().any()
    assert "ENSG00000141510" in set(snap.table("genes")["gene_id"])
    origins = {s["origin"] for s in snap.manifest["sources"]}
    assert f"{ftp.base}release-114/mysql/homo_sapiens_core_114_38/" in origins
    fetched = ftp.hits[:]

    # again, with every data file cached: only the listings and CHECKSUMS are asked for
    again = tmp_path / "again.idtrack.zip"
    build_from_ensembl("human", 114, out=again, base_url=ftp.base, cache_dir=cache, progressbar=False, gtf=False)
    second = ftp.hits[len(fetched) :]
    assert all(hit.endswith(("/", "CHECKSUMS")) for hit in second), second
    assert again.read_bytes() == out.read_bytes()

    # and with the server gone: the verified files and their CHECKSUMS are in the cache
    ftp.shutdown()
    offline = tmp_path / "offline.idtrack.zip"
    build_from_ensembl("human", 114, out=offline, base_url=ftp.base, cache_dir=cache, progressbar=False, gtf=False)
    assert offline.read_bytes() == out.read_bytes()


def test_gtf_is_found_fetched_and_read(ftp, tmp_path):
    from idtrack_sc.builders import fetch_ensembl_gtf, read_gtf

    url = ensembl_gtf_url("human", 114, base_url=ftp.base)
    path = fetch_ensembl_gtf(url, cache_dir=tmp_path / "cache", progressbar=False)
    assert not any("chr_patch_hapl_scaff" in hit for hit in ftp.hits)
    assert path.read_bytes() == GTF.read_bytes()
    genes = read_gtf(path, release=114).genes
    assert "ENSG00000141510" in set(genes["gene_id"])


def test_checksum_mismatch_is_refused_and_nothing_is_kept(ftp, tmp_path):
    folder = ftp.root / "pub" / "release-114" / "mysql" / "homo_sapiens_core_114_38"
    lines = (folder / "CHECKSUMS").read_text().splitlines()
    lines = [("00001     2 gene.txt.gz" if line.endswith(" gene.txt.gz") else line) for line in lines]
    (folder / "CHECKSUMS").write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"
    with pytest.raises(
        EnsemblDownloadError, match=r"gene\.txt\.gz: checksum \d+ over 2 blocks, but CHECKSUMS says 00001"
    ):
        fetch_ensembl_dump(ensembl_dump_url("human", 114, base_url=ftp.base), cache_dir=cache, progressbar=False)
    assert "gene.txt.gz" not in _left_in(cache)


def test_interrupted_transfer_leaves_nothing_behind(ftp, tmp_path):
    ftp.drop.add("/pub/release-114/mysql/homo_sapiens_core_114_38/xref.txt.gz")
    cache = tmp_path / "cache"
    with pytest.raises(EnsemblDownloadError, match=r"Could not download .*xref\.txt\.gz"):
        fetch_ensembl_dump(ensembl_dump_url("human", 114, base_url=ftp.base), cache_dir=cache, progressbar=False)
    left = _left_in(cache)
    assert "xref.txt.gz" not in left
    assert not [name for name in left if "tmp" in name or name.startswith(".")]
    # the next run downloads what is missing and verifies what is there
    ftp.drop.clear()
    folder = fetch_ensembl_dump(ensembl_dump_url("human", 114, base_url=ftp.base), cache_dir=cache, progressbar=False)
    assert bsd_sum(folder / "xref.txt.gz") == parse_checksums((DUMP / "CHECKSUMS").read_text())["xref.txt.gz"]


def test_a_corrupted_cached_file_is_downloaded_again(ftp, tmp_path):
    cache = tmp_path / "cache"
    url = ensembl_dump_url("human", 114, base_url=ftp.base)
    folder = fetch_ensembl_dump(url, cache_dir=cache, progressbar=False)
    (folder / "gene.txt.gz").write_bytes(b"garbage")
    ftp.hits.clear()
    fetch_ensembl_dump(url, cache_dir=cache, progressbar=False)
    assert any(hit.endswith("/gene.txt.gz") for hit in ftp.hits)
    assert bsd_sum(folder / "gene.txt.gz") == parse_checksums((DUMP / "CHECKSUMS").read_text())["gene.txt.gz"]


def test_cli_snapshot_build_from_ensembl(ftp, tmp_path, capsys):
    out = tmp_path / "human.idtrack.zip"
    argv = ["snapshot", "build", "--organism", "human", "--from-ensembl", "114", "--no-gtf", "--ensembl-url", ftp.base]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--out", str(out)]
    assert main(argv) == 0
    assert out.is_file()
    assert "wrote" in capsys.readouterr().out
    assert main([*argv[:4], "--from-ensembl", "999", "--ensembl-url", ftp.base, "--out", str(tmp_path / "x.zip")]) == 1
    assert "404" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
