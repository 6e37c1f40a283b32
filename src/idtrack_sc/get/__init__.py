"""Getters: tidy tables from harmonized data (scanpy ``get`` style).

.. autosummary::
   :toctree: generated

   mapping_table

``write_report`` and ``report_summary`` live in :mod:`idtrack_sc.report` (a report combines
tables and plots, so it sits above both ``get`` and ``pl``).
"""

from ._mapping import MAPPING_COLUMNS, mapping_table

__all__ = ["MAPPING_COLUMNS", "mapping_table"]
