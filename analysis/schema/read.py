"""Reading one export file (CSV, Excel .xlsx, Stata .dta, Parquet) as text cells, blanks as
``""``.

Reading never interprets a value: types, spellings and ranges are the rules' job
(:mod:`analysis.schema.rules`). What can go wrong while reading (a missing or unreadable
file, the wrong encoding or delimiter, a workbook whose data is not where expected) is raised
as :class:`~analysis.errors.DataValidationError` naming the file.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError
from analysis.schema.cells import _cell_text
from analysis.schema.codebook import FORMATS_TEXT, SUFFIXES

__all__ = ["TableRead", "read_table", "read_export", "find_table", "os_reason"]


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Any frame as text cells with a 0-based row index and stripped text column names."""
    def cells(column: pd.Series) -> list:
        # float32 scalars keep their own shortest text ("123.8"); others as Python objects.
        values = column.to_numpy() if column.dtype == "float32" else column.astype(object)
        if pd.api.types.infer_dtype(values, skipna=False) == "string":
            # Every cell is text (a CSV, read as str): _cell_text is str.strip, without its
            # per-cell type checks (a 100,000-patient export has millions of cells).
            return [v.strip() for v in values]
        return [_cell_text(v) for v in values]

    out = pd.DataFrame({i: cells(frame.iloc[:, i]) for i in range(frame.shape[1])},
                       dtype=object)
    out.columns = [_cell_text(c) for c in frame.columns]
    return out


@dataclass(frozen=True)
class TableRead:
    """One export file as text cells, and where each cell came from.

    ``labels`` names each column's position as the user's program shows it (Excel letters,
    else 1-based numbers); ``sheet`` and ``header_row`` place an Excel table (row ``i`` of
    ``frame`` is sheet row ``header_row + 1 + i``); ``formulas`` and ``notes`` as in
    :class:`analysis.schema.excel.SheetRead`.
    """

    frame: pd.DataFrame
    labels: tuple[str, ...]
    sheet: str | None = None
    header_row: int = 1
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    structure: object | None = None  # Excel: analysis.schema.excel.SheetStructure
    #: Stata: column -> [(frame row, code such as ".a")] of the extended missing values
    #: (read as blank; :func:`_read_dta`).
    extended_missing: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    #: CSV: headers of the columns not read (not in the codebook, in a file with more than
    #: :data:`SKIP_UNKNOWN_ABOVE` of them; :func:`_read_csv`): named in the warnings only.
    ignored: tuple[str, ...] = ()


def read_table(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Read one export file as text (CSV, Excel .xlsx or Stata .dta), blanks as ``""``.

    The frame of :func:`read_export` without the codebook (Excel: the first sheet, or
    ``sheet``, header in row 1).
    """
    return read_export(path, sheet=sheet).frame


def read_export(path: Path, expected: Sequence[str] = (), sheet: str | None = None,
                table: str = "") -> TableRead:
    """Read one export file as text cells (CSV, Excel .xlsx or Stata .dta).

    CSV must be UTF-8 (a byte-order mark, as Excel's "CSV UTF-8" writes, is accepted) and
    comma-separated (a semicolon- or tab-separated file is named as such). Excel: see
    :mod:`analysis.schema.excel` (``expected`` are the table's codebook columns, used to find
    the sheet and header row). Stata value labels are read as the category text.

    Raises
    ------
    DataValidationError
        Naming the file: not found, not readable (the operating system's reason as a
        sentence), empty, not UTF-8, another delimiter, malformed, or an unsupported type.
    """
    path = Path(path)
    try:
        return _read_any(path, expected, sheet, table)
    except OSError as exc:
        raise DataValidationError(f"{path}: {os_reason(exc)}") from None


def os_reason(exc: OSError) -> str:
    """An operating-system error reading the data, as the start of a sentence."""
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be read: {(exc.strerror or type(exc).__name__).lower()}"


def _read_any(path: Path, expected: Sequence[str], sheet: str | None,
              table: str) -> TableRead:
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataValidationError(f"{path}: unsupported file type {suffix!r} "
                                  f"(use {FORMATS_TEXT})")
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path}: file is empty (expected a header row and data)")
    try:
        if suffix == ".xlsx":
            from analysis.schema.excel import read_workbook

            got = read_workbook(path, expected, sheet, table)
            return TableRead(got.frame, got.letters, got.sheet, got.header_row, got.formulas,
                             got.notes, got.structure)
        extended: dict[str, list[tuple[int, str]]] = {}
        labels, ignored = None, ()
        if suffix == ".csv":
            _refuse_wide_unicode(path)
            frame, labels, ignored = _read_csv(path, expected)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)  # pyarrow, pinned; columns keep their types
        else:
            frame, extended = _read_dta(path)
    except (DataValidationError, OSError):
        raise
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
        _refuse_other_delimiter(path)
        raise DataValidationError(f"{path}: not a well-formed CSV file ({exc}); check for "
                                  "unquoted commas inside values") from None
    except Exception as exc:  # noqa: BLE001 (openpyxl/pyreadstat raise many types)
        kind = {".xlsx": "an Excel .xlsx workbook", ".dta": "a Stata .dta file",
                ".parquet": "a Parquet file"}.get(suffix, "a CSV file")
        raise DataValidationError(f"{path}: cannot be read as {kind} "
                                  f"({type(exc).__name__}: {exc})") from None
    frame = _as_text(frame.reset_index(drop=True))
    return TableRead(frame, labels or tuple(str(i + 1) for i in range(frame.shape[1])),
                     extended_missing=extended, ignored=ignored)


#: A CSV with more columns than this that the codebook does not know is read without them
#: (their headers are still named in the warnings): a registry export of 100,000 patients
#: with 5,000 extra columns would otherwise hold 500 million text cells it never uses.
SKIP_UNKNOWN_ABOVE = 50


def _read_csv(path: Path, expected: Sequence[str] = ()
              ) -> tuple[pd.DataFrame, tuple[str, ...] | None, tuple[str, ...]]:
    """The CSV as text cells; with ``expected`` (the codebook's columns) and more than
    :data:`SKIP_UNKNOWN_ABOVE` other columns, only the codebook's columns (matched ignoring
    case and outer spaces) are read. Returns the frame, the kept columns' 1-based positions
    (None: all kept) and the headers of the columns not read."""
    usecols, labels, ignored = None, None, ()
    if expected:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        wanted = {c.lower() for c in expected}
        keep = [i for i, name in enumerate(header) if name.strip().lower() in wanted]
        if len(header) - len(keep) > SKIP_UNKNOWN_ABOVE and keep:
            usecols, labels = keep, tuple(str(i + 1) for i in keep)
            ignored = tuple(name for i, name in enumerate(header) if i not in set(keep))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        header=None, usecols=usecols)
    if frame.shape[1] == 1 and usecols is None:
        _refuse_other_delimiter(path)
    header = frame.iloc[0] if len(frame) else pd.Series(dtype=object)
    frame = frame.iloc[1:]
    frame.columns = list(header)
    return frame, labels, ignored


def _read_dta(path: Path) -> tuple[pd.DataFrame, dict[str, list[tuple[int, str]]]]:
    """A Stata file with its value labels applied, and its extended missing values.

    Stata's extended missing values ``.a`` to ``.z`` say *why* a value is missing (not done,
    refused); read as plain blanks they would vanish without a word, so they are read
    (``user_missing=True``: pyreadstat gives the letter) and returned per column, as (row,
    ``".a"``), and the cell is blank; the rules count them, and refuse them where a value is
    required (:func:`analysis.schema.export._stata_problems`).
    """
    import pyreadstat

    frame, meta = pyreadstat.read_dta(str(path), apply_value_formats=True, user_missing=True)
    extended: dict[str, list[tuple[int, str]]] = {}
    for column, kind in meta.readstat_variable_types.items():
        if kind == "string" or frame[column].dtype != object:
            continue
        labels = {str(v) for v in (meta.variable_value_labels.get(column) or {}).values()}
        values = frame[column]
        codes = values.map(lambda v: isinstance(v, str) and len(v) == 1 and "a" <= v <= "z")
        codes &= ~values.isin(labels)
        if codes.any():
            extended[column] = [(i, f".{values.iat[i]}") for i in np.flatnonzero(codes)]
            frame[column] = values.where(~codes, np.nan)
            if not values[~codes].map(lambda v: isinstance(v, str)).any():
                frame[column] = pd.to_numeric(frame[column])
    # Stata 'float' is single precision: 123.8 is stored as 123.80000305..., read
    # back as float32 so that its text is the 123.8 that was typed.
    for column, kind in meta.readstat_variable_types.items():
        if kind == "float" and pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].astype("float32")
    return frame, extended


#: Delimiters a spreadsheet's "CSV" may use instead of a comma, by name.
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _refuse_other_delimiter(path: Path) -> None:
    """Raise when the file looks separated by ``;``, tabs or ``|`` rather than commas.

    :class:`csv.Sniffer` decides on the first lines; when it cannot, the header alone does
    (the codebook's names hold none of these characters).
    """
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        sample = handle.read(64 * 1024)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = max(",;\t|", key=(sample.splitlines() or [""])[0].count)
    header = sample.splitlines()[0] if sample else ""
    if delimiter in _DELIMITERS and header.count(delimiter) > header.count(","):
        raise DataValidationError(f"{path}: this looks like a {_DELIMITERS[delimiter]}-"
                                  "separated file; save it as comma-separated CSV (UTF-8)")


#: Byte-order marks of the Unicode encodings other than UTF-8 (UTF-32 first: its
#: little-endian mark begins with UTF-16's).
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32", "utf-32"), (b"\x00\x00\xfe\xff", "UTF-32", "utf-32"),
              (b"\xff\xfe", "UTF-16", "utf-16"), (b"\xfe\xff", "UTF-16", "utf-16"))


def _refuse_wide_unicode(path: Path) -> None:
    """Name a UTF-16 or UTF-32 file by its byte-order mark (Excel's "Unicode Text" and some
    registry tools write UTF-16), with the one command that converts it: reading it as UTF-8
    would fail on its first byte and blame an accented letter."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    for mark, name, codec in _WIDE_BOMS:
        if start.startswith(mark):
            raise DataValidationError(
                f"{path}: {name} text (byte-order mark {mark.hex(' ').upper()}), not UTF-8; "
                f"convert it in place with: python -c \"import pathlib; p = pathlib.Path("
                f"'{path}'); p.write_text(p.read_text(encoding='{codec}'), encoding='utf-8')\"")


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


