"""The resolver's vocabulary: namespaces, outcomes and reasons, documented in one place."""

from __future__ import annotations

import re

#: Outcomes, as the reference tool bins them.
OUTCOMES = {
    "1:1": "exactly one target",
    "1:n": "several targets the ranking rule could not separate (ambiguous)",
    "1:0": "no target; the reason says why",
}

#: Reasons (column ``reason``). Successful reasons say how the query was read and what it
#: meant; failing ones say why there is no target.
REASONS = {
    # success (1:1 or 1:n)
    "unchanged": "the query is a current identifier of the target gene at the target release",
    "version_stripped": "as unchanged, after removing an Ensembl or RefSeq version suffix (e.g. .18)",
    "par_y": "as unchanged, after removing GENCODE's _PAR_Y suffix (chrY pseudo-autosomal copy)",
    "date_repaired": "as unchanged, after repairing a spreadsheet date (1-Mar -> MARCH1)",
    "suffix_stripped": (
        "as unchanged, after removing a tool-made uniquifying suffix (TBCE-1 when TBCE is in the same batch, "
        "TBCE.1, X_ENSG…)"
    ),
    "separator_removed": "as unchanged, after removing a separator before a final number (ALK-3 -> ALK3)",
    "renamed": "a symbol that was the gene's primary name in another release",
    "previous_symbol": "a symbol listed as a previous symbol of the gene (HGNC, NCBI)",
    "previous_id": "a discontinued identifier (e.g. NCBI gene_history) replaced by the gene's",
    "alias": "an alias or synonym of the gene",
    "from_transcript": "an Ensembl transcript ID, taken to its gene",
    "from_protein": "an Ensembl protein (translation) ID, taken to its gene",
    "history_successor": "the gene ID was replaced; Ensembl's history leads to the target",
    "history_predecessor": "the gene ID is newer than the target release; history leads back",
    "inferred_successor": (
        "the gene ID was replaced; a history link inferred from loci or transcripts (not Ensembl's own "
        "record) leads to the target: see explain() for its evidence, min_evidence for the tiers accepted"
    ),
    "inferred_predecessor": "the gene ID is newer than the target release; an inferred history link leads back",
    # ambiguous (1:n) although one candidate is left
    "candidates_retired": (
        "the query named several genes and only some still exist at the target release; the survivor "
        "is no confident answer, since the others may have been replaced without a recorded successor "
        "(see lost_genes)"
    ),
    # failure (1:0)
    "retired": "the gene was retired with no successor by the target release (see retired_in)",
    "not_yet_created": "the gene did not exist yet at the (earlier) target release",
    "outside_table_scope": (
        "the gene lies on a sequence region (assembly patch or alternate haplotype) that the target "
        "release's table does not cover: it is not known to be retired, nor to exist there"
    ),
    "presence_undetermined": (
        "the target release lies between two covered releases and the gene is in only one of them: "
        "whether it existed at the target release is not known"
    ),
    "unknown_gene": (
        "the query names an Ensembl gene that is in no release the snapshot covers "
        "(e.g. only on alternate haplotypes, or newer than the snapshot)"
    ),
    "no_target_name": "the gene exists at the target release but has no name in the target namespace",
    "not_found": "the identifier is not in the snapshot under any namespace or release",
    "suffix_unconfirmed": (
        "the name ends in -N or .N after a known symbol (TBCE-1, ALK-1) and is not found as it is; nothing says "
        "whether it is a uniquified copy of that symbol or another name written with a separator (ALK-1 is an "
        "alias of ACVRL1 as ALK1), so it is not guessed"
    ),
    "not_a_gene": "a non-gene feature: spike-in (ERCC), antibody capture tag, or similar",
    "empty": "missing value (None, NaN or an empty string)",
    "no_protein_ids": (
        "an Ensembl protein (translation) ID, but the snapshot holds no protein IDs (its sources carry none, "
        "as for the shipped human and mouse snapshots): convert the gene or transcript ID instead"
    ),
    "missing_value": (
        "a missing value written as text (nan, NA, N/A, None, null, inf, …, also made unique: nan-1), "
        "never read as a gene"
    ),
    "not_a_name": (
        "not a gene name: a positional default name ('0', '1', … in a column that is not Entrez-like), or a "
        "common word (yes, no) that matches a symbol only in a case the dataset does not use"
    ),
    "other_organism": "an Ensembl ID of another organism (ENSMUSG… under a human snapshot): use that organism's snapshot",
    # Added later, so kept last: the index stores reasons as codes in this order (the pinned
    # digests stay valid). Ties between readings (1:n): the query read two
    # plausible ways names different genes (see idtrack_sc.resolve._ties).
    "separator_conflict": (
        "the query as written and without the separator before its final number name different genes "
        "(PARP-1: an alias of TIPARP; PARP1: an approved symbol); every candidate is kept"
    ),
    "suffix_conflict": (
        "the query is a name as written and also, ending in -N or .N, a uniquified copy of another gene's name "
        "in the same batch; every candidate is kept"
    ),
    "date_conflict": (
        "the query is a spreadsheet date that several symbols turn into (1-Mar from MARCH1 and MARC1; 3/9 read "
        "month first and day first), or a date as well as a name; every candidate is kept"
    ),
    "case_conflict": (
        "the query exactly as written (case included) is a name of another gene than the one its case-folded "
        "spelling names (mouse AGT, an alias, beside Agt); every candidate is kept"
    ),
    "geneless_symbol_conflict": (
        "the query is HGNC's approved symbol of a gene with no Ensembl gene and another gene's alias or former "
        "name (AAVS1, also an alias of PPP1R12C); the other gene is a candidate, the gene-less one is listed "
        "in lost_genes by its HGNC ID"
    ),
    # failure (1:0)
    "no_ensembl_gene": (
        "the query is an approved HGNC symbol of a gene that has no Ensembl gene (a region, fragile site, many "
        "pseudogenes and RNA genes), and no other gene's name"
    ),
}

#: Outcomes each reason comes with.
REASON_OUTCOMES = {
    reason: (
        "1:0"
        if reason
        in (
            "retired",
            "not_yet_created",
            "outside_table_scope",
            "presence_undetermined",
            "unknown_gene",
            "no_target_name",
            "not_found",
            "no_ensembl_gene",
            "suffix_unconfirmed",
            "not_a_gene",
            "empty",
            "no_protein_ids",
            "missing_value",
            "not_a_name",
            "other_organism",
        )
        else "1:n"
        if reason
        in (
            "candidates_retired",
            "separator_conflict",
            "suffix_conflict",
            "date_conflict",
            "case_conflict",
            "geneless_symbol_conflict",
        )
        else "1:1 or 1:n"
    )
    for reason in REASONS
}

#: Reasons of queries that are no gene name at all (nothing to look up, never merged with each other).
NON_NAME_REASONS = ("empty", "missing_value", "not_a_name")

#: Notes about how a query string was read before lookup (column ``parse``).
PARSE_NOTES = ("as_is", "version_stripped", "par_y", "date_repaired", "suffix_stripped", "separator_removed")

#: Reason -> small integer code (the order of :data:`REASONS`).
REASON_CODE = {reason: i for i, reason in enumerate(REASONS)}

#: Target namespace aliases (lowercased, punctuation removed) -> canonical name.
_NAMESPACE_ALIASES = {
    "ensembl_gene": (
        "ensembl_gene",
        "ensembl",
        "ensembl_gene_id",
        "ensembl gene",
        "ensembl gene id",
        "gene_id",
        "ensg",
    ),
    "symbol": (
        "symbol",
        "hgnc symbol",
        "hgnc_symbol",
        "gene_symbol",
        "gene symbol",
        "gene_name",
        "gene name",
        "mgi symbol",
        "name",
    ),
    "hgnc_id": ("hgnc_id", "hgnc", "hgnc id", "hgnc_hgnc_id"),
    "entrez": ("entrez", "entrezgene", "entrez gene", "entrez_id", "ncbi", "ncbi gene", "ncbi gene id", "geneid"),
    "uniprot": ("uniprot", "uniprot_gn", "uniprot/swissprot", "uniprotkb", "swissprot"),
    "refseq": ("refseq", "refseq_mrna", "refseq mrna"),
    "mgi_id": ("mgi_id", "mgi", "mgd_id", "mgi id"),
}
_NS_LOOKUP = {
    re.sub(r"[\s_/\-]+", "", alias): canonical for canonical, aliases in _NAMESPACE_ALIASES.items() for alias in aliases
}


def canonical_namespace(name: str, available: tuple[str, ...] | None = None) -> str:
    """Canonical target namespace for a user's spelling (``"HGNC Symbol"`` -> ``"symbol"``).

    Parameters
    ----------
    name
        A namespace name, ours or the reference tool's.
    available
        Namespaces the snapshot holds; if given, others are refused.
    """
    if not isinstance(name, str):
        msg = f"Target namespace must be a string such as 'ensembl_gene' or 'symbol', got {name!r}."
        raise TypeError(msg)
    key = re.sub(r"[\s_/\-]+", "", name.strip().lower())
    canonical = _NS_LOOKUP.get(key, name.strip().lower())
    if available is not None and canonical not in available:
        msg = f"Unknown target namespace {name!r}. This snapshot can convert to: {', '.join(available)}."
        raise ValueError(msg)
    return canonical
