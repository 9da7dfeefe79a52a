"""Tests of the consistency checks (analysis.consistency) against hand computations and
independent implementations named in each test: exact fractions, itertools brute force with
``statistics.stdev``, ``scipy.stats.ttest_rel`` / ``ttest_ind`` / ``mannwhitneyu`` on
constructed data, ``scipy.stats.chi2_contingency`` / ``fisher_exact`` and
``analysis.stats.fisher_exact_rxc`` on every enumerated table. Never a check against itself.
"""

from __future__ import annotations

import itertools
import math
import statistics
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats

from analysis.consistency.contingency import all_tables, contingency_p, table_tests, which_test
from analysis.consistency.core import GRIDS, make_verdict
from analysis.consistency.crosssource import (
    count_within,
    level_sum,
    same_quantity,
    swapped_levels,
)
from analysis.consistency.granularity import (
    grim_mean,
    pct_change,
    pct_change_on_grid,
    percent_of_count,
    pooled_mean,
)
from analysis.consistency.pvalues import (
    _t_from_total_sd,
    mann_whitney_u_range,
    mann_whitney_with_ties,
    mw_p,
    paired_p,
    paired_t_range,
    two_sample_p,
)
from analysis.consistency.sprite import sd_on_grid
from analysis.errors import ParameterError
from analysis.printed import Printed, interval
from analysis.stats import fisher_exact_rxc

P = Printed


def fits(x: Fraction, printed: Printed) -> bool:
    """Independent interval test in exact fractions: |x - v| <= half a unit of the last digit."""
    return abs(x - Fraction(str(printed.value))) <= Fraction(1, 2 * 10 ** printed.decimals)


# --------------------------------------------------------------------------- core


def test_interval_and_verdict_record():
    assert interval(48.2, 1) == (48.15, 48.25)
    assert interval(0.60, 2) == (0.595, 0.605)
    assert interval(0.001, 3, "<", closed=True) == (0.0, 0.001)
    assert (Printed(48.2, 1).lo, Printed(48.2, 1).hi) == (48.15, 48.25)  # closed: edges in
    v = make_verdict("x", "consistent", "{a} and {verdict}", a=1)
    assert v.sentence == "1 and consistent" and v.evidence == {"a": 1}
    with pytest.raises(ParameterError, match="verdict must be one of"):
        make_verdict("x", "maybe", "")


# --------------------------------------------------------------------------- granularity


@pytest.mark.parametrize(("count", "den", "pct", "ok"), [
    (26, 54, P(48.2, 1), False),  # Table 1 Black: 26/54 = 48.148% (hand)
    (22, 54, P(40, 0), False),  # Discussion SSA "40%": 40.74% (hand)
    (6, 16, P(38, 0), True),  # Results men 38%: 6/16 = 37.5% exactly, boundary attainable
    (20, 30, P(67, 0), True),  # PM 67% = 66.67%
    (2, 54, P(7.4, 1), False),  # Table 2 Hispanic total against Table 1's 7.4%
])
def test_percent_of_count_hand_and_fractions(count, den, pct, ok):
    v = percent_of_count(count, den, pct)
    assert (v.verdict == "consistent") is ok
    # independent: every k whose exact fraction fits, computed with Fraction
    expected = tuple(k for k in range(den + 1) if fits(Fraction(100 * k, den), pct))
    assert v.evidence["counts_fitting"] == expected


def test_grim_mean_against_fraction_brute_force():
    # Table 3 CK of the 5 failures, 1975.7: 5 whole numbers average to a multiple of 0.2
    # (hand: 9878.5 / 5); independent brute force over whole sums with Fraction.
    mean = P(1975.7, 1)
    for n in range(1, 6):
        brute = any(fits(Fraction(s, n), mean) for s in range(1975 * n - n, 1977 * n + n))
        assert (grim_mean(mean, [n], GRIDS["whole"]).verdict == "consistent") is brute
    assert grim_mean(mean, [5], GRIDS["whole"]).verdict == "inconsistent"
    assert grim_mean(mean, [5, 4, 3], GRIDS["whole"]).evidence["ns_fitting"] == (4, 3)
    # AZA at 3-6 months 89.6 on 25-mg steps: no n <= 11 (hand: 25k/n never in [89.55, 89.65])
    brute = [n for n in range(1, 12) for k in range(0, 13 * n)
             if fits(Fraction(25 * k, n), P(89.6, 1))]
    v = grim_mean(P(89.6, 1), list(range(11, 0, -1)), GRIDS["aza"])
    assert brute == [] and v.verdict == "inconsistent"
    assert v.evidence["nearest"] == (round(975 / 11, 4), round(1000 / 11, 4))


def test_pooled_mean_ck_needs_ten_missing_brute_force():
    # Table 1 CK 2933.4 vs Table 2 2588.9 (31) and 3431.0 (23): with all 54 the pooled mean is
    # (31 * 2588.9 + 23 * 3431.0) / 54 = 2947.57 (hand). Independent brute force over whole
    # sums with Fraction for every (n1, n2).
    pooled, m1, m2 = P(2933.4, 1), P(2588.9, 1), P(3431.0, 1)
    v = pooled_mean(pooled, [(m1, 31), (m2, 23)], GRIDS["whole"])
    assert v.verdict == "consistent" and not v.evidence["complete_ok"]
    assert v.evidence["complete_lo"] == pytest.approx((31 * 2588.85 + 23 * 3430.95) / 54)
    best = None
    for a in range(1, 32):
        s1 = [s for s in range(round(2588.9 * a) - 2, round(2588.9 * a) + 3)
              if fits(Fraction(s, a), m1)]
        for b in range(1, 24):
            s2 = [s for s in range(round(3431 * b) - 2, round(3431 * b) + 3)
                  if fits(Fraction(s, b), m2)]
            if any(fits(Fraction(x + y, a + b), pooled) for x in s1 for y in s2):
                missing = 54 - a - b
                best = missing if best is None else min(best, missing)
    assert v.evidence["min_missing"] == best == 10
    assert (26, 18) in v.evidence["pairs"]


def test_pooled_mean_continuous_age_hand():
    # (31 * 46.8 + 23 * 42.2) / 54 = 44.84 (hand): Table 1's 44.9 holds
    v = pooled_mean(P(44.9, 1), [(P(46.8, 1), 31), (P(42.2, 1), 23)])
    assert v.verdict == "consistent" and v.evidence["min_missing"] == 0


def test_pct_change_hand():
    # MMF 2166.7 -> 1333.3 "38.4%": smallest decrease (2166.65 - 1333.35) / 2166.65 (hand)
    v = pct_change(P(2166.7, 1), P(1333.3, 1), P(38.4, 1))
    assert v.verdict == "inconsistent"
    assert v.evidence["lo"] == pytest.approx(100 * (2166.65 - 1333.35) / 2166.65)
    assert v.evidence["lo"] > 38.45
    # AZA 143.2 -> 84.1 "41.2%": continuous means reach (143.15 - 84.15) / 143.15 = 41.216%
    assert pct_change(P(143.2, 1), P(84.1, 1), P(41.2, 1)).verdict == "consistent"
    # prednisone 35.1 -> 12.4 "65%" (64.67%, hand)
    assert pct_change(P(35.1, 1), P(12.4, 1), P(65, 0)).verdict == "consistent"


def test_pct_change_on_grid_aza_hand():
    # 11 doses in 25-mg steps: 143.2 forces 1575 mg, 84.1 forces 925 mg (only n = 11 works on
    # the grid for 84.1; hand: 25k/n in [84.05, 84.15]); decrease 650/1575 = 41.27%.
    v = pct_change_on_grid(P(143.2, 1), P(84.1, 1), P(41.2, 1), [11], list(range(11, 0, -1)),
                           GRIDS["aza"])
    assert v.verdict == "inconsistent"
    assert v.evidence["decreases"] == (round(100 * 650 / 1575, 4),)
    # the mean 89.6 is unattainable: the percent change cannot be judged on the grid
    v = pct_change_on_grid(P(143.2, 1), P(89.6, 1), P(37, 0), [11], list(range(11, 0, -1)),
                           GRIDS["aza"])
    assert v.verdict == "undecidable"


# --------------------------------------------------------------------------- SD on a grid


def brute_sds(n, values, mean: Printed, fixed=None):
    """Sample SDs of every multiset (itertools + statistics.stdev) with the printed mean."""
    out = set()
    if fixed:
        fv, fc = fixed
        free = [v for v in values if v != fv]
        combos = (list(c) + [fv] * fc for c in itertools.combinations_with_replacement(free, n - fc)
                  if all(c.count(x) < fc for x in set(c)))
    else:
        combos = (list(c) for c in itertools.combinations_with_replacement(values, n))
    for c in combos:
        if fits(Fraction(sum(Fraction(str(x)) for x in c), n), mean):
            out.add(statistics.stdev(c))
    return out


def test_aza_start_sd_unreachable_with_seven_on_150():
    # Issue 12: 11 patients, 7 on 150 mg, mean 143.2 (25-mg steps): SD 27.6 or 29.8, never 28.6
    values = list(range(25, 301, 25))
    sds = brute_sds(11, values, P(143.2, 1), fixed=(150, 7))
    assert not any(28.55 <= s <= 28.65 for s in sds)
    assert {round(s, 1) for s in sds} >= {27.6, 29.8}
    v = sd_on_grid(P(143.2, 1), P(28.6, 1), [11], GRIDS["aza"].starting(25), fixed=(150, 7))
    assert v.verdict == "inconsistent"
    below = max(s for s in sds if s < 28.55)
    above = min(s for s in sds if s > 28.65)
    assert v.evidence["sds_near"] == ((11, round(below, 2), round(above, 2)),)
    assert round(below, 1) == 27.6 and round(above, 1) == 29.8


@pytest.mark.parametrize(("mean", "sd", "ok"), [
    (P(17.5, 1), P(16.8, 1), False),  # MTX 3-6 months
    (P(23, 0), P(14.4, 1), False),  # MTX 1 year
    (P(17.5, 1), P(16.0, 1), True),  # reachable (n = 5: 16.01)
])
def test_mtx_sd_brute_force(mean, sd, ok):
    values = [x * 2.5 for x in range(13)]
    brute = any(any(sd.lo <= s <= sd.hi for s in brute_sds(n, values, mean))
                for n in range(2, 6))
    v = sd_on_grid(mean, sd, list(range(5, 0, -1)), GRIDS["mtx"])
    assert brute is ok
    assert (v.verdict == "consistent") is ok


def test_start_sds_reachable_hand():
    # MTX 25.0 +/- 3.5, 3 of 5 on 25 mg: {20, 25, 25, 25, 30} has SD sqrt(50/4) = 3.54 (hand)
    assert statistics.stdev([20, 25, 25, 25, 30]) == pytest.approx(math.sqrt(12.5))
    v = sd_on_grid(P(25.0, 1), P(3.5, 1), [5], GRIDS["mtx"].starting(2.5), fixed=(25, 3))
    assert v.verdict == "consistent"
    # MMF 2166.7 +/- 288.7 (n = 3): {2000, 2000, 2500}; 1333.3 +/- 1258.3: {0, 1500, 2500}
    assert round(statistics.stdev([2000, 2000, 2500]), 1) == 288.7
    assert round(statistics.stdev([0, 1500, 2500]), 1) == 1258.3
    assert sd_on_grid(P(2166.7, 1), P(288.7, 1), [3], GRIDS["mmf"]).verdict == "consistent"
    assert sd_on_grid(P(1333.3, 1), P(1258.3, 1), [3], GRIDS["mmf"]).verdict == "consistent"


# --------------------------------------------------------------------------- paired t


def paired_data(m1, s1, m2, s2, n, r):
    """n pairs with exactly these means, sample SDs and Pearson correlation r."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal((n, 2))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)  # two orthonormal, centred columns
    u, w = q[:, 0] * math.sqrt(n - 1), q[:, 1] * math.sqrt(n - 1)
    x = m1 + s1 * u
    y = m2 + s2 * (r * u + math.sqrt(max(1 - r * r, 0.0)) * w)
    return x, y


@pytest.mark.parametrize("r", [-1.0, -0.5, 0.0, 0.6, 0.95])
def test_paired_p_equals_scipy_ttest_rel(r):
    x, y = paired_data(35.1, 18.6, 12.4, 8.0, 18, r)
    sd_diff = math.sqrt(18.6 ** 2 + 8.0 ** 2 - 2 * r * 18.6 * 8.0)
    assert paired_p(35.1 - 12.4, sd_diff, 18) == pytest.approx(
        scipy.stats.ttest_rel(x, y).pvalue, rel=1e-9)


def test_prednisone_p008_unreachable_with_23():
    # Issue 12: 44.7 +/- 5.2 -> 31.2 +/- 18.9 mg, n = 23: p <= 0.014 even at r = -1.
    # Most favourable corner of the rounding box at r = -1, checked with scipy.stats.ttest_rel:
    x, y = paired_data(44.65, 5.25, 31.25, 18.95, 23, -1.0)
    p_max = scipy.stats.ttest_rel(x, y).pvalue
    assert 0.014 < p_max < 0.0145  # "<= 0.014" holds to 2 significant digits: 0.01445
    v = paired_t_range((P(44.7, 1), P(5.2, 1)), (P(31.2, 1), P(18.9, 1)), P(0.08, 2),
                       list(range(23, 1, -1)))
    assert v.evidence["p_max"] == pytest.approx(p_max, rel=1e-6)
    assert math.isnan(v.evidence["r_lo"])  # no r at n = 23
    # smaller n can give 0.08 (n is not printed): e.g. n = 9 at r = -0.5, by scipy
    x, y = paired_data(44.7, 5.2, 31.2, 18.9, 9, -0.5)
    assert 9 in v.evidence["ns_fitting"] and scipy.stats.ttest_rel(x, y).pvalue > 0.02


def test_prednisone_p0002_needs_strongly_negative_r():
    # Issue 12: 35.1 +/- 18.6 -> 12.4 +/- 8.0, n = 18, p = 0.002 needs r <= about -0.77.
    v = paired_t_range((P(35.1, 1), P(18.6, 1)), (P(12.4, 1), P(8.0, 1)), P(0.002, 3), [18])
    assert v.evidence["r_lo"] == -1.0
    r_hi = v.evidence["r_hi"]
    assert -0.78 < r_hi < -0.76
    # at r_hi the most favourable corner gives p = 0.0015 (scipy); a bit above, no corner of
    # the rounding box reaches 0.0015 (brute force over a 5 x 5 x 5 x 5 grid, scipy).
    x, y = paired_data(35.05, 18.65, 12.45, 8.05, 18, r_hi)
    assert scipy.stats.ttest_rel(x, y).pvalue == pytest.approx(0.0015, rel=1e-4)
    grid = itertools.product(np.linspace(35.05, 35.15, 5), np.linspace(18.55, 18.65, 5),
                             np.linspace(12.35, 12.45, 5), np.linspace(7.95, 8.05, 5))
    best = max(scipy.stats.ttest_rel(*paired_data(a, b, c, d, 18, r_hi + 0.01)).pvalue
               for a, b, c, d in grid)
    assert best < 0.0015


# --------------------------------------------------------------------------- two samples


def test_t_from_total_sd_equals_scipy_ttest_ind():
    # two groups with means 46.8 / 42.2 (31 / 23) whose pooled 54 values have SD 14.9:
    # build them, then scipy.stats.ttest_ind (pooled variance) on the data.
    n1, n2, m1, m2, sd = 31, 23, 46.8, 42.2, 14.9
    within = (53 * sd ** 2 - n1 * n2 / 54 * (m1 - m2) ** 2) / 52
    rng = np.random.default_rng(3)
    g1, g2 = rng.standard_normal(n1), rng.standard_normal(n2)
    g1 = m1 + (g1 - g1.mean()) / g1.std(ddof=1) * math.sqrt(within)
    g2 = m2 + (g2 - g2.mean()) / g2.std(ddof=1) * math.sqrt(within)
    assert np.concatenate([g1, g2]).std(ddof=1) == pytest.approx(sd)
    assert _t_from_total_sd(m1 - m2, sd, n1, n2) == pytest.approx(
        scipy.stats.ttest_ind(g1, g2).pvalue, rel=1e-9)
    v = two_sample_p((P(46.8, 1), P(42.2, 1)), (31, 23), P(0.34, 2), P(14.9, 1))
    assert not v.evidence["t_fits"] and v.evidence["mw_fits"] and v.verdict == "consistent"


@pytest.mark.parametrize("seed", range(5))
def test_mann_whitney_u_range_against_scipy(seed):
    # random data without ties: scipy.stats.mannwhitneyu (asymptotic, no continuity
    # correction, as Stata's ranksum); its p printed to 2 decimals must admit its own U.
    rng = np.random.default_rng(seed)
    x, y = rng.permutation(54)[:31] + 0.5 * seed, rng.permutation(54)[31:] + 0.25
    res = scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)
    u = min(res.statistic, 31 * 23 - res.statistic)
    lo, hi = mann_whitney_u_range(P(round(res.pvalue, 2), 2), 31, 23)
    assert lo <= u <= hi


@pytest.mark.parametrize("tie", [0, 2, 5, 9])
def test_mw_p_with_one_tie_group_equals_scipy(tie):
    # 13 vs 5 values, one group of `tie` equal values across both groups: SciPy's
    # mannwhitneyu (asymptotic, tie-corrected, no continuity correction) on the data.
    rng = np.random.default_rng(tie)
    values = rng.permutation(18).astype(float)
    values[:tie] = 100.0  # one tie group
    values = rng.permutation(values)
    x, y = values[:13], values[13:]
    res = scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)
    assert mw_p(res.statistic, 13, 5, tie) == pytest.approx(res.pvalue, rel=1e-9)
    if tie:
        found = mann_whitney_with_ties(P(round(res.pvalue, 3), 3), 13, 5)
        assert found is not None and found[2] <= tie


# --------------------------------------------------------------------------- contingency


def scipy_tests(table):
    arr = np.asarray(table)
    arr = arr[arr.sum(axis=1) > 0]
    out = {"pearson": scipy.stats.chi2_contingency(arr, correction=False).pvalue,
           "lr": scipy.stats.chi2_contingency(arr, correction=False,
                                              lambda_="log-likelihood").pvalue,
           "fisher": fisher_exact_rxc(arr)}
    if arr.shape == (2, 2):
        out["yates"] = scipy.stats.chi2_contingency(arr, correction=True).pvalue
        out["fisher"] = scipy.stats.fisher_exact(arr).pvalue
        out["fisher_one_sided"] = min(scipy.stats.fisher_exact(arr, "less").pvalue,
                                      scipy.stats.fisher_exact(arr, "greater").pvalue)
    return out


def test_no_table_with_histology_margins_gives_060():
    # Issue 12: rows (5, 3, 3, 3), columns (5, 9). Independent enumeration with
    # itertools.product; every test by SciPy / analysis.stats.fisher_exact_rxc.
    rows = (5, 3, 3, 3)
    tables = [[[a, r - a] for a, r in zip(x, rows, strict=True)]
              for x in itertools.product(*(range(r + 1) for r in rows)) if sum(x) == 5]
    assert len(tables) == len(all_tables(rows, 5)) == 44
    for t in tables:
        ref = scipy_tests(t)
        mine = table_tests(t)
        assert set(mine) == set(ref)
        for k in ref:
            assert mine[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-12), (t, k)
        assert not any(0.595 <= p <= 0.605 for p in ref.values())
    v = contingency_p([[3, 2], [1, 2], [0, 3], [1, 2]], P(0.60, 2))
    assert v.verdict == "inconsistent" and v.evidence["margin_fits"] == 0


@pytest.mark.parametrize("table", [
    [[6, 10], [25, 13]],  # Table 2 sex
    [[6, 0], [7, 5]],  # Table 3 anti-Jo1
    [[20, 18], [10, 2], [1, 3]],  # Table 2 smoking
    [[5, 4], [7, 1], [0, 0], [1, 0]],  # Table 3 race (an empty level)
])
def test_table_tests_equal_scipy(table):
    ref, mine = scipy_tests(table), table_tests(table)
    assert set(mine) == set(ref)
    for k in ref:
        assert mine[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-12)


def test_pm_vs_dm_p_is_the_three_category_test():
    # abstract "PM vs DM (67% vs 35%, p = 0.013)": analysis.stats FFH on the 3 x 2 myositis
    # row gives 0.01349; SciPy on the 2 x 2 PM vs DM table gives 0.028 (Pearson), 0.043
    # (Fisher).
    three, two = [[20, 10], [7, 13], [4, 0]], [[20, 10], [7, 13]]
    assert round(fisher_exact_rxc(three), 3) == 0.013
    assert round(scipy.stats.chi2_contingency(two, correction=False).pvalue, 3) == 0.028
    assert round(scipy.stats.fisher_exact(two).pvalue, 3) == 0.043
    v = which_test({"3-category": three, "2x2": two}, P(0.013, 3))
    assert v.verdict == "consistent" and v.evidence["fitting"] == (("3-category", "fisher"),)


# --------------------------------------------------------------------------- cross-source


def test_cross_source_hand():
    # Table 1 Hispanic 4 / Asian 2 vs Table 2 0 + 2 and 4 + 0
    assert level_sum(4, [0, 2], "Hispanic", "Table 2").verdict == "inconsistent"
    assert level_sum(2, [4, 0], "Asian", "Table 2").verdict == "inconsistent"
    assert level_sum(26, [14, 12], "Black", "Table 2").verdict == "consistent"
    # Discussion "all 6 patients with honeycombing" vs Table 3's 4 responders with it
    assert count_within(6, 4, "honeycombing", "Table 3").verdict == "inconsistent"
    # 31.2 vs 31.6 mg: disjoint intervals ([31.15, 31.25] and [31.55, 31.65], 0.30 apart):
    # possible only if the two printings cover different patients (issue 22)
    v = same_quantity(P(31.2, 1), P(31.6, 1), "prednisone", same_set=False)
    assert v.verdict == "consistent" and v.evidence["extra_dose_gap"] == pytest.approx(0.3)
    assert v.klass == "possible only if n differs" and "different patients" in v.requires
    assert same_quantity(P(31.2, 1), P(31.6, 1), "x", same_set=True).verdict == "inconsistent"
    assert same_quantity(P(40.7, 1), P(41, 0), "x", same_set=True).verdict == "consistent"


def test_aza_m3_6_sd_unreachable_even_with_an_adjacent_mean():
    # 89.6 is no mean of n <= 11 doses in 25-mg steps; with n = 10 the adjacent grid sums are
    # 875 and 900 mg (87.5, 90.0). Independent brute force (itertools + statistics.stdev):
    # no SD in [67.75, 67.85]; 900 mg gives 66.9 or 67.9 (the hand note in numbers.csv).
    values = list(range(0, 301, 25))
    sds = {}
    for c in itertools.combinations_with_replacement(values, 10):
        if sum(c) in (875, 900):
            sds.setdefault(sum(c), set()).add(statistics.stdev(c))
    assert not any(67.75 <= s <= 67.85 for v in sds.values() for s in v)
    assert {round(s, 1) for s in sds[900] if 66.5 < s < 68.5} >= {66.9, 67.9}
    v = sd_on_grid(P(89.6, 1), P(67.8, 1), list(range(11, 0, -1)), GRIDS["aza"])
    assert v.verdict == "inconsistent" and not v.evidence["mean_attainable"]
    assert not v.evidence["relaxed_sd_reachable"]
    rows = {(n, m): (lo, hi) for n, m, lo, hi in v.evidence["sds_near_relaxed"]}
    below = max(s for s in sds[900] if s <= 67.85)
    above = min(s for s in sds[900] if s >= 67.75)
    assert rows[(10, 90.0)] == (round(below, 2), round(above, 2))


def test_swapped_levels_hand():
    # Table 1 race: Hispanic 4, Asian 2; Table 2: Asian 4 + 0, Hispanic 0 + 2; Table 3 has 1
    # Hispanic (a conventional failure). Had Table 2 swapped the labels, its Hispanic
    # nonresponders would be 0 < 1: the swap is in Table 1 (hand).
    pooled = {"black": 26, "white": 22, "asian": 2, "hispanic": 4}
    split = {"black": (14, 12), "white": (13, 9), "asian": (4, 0), "hispanic": (0, 2)}
    subset = {"black": (5, 4), "white": (7, 1), "asian": (0, 0), "hispanic": (1, 0)}
    v = swapped_levels("race", pooled, split, subset)
    assert v.verdict == "inconsistent"
    assert v.evidence["pairs"] == (("asian", "hispanic"),)
    assert v.evidence["split_relabelled_fits_subset"] == (False,)
    agree = {"black": 26, "white": 22, "asian": 4, "hispanic": 2}
    assert swapped_levels("race", agree, split, subset).verdict == "consistent"
    off = {"black": 25, "white": 22, "asian": 4, "hispanic": 2}
    assert swapped_levels("race", off, split, subset).verdict == "undecidable"


# ------------------------------------------------------------- exact interval ends (issue 22)


def test_acceptance_only_at_the_excluded_end_is_said():
    # By hand (Fraction): 6 of 16 is exactly 75/2 = 37.5%. "37" stands for [36.5, 37.5) under
    # the paper's rounding (half away from zero: 37.5 prints "38"); the closed interval of the
    # checks accepts it only at its excluded end, and the evidence says so.
    assert Fraction(6, 16) * 100 == Fraction(75, 2)
    v = percent_of_count(6, 16, P(37, 0))
    assert v.verdict == "consistent" and v.evidence["excluded_end"] == 37.5
    assert "accepted only at 37.5" in v.sentence and "rounds half away from zero to 38" in \
        v.sentence
    # "38" stands for [37.5, 38.5): 37.5 is its included lower end, nothing to say
    v = percent_of_count(6, 16, P(38, 0))
    assert v.verdict == "consistent" and "excluded_end" not in v.evidence
    # A mean of 4 whole numbers is a multiple of 1/4: printed 3.2 ([3.15, 3.25)) only 13/4 =
    # 3.25 is in the closed interval, and it prints 3.3; printed 3.3 takes 13/4 as its lower end
    assert [Fraction(k, 4) for k in range(20)
            if Fraction(315, 100) <= Fraction(k, 4) <= Fraction(325, 100)] == [Fraction(13, 4)]
    v = grim_mean(P(3.2, 1), [4], GRIDS["whole"])
    assert v.evidence["excluded_end"] == 3.25 and "accepted only at 3.25" in v.sentence
    assert "excluded_end" not in grim_mean(P(3.3, 1), [4], GRIDS["whole"]).evidence
    # two printings 31.2 and 31.3 share only 31.25, which 31.2's own rounding leaves out
    v = same_quantity(P(31.2, 1), P(31.3, 1), "one quantity", same_set=True)
    assert v.verdict == "consistent" and v.evidence["excluded_end"] == 31.25
    # a bound "< 0.001" is met by 0.001 only in the closed reading
    from analysis.consistency.core import end_only, mark_end
    assert end_only([0.001], P(0.001, 3, "<")) == 0.001
    assert end_only([0.0004, 0.001], P(0.001, 3, "<")) is None
    marked = mark_end(make_verdict("c", "consistent", "t"), 0.001, P(0.001, 3, "<"))
    assert '"< 0.001" excludes' in marked.sentence
    # a proof is never marked (it found no value at all)
    assert "excluded_end" not in percent_of_count(26, 54, P(48.2, 1)).evidence
