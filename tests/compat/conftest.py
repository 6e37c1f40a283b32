"""The compatibility layer configures the ``idtrack_sc`` logger (as the reference tool does):
undo that after every test, so no other test sees its handler or level."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _restore_package_logger():
    package = logging.getLogger("idtrack_sc")
    handlers, level = list(package.handlers), package.level
    yield
    for handler in [h for h in package.handlers if h not in handlers]:
        package.removeHandler(handler)
    package.setLevel(level)
