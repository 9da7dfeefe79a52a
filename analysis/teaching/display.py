"""Show a notebook's results inline as the report shows them.

The figures are drawn on an explicit Agg canvas without pyplot (:mod:`analysis.report.style`),
so IPython never displays them inline: a bare ``figure`` prints ``<Figure size ...>``.
:func:`show_figure` displays the PNG file the step just saved instead, the same bytes the report
includes. Tables in the paper's layout carry Markdown (``**Sex**`` headings): :func:`show_table`
renders them as HTML with bold headings. Every object carries its figure or table stem in its
display metadata, so a test can find one output per saved file. Text columns (row labels,
methods, statuses) are left-aligned, numbers right-aligned, as the report's tables are.

The other tables are shown through the report's own formatting (its labels and printed
precision): :func:`analysis.report.predictors.predictor_rows`,
:func:`analysis.report.effects.dose_rows`, :func:`analysis.report.sensitivity.range_rows`, ...;
the few tables the report does not print get the same treatment here (:func:`flow_rows`,
:func:`dose_summary_rows`, :func:`overview_rows`, :func:`reproduction_rows`).
"""

from __future__ import annotations

import html
import re
import struct
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["show_figure", "show_table", "show_paper_table", "table_html", "flow_rows",
           "dose_summary_rows", "overview_rows", "reproduction_rows"]

#: Pixels per inch of a notebook's display: a figure saved 7 inches wide at the report's
#: resolution (200 dpi) is shown 672 pixels wide, as a browser shows 7 inches.
SCREEN_DPI = 96
_BOLD = re.compile(r"^\*\*(.+)\*\*$")
#: A cell that reads as a number (a count, a mean, a p-value, "<0.001", "48.2%", "N/A"): such
#: columns are right-aligned, every other column left-aligned.
_NUMBER = re.compile(r"^(?:[<>≤≥]\s*)?[-−+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)\s*%?\s*\*?$|^N/A$|^$")


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


def _align(column: pd.Series) -> str:
    """"right" for a column of numbers (JupyterLab's default), "left" for any other column.

    >>> _align(pd.Series(["0.62", "<0.001", "12"])), _align(pd.Series(["**Sex**", "0.62"]))
    ('right', 'left')
    """
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return "right"
    texts = ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()
             for v in column]
    return "right" if all(_NUMBER.match(t) for t in texts) else "left"


def table_html(frame: pd.DataFrame, caption: str = "", notes: str = "") -> str:
    """An HTML table of ``frame``'s values (no index), Markdown ``**bold**`` cells as ``<b>``.

    >>> table_html(pd.DataFrame({"Clinical characteristics": ["**Sex**", "\\u2003Male"],
    ...                          "p": ["", "0.62"]}))  # doctest: +NORMALIZE_WHITESPACE
    '<table class="dataframe"><thead><tr><th style="text-align:left">Clinical characteristics</th><th style="text-align:right">p</th></tr></thead><tbody><tr><td style="text-align:left"><b>Sex</b></td><td style="text-align:right"></td></tr><tr><td style="text-align:left">\\u2003Male</td><td style="text-align:right">0.62</td></tr></tbody></table>'
    """  # noqa: E501
    align = [_align(frame.iloc[:, i]) for i in range(frame.shape[1])]
    head = "".join(f'<th style="text-align:{a}">{html.escape(str(c))}</th>'
                   for c, a in zip(frame.columns, align, strict=True))
    body = "".join("<tr>" + "".join(f'<td style="text-align:{a}">{_cell(v)}</td>'
                                    for v, a in zip(row, align, strict=True)) + "</tr>"
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
    return show_table(format_table(frame, params.suppress_below, alpha=params.alpha),
                      f"table{number}",
                      f"Table {number}. {caption(frame)}", table_notes(frame))


# ------------------------------------------------- tables the report does not print as such
def flow_rows(flow: pd.DataFrame) -> pd.DataFrame:
    """Figure 1's counts (:func:`analysis.cohort.flow_table`) as its boxes say them."""
    return pd.DataFrame({"Figure 1": flow["label"].astype(str),
                         "Patients": flow["n"].astype(int).astype(str)})


def dose_summary_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """The dose tapers (:func:`analysis.doses.taper_summary`) with the figures' labels: mean
    (SD) at one decimal, the change from the first time point in % and the paired t test's p
    as the report prints p-values."""
    from analysis.format import format_number, format_p
    from analysis.report.tapers import COHORTS, DRUGS, TIMEPOINTS

    def drug(key: str) -> str:
        name, unit = DRUGS.get(key, (key, ""))
        return f"{name}, {unit}" if unit else name

    return pd.DataFrame({
        "Patients": [COHORTS.get(c, (c,))[0] for c in summary["cohort"]],
        "Drug": [drug(d) for d in summary["drug"]],
        "Time point": [TIMEPOINTS.get(t, t) for t in summary["timepoint"]],
        "n": summary["n"].astype(int).astype(str),
        "Mean (SD)": [f"{format_number(m, 1)} ({format_number(sd, 1)})" if not pd.isna(m)
                      else "N/A" for m, sd in zip(summary["mean"], summary["sd"], strict=True)],
        "Change from first time point, %": [format_number(v, 0, missing="")
                                            for v in summary["pct_change"]],
        "p (paired t test)": [format_p(v) if not pd.isna(v) else "" for v in summary["p"]]})


def overview_rows(overview: pd.DataFrame) -> pd.DataFrame:
    """The export's summary (:func:`analysis.schema.describe_cohort`) with worded headings
    (the column names are the export's own, as the codebook spells them)."""
    return overview.rename(columns={
        "table": "File", "column": "Column", "rows": "Rows", "patients": "Patients",
        "missing": "Missing", "summary": "Range or categories"})


def reproduction_rows(comparison: pd.DataFrame) -> pd.DataFrame:
    """The printed numbers a run does not reproduce (:func:`analysis.published.compare`) as
    Appendix A names them: where printed, the number as printed, the reproduced value, the
    status and why."""
    shown = comparison[comparison["status"] != "match"]
    column = shown["column"].fillna("").astype(str)
    label = shown["row_label"].astype(str)
    return pd.DataFrame({
        "Where": shown["source"].astype(str),
        "Number as printed": label.where(column == "", label + " — " + column),
        "Printed": shown["printed"].astype(str),
        "Reproduced": shown["reproduced_text"].fillna("").astype(str),
        "Status": shown["status"].astype(str).str.replace("-", " "),
        "Why": shown["reason"].fillna("").astype(str)})
