"""Tables of a run as files: numbers as CSV, layout as a Quarto pipe table in Markdown.

Only aggregates are written here; nothing patient-level ever reaches a run's bundle. The bytes
are deterministic (fixed float format, ``\\n`` line endings), and every file is written with
:func:`analysis.files.write_atomic`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.files import write_atomic

__all__ = ["escape_cell", "markdown_table", "save_table"]

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def escape_cell(text: object) -> str:
    """A table cell's text made safe for a pipe table: ``|`` escaped, line breaks as spaces.

    An unescaped ``|`` ends the cell in pandoc and Quarto alike, so a cell such as
    ``true | false`` would split the row (issue 14: Appendix C's parameter table).

    >>> escape_cell("true | false"), escape_cell("a\\\\|b"), escape_cell("two\\nlines")
    ('true \\\\| false', 'a\\\\|b', 'two lines')
    """
    return _UNESCAPED_PIPE.sub(r"\\|", str(text)).replace("\r\n", " ").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, caption: str | None = None, label: str | None = None,
                   notes: str | None = None, left_columns: int = 1,
                   text_columns: tuple[str, ...] = ()) -> str:
    """A pipe table with a Quarto caption line ``: Caption {#tbl-label}`` and notes below.

    The first ``left_columns`` columns and the columns named in ``text_columns`` (text) are
    left-aligned, the others right-aligned (numbers); cells are escaped with
    :func:`escape_cell`. tabulate lays the table out.

    >>> print(markdown_table(pd.DataFrame({"a": ["1"], "p": ["0.34"]}), "Demo", "tbl-demo"))
    | a   |    p |
    |:----|-----:|
    | 1   | 0.34 |
    <BLANKLINE>
    : Demo {#tbl-demo}
    <BLANKLINE>
    """
    from tabulate import tabulate

    align = ["left" if i < left_columns or column in text_columns else "right"
             for i, column in enumerate(frame.columns)]
    cells = [[escape_cell(v) for v in row] for row in frame.astype(str).values.tolist()]
    body = tabulate(cells, headers=[escape_cell(c) for c in frame.columns],
                    tablefmt="pipe", colalign=align, disable_numparse=True)
    parts = [body, ""]
    if caption:
        parts += [f": {caption}" + (f" {{#{label}}}" if label else ""), ""]
    if notes:
        parts += [notes, ""]
    return "\n".join(parts)


def save_table(run_dir: Path, stem: str, numeric: pd.DataFrame,
               formatted: pd.DataFrame | None = None, caption: str | None = None,
               label: str | None = None, notes: str | None = None) -> list[Path]:
    """Save ``tables/<stem>.csv`` (numbers, full precision) and ``tables/<stem>.md`` (layout)."""
    folder = Path(run_dir) / "tables"
    csv_text = numeric.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    paths = [write_atomic(folder / f"{stem}.csv", csv_text)]
    shown = formatted if formatted is not None else numeric
    paths.append(write_atomic(folder / f"{stem}.md", markdown_table(shown, caption, label, notes)))
    return paths
