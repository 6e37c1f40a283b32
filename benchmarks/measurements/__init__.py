"""Benchmark measurements; importing this package registers all of them (in report order)."""

from . import peer, reference, resolver, single_cell, snapshot  # noqa: F401
