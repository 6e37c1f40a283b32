"""Warnings that point at the user's line, wherever in the package they are raised.

``warnings.warn(stacklevel=N)`` counts frames from the call; a fixed ``N`` points into the
package as soon as a call is one level deeper than its author counted (concat's warnings
pointed at ``pp/_plan.py``). :func:`warn` walks the stack instead, to the first frame outside
``idtrack_sc``: the user's line (or a test's), whatever path led there.
"""

from __future__ import annotations

import inspect
import warnings

_PACKAGE = __name__.split(".")[0]


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)``, attributed to the first frame outside the package."""
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    level = 1  # 1: this function's line
    while caller is not None:
        level += 1
        name = caller.f_globals.get("__name__", "")
        if name != _PACKAGE and not name.startswith(f"{_PACKAGE}."):
            break
        caller = caller.f_back
    del frame, caller
    warnings.warn(message, category, stacklevel=level)
