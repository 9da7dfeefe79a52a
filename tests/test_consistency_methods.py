"""Tests of the Methods-against-design checks (analysis.consistency.methods) and of the
text's counts, "all" and "none" statements (analysis.consistency.crosssource, engine), against
hand computations and independent implementations named in each test: scipy.stats
(chi2_contingency, fisher_exact, mannwhitneyu), a brute-force Fisher-Freeman-Halton test from
math.comb over every table with the printed margins. Never the checks against themselves.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats

from analysis.consistency import row_verdicts, verdicts
from analysis.consistency.crosssource import all_of, both_of, none_significant
from analysis.consistency.methods import (
    declared_categorical_test,
    declared_continuous_test,
    paired_design,
)
from analysis.consistency.statements import STATEMENTS
from analysis.printed import Printed as P
from analysis.published import load_published
from analysis.report.verdicts import verdict_items


def freeman_halton(table: list[list[int]]) -> float:
    """Brute force: the exact r x 2 test, summing the multivariate hypergeometric probability
    of every table with the same margins no more probable than the observed one."""
    rows = [sum(r) for r in table]
    col0 = sum(r[0] for r in table)
    total = sum(rows)

    def prob(first):
        return math.prod(math.comb(n, x) for n, x in zip(rows, first, strict=True)) / \
            math.comb(total, col0)

    observed = prob([r[0] for r in table])
    tables = [t for t in itertools.product(*(range(n + 1) for n in rows)) if sum(t) == col0]
    return sum(prob(t) for t in tables if prob(t) <= observed * (1 + 1e-7))


@pytest.fixture(scope="module")
def published():
    return load_published()


@pytest.fixture(scope="module")
def frame(published):
    return verdicts(published)


def test_paired_t_cannot_compare_two_groups():
    # A paired test pairs each patient's two values: Table 2's 31 responders and 23
    # nonresponders are different patients, and unequal in number (hand)
    v = paired_design((31, 23), False, "Table 2")
    assert v.klass == "impossible" and v.condition == ""
    assert paired_design((13, 5), False, "Table 3").klass == "impossible"
    # the dose series are the same patients before and after
    assert paired_design((11, 11), True, "AZA").klass == "consistent"


def test_one_sided_test_not_declared_table3_jo1():
    # Table 3 anti-Jo1: 6/0 responders vs 7/5 (13 and 5). scipy: two-sided Fisher 0.114,
    # one-sided 0.092; the printed "0.09" ([0.085, 0.095]) is only the one-sided p.
    table = [[6, 0], [7, 5]]
    two = scipy.stats.fisher_exact(table).pvalue
    one = min(scipy.stats.fisher_exact(table, alternative=a).pvalue for a in ("less", "greater"))
    assert round(two, 3) == 0.114 and 0.085 <= one <= 0.095
    v = declared_categorical_test(table, P(0.09, 2))
    assert v.evidence["finding"] == "one-sided"
    assert v.klass == "impossible under an assumption"
    assert "no one-sided test is declared" in v.condition
    assert v.evidence["p_by_test"]["fisher"] == pytest.approx(two, rel=1e-9)


def test_another_test_than_the_rule_names_table2_race():
    # Table 2 race: a count of 0 and, by hand, a smallest expected count 2 x 23 / 54 = 0.852:
    # the rule names Fisher's exact under either reading of "n < 5". Brute-force
    # Freeman-Halton: 0.135, not in [0.115, 0.125]; scipy's Pearson chi-square 0.1205 is.
    table = [[14, 12], [13, 9], [4, 0], [0, 2]]
    assert round(freeman_halton(table), 3) == 0.135
    chi2 = scipy.stats.chi2_contingency(table, correction=False).pvalue
    assert 0.115 <= chi2 <= 0.125
    v = declared_categorical_test(table, P(0.12, 2))
    assert v.evidence["prescribed"] == {"observed": "fisher", "expected": "fisher"}
    assert v.evidence["expected_min"] == pytest.approx(2 * 23 / 54)
    assert v.evidence["finding"] == "another test"
    assert v.klass == "impossible under an assumption"


def test_rule_readings_table2_sex_and_mmf():
    # Table 2 sex [[6, 10], [25, 13]]: every count >= 5 and every expected count >= 5 (smallest
    # 16 x 23 / 54 = 6.81): Pearson chi-square, scipy 0.0549, printed 0.055: consistent
    sex = [[6, 10], [25, 13]]
    assert round(scipy.stats.chi2_contingency(sex, correction=False).pvalue, 3) == 0.055
    assert declared_categorical_test(sex, P(0.055, 3)).klass == "consistent"
    # Table 2 MMF [[6, 5], [25, 18]]: smallest count 5 (not < 5: Pearson, scipy 0.830), smallest
    # expected 11 x 23 / 54 = 4.69 (< 5: Fisher, two-sided 1.0); the printed 0.55 is the
    # one-sided Fisher p (scipy 0.546)
    mmf = [[6, 5], [25, 18]]
    assert round(scipy.stats.chi2_contingency(mmf, correction=False).pvalue, 2) == 0.83
    assert scipy.stats.fisher_exact(mmf).pvalue == pytest.approx(1.0)
    assert round(scipy.stats.fisher_exact(mmf, alternative="less").pvalue, 3) == 0.546
    v = declared_categorical_test(mmf, P(0.55, 2))
    assert v.evidence["prescribed"] == {"observed": "pearson", "expected": "fisher"}
    assert v.evidence["finding"] == "one-sided"


def test_between_group_prednisone_p_is_a_mann_whitney_p():
    # 31 responders vs 23 failures, p < 0.001: U = 0 gives z = 356.5 / sqrt(31 x 23 x 55 / 12)
    # = 6.23 (hand); the largest U that fits, checked with scipy.stats.mannwhitneyu
    # (asymptotic, no continuity correction) on constructed data without ties
    v = declared_continuous_test((31, 23), P(0.001, 3, "<"), "prednisone")
    assert v.klass == "consistent"
    lo, hi = v.evidence["u_range"]
    assert lo == 0

    def p_of(u):
        # y = 0..22; each x sits just below y = k (k of the y below it), all values distinct:
        # U for x = the sum of the k (no ties, so no tie correction)
        ks = [min(23, max(0, u - 23 * i)) for i in range(31)]
        x = np.array([k - 0.5 + 1e-4 * i for i, k in enumerate(ks)])
        y = np.arange(23, dtype=float)
        res = scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)
        assert res.statistic == u
        return res.pvalue

    assert p_of(hi) < 0.001 <= p_of(hi + 1)


def test_none_all_both_hand():
    assert none_significant({"a": P(0.055, 3)}, 0.05, "t").verdict == "consistent"
    assert none_significant({"a": P(0.05, 2)}, 0.05, "t").verdict == "undecidable"
    assert none_significant({"a": P(0.03, 2)}, 0.05, "t").verdict == "inconsistent"
    assert all_of(6, [6, 0], "all", "g").verdict == "consistent"
    assert all_of(6, [4, 0], "all", "g").verdict == "inconsistent"
    # 14 improved in myositis, 17 in ILD, of 18: at least 14 + 17 - 18 = 13 improved in both
    assert both_of(13, 14, 17, 18, "x").verdict == "consistent"
    assert both_of(12, 14, 17, 18, "x").verdict == "inconsistent"


def test_engine_methods_and_statements(published, frame):
    rows = row_verdicts(frame).set_index("id")
    assert rows.loc["methods.paired_t.t2", "class"] == "impossible"
    assert rows.loc["methods.paired_t.t3", "class"] == "impossible"
    assert rows.loc["methods.paired_t.doses", "class"] == "consistent"
    # Appendix B's audit: every 2 x 2 row of Table 3 whose printed p only the one-sided Fisher
    # test gives (scipy, two-sided vs one-sided): impossible under the Methods' tests
    for var, table in {"jo1": [[6, 0], [7, 5]], "mtx": [[4, 4], [9, 1]],
                       "aza": [[8, 5], [5, 0]]}.items():
        p = published.set_index("id").loc[f"t3.{var}.p"]
        printed = P(float(p["value"]), int(p["decimals"]))
        two = scipy.stats.fisher_exact(table).pvalue
        one = min(scipy.stats.fisher_exact(table, alternative=a).pvalue
                  for a in ("less", "greater"))
        assert not printed.lo <= two <= printed.hi and printed.lo <= one <= printed.hi, var
        assert rows.loc[f"t3.{var}.p", "class"] == "impossible under an assumption", var
    assert rows.loc["t3.pl7.p", "class"] == "consistent"  # two-sided 0.278 prints 0.28
    for ident in ("text.conv.none_significant", "text.tac.none_different",
                  "disc.jo1.all_improved", "text.t3.jo1.resp", "text.tac.both_improved.n",
                  "text.dose.tac.aza.start.n", "text.dose.tac.mtx.start.n",
                  "text.dose.tac.mmf.start.n", "text.dose.conv.prednisone.m6_12.p_between"):
        assert rows.loc[ident, "class"] == "consistent", ident
    # Discussion's Jo1 sentence: 9 refractory (Table 2), 6 + 0 in Table 3, 3 outside it
    jo1 = frame[frame["id"] == "disc.jo1.all_improved"].iloc[0]
    assert "9 refractory" in jo1["sentence"] and "the 3 others" in jo1["sentence"]
    # statements are listed with their place in the paper
    items = verdict_items(frame, published, "impossible")
    said = [i for i in items if "paired Student t test" in i]
    assert len(said) == 2 and all("Statistical analysis, sentence 1" in i for i in said)
    assert set(STATEMENTS) <= set(frame["id"])
