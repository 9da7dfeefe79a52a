"""Registry scale (issue 17 rows 4-5, issue 13 item 6): the counting of Tables 1-3 against
plain pandas (``value_counts``, ``crosstab``) on resampled patients, the sliced sensitivity
sweep against :mod:`analysis.tables`, the blocked bootstrap against one numpy draw, the
remembered export read, the registry export writer, and ``run --sheet``. No timings."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import cli, paths, sensitivity
from analysis import cohort as cohort_module
from analysis.cohort import analysis_groups
from analysis.paper.rows import ROWS
from analysis.params import Params
from analysis.schema import check_export, load_codebook, read_cohort
from analysis.tables import analysis_dataset, compare_groups, table1

ROOT = paths.ROOT
RAW = paths.RAW
sys.path.insert(0, str(ROOT / "benchmarks"))
from registry import write_registry_export  # noqa: E402


@pytest.fixture(scope="module")
def resampled():
    """5,000 patients drawn with replacement from the bundled analysis dataset."""
    cohort = read_cohort(RAW)
    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    data = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    rows = np.random.default_rng(11).integers(0, len(data), 5000)
    return data.iloc[rows].reset_index(drop=True)


def test_table1_counts_equal_pandas_value_counts(resampled):
    included = resampled[resampled["included"]]
    t1 = table1(resampled, rows="included").set_index(["variable", "level"])
    for row in ROWS:
        if row.kind == "continuous":
            values = included[row.column].astype(float).dropna()
            assert t1.loc[(row.key, ""), "n"] == len(values)
            assert t1.loc[(row.key, ""), "mean"] == pytest.approx(values.mean(), rel=1e-12)
            continue
        column = included[row.column]
        if row.denominator == "biopsied":
            column = column[column != "none"]
        counts = column.value_counts(dropna=True)
        levels = row.levels if row.kind == "categorical" else (("", True, ""),)
        for key, value, _ in levels:
            assert t1.loc[(row.key, key), "n"] == counts.get(value, 0), (row.key, key)
            assert t1.loc[(row.key, key), "denominator"] == counts.sum()


def test_table2_counts_equal_pandas_crosstab(resampled):
    included = resampled[resampled["included"]]
    t2 = compare_groups(resampled, "conv_responder", "t2", Params(),
                        rows="included").set_index(["variable", "level"])
    for row in ROWS:
        if row.kind == "continuous":
            continue
        column = included[row.column]
        keep = column.notna() & (column != "none" if row.denominator == "biopsied" else True)
        table = pd.crosstab(column[keep].astype(object),
                            included.loc[keep, "conv_responder"].astype(bool))
        levels = row.levels if row.kind == "categorical" else (("", True, ""),)
        for key, value, _ in levels:
            got = t2.loc[(row.key, key)]
            want = table.loc[value] if value in table.index else pd.Series({True: 0, False: 0})
            assert (got["resp"], got["nonresp"]) == (want.get(True, 0), want.get(False, 0))
            assert (got["n_resp"], got["n_nonresp"]) == (table[True].sum(), table[False].sum())


def test_sweep_in_slices_equals_tables_2_and_3(monkeypatch):
    """Slices of 3 definitions (forced) on the bundled cohort: each row still equals Table 2
    and 3 computed by analysis.tables with that definition's parameters."""
    cohort = read_cohort(RAW)
    monkeypatch.setattr(cohort_module, "MAX_CELLS", 3 * len(cohort.patients))
    grid = {"fvc_decline": [0.05, 0.10, 0.15], "ild_criteria_required": [1, 2, 3],
            "ck_fall": [0.3, 0.5]}
    swept = sensitivity.sweep(cohort.patients, cohort.assessments, Params(), grid)
    assert len(swept) == 18
    for _, row in swept.iloc[[0, 5, 10, 17]].iterrows():
        params = Params(fvc_decline=float(row["fvc_decline"]),
                        ild_criteria_required=int(row["ild_criteria_required"]),
                        ck_fall=float(row["ck_fall"]))
        groups = analysis_groups(cohort.patients, cohort.assessments, params)
        at_index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
        t2 = compare_groups(at_index, "conv_responder", "t2", params, rows="included")
        t2 = t2.set_index(["variable", "level"])
        assert row["conv_responders"] == t2.loc[("sex", "male"), "n_resp"]
        assert row["pm_responders"] == t2.loc[("myositis", "pm"), "resp"]
        assert row["tac_n"] == int(groups["tac_analysed"].sum())


def test_sweep_groups_on_distinct_patients_equal_per_patient_groups(tmp_path):
    """The sliced sweep evaluates the rules once per distinct patient pattern and copies each
    patient's row from it: on 2,000 patients resampled from the bundled cohort (many share a
    pattern) every matrix equals the per-patient evaluation of group_matrices (each patient
    evaluated on their own row), element for element, over a 12-definition grid."""
    cohort = read_cohort(write_registry_export(2000, tmp_path / "big", seed=8))
    defs = sensitivity._response_definitions(sensitivity.definitions(
        {"fvc_decline": [0.05, 0.10], "ck_missing_followup": ["refractory", "not_met"],
         "ild_criteria_required": [1, 2, 3]}), Params())
    basis = cohort_module.group_basis(cohort.patients, cohort.assessments, Params())
    distinct, inverse = cohort_module.distinct_basis(basis)
    assert len(distinct["ids"]) <= 67 < len(basis["ids"]) == len(inverse)
    want = cohort_module.group_matrices(cohort.patients, cohort.assessments, defs, Params())
    chunks = list(cohort_module.group_matrix_chunks(cohort.patients, cohort.assessments, defs,
                                                    Params(), max_cells=5 * 2000))
    assert [(a, b) for a, b, _ in chunks] == [(0, 5), (5, 10), (10, 12)]
    for name, matrix in want.items():
        got = np.concatenate([g[name] for _, _, g in chunks], axis=1) if np.ndim(matrix) == 2 \
            else chunks[0][2][name]
        assert np.array_equal(got, matrix), name


def test_sweep_counts_on_patterns_equal_per_patient_sums(tmp_path):
    """The sweep counts with integer weights on distinct patient patterns: on 2,000
    resampled patients its counts equal plain column sums of the per-patient matrices of
    group_matrices, and Table 3's FVC means equal numpy means over the patients."""
    cohort = read_cohort(write_registry_export(2000, tmp_path / "big", seed=9))
    grid = {"fvc_decline": [0.05, 0.15], "ck_fall": [0.3, 0.7], "pft_missing": ["met", "not_met"]}
    swept = sensitivity.sweep(cohort.patients, cohort.assessments, Params(), grid)
    defs = sensitivity._response_definitions(sensitivity.definitions(grid), Params())
    g = cohort_module.group_matrices(cohort.patients, cohort.assessments, defs, Params())
    pm = g["included"] & (g["myositis_type"] == "PM")
    assert swept["n_included"].eq(g["included"].sum()).all()
    assert swept["conv_responders"].tolist() == g["conv_responder"].sum(axis=0).tolist()
    assert swept["pm_responders"].tolist() == g["conv_responder"][pm].sum(axis=0).tolist()
    assert swept["tac_n"].tolist() == g["tac_analysed"].sum(axis=0).tolist()
    assert swept["tac_responders"].tolist() == g["tac_responder"].sum(axis=0).tolist()
    start = cohort.assessments[cohort.assessments["timepoint"] == "tac_start"]
    fvc = start.set_index("patient_id")["fvc"].reindex(g["ids"]).astype(float).to_numpy()
    for j in range(len(swept)):
        resp = fvc[g["tac_responder"][:, j] & ~np.isnan(fvc)]
        assert swept["fvc_resp"].iloc[j] == pytest.approx(resp.mean(), rel=1e-12)


def test_bootstrap_blocks_are_one_numpy_draw():
    values = np.random.default_rng(1).random(1001)
    blocked = sensitivity._boot_mean(np.random.default_rng(2017), values, 2000, max_cells=7007)
    rng = np.random.default_rng(2017)
    one_draw = values[rng.integers(0, values.size, size=(2000, values.size))].mean(axis=1)
    assert np.array_equal(blocked, one_draw)


def test_a_remembered_read_cannot_be_changed_by_its_callers(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("patients", "assessments", "doses"):
        (folder / f"{name}.csv").write_bytes((RAW / f"{name}.csv").read_bytes())
    first = read_cohort(folder)
    first.patients["age_at_onset"] = 0
    first.patients.loc[0, "sex"] = "F"
    first.assessments.iloc[0, 3] = 1
    again = read_cohort(folder)
    fresh = check_export(folder, load_codebook()).cohort  # an explicit codebook: not remembered
    for name in ("patients", "assessments", "doses"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(fresh, name))
    text = (folder / "patients.csv").read_text().replace("MA001,55,55,M", "MA001,55,56,M")
    (folder / "patients.csv").write_text(text)  # a changed file is read again
    assert read_cohort(folder).patients.loc[0, "age_at_index"] == 56


def test_registry_export_copies_each_patient_with_a_new_id(tmp_path):
    out = write_registry_export(300, tmp_path / "big", seed=3)
    cohort = read_cohort(out)  # a valid export
    assert len(cohort.patients) == 300
    assert cohort.patients["patient_id"].is_unique
    source = {t: pd.read_csv(RAW / f"{t}.csv", dtype=str, keep_default_na=False)
              for t in ("patients", "assessments", "doses")}
    written = {t: pd.read_csv(out / f"{t}.csv", dtype=str, keep_default_na=False)
               for t in ("patients", "assessments", "doses")}
    drawn = np.random.default_rng(3).integers(0, len(source["patients"]), 300)
    origin = dict(zip(written["patients"]["patient_id"],
                      source["patients"]["patient_id"].iloc[drawn], strict=True))
    for table in ("assessments", "doses"):
        counts = source[table]["patient_id"].value_counts()
        want = sum(counts.get(pid, 0) for pid in origin.values())
        assert len(written[table]) == want
        mapped = written[table].assign(patient_id=written[table]["patient_id"].map(origin))
        merged = mapped.drop_duplicates().merge(source[table], how="left", indicator=True)
        assert (merged["_merge"] == "both").all()  # every row is a source patient's row
    assert write_registry_export(300, tmp_path / "again", seed=3).joinpath(
        "doses.csv").read_bytes() == (out / "doses.csv").read_bytes()


def test_run_reads_the_sheet_given(export, runs_dir, capsys):
    """run --sheet: the export's first sheet is a wrong draft; the sheet named is read by
    the up-front check and by every notebook, so the run gives the paper's flow (54 included,
    31 responders; Sharma 2017, Figure 1)."""
    import openpyxl

    frame = pd.read_csv(RAW / "patients.csv")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, data in (("Old", frame.assign(sex="X")), ("New", frame)):
        ws = book.create_sheet(title)
        ws.append(list(data.columns))
        for values in data.itertuples(index=False):
            ws.append([None if pd.isna(v) else v for v in values])
    book.save(export / "patients.xlsx")
    (export / "patients.csv").unlink()
    args = ["run", "--name", "sheet", "--data", str(export), "--to", "none",
            "--runs-dir", str(runs_dir), "--no-cache"]
    assert cli.main(args) == 2
    assert "sheet 'Old'" in capsys.readouterr().err
    assert cli.main([*args, "--sheet", "New"]) == 0
    numbers = json.loads((runs_dir / "sheet" / "results.json").read_text())["numbers"]
    assert numbers["flow.included"] == 54 and numbers["flow.conv_responders"] == 31
    executed = (runs_dir / "sheet" / "notebooks" / "03_tables.ipynb").read_text()
    assert 'sheet = \\"New\\"' in executed
