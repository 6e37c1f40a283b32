"""Figures of the organism check and of non-names (docs/validation.md, finding 8).

Uses the shipped human and mouse snapshots and the feature table of squidpy's mouse test
dataset (``tests/data/organisms/squidpy_mouse_var.tsv``, real MGI symbols and Ensembl IDs).
Run from the repository root::

    python scripts/measure_organism_and_non_names.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from scipy import sparse

import idtrack_sc as its

MOUSE_VAR = Path(__file__).parents[1] / "tests" / "data" / "organisms" / "squidpy_mouse_var.tsv"
MISSING = ["nan", "NaN", "NA", "N/A", "#N/A", "<NA>", "None", "null", "NULL", "NaT", "inf", "-inf", "nan-1", "nan-2"]


def _harmonize(adata: ad.AnnData, **kwargs) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            its.pp.harmonize_var_names(adata, **kwargs)
    except ValueError as err:
        return f"refused: {type(err).__name__}: {str(err)[:110]}…"
    counts = adata.uns["idtrack"]["counts"]
    unchanged = int(counts["reason"].get("unchanged", 0))
    return f"{dict(counts['outcome'])}, 1:1 unchanged {unchanged}"


def main() -> None:
    """Print the figures."""
    human = its.registry.resolve_snapshot("human")
    mouse = its.registry.resolve_snapshot("mouse")
    var = pd.read_csv(MOUSE_VAR, sep="\t", dtype=str, keep_default_na=False)
    x = sparse.csr_matrix(np.ones((3, len(var)), dtype=np.float32))
    adata = ad.AnnData(x, var=pd.DataFrame({"gene_ids": var["gene_ids"].to_numpy()}, index=var["symbol"].to_numpy()))
    print(f"squidpy mouse, {len(var):,} MGI symbols, harmonized with organism='human':")
    print("  default:              ", _harmonize(adata.copy(), organism="human"))
    print("  check_organism=False: ", _harmonize(adata.copy(), organism="human", check_organism=False, pair_key=None))
    print("  organism='mouse':     ", _harmonize(adata.copy(), organism="mouse"))
    print("  its Ensembl IDs, organism='human':", _harmonize(adata.copy(), organism="human", id_key="gene_ids"))
    ids = its.convert(var["gene_ids"], snapshot=human)
    print("  convert(its Ensembl IDs, organism='human') reasons:", ids["reason"].value_counts().head(2).to_dict())
    print("  infer_release(its Ensembl IDs, organism='human'):", its.infer_release(var["gene_ids"], snapshot=human))
    names = [str(i) for i in range(20_000)]
    for snap in (human, mouse):
        table = its.convert(names, snapshot=snap)
        print(f"'0'..'19999' under {snap.organism}:", table["outcome"].value_counts().to_dict())
    entrez = human.names.loc[human.names["namespace"] == "entrez", "value"].drop_duplicates().to_numpy()
    sample = entrez[np.linspace(0, len(entrez) - 1, 2000).astype(int)]
    table = its.convert(sample, snapshot=human)
    print("2,000 of the human snapshot's NCBI Gene IDs:", table["outcome"].value_counts().to_dict())
    table = its.convert(MISSING, snapshot=human, to="symbol")
    print(f"{len(MISSING)} missing-value spellings:", dict(zip(MISSING, table["target"], strict=True)))


if __name__ == "__main__":
    main()
