"""Organism names: what users type, and the Ensembl production name it stands for."""

from __future__ import annotations

#: production name -> (common aliases, NCBI taxonomy ID, HGNC-like nomenclature namespace)
ORGANISMS: dict[str, tuple[tuple[str, ...], int]] = {
    "homo_sapiens": (("human", "hsapiens", "hs", "h.sapiens", "homo sapiens", "9606"), 9606),
    "mus_musculus": (("mouse", "mmusculus", "mm", "m.musculus", "mus musculus", "10090"), 10090),
    "rattus_norvegicus": (("rat", "rnorvegicus", "rattus norvegicus", "10116"), 10116),
    "danio_rerio": (("zebrafish", "drerio", "danio rerio", "7955"), 7955),
    "macaca_mulatta": (("macaque", "rhesus", "mmulatta", "macaca mulatta", "9544"), 9544),
    "drosophila_melanogaster": (("fly", "fruitfly", "dmelanogaster", "drosophila melanogaster", "7227"), 7227),
    "caenorhabditis_elegans": (("worm", "celegans", "caenorhabditis elegans", "6239"), 6239),
    "sus_scrofa": (("pig", "sscrofa", "sus scrofa", "9823"), 9823),
    "gallus_gallus": (("chicken", "ggallus", "gallus gallus", "9031"), 9031),
}

_ALIASES = {alias: name for name, (aliases, _) in ORGANISMS.items() for alias in (name, *aliases)}


def resolve_organism(name: str) -> str:
    """Return the Ensembl production name for an organism name, alias or taxonomy ID.

    Parameters
    ----------
    name
        ``"human"``, ``"Homo sapiens"``, ``"homo_sapiens"``, ``"hsapiens"``, ``9606``, …

    Returns
    -------
    The production name, e.g. ``"homo_sapiens"``.

    Raises
    ------
    ValueError
        If the organism is not known.
    """
    key = str(name).strip().lower().replace("-", " ")
    if key in _ALIASES:
        return _ALIASES[key]
    key = key.replace(" ", "_")
    if key in _ALIASES:
        return _ALIASES[key]
    known = ", ".join(f"{n} ({aliases[0]})" for n, (aliases, _) in ORGANISMS.items())
    msg = f"Unknown organism {name!r}. Known organisms: {known}."
    raise ValueError(msg)


def taxonomy_id(organism: str) -> int:
    """NCBI taxonomy ID of an organism (any accepted name)."""
    return ORGANISMS[resolve_organism(organism)][1]
