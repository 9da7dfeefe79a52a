"""Reading one export file (CSV, Excel .xlsx, Stata .dta) as text cells, blanks as ``""``.

Reading never interprets a value: types, spellings and ranges are the rules' job
(:mod:`analysis.schema.rules`). What can go wrong while reading (a missing or unreadable
file, the wrong encoding or delimiter, a workbook whose data is not where expected) is raised
as :class:`~analysis.errors.DataValidationError` naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError
from analysis.schema.codebook import SUFFIXES

__all__ = ["read_table", "find_table"]


def _cell_text(value) -> str:
    """One cell as the text a CSV export would hold: blank for missing, whole numbers without
    a decimal point (Excel and Stata store 55 as 55.0), text stripped of outer spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or hasattr(value, "dtype") and value.dtype.kind == "f":
        if math.isnan(value):
            return ""
        if math.isfinite(value) and float(value).is_integer() and abs(value) < 2 ** 53:
            return str(int(value))
        return str(value)  # shortest text of a float32 or float64 ("123.8")
    return str(value).strip()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Any frame as text cells with a 0-based row index and stripped text column names."""
    def cells(column: pd.Series):
        # float32 scalars keep their own shortest text ("123.8"); others as Python objects.
        return column.to_numpy() if column.dtype == "float32" else column.astype(object)

    out = pd.DataFrame({i: [_cell_text(v) for v in cells(frame.iloc[:, i])]
                        for i in range(frame.shape[1])}, dtype=object)
    out.columns = [_cell_text(c) for c in frame.columns]
    return out


def read_table(path: Path) -> pd.DataFrame:
    """Read one export file as text (CSV, Excel .xlsx or Stata .dta), blanks as ``""``.

    CSV must be UTF-8 (a byte-order mark, as Excel's "CSV UTF-8" writes, is accepted). Excel
    reads the first sheet, header in row 1. Stata value labels are read as the category text.

    Raises
    ------
    DataValidationError
        Naming the file: not found, empty, not UTF-8, unreadable, or an unsupported type.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataValidationError(f"{path}: unsupported file type {suffix!r} "
                                  "(use .csv, .xlsx or .dta)")
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path}: file is empty (expected a header row and data)")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                header=None)
            header = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
            frame = frame.iloc[1:]
            frame.columns = list(header)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=object, keep_default_na=False, engine="openpyxl")
        else:
            import pyreadstat

            frame, meta = pyreadstat.read_dta(str(path), apply_value_formats=True)
            # Stata 'float' is single precision: 123.8 is stored as 123.80000305..., read
            # back as float32 so that its text is the 123.8 that was typed.
            for column, kind in meta.readstat_variable_types.items():
                if kind == "float" and pd.api.types.is_float_dtype(frame[column]):
                    frame[column] = frame[column].astype("float32")
    except UnicodeDecodeError:
        line, byte = _first_non_utf8(path)
        raise DataValidationError(
            f"{path}: not UTF-8 text (line {line} has byte 0x{byte:02x}, e.g. an accented "
            "letter saved as Latin-1 or Windows-1252); save the export as 'CSV UTF-8' "
            "(Excel: File > Save As > CSV UTF-8)") from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: file is empty (expected a header row and data)") \
            from None
    except pd.errors.ParserError as exc:
        raise DataValidationError(f"{path}: not a well-formed CSV file ({exc}); check for "
                                  "unquoted commas inside values") from None
    except Exception as exc:  # noqa: BLE001 (openpyxl/pyreadstat raise many types)
        kind = {".xlsx": "an Excel .xlsx workbook", ".dta": "a Stata .dta file"}.get(suffix,
                                                                                   "a CSV file")
        raise DataValidationError(f"{path}: cannot be read as {kind} "
                                  f"({type(exc).__name__}: {exc})") from None
    return _as_text(frame.reset_index(drop=True))


def _first_non_utf8(path: Path) -> tuple[int, int]:
    """Line number (1 = header) and value of the first byte that is not UTF-8."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return number, line[exc.start]
    return 0, 0  # pragma: no cover (only called after a decoding error)


def find_table(folder: Path, table: str) -> Path:
    """The file holding ``table`` in an export folder (.csv preferred, then .xlsx, .dta)."""
    for suffix in SUFFIXES:
        candidate = Path(folder) / f"{table}{suffix}"
        if candidate.is_file():
            return candidate
    return Path(folder) / f"{table}.csv"


