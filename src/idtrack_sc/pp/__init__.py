"""Preprocessing: harmonize the features of AnnData / MuData objects (scanpy style)."""

from ..record import is_harmonized, var_columns
from ._concat import concat_harmonized
from ._harmonize import harmonize_var_names, on_harmonized

__all__ = ["concat_harmonized", "harmonize_var_names", "is_harmonized", "on_harmonized", "var_columns"]
