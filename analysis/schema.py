"""Reading and validating the chart-review export against the codebook.

The codebook (``data/raw/codebook.csv``) is the single source of truth: column names, types,
units, allowed values, ranges, whether a value may be missing, and the spellings a real export
uses for each category. The pandera schemas are built from it, so a new column is added in one
place. Every problem is reported at once, each naming file, row, column and rule.
(Sharma 2017, Materials and Methods: chart review of clinical characteristics.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["Codebook", "Cohort", "Problem", "load_codebook", "read_cohort", "validate_tables",
           "TABLES", "TIMEPOINT_ORDER", "DOSE_TIMEPOINT_ORDER"]

TABLES = ("patients", "assessments", "doses")
TIMEPOINT_ORDER = ("index", "month6", "month12", "tac_start", "tac_month6", "tac_month12")
DOSE_TIMEPOINT_ORDER = ("conv_baseline", "conv_6_12m", "tac_start", "tac_3_6m", "tac_1y")
BOOLEAN_SPELLINGS = {"Yes": ("Yes", "yes", "YES", "Y", "y", "1", "TRUE", "True", "true"),
                     "No": ("No", "no", "NO", "N", "n", "0", "FALSE", "False", "false")}
DEFAULT_CODEBOOK = Path(__file__).resolve().parent.parent / "data" / "raw" / "codebook.csv"


@dataclass(frozen=True)
class Problem:
    """One broken rule: where it is and how to fix it."""

    file: str
    row: int | None  # 1-based data row as a spreadsheet shows it (header = row 1), or None
    column: str | None
    rule: str
    value: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        shown = f" (found {self.value!r})" if self.value != "" else ""
        return f"{where}: {self.rule}{shown}"


@dataclass(frozen=True)
class Codebook:
    """The codebook as a frame, one row per (table, column)."""

    frame: pd.DataFrame

    def columns(self, table: str) -> pd.DataFrame:
        return self.frame[self.frame["table"] == table].set_index("column")

    def spellings(self, table: str, column: str) -> dict[str, str]:
        """Map every accepted spelling of a category to its canonical value."""
        row = self.columns(table).loc[column]
        mapping: dict[str, str] = {}
        if row["type"] == "boolean":
            for canonical, spelled in BOOLEAN_SPELLINGS.items():
                mapping.update({s: canonical for s in spelled})
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


def _split(text, sep: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [part.strip() for part in text.split(sep) if part.strip() or sep == "|"]


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read ``codebook.csv`` (every column as text, so nothing is guessed)."""
    path = Path(path) if path else DEFAULT_CODEBOOK
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return Codebook(frame)


# --------------------------------------------------------------------------- reading
def read_table(path: Path) -> pd.DataFrame:
    """Read one export file as text (CSV, Excel .xlsx or Stata .dta), blanks as missing."""
    if not path.exists():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        elif suffix == ".dta":
            frame = pd.read_stata(path, convert_categoricals=True).astype(str)
        else:
            raise DataValidationError(f"{path}: unsupported file type {suffix!r} "
                                      "(use .csv, .xlsx or .dta)")
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"{path}: not UTF-8 text (byte {exc.start}); save the export "
                                  "as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: file is empty (expected a header row)") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.map(lambda v: v.strip() if isinstance(v, str) else v)


def find_table(folder: Path, table: str) -> Path:
    """The file holding ``table`` in an export folder (.csv preferred, then .xlsx, .dta)."""
    for suffix in (".csv", ".xlsx", ".dta"):
        candidate = folder / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return folder / f"{table}.csv"


def read_cohort(folder: str | Path, codebook: Codebook | None = None) -> Cohort:
    """Read and validate ``patients``, ``assessments`` and ``doses`` from an export folder.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with file, row, column and rule.
    """
    folder = Path(folder)
    codebook = codebook or load_codebook()
    raw = {table: read_table(find_table(folder, table)) for table in TABLES}
    names = {table: find_table(folder, table).name for table in TABLES}
    cohort, problems = validate_tables(raw, codebook, names)
    if problems:
        raise DataValidationError(format_problems(problems))
    return cohort


def format_problems(problems: list[Problem]) -> str:
    """All problems, grouped by file, most useful first."""
    lines = [f"{len(problems)} problem(s) in the input data:"]
    for file in dict.fromkeys(p.file for p in problems):
        lines.append(f"  {file}:")
        lines.extend(f"    - {p}" for p in problems if p.file == file)
    return "\n".join(lines)


# --------------------------------------------------------------------------- validation
def validate_tables(raw: dict[str, pd.DataFrame], codebook: Codebook,
                    names: dict[str, str] | None = None) -> tuple[Cohort | None, list[Problem]]:
    """Normalise spellings, convert types and check every codebook and cross-table rule.

    Returns the typed cohort (None when anything is wrong) and the list of problems.
    """
    names = names or {t: f"{t}.csv" for t in TABLES}
    problems: list[Problem] = []
    typed: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        frame, found = _validate_columns(raw[table], table, codebook, names[table])
        problems.extend(found)
        typed[table] = frame
    if problems:
        return None, problems
    problems.extend(_cross_table_problems(typed, names))
    if problems:
        return None, problems
    return Cohort(**typed), []


def _validate_columns(frame: pd.DataFrame, table: str, codebook: Codebook,
                      file: str) -> tuple[pd.DataFrame, list[Problem]]:
    import pandera.errors
    import pandera.pandas as pa

    spec = codebook.columns(table)
    problems: list[Problem] = []
    if len(frame) == 0:
        return frame, [Problem(file, None, None, "no data rows (only a header)")]
    missing = [c for c in spec.index if c not in frame.columns]
    for column in missing:
        problems.append(Problem(file, None, column, "required column is missing"))
    if missing:
        return frame, problems
    # Unknown extra columns are tolerated (a real export carries more); the CLI warns.
    frame = frame[list(spec.index)].copy()
    out = {}
    for column, row in spec.iterrows():
        values, found = _convert(frame[column], table, column, row, codebook, file)
        out[column] = values
        problems.extend(found)
    typed = pd.DataFrame(out, index=frame.index)
    if problems:
        return typed, problems
    checks = {}
    for column, row in spec.iterrows():
        col_checks = []
        if row["min"] != "":
            col_checks.append(pa.Check.ge(float(row["min"]),
                                          error=f"must be at least {row['min']} {row['unit']}"))
        if row["max"] != "":
            col_checks.append(pa.Check.le(float(row["max"]),
                                          error=f"must be at most {row['max']} {row['unit']}"))
        checks[column] = pa.Column(nullable=row["required"] != "yes", checks=col_checks,
                                   coerce=False)
    schema = pa.DataFrameSchema(checks, strict=False)
    try:
        schema.validate(typed, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples():
            index = case.index if pd.notna(case.index) else None
            row_no = int(index) + 2 if index is not None else None
            rule = str(case.check)
            if rule == "not_nullable":
                rule = "value is required (blank is not allowed here)"
            problems.append(Problem(file, row_no, case.column, rule,
                                    "" if pd.isna(case.failure_case) else str(case.failure_case)))
    return typed, problems


def _convert(values: pd.Series, table: str, column: str, spec: pd.Series, codebook: Codebook,
             file: str) -> tuple[pd.Series, list[Problem]]:
    """Text to the codebook type; a value that cannot be converted is a problem."""
    problems = []
    kind = spec["type"]
    blank = values.isna() | (values.astype(str) == "") | values.isin(["nan", "NaN", "NA"])
    if kind in ("category", "boolean"):
        mapping = codebook.spellings(table, column)
        mapped = values.map(mapping)
        for idx in values.index[~blank & mapped.isna()]:
            allowed = spec["allowed"].replace("|", ", ")
            problems.append(Problem(file, idx + 2, column,
                                    f"unknown category; allowed: {allowed} "
                                    "(other spellings can be added to the codebook)",
                                    values[idx]))
        if kind == "boolean":
            result = mapped.map({"Yes": True, "No": False}).astype("boolean")
        else:
            result = mapped.astype("string")
        return result, problems
    if kind == "string":
        return values.where(~blank, pd.NA).astype("string"), problems
    numbers = pd.to_numeric(values.where(~blank, None), errors="coerce")
    for idx in values.index[~blank & numbers.isna()]:
        problems.append(Problem(file, idx + 2, column, f"must be a number ({kind})", values[idx]))
    if kind == "integer":
        fractional = numbers.notna() & (numbers != numbers.round())
        for idx in values.index[fractional]:
            problems.append(Problem(file, idx + 2, column, "must be a whole number", values[idx]))
        return numbers.astype("Float64").round().astype("Int64") if not problems else numbers, \
            problems
    return numbers.astype("Float64"), problems


def _cross_table_problems(t: dict[str, pd.DataFrame], names: dict[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    patients, assessments, doses = t["patients"], t["assessments"], t["doses"]
    pfile, afile, dfile = names["patients"], names["assessments"], names["doses"]
    for idx in patients.index[patients["patient_id"].duplicated()]:
        problems.append(Problem(pfile, idx + 2, "patient_id", "duplicate patient id",
                                str(patients.at[idx, "patient_id"])))
    known = set(patients["patient_id"])
    for table, file in ((assessments, afile), (doses, dfile)):
        for idx in table.index[~table["patient_id"].isin(known)]:
            problems.append(Problem(file, idx + 2, "patient_id",
                                    f"patient is not in {pfile}", str(table.at[idx, "patient_id"])))
    for idx in patients.index[patients["age_at_index"] < patients["age_at_onset"]]:
        problems.append(Problem(pfile, idx + 2, "age_at_index",
                                "age at index is below age at myositis onset",
                                str(patients.at[idx, "age_at_index"])))
    tac = patients["second_line"] == "tacrolimus"
    for idx in patients.index[tac & patients["tacrolimus_data_sufficient"].isna()]:
        problems.append(Problem(pfile, idx + 2, "tacrolimus_data_sufficient",
                                "required when second_line is tacrolimus"))
    key = ["patient_id", "timepoint"]
    for idx in assessments.index[assessments.duplicated(key)]:
        problems.append(Problem(afile, idx + 2, "timepoint",
                                "more than one row for this patient and time point",
                                str(assessments.at[idx, "timepoint"])))
    for idx in doses.index[doses.duplicated(["patient_id", "drug", "timepoint"])]:
        problems.append(Problem(dfile, idx + 2, "timepoint",
                                "more than one dose for this patient, drug and time point",
                                str(doses.at[idx, "timepoint"])))
    with_index = set(assessments.loc[assessments["timepoint"] == "index", "patient_id"])
    for idx in patients.index[~patients["patient_id"].isin(with_index)]:
        pid = patients.at[idx, "patient_id"]
        problems.append(Problem(afile, None, "timepoint",
                                f"patient {pid} has no index assessment"))
    order = {tp: i for i, tp in enumerate(TIMEPOINT_ORDER)}
    ranked = assessments.assign(_rank=assessments["timepoint"].map(order))
    ranked = ranked.sort_values(["patient_id", "_rank"], kind="stable")
    previous = ranked.groupby("patient_id")["month"].shift()
    for idx in ranked.index[ranked["month"] <= previous]:
        problems.append(Problem(afile, idx + 2, "month",
                                "time points out of order: month must increase along "
                                + " -> ".join(TIMEPOINT_ORDER),
                                str(assessments.at[idx, "month"])))
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
