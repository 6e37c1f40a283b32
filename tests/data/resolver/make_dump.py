"""Regenerate ``ensembl_dump/homo_sapiens_core_114_38/`` (run from this folder).

Writes a small Ensembl core dump in the published layout: one headerless, tab-separated
``{table}.txt.gz`` per table (``\\N`` for NULL) and the schema ``{db}.sql.gz`` whose
``CREATE TABLE`` statements give the column order (schema 114). Gzip headers carry no time
stamp, so the files are byte-stable. The history is illustrative, in real ID format:

- every gene of ``genes_114.tsv`` persists (identity rows per session, versions bumped
  to agree with the gene tables);
- ENSG00000230202 (lncRNA) is retired in 108 with no successor;
- ENSG00000289604 is born in 108;
- ENSG00000260001 -> ENSG00000260002 (103) -> ENSG00000260003 (109): a chain;
- ENSG00000270011 merges into ENSG00000270012 in 106;
- ENSG00000270001 splits into ENSG00000290002 (score 0.8) and ENSG00000290003 (0.4) in 112;
- ENSG00000270021 splits into ENSG00000290021 and ENSG00000290022, equal scores, in 113.
"""

import gzip
from pathlib import Path

DB = "homo_sapiens_core_114_38"
OUT = Path("ensembl_dump") / DB

SCHEMA = {
    "meta": ["meta_id", "species_id", "meta_key", "meta_value"],
    "mapping_session": [
        "mapping_session_id",
        "old_db_name",
        "new_db_name",
        "old_release",
        "new_release",
        "old_assembly",
        "new_assembly",
        "created",
    ],
    "stable_id_event": [
        "old_stable_id",
        "old_version",
        "new_stable_id",
        "new_version",
        "mapping_session_id",
        "type",
        "score",
    ],
    "gene": [
        "gene_id",
        "biotype",
        "analysis_id",
        "seq_region_id",
        "seq_region_start",
        "seq_region_end",
        "seq_region_strand",
        "display_xref_id",
        "source",
        "description",
        "is_current",
        "canonical_transcript_id",
        "stable_id",
        "version",
        "created_date",
        "modified_date",
    ],
    "transcript": [
        "transcript_id",
        "gene_id",
        "analysis_id",
        "seq_region_id",
        "seq_region_start",
        "seq_region_end",
        "seq_region_strand",
        "display_xref_id",
        "source",
        "biotype",
        "description",
        "is_current",
        "canonical_translation_id",
        "stable_id",
        "version",
        "created_date",
        "modified_date",
    ],
    "translation": [
        "translation_id",
        "transcript_id",
        "seq_start",
        "start_exon_id",
        "seq_end",
        "end_exon_id",
        "stable_id",
        "version",
        "created_date",
        "modified_date",
    ],
    "xref": [
        "xref_id",
        "external_db_id",
        "dbprimary_acc",
        "display_label",
        "version",
        "description",
        "info_type",
        "info_text",
    ],
    "object_xref": [
        "object_xref_id",
        "ensembl_id",
        "ensembl_object_type",
        "xref_id",
        "linkage_annotation",
        "analysis_id",
    ],
    "external_db": [
        "external_db_id",
        "db_name",
        "db_release",
        "status",
        "priority",
        "db_display_name",
        "type",
        "secondary_db_name",
        "secondary_db_table",
        "description",
    ],
    "external_synonym": ["xref_id", "synonym"],
}
INT = {
    "meta_id",
    "species_id",
    "mapping_session_id",
    "old_version",
    "new_version",
    "gene_id",
    "analysis_id",
    "seq_region_id",
    "seq_region_start",
    "seq_region_end",
    "display_xref_id",
    "is_current",
    "canonical_transcript_id",
    "version",
    "transcript_id",
    "canonical_translation_id",
    "translation_id",
    "seq_start",
    "start_exon_id",
    "seq_end",
    "end_exon_id",
    "xref_id",
    "external_db_id",
    "object_xref_id",
    "ensembl_id",
    "priority",
}


def sql() -> str:
    parts = [
        "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost    Database: " + DB + "\n"
    ]
    for table, cols in SCHEMA.items():
        lines = []
        for c in cols:
            if c == "seq_region_strand":
                typ = "tinyint(2) NOT NULL"
            elif c == "type" and table == "stable_id_event":
                typ = "enum('gene','transcript','translation','rnaproduct') NOT NULL"
            elif c == "ensembl_object_type":
                typ = "enum('RawContig','Transcript','Gene','Translation','Operon','OperonTranscript','Marker','RNAProduct') NOT NULL"
            elif c == "score":
                typ = "float NOT NULL DEFAULT '0'"
            elif c in INT:
                typ = "int(10) unsigned DEFAULT NULL"
            else:
                typ = "varchar(255) DEFAULT NULL"
            lines.append(f"  `{c}` {typ}")
        lines.append(f"  PRIMARY KEY (`{cols[0]}`)")
        if table == "stable_id_event":
            lines.append("  UNIQUE KEY `uni_idx` (`mapping_session_id`,`old_stable_id`,`new_stable_id`,`type`)")
        parts.append(
            f"\n--\n-- Table structure for table `{table}`\n--\n\nDROP TABLE IF EXISTS `{table}`;\n"
            f"/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
            f"CREATE TABLE `{table}` (\n" + ",\n".join(lines) + "\n) ENGINE=MyISAM DEFAULT CHARSET=latin1;\n"
        )
    return "".join(parts)


def write(name: str, rows: list[list[object]] | str) -> None:
    data = (
        rows
        if isinstance(rows, str)
        else "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows)
    )
    with (OUT / name).open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(data.encode())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    stable = {  # gene ID -> (version, first release, last release or None, symbol)
        "ENSG00000230202": (1, 100, 107, None),
        "ENSG00000289604": (2, 108, None, None),
        "ENSG00000260001": (1, 100, 102, "CHAINA"),
        "ENSG00000260002": (1, 103, 108, "CHAINB"),
        "ENSG00000260003": (1, 109, None, "CHAINC"),
        "ENSG00000270011": (3, 100, 105, "MERGEA"),
        "ENSG00000270012": (2, 100, None, "MERGEB"),
        "ENSG00000270001": (4, 100, 111, "SPLITA"),
        "ENSG00000290002": (1, 112, None, "SPLITA1"),
        "ENSG00000290003": (1, 112, None, "SPLITA2"),
        "ENSG00000270021": (2, 100, 112, "SPLITB"),
        "ENSG00000290021": (1, 113, None, "SPLITB1"),
        "ENSG00000290022": (1, 113, None, "SPLITB2"),
    }
    changes = [  # (old, new, new release, score)
        ("ENSG00000260001", "ENSG00000260002", 103, 0.97),
        ("ENSG00000260002", "ENSG00000260003", 109, 0.91),
        ("ENSG00000270011", "ENSG00000270012", 106, 0.66),
        ("ENSG00000270001", "ENSG00000290002", 112, 0.8),
        ("ENSG00000270001", "ENSG00000290003", 112, 0.4),
        ("ENSG00000270021", "ENSG00000290021", 113, 1.0),
        ("ENSG00000270021", "ENSG00000290022", 113, 1.0),
    ]
    # Every gene of the gene tables persists, its version bumped right after the table
    # release before the one that shows the new version, so the dump agrees with the tables.
    tables = {}
    for rel in (100, 104, 110, 114):
        lines = Path(f"genes_{rel}.tsv").read_text().splitlines()[1:]
        tables[rel] = {f[0]: (int(f[1]), f[2]) for f in (line.split("\t") for line in lines)}
    for gid, (ver, sym) in tables[114].items():
        if gid not in stable:
            stable[gid] = (ver, 100, None, sym or None)

    def version(gid: str, release: int) -> int:
        later = [r for r in tables if r >= release and gid in tables[r]]
        return tables[min(later)][gid][0] if later else stable[gid][0]

    sessions, events = [], []
    for sid, new in enumerate(range(101, 115), start=1):
        old = new - 1
        sessions.append(
            [
                sid,
                f"homo_sapiens_core_{old}_38",
                f"homo_sapiens_core_{new}_38",
                old,
                new,
                "GRCh38",
                "GRCh38",
                f"2024-{(sid % 12) + 1:02d}-01 00:00:00",
            ]
        )
        for gid, (ver, first, last, _) in stable.items():
            alive_old = first <= old and (last is None or old <= last)
            alive_new = first <= new and (last is None or new <= last)
            if alive_old and alive_new:
                events.append([gid, version(gid, old), gid, version(gid, new), sid, "gene", 1])
            elif alive_new and not alive_old and not any(c[1] == gid and c[2] == new for c in changes):
                events.append([None, None, gid, ver, sid, "gene", 0])
            elif alive_old and not alive_new and not any(c[0] == gid and c[2] == new for c in changes):
                events.append([gid, ver, None, None, sid, "gene", 0])
        for o, n, rel, score in changes:
            if rel == new:
                events.append([o, stable[o][0], n, stable[n][0], sid, "gene", score])
    # a transcript row in the history too, as real dumps have
    events.append(["ENST00000269305", 8, "ENST00000269305", 9, 14, "transcript", 1])

    meta = [
        [1, None, "schema_version", 114],
        [2, 1, "species.production_name", "homo_sapiens"],
        [3, 1, "assembly.default", "GRCh38"],
        [4, 1, "species.taxonomy_id", 9606],
        [5, 1, "species.scientific_name", "Homo sapiens"],
    ]
    external_db = [
        [1100, "HGNC", 1, "KNOWNXREF", 5, "HGNC Symbol", "MISC", None, None, None],
        [1300, "EntrezGene", 1, "KNOWNXREF", 10, "NCBI gene (formerly Entrezgene)", "DEPENDENT", None, None, None],
        [2000, "Uniprot/SWISSPROT", 1, "KNOWNXREF", 5, "UniProtKB/Swiss-Prot", "PRIMARY_DB_SYNONYM", None, None, None],
        [2510, "Clone_based_ensembl_gene", 1, "KNOWN", 5, "Clone-based (Ensembl) gene", "MISC", None, None, None],
    ]
    alive = [g for g, (_, first, last, _) in stable.items() if last is None]
    genes, transcripts, translations, xrefs, oxrefs, syns = [], [], [], [], [], []
    hgnc = {
        "ENSG00000141510": ("HGNC:11998", 7157, "P04637"),
        "ENSG00000139618": ("HGNC:1101", 675, "P51587"),
        "ENSG00000012048": ("HGNC:1100", 672, "P38398"),
    }
    for i, gid in enumerate(alive, start=1):
        ver, _, _, symbol = stable[gid]
        xref_id = None
        if symbol:
            xref_id = 10_000 + i
            if gid in hgnc:
                acc, entrez, uniprot = hgnc[gid]
                xrefs.append(
                    [xref_id, 1100, acc, symbol, 1, f"{symbol} gene", "DIRECT", "Generated via ensembl_manual"]
                )
                oxrefs.append([len(oxrefs) + 1, i, "Gene", xref_id, None, 0])
                xrefs.append([20_000 + i, 1300, entrez, symbol, 1, None, "DEPENDENT", None])
                oxrefs.append([len(oxrefs) + 1, i, "Gene", 20_000 + i, None, 0])
                xrefs.append([30_000 + i, 2000, uniprot, f"{symbol}_HUMAN", 1, None, "DIRECT", None])
                oxrefs.append([len(oxrefs) + 1, i, "Translation", 30_000 + i, None, 0])
            else:
                xrefs.append([xref_id, 2510, symbol, symbol, 1, None, "MISC", None])
                oxrefs.append([len(oxrefs) + 1, i, "Gene", xref_id, None, 0])
        if gid == "ENSG00000141510" and xref_id:
            syns += [[xref_id, "p53"], [xref_id, "LFS1"]]
        genes.append(
            [
                i,
                "protein_coding" if symbol else "lncRNA",
                1,
                131,
                1000 * i,
                1000 * i + 500,
                1,
                xref_id,
                "ensembl",
                None,
                1,
                i,
                gid,
                ver,
                "2004-12-06 12:00:00",
                "2024-01-01 12:00:00",
            ]
        )
        tid = f"ENST{gid[4:]}"
        transcripts.append(
            [
                i,
                i,
                1,
                131,
                1000 * i,
                1000 * i + 500,
                1,
                None,
                "ensembl",
                "protein_coding",
                None,
                1,
                i,
                tid,
                1,
                "2004-12-06 12:00:00",
                "2024-01-01 12:00:00",
            ]
        )
        translations.append([i, i, 1, 1, 100, 1, f"ENSP{gid[4:]}", 1, "2004-12-06 12:00:00", "2024-01-01 12:00:00"])
    # the real TP53 canonical transcript / protein, so real IDs lead to TP53
    tp53 = alive.index("ENSG00000141510") + 1
    transcripts[tp53 - 1][13], transcripts[tp53 - 1][14] = "ENST00000269305", 9
    translations[tp53 - 1][6], translations[tp53 - 1][7] = "ENSP00000269305", 4

    write(f"{DB}.sql.gz", sql())
    for table, rows in [
        ("meta", meta),
        ("mapping_session", sessions),
        ("stable_id_event", events),
        ("gene", genes),
        ("transcript", transcripts),
        ("translation", translations),
        ("xref", xrefs),
        ("object_xref", oxrefs),
        ("external_db", external_db),
        ("external_synonym", syns),
    ]:
        write(f"{table}.txt.gz", rows)


if __name__ == "__main__":
    main()
