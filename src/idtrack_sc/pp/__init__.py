"""Preprocessing: harmonize the features of AnnData / MuData objects (scanpy style)."""

from ._concat import concat_harmonized
from ._harmonize import harmonize_var_names, is_harmonized, var_columns

__all__ = ["concat_harmonized", "harmonize_var_names", "is_harmonized", "var_columns"]
