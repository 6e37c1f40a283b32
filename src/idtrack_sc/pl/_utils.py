"""Saving and showing figures the way scanpy's plotting functions do.

``save=True`` writes ``{figdir}/{name}{plot_suffix}.{file_format_figs}`` with scanpy's
settings (:attr:`scanpy.settings.figdir` and friends); ``save="_suffix.png"`` appends the
string to the function's name and takes the format from a known file extension (an absolute
path as a string, or a Path, is the file itself);
``show=None`` follows :attr:`scanpy.settings.autoshow`. A figure that was saved is closed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: Resolution of saved figures when matplotlib's ``savefig.dpi`` is lower (or "figure").
MIN_SAVE_DPI = 150


def _scanpy_settings() -> Any | None:
    """The settings of scanpy, or ``None`` if scanpy cannot be imported."""
    try:
        import scanpy
    except ImportError:  # pragma: no cover - scanpy is a dependency
        return None
    return scanpy.settings


def figure_path(name: str, save: bool | str | os.PathLike[str], fig: Figure) -> Path:
    """Where ``save=`` puts the figure of the plotting function ``name``.

    Parameters
    ----------
    name
        The plotting function's name (scanpy's "write key").
    save
        ``True``: ``{figdir}/{name}{plot_suffix}.{file_format_figs}``. A string: appended to
        ``name``, with the format taken from its extension if it ends in one matplotlib
        writes (``"_pbmc.svg"`` → ``harmonization_summary_pbmc.svg``), in ``figdir``, as
        scanpy does. An absolute path as a string (``"/tmp/qc.png"``) or any
        :class:`~os.PathLike` (e.g. ``Path("qc.png")``): exactly this file (``.png`` if it
        has no extension). scanpy itself would append an absolute string to the name, under
        ``figdir`` (``figures/harmonization_summary/tmp/qc.png``), which no one means.
    fig
        The figure (it knows the formats its canvas writes).

    Returns
    -------
    The file to write.
    """
    if isinstance(save, os.PathLike) or (isinstance(save, str) and Path(save).is_absolute()):
        path = Path(save)
        return path if path.suffix else path.with_suffix(".png")
    settings = _scanpy_settings()
    figdir = Path(getattr(settings, "figdir", "figures"))
    plot_suffix = str(getattr(settings, "plot_suffix", "") or "")
    ext = str(getattr(settings, "file_format_figs", "pdf") or "pdf")
    stem = name
    if isinstance(save, str):
        base, dot, suffix = save.rpartition(".")
        if dot and suffix.lower() in fig.canvas.get_supported_filetypes():
            save, ext = base, suffix.lower()
        stem = f"{name}{save}"
    return figdir / f"{stem}{plot_suffix}.{ext}"


def savefig_or_show(fig: Figure, name: str, *, show: bool | None, save: bool | str | os.PathLike[str] | None) -> bool:
    """Save and/or show ``fig`` as a scanpy plotting function does; close it if it was saved.

    Parameters
    ----------
    fig
        The figure.
    name
        The plotting function's name, the start of the file name for ``save=True`` or a string.
    show
        Show the figure; ``None``: :attr:`scanpy.settings.autoshow`.
    save
        See :func:`figure_path`; ``None`` or ``False``: :attr:`scanpy.settings.autosave`.

    Returns
    -------
    Whether the figure was shown.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    settings = _scanpy_settings() if show is None or save is None else None
    if save is None:
        save = bool(getattr(settings, "autosave", False))
    if show is None:
        show = bool(getattr(settings, "autoshow", True))
    if save is not False:
        path = figure_path(name, save, fig)
        path.parent.mkdir(parents=True, exist_ok=True)
        dpi = mpl.rcParams["savefig.dpi"]
        dpi = dpi if isinstance(dpi, int | float) and dpi >= MIN_SAVE_DPI else MIN_SAVE_DPI
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        logger.warning("saving figure to file %s", path)
    if show:
        plt.show()
    if save is not False:
        plt.close(fig)
    return bool(show)
