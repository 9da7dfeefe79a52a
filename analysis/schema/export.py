"""An export folder: find its three files, read and check them, describe the result."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError
from analysis.schema.codebook import (
    DEFAULT_CODEBOOK,
    SUFFIXES,
    TABLES,
    Codebook,
    Cohort,
    load_codebook,
)
from analysis.schema.problems import Problem, format_problems
from analysis.schema.read import TableRead, _as_text, find_table, os_reason, read_export
from analysis.schema.rules import (
    _missing_file,
    _relabel,
    _validate_columns,
    codebook_names,
    missing_tokens,
    unknown_columns,
    validate_tables,
)

__all__ = ["ExportCheck", "check_export", "read_cohort", "describe_cohort", "forget_reads",
           "param_warnings"]


@dataclass(frozen=True)
class ExportCheck:
    """Result of checking an export folder: the cohort (None when anything is wrong), the
    problems that prevent its use, warnings (e.g. columns that will be ignored), the file
    each table was read from, and ``read_warnings``: the warnings that do not depend on the
    run's parameters (those of the reading; :func:`param_warnings` adds the others)."""

    cohort: Cohort | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    read_warnings: list[Problem] = field(default_factory=list)



def check_export(folder: str | Path, codebook: Codebook | None = None,
                 sheet: str | None = None, params=None) -> ExportCheck:
    """Read an export folder and check it; never raises for a problem of the data.

    Parameters
    ----------
    folder : the export folder (``patients``, ``assessments``, ``doses``).
    codebook : default ``data/raw/codebook.csv``.
    sheet : the sheet every ``.xlsx`` file is read from (default: chosen by its header).
    params : :class:`analysis.params.Params` the empty-data warnings are worded for
        (default the paper's); see :func:`analysis.schema.empty.empty_data_warnings`.

    Returns
    -------
    ExportCheck with the cohort (None if any problem), every problem and every warning.

    Raises
    ------
    DataValidationError
        Only when the folder itself does not exist or cannot be read.
    """
    folder = Path(folder)
    default_codebook = codebook is None
    codebook = codebook or load_codebook()
    try:
        if folder.is_file():
            raise DataValidationError(
                f"{folder} is a file, not the export's folder: give the folder that holds "
                f"patients, assessments and doses (--data {folder.parent})")
        if not folder.is_dir():
            raise DataValidationError(f"data folder not found: {folder}")
        reads, names, problems, warnings = _read_folder(folder, codebook, sheet)
    except OSError as exc:
        raise DataValidationError(
            f"the data folder {folder} cannot be read ({os_reason(exc).split(': ')[-1]}): "
            "give your user read and execute access to it (chmod u+rx), or copy the export "
            "to a folder you own") from None
    raw = {table: read.frame for table, read in reads.items()}
    labels = {table: read.labels for table, read in reads.items()}
    for table, frame in raw.items():
        ignored = pd.DataFrame(columns=list(frame.columns) + list(reads[table].ignored))
        warnings.extend(unknown_columns(ignored, table, codebook, names[table]))
    if len(raw) < len(TABLES):
        # Check the tables that could be read, so every problem is reported at once.
        for table, frame in raw.items():
            _, found = _validate_columns(_as_text(frame), table, codebook, names[table],
                                         labels[table])
            problems.extend(_relabel(found))
        return ExportCheck(None, _place(problems, reads, names, codebook),
                           _place(warnings, reads, names, codebook), names)
    for table in list(raw):
        raw[table], tokens = missing_tokens(raw[table], table, codebook, names[table])
        warnings.extend(tokens)
    cohort, found = validate_tables(raw, codebook, names, labels)
    reported = {(p.file, p.row, p.column) for p in problems}  # e.g. a Stata .a, required
    found = [p for p in found if (p.file, p.row, p.column) not in reported]
    problems = _place(problems + found, reads, names, codebook)
    warnings = _place(warnings, reads, names, codebook)
    read_warnings = warnings
    if cohort is not None and not problems:
        if default_codebook:
            _remember(folder, sheet, cohort, warnings, names)
            cohort = _copies(cohort)
        warnings = warnings + param_warnings(cohort, params, names)
    return ExportCheck(cohort if not problems else None, problems, warnings, names,
                       read_warnings)


def param_warnings(cohort: Cohort, params=None, names: dict[str, str] | None = None
                   ) -> list[Problem]:
    """The warnings that depend on the run's parameters: data blank where a rule or a table
    row needs it (:func:`analysis.schema.empty.empty_data_warnings`) and patients without the
    follow-up assessment their response is judged on
    (:func:`analysis.schema.empty.missing_visit_warnings`)."""
    from analysis.schema.empty import empty_data_warnings, missing_visit_warnings

    return [*missing_visit_warnings(cohort, params, names),
            *empty_data_warnings(cohort, params, names)]


def _read_folder(folder: Path, codebook: Codebook, sheet: str | None):
    """Find and read each table's file: (reads, file names, problems, warnings)."""
    reads: dict[str, TableRead] = {}
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
            reads[table] = read_export(path, list(codebook.columns(table).index), sheet, table)
        except DataValidationError as exc:
            message = str(exc).removeprefix(f"{path}: ")
            problems.append(Problem(path.name, None, None, message, fix=_read_fix(message)))
            continue
        warnings.extend(Problem(path.name, None, None, note, level="warning",
                                sheet=reads[table].sheet if note.startswith("the header") else None,
                                fix="nothing to do if this is the table")
                        for note in reads[table].notes)
        problems.extend(_formula_problems(reads[table], table, codebook, path.name))
        found = _structure_problems(reads[table], table, codebook, path.name) \
            + _stata_problems(reads[table], table, codebook, path.name)
        problems.extend(p for p in found if p.level == "error")
        warnings.extend(p for p in found if p.level == "warning")
    return reads, names, problems, warnings


def _stata_problems(read: TableRead, table: str, codebook: Codebook,
                    file: str) -> list[Problem]:
    """Stata extended missing values (``.a``-``.z``): an error per cell where the codebook
    requires a value (naming the code found), else one warning per column counting them by
    code (they are read as blank: missing)."""
    spec = codebook.columns(table)
    columns = codebook_names([str(c) for c in read.frame.columns], list(spec.index))
    typed = [str(c) for c in read.frame.columns]
    out = []
    for name, cells in read.extended_missing.items():
        column = columns[typed.index(name)] if name in typed else name
        if column not in spec.index:
            continue
        if spec.at[column, "required"] == "yes":
            out.extend(Problem(file, i + 1, column, f"Stata extended missing value {code} where "
                               "a value is required", code, row_label="observation",
                               fix="enter the value from the chart (a required value cannot "
                                   "be missing, whatever the reason)")
                       for i, code in cells)
            continue
        counts = pd.Series([code for _, code in cells]).value_counts().sort_index()
        shown = ", ".join(f"{code}: {n}" for code, n in counts.items())
        out.append(Problem(file, None, column, f"{len(cells)} Stata extended missing "
                           f"value{'s' if len(cells) != 1 else ''} ({shown}) read as blank "
                           "(missing)", level="warning",
                           fix="nothing to do if these values are unknown; the reason a code "
                               "stands for is not used"))
    return out


def _spans(numbers: list[int]) -> str:
    """``[5, 9, 10, 11]`` -> ``"5, 9-11"``."""
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(str(n) if n == start else f"{start}-{n}")
            start = None
    return ", ".join(out)


def _structure_problems(read: TableRead, table: str, codebook: Codebook,
                        file: str) -> list[Problem]:
    """An Excel sheet's structure (:func:`analysis.schema.excel.sheet_structure`) as
    problems: merged cells in the header or the data, hidden rows of the data and hidden
    codebook columns are errors (each would change what is read without a sign); formulas
    with a saved value are read as that value, and said so once per column (a warning)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import (
        column_index_from_string,
        coordinate_from_string,
        range_boundaries,
    )

    structure = read.structure
    if structure is None:
        return []
    spec = list(codebook.columns(table).index)
    typed = [str(c) for c in read.frame.columns]
    columns = codebook_names(typed, spec)
    width, first, last = len(columns), read.header_row, read.header_row + len(read.frame)
    where = {"sheet": read.sheet}
    out = []
    for ref in structure.merged:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if max_row < first or min_row > last or min_col > width:
            continue  # a title above the header, or beside the table
        header = typed[min_col - 1] if min_col <= width else ""
        if min_row <= first < max_row:
            below = f"{get_column_letter(min_col)}{first + 1}"
            if (max_col, max_row) != (min_col, first + 1):
                below += f":{get_column_letter(max_col)}{max_row}"
            what = (f"the header{f' {header!r}' if header else ''} is merged down into the "
                    f"data, so {below} read{'s' if ':' not in below else ''} as blank")
        elif min_row == max_row == first:
            what = "header cells are merged, so only the first holds a header"
        else:
            what = "only the first cell holds the value, the others read as blank"
        out.append(Problem(file, None, columns[min_col - 1] if header else None,
                           f"cells {ref} are merged: {what}", fix="unmerge the cells (Excel: "
                           "Home > Merge & Center > Unmerge Cells; LibreOffice: Format > Merge "
                           "and Unmerge Cells > Split Cells) and type the value in each cell",
                           **where))
    hidden = [r for r in structure.hidden_rows if first < r <= last]
    if hidden:
        out.append(Problem(file, None, None,
                           f"{'row' if len(hidden) == 1 else 'rows'} {_spans(hidden)} "
                           f"{'is' if len(hidden) == 1 else 'are'} hidden ({len(hidden)} "
                           f"row{'s' if len(hidden) != 1 else ''}); hidden rows would be read "
                           "like every other row", fix="unhide them (select the sheet, then "
                           "Format > Hide & Unhide > Unhide Rows) and check them; delete the rows "
                           "that do not belong in the export", **where))
    for number in structure.hidden_columns:
        if number <= width and columns[number - 1] in spec:
            out.append(Problem(file, None, columns[number - 1],
                               f"column {get_column_letter(number)} is hidden; it is a codebook "
                               "column and would be read like a visible one",
                               fix="unhide it (Format > Hide & Unhide > Unhide Columns) and "
                                   "check its values", **where))
    saved: dict[str, list[tuple[str, str]]] = {}
    for ref, (formula, has_value) in structure.formulas.items():
        letters, row = coordinate_from_string(ref)
        number = column_index_from_string(letters)
        if has_value and first < row <= last and number <= width and columns[number - 1] in spec:
            saved.setdefault(columns[number - 1], []).append((ref, formula))
    for column, cells in saved.items():
        ref, formula = cells[0]
        n = len(cells)
        out.append(Problem(file, None, column,
                           f"{n} cell{'s' if n != 1 else ''} hold{'s' if n == 1 else ''} a "
                           f"formula (e.g. cell {ref}: {formula}); the result saved with the "
                           "workbook is read as the value", level="warning",
                           fix="nothing to do if the saved results are right; to be sure, "
                               "replace the formulas by their values (Copy, then Paste "
                               "Special > Values)", **where))
    return out


def _formula_problems(read: TableRead, table: str, codebook: Codebook,
                      file: str) -> list[Problem]:
    """Excel formula cells without a saved value, in codebook columns (others are ignored);
    placed like every problem by :func:`_place` (frame row ``i`` is row ``i + 2``)."""
    spec = list(codebook.columns(table).index)
    columns = codebook_names([str(c) for c in read.frame.columns], spec)
    return [Problem(file, i + 2, columns[j], "formula without a saved value", formula,
                    fix="open the workbook in Excel or LibreOffice and save it (so that the "
                        "result is stored), or type the value")
            for (i, j), formula in sorted(read.formulas.items()) if columns[j] in spec]


def _place(problems: list[Problem], reads: dict[str, TableRead], names: dict[str, str],
           codebook: Codebook) -> list[Problem]:
    """Excel problems: row as the sheet numbers it (a title row shifts it), the sheet, and
    the cell in A1 notation; one problem per cell (a formula or error cell is reported once,
    not again as a blank)."""
    columns = {table: codebook_names([str(c) for c in read.frame.columns],
                                     list(codebook.columns(table).index))
               for table, read in reads.items() if read.sheet is not None}
    tables = {name: table for table, name in names.items()}
    out, seen = [], set()
    for problem in problems:
        table = tables.get(problem.file)
        if table not in columns or problem.sheet is not None:
            out.append(problem)
            continue
        read = reads[table]
        row = problem.row + read.header_row - 1 if problem.row is not None else None
        cell = (f"{read.labels[columns[table].index(problem.column)]}{row}"
                if row is not None and problem.column in columns[table] else None)
        if cell is not None and (problem.file, cell) in seen:
            continue
        seen.add((problem.file, cell))
        out.append(dataclasses.replace(problem, row=row, sheet=read.sheet, cell=cell)
                   if problem.level == "error" or problem.row is not None else problem)
    return out


def _read_fix(message: str) -> str:
    if "byte-order mark" in message:
        return ("run that command (or save the file from Excel as 'CSV UTF-8'), then validate "
                "again")
    if "UTF-8" in message and "separated" not in message:
        return ("re-export as UTF-8: Excel 'CSV UTF-8 (Comma delimited)'; LibreOffice "
                "character set 'Unicode (UTF-8)'; or give the .xlsx workbook itself")
    if "separated" in message:
        return ("Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; LibreOffice: Save As "
                "CSV with field delimiter ','; or give the .xlsx workbook itself")
    if "permission denied" in message:
        return ("give your user read access to the file (chmod u+r), or copy it to a folder "
                "you own")
    if "sheet" in message:
        return ("name the sheet with --sheet, or put the table on the first sheet with its "
                "header (the codebook's column names) in row 1")
    if "empty" in message:
        return "export the table again, with its header row and one row per record"
    if "cannot be read:" in message:
        return "check the disk or network share, copy the file to a local folder, try again"
    return "export the table again as CSV (UTF-8), .xlsx, .dta or .parquet"


def read_cohort(folder: str | Path, codebook: Codebook | None = None,
                sheet: str | None = None) -> Cohort:
    """Read and validate ``patients``, ``assessments`` and ``doses`` from an export folder.

    ``sheet``: the sheet every ``.xlsx`` file is read from (default: chosen by its header).
    With the default codebook, a folder whose files are unchanged since the last clean read
    in this process is not read again (:func:`_memo_key`); each call returns its own
    shallow copies of the tables.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, row, column, rule and fix.
    """
    key = _memo_key(folder, sheet) if codebook is None else None
    if key is not None and key in _MEMO:
        return _copies(_MEMO[key][0])
    check = check_export(folder, codebook, sheet=sheet)
    if check.problems:
        raise DataValidationError(format_problems(check.problems, folder=folder))
    return _copies(check.cohort)


#: The last clean read of this process: ``{_memo_key: (Cohort, warnings that do not depend
#: on the parameters, file names)}`` (one entry).
_MEMO: dict[tuple, tuple[Cohort, list[Problem], dict[str, str]]] = {}


def _memo_key(folder: str | Path, sheet: str | None) -> tuple | None:
    """What a clean read depends on: the folder's files and the default codebook, each as
    (path, size, mtime_ns), and the sheet. None when the folder cannot be listed. A file
    rewritten within the same nanosecond with the same size would be missed; an export
    is not rewritten while a run reads it."""
    try:
        files = [Path(folder).resolve() / name for name in sorted(os.listdir(folder))]
        files.append(DEFAULT_CODEBOOK.resolve())
        return (sheet, *((str(p), st.st_size, st.st_mtime_ns)
                         for p in files if p.is_file() for st in [p.stat()]))
    except OSError:
        return None


def forget_reads() -> None:
    """Drop the remembered read (:func:`read_cohort`), e.g. in a process that validated an
    export it will not analyse itself."""
    _MEMO.clear()


def _remember(folder: Path, sheet: str | None, cohort: Cohort, warnings: list[Problem],
              names: dict[str, str]) -> None:
    key = _memo_key(folder, sheet)
    _MEMO.clear()
    if key is not None:
        _MEMO[key] = (cohort, list(warnings), dict(names))


def _copies(cohort: Cohort) -> Cohort:
    """Shallow copies of the tables: under pandas 3 copy-on-write a caller's change to its
    copy through pandas (a new column, ``loc``/``iloc`` assignment, ``fillna``, ``rename``)
    copies the data it changes first, so the remembered tables never change. Copy-on-write
    does not guard writing into a column's buffer directly (``series.array[i] = v``); the
    package never does that."""
    return Cohort(cohort.patients.copy(deep=False), cohort.assessments.copy(deep=False),
                  cohort.doses.copy(deep=False))


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
