"""Parameter descriptions shared by :func:`~idtrack_sc.pp.harmonize_var_names` and :func:`~idtrack_sc.concat_harmonized`.

Each snippet is one numpydoc parameter entry (name line, then its description indented by
four spaces). A docstring names a snippet on a line of its own, ``{doc_snapshot}``, and
:func:`doc_params` puts the entry there at that line's indentation. Other braces in the
docstring (``var['{key_added}_original']``) are left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    F = TypeVar("F", bound=Callable)

doc_snapshot = """\
snapshot
    A :class:`~idtrack_sc.Snapshot`, a snapshot file, or ``"default"`` for the small
    human subset embedded in the package (demos, tests)."""

doc_organism = """\
organism
    With ``snapshot=None``: use the newest cached snapshot of this organism from the
    registry (see :func:`~idtrack_sc.fetch_snapshot`). With a snapshot: checked against it."""

doc_release = """\
release
    Target Ensembl release (default: the snapshot's newest). Pin it for reproducibility."""

doc_to = """\
to
    Target namespace: ``"ensembl_gene"`` (default), ``"symbol"``, ``"hgnc_id"``, ``"entrez"``, …"""

doc_min_evidence = """\
min_evidence
    Weakest evidence tier of inferred history links followed (see
    :func:`~idtrack_sc.convert`): ``"high"``, ``"medium"`` (default), ``"low"`` or ``"none"``
    (Ensembl's own history only)."""

doc_ambiguous = """\
ambiguous
    Features whose identifier has several candidates (``1:n``): ``"best"`` applies the
    documented ranking rule and treats ties it cannot break like unmapped features;
    ``"drop"`` removes every ambiguous feature; ``"all"`` copies the feature to every
    candidate."""

doc_duplicates = """\
duplicates
    Several features that become one (n→1): ``"sum"`` their counts in ``X`` and every
    layer (sparse stays sparse, dask stays lazy; integers narrower than 64 bits and
    ``float16`` are summed in ``int64`` / ``float32`` so no sum can overflow, recorded in
    ``uns[key_added]["dtype_promoted"]``), keep the ``"first"`` (the others are listed
    with the dropped identifiers), or ``"make_unique"`` their names (``X``, ``X-1``, …).
    With ``"sum"``, numeric ``varm`` arrays are summed over the merged features too (``varp``
    over both axes); other ``varm`` / ``varp`` entries (tables, text) are dropped, and each
    entry's fate is recorded in ``uns[key_added]["var_aligned"]``.
    The members of a merged feature are listed in a fixed order (the one already named
    as the result, then by reason and identifier), whatever the order of the columns."""

doc_symbol_key = """\
symbol_key
    ``var`` column for the display symbol at the target release. Not a column the record
    writes (``{key_added}_original``, …), no ``/``. A column of that name the dataset
    already has is kept as ``var['{symbol_key}_before_{key_added}']`` if its values differ
    (with a warning), unless it is ``id_key`` (its values are in
    ``var['{key_added}_original']``)."""

doc_key_added = """\
key_added
    Key in ``uns`` and prefix of the ``var`` columns: a non-empty name without ``/``, not
    made of dots only. ``var`` columns of that prefix without the ``uns`` record (an
    earlier harmonization whose record was lost) are refused rather than overwritten."""

doc_pair_key = """\
pair_key
    A second identifier column of ``var`` (Ensembl IDs beside symbol ``var_names``, as
    10x ``features.tsv`` gives, or symbols beside IDs). ``"auto"`` (default) uses the
    first of ``gene_ids``, ``gene_id``, ``ensembl_id``, … (beside symbols) or
    ``gene_symbols``, ``feature_name``, ``gene_name``, … (beside IDs) that holds the
    other kind of identifier; ``None`` uses one column only. Both columns are resolved:
    the ID decides, the symbol breaks ties among the ID's candidates and stands in where
    the ID is unknown to the snapshot (where both name different genes, see
    ``pair_conflict``), and each feature's agreement is written to
    ``var['{key_added}_pair']`` (:data:`idtrack_sc.record.PAIR_STATUS`: ``agree``,
    ``disagree``, ``tie_broken``, ``id_only``, ``symbol_only``, ``id_missing``,
    ``symbol_missing``, ``neither``)."""

doc_pair_conflict = """\
pair_conflict
    With two identifier columns, a feature whose ID and symbol name different genes
    (``CD3E`` beside TP53's Ensembl ID; ``var['{key_added}_pair']`` says ``disagree``):
    ``"tie"`` (default) makes it a tie of both genes (outcome ``1:n``, reason
    ``pair_conflict``), which ``ambiguous`` handles: with ``"best"`` it is kept apart under
    its original identifier, never merged into either gene; ``"id"`` uses the ID column's
    gene, ``"symbol"`` the symbol column's. A warning gives the count; every conflict is
    listed in ``uns[key_added]["pair_disagreements"]``."""
doc_check_organism = """\
check_organism
    Before anything is changed, refuse identifiers that fit another organism far better
    than the snapshot's (:class:`~idtrack_sc.resolve.OrganismMismatchError`, naming the
    organism and the evidence): Ensembl IDs of another species (``ENSMUSG…`` under a human
    snapshot), or symbols written as another organism's nomenclature writes them (mouse
    ``Cd3e``, ``Actb`` under human) and found there far more often, measured on a sample
    of at most 1,000 names against the snapshots available without network (see
    :func:`idtrack_sc.resolve.check_organism`). ``False`` converts them as the snapshot's
    identifiers anyway (the behaviour before this check)."""

#: Every snippet, by the name a docstring uses for it.
SNIPPETS = {name: value for name, value in dict(globals()).items() if name.startswith("doc_")}


def doc_params(**snippets: str) -> Callable[[F], F]:
    """Put the ``snippets`` into the decorated object's docstring, each at its placeholder's indentation.

    Every placeholder ``{name}`` of the docstring must be given, and every snippet given must
    be used: a misspelt name fails at import, not silently in the rendered docs.
    """

    def decorate(obj: F) -> F:
        doc = obj.__doc__ or ""
        for name, text in snippets.items():
            pattern = re.compile(rf"^([ \t]*)\{{{name}\}}[ \t]*$", re.MULTILINE)
            if not pattern.search(doc):
                msg = f"{obj.__qualname__}'s docstring has no placeholder {{{name}}} on a line of its own."
                raise ValueError(msg)
            doc = pattern.sub(
                lambda m, text=text: "\n".join(m.group(1) + line if line else line for line in text.splitlines()), doc
            )
        left = re.findall(r"\{(doc_\w+)\}", doc)
        if left:
            msg = f"{obj.__qualname__}'s docstring names snippets that were not given: {left}."
            raise ValueError(msg)
        obj.__doc__ = doc
        return obj

    return decorate
