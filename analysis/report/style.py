"""The figures' style and how a figure is saved (the report's PNG, and for print SVG, a
300-dpi PNG and PDF; reproducible bytes).

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

__all__ = ["STYLE_RC", "PNG_DPI", "PRINT_DPI", "FIGURE_FILES", "FIGURE_SETS", "palette",
           "style_context", "new_figure", "figure_files", "figure_set", "save_figure"]

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


#: The files of a figure, by kind: (file name from the stem, ``savefig`` arguments). The
#: report's formats (HTML, PDF and Word, under Quarto and the pip-only stand-in alike) all
#: embed ``<stem>.png`` at :data:`PNG_DPI` (``report.qmd``, ``analysis/report/*``); the others
#: are copies for print. Metadata left out so that the bytes are the same on every run.
FIGURE_FILES: dict[str, tuple[str, dict[str, Any]]] = {
    "png": ("{stem}.png", {"format": "png", "dpi": PNG_DPI, "metadata": {"Software": None}}),
    "svg": ("{stem}.svg", {"format": "svg", "metadata": {"Date": None}}),
    "png300": ("{stem}_300dpi.png", {"format": "png", "dpi": PRINT_DPI,
                                     "metadata": {"Software": None}}),
    "pdf": ("{stem}.pdf", {"format": "pdf", "metadata": {"CreationDate": None,
                                                         "Producer": None}}),
}

#: Which files a run writes of each figure (``python -m analysis run --figures``; a notebook's
#: ``figures`` parameter): ``report``, the PNG every report format embeds (the default: a
#: figure is drawn once); ``print``, that PNG plus an SVG, a 300-dpi PNG and a vector PDF
#: (journals ask for 300 dpi or vector art), the set kept in the repository's ``figures/``.
FIGURE_SETS: dict[str, tuple[str, ...]] = {"report": ("png",),
                                           "print": ("png", "svg", "png300", "pdf")}


def figure_files(stem: str, figures: str = "report") -> list[str]:
    """The file names :func:`save_figure` writes for ``stem`` under the set ``figures``.

    >>> figure_files("figure1"), figure_files("figure1", "print")[1:]
    (['figure1.png'], ['figure1.svg', 'figure1_300dpi.png', 'figure1.pdf'])
    """
    return [FIGURE_FILES[kind][0].format(stem=stem) for kind in figure_set(figures)]


def figure_set(figures: str) -> tuple[str, ...]:
    """The kinds of file (:data:`FIGURE_FILES`) of the set ``figures`` (:data:`FIGURE_SETS`);
    an unknown set is refused, naming the sets.

    >>> figure_set("print")
    ('png', 'svg', 'png300', 'pdf')
    """
    if figures not in FIGURE_SETS:
        raise ParameterError(f"figures must be one of {', '.join(FIGURE_SETS)} (the files "
                             f"written of each figure), got {figures!r}")
    return FIGURE_SETS[figures]


def save_figure(fig: Figure, folder: str | Path, stem: str,
                figures: str = "report") -> list[Path]:
    """Write ``fig`` as ``<stem>.png`` (200 dpi, the one every report format embeds) and, with
    ``figures="print"``, also ``<stem>.svg``, ``<stem>_300dpi.png`` and ``<stem>.pdf``
    (vector), all in ``folder``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure made by this module (or any Figure).
    folder : str or pathlib.Path
        Output folder; created if missing.
    stem : str
        File name without extension.
    figures : {"report", "print"}
        The set of files (:data:`FIGURE_SETS`): ``report`` draws the figure once.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :func:`figure_files` (PNG, then SVG, 300-dpi PNG
        and PDF).

    Notes
    -----
    The output is byte-identical across re-runs: the PNG is written without the ``Software``
    tag, the SVG without the ``Date`` and with a fixed ``svg.hashsalt`` (ids of clip paths and
    glyphs), the PDF without its creation date, and all are drawn under the project style with
    the Agg-based canvases. Each file is written atomically (:func:`analysis.files.
    write_atomic`): a failed save leaves no half-written file.
    """
    if not stem or Path(stem).name != stem:
        raise ParameterError(f"figure stem must be a plain file name, got {stem!r}")
    names = figure_files(stem, figures)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with style_context():
        for kind, name in zip(FIGURE_SETS[figures], names, strict=True):
            options = FIGURE_FILES[kind][1]
            written.append(write_atomic(folder / name,
                                        lambda tmp, o=options: fig.savefig(tmp, **o)))
    return written
