"""Shared parameter descriptions: written once, rendered in both public functions' docstrings."""

from __future__ import annotations

import inspect

import pytest

import idtrack_sc as its
from idtrack_sc.pp._docs import SNIPPETS, doc_params


@pytest.mark.parametrize("func", [its.pp.harmonize_var_names, its.concat_harmonized])
def test_public_docstrings_hold_every_shared_entry(func):
    doc = inspect.getdoc(func)
    assert "{doc_" not in doc
    for text in SNIPPETS.values():
        name, *description = text.splitlines()
        at = doc.index(f"\n{name}\n")  # a parameter entry at numpydoc's indentation
        assert doc[at + len(name) + 2 :].startswith("\n".join(description))
    assert "{key_added}" in doc  # other braces are left alone


def test_misspelt_or_missing_placeholder_fails_at_decoration():
    def f():
        """Do.

        Parameters
        ----------
        {doc_snapshot}
        {doc_relase}
        """

    with pytest.raises(ValueError, match="doc_relase"):
        doc_params(doc_snapshot=SNIPPETS["doc_snapshot"])(f)
    with pytest.raises(ValueError, match="no placeholder"):
        doc_params(doc_to=SNIPPETS["doc_to"])(f)
