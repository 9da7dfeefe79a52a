"""Figure 1 of Sharma 2017: the CONSORT-style study flow, drawn from the run's flow table.

Three steps, each its own function: :func:`measure_texts` wraps each box's text to its box and
measures it on the canvas; :func:`flow_layout` stacks the boxes top down from those sizes (so
boxes never overlap); :func:`draw_flow` draws boxes, texts and connectors.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.errors import DataValidationError
from analysis.report.style import new_figure, style_context

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FLOW_FONTSIZE", "plot_flow", "measure_texts", "flow_layout", "draw_flow"]

#: Font size (points) of the flow diagram's box texts.
FLOW_FONTSIZE = 9.0

#: A box's place in inches, measured down from the top edge: (left x, top, width, height).
Box = tuple[float, float, float, float]


_FLOW_COLUMNS = ("key", "label", "n", "parent")
_FLOW_MAIN = (
    "flow.identified",
    "flow.excluded",
    "flow.included",
    "flow.conv_responders",
    "flow.conv_failures",
    "flow.tac_analysed",
    "flow.second_line_other",
    "flow.tac_responders",
    "flow.tac_failures",
)

# Layout in inches: (centre x, width) of each main box; (left x, width) of the side boxes.
_FLOW_WIDTH = 7.0
_FLOW_MARGIN = 0.12
_FLOW_PAD_X = 0.10
_FLOW_PAD_Y = 0.08
_FLOW_SPLIT_GAP = 0.55
_FLOW_SIDE_GAP = 0.18
_FLOW_BOXES: dict[str, tuple[float, float]] = {
    "flow.identified": (2.27, 3.0),
    "flow.included": (2.27, 3.0),
    "flow.conv_responders": (1.15, 2.1),
    "flow.conv_failures": (3.40, 2.1),
    "flow.tac_analysed": (3.40, 2.1),
    "flow.tac_responders": (2.20, 1.9),
    "flow.tac_failures": (4.60, 1.9),
}
_FLOW_SIDE: dict[str, tuple[float, float]] = {
    "flow.excluded": (4.00, 2.88),
    "flow.second_line_other": (4.68, 2.20),
}
_FLOW_EDGE = "0.25"
_FLOW_FILL = "#F7F7F7"


def _validate_flow(flow: pd.DataFrame) -> dict[str, tuple[str, int, str]]:
    missing_cols = [c for c in _FLOW_COLUMNS if c not in flow.columns]
    if missing_cols:
        raise DataValidationError(f"flow table: missing column(s) {missing_cols}; "
                                  f"expected {list(_FLOW_COLUMNS)} (analysis.cohort.flow_table)")
    keys = flow["key"].astype(str)
    if keys.duplicated().any():
        raise DataValidationError(
            f"flow table: duplicated key(s) {sorted(set(keys[keys.duplicated()]))}")
    missing = [k for k in _FLOW_MAIN if k not in set(keys)]
    if missing:
        raise DataValidationError(f"flow table: missing row(s) {missing}")
    rows: dict[str, tuple[str, int, str]] = {}
    for key, label, n, parent in zip(keys, flow["label"], flow["n"], flow["parent"],
                                     strict=True):
        if pd.isna(n) or float(n) != int(n) or int(n) < 0:
            raise DataValidationError(
                f"flow table: row {key!r}, column 'n' must be a count >= 0, got {n!r}")
        rows[key] = (str(label), int(n), "" if pd.isna(parent) else str(parent))
    return rows


def _count(n: int) -> str:
    # non-breaking spaces keep "(n = 3)" on one line when wrapped
    return f"(n\u00a0=\u00a0{n})"


def _wrap(text: str, width: int, bullet: str = "") -> str:
    wrapped = textwrap.fill(text, width=max(width, 8), initial_indent=bullet,
                            subsequent_indent="   " if bullet else "",
                            break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\u00a0", " ")


def _flow_texts(rows: dict[str, tuple[str, int, str]], chars: int, key: str) -> str:
    """The text of one box, wrapped at ``chars`` characters."""
    label, n, _ = rows[key]
    if key in _FLOW_SIDE:
        items = [k for k, (_, _, parent) in rows.items() if parent == key]
        lines = [_wrap(f"{label} {_count(n)}", chars)]
        lines += [_wrap(f"{rows[k][0]} {_count(rows[k][1])}", chars, bullet="\u2022 ")
                  for k in items]
        return "\n".join(lines)
    return f"{_wrap(label, chars)}\nn = {n}"


def measure_texts(fig: Figure, ax: Axes, rows: dict[str, tuple[str, int, str]]
                  ) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """Create each box's Text, wrapped to the box width, and measure it (inches).

    The wrap width starts from a rough mean glyph width of DejaVu Sans and narrows by two
    characters until the rendered text fits inside its box's padding.
    """
    renderer = fig.canvas.get_renderer()
    char_w = FLOW_FONTSIZE / 72.0 * 0.56  # rough mean glyph width of DejaVu Sans, inches
    texts: dict[str, Any] = {}
    sizes: dict[str, tuple[float, float]] = {}
    for key in _FLOW_MAIN:
        side = key in _FLOW_SIDE
        inner = (_FLOW_SIDE if side else _FLOW_BOXES)[key][1] - 2 * _FLOW_PAD_X
        chars = int(inner / char_w)
        while True:
            text = ax.text(0, 0, _flow_texts(rows, chars, key), fontsize=FLOW_FONTSIZE,
                           ha="left" if side else "center", va="center",
                           multialignment="left" if side else "center",
                           gid=f"{key}.text", zorder=3)
            bbox = text.get_window_extent(renderer)
            w_in, h_in = bbox.width / fig.dpi, bbox.height / fig.dpi
            if w_in <= inner or chars <= 10:
                break
            text.remove()
            chars -= 2
        texts[key] = text
        sizes[key] = (w_in, h_in)
    return texts, sizes


def flow_layout(sizes: dict[str, tuple[float, float]]) -> tuple[dict[str, Box], float]:
    """Stack the rows of boxes top down; a side box sits centred in the gap below its row.

    Returns
    -------
    (layout, height)
        Each key's box (left, top, width, height in inches, top measured down from the upper
        edge) and the figure's height.
    """
    def box_h(*keys: str) -> float:
        return max(sizes[k][1] for k in keys) + 2 * _FLOW_PAD_Y

    side_gap = {k: box_h(k) + 2 * _FLOW_SIDE_GAP for k in _FLOW_SIDE}
    rows_spec = [  # (keys in the row, gap below it, side box in that gap)
        (("flow.identified",), max(side_gap["flow.excluded"], _FLOW_SPLIT_GAP),
         "flow.excluded"),
        (("flow.included",), _FLOW_SPLIT_GAP, None),
        (("flow.conv_responders", "flow.conv_failures"),
         max(side_gap["flow.second_line_other"], _FLOW_SPLIT_GAP), "flow.second_line_other"),
        (("flow.tac_analysed",), _FLOW_SPLIT_GAP, None),
        (("flow.tac_responders", "flow.tac_failures"), 0.0, None),
    ]
    top = _FLOW_MARGIN
    layout: dict[str, Box] = {}
    for keys, gap, side in rows_spec:
        h = box_h(*keys)
        for key in keys:
            cx, w = _FLOW_BOXES[key]
            layout[key] = (cx - w / 2, top, w, h)
        if side is not None:
            sh = box_h(side)
            x0, w = _FLOW_SIDE[side]
            layout[side] = (x0, top + h + (gap - sh) / 2, w, sh)
        top += h + gap
    return layout, top + _FLOW_MARGIN


def _draw_boxes(ax: Axes, layout: dict[str, Box], texts: dict[str, Any], height: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    for key, (x0, t, w, h) in layout.items():
        ax.add_patch(FancyBboxPatch(
            (x0, height - (t + h)), w, h, boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=_FLOW_FILL, edgecolor=_FLOW_EDGE, linewidth=0.9, zorder=2,
            gid=f"{key}.box"))
        x = x0 + _FLOW_PAD_X if key in _FLOW_SIDE else x0 + w / 2
        texts[key].set_position((x, height - (t + h / 2)))


def _draw_connectors(ax: Axes, layout: dict[str, Box], height: float) -> None:
    """Arrows down the main boxes, to the side boxes, and the splits into two groups."""
    from matplotlib.lines import Line2D

    line_kw = {"color": _FLOW_EDGE, "linewidth": 0.9, "solid_capstyle": "butt", "zorder": 1}
    arrow_kw = {"arrowstyle": "-|>", "color": _FLOW_EDGE, "linewidth": 0.9,
                "shrinkA": 0, "shrinkB": 0, "mutation_scale": 9}

    def y(down: float) -> float:
        return height - down

    def cx(key: str) -> float:
        return layout[key][0] + layout[key][2] / 2

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow_kw, zorder=1)

    def straight(parent: str, child: str, side: str) -> None:
        x = cx(parent)
        arrow(x, y(layout[parent][1] + layout[parent][3]), x, y(layout[child][1]))
        sx0, st, _, sh = layout[side]
        arrow(x, y(st + sh / 2), sx0, y(st + sh / 2))

    def split(parent: str, children: Sequence[str]) -> None:
        bottom = layout[parent][1] + layout[parent][3]
        mid = (bottom + min(layout[c][1] for c in children)) / 2
        xs = [cx(c) for c in children] + [cx(parent)]
        ax.add_line(Line2D([cx(parent)] * 2, [y(bottom), y(mid)], **line_kw))
        ax.add_line(Line2D([min(xs), max(xs)], [y(mid)] * 2, **line_kw))
        for c in children:
            arrow(cx(c), y(mid), cx(c), y(layout[c][1]))

    straight("flow.identified", "flow.included", "flow.excluded")
    split("flow.included", ("flow.conv_responders", "flow.conv_failures"))
    straight("flow.conv_failures", "flow.tac_analysed", "flow.second_line_other")
    split("flow.tac_analysed", ("flow.tac_responders", "flow.tac_failures"))


def draw_flow(fig: Figure, ax: Axes, layout: dict[str, Box], texts: dict[str, Any],
              height: float) -> None:
    """Size the figure to the layout, then draw boxes (texts placed inside) and connectors."""
    fig.set_size_inches(_FLOW_WIDTH, height)
    ax.set_xlim(0, _FLOW_WIDTH)
    ax.set_ylim(0, height)
    _draw_boxes(ax, layout, texts, height)
    _draw_connectors(ax, layout, height)


def plot_flow(flow: pd.DataFrame) -> Figure:
    """CONSORT-style study flow diagram (Sharma 2017, Figure 1).

    Parameters
    ----------
    flow : DataFrame
        The output of :func:`analysis.cohort.flow_table`: columns ``key``, ``label``, ``n``,
        ``parent``. Rows used: ``flow.identified``, ``flow.excluded`` (side box listing every
        ``flow.excluded.<reason>`` row, i.e. every row whose parent is ``flow.excluded``, with its
        label and count), ``flow.included``, ``flow.conv_responders``, ``flow.conv_failures``,
        ``flow.tac_analysed``, ``flow.second_line_other`` (side box listing its children, e.g.
        ``flow.second_line.cyclophosphamide`` and ``flow.second_line.tacrolimus_insufficient``),
        ``flow.tac_responders`` and ``flow.tac_failures``.

    Returns
    -------
    matplotlib.figure.Figure
        About 7 x 8 inches (the height follows the wrapped texts). Every box is a
        ``FancyBboxPatch`` with gid ``"<key>.box"`` holding one Text with gid ``"<key>.text"``;
        each text shows the row's label and ``n = <count>`` read from the table.

    Raises
    ------
    DataValidationError
        Missing columns or rows, duplicated keys, or a count that is not an integer >= 0.

    Notes
    -----
    Labels and counts come only from the table, so a variant run (other counts, zero counts,
    other exclusion reasons) draws its own numbers. Text is 9 pt and wrapped with
    :func:`textwrap.fill` to the width of its box; box heights are measured from the rendered
    text, so boxes never overlap.
    """
    rows = _validate_flow(flow)
    with style_context():
        fig = new_figure((_FLOW_WIDTH, 8.0))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        texts, sizes = measure_texts(fig, ax, rows)
        layout, height = flow_layout(sizes)
        draw_flow(fig, ax, layout, texts, height)
    return fig
