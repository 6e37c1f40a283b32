"""Build and register snapshots of a new Ensembl release (maintainers; needs network).

For each organism: download the release's core database dump (with Ensembl's own
``stable_id_event`` history) and GTF from Ensembl's FTP site, verified against its
``CHECKSUMS`` (:func:`idtrack_sc.builders.build_from_ensembl`), add the current nomenclature
(the HGNC complete set for human, MGI's marker reports for mouse), build
``<organism>-<release>.idtrack.zip`` into ``--out``, and write its registry line into the
package's registry (``scripts/ship_snapshots.py --registry-only``). Upload the files as
release assets under ``idtrack_sc.registry.DEFAULT_BASE_URL`` and commit the registry; pass
``--ship`` to also put them into the package data (the snapshots every install gets offline).

The workflow ``.github/workflows/snapshots.yml`` runs this on demand.

Usage::

    python scripts/release_snapshots.py 115 [--organism human --organism mouse] [--out dist/snapshots] [--ship]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Current nomenclature sources, as their maintainers publish them.
HGNC_URL = "https://storage.googleapis.com/public-download-files/hgnc/tsv/tsv/hgnc_complete_set.txt"
MGI_MARKERS_URL = "https://www.informatics.jax.org/downloads/reports/MRK_List1.rpt"
MGI_ENSEMBL_URL = "https://www.informatics.jax.org/downloads/reports/MRK_ENSEMBL.rpt"


def _download(url: str, folder: Path) -> Path:
    import pooch

    # no published checksum: the file's SHA-256 is recorded in the snapshot's manifest instead
    return Path(pooch.retrieve(url, known_hash=None, path=folder, progressbar=True))


def nomenclature(organism: str, folder: Path) -> list:
    """The current symbol sources of an organism, downloaded into ``folder``."""
    from idtrack_sc.builders import read_hgnc, read_mgi

    if organism == "homo_sapiens":
        return [read_hgnc(_download(HGNC_URL, folder))]
    if organism == "mus_musculus":
        markers = _download(MGI_MARKERS_URL, folder)
        links = _download(MGI_ENSEMBL_URL, folder)
        return [read_mgi(markers, ensembl=links)]
    return []


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=int, help="Ensembl release, e.g. 115")
    parser.add_argument("--organism", action="append", help="default: human and mouse")
    parser.add_argument("--out", type=Path, default=Path("dist/snapshots"))
    parser.add_argument("--ensembl-url", default=None, help="base of Ensembl's FTP layout (a mirror)")
    parser.add_argument("--ship", action="store_true", help="also copy the files into the package data")
    args = parser.parse_args(argv)

    from idtrack_sc.builders import ENSEMBL_FTP, build_from_ensembl
    from idtrack_sc.snapshot import resolve_organism

    args.out.mkdir(parents=True, exist_ok=True)
    built = []
    for name in args.organism or ["human", "mouse"]:
        organism = resolve_organism(name)
        out = args.out / f"{organism}-{args.release}.idtrack.zip"
        extra = nomenclature(organism, args.out / "sources")
        snap = build_from_ensembl(
            organism, args.release, out=out, base_url=args.ensembl_url or ENSEMBL_FTP, extra_sources=extra
        )
        summary = snap.summary()
        print(f"{out}: releases {summary['releases']}, {summary['genes']} genes, {summary['events']} events")
        built.append(out)
    ship = [sys.executable, str(HERE / "ship_snapshots.py"), *map(str, built)]
    if not args.ship:
        ship.append("--registry-only")
    return subprocess.run(ship, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
