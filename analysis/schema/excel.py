"""Reading an Excel ``.xlsx`` export with openpyxl: which sheet, which header row, which cells
are not values.

pandas' ``read_excel`` reads an error cell (``#DIV/0!``, ``#N/A``) as a blank and renames a
duplicated header (``sex.1``), so a wrong number would pass silently; reading the cells with
openpyxl keeps each error cell's text (the rules refuse it, :mod:`analysis.schema.rules`), the
headers as typed, and the place of every cell (sheet, A1 reference).

- **Sheet**: the one named (``--sheet``), else the first sheet whose header (in its first
  :data:`HEADER_SEARCH_ROWS` rows) holds every codebook column of the table; else the sheet
  and row holding most of them (at least half), so a missing column is reported as such.
- **Header row**: the first row holding the codebook's names (matched ignoring case); rows
  above it (a title) are skipped and named.
- **Formula cells without a saved value** (a workbook written by a program and never opened
  in Excel): listed, with their formula, for the rules to report; their cell reads as blank.
- **Structure** (issue 23), read from the sheet's XML because openpyxl's read-only mode does
  not expose it and its full mode holds every cell in memory: merged ranges (a merged cell
  reads as one value and blanks, so a header merged down into the first data row silently
  blanks that row's value), hidden rows and columns (read like any other, so a row hidden
  to "leave it out" would be counted), and formula cells with a saved value (the value is
  read; the rules name them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["HEADER_SEARCH_ROWS", "SheetRead", "SheetStructure", "read_workbook", "sheet_structure"]

#: How many rows at the top of a sheet are searched for the header (title rows above it).
HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class SheetRead:
    """One sheet as text cells, and where it came from.

    ``frame`` has the header as typed and a 0-based row index (row ``i`` is sheet row
    ``header_row + 1 + i``); ``letters`` is the column letter of each frame column;
    ``formulas`` maps (frame row, frame column position) to the formula of a cell without a
    saved value; ``notes`` are what the user should know (sheet used, title rows skipped).
    """

    frame: pd.DataFrame
    sheet: str
    header_row: int
    letters: tuple[str, ...]
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    structure: SheetStructure | None = None


@dataclass(frozen=True)
class SheetStructure:
    """What a sheet's XML says beyond its values, in sheet coordinates (1-based rows and
    columns): ``merged`` ranges (``"B1:B2"``), ``hidden_rows``, ``hidden_columns``, and the
    formula cells, ``formulas`` mapping a cell (``"H3"``) to (formula, has a saved value)."""

    merged: tuple[str, ...] = ()
    hidden_rows: tuple[int, ...] = ()
    hidden_columns: tuple[int, ...] = ()
    formulas: dict[str, tuple[str, bool]] = field(default_factory=dict)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def sheet_structure(worksheet) -> SheetStructure:
    """Merged ranges, hidden rows and columns and formula cells of a read-only worksheet.

    One streaming pass over the sheet's XML (``ReadOnlyWorksheet._get_source``, the stream
    openpyxl itself parses), each element cleared once read, so a 100,000-row sheet is not
    held in memory; openpyxl's read-only worksheet keeps none of this, and its full mode
    would load every cell (ECMA-376 Part 1, 18.3: ``mergeCell``, ``row/@hidden``,
    ``col/@hidden``, ``c/f`` and ``c/v``).
    """
    import xml.etree.ElementTree as ET

    merged, rows, columns, formulas = [], [], [], {}
    source = worksheet._get_source()
    try:
        for _, elem in ET.iterparse(source, events=("end",)):
            tag = elem.tag
            if tag == _MAIN + "c":
                formula = elem.find(_MAIN + "f")
                if formula is not None and elem.get("t") != "e":
                    value = elem.find(_MAIN + "v")
                    formulas[elem.get("r", "")] = ("=" + (formula.text or ""),
                                                   value is not None and bool(value.text))
                elem.clear()
            elif tag == _MAIN + "row":
                if elem.get("hidden") in ("1", "true") and elem.get("r"):
                    rows.append(int(elem.get("r")))
                elem.clear()
            elif tag == _MAIN + "col" and elem.get("hidden") in ("1", "true"):
                columns.extend(range(int(elem.get("min")), int(elem.get("max")) + 1))
            elif tag == _MAIN + "mergeCell" and elem.get("ref"):
                merged.append(elem.get("ref"))
    finally:
        source.close()
    return SheetStructure(tuple(merged), tuple(rows), tuple(columns), formulas)


def _names(sheets: Sequence[str]) -> str:
    return ", ".join(f"'{s}'" for s in sheets)


def _matches(row: Sequence, expected: set[str]) -> int:
    found = {str(v).strip().lower() for v in row if v is not None}
    return len(found & expected)


def _find_header(book, sheets: Sequence[str], expected: Sequence[str]) -> tuple[str, int, int]:
    """(sheet, header row, columns matched): the first full match, else the best match."""
    wanted = {c.lower() for c in expected}
    best = (sheets[0], 1, 0)
    for name in sheets:
        top = book[name].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        for number, row in enumerate(top, start=1):
            hits = _matches(row, wanted)
            if hits == len(wanted) and wanted:
                return name, number, hits
            if hits > best[2]:
                best = (name, number, hits)
    return best


def _trim(rows: list[list]) -> list[list]:
    """Drop the empty rows at the end (formatting often extends a sheet's used range)."""
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    return rows


def _uncached_formulas(structure: SheetStructure, header_row: int,
                       blanks: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Formulas of the cells that read as blank (no saved value), by (frame row, frame
    column): a workbook written by a program and never opened in Excel."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    out = {}
    for ref, (formula, saved) in structure.formulas.items():
        if saved:
            continue
        letters, row = coordinate_from_string(ref)
        place = (row - header_row - 1, column_index_from_string(letters) - 1)
        if place in blanks:
            out[place] = formula
    return out


def read_workbook(path: Path, expected: Sequence[str] = (), sheet: str | None = None,
                  table: str = "") -> SheetRead:
    """Read the sheet of ``path`` holding the table whose codebook columns are ``expected``.

    Parameters
    ----------
    path : the ``.xlsx`` file.
    expected : the codebook's column names of the table (empty: first sheet, header row 1).
    sheet : the sheet to read (``--sheet``); None chooses as the module docstring says.
    table : the table's name, for messages.

    Raises
    ------
    DataValidationError
        No sheet of that name, or no sheet holding the header.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    from analysis.schema.cells import _cell_text

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = list(book.sheetnames)
        if sheet is not None and sheet not in sheets:
            raise DataValidationError(f"{path}: no sheet named '{sheet}' (sheets: "
                                      f"{_names(sheets)})")
        chosen, header_row, hits = (_find_header(book, [sheet] if sheet else sheets, expected)
                                    if expected else (sheet or sheets[0], 1, 0))
        if expected and sheet is None and hits * 2 < len(expected):
            raise DataValidationError(
                f"{path}: no sheet has the codebook's header for {table} (sheets: "
                f"{_names(sheets)}; looked for {', '.join(expected)} in the first "
                f"{HEADER_SEARCH_ROWS} rows)")
        rows = [list(r) for r in book[chosen].iter_rows(min_row=header_row, values_only=True)]
        top = list(book[chosen].iter_rows(max_row=header_row - 1, values_only=True)) \
            if header_row > 1 else []
        structure = sheet_structure(book[chosen])
    finally:
        book.close()
    rows = _trim(rows) or [[]]
    width = max(len(r) for r in rows)
    header = [_cell_text(v) for v in rows[0]] + [""] * (width - len(rows[0]))
    body = [[_cell_text(v) for v in r] + [""] * (width - len(r)) for r in rows[1:]]
    # Trailing columns with neither a header nor a value are not columns.
    while width and header[width - 1] == "" and all(r[width - 1] == "" for r in body):
        width -= 1
    frame = pd.DataFrame([r[:width] for r in body], columns=range(width), dtype=object)
    frame.columns = header[:width]
    blanks = {(i, j) for i, r in enumerate(body) for j in range(width) if r[j] == ""}
    notes = []
    if len(sheets) > 1 and sheet is None:
        notes.append(f"using sheet '{chosen}', the first whose header matches the codebook "
                     f"(sheets: {_names(sheets)})")
    if header_row > 1:
        notes.append(_title_note(top, header_row))
    return SheetRead(frame, chosen, header_row,
                     tuple(get_column_letter(j + 1) for j in range(width)),
                     _uncached_formulas(structure, header_row, blanks), tuple(notes),
                     structure)


def _title_note(top: list[tuple], header_row: int) -> str:
    """Name the rows above the header that hold something (a title, a date)."""
    from analysis.schema.cells import _cell_text

    above = [str(n) for n, r in enumerate(top, start=1) if any(_cell_text(v) for v in r)]
    start = f"the header is in row {header_row}, not row 1; "
    if not above:
        return start + "the empty rows above it are skipped"
    if len(above) == 1:
        return start + f"row {above[0]} above it (a title?) is skipped"
    return start + f"rows {', '.join(above)} above it (a title?) are skipped"
