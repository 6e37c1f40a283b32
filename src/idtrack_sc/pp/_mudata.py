"""The MuData path: which modalities hold genes, and putting harmonized modalities back into the container."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from anndata import AnnData

if TYPE_CHECKING:
    from collections.abc import Callable

    from mudata import MuData

#: Feature types (10x ``feature_types``) and modality names that hold genes.
GENE_FEATURE_TYPES = ("gene expression", "gene", "genes", "rna", "gex", "atac")
GENE_MODALITIES = ("rna", "gex", "gene expression", "genes", "sct")


def gene_modalities(mdata: MuData) -> list[str]:
    """The modalities whose features are genes (``var["feature_types"]`` says so, or the name does)."""
    chosen = []
    for name, mod_adata in mdata.mod.items():
        ftypes = mod_adata.var.get("feature_types")
        if ftypes is not None and len(ftypes):
            if pd.Series(ftypes).astype(str).str.lower().isin(GENE_FEATURE_TYPES).mean() > 0.5:
                chosen.append(name)
        elif name.lower() in GENE_MODALITIES:
            chosen.append(name)
    return chosen


def detached(adata: AnnData) -> AnnData:
    """A new AnnData with ``adata``'s arrays (not copied): harmonizing it leaves ``adata`` as it is."""
    twin = AnnData(
        X=adata.X,
        obs=adata.obs.copy(),
        var=adata.var.copy(),
        uns=dict(adata.uns),
        obsm=dict(adata.obsm),
        varm=dict(adata.varm),
        layers={k: v for k, v in adata.layers.items() if k is not None},
        obsp=dict(adata.obsp),
        varp=dict(adata.varp),
    )
    if adata.raw is not None:
        twin.raw = adata.raw.to_adata()
    return twin


def replace_modalities(mdata: MuData, done: dict[str, tuple[AnnData, np.ndarray]]) -> None:
    """Put harmonized modalities into ``mdata`` and bring its ``var``, ``varm``, ``varp`` along.

    :meth:`mudata.MuData.update` cannot follow features that are renamed and removed at once
    (it raises, leaving the container stale), so the change is made in steps it can follow,
    with public API only, on stand-ins of the modalities (the user's AnnData objects are not
    touched): rename every feature to a unique temporary name; reduce each modality to the
    features that remain; add the copies of ambiguous features (``ambiguous="all"``) as new
    features; rename to the final names; put the harmonized modalities in. Global ``var``
    columns, ``varm`` and ``varp`` rows of the remaining features are kept, whatever the
    mudata release and whether ``update`` pulls columns or not.
    """

    def temporary(mod: str, position: int) -> str:
        return f"\x00idtrack\x00{mod}\x00{position}"

    def positions(mod: str) -> tuple[np.ndarray, np.ndarray]:
        pos = np.asarray(mdata.varmap[mod]).ravel().astype(np.int64)
        return pos > 0, pos - 1

    def standin(mod: str, names: Any) -> AnnData:
        return AnnData(
            obs=pd.DataFrame(index=mdata.mod[mod].obs_names), var=pd.DataFrame(index=pd.Index(names, dtype=object))
        )

    def rename(new_names: Callable[[str, np.ndarray], np.ndarray]) -> None:
        # the container's names and its modalities' together: a pure rename update() follows
        names = mdata.var_names.to_numpy(dtype=object).copy()
        for mod in done:
            inside, at = positions(mod)
            names[inside] = new_names(mod, at[inside])
            renamed = mdata.mod[mod].var_names.to_numpy(dtype=object).copy()
            renamed[at[inside]] = names[inside]
            mdata.mod[mod].var_names = pd.Index(renamed, dtype=object)
        # object dtype keeps the container's names writable by every anndata release (pandas 3 infers `str`)
        mdata.var.index = pd.Index(names, dtype=object)
        mdata.update()

    for mod in done:
        mdata.mod[mod] = standin(mod, mdata.mod[mod].var_names.to_numpy(dtype=object))
    rename(lambda mod, at: np.array([temporary(mod, p) for p in at], dtype=object))

    final: dict[str, list[str]] = {}
    for mod, (_, kept) in done.items():
        first = ~pd.Series(kept).duplicated().to_numpy()
        mdata.mod[mod] = standin(mod, [temporary(mod, p) for p in kept[first]])
        final[mod] = [
            temporary(mod, p) if f else f"{temporary(mod, p)}\x00{j}"
            for j, (p, f) in enumerate(zip(kept, first, strict=True))
        ]
    mdata.update()
    if any(len(names) != mdata.mod[mod].n_vars for mod, names in final.items()):
        for mod, names in final.items():
            mdata.mod[mod] = standin(mod, names)
        mdata.update()

    rename(lambda mod, at: done[mod][0].var_names.to_numpy(dtype=object)[at])
    for mod, (twin, _) in done.items():
        mdata.mod[mod] = twin
    mdata.update()
