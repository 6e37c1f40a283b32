"""Compatibility layer for users of the reference tool `idtrack <https://github.com/theislab/idtrack>`_.

:class:`~idtrack_sc.API` mirrors the reference tool's tutorial interface (``API(local_repository)``,
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
   Track
   SnapshotManager

:class:`HarmonizeFeatures` mirrors the reference tool's multi-dataset harmonizer
(``unify_multiple_anndatas``, ``conversion_failed_identifiers``, …) with its rules by default,
and merges with :func:`idtrack_sc.concat_harmonized` with ``method="idtrack_sc"``.
:class:`~idtrack_sc.compat.Track` is ``api.track`` (``graph``, ``convert``); :class:`~idtrack_sc.compat.SnapshotManager` is what
``get_database_manager`` returns.
"""

from ._api import API, CLASSIFICATION_BINS, SnapshotManager, Track
from ._harmonize import HarmonizeFeatures

__all__ = ["API", "CLASSIFICATION_BINS", "HarmonizeFeatures", "SnapshotManager", "Track"]
