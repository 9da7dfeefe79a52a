"""An export folder: find its three files, read and check them, describe the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError
from analysis.schema.codebook import SUFFIXES, TABLES, Codebook, Cohort, load_codebook
from analysis.schema.problems import Problem, format_problems
from analysis.schema.read import _as_text, find_table, read_table
from analysis.schema.rules import (
    _missing_file,
    _relabel,
    _validate_columns,
    unknown_columns,
    validate_tables,
)

__all__ = ["ExportCheck", "check_export", "read_cohort", "describe_cohort"]


@dataclass(frozen=True)
class ExportCheck:
    """Result of checking an export folder: the cohort (None when anything is wrong), the
    problems that prevent its use, and warnings (e.g. columns that will be ignored)."""

    cohort: Cohort | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)



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
