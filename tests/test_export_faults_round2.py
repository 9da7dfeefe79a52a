"""Real exports, second round (issue 23): units, missing visits, merged cells, Stata extended
missing values, floods of warnings, encodings, Parquet and JSON, and the rest of the list.

Every case copies the bundled synthetic cohort (``data/raw``) into ``tmp_path``, puts one
fault in it the way the named tool writes it (openpyxl for Excel, pyreadstat for Stata,
pandas for Parquet and JSON), and checks the exit status and the first line of the output
through the command line. Expected rows are hand-derived from where the fault was put (CSV
header in row 1, so data row ``i`` is row ``i + 2``). Expected flow counts come from the
INDEPENDENT plain-Python reading of Figure 1 in tests/conftest.py (``plain_flow``). A refused
``run`` is checked to leave a previous bundle byte for byte as it was.
"""

from __future__ import annotations

import errno
import hashlib
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from openpyxl.utils import get_column_letter

from analysis import cli
from analysis.params import Params
from analysis.schema import (
    export_warnings,
    read_cohort,
    validated_export,
    warnings_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


# ------------------------------------------------------------------------------ helpers
def text(table: str) -> pd.DataFrame:
    return pd.read_csv(RAW / f"{table}.csv", dtype=str, keep_default_na=False)


def numeric(table: str) -> pd.DataFrame:
    return pd.read_csv(RAW / f"{table}.csv")


def save(folder: Path, table: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False)


def command(*args: str, capsys) -> tuple[int, list[str], list[str]]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def validate(folder: Path, capsys, *extra: str) -> tuple[int, list[str], list[str]]:
    return command("validate", "--data", folder, *extra, capsys=capsys)




def bundle_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def previous_bundle(tmp_path) -> Path:
    """A runs folder with a previous bundle in it (the files a run writes, with content), to
    check that a refused run leaves it as it was."""
    runs = tmp_path / "runs"
    bundle = runs / "paper"
    (bundle / "tables").mkdir(parents=True)
    (bundle / "report.html").write_text("<p>previous report</p>\n")
    (bundle / "results.json").write_text('{"numbers": {"flow.included": 54}}\n')
    (bundle / "tables" / "flow.csv").write_text("key,n\nflow.included,54\n")
    return runs


def refused_run(folder: Path, runs: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    """``run`` on a faulty export: exit status and stderr; the bundle must be untouched."""
    before = bundle_digest(runs / "paper")
    code, _, err = command("run", "--data", folder, "--runs-dir", runs, "--to", "none",
                           *extra, capsys=capsys)
    assert bundle_digest(runs / "paper") == before
    assert sorted(p.name for p in runs.iterdir()) == ["paper"]  # nothing else was created
    return code, err


# --------------------------------------------------------------- units and plausible ranges
def test_mmf_typed_in_grams_is_named_once_and_a_run_is_refused(export, capsys,
                                                               previous_bundle):
    d = numeric("doses")
    mmf = (d["drug"] == "MMF") & (d["dose_mg"] > 0)
    d.loc[mmf, "dose_mg"] = d.loc[mmf, "dose_mg"] / 1000  # 2000 mg -> 2 (g)
    save(export, "doses", d)
    n = int(mmf.sum())
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (
        f"error: 1 problem in {export}: doses.csv, column 'dose_mg': the values for MMF look "
        f"typed in g/day, not mg/day: all {n} (0 aside) would be plausible in g/day, and {n} "
        "are outside the plausible range 0 or 250 to 3000 mg/day (e.g. "
        f"{d.loc[mmf, 'dose_mg'].iloc[0]:g} in g/day = "
        f"{d.loc[mmf, 'dose_mg'].iloc[0] * 1000:g} mg/day)")
    code, err = refused_run(export, previous_bundle, capsys)
    assert code == 2 and "the values for MMF look typed in g/day" in err[0]


def test_one_mmf_dose_typed_in_grams_names_row_value_range_and_unit(export, capsys):
    d = text("doses")
    row = int(np.flatnonzero((d["drug"] == "MMF") & (d["dose_mg"] != "0"))[0])
    d.loc[row, "dose_mg"] = "2"
    save(export, "doses", d)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: doses.csv, row {row + 2}, column "
                      "'dose_mg': outside the plausible range for MMF (0 or 250 to 3000 "
                      "mg/day); likely typed in g/day (2 in g/day = 2000 mg/day) (found '2')")


@pytest.mark.parametrize("column, value, expected", [
    ("ck", "3", "outside the plausible range (10 to 100000 U/l); likely typed in µkat/l "
     "(3 in µkat/l = 180 U/l)"),
    ("fvc", "0.65", "below the minimum: must be at least 10 % predicted; likely typed in "
     "fraction of predicted (0.65 in fraction of predicted = 65 % predicted)"),
    ("tlc", "15", "outside the plausible range (20 to 150 % predicted)"),
])
def test_laboratory_values_outside_the_plausible_range(export, capsys, column, value,
                                                       expected):
    a = text("assessments")
    a.loc[4, column] = value
    save(export, "assessments", a)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: assessments.csv, row 6, column "
                      f"'{column}': {expected} (found '{value}')")


def test_an_age_typed_in_months_is_named(export, capsys):
    p = text("patients")
    p.loc[0, "age_at_index"] = str(int(p.loc[0, "age_at_index"]) * 12)  # 55 -> 660
    p.loc[0, "age_at_onset"] = str(int(p.loc[0, "age_at_onset"]) * 12)
    save(export, "patients", p)
    code, _, err = validate(export, capsys)
    assert code == 2
    age = int(text("patients").loc[0, "age_at_onset"])
    assert err[0].endswith(f"patients.csv, row 2, column 'age_at_onset': above the maximum: "
                           f"must be at most 110 years; likely typed in months ({age * 12} in "
                           f"months = {age} years) (found '{age * 12}')")


def test_the_bundled_cohort_is_inside_every_plausible_range(reference_cohort):
    # Sharma 2017 (Table 1, dose paragraphs) and the synthetic cohort: nothing implausible.
    assert len(reference_cohort.doses) == 160


@pytest.fixture(scope="module")
def reference_cohort():
    return read_cohort(RAW)


# --------------------------------------------------------------------------- missing visits
def _without_month6(export: Path, cohort, plain_flow) -> list[str]:
    """Remove the month-6 assessment of two conventional responders (by the independent
    reading) and return their ids."""
    a = text("assessments")
    responders = []
    for pid in cohort.patients["patient_id"]:
        drop = cohort.assessments[~((cohort.assessments["patient_id"] == pid)
                                    & (cohort.assessments["timepoint"] == "month6"))]
        fewer = type(cohort)(cohort.patients, drop, cohort.doses)
        if plain_flow(fewer)["conv_responders"] == plain_flow(cohort)["conv_responders"] - 1:
            responders.append(pid)
        if len(responders) == 2:
            break
    keep = ~(a["patient_id"].isin(responders) & (a["timepoint"] == "month6"))
    save(export, "assessments", a[keep])
    return responders


def test_a_missing_month6_visit_is_a_stated_rule_with_counts(export, capsys, cohort,
                                                             plain_flow):
    from analysis.assumptions import assumption_table

    gone = _without_month6(export, cohort, plain_flow)
    damaged = read_cohort(export)
    failed = plain_flow(damaged)  # independent: a patient without month 6 cannot respond
    assert (failed["conv_responders"], failed["conv_failures"]) == (29, 25)  # the issue's
    code, out, err = validate(export, capsys)
    assert code == 0 and out[0].endswith("OK (67 patients, 214 assessments, 160 dose records)")
    assert err[0] == f"1 warning in {export}: assessments.csv, column 'timepoint': warning: " \
        "conventional response decided from both assessments (index and month6) for 52 of 54 " \
        "included patients; 2 lack one of them and are counted as failing conventional " \
        "treatment (missing_visit = failed); with missing_visit = excluded they would be left " \
        "out as not assessable"
    table = assumption_table(damaged.patients, damaged.assessments)
    row = table[table["name"] == "missing_visit"].iloc[0]
    assert row["alternative"] == "excluded"
    assert {q: int(row[q]) for q in ("included", "conv_responders", "conv_failures",
                                     "tac_analysed", "tac_responders")} == failed
    # 'excluded' = the same reading with the two patients left out of the split.
    without = type(damaged)(damaged.patients[~damaged.patients["patient_id"].isin(gone)],
                            damaged.assessments, damaged.doses)
    expected = plain_flow(without)
    assert {q: int(row[f"{q}_alt"]) for q in ("included", "conv_responders", "conv_failures",
                                              "tac_analysed", "tac_responders")} == expected
    assert (expected["included"], expected["conv_responders"],
            expected["conv_failures"]) == (52, 29, 23)


def test_the_default_missing_visit_rule_reproduces_figure_1(cohort, plain_flow):
    from analysis.cohort import analysis_groups, flow_table

    assert Params().missing_visit == "failed"
    for rule in ("failed", "excluded"):  # the bundled cohort misses no visit
        flow = flow_table(analysis_groups(cohort.patients, cohort.assessments,
                                          Params(missing_visit=rule)))
        counts = dict(zip(flow["key"], flow["n"], strict=True))
        assert (counts["flow.included"], counts["flow.conv_responders"],
                counts["flow.tac_analysed"], counts["flow.tac_responders"]) == (54, 31, 18, 13)
        assert "flow.excluded.not_assessable" not in counts


# ------------------------------------------------------------------------------ Excel
def workbook(folder: Path, table: str, edit) -> Path:
    """``table`` as an .xlsx (header in row 1), changed by ``edit(worksheet)``."""
    frame = numeric(table)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sheet1"
    ws.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in values])
    edit(ws)
    path = folder / f"{table}.xlsx"
    book.save(path)
    (folder / f"{table}.csv").unlink()
    return path


def letter(table: str, column: str) -> str:
    return get_column_letter(list(numeric(table).columns).index(column) + 1)


def test_a_header_merged_down_into_the_first_data_row_is_refused(export, capsys):
    ck = letter("assessments", "ck")
    workbook(export, "assessments", lambda ws: ws.merge_cells(f"{ck}1:{ck}2"))
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: assessments.xlsx, sheet 'Sheet1', column "
                      f"'ck': cells {ck}1:{ck}2 are merged: the header 'ck' is merged down into "
                      f"the data, so {ck}2 reads as blank")


def test_a_header_merged_across_two_columns_names_the_merge_first(export, capsys):
    ck, ald = letter("assessments", "ck"), letter("assessments", "aldolase")
    workbook(export, "assessments", lambda ws: ws.merge_cells(f"{ck}1:{ald}1"))
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].endswith(f", the first: assessments.xlsx, sheet 'Sheet1', column 'ck': cells "
                           f"{ck}1:{ald}1 are merged: header cells are merged, so only the "
                           "first holds a header")
    assert any("column 'aldolase': required column is missing" in line for line in err)


def test_hidden_rows_and_hidden_codebook_columns_are_refused(export, capsys):
    fvc = letter("assessments", "fvc")

    def hide(ws):
        for row in (5, 9, 10, 11):
            ws.row_dimensions[row].hidden = True
        ws.column_dimensions[fvc].hidden = True

    workbook(export, "assessments", hide)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].startswith(f"error: 2 problems in {export}, the first: assessments.xlsx, sheet "
                             "'Sheet1': rows 5, 9-11 are hidden (4 rows); hidden rows would be "
                             "read like every other row")
    assert f"    - sheet 'Sheet1', column 'fvc': column {fvc} is hidden; it is a codebook " \
           "column and would be read like a visible one" in err


def test_formulas_with_a_saved_value_are_read_and_named(export, capsys):
    fvc = letter("assessments", "fvc")
    path = workbook(export, "assessments", lambda ws: ws.__setitem__(f"{fvc}3", "=36*1"))
    # openpyxl writes no result; Excel would save one: put it in the sheet's XML (<v>).
    with zipfile.ZipFile(path) as z:
        files = {name: z.read(name) for name in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    files[sheet] = re.sub(rb"(<c r=\"" + fvc.encode() + rb"3\"[^>]*><f>36\*1</f>)<v\s*/?>(</v>)?",
                          rb"\1<v>36</v>", files[sheet])
    assert b"<v>36</v>" in files[sheet]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    code, out, err = validate(export, capsys)
    assert code == 0 and out[0].endswith("OK (67 patients, 216 assessments, 160 dose records)")
    assert err[0] == (f"1 warning in {export}: assessments.xlsx, sheet 'Sheet1', column 'fvc': "
                      f"warning: 1 cell holds a formula (e.g. cell {fvc}3: =36*1); the result "
                      "saved with the workbook is read as the value")


# ------------------------------------------------------------------------------ Stata
def stata(folder: Path, codes: dict[str, dict[int, str]]) -> None:
    """assessments.dta with Stata extended missing values ``codes[column][row] = "a"``."""
    a = numeric("assessments")
    for column, cells in codes.items():
        a[column] = a[column].astype(object)
        for row, code in cells.items():
            a.loc[row, column] = code
    for column in a.columns:
        if a[column].dtype == object and column not in codes:
            a[column] = a[column].fillna("")
    pyreadstat.write_dta(a, folder / "assessments.dta",
                         missing_user_values={c: sorted(set(v.values()))
                                              for c, v in codes.items()})
    (folder / "assessments.csv").unlink()


def test_stata_extended_missing_values_are_counted_per_column(export, capsys):
    stata(export, {"ck": {0: "a", 5: "b", 7: "a"}})
    code, out, err = validate(export, capsys)
    assert code == 0
    assert err[0] == (f"1 warning in {export}: assessments.dta, column 'ck': warning: 3 Stata "
                      "extended missing values (.a: 2, .b: 1) read as blank (missing)")
    # Read as blank: the CK count falls by exactly the three cells.
    ck = read_cohort(export).assessments["ck"]
    assert int(ck.isna().sum()) == int(numeric("assessments")["ck"].isna().sum()) + 3


def test_a_stata_extended_missing_value_where_a_value_is_required_is_refused(export, capsys):
    stata(export, {"month": {2: "c"}})
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: 1 problem in {export}: assessments.dta, observation 3, column "
                      "'month': Stata extended missing value .c where a value is required "
                      "(found '.c')")


# ------------------------------------------------------------------------ floods of warnings
def test_5000_unknown_columns_are_capped_on_validate_and_run(export, capsys, previous_bundle):
    p = text("patients")
    extra = pd.DataFrame({f"extra_{i}": [""] * len(p) for i in range(5000)})
    pd.concat([p, extra], axis=1).to_csv(export / "patients.csv", index=False)
    code, _, err = validate(export, capsys)
    assert code == 0
    assert err[0] == (f"5000 warnings in {export}, the first: patients.csv, column 'extra_0': "
                      "warning: column is not in the codebook and will be ignored")
    assert len(err) < 50
    assert "    ... and 4,980 more: column is not in the codebook and will be ignored; " \
           "--max-problems 0 shows all" in err
    code, _, err = validate(export, capsys, "--max-problems", "0")
    assert sum(line.startswith("    - ") for line in err) == 5000
    # run: the same cap (here the run then stops: no patient is eligible under min_age=100).
    code, err = refused_run(export, previous_bundle, capsys, "-p", "min_age=100")
    assert code == 2 and len(err) < 50
    assert err[0].startswith(f"5000 warnings in {export}, the first: ")
    assert err[-1].startswith("error: no eligible patients: all 67 patients")


# ------------------------------------------------------------------------------ encodings
@pytest.mark.parametrize("codec, name, mark", [("utf-16", "UTF-16", "FF FE"),
                                               ("utf-32", "UTF-32", "FF FE 00 00")])
def test_utf16_and_utf32_are_named_and_the_given_command_converts(export, capsys, codec,
                                                                  name, mark):
    path = export / "patients.csv"
    path.write_bytes((RAW / "patients.csv").read_text(encoding="utf-8").encode(codec))
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].startswith(f"error: 1 problem in {export}: patients.csv: {name} text "
                             f"(byte-order mark {mark}), not UTF-8; convert it in place with: "
                             "python -c ")
    run = shlex.split(err[0].split("convert it in place with: ", 1)[1])
    assert run[:2] == ["python", "-c"]
    subprocess.run([sys.executable, *run[1:]], check=True)
    code, out, _ = validate(export, capsys)
    assert code == 0 and out[0].endswith("OK (67 patients, 216 assessments, 160 dose records)")


# ------------------------------------------------------------------------ Parquet and JSON
def test_parquet_is_read_directly_as_the_csv(export, capsys, reference_cohort):
    numeric("assessments").to_parquet(export / "assessments.parquet")
    (export / "assessments.csv").unlink()
    code, out, _ = validate(export, capsys)
    assert code == 0 and out[0].endswith("OK (67 patients, 216 assessments, 160 dose records)")
    pd.testing.assert_frame_equal(read_cohort(export).assessments,
                                  reference_cohort.assessments)


def test_json_is_refused_with_a_command_that_works(export, capsys, reference_cohort):
    numeric("doses").to_json(export / "doses.json", orient="records")
    (export / "doses.csv").unlink()
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].startswith(f"error: 1 problem in {export}: doses.csv: file not found in "
                             f"{export} (found doses.json: .json files are not read; convert "
                             "it: python -c ")
    run = shlex.split(err[0].split("convert it: ", 1)[1].removesuffix(")"))
    subprocess.run([sys.executable, *run[1:]], check=True)
    code, out, _ = validate(export, capsys)
    assert code == 0
    pd.testing.assert_frame_equal(read_cohort(export).doses, reference_cohort.doses)


# ------------------------------------------------------------------------- the rest
def test_data_pointing_at_a_file_says_so(capsys):
    code, _, err = command("validate", "--data", RAW / "patients.csv", capsys=capsys)
    assert code == 2
    assert err[0] == (f"error: {RAW / 'patients.csv'} is a file, not the export's folder: give "
                      f"the folder that holds patients, assessments and doses (--data {RAW})")


def test_a_repeated_time_point_names_both_rows_and_nothing_else(export, capsys):
    a = text("assessments")
    a = pd.concat([a, a.iloc[[1]]], ignore_index=True)  # row 3 again, as the last row
    save(export, "assessments", a)
    code, _, err = validate(export, capsys)
    assert code == 2
    pid, tp = a.loc[1, "patient_id"], a.loc[1, "timepoint"]
    assert err[0] == (f"error: 1 problem in {export}: assessments.csv, row {len(a) + 1}, column "
                      f"'timepoint': more than one row for patient {pid} at {tp} (also row 3) "
                      f"(found '{tp}')")


@pytest.mark.parametrize("value, side", [("<20", "below"), ("> 5000", "above")])
def test_censored_laboratory_values_are_named(export, capsys, value, side):
    a = text("assessments")
    a.loc[0, "ck"] = value
    save(export, "assessments", a)
    code, _, err = validate(export, capsys)
    assert code == 2
    limit = value.strip("<> ")
    assert err[0] == (f"error: 1 problem in {export}: assessments.csv, row 2, column 'ck': a "
                      f"censored value ({side} the laboratory's limit of {limit} U/l): the "
                      f"rules need a number (found '{value}')")
    assert err[3] == (f"      fix: enter {limit} if this value may count as {limit} (the "
                      f"laboratory only says it is {side} it); leave the cell blank if it "
                      "should count as unknown")


def test_na_is_blank_where_a_blank_is_allowed_and_named_where_not(export, capsys):
    a = text("assessments")
    blank_before = (a["fvc"] == "").sum()
    a.loc[[3, 4], "fvc"] = "NA"
    a.loc[5, "dlco"] = "."
    a.loc[6, "worsening_weakness"] = "N/A"
    save(export, "assessments", a)
    code, _, err = validate(export, capsys)
    assert code == 0
    assert err[0].startswith(f"3 warnings in {export}, the first: ")
    assert "    - column 'fvc': warning: 2 cells written as no value ('NA': 2) read as blank " \
           "(missing)" in err
    assert int(read_cohort(export).assessments["fvc"].isna().sum()) == blank_before + 2
    p = text("patients")
    p.loc[0, "sex"] = "NA"
    save(export, "patients", p)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0].startswith(f"error: 1 problem and 3 warnings in {export}, the first: "
                             "patients.csv, row 2, column 'sex': no value ('NA'), but a value "
                             "is required here")


def test_validate_refuses_a_cohort_with_no_eligible_patient(export, capsys):
    p = text("patients")
    p["age_at_index"] = "16"
    p["age_at_onset"] = "15"
    save(export, "patients", p)
    code, _, err = validate(export, capsys)
    assert code == 2
    assert err[0] == (f"error: no eligible patients: all 67 patients in {export} are excluded "
                      "by the inclusion criteria (under age: 67), so there is nothing to "
                      "report; check the export (e.g. age_at_index) or the eligibility "
                      "parameters (min_age, age_rule)")


def test_warnings_are_worded_with_the_runs_parameters(export, capsys, previous_bundle):
    a = text("assessments")
    a["dlco"] = ""
    save(export, "assessments", a)
    rule = ("assessments.csv, column 'dlco': warning: blank in every row: refractory-ILD "
            "criterion 'DLCO down >= 20%' is met by every patient (pft_missing = met)")
    params = ["-p", "dlco_decline=0.2", "-p", "pft_missing=met"]
    code, _, err = validate(export, capsys, *params)
    assert code == 0 and rule in err[0]
    code, err = refused_run(export, previous_bundle, capsys, *params, "-p", "min_age=100")
    assert code == 2 and rule in err[0]


def test_data_warnings_section_of_the_report(export):
    a = text("assessments")
    a["dlco"] = ""
    save(export, "assessments", a)
    # as step 02 writes the section: the run's checked export, its warnings worded for the
    # run's parameters
    checked = validated_export(export)
    text_ = warnings_markdown(export_warnings(checked, Params(dlco_decline=0.2)))
    assert text_.splitlines()[0] == "# Data warnings"
    assert "- assessments.csv, column 'dlco': blank in every row: refractory-ILD criterion " \
           "'DLCO down >= 20%' can never be met; Tables 1-3 DLCO rows will be empty." in text_
    # the bundled cohort: no section
    assert warnings_markdown(export_warnings(validated_export(RAW))) == ""


# ------------------------------------------------------------------------------ full disk
def test_a_full_disk_while_caching_leaves_no_half_written_entry(tmp_path, monkeypatch):
    from analysis import stepcache
    from analysis.runfolder import os_error_message

    source = tmp_path / "stage"
    (source / "tables").mkdir(parents=True)
    for i in range(3):
        (source / "tables" / f"t{i}.csv").write_text("a\n1\n")
    real = shutil.copyfile

    def full(src, dst, *args, **kwargs):
        if Path(src).name != "t0.csv":  # the disk fills up after the first file
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", full)
    entry = tmp_path / ".cache" / "01_cohort" / "key"
    with pytest.raises(shutil.Error) as caught:  # copytree lists every file that failed
        stepcache.store(source, entry)
    assert "[Errno 28]" in str(caught.value)
    assert sorted(p.name for p in entry.parent.iterdir()) == []  # no .key.tmp-PID left
    message = os_error_message(caught.value, tmp_path)
    assert message.startswith("cannot write ") and "the disk is full; free some space" in message
    assert "Errno" not in message and len(message) < 300


def test_a_full_disk_during_a_run_is_one_sentence_and_the_bundle_stays(
        previous_bundle, capsys, monkeypatch):
    from analysis import pipeline

    def full(stage, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(stage / "params.yaml"))

    monkeypatch.setattr(pipeline, "write_params_file", full)
    before = bundle_digest(previous_bundle / "paper")
    code, _, err = command("run", "--runs-dir", previous_bundle, "--to", "none", "--jobs", "1",
                           capsys=capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: cannot write ")
    assert "the disk is full; free some space" in err[0] and "Errno" not in err[0]
    assert bundle_digest(previous_bundle / "paper") == before
    leftovers = [p.name for p in previous_bundle.iterdir() if p.name.startswith(".paper.")]
    assert leftovers == []


# ------------------------------------------------------------------- one full run (slow)
@pytest.mark.slow
def test_a_run_with_missing_visits_says_so_in_the_console_and_the_report(
        export, capsys, cohort, plain_flow, previous_bundle):
    import json

    _without_month6(export, cohort, plain_flow)
    expected = plain_flow(read_cohort(export))  # independent reading: 29 / 25
    before = bundle_digest(previous_bundle / "paper")
    code, _, err = command("run", "--name", "gaps", "--data", export, "--runs-dir",
                           previous_bundle, "--to", "html", "--engine", "pandoc",
                           capsys=capsys)
    assert code == 0
    assert err[0].startswith(f"1 warning in {export}: assessments.csv, column 'timepoint': "
                             "warning: conventional response decided from both assessments "
                             "(index and month6) for 52 of 54 included patients; 2 lack one")
    bundle = previous_bundle / "gaps"
    numbers = json.loads((bundle / "results.json").read_text())["numbers"]
    assert (numbers["flow.conv_responders"], numbers["flow.conv_failures"]) == (
        expected["conv_responders"], expected["conv_failures"]) == (29, 25)
    assert numbers["assume.missing_visit.excluded.conv_failures"] == 23
    section = (bundle / "tables" / "data_warnings.md").read_text()
    assert section.startswith("# Data warnings\n")
    assert "for 52 of 54 included patients; 2 lack one of them" in section
    html = (bundle / "report.html").read_text()
    assert "Data warnings" in html and "52 of 54 included patients" in html
    assert bundle_digest(previous_bundle / "paper") == before  # another run name: untouched
