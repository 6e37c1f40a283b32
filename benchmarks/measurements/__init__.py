"""Benchmark measurements; importing this package registers all of them (in report order)."""

from . import peer, reference, resolver, shipped, single_cell, snapshot  # noqa: F401
