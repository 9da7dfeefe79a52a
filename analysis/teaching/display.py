"""Show a notebook's results inline as the report shows them (issue 15).

The figures are drawn on an explicit Agg canvas without pyplot (:mod:`analysis.report.style`),
so IPython never displays them inline: a bare ``figure`` prints ``<Figure size ...>``.
:func:`show_figure` displays the PNG file the step just saved instead, the same bytes the report
includes. Tables in the paper's layout carry Markdown (``**Sex**`` headings): :func:`show_table`
renders them as HTML with bold headings. Every object carries its figure or table stem in its
display metadata, so a test can find one output per saved file.
"""

from __future__ import annotations

import html
import re
import struct
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["show_figure", "show_table", "show_paper_table", "table_html"]

#: Pixels per inch of a notebook's display: a figure saved 7 inches wide at the report's
#: resolution (200 dpi) is shown 672 pixels wide, as a browser shows 7 inches.
SCREEN_DPI = 96
_BOLD = re.compile(r"^\*\*(.+)\*\*$")


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk (PNG specification, section 11.2.2).

    >>> _png_size(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(4) + b"IHDR" + struct.pack(">II", 640, 480))
    (640, 480)
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def show_figure(run_dir: str | Path, stem: str) -> Any:
    """The figure ``run_dir/figures/<stem>.png`` as an inline image (IPython ``Image``).

    Shown at its size in inches (the file is saved at 200 dpi for print); display metadata
    ``{"figure": stem}``.

    Raises
    ------
    FileNotFoundError naming the file, when the step has not saved it.
    """
    from IPython.display import Image

    from analysis.report.style import PNG_DPI

    path = Path(run_dir) / "figures" / f"{stem}.png"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such figure; run the cell that saves it first")
    data = path.read_bytes()
    width = round(_png_size(data)[0] * SCREEN_DPI / PNG_DPI)
    return Image(data=data, format="png", width=width, metadata={"figure": stem})


def _cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    bold = _BOLD.match(text)
    return f"<b>{html.escape(bold.group(1))}</b>" if bold else html.escape(text)


def table_html(frame: pd.DataFrame, caption: str = "", notes: str = "") -> str:
    """An HTML table of ``frame``'s values (no index), Markdown ``**bold**`` cells as ``<b>``.

    >>> table_html(pd.DataFrame({"Clinical characteristics": ["**Sex**", "\\u2003Male"],
    ...                          "p": ["", "0.62"]}))  # doctest: +NORMALIZE_WHITESPACE
    '<table class="dataframe"><thead><tr><th>Clinical characteristics</th><th>p</th></tr></thead><tbody><tr><td><b>Sex</b></td><td></td></tr><tr><td>\\u2003Male</td><td>0.62</td></tr></tbody></table>'
    """  # noqa: E501
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    text = f'<table class="dataframe"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if caption:
        text = f"<p><b>{html.escape(caption)}</b></p>" + text
    if notes:  # the footnote is Markdown with escaped asterisks
        text += f"<p><small>{html.escape(notes.replace(chr(92) + '*', '*'))}</small></p>"
    return text


def show_table(frame: pd.DataFrame, stem: str, caption: str = "", notes: str = "") -> Any:
    """A table as inline HTML (IPython ``HTML``), display metadata ``{"table": stem}``.

    A frame with a named index (e.g. the parameters) keeps it as its first column.
    """
    from IPython.display import HTML

    shown = frame.reset_index() if any(frame.index.names) else frame
    return HTML(table_html(shown, caption, notes), metadata={"table": stem})


def show_paper_table(frame: pd.DataFrame, params: Any) -> Any:
    """Table 1, 2 or 3 (a frame of :mod:`analysis.tables`) as the report prints it: caption,
    group headings in bold, indented levels, p-values and the note naming each row's test."""
    from analysis.report.paper_tables import caption, format_table, table_notes

    number = str(frame["table"].iloc[0]).removeprefix("t")
    return show_table(format_table(frame, params.suppress_below), f"table{number}",
                      f"Table {number}. {caption(frame)}", table_notes(frame))
