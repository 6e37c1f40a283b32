"""Derive the lineage test fixtures from the real tables ``scripts/gather_real_data.py`` writes.

Run from the repository root after ``python scripts/gather_real_data.py`` and with the UCSC
chain files in ``scripts/work/liftover/`` (see ``scripts/build_real_snapshots.py``)::

    python tests/data/lineage/make_fixtures.py

It keeps, from every human gene table, transcript table, the GRCh37 set and the HGNC complete
set, only the rows of a handful of genes (the curated replacement pairs of
``curated_gencode_maps.tsv``, the genes competing with them for the same locus, a haplotype
gene, two fix-patch genes that became primary, handovers, contested links and a few stable
genes), and cuts from
``hg19ToHg38.over.chain.gz`` the chain blocks around their GRCh37 loci (a valid chain file in
UCSC's format: same headers' score, names, sizes, strands and id; start and end narrowed to
the blocks kept). The output is deterministic.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
WORK = ROOT / "scripts" / "work"
HERE = Path(__file__).resolve().parent
RELEASES = (75, 84, 93, 100, 104, 110, 114)
#: Stable genes (present throughout), a patch/haplotype gene, and competitors of curated pairs.
EXTRA = (
    "ENSG00000141510",  # TP53
    "ENSG00000139618",  # BRCA2
    "ENSG00000256178",  # overlaps ENSG00000288784 like ENSG00000225932 (merge seen from one side)
    "ENSG00000183558",  # overlaps ENSG00000288825
    "ENSG00000285441",  # overlaps ENSG00000291237 (SOD2)
    "ENSG00000223972",  # DDX11L1: version 5 in 104, 6 in 110
    "ENSG00000005955",  # GRCh37 set only; identical lifted locus as ENSG00000278311 in 84
    "ENSG00000278311",
    "ENSG00000096150",  # a gene on an alternate haplotype (CHR_HSCHR6_MHC_QBL_CTG1) in 84-100
    "ENSG00000117289",  # TXNIP in GRCh37, replaced in 84 by ENSG00000265972, which 75 has only on
    "ENSG00000265972",  # the fix patch HG1287_PATCH (a patch gene that became primary)
    "ENSG00000187145",  # MRPS21 in GRCh37, replaced in 84 by ENSG00000266472 (also on HG1287_PATCH in 75)
    "ENSG00000266472",
    "ENSG00000257088",  # PNMA6D in GRCh37; overlaps ENSG00000268883 (PNMA6B; on a patch in 75), no shared identifiers
    "ENSG00000268883",
    # handovers: the old ID is gone in the release a newborn ID takes its symbol, HGNC record and locus
    "ENSG00000183729",  # NPBWR1 up to 100 ...
    "ENSG00000288611",  # ... NPBWR1 from 104 (loci overlap 0.43: no locus candidate)
    "ENSG00000197932",  # F8A1 in GRCh37 (75) ...
    "ENSG00000277203",  # ... F8A1 84-100 ...
    "ENSG00000288722",  # ... F8A1 from 104
    # contested: the old gene's transcripts point one way, its identical (lifted) locus another
    "ENSG00000185945",  # NXF2B in GRCh37: lifted locus identical to ENSG00000284800's (93-114) ...
    "ENSG00000284800",
    "ENSG00000269437",  # ... one transcript moved to NXF2B's GRCh38 ID (on HG1440_PATCH in 75)
    "ENSG00000185087",  # FAM169B 75-84: locus identical to ENSG00000293555's (114) ...
    "ENSG00000293555",
    "ENSG00000283597",  # ... two transcripts moved to ENSG00000283597 (FAM169B in 93, FAM169BP later)
    "ENSG00000223678",  # RP11-311H10.4 up to 84; one transcript shared with ENSG00000286322 (overlap 0.78),
    "ENSG00000286322",  # a clone-based name: shared transcripts without identifier continuity
)
_WINDOW = 20_000  # chain blocks kept around each GRCh37 locus


def _genes() -> list[str]:
    curated = pd.read_csv(HERE / "curated_gencode_maps.tsv", sep="\t", comment="#", dtype=str)
    curated = curated[curated["organism"] == "homo_sapiens"]
    return sorted(set(curated["old_id"]) | set(curated["new_id"]) | set(EXTRA))


def _cut_tsv(src: Path, dst: Path, column: str, keep: set[str]) -> pd.DataFrame:
    frame = pd.read_csv(src, sep="\t", dtype=str, keep_default_na=False)
    frame = frame[frame[column].isin(keep)]
    dst.write_text(frame.to_csv(sep="\t", index=False, lineterminator="\n"), encoding="utf-8")
    return frame


def _chain_excerpt(chain: Path, windows: list[tuple[str, int, int]], out: Path) -> None:
    """Blocks of ``chain`` overlapping ``windows`` (UCSC names, 0-based), as a valid chain file."""
    lines_out: list[str] = []
    with gzip.open(chain, "rt") as fh:
        header: list[str] | None = None
        blocks: list[tuple[int, int, int, int, int]] = []  # size, dt, dq, t, q

        def flush() -> None:
            if header is None:
                return
            t_name = header[2]
            wins = [(a, b) for c, a, b in windows if c == t_name]
            if not wins:
                return
            keep = [i for i, (size, _, _, t, _) in enumerate(blocks) if any(t < b and t + size > a for a, b in wins)]
            if not keep:
                return
            i, j = keep[0], keep[-1]
            sub = blocks[i : j + 1]
            head = list(header)
            head[5], head[6] = str(sub[0][3]), str(sub[-1][3] + sub[-1][0])
            head[10], head[11] = str(sub[0][4]), str(sub[-1][4] + sub[-1][0])
            lines_out.append(" ".join(head))
            lines_out.extend(f"{size}\t{dt}\t{dq}" for size, dt, dq, _, _ in sub[:-1])
            lines_out.append(str(sub[-1][0]))
            lines_out.append("")

        t = q = 0
        for raw in fh:
            line = raw.strip()
            if line.startswith("chain"):
                flush()
                header = line.split()
                blocks = []
                t, q = int(header[5]), int(header[10])
            elif line:
                parts = [int(x) for x in line.split()]
                size, dt, dq = (parts + [0, 0])[:3]
                blocks.append((size, dt, dq, t, q))
                t += size + dt
                q += size + dq
        flush()
    with gzip.GzipFile(out, "wb", mtime=0) as gz:
        gz.write(("\n".join(lines_out) + "\n").encode())


def main() -> None:
    """Write the fixtures next to this script."""
    genes = set(_genes())
    human = WORK / "homo_sapiens"
    windows = []
    for release in RELEASES:
        frame = _cut_tsv(human / f"gene_table_e{release}.tsv", HERE / f"genes_e{release}.tsv", "gene_id", genes)
        if release == 75:
            for row in frame.drop_duplicates("gene_id").itertuples():
                chrom = f"chr{row.chromosome}" if row.chromosome != "MT" else "chrM"
                windows.append((chrom, int(row.start) - _WINDOW, int(row.end) + _WINDOW))
        tx = human / f"transcripts_e{release}.tsv"
        if tx.exists():
            _cut_tsv(tx, HERE / f"transcripts_e{release}.tsv", "gene_id", genes)
    _cut_tsv(human / "hgnc_complete_set.txt", HERE / "hgnc_excerpt.tsv", "ensembl_gene_id", genes)
    _chain_excerpt(
        WORK / "liftover" / "hg19ToHg38.over.chain.gz", sorted(windows), HERE / "hg19ToHg38.excerpt.chain.gz"
    )


if __name__ == "__main__":
    main()
