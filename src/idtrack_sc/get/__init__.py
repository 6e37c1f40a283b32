"""Getters: tidy tables from harmonized data (scanpy ``get`` style).

.. autosummary::
   :toctree: generated

   mapping_table

``write_report`` and ``report_summary`` live in :mod:`idtrack_sc.report` (a report combines
tables and plots, so it sits above both ``get`` and ``pl``); ``idtrack_sc.get.write_report``
and ``idtrack_sc.get.report_summary`` keep working, forwarded on first use.
"""

import importlib

from ._mapping import MAPPING_COLUMNS, mapping_table

__all__ = ["MAPPING_COLUMNS", "mapping_table"]

#: Names that moved to :mod:`idtrack_sc.report`, forwarded so existing code keeps working.
_MOVED_TO_REPORT = ("report_summary", "write_report")


def __getattr__(name: str):
    if name in _MOVED_TO_REPORT:
        # imported on use: report sits above get (it uses get and pl)
        return getattr(importlib.import_module("idtrack_sc.report"), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*__all__, *_MOVED_TO_REPORT])
