"""Organism names: what users type, and the Ensembl production name it stands for.

:data:`ORGANISMS` is the one table of organisms this package knows: the 14 CELLxGENE's schema
pins (human, mouse and twelve more, each with a snapshot shipped in the package) and a few
more that builders may meet. :func:`resolve_organism` is the one place a user's spelling is
read (the API, the compatibility layer, the command line and the registry all call it): a
Latin name in any spelling (``"Danio rerio"``, ``"danio_rerio"``), a common name as users type
it (``"zebrafish"``, ``"crab-eating macaque"``, ``"cynomolgus"``), an NCBI taxonomy ID
(``7955``, ``"7955"``, ``"NCBITaxon:7955"`` as CELLxGENE's ``organism_ontology_term_id``
writes it). A name that matches no organism, or several (``"macaque"``), is refused with the
list of known organisms.

The public facts in the table: taxonomy IDs are NCBI Taxonomy's; gene-ID prefixes are those
of each organism's gene IDs in the Ensembl 114 gene tables CELLxGENE's schema ships
(``ENSDARG…`` zebrafish, FlyBase ``FBgn…`` genes and ``FBti…`` transposable elements,
WormBase ``WBGene…``).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class AmbiguousOrganismError(ValueError):
    """An organism name that stands for several organisms (``"macaque"``)."""


class Organism(NamedTuple):
    """One organism: its names, NCBI taxonomy ID and the prefixes of its gene IDs."""

    #: Ensembl production name (``"danio_rerio"``): how snapshots and registries name it.
    name: str
    #: Latin name as written (``"Danio rerio"``).
    latin: str
    #: Common names and abbreviations users type, the most common first (``"zebrafish"``).
    common: tuple[str, ...]
    #: NCBI taxonomy ID.
    taxonomy_id: int
    #: Prefixes of the organism's gene IDs (``("ENSDARG",)``; ``("FBgn", "FBti")``).
    gene_prefixes: tuple[str, ...]
    #: Whether CELLxGENE's schema (7.x) pins this organism.
    cellxgene: bool = True

    @property
    def common_name(self) -> str:
        """The usual common name (``"zebrafish"``)."""
        return self.common[0]

    @property
    def taxonomy_str(self) -> str:
        """The taxonomy ID as a string (``"7955"``)."""
        return str(self.taxonomy_id)


def _o(name: str, common: tuple[str, ...], tax: int, prefixes: tuple[str, ...], *, cellxgene: bool = True) -> Organism:
    latin = name.replace("_", " ").capitalize()
    return Organism(name, latin, common, tax, prefixes, cellxgene)


#: production name -> :class:`Organism`; CELLxGENE's 14 first (human, mouse, then by Latin name).
ORGANISMS: dict[str, Organism] = {
    o.name: o
    for o in (
        _o("homo_sapiens", ("human", "hsapiens", "hs", "h sapiens"), 9606, ("ENSG",)),
        _o("mus_musculus", ("mouse", "house mouse", "mmusculus", "mm", "m musculus"), 10090, ("ENSMUSG",)),
        _o(
            "caenorhabditis_elegans",
            ("C. elegans", "worm", "roundworm", "nematode", "celegans", "c elegans"),
            6239,
            ("WBGene",),
        ),
        _o("callithrix_jacchus", ("marmoset", "common marmoset", "cjacchus", "c jacchus"), 9483, ("ENSCJAG",)),
        _o("danio_rerio", ("zebrafish", "zebra fish", "zebra danio", "drerio", "d rerio"), 7955, ("ENSDARG",)),
        _o(
            "drosophila_melanogaster",
            ("fruit fly", "fruitfly", "fly", "drosophila", "dmel", "dmelanogaster", "d melanogaster"),
            7227,
            ("FBgn", "FBti"),
        ),
        # Ensembl's and CELLxGENE's gorilla is the western lowland subspecies (9595); the species is 9593
        _o(
            "gorilla_gorilla",
            ("gorilla", "western gorilla", "western lowland gorilla", "ggorilla", "9593"),
            9595,
            ("ENSGGOG",),
        ),
        _o(
            "macaca_fascicularis",
            (
                "crab-eating macaque",
                "cynomolgus",
                "cynomolgus macaque",
                "cynomolgus monkey",
                "cyno",
                "long-tailed macaque",
                "mfascicularis",
                "m fascicularis",
            ),
            9541,
            ("ENSMFAG",),
        ),
        _o(
            "macaca_mulatta",
            ("rhesus macaque", "rhesus", "rhesus monkey", "mmulatta", "m mulatta"),
            9544,
            ("ENSMMUG",),
        ),
        _o(
            "microcebus_murinus",
            ("mouse lemur", "gray mouse lemur", "grey mouse lemur", "lemur", "mmurinus", "m murinus"),
            30608,
            ("ENSMICG",),
        ),
        _o("oryctolagus_cuniculus", ("rabbit", "european rabbit", "ocuniculus", "o cuniculus"), 9986, ("ENSOCUG",)),
        _o(
            "pan_troglodytes",
            ("chimpanzee", "chimp", "troglodyte", "ptroglodytes", "p troglodytes"),
            9598,
            ("ENSPTRG",),
        ),
        _o("rattus_norvegicus", ("rat", "norway rat", "brown rat", "rnorvegicus", "r norvegicus"), 10116, ("ENSRNOG",)),
        _o("sus_scrofa", ("pig", "swine", "wild boar", "sscrofa", "s scrofa"), 9823, ("ENSSSCG",)),
        # not pinned by CELLxGENE: known so that builders and messages can name them
        _o("gallus_gallus", ("chicken", "ggallus", "g gallus"), 9031, ("ENSGALG",), cellxgene=False),
    )
}

#: Names that stand for several organisms: the user must say which.
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "macaque": ("macaca_mulatta", "macaca_fascicularis"),
    "macaca": ("macaca_mulatta", "macaca_fascicularis"),
    "monkey": ("macaca_mulatta", "macaca_fascicularis", "callithrix_jacchus"),
    "primate": ("homo_sapiens", "macaca_mulatta", "macaca_fascicularis", "pan_troglodytes", "gorilla_gorilla"),
}

_TAXON_PREFIX = re.compile(r"^(?:ncbitaxon|ncbi taxon|taxon|taxid|tax id|txid)\s*:?\s*(?=\d)")


def _key(text: str) -> str:
    """A spelling's lookup key: lower case, ``-``, ``_`` and ``.`` as spaces, single spaces."""
    key = re.sub(r"[\s\-_.]+", " ", str(text).strip().lower()).strip()
    return _TAXON_PREFIX.sub("", key)


def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for org in ORGANISMS.values():
        for alias in (org.name, org.latin, *org.common, org.taxonomy_str):
            key = _key(alias)
            if out.setdefault(key, org.name) != org.name:  # pragma: no cover - a table error
                msg = f"Organism alias {alias!r} names both {out[key]} and {org.name}."
                raise RuntimeError(msg)
        out.setdefault(_key(org.name.replace("_", "")), org.name)  # "danioRerio" written together
    return out


_ALIASES = _aliases()


def known_organisms(*, cellxgene_only: bool = False) -> str:
    """The known organisms as a readable list: ``danio_rerio (zebrafish, 7955), …``."""
    return ", ".join(
        f"{o.name} ({o.common_name}, {o.taxonomy_id})" for o in ORGANISMS.values() if o.cellxgene or not cellxgene_only
    )


def resolve_organism(name: str | int) -> str:
    """Return the Ensembl production name for an organism name, alias or taxonomy ID.

    Parameters
    ----------
    name
        A Latin name in any spelling (``"Homo sapiens"``, ``"homo_sapiens"``, ``"hsapiens"``),
        a common name (``"human"``, ``"zebrafish"``, ``"rhesus macaque"``, ``"cynomolgus"``)
        or an NCBI taxonomy ID (``9606``, ``"9606"``, ``"NCBITaxon:9606"``).

    Returns
    -------
    The production name, e.g. ``"homo_sapiens"``.

    Raises
    ------
    ValueError
        If the name matches no organism, or several (``"macaque"``:
        :class:`AmbiguousOrganismError`); the message lists the known organisms.
    """
    if isinstance(name, bool) or not isinstance(name, (str, int)):
        msg = f"An organism is a name or an NCBI taxonomy ID, not {type(name).__name__} {name!r}."
        raise ValueError(msg)
    key = _key(str(name))
    if key in _ALIASES:
        return _ALIASES[key]
    if key in AMBIGUOUS:
        choices = ", ".join(f"{o} ({ORGANISMS[o].common_name}, {ORGANISMS[o].taxonomy_id})" for o in AMBIGUOUS[key])
        msg = (
            f"Organism {name!r} is ambiguous: it may mean {choices}. Name one of them "
            f"(a Latin name, common name or taxonomy ID). Known organisms: {known_organisms()}."
        )
        raise AmbiguousOrganismError(msg)
    msg = (
        f"Unknown organism {name!r}. Known organisms (Latin name, common name, NCBI taxonomy ID; "
        f"any of them is accepted): {known_organisms()}."
    )
    raise ValueError(msg)


def organism_info(name: str | int) -> Organism:
    """The :class:`Organism` of any accepted name (see :func:`resolve_organism`)."""
    return ORGANISMS[resolve_organism(name)]


def taxonomy_id(organism: str | int) -> int:
    """NCBI taxonomy ID of an organism (any accepted name)."""
    return ORGANISMS[resolve_organism(organism)].taxonomy_id
