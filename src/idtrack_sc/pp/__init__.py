"""Preprocessing: harmonize the features of AnnData / MuData objects (scanpy style)."""

from ..record import is_harmonized, var_columns
from ._concat import check_inputs as check_concat_inputs
from ._concat import concat_harmonized
from ._harmonize import harmonize_var_names, on_harmonized
from ._orthologs import convert_orthologs
from ._reproduce import apply_record, check_record

__all__ = [
    "apply_record",
    "check_record",
    "check_concat_inputs",
    "concat_harmonized",
    "convert_orthologs",
    "harmonize_var_names",
    "is_harmonized",
    "on_harmonized",
    "var_columns",
]
