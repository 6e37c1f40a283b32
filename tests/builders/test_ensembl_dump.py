from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from idtrack_sc.builders import build_snapshot, read_ensembl_dump, read_hgnc
from idtrack_sc.builders._mysql import parse_schema, read_table

DATA = Path(__file__).parents[1] / "data" / "builders"
DUMP = DATA / "homo_sapiens_core_114_38"


@pytest.fixture(scope="module")
def dump():
    return read_ensembl_dump(DUMP)


def _events(src):
    ev = src.events
    return {
        (o if pd.notna(o) else None, n if pd.notna(n) else None, int(r))
        for o, n, r in ev[["old_id", "new_id", "release"]].itertuples(index=False)
    }


def test_meta(dump):
    assert dump.kind == "ensembl_dump"
    assert dump.release == 114
    assert dump.name == "ensembl_dump:114"
    assert dump.organism == "homo_sapiens"
    assert dump.assembly == "NCBI34"
    assert dump.date == "2003-03-03"
    assert dump.releases == [1, 2, 3, 4, 114]
    assert len(dump.sha256) == 64
    assert dump.notes == {}


def test_history_events(dump):
    events = _events(dump)
    assert (None, "G1", 3) in events  # birth
    assert ("G4", None, 3) in events  # retirement
    assert ("G3", None, 4) in events
    assert ("G2", "G3", 3) in events  # split: G2 -> G2 and G3
    assert ("G2", "G1", 4) in events  # merge: G1 and G2 -> G1
    # identity rows are history, not events
    assert not any(o == n for o, n, _ in events)
    assert len(events) == 5
    split = dump.events[(dump.events["old_id"] == "G2") & (dump.events["new_id"] == "G1")].iloc[0]
    assert split["old_version"] == 3
    assert split["new_version"] == 2
    assert split["old_release"] == 3
    assert split["score"] == pytest.approx(0.54)


def test_presence_from_all_gene_rows(dump):
    g = dump.genes
    g2 = g[g["gene_id"] == "G2"].sort_values("release")
    assert g2[["release", "version"]].to_numpy().tolist() == [[1, 1], [2, 2], [3, 3], [4, 4]]
    g4 = g[g["gene_id"] == "G4"]
    assert sorted(g4["release"]) == [1, 2]
    tp53 = g[g["gene_id"] == "ENSG00000141510"].iloc[0]
    assert (tp53["version"], tp53["release"], tp53["biotype"]) == (18, 114, "protein_coding")


def test_transcripts_and_proteins_lead_to_gene(dump):
    f = dump.features.set_index("feature_id")
    assert f.loc["ENST00000269305", "gene_id"] == "ENSG00000141510"
    assert f.loc["ENST00000269305", "feature_type"] == "transcript"
    assert f.loc["ENSP00000269305", "gene_id"] == "ENSG00000141510"
    assert f.loc["ENSP00000269305", "feature_type"] == "translation"
    # a sample translation: translation 21716 -> transcript 21716 -> gene 18256
    assert f.loc["ENSP00000308980", "gene_id"] == "ENSG00000131044"
    assert set(f["release"]) == {114}


def test_names_from_xrefs(dump):
    n = dump.names
    tp53 = n[n["gene_id"] == "ENSG00000141510"]
    got = {(ns, v, k) for ns, v, k in tp53[["namespace", "value", "kind"]].itertuples(index=False)}
    assert got == {
        ("symbol", "TP53", "primary"),
        ("hgnc_id", "HGNC:11998", "primary"),
        ("entrez", "7157", "primary"),
        ("uniprot", "P04637", "primary"),  # attached to the protein, named for the gene
        ("symbol", "p53", "synonym"),
        ("symbol", "LFS1", "synonym"),
    }
    # old-style HUGO xref (numeric accession) and the gene's display name
    hck = n[n["gene_id"] == "ENSG00000101336"]
    assert "HGNC:16118" not in set(hck["value"])
    assert ("symbol", "HCK") in set(zip(hck["namespace"], hck["value"], strict=True))
    c20 = n[(n["gene_id"] == "ENSG00000131044") & (n["namespace"] == "hgnc_id")]
    assert list(c20["value"]) == ["HGNC:16118"]
    assert set(n["release"]) == {114}


def test_snapshot_from_dump_and_hgnc(tmp_path, dump):
    snap = build_snapshot([dump, read_hgnc(DATA / "hgnc_complete_set.txt")], organism="human", out=tmp_path / "s")
    assert list(snap.releases) == [1, 2, 3, 4, 114]
    assert len(snap.events) == 5
    assert snap.assembly == "NCBI34"
    feats = snap.features
    assert feats.loc[feats["feature_id"] == "ENSP00000269305", "gene_id"].tolist() == ["ENSG00000141510"]


def test_uncompressed_tables(tmp_path, dump):
    folder = tmp_path / "homo_sapiens_core_114_38"
    folder.mkdir()
    for path in DUMP.iterdir():
        if path.name.endswith(".txt.gz"):
            (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
        elif path.name.endswith(".sql.gz"):
            (folder / "schema.sql").write_bytes(gzip.decompress(path.read_bytes()))
    plain = read_ensembl_dump(folder)
    assert _events(plain) == _events(dump)
    assert len(plain.names) == len(dump.names)


def _copy_dump(tmp_path):
    folder = tmp_path / "homo_sapiens_core_114_38"
    shutil.copytree(DUMP, folder)
    return folder


def test_column_order_comes_from_schema(tmp_path, dump):
    folder = _copy_dump(tmp_path)
    schema_path = folder / "homo_sapiens_core_114_38.sql.gz"
    schema = gzip.decompress(schema_path.read_bytes()).decode()
    # move `stable_id` and `version` to the front of `gene`, as a different schema version might
    moved = "  `stable_id` varchar(128) DEFAULT NULL,\n  `version` smallint unsigned DEFAULT NULL,\n"
    start = schema.index("CREATE TABLE `gene` (\n")
    end = schema.index(";", start)
    block = schema[start:end]
    assert moved in block
    block = block.replace(moved, "").replace("CREATE TABLE `gene` (\n", "CREATE TABLE `gene` (\n" + moved)
    schema = schema[:start] + block + schema[end:]
    schema_path.write_bytes(gzip.compress(schema.encode()))
    rows = gzip.decompress((folder / "gene.txt.gz").read_bytes()).decode().splitlines()
    reordered = []
    for row in rows:
        f = row.split("\t")
        reordered.append("\t".join([f[12], f[13], *f[:12], *f[14:]]))
    (folder / "gene.txt.gz").write_bytes(gzip.compress(("\n".join(reordered) + "\n").encode()))
    again = read_ensembl_dump(folder)
    pd.testing.assert_frame_equal(
        again.genes.sort_values(["gene_id", "release"]).reset_index(drop=True),
        dump.genes.sort_values(["gene_id", "release"]).reset_index(drop=True),
    )
    assert len(again.names) == len(dump.names)


def test_malformed_line(tmp_path):
    folder = _copy_dump(tmp_path)
    lines = gzip.decompress((folder / "xref.txt.gz").read_bytes()).decode().splitlines()
    lines[99] = "\t".join(lines[99].split("\t")[:3])  # cut short, as a truncated download would
    (folder / "xref.txt.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(ValueError, match=r"xref\.txt\.gz, line 100: expected 8 .*columns.*found 3"):
        read_ensembl_dump(folder)


def test_missing_table_and_schema(tmp_path):
    folder = _copy_dump(tmp_path)
    (folder / "meta.txt.gz").unlink()
    with pytest.raises(ValueError, match=r"meta\.txt\.gz.*not found.*Files present"):
        read_ensembl_dump(folder)
    (folder / "homo_sapiens_core_114_38.sql.gz").unlink()
    with pytest.raises(ValueError, match="no schema file"):
        read_ensembl_dump(folder)
    with pytest.raises(FileNotFoundError):
        read_ensembl_dump(tmp_path / "nowhere")


def test_non_numeric_mapping_session_is_noted(tmp_path):
    folder = _copy_dump(tmp_path)
    lines = gzip.decompress((folder / "mapping_session.txt.gz").read_bytes()).decode().splitlines()
    f = lines[0].split("\t")
    f[3] = "ALL"
    lines[0] = "\t".join(f)
    (folder / "mapping_session.txt.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    src = read_ensembl_dump(folder)
    assert src.notes["mapping_sessions_non_numeric"] == 1
    assert src.notes["gene_events_non_numeric_session"] == 3
    assert 1 not in src.releases


SCHEMA = """
-- comment, with (parens) and `ticks`
/*!40101 SET NAMES utf8 */;
CREATE TABLE IF NOT EXISTS `object_xref` (
  `object_xref_id` int(10) unsigned NOT NULL AUTO_INCREMENT, -- the id, first
  `ensembl_id` int(10) unsigned NOT NULL,
  `ensembl_object_type` ENUM('RawContig','Transcript','Gene','Translation') NOT NULL,
  `note` varchar(20) DEFAULT 'a, b) c' COMMENT 'it''s, odd',
  xref_id INT(10) UNSIGNED NOT NULL,
  PRIMARY KEY (`object_xref_id`),
  UNIQUE KEY `xref_idx` (`xref_id`,`ensembl_object_type`,`ensembl_id`),
  KEY `ensembl_idx` (`ensembl_object_type`,`ensembl_id`)
) COLLATE=latin1_swedish_ci ENGINE=MyISAM;
create table meta (meta_id INT, `meta_key` varchar(40), meta_value varchar(255));
"""


def test_parse_schema():
    tables = parse_schema(SCHEMA)
    assert tables == {
        "object_xref": ["object_xref_id", "ensembl_id", "ensembl_object_type", "note", "xref_id"],
        "meta": ["meta_id", "meta_key", "meta_value"],
    }


def test_escapes_and_nulls(tmp_path):
    path = tmp_path / "xref.txt"
    # two-letter escapes, MySQL's escaped real tab and newline, an escaped backslash, NULL
    path.write_bytes(b"1\ta\\tb\\\\c\t\\N\n2\tx\\\ty\tline\\\nbreak\n3\tend\\\\\tz\n")
    frame = read_table(path, ["id", "a", "b"], table="xref")
    assert frame["a"].tolist() == ["a\tb\\c", "x\ty", "end\\"]
    assert pd.isna(frame["b"].iloc[0])
    assert frame["b"].iloc[1] == "line\nbreak"
    assert frame["b"].iloc[2] == "z"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dump():
    handler = functools.partial(_Quiet, directory=str(DATA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/homo_sapiens_core_114_38/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_remote_dump_is_fetched_and_cached(tmp_path, http_dump, dump):
    server, url = http_dump
    remote = read_ensembl_dump(url, cache_dir=tmp_path)
    assert remote.origin == url
    assert _events(remote) == _events(dump)
    assert remote.sha256 == dump.sha256
    assert (tmp_path / "ensembl" / "homo_sapiens_core_114_38" / "gene.txt.gz").is_file()
    server.shutdown()  # once cached, no network is needed
    again = read_ensembl_dump(url, cache_dir=tmp_path)
    assert len(again.names) == len(dump.names)


def test_remote_dump_is_cached_under_idtrack_sc_cache(tmp_path, http_dump, dump, monkeypatch):
    # no cache_dir: the download goes where every other cached file of idtrack-sc goes
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "shared"))
    _, url = http_dump
    remote = read_ensembl_dump(url)
    assert remote.sha256 == dump.sha256
    assert (tmp_path / "shared" / "ensembl" / "homo_sapiens_core_114_38" / "gene.txt.gz").is_file()
