"""A small registry of benchmark measurements, so that new ones can be added in one place.

A measurement is a function ``f(ctx) -> Result`` registered with :func:`measurement`. It may
raise :class:`Skip` (with a reason that ends up in the report) when what it measures does not
exist yet, e.g. a function of the package that is still being written. Any other exception is
recorded as an error of that measurement and the run continues.

Example
-------
>>> @measurement("single_cell", "my_thing", "My thing, 10k cells", requires="idtrack_sc.pp.my_thing")
... def my_thing(ctx):
...     seconds = ctx.time(lambda: ...)
...     return Result(metrics={"seconds": seconds}, tables=[Table("My thing", ["s"], [[seconds]])])
"""

from __future__ import annotations

import importlib
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

#: Areas in report order, with their headings.
AREAS = {
    "snapshot": "Snapshot: build, size, load",
    "resolver": "Resolver: index build and conversion throughput",
    "peer": "Side by side with the peer tool (stangene)",
    "reference": "The reference tool's published figures",
    "single_cell": "Single-cell layer",
}


class Skip(Exception):
    """Raised by a measurement that cannot run yet; the message is the reason."""


@dataclass
class Table:
    """One table of the report.

    Attributes
    ----------
    title
        Caption.
    columns
        Column headers.
    rows
        Cell values (numbers are formatted by the report writer).
    note
        Text printed under the table.
    """

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Result:
    """What a measurement returns.

    Attributes
    ----------
    metrics
        Flat, JSON-serializable figures (``latest.json``).
    tables
        Tables of the Markdown report.
    notes
        Free text printed after the tables.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Measurement:
    """A registered measurement."""

    area: str
    name: str
    title: str
    func: Callable[[Any], Result]
    requires: str | None = None
    quick: bool = True  # run in --quick mode too


REGISTRY: list[Measurement] = []


def measurement(
    area: str, name: str, title: str, *, requires: str | None = None, quick: bool = True
) -> Callable[[Callable[[Any], Result]], Callable[[Any], Result]]:
    """Register a measurement.

    Parameters
    ----------
    area
        One of :data:`AREAS`.
    name
        Unique name (key in ``latest.json``).
    title
        Heading in the report.
    requires
        Dotted path of an object the measurement needs (``"idtrack_sc.pp.harmonize_var_names"``);
        when it cannot be imported the measurement is skipped with that reason.
    quick
        Whether ``--quick`` runs it.
    """
    if area not in AREAS:
        msg = f"Unknown area {area!r}; areas are {list(AREAS)}."
        raise ValueError(msg)

    def decorate(func: Callable[[Any], Result]) -> Callable[[Any], Result]:
        if any(m.name == name for m in REGISTRY):
            msg = f"Measurement {name!r} is registered twice."
            raise ValueError(msg)
        REGISTRY.append(Measurement(area, name, title, func, requires, quick))
        return func

    return decorate


def resolve_object(path: str) -> Any:
    """Import ``package.module.attr`` (attribute access through lazy modules included)."""
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def run_one(m: Measurement, ctx: Any) -> dict[str, Any]:
    """Run one measurement; return its record for the report (status ok / skipped / error)."""
    record: dict[str, Any] = {"name": m.name, "area": m.area, "title": m.title}
    t0 = time.perf_counter()
    try:
        if m.requires:
            try:
                resolve_object(m.requires)
            except (ImportError, AttributeError):
                msg = f"`{m.requires}` does not exist in this version of idtrack-sc yet."
                raise Skip(msg) from None
        result = m.func(ctx)
        record.update(status="ok", result=result)
    except Skip as skip:
        record.update(status="skipped", reason=str(skip))
    except Exception as err:  # noqa: BLE001 - one failing measurement must not stop the run
        record.update(status="error", reason=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
    record["wall_s"] = round(time.perf_counter() - t0, 2)
    return record
