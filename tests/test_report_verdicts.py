"""Appendix B's computed evidence (analysis.report.verdicts, analysis.report.inputs.audit_markdown).

The numbers in the sentences are checked against hand computations with scipy.stats (named in
each test) on the paper's printed numbers (Sharma 2017, Tables 1-2; Results, "Change in the
doses of DMARD"), and the sentences must not depend on the typed columns of numbers.csv.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import scipy.stats

from analysis.audit import evidence_table, printed_counts
from analysis.consistency import verdicts
from analysis.params import Params
from analysis.published import load_published
from analysis.report.inputs import audit_markdown
from analysis.report.verdicts import (
    continuous_tests_text,
    contradictions_text,
    dose_series_text,
)

PUB = load_published()
CHECKS = verdicts(PUB)


def _t_p_with_table1_sd(m1: float, m2: float, n1: int, n2: int, sd: float) -> float:
    """Independent: Student t (scipy.stats.ttest_ind_from_stats) with the pooled SD that
    Table 1's SD of all n1 + n2 values leaves after the between-group sum of squares."""
    total = n1 + n2
    within = (total - 1) * sd**2 - n1 * n2 / total * (m1 - m2) ** 2
    sp = math.sqrt(within / (total - 2))
    return scipy.stats.ttest_ind_from_stats(m1, sp, n1, m2, sp, n2).pvalue


def test_continuous_paragraph_is_computed():
    text = continuous_tests_text(CHECKS, "MW")
    # Table 2 age 46.8 (31) vs 42.2 (23), Table 1 SD 14.9: p = 0.266 at the printed values,
    # inside the printed range 0.25-0.28 and far from the printed 0.34
    p = _t_p_with_table1_sd(46.8, 42.2, 31, 23, 14.9)
    assert 0.25 < p < 0.28
    assert "age 0.25–0.28 against the printed 0.34" in text
    # FVC 62.5 vs 60.4, SD 19.6: p = 0.70
    assert 0.69 < _t_p_with_table1_sd(62.5, 60.4, 31, 23, 19.6) < 0.72
    assert "FVC 0.69–0.72 against the printed 0.39" in text
    assert "So 6 of 6 Table 2 p-values cannot come from a t test." in text
    # Table 3 age p = 1.00: the Mann-Whitney U of the exact middle, 13 x 5 / 2 = 32.5
    assert "age p = 1.00 (means 41.8 vs 43.0) needs U = 32.5 of 65" in text
    assert text.endswith("uses the Mann–Whitney test (MW).")


def test_contradictions_come_from_the_checks_not_the_typed_columns():
    items = contradictions_text(CHECKS, PUB)
    # the 16 numbers, the Methods' paired t test for Tables 2 and 3, and 18 printed p-values
    # that the test the Methods name would not give (tests/test_consistency_methods.py)
    assert len(items) == 36
    assert sum("`declared_test`" in item for item in items) == 18
    assert items[0].startswith("- Table 1, row ‘Race: Black’, column ‘Values’ (printed 48.2): "
                               "`percent_granularity`: 26/54 = 48.148%")  # hand: 0.481481...
    # the proofs that rest on a dose grid come after the plain ones, their condition named
    assert any("`sd_on_grid` — *MTX doses in 2.5-mg steps; n at follow-up at most the 5 "
               "taking it at start; MTX at most 30 mg/week*" in item for item in items)
    blank = PUB.assign(consistency="ok", reason="")
    assert contradictions_text(verdicts(blank), blank) == items
    # the typed CK reason (a match through missing values) is not among them
    assert not any("2933.4" in item for item in items)


def test_dose_series_verdicts():
    items = dose_series_text(CHECKS)
    # conventional failures 44.7 +/- 5.2 -> 31.2 +/- 18.9, n = 23: at r = -1 the SD of the
    # differences is at most 5.25 + 18.95 and the difference at least 44.65 - 31.25, so
    # p <= 2 t.sf(13.4 sqrt(23) / 24.2, 22) = 0.0144 (scipy.stats.t)
    p_max = 2 * scipy.stats.t.sf(13.4 * math.sqrt(23) / 24.2, 22)
    assert f"{p_max:.4f}" == "0.0144"
    assert "between 8.648e-05 and 0.0144" in items[0]
    assert "so no r gives p = 0.08 with n = 23" in items[0]
    # tacrolimus 35.1 +/- 18.6 -> 12.4 +/- 8.0, n = 18, p = 0.002: r <= about -0.77
    assert "p = 0.002 needs r between −1.00 and −0.77" in items[1]
    # 31.2 vs 31.6 mg: [31.15, 31.25] and [31.55, 31.65] are 0.30 apart
    assert "(`same_quantity`, possible only if n differs: only if the two printings cover " \
        "different patients" in items[2] and "0.30 mg apart" in items[2]
    assert "(`paired_t_range`, possible only if n differs: only if 6-12 pairs were analysed, " \
        "not 23)" in items[0]
    # PM vs DM p = 0.013 is the 3-category Fisher-Freeman-Halton test, not a 2 x 2
    assert "it is fisher on the 3-category myositis row" in items[3]
    assert "at least 10 values are missing" in items[4]


@pytest.mark.parametrize("column", ["consistency", "reason"])
def test_audit_markdown_ignores_the_typed_columns(column):
    evidence = evidence_table(printed_counts(PUB), Params())
    blank = PUB.assign(**{column: "ok" if column == "consistency" else ""})
    before = audit_markdown(evidence, PUB, CHECKS)
    assert audit_markdown(evidence, blank, verdicts(blank)) == before
    assert "0.25–0.28, 0.69–0.72" not in before  # no typed ranges left
    pd.testing.assert_frame_equal(PUB, load_published())  # input not modified
