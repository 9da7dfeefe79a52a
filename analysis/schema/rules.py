"""Checking the three tables against the codebook and against each other.

Nothing is guessed: a spelling the codebook does not list is a problem, and only a blank cell
is a missing value. Range checks are a pandera schema built from the codebook. Every problem is
collected, each naming file, row, column, the rule and how to fix it.
(Sharma 2017, Materials and Methods: chart review of clinical characteristics.)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.schema.codebook import (
    GRAIN,
    SUFFIXES,
    TABLES,
    TIMEPOINT_ORDER,
    Codebook,
    Cohort,
    _split,
    convert_command,
)
from analysis.schema.plausible import plausible_problems
from analysis.schema.problems import Problem
from analysis.schema.read import _as_text, _cell_text

__all__ = ["validate_tables", "unknown_columns", "codebook_names", "EXCEL_ERRORS"]

#: Excel's error values (openpyxl's ``ERROR_CODES`` and those of newer Excel versions): a
#: cell holding one is an error in every format (a CSV saved from Excel keeps the text).
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!"})
#: A censored laboratory result: ``<20``, ``> 5000``, ``<=0.5``.
_CENSORED = re.compile(r"\s*(<=|>=|<|>|≤|≥)\s*([0-9]+(?:\.[0-9]*)?)\s*")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _missing_file(folder: Path | None, table: str) -> Problem:
    """No file of a format read for ``table``: a file of another name or format that looks
    like it is named, with what to do (rename it, or the command that converts it)."""
    near = sorted((p for p in folder.iterdir()
                   if p.name.lower().startswith(table[:5]) and p.is_file()),
                  key=lambda p: p.name) if folder is not None and folder.is_dir() else []
    readable = [p.name for p in near if p.suffix.lower() in SUFFIXES]
    other = [p for p in near if p.suffix.lower() not in SUFFIXES]
    hint = ""
    if readable:
        hint = f" (found {', '.join(readable)}: rename to {table}.csv, .xlsx, .dta or .parquet)"
    elif other:
        hint = (f" (found {', '.join(p.name for p in other)}: {other[0].suffix} files are not "
                f"read; convert it: {convert_command(other[0], table)})")
    where = f" in {folder}" if folder is not None else ""
    return Problem(f"{table}.csv", None, None, f"file not found{where}{hint}",
                   fix=f"export the {table} table ({GRAIN[table]}) as {table}.csv, "
                       f"{table}.xlsx, {table}.dta or {table}.parquet; `python -m analysis "
                       "template` writes blank ones")


def validate_tables(raw: dict[str, pd.DataFrame], codebook: Codebook,
                    names: dict[str, str] | None = None,
                    labels: dict[str, Sequence[str]] | None = None
                    ) -> tuple[Cohort | None, list[Problem]]:
    """Normalise spellings, convert types and check every codebook and cross-table rule.

    ``raw`` holds the tables as read (any cell types; they are taken as text). Returns the
    typed cohort (None when anything is wrong) and the list of problems; unknown extra columns
    are not problems (see :func:`unknown_columns`). ``labels`` name each table's column
    positions in messages (Excel letters; default 1, 2, ...).
    """
    labels = labels or {}
    names = {**{t: f"{t}.csv" for t in TABLES}, **(names or {})}
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame | None] = {}
    for table in TABLES:
        if table not in raw:
            problems.append(_missing_file(None, table))
            typed[table] = None
            continue
        frame, found = _validate_columns(_as_text(raw[table]), table, codebook, names[table],
                                         labels.get(table))
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


def codebook_names(columns: Sequence[str], spec: Sequence[str]) -> list[str]:
    """The headers with those that differ from a codebook name only in case renamed to it.

    Accepted rather than refused: the codebook's names are lower-case and distinct ignoring
    case, so ``SEX`` or ``Patient_ID`` (Stata and Excel exports often change case) can only
    mean one column; a header and its re-cased twin both present is a duplicated column.
    """
    lower = {name.lower(): name for name in spec}
    return [c if c in spec else lower.get(str(c).lower(), c) for c in columns]


def unknown_columns(frame: pd.DataFrame, table: str, codebook: Codebook,
                    file: str | None = None) -> list[Problem]:
    """Warnings for columns the codebook does not know (a real export carries more); they
    are ignored, and named so that a misspelt required column is easy to spot."""
    import difflib

    file = file or f"{table}.csv"
    spec = list(codebook.columns(table).index)
    found = []
    typed = [_cell_text(c) for c in frame.columns]
    recased = [c for c, name in zip(typed, codebook_names(typed, spec), strict=True)
               if c != name]
    if recased:
        shown = ", ".join(recased[:3]) + (", ..." if len(recased) > 3 else "")
        found.append(Problem(file, None, None, f"{len(recased)} header"
                             f"{'s differ' if len(recased) > 1 else ' differs'} from the "
                             f"codebook only in case ({shown}); read as the codebook's names",
                             fix="nothing to do; or rename the headers to the codebook's "
                                 "(lower-case) names", level="warning"))
    for column in dict.fromkeys(typed):
        if column in spec or column in recased:
            continue
        close = difflib.get_close_matches(column, spec, n=1, cutoff=0.7)
        fix = (f"rename it to '{close[0]}' if that is what it holds, or remove it"
               if close else "remove it, or leave it: it is not used")
        found.append(Problem(file, None, column or "(blank header)",
                             "column is not in the codebook and will be ignored",
                             fix=fix, level="warning"))
    return found


def _validate_columns(frame: pd.DataFrame, table: str, codebook: Codebook, file: str,
                      labels: Sequence[str] | None = None
                      ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check one text table against its codebook columns.

    Headers differing only in case are read as the codebook's (:func:`codebook_names`);
    ``labels`` name the columns' positions (Excel letters; default 1, 2, ...). Returns the
    typed table (None when it lacks rows or columns, so it cannot be checked further; cells
    that could not be converted are missing) and its problems.
    """
    import difflib

    spec = codebook.columns(table)
    problems: list[Problem] = []
    if len(frame) == 0:
        return None, [Problem(file, None, None, "no data rows (only a header)",
                              fix=f"export the table with its data: {GRAIN[table]}")]
    typed_names = list(frame.columns)
    columns = codebook_names(typed_names, list(spec.index))
    frame = frame.set_axis(columns, axis=1)
    labels = list(labels or [str(i + 1) for i in range(len(columns))])
    if len(columns) == 1 and columns[0] not in spec.index and any(
            sep in columns[0] for sep in ";\t"):
        return None, [Problem(file, None, None, "the header is one column separated by ';' or "
                              "tabs, not commas", columns[0][:60],
                              fix="save as comma-separated CSV (or give the .xlsx workbook)")]
    for column in dict.fromkeys(c for c in columns if columns.count(c) > 1 and c in spec.index):
        at = [i for i, c in enumerate(columns) if c == column]
        same = len({typed_names[i] for i in at}) == 1
        positions = [labels[i] if same else f"{labels[i]} '{typed_names[i]}'" for i in at]
        problems.append(Problem(file, None, column, "column appears more than once "
                                f"(columns {', '.join(positions)})",
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
    reported = {(p.row, p.column) for p in problems}
    problems.extend(plausible_problems(typed, spec, frame, file, reported))
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
                rule += _hard_limit_unit(case.failure_case, spec.loc[case.column])
                fix = f"check the value and its unit (allowed {limits}) and correct it"
                if spec.at[case.column, "required"] != "yes":
                    fix += "; leave the cell blank if the true value is not known"
            problems.append(Problem(file, index + 2, case.column, rule,
                                    str(text.at[index, case.column]), fix=fix))
    return problems


#: How exports write "no value" instead of a blank cell (R, SAS/Stata, spreadsheets).
NA_TOKENS = frozenset({"NA", "N/A", "n/a", "na", "#NA", ".", "NULL", "null", "NaN", "nan"})


def missing_tokens(frame: pd.DataFrame, table: str, codebook: Codebook, file: str
                   ) -> tuple[pd.DataFrame, list[Problem]]:
    """``NA``, ``N/A``, ``.`` (:data:`NA_TOKENS`) read as a blank where the codebook allows a
    blank, with one warning per column counting them.

    Only where a blank is allowed (``required`` = no) and means "not known" (no spelling maps
    a blank to a value, as ``none=None|`` does for the biopsy); elsewhere the cell stays as
    typed and :func:`_convert` names it ("a value is required").
    """
    spec = codebook.columns(table)
    columns = codebook_names([str(c) for c in frame.columns], list(spec.index))
    warnings, replace = [], {}
    for j, column in enumerate(columns):
        if column not in spec.index or spec.at[column, "required"] == "yes":
            continue
        if spec.at[column, "type"] in ("category", "boolean") and \
                "" in codebook.spellings(table, column):
            continue
        values = frame.iloc[:, j]
        tokens = values.isin(NA_TOKENS)
        if not tokens.any():
            continue
        replace[j] = values.where(~tokens, "")
        counts = values[tokens].value_counts()
        shown = ", ".join(f"'{k}': {v}" for k, v in counts.items())
        n = int(tokens.sum())
        warnings.append(Problem(file, None, column, f"{n} cell{'s' if n != 1 else ''} "
                                f"written as no value ({shown}) read as blank (missing)",
                                fix="nothing to do if these values are unknown", level="warning"))
    if replace:
        frame = frame.copy()
        for j, values in replace.items():
            frame.iloc[:, j] = values
    return frame, warnings


def _hard_limit_unit(value, row: pd.Series) -> str:
    """The likely unit of a value outside the codebook's hard limits (ages typed in months):
    :func:`analysis.schema.plausible.likely_unit` over the plausible range, else the limits."""
    from analysis.schema.plausible import likely_unit, parse_plausible, parse_units

    units = parse_units(row.get("other_units", ""))
    if not units:
        return ""
    ranges = parse_plausible(row.get("plausible", "")).get(None) or [
        (float(row["min"] or -np.inf), float(row["max"] or np.inf))]
    try:
        return likely_unit(float(value), ranges, units, row["unit"])
    except (TypeError, ValueError):
        return ""


def _convert(values: pd.Series, table: str, column: str, spec: pd.Series, codebook: Codebook,
             file: str) -> tuple[pd.Series, list[Problem]]:
    """Text to the codebook type; a value that cannot be converted is a problem.

    Categories and booleans go through the codebook's spellings only; numbers must be plain
    decimals (``12``, ``-3.5``, ``1e3``); a blank cell is missing; an Excel error value
    (``#DIV/0!``, ``#N/A``) is a problem of its own and then missing.
    """
    problems = _excel_errors(values, column, spec, file)
    kind = spec["type"]
    text = values.astype(object).where(~values.isin(EXCEL_ERRORS), "")
    blank = text == ""
    if kind in ("category", "boolean"):
        mapping = codebook.spellings(table, column)
        mapped = text.map(mapping)  # a spelling the codebook does not list: missing
        unknown = ~blank & mapped.isna()
        allowed = spec["allowed"].replace("|", ", ")
        for idx in text.index[unknown]:
            if text[idx] in NA_TOKENS:
                problems.append(Problem(file, idx + 2, column, f"no value ('{text[idx]}'), but "
                                        "a value is required here", text[idx],
                                        fix=f"enter one of: {allowed}"))
                continue
            problems.append(Problem(
                file, idx + 2, column, f"unknown category; allowed: {allowed}", text[idx],
                fix="use one of the allowed values, or add this spelling to the codebook's "
                    f"'spellings' column (e.g. {_spelling_example(spec)})"))
        if kind == "boolean":
            result = pd.Series(pd.arrays.BooleanArray(
                (mapped == "Yes").fillna(False).to_numpy(dtype=bool),
                mapped.isna().to_numpy(dtype=bool)), index=text.index)
        else:
            result = mapped.astype("string")
        return result, problems
    if kind == "string":
        return text.where(~blank, None).astype("string"), problems
    return _numbers(text, blank, kind, spec, file, column, problems)


def _numbers(text: pd.Series, blank: pd.Series, kind: str, spec: pd.Series, file: str,
             column: str, problems: list[Problem]) -> tuple[pd.Series, list[Problem]]:
    """Plain decimals (``12``, ``-3.5``, ``1e3``) to numbers, a whole number where ``kind`` is
    "integer"; any other text is a problem (in row order) and then missing. Vectorised: the
    pattern and ``float`` run over the column, problems are built for the bad cells only."""
    unit = f" in {spec['unit']}" if spec["unit"] else ""
    filled = ~blank.to_numpy(dtype=bool)
    plain = np.zeros(len(text), dtype=bool)
    plain[filled] = text[filled].str.fullmatch(_NUMBER.pattern).to_numpy(dtype=bool)
    numbers = np.full(len(text), np.nan)
    numbers[plain] = text[plain].astype(float).to_numpy()
    not_number = filled & ~(plain & np.isfinite(numbers))
    not_whole = (kind == "integer") & ~not_number & filled & (numbers != np.floor(numbers))
    for i in np.flatnonzero(not_number | not_whole):
        idx, value = text.index[i], text.iloc[i]
        censored = _CENSORED.fullmatch(value)
        if not_number[i] and censored:
            limit = censored.group(2)
            side = "below" if censored.group(1) in ("<", "≤", "<=") else "above"
            problems.append(Problem(
                file, idx + 2, column, f"a censored value ({side} the laboratory's limit of "
                f"{limit} {spec['unit']}".rstrip() + "): the rules need a number", value,
                fix=f"enter {limit} if this value may count as {limit} (the laboratory only "
                    f"says it is {side} it)" + ("; leave the cell blank if it should count "
                                                "as unknown" if spec["required"] != "yes"
                                                else "")))
        elif not_number[i] and value in NA_TOKENS and spec["required"] == "yes":
            problems.append(Problem(file, idx + 2, column, f"no value ('{value}'), but a value "
                                    "is required here", value,
                                    fix="enter the value from the chart"))
        elif not_number[i]:
            problems.append(Problem(file, idx + 2, column, f"must be a number{unit}",
                                    value, fix="enter the number only (no units, text or "
                                    "commas); leave the cell blank if it is not known"
                                    if spec["required"] != "yes" else
                                    "enter the number only (no units, text or commas)"))
        else:
            problems.append(Problem(file, idx + 2, column,
                                    f"must be a whole number{unit}", value,
                                    fix="round to a whole number"))
    numbers[not_number | not_whole] = np.nan
    return pd.Series(numbers, index=text.index, dtype="Float64"), problems


def _excel_errors(values: pd.Series, column: str, spec: pd.Series, file: str) -> list[Problem]:
    """Cells holding an Excel error value: the formula behind them failed, so the number the
    chart holds is unknown (read as a blank, it would silently change the counts)."""
    blank_ok = "; leave the cell blank if the value is not known" \
        if spec["required"] != "yes" else ""
    return [Problem(file, idx + 2, column, f"Excel error value {value}: the formula behind "
                    "this cell failed or found nothing", value,
                    fix=f"correct the formula, or type the value from the chart{blank_ok}")
            for idx, value in values[values.isin(EXCEL_ERRORS)].items()]


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
    repeated = assessments.duplicated(key) & complete
    first_of = assessments[complete].drop_duplicates(key).reset_index() \
        .set_index(key)["index"]
    for idx in assessments.index[repeated]:
        pid, tp = assessments.at[idx, "patient_id"], assessments.at[idx, "timepoint"]
        problems.append(Problem(afile, idx + 2, "timepoint",
                                f"more than one row for patient {pid} at {tp} (also row "
                                f"{first_of[(pid, tp)] + 2})", str(tp),
                                fix="keep one assessment per patient and time point: merge "
                                    "the two rows or correct the timepoint of one"))
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
    # A repeated time point is reported above; comparing it with its twin says nothing more.
    ranked = assessments[~repeated].assign(_rank=assessments["timepoint"].map(order))
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


