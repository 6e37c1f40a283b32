"""Mixed, realistic identifier queries drawn from the real source tables, with a fixed seed.

The pools come from the tables ``scripts/gather_real_data.py`` extracts into
``scripts/work/<organism>/`` (GENCODE / Ensembl gene tables of several releases and the HGNC or
MGI nomenclature table), never from the snapshot under test, so the queries are independent
of what the snapshot happens to hold.

Every query carries a *kind* label (see :data:`HUMAN_MIX`), so agreement and outcome can be
reported per kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

SEED = 20250614

#: Share of each query kind in the human mix (sums to 1).
HUMAN_MIX: dict[str, float] = {
    "ensembl_current_versioned": 0.22,  # ENSG….16 as in the release-114 table
    "ensembl_current_unversioned": 0.06,  # ENSG…
    "ensembl_old_version": 0.04,  # current gene, older version (ENSG….15 from release 104/110)
    "ensembl_retired": 0.05,  # in release 84 or 104, gone by 114 (versioned where known)
    "symbol_current": 0.30,  # release-114 display name
    "symbol_case_variant": 0.03,  # current symbol in lower / title case
    "symbol_old_ensembl": 0.05,  # an older release's display name no longer current in 114
    "symbol_previous_hgnc": 0.04,  # HGNC previous symbol
    "alias_hgnc": 0.05,  # HGNC alias symbol
    "entrez": 0.04,  # 7157
    "geneid_prefix": 0.02,  # GeneID:7157
    "hgnc_id": 0.04,  # HGNC:11998
    "spreadsheet_date": 0.01,  # 1-Mar, Sep-2
    "junk": 0.05,  # random text, spike-ins, antibody tags, empty strings
}

#: Share of each query kind in the mouse mix (sums to 1).
MOUSE_MIX: dict[str, float] = {
    "ensembl_current_versioned": 0.25,
    "ensembl_current_unversioned": 0.08,
    "ensembl_old_version": 0.04,
    "ensembl_retired": 0.05,
    "symbol_current": 0.30,
    "symbol_case_variant": 0.03,
    "symbol_old_ensembl": 0.05,
    "alias_mgi": 0.09,  # MGI synonyms (the MGI table gathered here has no previous-symbol column filled)
    "mgi_id": 0.06,
    "junk": 0.05,
}

_MONTH_OF = {"MARCH": "Mar", "SEPT": "Sep", "DEC": "Dec", "OCT": "Oct", "FEB": "Feb", "APR": "Apr", "NOV": "Nov"}


@dataclass
class QuerySet:
    """A batch of queries with the kind of each one.

    Attributes
    ----------
    queries
        Object array of ``str``.
    kinds
        Object array, the kind label of each query (a key of the mix).
    organism
        ``homo_sapiens`` or ``mus_musculus``.
    seed
        The random seed the set was drawn with.
    pool_sizes
        Number of distinct identifiers each kind was drawn from.
    """

    queries: np.ndarray
    kinds: np.ndarray
    organism: str
    seed: int
    pool_sizes: dict[str, int]

    def __len__(self) -> int:
        return len(self.queries)

    def counts(self) -> dict[str, int]:
        """Number of queries per kind, in mix order."""
        values, counts = np.unique(self.kinds, return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=0)


def _split(values: pd.Series) -> np.ndarray:
    parts = values[values != ""].str.split("|", regex=False).explode().str.strip()
    return parts[parts != ""].unique()


def _gene_tables(folder: Path) -> dict[int, pd.DataFrame]:
    tables = {}
    for path in sorted(folder.glob("gene_table_e*.tsv")):
        release = int(re.search(r"_e(\d+)\.tsv$", path.name).group(1))
        tables[release] = _read(path)
    return tables


def _versioned(table: pd.DataFrame) -> pd.Series:
    ids = table["gene_id"].where(table["gene_version"] == "", table["gene_id"] + "." + table["gene_version"])
    return ids.drop_duplicates()


def _ensembl_pools(tables: dict[int, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Pools of Ensembl gene IDs: current (versioned or not), old versions, retired."""
    latest = max(tables)
    cur = tables[latest]
    cur_ids = set(cur["gene_id"])
    cur_versioned = set(_versioned(cur))
    old_versions: set[str] = set()
    retired: dict[str, str] = {}  # gene -> most informative form (versioned if known)
    for release in sorted(tables):
        if release == latest:
            continue
        table = tables[release]
        for gid, form in zip(table["gene_id"], _versioned(table).reindex(table.index).fillna(""), strict=True):
            if gid in cur_ids:
                if form and "." in form and form not in cur_versioned:
                    old_versions.add(form)
            elif release >= 84 and form and ("." in form or gid not in retired):
                retired[gid] = form
    return {
        "ensembl_current_versioned": np.array(sorted(x for x in cur_versioned if "." in x), dtype=object),
        "ensembl_current_unversioned": np.array(sorted(cur_ids), dtype=object),
        "ensembl_old_version": np.array(sorted(old_versions), dtype=object),
        "ensembl_retired": np.array(sorted(retired.values()), dtype=object),
    }


def _symbol_pools(tables: dict[int, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Current display names and older display names that are not current any more."""
    latest = max(tables)
    current = tables[latest]["gene_name"]
    current = np.array(sorted(set(current[current != ""])), dtype=object)
    now_upper = {s.upper() for s in current}
    old: set[str] = set()
    for release, table in tables.items():
        if release == latest:
            continue
        names = table["gene_name"]
        old.update(n for n in names[names != ""] if n.upper() not in now_upper)
    return current, np.array(sorted(old), dtype=object)


def _case_variants(symbols: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    picked = rng.choice(symbols, size=n)
    lower = rng.random(n) < 0.5
    return np.array([s.lower() if lo else s.capitalize() for s, lo in zip(picked, lower, strict=True)], dtype=object)


def _date_pool(names: np.ndarray) -> np.ndarray:
    """Spreadsheet-mangled forms of the real symbols of the families spreadsheets turn into dates."""
    out = set()
    pattern = re.compile(r"^(MARCH|SEPT|DEC|OCT|FEB|APR|NOV)(\d{1,2})$")
    for name in names:
        m = pattern.match(str(name).upper())
        if m:
            month, day = _MONTH_OF[m.group(1)], int(m.group(2))
            out.update({f"{day}-{month}", f"{month}-{day}"})
    return np.array(sorted(out), dtype=object)


def _junk(rng: np.random.Generator, n: int) -> np.ndarray:
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    fixed = np.array(
        [
            "",
            "  ",
            "NA",
            "nan",
            "---",
            "ERCC-00002",
            "ERCC-00130",
            "CD3_TotalSeqB",
            "CD19-ADT",
            "HTO_1",
            "Hashtag3",
            "CMO301",
            "7157x",
            "GeneID:",
            "ENSG0000",
            "HGNC:",
        ],
        dtype=object,
    )
    out = np.empty(n, dtype=object)
    random_text = rng.random(n) < 0.7
    lengths = rng.integers(4, 12, size=n)
    for i in range(n):
        if random_text[i]:
            out[i] = "".join(rng.choice(letters, size=lengths[i])) + "Q"  # Q-suffix: never a real symbol
        else:
            out[i] = fixed[rng.integers(len(fixed))]
    return out


def human_pools(work: Path) -> dict[str, np.ndarray]:
    """Distinct identifiers per human query kind, from ``work/homo_sapiens``."""
    folder = work / "homo_sapiens"
    tables = _gene_tables(folder)
    hgnc = _read(folder / "hgnc_complete_set.txt")
    pools = _ensembl_pools(tables)
    current, old = _symbol_pools(tables)
    entrez = set()
    for table in tables.values():
        if "entrez_id" in table:
            entrez.update(e for e in table["entrez_id"] if e)
    entrez = np.array(sorted(entrez), dtype=object)
    prev = _split(hgnc["prev_symbol"])
    pools.update(
        {
            "symbol_current": current,
            "symbol_case_variant": current,
            "symbol_old_ensembl": old,
            "symbol_previous_hgnc": np.array(sorted(prev), dtype=object),
            "alias_hgnc": np.array(sorted(_split(hgnc["alias_symbol"])), dtype=object),
            "entrez": entrez,
            "geneid_prefix": np.array(["GeneID:" + e for e in entrez], dtype=object),
            "hgnc_id": np.array(sorted(hgnc["hgnc_id"].unique()), dtype=object),
            "spreadsheet_date": _date_pool(np.concatenate([prev, old, current])),
        }
    )
    return pools


def mouse_pools(work: Path) -> dict[str, np.ndarray]:
    """Distinct identifiers per mouse query kind, from ``work/mus_musculus``."""
    folder = work / "mus_musculus"
    tables = _gene_tables(folder)
    mgi = _read(folder / "MRK_List2.rpt")  # MGI's marker report (scripts/gather_real_data.py)
    pools = _ensembl_pools(tables)
    current, old = _symbol_pools(tables)
    pools.update(
        {
            "symbol_current": current,
            "symbol_case_variant": current,
            "symbol_old_ensembl": old,
            "alias_mgi": np.array(sorted(_split(mgi["Marker Synonyms (pipe-separated)"])), dtype=object),
            "mgi_id": np.array(sorted(mgi["MGI Accession ID"].unique()), dtype=object),
        }
    )
    return pools


def draw(pools: dict[str, np.ndarray], mix: dict[str, float], n: int, *, organism: str, seed: int = SEED) -> QuerySet:
    """Draw ``n`` queries: ``round(share * n)`` of each kind (with replacement), then shuffle.

    Parameters
    ----------
    pools
        Distinct identifiers per kind (:func:`human_pools`, :func:`mouse_pools`).
    mix
        Share of each kind.
    n
        Number of queries.
    organism
        Recorded in the result.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same queries.

    Returns
    -------
    The query set.
    """
    rng = np.random.default_rng(seed)
    sizes = {kind: round(share * n) for kind, share in mix.items()}
    largest = max(sizes, key=sizes.get)
    sizes[largest] += n - sum(sizes.values())
    queries, kinds = [], []
    for kind, size in sizes.items():
        if kind == "junk":
            part = _junk(rng, size)
        elif kind == "symbol_case_variant":
            part = _case_variants(pools[kind], rng, size)
        else:
            pool = pools[kind]
            if len(pool) == 0:
                msg = f"No {kind} identifiers in the source tables."
                raise ValueError(msg)
            part = rng.choice(pool, size=size)
        queries.append(np.asarray(part, dtype=object))
        kinds.append(np.full(size, kind, dtype=object))
    order = rng.permutation(n)
    return QuerySet(
        queries=np.concatenate(queries)[order],
        kinds=np.concatenate(kinds)[order],
        organism=organism,
        seed=seed,
        pool_sizes={k: len(pools.get(k, ())) for k in mix if k != "junk"},
    )
