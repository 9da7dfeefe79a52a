"""Sensitivity analysis: the sweep's rows against Tables 2 and 3 computed by
:mod:`analysis.tables` (and SciPy's Fisher test), the paper's numbers at the paper's
definition, the bootstrap, the conclusions, the report section and the notebook. The response
rules themselves are tested in ``test_response.py`` (the sweep uses the same engine)."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis import paths, sensitivity
from analysis.cohort import analysis_groups
from analysis.errors import ParameterError
from analysis.params import Params
from analysis.report import sensitivity as sensitivity_report
from analysis.tables import analysis_dataset, table2, table3

ROOT = paths.ROOT


@pytest.fixture(scope="module")
def swept(cohort):
    return sensitivity.sweep(cohort.patients, cohort.assessments, Params())


@pytest.fixture(scope="module")
def claims(swept):
    return sensitivity.conclusions(swept, alpha=0.05)


@pytest.fixture(scope="module")
def paper_groups(cohort):
    return analysis_groups(cohort.patients, cohort.assessments, Params())


@pytest.fixture(scope="module")
def boot(paper_groups, cohort):
    return sensitivity.bootstrap(paper_groups, cohort.assessments)


def _params(row) -> Params:
    """The parameters of one definition (numpy scalars as Python values)."""
    values = {name: row[name] for name in sensitivity.SWEPT}
    return Params(**{k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()})


# --------------------------------------------------------------------------- the grid
def test_default_grid_sweeps_cutoffs_and_assumptions_including_the_papers():
    defs = sensitivity.definitions()
    # cutoffs 3 x 3 x 3 x 4 x 3 x 2; CK limit 150/200/250; missing baseline/follow-up CK rules.
    assert len(defs) == 3 * 3 * 3 * 4 * 3 * 2 * 3 * 2 * 2 == 7776
    assert defs["in_grid"].all()
    ref = defs[defs["is_reference"]]
    assert len(ref) == 1
    assert ref[list(sensitivity.SWEPT)].iloc[0].tolist() == [
        0.10, 0.10, 0.15, 2, 0.50, "relative", 200.0, "refractory", "refractory", "not_met"]
    assert set(defs["pft_missing"]) == {"not_met"}  # not swept unless the grid names it
    assert not defs.duplicated(list(sensitivity.SWEPT)).any()
    assert set(defs["ild_criteria_required"]) == {1, 2, 3, 4}


def test_a_reference_outside_the_grid_is_appended_but_not_counted():
    defs = sensitivity.definitions({"fvc_decline": [0.05, 0.15]}, Params())
    assert defs["in_grid"].tolist() == [True, True, False]
    assert defs["is_reference"].tolist() == [False, False, True]
    assert defs["fvc_decline"].tolist() == [0.05, 0.15, 0.10]


@pytest.mark.parametrize("grid, message", [
    ({"fvc_dcline": [0.1]}, "cannot sweep"),
    ({"fvc_decline": [1.5]}, "between 0 and 1"),
    ({"decline_scale": ["percent"]}, "relative | absolute"),
    ({"ild_criteria_required": []}, "non-empty list"),
    ({"ck_fall": 0.5}, "non-empty list"),
    ({"ck_missing_baseline": ["ignore"]}, "refractory | not_met"),
])
def test_bad_grids_are_refused_with_what_is_allowed(grid, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        sensitivity.definitions(grid)


# ------------------------------------------------------------ the grid's sweep, kept apart
SMALL = {"fvc_decline": [0.05, 0.10, 0.15], "ild_criteria_required": [1, 2, 3],
         "ck_missing_baseline": ["refractory", "not_met"]}


def test_the_grid_sweep_does_not_read_the_runs_own_definition(cohort):
    """Issue 24: the grid's definitions do not depend on the run's own, so runs that differ
    only in an axis the grid sweeps share one sweep (the step cache keeps it apart,
    analysis.steps); the run's definition is marked afterwards, or added as one more row."""
    p, a = cohort.patients, cohort.assessments
    grid = sensitivity.grid_sweep(p, a, Params(), SMALL)
    other = Params(fvc_decline=0.15, ild_criteria_required=3, ck_missing_baseline="not_met")
    pd.testing.assert_frame_equal(sensitivity.grid_sweep(p, a, other, SMALL), grid)
    assert "is_reference" not in grid and len(grid) == 3 * 3 * 2 and grid["in_grid"].all()
    # on the grid: marked where the grid holds the run's definition, nothing added
    marked = sensitivity.mark_reference(grid, p, a, other)
    assert len(marked) == len(grid) and marked["is_reference"].sum() == 1
    row = marked[marked["is_reference"]].iloc[0]
    assert (row["fvc_decline"], row["ild_criteria_required"], row["ck_missing_baseline"]) == (
        0.15, 3, "not_met")
    # off the grid (FVC 7%): one more row, numbered after the grid, not counted in the grid,
    # whose numbers are those of the definition swept alone (a grid of that one definition)
    off = Params(fvc_decline=0.07)
    marked = sensitivity.mark_reference(grid, p, a, off)
    assert len(marked) == len(grid) + 1 and not marked["is_reference"].iloc[:-1].any()
    extra = marked.iloc[-1]
    assert (extra["definition"], extra["in_grid"], extra["is_reference"]) == (len(grid), False,
                                                                             True)
    alone = sensitivity.grid_sweep(p, a, off, {"fvc_decline": [0.07]}).iloc[0]
    numbers = [c for c in grid.columns if c not in ("definition", "in_grid")]
    pd.testing.assert_series_equal(extra[numbers], alone[numbers], check_names=False)
    # the one-call sweep is the two steps
    pd.testing.assert_frame_equal(sensitivity.sweep(p, a, off, SMALL), marked)


def test_a_kept_result_is_read_back_exactly_and_not_computed_again(tmp_path, cohort):
    """analysis.files.stored: the sweep kept at a path (the run's cache file) comes back with
    its values and column types; without a path nothing is kept."""
    from analysis.files import stored

    calls = []

    def compute():
        calls.append(1)
        return sensitivity.grid_sweep(cohort.patients, cohort.assessments, Params(),
                                      {"fvc_decline": [0.05, 0.10]})

    path = tmp_path / "cache" / "sweep.pickle"
    first = stored(path, compute)
    again = stored(path, compute)
    assert len(calls) == 1 and path.is_file()
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    stored(None, compute)
    assert len(calls) == 2 and [q.name for q in path.parent.iterdir()] == ["sweep.pickle"]


# --------------------------------------------------------------------------- the sweep
def _sampled_definitions(n=20, seed=11):
    defs = sensitivity.definitions()
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(defs), size=n, replace=False)
    rows = [defs.iloc[i] for i in sorted(picks)] + [defs[defs["is_reference"]].iloc[0]]
    return defs, rows


def test_sweep_rows_equal_tables_2_and_3_on_sampled_definitions(cohort, swept):
    _, rows = _sampled_definitions(n=8, seed=5)
    for row in rows:
        params = _params(row)
        got = swept.loc[swept["definition"] == row["definition"]].iloc[0]
        groups = analysis_groups(cohort.patients, cohort.assessments, params)
        t2 = table2(analysis_dataset(cohort.patients, groups, cohort.assessments, "index"),
                    params).set_index(["variable", "level"])
        t3 = table3(analysis_dataset(cohort.patients, groups, cohort.assessments,
                                     "tac_start"), params).set_index(["variable", "level"])
        assert got["conv_responders"] == int(t2.loc[("sex", "male"), "n_resp"])
        assert got["pm_responders"] == t2.loc[("myositis", "pm"), "resp"]
        assert got["dm_n"] - got["dm_responders"] == t2.loc[("myositis", "dm"), "nonresp"]
        assert got["myositis_p"] == pytest.approx(t2.loc[("myositis", "pm"), "p"], rel=1e-12)
        assert got["myositis_test"] == t2.loc[("myositis", "pm"), "test"]
        # the rows the claims read beyond these: Table 2's sex row, Table 3's anti-Jo1 row and
        # the effects (with intervals) of Table 3's FVC and TLC rows
        assert got["female_responders"] == t2.loc[("sex", "female"), "resp"]
        assert got["male_n"] - got["male_responders"] == t2.loc[("sex", "male"), "nonresp"]
        assert got["sex_p"] == pytest.approx(t2.loc[("sex", "male"), "p"], rel=1e-12)
        assert got["sex_test"] == t2.loc[("sex", "male"), "test"]
        jo1 = t3.loc[("jo1", "")]
        assert (got["jo1_responders"], got["jo1_failures"]) == (jo1["resp"], jo1["nonresp"])
        assert got["jo1_p"] == pytest.approx(jo1["p"], rel=1e-12, nan_ok=True)
        for stat in ("effect", "effect_low", "effect_high"):
            assert got[f"jo1_{stat}"] == pytest.approx(jo1[stat], rel=1e-12, nan_ok=True)
            for measure in ("fvc", "tlc"):
                assert got[f"{measure}_{stat}"] == pytest.approx(
                    t3.loc[(measure, ""), stat], rel=1e-12, nan_ok=True)
        assert got["tac_n"] == int(groups["tac_analysed"].sum())
        assert got["tac_responders"] == int(groups["tac_responder"].fillna(False).sum())
        for measure in ("fvc", "tlc"):
            table_row = t3.loc[(measure, "")]
            assert got[f"{measure}_resp"] == pytest.approx(table_row["resp"], rel=1e-12,
                                                            nan_ok=True)
            assert got[f"{measure}_nonresp"] == pytest.approx(table_row["nonresp"], rel=1e-12,
                                                               nan_ok=True)
            assert got[f"{measure}_p"] == pytest.approx(table_row["p"], rel=1e-12,
                                                         nan_ok=True)
        # PM vs DM 2 x 2: SciPy's two-sided Fisher as referee.
        table = [[got["pm_responders"], got["pm_n"] - got["pm_responders"]],
                 [got["dm_responders"], got["dm_n"] - got["dm_responders"]]]
        assert got["pm_dm_p"] == pytest.approx(scipy.stats.fisher_exact(table).pvalue)


def test_the_papers_definition_gives_the_papers_numbers(swept):
    ref = swept[swept["is_reference"]]
    assert len(ref) == 1
    ref = ref.iloc[0]
    assert (ref["n_included"], ref["conv_responders"]) == (54, 31)
    assert (ref["pm_responders"], ref["pm_n"], ref["dm_responders"], ref["dm_n"]) == (
        20, 30, 7, 20)
    assert round(ref["pm_pct"]) == 67 and round(ref["dm_pct"]) == 35  # Abstract
    assert round(ref["myositis_p"], 3) == 0.013  # Table 2, myositis (exact 3 x 2)
    assert round(ref["pm_dm_p"], 4) == 0.0428  # PM vs DM alone, two-sided Fisher
    assert (ref["tac_responders"], ref["tac_n"]) == (13, 18)
    assert (round(ref["fvc_resp"], 1), round(ref["fvc_nonresp"], 1)) == (63.7, 42.4)
    assert (round(ref["tlc_resp"], 1), round(ref["tlc_nonresp"], 1)) == (65.9, 45.0)
    assert round(ref["fvc_p"], 3) == 0.010 and round(ref["tlc_p"], 3) == 0.042  # Table 3
    assert ref["tac_binom_p"] == pytest.approx(scipy.stats.binomtest(13, 18).pvalue)


def test_sweep_does_not_modify_its_inputs(cohort):
    patients, assessments = cohort.patients.copy(), cohort.assessments.copy()
    sensitivity.sweep(cohort.patients, cohort.assessments, Params(),
                      {"ild_criteria_required": [1, 2]})
    pd.testing.assert_frame_equal(cohort.patients, patients)
    pd.testing.assert_frame_equal(cohort.assessments, assessments)


# --------------------------------------------------------------------------- bootstrap
def test_bootstrap_is_seeded_contains_the_estimates_and_matches_a_hand_rolled_one(
        boot, paper_groups, cohort):
    again = sensitivity.bootstrap(paper_groups, cohort.assessments)
    pd.testing.assert_frame_equal(boot, again)
    other = sensitivity.bootstrap(paper_groups, cohort.assessments, seed=1)
    assert not np.allclose(boot["ci_low"], other["ci_low"])
    by = boot.set_index("quantity")
    assert by.loc["conv_pct", "estimate"] == pytest.approx(100 * 31 / 54)
    assert (by.loc["pm_pct", "numerator"], by.loc["pm_pct", "denominator"]) == (20, 30)
    assert (by.loc["dm_pct", "numerator"], by.loc["dm_pct", "denominator"]) == (7, 20)
    assert by.loc["pm_dm_diff", "estimate"] == pytest.approx(100 * (20 / 30 - 7 / 20))
    assert by.loc["tac_pct", "estimate"] == pytest.approx(100 * 13 / 18)
    assert by.loc["fvc_diff", "estimate"] == pytest.approx(63.692307 - 42.4, abs=1e-5)
    assert (boot["ci_low"] <= boot["estimate"]).all()
    assert (boot["estimate"] <= boot["ci_high"]).all()
    assert (boot["n_resamples"] >= 2000).all()
    # Referee: the first quantity drawn by hand from the same generator.
    included = paper_groups[paper_groups["included"]]
    y = included["conv_responder"].astype(bool).to_numpy(dtype=float)
    rng = np.random.default_rng(2017)
    means = 100 * y[rng.integers(0, y.size, size=(5000, y.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    assert (by.loc["conv_pct", "ci_low"], by.loc["conv_pct", "ci_high"]) == (low, high)


def test_bootstrap_refuses_too_few_resamples(paper_groups, cohort):
    with pytest.raises(ParameterError, match="at least 2000"):
        sensitivity.bootstrap(paper_groups, cohort.assessments, n_resamples=500)


# --------------------------------------------------------------------------- conclusions
def test_conclusions_count_what_their_sentences_say(swept, claims):
    """The shares count the verdicts of the Methods' rule, restated here independently on the
    sweep's columns (no code shared with analysis.paper.claims)."""
    import scipy.stats

    grid = swept[swept["in_grid"]]
    alpha = 0.05
    pm_dm = grid["pm_responders"] / grid["pm_n"] - grid["dm_responders"] / grid["dm_n"]
    women = grid["female_responders"] / grid["female_n"] - grid["male_responders"] / grid["male_n"]
    lows = {(k, n): scipy.stats.binomtest(int(k), int(n)).proportion_ci(method="exact").low
            for k, n in set(zip(grid["tac_responders"], grid["tac_n"], strict=True)) if n}
    low = pd.Series([lows.get((k, n), np.nan) for k, n in zip(grid["tac_responders"],
                                                              grid["tac_n"], strict=True)],
                    index=grid.index)
    supported = {
        "pm_vs_dm": (pm_dm > 0) & (grid["pm_dm_p"] < alpha),
        "sex": women > 0,
        "tac_majority": low > 0.5,
        "fvc_lower": (grid["fvc_effect"] > 0) & (grid["fvc_p"] < alpha),
        "tlc_lower": (grid["tlc_effect"] > 0) & (grid["tlc_p"] < alpha),
        "jo1": grid["jo1_effect"] > 0,
    }
    same_way = {"pm_vs_dm": pm_dm > 0, "sex": women > 0,
                "tac_majority": 2 * grid["tac_responders"] > grid["tac_n"],
                "fvc_lower": grid["fvc_effect"] > 0, "tlc_lower": grid["tlc_effect"] > 0,
                "jo1": grid["jo1_effect"] > 0}
    assert claims["conclusion"].tolist() == list(supported)
    for rec in claims.to_dict("records"):
        k = int(supported[rec["conclusion"]].sum())
        assert rec["n_holds"] == k and rec["n_definitions"] == len(grid) == 7776
        assert rec["n_direction"] == int(same_way[rec["conclusion"]].sum()), rec["conclusion"]
        assert rec["share"] == pytest.approx(k / 7776)
        assert f" in {k} of 7776 definitions ({round(100 * k / 7776)}%)" in rec["sentence"]
        assert f"paper's definition: {rec['reference_verdict']}," in rec["sentence"]
    by = claims.set_index("conclusion")
    # At the paper's definition (Results: PM 20/30 vs DM 7/20; Table 3: FVC 63.7 vs 42.4,
    # p = 0.010; TLC 65.9 vs 45.0, p = 0.042) the comparisons hold; 13 of 18 is a majority
    # whose exact 95% interval (46.5% to 90.3%) does not exclude one half.
    assert by["reference_verdict"].to_dict() == {
        "pm_vs_dm": "holds", "sex": "holds", "tac_majority": "not established",
        "fvc_lower": "holds", "tlc_lower": "holds", "jo1": "holds"}
    assert "PM 20/30 (67%) vs DM 7/20 (35%), p = 0.043" in by.loc["pm_vs_dm", "sentence"]
    assert "13/18 (72%, 95% CI 47% to 90%)" in by.loc["tac_majority", "sentence"]
    assert "responders 63.7 vs failures 42.4, p = 0.010" in by.loc["fvc_lower", "sentence"]
    assert "responders 65.9 vs failures 45.0, p = 0.042" in by.loc["tlc_lower", "sentence"]


def test_a_looser_alpha_never_lowers_a_share(swept, claims):
    loose = sensitivity.conclusions(swept, alpha=0.10)
    assert (loose["n_holds"].to_numpy() >= claims["n_holds"].to_numpy()).all()
    with pytest.raises(ParameterError):
        sensitivity.conclusions(swept, alpha=0)


def test_reference_label_names_a_changed_definition():
    assert sensitivity.reference_label(Params()) == "paper's definition"
    assert sensitivity.reference_label(Params(alpha=0.1)) == "paper's definition"
    assert sensitivity.reference_label(Params(count_symptoms=False)) == "this run's definition"


# --------------------------------------------------------------------------- report
def test_markdown_has_heading_sentences_bootstrap_table_and_figures(swept, claims, boot):
    text = sensitivity_report.sensitivity_markdown(swept, claims, boot)
    lines = text.splitlines()
    assert lines[0] == "# Sensitivity of the conclusions to the definitions"
    assert sum(line.startswith("# ") for line in lines) == 1
    for sentence in claims["sentence"]:
        assert f"- {sentence}" in lines
    captions = [line for line in lines if line.startswith(": ")]
    assert any(c.startswith(": Bootstrap 95% confidence intervals") and
               c.endswith("{#tbl-bootstrap}") for c in captions)
    assert "57.4 (31/54)" in text
    figures = re.findall(r"!\[([^\]]+)\]\((figures/sensitivity_[a-z_]+\.png)\)"
                         r"\{#([^} ]+) fig-alt=\"([^\"]+)\"\}", text)
    assert [f[1] for f in figures] == [f"figures/{stem}.png" for stem in sensitivity_report.FIGURES]
    for caption, _, label, alt in figures:
        assert re.fullmatch(r"fig-[A-Za-z0-9-]+", label)
        assert alt != caption and len(alt) > 80  # alt text describes, not repeats (issue 14)
    assert "nan" not in text.lower()


def test_results_fragment_keys(swept, claims, boot):
    values = sensitivity.sensitivity_results(swept, claims, boot)
    assert all(key.startswith("sens.") for key in values)
    assert values["sens.n_definitions"] == 7776
    assert values["sens.share.pm_vs_dm"] == pytest.approx(100 * claims.loc[0, "share"])
    assert values["sens.boot.conv_pct.estimate"] == pytest.approx(100 * 31 / 54)


def test_heatmap_marks_the_papers_definition_once(swept):
    fig = sensitivity_report.plot_heatmap(swept, "conv_responders")
    marks = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "reference"]
    assert len(marks) == 1
    # 2 decline scales x 4 criteria counts, and the colour bar.
    assert len(fig.axes) == 9
    with pytest.raises(ParameterError):
        sensitivity_report.plot_heatmap(swept, "tac_pct")


@pytest.mark.slow
def test_notebook_runs_under_papermill_and_writes_the_section(paper_run, swept, claims, boot):
    """Step 05 as the pipeline runs it (papermill, the session's paper run, conftest.py;
    its sweep computed there from scratch and stored) writes the section this module's
    functions write from the in-process sweep: the same Markdown, the 7,776 definitions with
    the paper's marked once, the figures and the numbers for step 06."""
    md = (paper_run / "tables" / "sensitivity.md").read_text(encoding="utf-8")
    assert md == sensitivity_report.sensitivity_markdown(swept, claims, boot)
    table = pd.read_csv(paper_run / "tables" / "sensitivity.csv")
    assert len(table) == 7776 and table["is_reference"].sum() == 1
    assert table.loc[table["is_reference"], "conv_responders"].item() == 31
    for stem in sensitivity_report.FIGURES:  # the report's set: the PNG only
        assert (paper_run / "figures" / f"{stem}.png").stat().st_size > 1000
        assert not (paper_run / "figures" / f"{stem}.svg").exists()
    fragment = json.loads((paper_run / "results" / "sensitivity.json").read_text())
    assert fragment["sens.n_definitions"] == 7776
    assert fragment["sens.reference.pm_vs_dm"] == 1
