"""The join arguments of :func:`~idtrack_sc.concat_harmonized`, carried as one value to every engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class JoinArgs:
    """:func:`anndata.concat`'s arguments, as the user gave them (``keys``: the dataset names, or ``None``)."""

    join: str = "inner"
    merge: Any = None
    uns_merge: Any = None
    label: str | None = None
    keys: list | None = None
    index_unique: str | None = None
    fill_value: Any = None
    pairwise: bool = False

    def anndata(self) -> dict[str, Any]:
        """Every argument, for :func:`anndata.concat`."""
        return asdict(self)

    def files(self) -> dict[str, Any]:
        """The arguments of an on-disk join of staged files (no ``uns_merge``: applied at the end; no ``obsp``)."""
        out = asdict(self)
        del out["uns_merge"], out["pairwise"]
        return out

    def record(self) -> dict[str, Any]:
        """The arguments as recorded in ``uns[key_added]['params']`` (strings where anndata takes callables)."""
        return {
            "join": self.join,
            "merge": _describe(self.merge),
            "uns_merge": _describe(self.uns_merge),
            "label": self.label or "",
            "index_unique": self.index_unique or "",
            "fill_value": "" if self.fill_value is None else str(self.fill_value),
            "pairwise": bool(self.pairwise),
        }


def _describe(strategy: Any) -> str:
    if strategy is None:
        return ""
    if isinstance(strategy, str):
        return strategy
    return getattr(strategy, "__qualname__", type(strategy).__name__)
