"""Empty data (issue 13): a column blank in a whole file, at a whole time point, or for every
included patient is a warning naming the criterion or table row it disables.

The expected wording is derived by hand from the paper's Methods (refractory ILD: FVC by 10%,
TLC by 10%, DLCO by 15%, worsening symptoms; refractory myositis: weakness, CK) and from which
assessment each table uses (Tables 1-2: index; Table 3: tacrolimus start).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import cli, paths
from analysis.params import Params
from analysis.schema import check_export, empty_data_warnings, read_cohort

ROOT = paths.ROOT
RAW = paths.RAW


def blank(folder: Path, column: str, where=None) -> None:
    frame = pd.read_csv(folder / "assessments.csv", dtype=str, keep_default_na=False)
    rows = frame.index if where is None else where(frame)
    frame.loc[rows, column] = ""
    frame.to_csv(folder / "assessments.csv", index=False)


def messages(warnings) -> list[str]:
    return [str(w).split("\n")[0] for w in warnings]


def test_the_bundled_cohort_has_no_empty_data():
    assert empty_data_warnings(read_cohort(RAW)) == []


def test_all_dlco_blank_names_the_criterion_and_the_rows(export, capsys):
    blank(export, "dlco")
    check = check_export(export)
    assert check.problems == [] and check.cohort is not None
    assert messages(check.warnings) == [
        "assessments.csv, column 'dlco': warning: blank in every row: refractory-ILD "
        "criterion 'DLCO down >= 15%' can never be met; Tables 1-3 DLCO rows will be empty"]
    assert cli.main(["validate", "--data", str(export)]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("OK (67 patients, 216 assessments, 160 dose records)\n")
    assert err.splitlines()[0] == f"1 warning in {export}: " + messages(check.warnings)[0]


def test_the_wording_follows_the_parameters(export):
    blank(export, "dlco")
    cohort = read_cohort(export)
    found = messages(empty_data_warnings(cohort, Params(dlco_decline=0.2,
                                                        decline_scale="absolute")))
    assert found == ["assessments.csv, column 'dlco': warning: blank in every row: "
                     "refractory-ILD criterion 'DLCO down >= 20 points' can never be met; "
                     "Tables 1-3 DLCO rows will be empty"]
    found = messages(empty_data_warnings(cohort, Params(pft_missing="met")))
    assert "refractory-ILD criterion 'DLCO down >= 15%' is met by every patient" in found[0]


def test_blank_at_one_time_point(export):
    blank(export, "fvc", lambda f: f.index[f["timepoint"] == "month6"])
    blank(export, "worsening_weakness", lambda f: f.index[f["timepoint"] == "tac_month12"])
    found = messages(check_export(export).warnings)
    assert found == [
        "assessments.csv, column 'fvc': warning: blank at every month6 assessment: "
        "refractory-ILD criterion 'FVC down >= 10%' can never be met for conventional "
        "response (index -> month6)",
        "assessments.csv, column 'worsening_weakness': warning: blank at every tac_month12 "
        "assessment: refractory-myositis criterion 'worsening weakness' can never be met for "
        "tacrolimus response (tac_start -> tac_month12)"]


def test_blank_for_every_included_patient(export):
    # Overlap, IBM and other myopathies are excluded whatever else holds (Methods (1) (2) (4)):
    # aldolase kept for them only is blank for every included patient.
    patients = pd.read_csv(RAW / "patients.csv", dtype=str, keep_default_na=False)
    excluded = set(patients.loc[patients["myositis_type"].isin(
        ["overlap", "IBM", "other_myopathy"]), "patient_id"])
    assert excluded
    blank(export, "aldolase", lambda f: f.index[(f["timepoint"] == "index")
                                              & ~f["patient_id"].isin(excluded)])
    found = messages(check_export(export).warnings)
    assert found == ["assessments.csv, column 'aldolase': warning: blank at the index "
                     "assessment of every included patient: Tables 1-2 Baseline aldolase "
                     "rows will be empty"]


def test_blank_follow_up_ck_makes_everyone_refractory(export):
    blank(export, "ck", lambda f: f.index[f["timepoint"] == "month6"])
    found = messages(check_export(export).warnings)
    assert found == [
        "assessments.csv, column 'ck': warning: blank at every month6 assessment: "
        "refractory-myositis criterion 'CK not normal and not down > 50%' is met by every "
        "patient (ck_missing_followup = refractory): nobody can respond to conventional "
        "treatment (index -> month6)"]
