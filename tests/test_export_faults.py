"""Real exports, real faults (issue 13, input side): Excel error cells and sheets, duplicated
and case-only headers, other delimiters, OS errors, the cap on printed problems.

Every case is a copy of the bundled synthetic cohort (``data/raw``) with one deliberate fault,
written the way the named tool writes it (openpyxl for Excel, pandas for Stata); the expected
locations are hand-derived from where the fault was put (header in row 1, so data row ``i``
is spreadsheet row ``i + 2``; column letters from the column's position).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from analysis import cli, paths
from analysis.schema import TABLES, check_export, read_cohort

ROOT = paths.ROOT
RAW = paths.RAW


@pytest.fixture(scope="module")
def reference():
    return read_cohort(RAW)


def numeric(table: str) -> pd.DataFrame:
    """The bundled table with numbers as numbers, as a spreadsheet holds them."""
    return pd.read_csv(RAW / f"{table}.csv")


def write_sheet(ws, frame: pd.DataFrame, first_row: int = 1) -> None:
    """Header in ``first_row``, data below; blanks stay empty cells (openpyxl)."""
    for j, column in enumerate(frame.columns, start=1):
        ws.cell(first_row, j, column)
    for i, values in enumerate(frame.itertuples(index=False), start=first_row + 1):
        for j, value in enumerate(values, start=1):
            ws.cell(i, j, None if pd.isna(value) else value)


def workbook(folder: Path, table: str, frame: pd.DataFrame | None = None, **sheets) -> Path:
    """One .xlsx; ``sheets`` maps a sheet title to (frame, first_row) or a list of rows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    if not sheets:
        sheets = {"Sheet1": (frame if frame is not None else numeric(table), 1)}
    for title, content in sheets.items():
        ws = book.create_sheet(title)
        if isinstance(content, tuple):
            write_sheet(ws, *content)
        else:
            for row in content:
                ws.append(row)
    path = folder / f"{table}.xlsx"
    book.save(path)
    (folder / f"{table}.csv").unlink(missing_ok=True)
    return path


def letter(table: str, column: str) -> str:
    return get_column_letter(list(numeric(table).columns).index(column) + 1)


def validate(folder: Path, capsys, *extra: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(["validate", "--data", str(folder), *extra])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


# ------------------------------------------------------------------------------ Excel
def test_excel_error_cells_are_errors_with_sheet_and_cell(export, capsys):
    a, p = numeric("assessments"), numeric("patients")
    path = workbook(export, "assessments", a)
    book = openpyxl.load_workbook(path)
    fvc = f"{letter('assessments', 'fvc')}5"  # data row 3 (0-based) = spreadsheet row 5
    ck = f"{letter('assessments', 'ck')}2"
    book.active[fvc] = "#DIV/0!"  # openpyxl stores an error string as an error cell (t="e")
    book.active[ck] = "#N/A"
    book.save(path)
    assert book.active[fvc].data_type == "e"
    check = check_export(export)
    assert check.cohort is None
    found = [str(x).split("\n")[0] for x in check.problems]
    assert found == [
        f"assessments.xlsx, sheet 'Sheet1', cell {ck} (row 2), column 'ck': Excel error value "
        "#N/A: the formula behind this cell failed or found nothing (found '#N/A')",
        f"assessments.xlsx, sheet 'Sheet1', cell {fvc} (row 5), column 'fvc': Excel error "
        "value #DIV/0!: the formula behind this cell failed or found nothing (found '#DIV/0!')"]
    code, _, err = validate(export, capsys)
    assert code == 2 and err[0].startswith("error: 2 problems in ")
    assert p is not None


def test_excel_formula_without_a_saved_value_is_an_error(export):
    a = numeric("assessments")
    path = workbook(export, "assessments", a)
    book = openpyxl.load_workbook(path)
    cell = f"{letter('assessments', 'fvc')}3"
    book.active[cell] = "=H2*0.9"  # written by a program: no cached result in the file
    book.save(path)
    found = [str(x).split("\n")[0] for x in check_export(export).problems]
    assert found == [f"assessments.xlsx, sheet 'Sheet1', cell {cell} (row 3), column 'fvc': "
                     "formula without a saved value (found '=H2*0.9')"]


def test_the_first_sheet_with_the_codebook_header_is_used_and_named(export, reference):
    workbook(export, "patients", Notes=[["Chart review export"], ["exported 2026-01-05"]],
             Data=(numeric("patients"), 1))
    check = check_export(export)
    assert check.problems == []
    pd.testing.assert_frame_equal(check.cohort.patients, reference.patients)
    assert [str(w).split("\n")[0] for w in check.warnings] == [
        "patients.xlsx: warning: using sheet 'Data', the first whose header matches the "
        "codebook (sheets: 'Notes', 'Data')"]


def test_sheet_option_chooses_the_sheet(export, capsys):
    wrong = numeric("patients").assign(sex="X")
    workbook(export, "patients", Old=(wrong, 1), New=(numeric("patients"), 1))
    code, out, err = validate(export, capsys)
    assert code == 2 and "sheet 'Old'" in err[0]
    code, out, err = validate(export, capsys, "--sheet", "New")
    assert code == 0 and out[0].endswith("OK (67 patients, 216 assessments, 160 dose records)")
    code, out, err = validate(export, capsys, "--sheet", "Nope")
    assert code == 2
    assert err[0].endswith("patients.xlsx: no sheet named 'Nope' (sheets: 'Old', 'New')")


def test_no_sheet_matches(export, capsys):
    workbook(export, "doses", Summary=[["total", 3]], Other=[["a", "b"], [1, 2]])
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: doses.xlsx: no sheet has the codebook's "
                      "header for doses (sheets: 'Summary', 'Other'; looked for patient_id, "
                      "drug, timepoint, dose_mg in the first 20 rows)")


def test_title_rows_above_the_header_are_named_and_rows_count_from_the_sheet(export):
    a = numeric("assessments")
    a.loc[0, "fvc"] = 500
    path = workbook(export, "assessments", Export=(a, 3))
    book = openpyxl.load_workbook(path)
    book["Export"]["A1"] = "MA-ILD chart review, assessments"
    book.save(path)
    check = check_export(export)
    assert [str(w).split("\n")[0] for w in check.warnings] == [
        "assessments.xlsx, sheet 'Export': warning: the header is in row 3, not row 1; "
        "row 1 above it (a title?) is skipped"]
    assert [str(x).split("\n")[0] for x in check.problems] == [
        f"assessments.xlsx, sheet 'Export', cell {letter('assessments', 'fvc')}4 (row 4), "
        "column 'fvc': above the maximum: must be at most 150 % predicted (found '500')"]


# ------------------------------------------------------------------------------ duplicated headers
def test_duplicated_header_in_excel_is_an_error(export):
    p = numeric("patients")
    p.insert(len(p.columns), "sex_copy", p["sex"])
    path = workbook(export, "patients", p)
    book = openpyxl.load_workbook(path)
    book.active.cell(1, len(p.columns), "sex")  # pandas would read it as 'sex.1'
    book.save(path)
    check = check_export(export)
    assert [str(x).split("\n")[0] for x in check.problems] == [
        f"patients.xlsx, sheet 'Sheet1', column 'sex': column appears more than once "
        f"(columns {letter('patients', 'sex')}, {get_column_letter(len(p.columns))})"]


def test_duplicated_header_in_stata_differs_in_case_and_is_an_error(export):
    p = pd.read_csv(RAW / "patients.csv", dtype=str, keep_default_na=False)
    p["SEX"] = p["sex"]  # Stata names are case-sensitive; the codebook's are not
    p.to_stata(export / "patients.dta", write_index=False)
    (export / "patients.csv").unlink()
    check = check_export(export)
    assert [str(x).split("\n")[0] for x in check.problems] == [
        f"patients.dta, column 'sex': column appears more than once (columns "
        f"{list(p.columns).index('sex') + 1} 'sex', {len(p.columns)} 'SEX')"]


# ------------------------------------------------------------------------------ messages
@pytest.mark.parametrize("sep,name", [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiters_are_named(export, capsys, sep, name):
    frame = pd.read_csv(RAW / "assessments.csv", dtype=str, keep_default_na=False)
    decimal_comma = frame.map(lambda v: v.replace(".", ","))  # as a European locale writes
    decimal_comma.to_csv(export / "assessments.csv", sep=sep, index=False)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: assessments.csv: this looks like a "
                      f"{name}-separated file; save it as comma-separated CSV (UTF-8)")


def test_headers_differing_only_in_case_are_read_with_a_note(export, reference):
    p = pd.read_csv(RAW / "patients.csv", dtype=str, keep_default_na=False)
    p.columns = [c.upper() for c in p.columns]
    p.to_csv(export / "patients.csv", index=False)
    check = check_export(export)
    assert check.problems == []
    pd.testing.assert_frame_equal(check.cohort.patients, reference.patients)
    assert [str(w).split("\n")[0] for w in check.warnings] == [
        "patients.csv: warning: 23 headers differ from the codebook only in case (PATIENT_ID, "
        "AGE_AT_ONSET, AGE_AT_INDEX, ...); read as the codebook's names"]


def test_os_errors_are_sentences(export, capsys, monkeypatch):
    real = pd.read_csv

    def denied(path, *args, **kwargs):
        if Path(path).name == "doses.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", denied)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: doses.csv: cannot be read: permission "
                      "denied")
    assert any("fix: give your user read access to the file" in line for line in err)


def test_an_unreadable_folder_is_a_sentence(export, capsys, monkeypatch):
    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", denied)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].startswith(f"error: the data folder {export} cannot be read (permission "
                             "denied):")


# ------------------------------------------------------------------------------ cap
def test_at_most_n_problems_per_file_and_rule(export, capsys):
    a = pd.read_csv(RAW / "assessments.csv", dtype=str, keep_default_na=False)
    a.loc[:29, "ck"] = "high"
    a.loc[:2, "fvc"] = "500"
    a.to_csv(export / "assessments.csv", index=False)
    code, _, err = validate(export, capsys)
    assert code == 2 and err[0].startswith("error: 33 problems in ")
    assert sum(line.startswith("    - ") and "must be a number in U/l" in line
               for line in err) == 20
    assert "    ... and 10 more: must be a number in U/l (column 'ck'); --max-problems 0 " \
           "shows all" in err
    code, _, err = validate(export, capsys, "--max-problems", "2")
    assert sum(line.startswith("    - ") for line in err) == 4
    assert "    ... and 28 more: must be a number in U/l (column 'ck'); --max-problems 0 " \
           "shows all" in err
    assert "    ... and 1 more: above the maximum: must be at most 150 % predicted (column " \
           "'fvc'); --max-problems 0 shows all" in err
    code, _, err = validate(export, capsys, "--max-problems", "0")
    assert sum(line.startswith("    - ") for line in err) == 33


def test_excel_error_text_in_a_csv_is_an_error_too(export):
    """Excel writes an error cell into a CSV as its text; as an id it would pass unnoticed."""
    p = pd.read_csv(RAW / "patients.csv", dtype=str, keep_default_na=False)
    p.loc[4, "patient_id"] = "#N/A"
    p.to_csv(export / "patients.csv", index=False)
    found = [str(x).split("\n")[0] for x in check_export(export).problems]
    assert found[0] == ("patients.csv, row 6, column 'patient_id': Excel error value #N/A: the "
                        "formula behind this cell failed or found nothing (found '#N/A')")


def test_problems_differing_only_in_particulars_are_capped_together(export, capsys):
    p = pd.read_csv(RAW / "patients.csv", dtype=str, keep_default_na=False)
    p.loc[1:25, "patient_id"] = "MA001"  # 25 duplicates, each "also in row 2"
    p.to_csv(export / "patients.csv", index=False)
    code, _, err = validate(export, capsys, "--max-problems", "3")
    assert code == 2
    assert "    ... and 22 more: duplicate patient id (column 'patient_id'); --max-problems 0 " \
           "shows all" in err


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(st.integers(1, 8), st.integers(1, 8), st.one_of(
    st.sampled_from(["#DIV/0!", "#N/A", "#REF!", "=1/0", "=A1", "", " ", "patient_id"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=6),
    st.integers(-10**6, 10**6), st.floats(allow_nan=False),
    st.booleans(), st.datetimes())), max_size=12),
    title_rows=st.integers(0, 3))
def test_random_workbooks_give_problems_not_exceptions(tmp_path_factory, cells, title_rows):
    """Any cell content an Excel file can hold, anywhere: our error or a valid read."""
    folder = tmp_path_factory.mktemp("xlsx")
    for table in TABLES:
        shutil.copy(RAW / f"{table}.csv", folder)
    path = workbook(folder, "doses", Sheet1=(numeric("doses").head(12), 1 + title_rows))
    book = openpyxl.load_workbook(path)
    for row, column, value in cells:
        book.active.cell(row, column, value)
    book.save(path)
    check = check_export(folder)
    assert (check.cohort is None) == bool(check.problems)
    assert all(str(p) and p.file == "doses.xlsx" for p in check.problems)
