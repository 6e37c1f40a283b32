"""Print facts about the real snapshots: IDs retired and born between releases, renames, moves.

Reads the full snapshots written by ``build_real_snapshots.py`` with plain pandas (no
resolver). For each pair of consecutive releases the snapshot covers:

- *retired*: gene IDs present in the first release and absent from the second;
- *new*: the reverse;
- *version bumps*: IDs present in both whose version changed (when both releases carry versions);
- *renamed*: IDs present in both whose primary symbol (from the gene tables) changed;
- *moved*: primary symbols of a retired ID that a different ID carries in the next release.

Then, for the HGNC-style table: entries pointing to an Ensembl ID absent from the newest
release, and symbols that are the primary symbol of several IDs in the newest release.

Usage::

    python scripts/real_data_facts.py [--work DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from idtrack_sc.snapshot import load_snapshot

if TYPE_CHECKING:
    import pandas as pd

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"


def _in_release(frame: pd.DataFrame, release: int) -> pd.DataFrame:
    return frame[(frame["first_release"] <= release) & (frame["last_release"] >= release)]


def facts(path: Path) -> None:
    """Print the facts of one snapshot file."""
    snap = load_snapshot(path)
    genes, names = snap.genes, snap.names
    primary = names[(names["namespace"] == "symbol") & (names["source"] == "gene_table")]
    releases = list(snap.releases)
    present = {r: _in_release(genes, r).drop_duplicates("gene_id").set_index("gene_id") for r in releases}
    symbol = {r: _in_release(primary, r).drop_duplicates("gene_id").set_index("gene_id")["value"] for r in releases}
    print(f"== {path.name}: {snap.organism} {snap.assembly}, releases {releases}")
    print(f"   gene IDs ever seen: {genes['gene_id'].nunique():,}; names: {len(names):,}")
    print("   " + ", ".join(f"{r}: {len(present[r]):,} genes" for r in releases))
    pairs = list(zip(releases, releases[1:], strict=False))
    if len(releases) > 2 and 104 in releases and releases[-1] != 104:
        pairs.append((104, releases[-1]))
    for a, b in pairs:
        ids_a, ids_b = present[a].index, present[b].index
        retired, new = ids_a.difference(ids_b), ids_b.difference(ids_a)
        both = ids_a.intersection(ids_b)
        va, vb = present[a].loc[both, "version"], present[b].loc[both, "version"]
        versioned = va.notna() & vb.notna()
        bumped = int((va[versioned] != vb[versioned]).sum()) if versioned.any() else None
        sa, sb = symbol[a].reindex(both), symbol[b].reindex(both)
        renamed = int((sa.notna() & sb.notna() & (sa != sb)).sum())
        gone_names = symbol[a].reindex(retired).dropna()
        carriers = symbol[b][symbol[b].isin(set(gone_names))]
        moved = sorted(set(gone_names) & set(carriers))
        biotypes = present[b].loc[new, "biotype"]
        new_pc = f"{int((biotypes == 'protein_coding').sum())}" if present[b]["biotype"].notna().any() else "n/a"
        print(
            f"   {a}->{b}: retired {len(retired):,}, new {len(new):,} ({new_pc} protein-coding), "
            f"version bumps {bumped if bumped is not None else 'n/a'}, renamed {renamed:,}, "
            f"symbols moved to another ID {len(moved)}" + (f" e.g. {', '.join(moved[:8])}" if moved else "")
        )
    last = releases[-1]
    nomenclature = names[names["source"].isin(["hgnc", "mgi"]) & (names["kind"] == "primary")]
    ids = nomenclature[nomenclature["namespace"].isin(["hgnc_id", "mgi_id"])]
    stale = ids[~ids["gene_id"].isin(present[last].index)]
    print(
        f"   nomenclature entries with an Ensembl ID: {ids['value'].nunique():,}; "
        f"pointing to an ID absent from {last}: {stale['value'].nunique():,}"
    )
    per_symbol = symbol[last].groupby(symbol[last]).size()
    print(f"   primary symbols carried by several IDs in {last}: {int((per_symbol > 1).sum()):,}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args(argv)
    for path in sorted(args.work.glob("*-114.idtrack.zip")):
        facts(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
