"""Getters: tidy tables and reports from harmonized data (scanpy ``get`` style).

.. autosummary::
   :toctree: generated

   mapping_table
   write_report
"""

from ._mapping import MAPPING_COLUMNS, mapping_table
from ._report import report_summary, write_report

__all__ = ["MAPPING_COLUMNS", "mapping_table", "report_summary", "write_report"]
