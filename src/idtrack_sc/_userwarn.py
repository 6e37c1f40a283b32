"""Warnings that point at the user's line, wherever in the package they are raised.

``warnings.warn(stacklevel=N)`` counts frames from the call; a fixed ``N`` points into the
package as soon as a call is one level deeper than its author counted (concat's warnings
pointed at ``pp/_plan.py``). :func:`warn` walks the stack instead, to the first frame outside
``idtrack_sc``: the user's line (or a test's), whatever path led there.
"""

from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

_PACKAGE = __name__.split(".")[0]
#: Modules between two frames of the package (a ``with`` block's exit runs in contextlib).
_PASS_THROUGH = frozenset({"contextlib"})


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)``, attributed to the first frame outside the package."""
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    level = 1  # 1: this function's line
    while caller is not None:
        level += 1
        name = caller.f_globals.get("__name__", "")
        if name != _PACKAGE and not name.startswith(f"{_PACKAGE}.") and name not in _PASS_THROUGH:
            break
        caller = caller.f_back
    del frame, caller
    warnings.warn(message, category, stacklevel=level)


@contextmanager
def attributed_to_caller() -> Iterator[None]:
    """Re-emit the warnings another library raises within the block with :func:`warn`.

    A library's warning points at the line that called it, a line of idtrack-sc
    (``ad.concat``'s "Only some AnnData objects have `.raw`"); re-emitted, it points at the
    user's line and the user's filters decide whether it shows. Filters set within the block
    (to silence one known message) apply first.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            pending = list(caught)
    for item in pending:
        warn(str(item.message), item.category)
