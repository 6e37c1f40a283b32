"""``idtrack-sc snapshot build|info|fetch|list``: make, inspect, download and list snapshots."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import (
    UsageError,
    add_command,
    add_out_option,
    add_registry_options,
    add_release_option,
    add_snapshot_options,
    check_suffix,
    optional_release_path,
    organism_name,
    registry_lookup,
    required_release_path,
    snapshot_from_args,
    write_table,
)

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

_BUILD_EPILOG = """\
examples:
  idtrack-sc snapshot build --organism human --out homo_sapiens-114.idtrack.zip \\
      --gene-table 104=genes_104.tsv --gene-table 110=genes_110.tsv --gene-table 114=mart_export.txt \\
      --hgnc hgnc_complete_set.txt
  idtrack-sc snapshot build --organism mouse --out mus_musculus-114.idtrack.zip \\
      --ensembl-dump https://ftp.ensembl.org/pub/release-114/mysql/mus_musculus_core_114_39/ \\
      --gtf Mus_musculus.GRCm39.110.gtf.gz
  idtrack-sc snapshot build --organism human --from-ensembl 115 --hgnc hgnc_complete_set.txt \\
      --out homo_sapiens-115.idtrack.zip
"""

_FETCH_EPILOG = """\
environment:
  IDTRACK_SC_CACHE     cache folder (default: the OS cache folder of idtrack-sc)
  IDTRACK_SC_MIRROR    base URL or folder holding the snapshot files under their registry names
  IDTRACK_SC_REGISTRY  your own registry file(s), adding to or overriding the package's
"""


def add_parser(subparsers: Any) -> None:
    """Register ``snapshot`` and its commands.

    Parameters
    ----------
    subparsers
        The top-level parser's subparsers.
    """
    group = add_command(subparsers, "snapshot", help="build, inspect, fetch and list identifier history snapshots")
    commands = group.add_subparsers(dest="snapshot_command", metavar="COMMAND", required=True)

    build = add_command(
        commands,
        "build",
        help="build a snapshot file from public sources",
        description="Build a snapshot file from public sources (gene tables, GTF, Ensembl dumps, HGNC, NCBI).",
        epilog=_BUILD_EPILOG,
    )
    build.add_argument(
        "--organism",
        required=True,
        metavar="NAME",
        help="organism: Latin name, common name or taxonomy ID (human, zebrafish, danio_rerio, 7955, …)",
    )
    add_out_option(build, required=True, help="snapshot file to write (….idtrack.zip)")
    build.add_argument(
        "--gene-table",
        action="append",
        default=[],
        type=required_release_path,
        metavar="RELEASE=PATH",
        help="gene table (BioMart export, CSV/TSV) of one Ensembl release; repeatable",
    )
    build.add_argument(
        "--gtf",
        action="append",
        default=[],
        type=optional_release_path,
        metavar="[RELEASE=]PATH",
        help="GTF annotation; the release may be left out if the file name or header tells it; repeatable",
    )
    build.add_argument(
        "--ensembl-dump",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="Ensembl core database dump folder or its FTP URL; repeatable",
    )
    build.add_argument(
        "--from-ensembl",
        type=int,
        metavar="RELEASE",
        help="download the core database dump (with Ensembl's own ID history) and GTF of this Ensembl release "
        "from Ensembl's FTP site, verified against its CHECKSUMS and cached",
    )
    build.add_argument(
        "--ensembl-url",
        default=None,
        metavar="URL",
        help="base of Ensembl's FTP layout for --from-ensembl (default https://ftp.ensembl.org/pub/; a mirror or a local copy)",
    )
    build.add_argument("--no-gtf", action="store_true", help="with --from-ensembl: read the core dump only")
    build.add_argument("--hgnc", type=Path, metavar="PATH", help="HGNC complete set (hgnc_complete_set.txt)")
    build.add_argument("--mgi", type=Path, metavar="PATH", help="MGI marker list (MRK_List1.rpt or MRK_List2.rpt)")
    build.add_argument(
        "--mgi-ensembl",
        type=Path,
        metavar="PATH",
        help="MGI's Ensembl links (MRK_ENSEMBL.rpt or MGI_Gene_Model_Coord.rpt)",
    )
    build.add_argument("--ncbi-gene-info", type=Path, metavar="PATH", help="NCBI gene_info (all organisms or one)")
    build.add_argument(
        "--ncbi-gene-history", type=Path, metavar="PATH", help="NCBI gene_history (needs --ncbi-gene-info)"
    )
    build.add_argument(
        "--ncbi-gene2ensembl",
        type=Path,
        metavar="PATH",
        help="NCBI gene2ensembl: NCBI's own GeneID -> Ensembl gene links, each gene's Entrez ID",
    )
    build.add_argument("--assembly", help="genome assembly to record if the sources do not say (e.g. GRCh38)")
    build.add_argument("--cache-dir", type=Path, metavar="DIR", help="where downloaded Ensembl dump files are cached")
    build.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    build.set_defaults(handler=_build)

    info = add_command(
        commands,
        "info",
        help="show what a snapshot holds",
        description="Show what a snapshot holds: a file, the embedded subset (--snapshot default), or a "
        "registry snapshot (--organism, cached or downloaded).",
    )
    info.add_argument("file", nargs="?", metavar="FILE", help="snapshot file (the same as --snapshot FILE)")
    add_snapshot_options(info)
    add_release_option(info, type=str, help="with --organism: the registry snapshot of this release (default: newest)")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(handler=_info)

    fetch = add_command(
        commands,
        "fetch",
        help="download a snapshot from the registry (or find it in the cache) and print its path",
        epilog=_FETCH_EPILOG,
    )
    fetch.add_argument("organism_arg", nargs="?", metavar="ORGANISM", help="organism (the same as --organism)")
    fetch.add_argument(
        "--organism", metavar="NAME", help="organism name, alias or taxonomy ID (human, zebrafish, 7955, …)"
    )
    add_release_option(
        fetch, type=str, help="Ensembl release (default: the newest in the registry) or variant name (default)"
    )
    add_registry_options(fetch)
    fetch.add_argument("--no-progress", action="store_true", help="no download progress bar")
    fetch.set_defaults(handler=_fetch)

    list_ = add_command(
        commands,
        "list",
        help="list the snapshots the registry knows, and which are local (in the package or the cache)",
        epilog=_FETCH_EPILOG,
    )
    list_.add_argument("--organism", metavar="NAME", help="only this organism's snapshots")
    add_registry_options(list_)
    add_out_option(list_, help="write the list as a table to FILE (format from its extension; '-' is TSV on stdout)")
    list_.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    list_.set_defaults(handler=_list)


# -- build -------------------------------------------------------------------------------------
def _builder(name: str) -> Any:
    from idtrack_sc import builders

    func = getattr(builders, name, None)
    if func is None:
        msg = f"this idtrack-sc has no builder {name}(); upgrade idtrack-sc or leave out that source"
        raise RuntimeError(msg)
    return func


def _build(args: argparse.Namespace) -> int:
    from idtrack_sc.snapshot import taxonomy_id

    organism = organism_name(args.organism)
    out = check_suffix(args.out, (".zip",), what="snapshot file")
    if args.ncbi_gene_history is not None and args.ncbi_gene_info is None:
        msg = "--ncbi-gene-history needs --ncbi-gene-info (it links discontinued GeneIDs through it)"
        raise UsageError(msg)
    if not (
        args.from_ensembl
        or args.gene_table
        or args.gtf
        or args.ensembl_dump
        or args.hgnc
        or args.mgi
        or args.ncbi_gene_info
        or args.ncbi_gene2ensembl
    ):
        msg = (
            "no sources: give --from-ensembl RELEASE, or at least one of --gene-table, --gtf, --ensembl-dump, "
            "--hgnc, --ncbi-gene-info, --ncbi-gene2ensembl"
        )
        raise UsageError(msg)
    releases = [r for r, _ in args.gene_table]
    if len(set(releases)) != len(releases):
        msg = f"--gene-table gives a release twice: {sorted(releases)}"
        raise UsageError(msg)
    if out.exists() and not args.force:
        msg = f"{out} exists; pass --force to overwrite it"
        raise FileExistsError(msg)

    sources = []
    for path_or_url in args.ensembl_dump:
        logger.info("reading Ensembl dump %s", path_or_url)
        sources.append(_builder("read_ensembl_dump")(path_or_url, cache_dir=args.cache_dir))
    for release, path in args.gtf:
        logger.info("reading GTF %s", path)
        sources.append(_builder("read_gtf")(path, release=release))
    for release, path in sorted(args.gene_table):
        logger.info("reading gene table %s (release %d)", path, release)
        sources.append(_builder("read_gene_table")(path, release=release))
    if args.hgnc is not None:
        logger.info("reading HGNC %s", args.hgnc)
        sources.append(_builder("read_hgnc")(args.hgnc))
    if (args.mgi is None) != (args.mgi_ensembl is None):
        msg = "--mgi and --mgi-ensembl go together (markers, and their links to Ensembl genes)"
        raise UsageError(msg)
    if args.mgi is not None:
        logger.info("reading MGI %s", args.mgi)
        sources.append(_builder("read_mgi")(args.mgi, ensembl=args.mgi_ensembl))
    if args.ncbi_gene_info is not None:
        tax_id = taxonomy_id(organism)
        logger.info("reading NCBI gene_info %s", args.ncbi_gene_info)
        gene_info = _builder("read_ncbi_gene_info")(args.ncbi_gene_info, tax_id=tax_id)
        sources.append(gene_info)
        if args.ncbi_gene_history is not None:
            logger.info("reading NCBI gene_history %s", args.ncbi_gene_history)
            history = _builder("read_ncbi_gene_history")(args.ncbi_gene_history, gene_info=gene_info, tax_id=tax_id)
            sources.append(history)
    if args.ncbi_gene2ensembl is not None:
        logger.info("reading NCBI gene2ensembl %s", args.ncbi_gene2ensembl)
        sources.append(_builder("read_ncbi_gene2ensembl")(args.ncbi_gene2ensembl, tax_id=taxonomy_id(organism)))

    if args.from_ensembl is not None:
        from idtrack_sc.builders import ENSEMBL_FTP

        logger.info("fetching Ensembl release %d", args.from_ensembl)
        snap = _builder("build_from_ensembl")(
            organism,
            args.from_ensembl,
            out=out,
            base_url=args.ensembl_url or ENSEMBL_FTP,
            gtf=not args.no_gtf,
            extra_sources=sources,
            cache_dir=args.cache_dir,
            progressbar=sys.stderr.isatty(),
        )
    else:
        snap = _builder("build_snapshot")(sources, organism=organism, out=out, assembly=args.assembly)
    summary = snap.summary()
    print(f"wrote {snap.path}")
    print(
        f"  {summary['organism']}, releases {summary['releases']}, {summary['genes']} genes, {summary['names']} names"
    )
    print(f"  sha256 {summary['sha256']}")
    return 0


# -- info --------------------------------------------------------------------------------------
def _info(args: argparse.Namespace) -> int:
    if args.file is not None:
        if args.snapshot is not None:
            msg = f"give the snapshot once: FILE {args.file} or --snapshot {args.snapshot}"
            raise UsageError(msg)
        args.snapshot = args.file
    snap = snapshot_from_args(args, release=args.release)
    summary = snap.summary()
    if args.json:
        record = {**summary, "path": str(snap.path), "sources": snap.manifest.get("sources", [])}
        print(json.dumps(record, indent=2, sort_keys=True, default=str))
        return 0
    by_ns = ", ".join(f"{ns} {n}" for ns, n in summary["names_by_namespace"].items())
    rows = [
        ("file", str(snap.path)),
        ("organism", summary["organism"]),
        ("assembly", summary["assembly"] or "unknown"),
        ("releases", f"{summary['releases']} (latest {summary['latest_release']})"),
        ("genes", f"{summary['genes']} ({summary['gene_versions']} gene versions)"),
        ("events", str(summary["events"])),
        ("names", f"{summary['names']}" + (f" ({by_ns})" if by_ns else "")),
        ("features", str(summary["features"])),
        ("schema", str(summary["schema_version"])),
        ("builder", str(summary["builder_version"])),
        ("sha256", str(summary["sha256"])),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    sources = snap.manifest.get("sources", [])
    if sources:
        print("sources")
        for src in sources:
            release = f" (release {src['release']})" if src.get("release") is not None else ""
            date = f", {src['date']}" if src.get("date") else ""
            print(f"  {src.get('name')}: {src.get('origin')}{release}{date}")
    return 0


# -- fetch / list ------------------------------------------------------------------------------
def _fetch(args: argparse.Namespace) -> int:
    from idtrack_sc.registry import fetch_snapshot

    if (args.organism_arg is None) == (args.organism is None):
        msg = "give the organism once: idtrack-sc snapshot fetch ORGANISM (or --organism NAME)"
        raise UsageError(msg)
    organism = args.organism or args.organism_arg
    organism_name(organism)  # an unknown name is bad usage
    progressbar = not args.no_progress and sys.stderr.isatty()
    snap = registry_lookup(
        fetch_snapshot,
        organism,
        args.release,
        registry=args.registry,
        mirror=args.mirror,
        cache_dir=args.cache_dir,
        progressbar=progressbar,
    )
    print(snap.path)
    return 0


def _common_name(organism: str) -> str:
    from idtrack_sc.snapshot import ORGANISMS

    known = ORGANISMS.get(organism)
    return known.common_name if known is not None else "-"


def _list(args: argparse.Namespace) -> int:
    from idtrack_sc.registry import list_snapshots

    table = list_snapshots(args.registry, mirror=args.mirror, cache_dir=args.cache_dir)
    if args.organism is not None:
        table = table[table["organism"] == organism_name(args.organism)].reset_index(drop=True)
    if args.out is not None:
        write_table(table, args.out)
        return 0
    if args.json:
        records = [
            {
                **row,
                "release": None if row["release"] is None else int(row["release"]),
                "shipped": bool(row["shipped"]),
                "cached": bool(row["cached"]),
            }
            for row in table.astype(object).where(table.notna(), None).to_dict(orient="records")
        ]
        print(json.dumps(records, indent=2))
        return 0
    if table.empty:
        print("The registry is empty." if args.organism is None else f"The registry has no {args.organism} snapshot.")
        return 0
    shown = table.astype(object).copy()
    shown["release"] = table["release"].astype("string").fillna("-")
    shown["sha256"] = [s[:12] for s in table["sha256"]]
    # where the file is read from: inside the package, the cache folder, or still to download
    shown["local"] = [
        "package" if shipped else "cache" if cached else "no"
        for shipped, cached in zip(table["shipped"], table["cached"], strict=True)
    ]
    shown["name"] = [_common_name(o) for o in table["organism"]]
    shown["releases"] = table["releases"].fillna("-")
    shown["sources"] = table["sources"].fillna("-")
    columns = ["organism", "release", "file", "local", "sha256", "name", "releases", "sources", "url"]
    print(shown[columns].to_string(index=False))
    return 0
