"""Reading and validating the chart-review export against the codebook.

The codebook (``data/raw/codebook.csv``) is the single source of truth: column names, types,
units, allowed values, ranges, whether a value may be missing, and the spellings a real export
uses for each category (``F=Female|female``, ``Yes=Y|1``). Nothing else is guessed: a spelling
the codebook does not list is a problem, and only a blank cell is a missing value. The pandera
schemas are built from it, so a new column is added in one place. Every problem is reported at
once, each naming file, row, column, the rule and how to fix it.
(Sharma 2017, Materials and Methods: chart review of clinical characteristics.)
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["Codebook", "Cohort", "ExportCheck", "Problem", "load_codebook", "read_cohort",
           "check_export", "read_table", "find_table", "validate_tables", "unknown_columns",
           "format_problems", "describe_cohort", "TABLES", "SUFFIXES", "TIMEPOINT_ORDER",
           "DOSE_TIMEPOINT_ORDER"]

TABLES = ("patients", "assessments", "doses")
#: Export formats read, in order of preference when a folder holds more than one.
SUFFIXES = (".csv", ".xlsx", ".dta")
TIMEPOINT_ORDER = ("index", "month6", "month12", "tac_start", "tac_month6", "tac_month12")
DOSE_TIMEPOINT_ORDER = ("conv_baseline", "conv_6_12m", "tac_start", "tac_3_6m", "tac_1y")
DEFAULT_CODEBOOK = Path(__file__).resolve().parent.parent / "data" / "raw" / "codebook.csv"
#: What one row of each table is (for messages and the template).
GRAIN = {"patients": "one row per screened patient",
         "assessments": "one row per patient and time point",
         "doses": "one row per patient, drug and time point"}
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_CODEBOOK_COLUMNS = ("table", "column", "type", "unit", "allowed", "min", "max", "required",
                     "spellings", "meaning")
_TYPES = ("string", "integer", "number", "category", "boolean")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where it is, what is wrong and how to fix it.

    ``level`` is ``"error"`` (the export cannot be used) or ``"warning"`` (it can, but look).
    """

    file: str
    row: int | None  # 1-based row as a spreadsheet shows it (header = row 1), or None
    column: str | None
    rule: str
    value: str = ""
    fix: str = ""
    level: str = "error"
    row_label: str = "row"  # "observation" for Stata files (numbered without the header)

    def location(self, with_file: bool = True) -> str:
        parts = [self.file] if with_file else []
        if self.row is not None:
            parts.append(f"{self.row_label} {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def describe(self, with_file: bool = True) -> str:
        shown = f" (found {self.value!r})" if self.value != "" else ""
        tag = "warning: " if self.level == "warning" else ""
        where = self.location(with_file)
        text = f"{where + ': ' if where else ''}{tag}{self.rule}{shown}"
        return text + (f"\n      fix: {self.fix}" if self.fix else "")

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Codebook:
    """The codebook as a frame, one row per (table, column)."""

    frame: pd.DataFrame

    def columns(self, table: str) -> pd.DataFrame:
        return self.frame[self.frame["table"] == table].set_index("column")

    def spellings(self, table: str, column: str) -> dict[str, str]:
        """Map every accepted spelling of a category to its canonical value.

        Only what the codebook lists: the allowed values themselves, and the ``spellings``
        column, ``canonical=alternative|alternative;canonical=...`` (an empty alternative
        means a blank cell stands for that value, e.g. ``none=None|``).
        """
        row = self.columns(table).loc[column]
        mapping: dict[str, str] = {}
        for canonical in _split(row["allowed"], "|"):
            mapping[canonical] = canonical
        for group in _split(row["spellings"], ";"):
            canonical, _, alternatives = group.partition("=")
            for alt in alternatives.split("|"):
                mapping[alt.strip()] = canonical.strip()
        return mapping


@dataclass(frozen=True)
class Cohort:
    """The three validated tables, with codebook types (booleans as bool, categories as str)."""

    patients: pd.DataFrame
    assessments: pd.DataFrame
    doses: pd.DataFrame


@dataclass(frozen=True)
class ExportCheck:
    """Result of checking an export folder: the cohort (None when anything is wrong), the
    problems that prevent its use, and warnings (e.g. columns that will be ignored)."""

    cohort: Cohort | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def _split(text, sep: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [part.strip() for part in text.split(sep) if part.strip() or sep == "|"]


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read ``codebook.csv`` (every column as text, so nothing is guessed).

    Raises
    ------
    DataValidationError
        When the codebook itself is missing or malformed (it drives every check).
    """
    path = Path(path) if path else DEFAULT_CODEBOOK
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise DataValidationError(f"codebook {path} cannot be read: {exc}") from None
    missing = [c for c in _CODEBOOK_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(f"codebook {path}: missing column(s) {', '.join(missing)}")
    bad = frame.loc[~frame["type"].isin(_TYPES), "column"].tolist()
    if bad:
        raise DataValidationError(f"codebook {path}: unknown type for {', '.join(bad)}; "
                                  f"allowed: {', '.join(_TYPES)}")
    return Codebook(frame)


# --------------------------------------------------------------------------- reading
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


def _missing_file(folder: Path | None, table: str) -> Problem:
    near = sorted(p.name for p in folder.iterdir()
                  if p.name.lower().startswith(table[:5]) and p.is_file()) \
        if folder is not None and folder.is_dir() else []
    hint = f" (found {', '.join(near)}: rename to {table}.csv, .xlsx or .dta)" if near else ""
    where = f" in {folder}" if folder is not None else ""
    return Problem(f"{table}.csv", None, None, f"file not found{where}{hint}",
                   fix=f"export the {table} table ({GRAIN[table]}) as {table}.csv, "
                       f"{table}.xlsx or {table}.dta; `python -m analysis template` writes "
                       "blank ones")


def check_export(folder: str | Path, codebook: Codebook | None = None) -> ExportCheck:
    """Read an export folder and check it; never raises for a problem of the data.

    Returns
    -------
    ExportCheck with the cohort (None if any problem), every problem and every warning.

    Raises
    ------
    DataValidationError
        Only when the folder itself does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataValidationError(f"data folder not found: {folder}")
    codebook = codebook or load_codebook()
    raw: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for table in TABLES:
        path = find_table(folder, table)
        names[table] = path.name
        others = [s for s in SUFFIXES if s != path.suffix and (folder / f"{table}{s}").is_file()]
        if path.is_file() and others:
            warnings.append(Problem(path.name, None, None,
                                    f"also found {', '.join(table + s for s in others)}; "
                                    f"using {path.name}", level="warning",
                                    fix="keep one file per table"))
        if not path.is_file():
            problems.append(_missing_file(folder, table))
            continue
        try:
            raw[table] = read_table(path)
        except DataValidationError as exc:
            message = str(exc).removeprefix(f"{path}: ")
            problems.append(Problem(path.name, None, None, message, fix=_read_fix(message)))
    for table, frame in raw.items():
        warnings.extend(unknown_columns(frame, table, codebook, names[table]))
    if len(raw) < len(TABLES):
        # Check the tables that could be read, so every problem is reported at once.
        for table, frame in raw.items():
            _, found = _validate_columns(_as_text(frame), table, codebook, names[table])
            problems.extend(_relabel(found))
        return ExportCheck(None, problems, warnings, names)
    cohort, found = validate_tables(raw, codebook, names)
    return ExportCheck(cohort, problems + found, warnings, names)


def _read_fix(message: str) -> str:
    if "UTF-8" in message:
        return ("re-export as UTF-8: Excel 'CSV UTF-8 (Comma delimited)'; LibreOffice "
                "character set 'Unicode (UTF-8)'; or give the .xlsx workbook itself")
    if "empty" in message:
        return "export the table again, with its header row and one row per record"
    return "export the table again as CSV (UTF-8), .xlsx or .dta"


def read_cohort(folder: str | Path, codebook: Codebook | None = None) -> Cohort:
    """Read and validate ``patients``, ``assessments`` and ``doses`` from an export folder.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, row, column, rule and fix.
    """
    check = check_export(folder, codebook)
    if check.problems:
        raise DataValidationError(format_problems(check.problems, folder=folder))
    return check.cohort


def format_problems(problems: list[Problem], folder: str | Path | None = None) -> str:
    """All problems, grouped by file; in a file, file-wide problems first, then by row.

    The first line counts them and repeats the first one in full, so that it alone says what
    is wrong; the fix of each follows it in the list.
    """
    errors = [p for p in problems if p.level != "warning"]
    warnings = [p for p in problems if p.level == "warning"]
    files = sorted(dict.fromkeys(p.file for p in problems),
                   key=lambda f: TABLES.index(Path(f).stem) if Path(f).stem in TABLES
                   else len(TABLES))
    ordered = [p for file in files for p in sorted(
        (q for q in problems if q.file == file),
        key=lambda q: (q.level == "warning", q.row is not None, q.row or 0))]
    counts = [f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"] if errors else []
    if warnings:
        counts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    counts = " and ".join(counts) or "no problems"
    where = f" in {folder}" if folder is not None else " in the input data"
    first = next((p for p in ordered if p.level != "warning"), ordered[0] if ordered else None)
    lines = [f"{counts}{where}" + ("" if first is None else (
        ": " if len(problems) == 1 else ", the first: ") + first.describe().split("\n")[0])]
    for file in files:
        lines.append(f"  {file}:")
        lines.extend(f"    - {p.describe(with_file=False)}" for p in ordered if p.file == file)
    return "\n".join(lines)


# --------------------------------------------------------------------------- validation
def validate_tables(raw: dict[str, pd.DataFrame], codebook: Codebook,
                    names: dict[str, str] | None = None) -> tuple[Cohort | None, list[Problem]]:
    """Normalise spellings, convert types and check every codebook and cross-table rule.

    ``raw`` holds the tables as read (any cell types; they are taken as text). Returns the
    typed cohort (None when anything is wrong) and the list of problems; unknown extra columns
    are not problems (see :func:`unknown_columns`).
    """
    names = {**{t: f"{t}.csv" for t in TABLES}, **(names or {})}
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame | None] = {}
    for table in TABLES:
        if table not in raw:
            problems.append(_missing_file(None, table))
            typed[table] = None
            continue
        frame, found = _validate_columns(_as_text(raw[table]), table, codebook, names[table])
        problems.extend(found)
        typed[table] = frame
    if all(frame is not None for frame in typed.values()):
        # Also when some cells are wrong (they are missing here), so all is reported at once.
        problems.extend(_cross_table_problems(typed, names))
    if problems:
        return None, _relabel(problems)
    return Cohort(**typed), []


def _relabel(problems: list[Problem]) -> list[Problem]:
    """Stata numbers observations from 1 without a header row."""
    return [dataclasses.replace(p, row=p.row - 1, row_label="observation")
            if p.file.lower().endswith(".dta") and p.row is not None else p for p in problems]


def unknown_columns(frame: pd.DataFrame, table: str, codebook: Codebook,
                    file: str | None = None) -> list[Problem]:
    """Warnings for columns the codebook does not know (a real export carries more); they
    are ignored, and named so that a misspelt required column is easy to spot."""
    import difflib

    file = file or f"{table}.csv"
    spec = list(codebook.columns(table).index)
    found = []
    for column in dict.fromkeys(_cell_text(c) for c in frame.columns):
        if column in spec:
            continue
        close = difflib.get_close_matches(column, spec, n=1, cutoff=0.7)
        fix = (f"rename it to '{close[0]}' if that is what it holds, or remove it"
               if close else "remove it, or leave it: it is not used")
        found.append(Problem(file, None, column or "(blank header)",
                             "column is not in the codebook and will be ignored",
                             fix=fix, level="warning"))
    return found


def _validate_columns(frame: pd.DataFrame, table: str, codebook: Codebook,
                      file: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check one text table against its codebook columns.

    Returns the typed table (None when it lacks rows or columns, so it cannot be checked
    further; cells that could not be converted are missing) and its problems.
    """
    import difflib

    spec = codebook.columns(table)
    problems: list[Problem] = []
    if len(frame) == 0:
        return None, [Problem(file, None, None, "no data rows (only a header)",
                              fix=f"export the table with its data: {GRAIN[table]}")]
    columns = list(frame.columns)
    if len(columns) == 1 and columns[0] not in spec.index and any(
            sep in columns[0] for sep in ";\t"):
        return None, [Problem(file, None, None, "the header is one column separated by ';' or "
                              "tabs, not commas", columns[0][:60],
                              fix="save as comma-separated CSV (or give the .xlsx workbook)")]
    for column in dict.fromkeys(c for c in columns if columns.count(c) > 1 and c in spec.index):
        positions = [i + 1 for i, c in enumerate(columns) if c == column]
        problems.append(Problem(file, None, column, "column appears more than once "
                                f"(columns {', '.join(map(str, positions))})",
                                fix="keep one column of this name"))
    missing = [c for c in spec.index if c not in columns]
    for column in missing:
        extra = [c for c in columns if c not in spec.index]
        close = difflib.get_close_matches(column, extra, n=1, cutoff=0.7)
        hint = f" (is '{close[0]}' meant to be it?)" if close else ""
        problems.append(Problem(file, None, column, f"required column is missing{hint}",
                                fix="add the column with this exact header (blank cells are "
                                    "allowed where the codebook says required = no)"))
    if problems:
        return None, problems
    frame = frame.loc[:, list(spec.index)]
    out = {}
    for column, row in spec.iterrows():
        values, found = _convert(frame[column], table, column, row, codebook, file)
        out[column] = values
        problems.extend(found)
    typed = pd.DataFrame(out, index=frame.index)
    # Cells already reported as unconvertible are not reported again as blank.
    reported = {(p.row, p.column) for p in problems}
    problems.extend(p for p in _range_problems(typed, spec, frame, file)
                    if (p.row, p.column) not in reported)
    if not problems:
        for column, row in spec.iterrows():
            if row["type"] == "integer":
                typed[column] = typed[column].round().astype("Int64")
    return typed, problems


def _range_problems(typed: pd.DataFrame, spec: pd.DataFrame, text: pd.DataFrame,
                    file: str) -> list[Problem]:
    """Blank where required, below the minimum, above the maximum: a pandera schema built
    from the codebook, every failure collected (lazy validation)."""
    import pandera.errors
    import pandera.pandas as pa

    checks = {}
    for column, row in spec.iterrows():
        col_checks = []
        limits = f"{row['min'] or '-'} to {row['max'] or '-'} {row['unit']}".rstrip()
        if row["min"] != "":
            col_checks.append(pa.Check.ge(float(row["min"]), error=f"below the minimum: "
                                          f"must be at least {row['min']} {row['unit']}".rstrip()
                                          + f"|{limits}"))
        if row["max"] != "":
            col_checks.append(pa.Check.le(float(row["max"]), error=f"above the maximum: "
                                          f"must be at most {row['max']} {row['unit']}".rstrip()
                                          + f"|{limits}"))
        checks[column] = pa.Column(nullable=row["required"] != "yes", checks=col_checks,
                                   coerce=False)
    schema = pa.DataFrameSchema(checks, strict=False)
    problems = []
    try:
        schema.validate(typed, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples():
            if pd.isna(case.index):
                continue  # a column-level failure; cell failures carry the detail
            index = int(case.index)
            rule, _, limits = str(case.check).partition("|")
            if rule == "not_nullable":
                rule = "value is required (blank is not allowed here)"
                fix = "fill in the value from the chart"
            else:
                fix = f"check the value and its unit (allowed {limits}) and correct it"
                if spec.at[case.column, "required"] != "yes":
                    fix += "; leave the cell blank if the true value is not known"
            problems.append(Problem(file, index + 2, case.column, rule,
                                    str(text.at[index, case.column]), fix=fix))
    return problems


def _convert(values: pd.Series, table: str, column: str, spec: pd.Series, codebook: Codebook,
             file: str) -> tuple[pd.Series, list[Problem]]:
    """Text to the codebook type; a value that cannot be converted is a problem.

    Categories and booleans go through the codebook's spellings only; numbers must be plain
    decimals (``12``, ``-3.5``, ``1e3``); a blank cell is missing.
    """
    problems = []
    kind = spec["type"]
    text = values.astype(object)
    blank = text == ""
    if kind in ("category", "boolean"):
        mapping = codebook.spellings(table, column)
        mapped = pd.Series([mapping.get(v) for v in text], index=text.index, dtype=object)
        allowed = spec["allowed"].replace("|", ", ")
        for idx in text.index[~blank & mapped.isna()]:
            problems.append(Problem(
                file, idx + 2, column, f"unknown category; allowed: {allowed}", text[idx],
                fix="use one of the allowed values, or add this spelling to the codebook's "
                    f"'spellings' column (e.g. {_spelling_example(spec)})"))
        if kind == "boolean":
            result = pd.Series([None if v is None else v == "Yes" for v in mapped],
                               index=text.index, dtype="boolean")
        else:
            result = mapped.astype("string")
        return result, problems
    if kind == "string":
        return text.where(~blank, None).astype("string"), problems
    numbers = []
    unit = f" in {spec['unit']}" if spec["unit"] else ""
    for idx, value in text.items():
        if value == "":
            numbers.append(None)
            continue
        number = float(value) if _NUMBER.fullmatch(value) else None
        if number is None or not math.isfinite(number):
            problems.append(Problem(file, idx + 2, column, f"must be a number{unit}", value,
                                    fix="enter the number only (no units, text or commas); "
                                        "leave the cell blank if it is not known"
                                        if spec["required"] != "yes" else
                                        "enter the number only (no units, text or commas)"))
            numbers.append(None)
        elif kind == "integer" and not number.is_integer():
            problems.append(Problem(file, idx + 2, column, f"must be a whole number{unit}",
                                    value, fix="round to a whole number"))
            numbers.append(None)
        else:
            numbers.append(number)
    return pd.Series(numbers, index=text.index, dtype="Float64"), problems


def _spelling_example(spec: pd.Series) -> str:
    first = _split(spec["allowed"], "|")[:1] or ["value"]
    return f"{first[0]}=your spelling"


def _cross_table_problems(t: dict[str, pd.DataFrame], names: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    patients, assessments, doses = t["patients"], t["assessments"], t["doses"]
    pfile, afile, dfile = names["patients"], names["assessments"], names["doses"]
    first_row = {}
    for idx, pid in patients["patient_id"].dropna().items():
        if pid in first_row:
            problems.append(Problem(pfile, idx + 2, "patient_id",
                                    f"duplicate patient id (also in row {first_row[pid]})",
                                    str(pid), fix="each patient appears once: merge the rows "
                                    "or correct the id"))
        else:
            first_row[pid] = idx + 2
    known = set(patients["patient_id"])
    for table, file in ((assessments, afile), (doses, dfile)):
        for idx in table.index[~table["patient_id"].isin(known) & table["patient_id"].notna()]:
            problems.append(Problem(file, idx + 2, "patient_id",
                                    f"patient is not in {pfile}", str(table.at[idx, "patient_id"]),
                                    fix=f"add the patient to {pfile}, correct the id, or remove "
                                        "the row"))
    younger = (patients["age_at_index"] < patients["age_at_onset"]).fillna(False)
    for idx in patients.index[younger.astype(bool)]:
        problems.append(Problem(pfile, idx + 2, "age_at_index",
                                "age at index is below age at myositis onset "
                                f"({patients.at[idx, 'age_at_onset']:g})",
                                f"{patients.at[idx, 'age_at_index']:g}",
                                fix="check both ages: the index (ILD diagnosis) cannot come "
                                    "before the onset of myositis"))
    tac = (patients["second_line"] == "tacrolimus").fillna(False).astype(bool)
    for idx in patients.index[tac & patients["tacrolimus_data_sufficient"].isna()]:
        problems.append(Problem(pfile, idx + 2, "tacrolimus_data_sufficient",
                                "required when second_line is tacrolimus",
                                fix="enter Yes or No: was the tacrolimus follow-up sufficient "
                                    "for analysis?"))
    key = ["patient_id", "timepoint"]
    complete = assessments[key].notna().all(axis=1)
    for idx in assessments.index[assessments.duplicated(key) & complete]:
        problems.append(Problem(afile, idx + 2, "timepoint",
                                "more than one row for this patient and time point",
                                str(assessments.at[idx, "timepoint"]),
                                fix="keep one assessment per patient and time point"))
    dose_key = ["patient_id", "drug", "timepoint"]
    complete = doses[dose_key].notna().all(axis=1)
    for idx in doses.index[doses.duplicated(dose_key) & complete]:
        problems.append(Problem(dfile, idx + 2, "timepoint",
                                "more than one dose for this patient, drug and time point",
                                str(doses.at[idx, "timepoint"]),
                                fix="keep one daily dose per patient, drug and time point"))
    at_index = (assessments["timepoint"] == "index").fillna(False).astype(bool)
    with_index = set(assessments.loc[at_index, "patient_id"].dropna())
    lacking = ~patients["patient_id"].isin(with_index) & patients["patient_id"].notna()
    for idx in patients.index[lacking]:
        pid = patients.at[idx, "patient_id"]
        problems.append(Problem(afile, None, "timepoint",
                                f"patient {pid} ({pfile} row {idx + 2}) has no index assessment",
                                fix="add the assessment at ILD diagnosis (timepoint index, "
                                    "month 0) for this patient"))
    order = {tp: i for i, tp in enumerate(TIMEPOINT_ORDER)}
    ranked = assessments.assign(_rank=assessments["timepoint"].map(order))
    ranked = ranked.sort_values(["patient_id", "_rank"], kind="stable")
    previous = ranked.groupby("patient_id")["month"].shift()
    previous_tp = ranked.groupby("patient_id")["timepoint"].shift()
    out_of_order = (ranked["month"] <= previous).fillna(False).astype(bool)
    for idx in ranked.index[out_of_order]:
        problems.append(Problem(afile, idx + 2, "month",
                                f"time points out of order: {assessments.at[idx, 'timepoint']} "
                                f"is not later than {previous_tp[idx]} (month "
                                f"{previous[idx]:g}); months must increase along "
                                + " -> ".join(TIMEPOINT_ORDER),
                                f"{assessments.at[idx, 'month']:g}",
                                fix="check the month and the timepoint label of both rows"))
    return problems


def describe_cohort(cohort: Cohort) -> pd.DataFrame:
    """Aggregate overview of a validated export: rows, patients and missing values per column.

    Aggregates only (no patient-level value), so it can be shown in notebooks and the report.
    Columns: ``table``, ``column``, ``rows``, ``patients``, ``missing``, ``summary``
    (range of a number, or the counts of each category).
    """
    records = []
    for table in TABLES:
        frame = getattr(cohort, table)
        for column in frame.columns:
            if column == "patient_id":
                continue
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                summary = (f"{values.min():g} to {values.max():g}" if values.notna().any()
                           else "")
            else:
                counts = values.value_counts(dropna=True).sort_index()
                summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
            records.append({"table": table, "column": column, "rows": len(frame),
                            "patients": frame["patient_id"].nunique(),
                            "missing": int(values.isna().sum()), "summary": summary})
    return pd.DataFrame.from_records(records)
