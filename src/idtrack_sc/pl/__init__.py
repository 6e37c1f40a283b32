"""Plots of harmonization results (scanpy ``pl`` style).

matplotlib is imported when a plot is drawn, not when this module is imported.

.. autosummary::
   :toctree: generated

   harmonization_summary
"""

from ._summary import PALETTE, harmonization_summary

__all__ = ["PALETTE", "harmonization_summary"]
