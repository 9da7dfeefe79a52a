"""The figures' style and how a figure is saved (PNG and SVG with reproducible bytes).

Every figure is a :class:`matplotlib.figure.Figure` on an explicit Agg canvas
(:func:`new_figure`), never touching pyplot's global figure manager or the global
``rcParams`` (styles are applied with :func:`matplotlib.rc_context`). seaborn is imported
lazily (only for its colour-blind palette and style dictionaries), so importing
:mod:`analysis` never imports it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.errors import ParameterError
from analysis.files import write_atomic

if TYPE_CHECKING:  # pragma: no cover - typing only
    from collections.abc import Iterator

    from matplotlib.figure import Figure

__all__ = ["STYLE_RC", "PNG_DPI", "PRINT_DPI", "palette", "style_context", "new_figure",
           "save_figure"]

# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------

#: rc settings laid over seaborn's ``"ticks"`` style and ``"paper"`` context. The font is pinned
#: to DejaVu Sans (shipped with matplotlib) so that the output does not depend on which fonts a
#: machine has; ``svg.hashsalt`` makes the SVG's generated ids reproducible.
STYLE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.5,
    "axes.titlesize": 9.0,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.0,
    "figure.titlesize": 9.0,
    "figure.labelsize": 8.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "0.9",
    "svg.hashsalt": "sharma-2017-ma-ild",
    "svg.fonttype": "path",
    "savefig.facecolor": "white",
}

#: Resolution of the PNG files the report embeds (:func:`save_figure`).
PNG_DPI = 200
#: Resolution of the print copy, ``<stem>_300dpi.png`` (journals ask for 300 dpi or more).
PRINT_DPI = 300

def palette() -> list[tuple[float, float, float]]:
    """seaborn's ``"colorblind"`` palette (10 RGB tuples), imported lazily."""
    import seaborn as sns

    return [tuple(c) for c in sns.color_palette("colorblind")]


def _style_rc() -> dict[str, Any]:
    import seaborn as sns
    from cycler import cycler

    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("ticks"))
    rc.update(sns.plotting_context("paper"))
    rc.update(STYLE_RC)
    rc["axes.prop_cycle"] = cycler(color=palette())
    return rc


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the project style for the duration of a ``with`` block only.

    Uses :func:`matplotlib.rc_context`, so the global ``rcParams`` are restored afterwards
    (unlike ``seaborn.set_theme``).
    """
    import matplotlib

    with matplotlib.rc_context(_style_rc()):
        yield


def new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """A Figure on an explicit Agg canvas, unknown to pyplot (no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, folder: str | Path, stem: str) -> list[Path]:
    """Write ``fig`` as ``<stem>.png`` (200 dpi, the report's), ``<stem>.svg``, and for print
    ``<stem>_300dpi.png`` and ``<stem>.pdf`` (vector), all in ``folder``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure made by this module (or any Figure).
    folder : str or pathlib.Path
        Output folder; created if missing.
    stem : str
        File name without extension.

    Returns
    -------
    list of pathlib.Path
        The PNG, SVG, 300-dpi PNG and PDF paths, in that order.

    Notes
    -----
    The output is byte-identical across re-runs: the PNG is written without the ``Software``
    tag, the SVG without the ``Date`` and with a fixed ``svg.hashsalt`` (ids of clip paths and
    glyphs), the PDF without its creation date, and all are drawn under the project style with
    the Agg-based canvases.
    """
    if not stem or Path(stem).name != stem:
        raise ParameterError(f"figure stem must be a plain file name, got {stem!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{stem}.png"
    svg = folder / f"{stem}.svg"
    png300 = folder / f"{stem}_300dpi.png"
    pdf = folder / f"{stem}.pdf"
    with style_context():
        write_atomic(png, lambda tmp: fig.savefig(tmp, format="png", dpi=PNG_DPI,
                                                  metadata={"Software": None}))
        write_atomic(svg, lambda tmp: fig.savefig(tmp, format="svg", metadata={"Date": None}))
        write_atomic(png300, lambda tmp: fig.savefig(tmp, format="png", dpi=PRINT_DPI,
                                                     metadata={"Software": None}))
        write_atomic(pdf, lambda tmp: fig.savefig(tmp, format="pdf",
                                                  metadata={"CreationDate": None,
                                                            "Producer": None}))
    return [png, svg, png300, pdf]

