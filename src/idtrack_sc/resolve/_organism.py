"""Whose genes are these? The fit of a list of feature names to the snapshot's organism.

Lookups ignore case, and many gene symbols are shared between organisms up to case
(mouse ``Cd3e``, human ``CD3E``): mouse names harmonized with a human snapshot mostly
"resolve", to the wrong organism's genes. Three cheap signals tell organisms apart:

* **Ensembl ID prefixes** (public Ensembl facts): ``ENSG…`` is human, ``ENSMUSG…`` mouse,
  ``ENSRNOG…`` rat; the snapshot's own prefix is read from its genes table.
* **How symbols are written**: HGNC writes human symbols in upper case (``CD3E``,
  ``C1orf112``), MGI and RGD write mouse and rat symbols with lower-case letters (``Cd3e``,
  ``4732440D04Rik``). A sample written in the snapshot organism's style passes with no lookup.
* **Hit rates** of a sample (at most :data:`SAMPLE` names, evenly spaced) against the names
  of the human and mouse snapshots (:data:`COMPARED`: the organisms whose names datasets are
  most often mistaken for; both ship with the package), written exactly as the sources write
  them and ignoring case. The other shipped organisms are not read for the check: the
  symbols of primates, pig and rabbit are HGNC's (no sample tells them from human), and reading
  thirteen snapshots would cost seconds on every first call. Another
  organism *fits far better* when it is ahead on both: by at least :data:`MIN_EXACT_GAIN` of
  the sample written exactly as its sources write them, and by at least
  :data:`MIN_ANY_CASE_GAIN` ignoring case (so mouse symbols written in upper case, which
  fit human names as written but mouse names better ignoring case, are not refused either way).

No resolution index of another organism is built: only its names table is read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._index import real_names, upper_strings
from ._non_names import MISSING_VALUE
from ._parse import as_query_strings
from ._snapshot_cache import cached_per_snapshot

if TYPE_CHECKING:
    from ..snapshot import Snapshot

logger = logging.getLogger(__name__)

#: Ensembl's species codes (the letters between ``ENS`` and the feature type), public facts.
ENSEMBL_PREFIXES = {
    "": "homo_sapiens",
    "MUS": "mus_musculus",
    "RNO": "rattus_norvegicus",
    "DAR": "danio_rerio",
    "GAL": "gallus_gallus",
    "SSC": "sus_scrofa",
    "BTA": "bos_taurus",
    "MMU": "macaca_mulatta",
    "MFA": "macaca_fascicularis",
    "PTR": "pan_troglodytes",
    "GGO": "gorilla_gorilla",
    "CJA": "callithrix_jacchus",
    "MIC": "microcebus_murinus",
    "OCU": "oryctolagus_cuniculus",
    "CAF": "canis_lupus_familiaris",
    "XET": "xenopus_tropicalis",
}
#: An Ensembl stable ID of any species: its species code and feature type.
ENSEMBL_ID = r"^ENS(?P<code>[A-Z]*?)(?P<type>[GTPE])\d{11}(?:\.\d+)?(?:_PAR_Y)?$"
#: Gene, transcript, protein and transposable-element IDs of the model-organism databases whose
#: IDs Ensembl uses as its own (FlyBase ``FBgn0000008``, ``FBtr…``, ``FBpp…``, ``FBti…``; WormBase
#: ``WBGene00000003``), upper-cased as keys are; the "code" of such an ID is the database's name.
MOD_IDS = {
    "FlyBase": (r"^FB(?:GN|TR|PP|TI)\d{7}$", "drosophila_melanogaster", "FBgn"),
    "WormBase": (r"^WBGENE\d{8}$", "caenorhabditis_elegans", "WBGene"),
}
#: How each organism's nomenclature writes symbols: ``"upper"`` (HGNC) or ``"mixed"`` (MGI, RGD).
#: Measured on the shipped Ensembl 114 names: below 3 % of the primates', pig's and rabbit's
#: lettered symbols have a lower-case letter (HGNC-style names), 87 % of rat's, 99.7 % of mouse's;
#: zebrafish, fly and worm mix both (57-62 %) and have no style.
CASE_STYLE = {
    "homo_sapiens": "upper",
    "mus_musculus": "mixed",
    "rattus_norvegicus": "mixed",
    **dict.fromkeys(
        (
            "callithrix_jacchus",
            "gorilla_gorilla",
            "macaca_fascicularis",
            "macaca_mulatta",
            "microcebus_murinus",
            "oryctolagus_cuniculus",
            "pan_troglodytes",
            "sus_scrofa",
        ),
        "upper",
    ),
}
#: Organisms whose snapshots a sample is compared with (when available without network).
COMPARED = ("homo_sapiens", "mus_musculus")
#: Names sampled (evenly spaced, so the check is deterministic and cheap).
SAMPLE = 1000
#: Fewer sampled names than this (of a kind): not enough to judge; not checked.
MIN_NAMES = 20
#: A sample "in the organism's style" has at least this fraction of its lettered names in it.
MIN_STYLE = 0.8
#: Another organism fits far better when it is ahead by these fractions of the sample.
MIN_EXACT_GAIN = 0.5
MIN_ANY_CASE_GAIN = 0.05
#: Ensembl IDs of another organism, as a fraction of the sampled Ensembl IDs, that are refused.
MIN_FOREIGN_IDS = 0.5


class OrganismMismatchError(ValueError):
    """The identifiers fit another organism's snapshot far better than the one requested."""


def _codes(keys: pa.Array) -> pa.Array:
    """The species code of each upper-cased key: Ensembl's, or a :data:`MOD_IDS` database name; else null."""
    codes = pc.struct_field(pc.extract_regex(keys, ENSEMBL_ID), "code")
    for code, (pattern, _, _) in MOD_IDS.items():
        hit = pc.fill_null(pc.match_substring_regex(keys, pattern), False)
        codes = pc.if_else(hit, pa.scalar(code, pa.string()), codes)
    return codes


def species_codes(keys: pa.Array) -> np.ndarray:
    """The species code of each key: Ensembl's (``"DAR"`` for ``ENSDARG…``) or ``"FlyBase"`` / ``"WormBase"``.

    ``None`` where the key is no gene ID of a known pattern.
    """
    return _codes(keys).to_numpy(zero_copy_only=False)


def id_kind(code: str) -> str:
    """What IDs of a species code are, for messages: ``"Ensembl IDs"``, ``"FlyBase IDs"``."""
    return f"{code} IDs" if code in MOD_IDS else "Ensembl IDs"


def id_prefix(code: str) -> str:
    """How gene IDs of a species code begin, for messages: ``ENSDARG…``, ``FBgn…``."""
    return f"{MOD_IDS[code][2]}…" if code in MOD_IDS else f"ENS{code}G…"


@cached_per_snapshot
def own_codes(snapshot: Snapshot) -> frozenset[str]:
    """The Ensembl species codes of the snapshot's own gene IDs (empty: not an Ensembl organism)."""
    ids = pa.array(pd.unique(snapshot.genes["gene_id"].astype(str)), type=pa.string())
    codes = species_codes(pc.utf8_upper(ids))
    found = pd.Series(codes).dropna()
    return frozenset(found.unique()) if len(found) else frozenset()


def foreign_ensembl_ids(keys: pa.Array, snapshot: Snapshot) -> np.ndarray:
    """Whether each normalized key is an Ensembl ID of another organism than the snapshot's."""
    own = own_codes(snapshot)
    if not own or len(keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    codes = _codes(keys)
    foreign = pc.and_(pc.is_valid(codes), pc.invert(pc.is_in(codes, value_set=pa.array(sorted(own)))))
    return pc.fill_null(foreign, False).to_numpy(zero_copy_only=False)


def organism_of_code(code: str) -> str:
    """The organism a species code belongs to (or a description of the prefix)."""
    if code in MOD_IDS:
        return MOD_IDS[code][1]
    return ENSEMBL_PREFIXES.get(code, f"the organism of Ensembl prefix ENS{code}")


@cached_per_snapshot
def _name_sets(snapshot: Snapshot) -> tuple[pd.Index, pd.Index]:
    """Every name value of the snapshot (any namespace) as written, and upper-cased."""
    values = real_names(snapshot)["value"].astype(str).unique()
    exact = pd.Index(values, dtype=object)
    return exact, pd.Index(pd.unique(upper_strings(values)), dtype=object)


def _sample(values: np.ndarray) -> np.ndarray:
    """Trimmed non-missing names, at most :data:`SAMPLE` of them, evenly spaced."""
    arr = pa.array(as_query_strings(values), type=pa.string(), from_pandas=True)
    trimmed = pc.utf8_trim_whitespace(arr)
    upper = pc.utf8_upper(trimmed)
    keep = pc.and_(
        pc.fill_null(pc.not_equal(trimmed, ""), False),
        pc.invert(pc.fill_null(pc.match_substring_regex(upper, MISSING_VALUE), True)),
    )
    names = trimmed.filter(keep).to_numpy(zero_copy_only=False).astype(object)
    if len(names) > SAMPLE:
        names = names[np.linspace(0, len(names) - 1, SAMPLE).round().astype(np.int64)]
    return names


def _in_style(names: np.ndarray, style: str) -> bool | None:
    """Whether the lettered names are written in ``style`` (``None``: too few lettered names)."""
    arr = pa.array(names, type=pa.string())
    lettered = pc.match_substring_regex(arr, r"[A-Za-z]").to_numpy(zero_copy_only=False)
    if lettered.sum() < MIN_NAMES:
        return None
    lowered = pc.match_substring_regex(pc.replace_substring(arr, "orf", ""), r"[a-z]").to_numpy(zero_copy_only=False)
    share = lowered[lettered].mean()
    return bool(share <= 1 - MIN_STYLE) if style == "upper" else bool(share >= MIN_STYLE)


def _other_snapshots(snapshot: Snapshot) -> list[Snapshot]:
    """The newest snapshot of each other organism of :data:`COMPARED` that is available without network."""
    from ..registry import fetch_snapshot, list_snapshots

    try:
        listed = list_snapshots()
    except (OSError, ValueError) as err:  # pragma: no cover - an unreadable user registry
        logger.info("organism check: no registry to compare with (%s)", err)
        return []
    listed = listed[
        listed["release"].notna() & (listed["organism"] != snapshot.organism) & listed["organism"].isin(COMPARED)
    ]
    out = []
    for organism, rows in listed.groupby("organism", sort=True):
        newest = rows.loc[rows["release"].idxmax()]
        if not bool(newest["cached"]):
            continue
        try:
            out.append(fetch_snapshot(organism, int(newest["release"]), progressbar=False))
        except (OSError, ValueError) as err:  # pragma: no cover - a damaged cache file
            logger.info("organism check: %s not compared (%s)", organism, err)
    return out


def organism_fit(names: object, snapshot: Snapshot, *, others: list[Snapshot] | None = None) -> pd.DataFrame:
    """How well a sample of ``names`` fits the snapshot's organism and every other one available.

    Parameters
    ----------
    names
        Feature names (any sequence); at most ``SAMPLE`` of them (a module constant), evenly spaced, are used.
    snapshot
        The requested snapshot.
    others
        Snapshots to compare with; default the newest of every other organism available
        without network among the human and mouse snapshots (both ship with the package).

    Returns
    -------
    One row per organism (the requested one first), with ``n`` (names sampled, Ensembl IDs
    excepted), ``exact`` (fraction written exactly as a name of that snapshot) and
    ``any_case`` (fraction found ignoring case).
    """
    sample = _sample(np.asarray(names, dtype=object))
    codes = species_codes(pc.utf8_upper(pa.array(sample, type=pa.string())))
    sample = sample[pd.isna(codes)]
    upper = upper_strings(sample) if len(sample) else sample
    rows = {}
    for snap in [snapshot, *(others if others is not None else _other_snapshots(snapshot))]:
        exact, any_case = _name_sets(snap)
        rows[snap.organism] = {
            "n": len(sample),
            "exact": float((exact.get_indexer(sample) >= 0).mean()) if len(sample) else 0.0,
            "any_case": float((any_case.get_indexer(upper) >= 0).mean()) if len(sample) else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("organism")


def check_organism(names: object, snapshot: Snapshot, *, label: str = "The identifiers", hint: str = "") -> None:
    """Refuse names that fit another organism far better than the snapshot's (see the module doc).

    Parameters
    ----------
    names
        The identifiers about to be converted.
    snapshot
        The requested snapshot.
    label
        What the names are, for the message (``"AnnData"``, a dataset's name).
    hint
        How to proceed, in the caller's terms, replacing the default advice; ``{organism}``
        (the organism the names fit) and ``{target}`` (the snapshot's) are filled in.

    Raises
    ------
    OrganismMismatchError
        Naming the organism the names fit and the evidence.
    """
    sample = _sample(np.asarray(names, dtype=object))
    if len(sample) < MIN_NAMES:
        return

    def advice(organism: str) -> str:
        text = hint or (
            "Use that organism's snapshot (organism={organism!r}), map the genes to {target} with "
            "idtrack_sc.convert_orthologs, or pass check_organism=False to convert them as {target} identifiers "
            "anyway."
        )
        return text.format(organism=organism, target=snapshot.organism)

    codes = species_codes(pc.utf8_upper(pa.array(sample, type=pa.string())))
    is_id = pd.notna(codes)
    own = own_codes(snapshot)
    if is_id.sum() >= MIN_NAMES and own:
        foreign = pd.Series(codes[is_id])
        foreign = foreign[~foreign.isin(list(own))]
        if len(foreign) / is_id.sum() >= MIN_FOREIGN_IDS:
            code = foreign.value_counts().index[0]
            organism = organism_of_code(code)
            msg = (
                f"{label}: {len(foreign):,} of {int(is_id.sum()):,} sampled gene IDs are {id_kind(code)} of {organism} "
                f"({id_prefix(code)}), but the snapshot is for {snapshot.organism} "
                f"({', '.join(id_prefix(c) for c in sorted(own))}). " + advice(organism)
            )
            raise OrganismMismatchError(msg)
    symbols = sample[~is_id]
    if len(symbols) < MIN_NAMES:
        return
    style = CASE_STYLE.get(snapshot.organism)
    if style is not None and _in_style(symbols, style):
        return
    fit = organism_fit(symbols, snapshot)
    mine = fit.iloc[0]
    for organism, row in fit.iloc[1:].iterrows():
        if (
            row["exact"] >= MIN_EXACT_GAIN
            and row["exact"] - mine["exact"] >= MIN_EXACT_GAIN
            and row["any_case"] - mine["any_case"] >= MIN_ANY_CASE_GAIN
        ):
            msg = (
                f"{label}: the names look like {organism} genes, not {snapshot.organism} ones: of {int(row['n']):,} "
                f"sampled names, {row['exact']:.0%} are written exactly as {organism} names "
                f"({row['any_case']:.0%} ignoring case), {mine['exact']:.0%} as {snapshot.organism} names "
                f"({mine['any_case']:.0%} ignoring case). " + advice(organism)
            )
            raise OrganismMismatchError(msg)
    logger.info("organism check: %s fits %s (%s)", label, snapshot.organism, fit.to_dict(orient="index"))
