"""Preprocessing: harmonize the features of AnnData / MuData objects (scanpy style)."""

from ._harmonize import harmonize_var_names, is_harmonized, var_columns

__all__ = ["harmonize_var_names", "is_harmonized", "var_columns"]
