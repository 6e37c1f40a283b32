"""Compatibility layer for users of the reference tool `idtrack <https://github.com/theislab/idtrack>`_.

:class:`API` mirrors the reference tool's tutorial interface (``API(local_repository)``,
``resolve_organism``, ``build_graph``, ``convert_identifier``, ``convert_identifier_multiple``,
``classify_multiple_conversion``, ``print_binned_conversion``, …) and its result dictionaries,
so existing notebooks run with a changed import. It is thin: every answer comes from
:func:`idtrack_sc.convert` on a snapshot; nothing here resolves identifiers itself.

.. code-block:: python

    from idtrack_sc.compat import API

    api = API(local_repository="./idtrack_cache")
    organism, release = api.resolve_organism("human")
    api.build_graph(organism_name=organism, snapshot_release=release)
    results = api.convert_identifier_multiple(["TP53", "BRCA1"], final_database="HGNC Symbol")
    api.print_binned_conversion(api.classify_multiple_conversion(results))

.. autosummary::
   :toctree: generated

   API
   HarmonizeFeatures

:class:`HarmonizeFeatures` mirrors the reference tool's multi-dataset harmonizer
(``unify_multiple_anndatas``, ``conversion_failed_identifiers``, …) on
:func:`idtrack_sc.concat_harmonized`.
"""

from ._api import API, CLASSIFICATION_BINS
from ._harmonize import HarmonizeFeatures

__all__ = ["API", "CLASSIFICATION_BINS", "HarmonizeFeatures"]
