"""Tests of the joint paired-comparison check (analysis.consistency.joint) against an
independent implementation: paired data built with exactly the wanted means, SDs and sample
correlation, tested with ``scipy.stats.ttest_rel``, by brute force over r and the rounding
boxes; hand computations with ``fractions.Fraction`` for the decrease bounds. Never the check
against itself.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats

from analysis.consistency import row_verdicts, verdicts
from analysis.consistency.joint import correlation_range, decrease_bounds, paired_joint
from analysis.params import Params
from analysis.printed import Printed as P
from analysis.published import load_published


def _basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two centred, orthogonal vectors with sample SD 1 (n - 1 denominator)."""
    z = np.column_stack([np.ones(n), np.arange(n, dtype=float), np.arange(n, dtype=float) ** 2])
    q, _ = np.linalg.qr(z)
    return q[:, 1] * math.sqrt(n - 1), q[:, 2] * math.sqrt(n - 1)


def brute_force_r(pre, post, p, n, pct=None, points=6, step=0.005):
    """Every r on a grid in [-1, 1] for which some paired sample with means and SDs on a grid
    inside the printed intervals prints the printed percent decrease and the printed p
    (``scipy.stats.ttest_rel``, rounding by the printed numbers' own rule)."""
    u, w = _basis(n)
    rs = np.arange(-1.0, 1.0 + step / 2, step)
    # points just inside each interval (its ends are rounding edges)
    boxes = [np.linspace(x.lo + 1e-7, x.hi - 1e-7, points)
             for x in (pre[0], post[0], pre[1], post[1])]
    p_lo, p_hi = p.interval()
    found = []
    for a, b, s1, s2 in itertools.product(*boxes):
        if pct is not None and not pct.reproduced_by(100.0 * (a - b) / a):
            continue
        x = a + s1 * u
        y = b + s2 * (rs[:, None] * u + np.sqrt(np.clip(1 - rs[:, None] ** 2, 0, None)) * w)
        ps = scipy.stats.ttest_rel(np.broadcast_to(x, y.shape), y, axis=1).pvalue
        found.extend(rs[(ps >= p_lo) & (ps < p_hi)])
    return (min(found), max(found)) if found else None


@pytest.mark.parametrize("case", [
    # AZA at 1 year, n = 11, 41.2% decrease, p = 0.010 (Results)
    ((P(143.2, 1), P(28.6, 1)), (P(84.1, 1), P(69.2, 1)), P(0.010, 3), 11, P(41.2, 1)),
    # MTX at 3-6 months, n = 5, 30.0% decrease, p = 0.30
    ((P(25.0, 1), P(3.5, 1)), (P(17.5, 1), P(16.8, 1)), P(0.30, 2), 5, P(30.0, 1)),
    # MTX at 1 year, n = 5, 8% decrease, p = 0.70 (the range passes r = 1)
    ((P(25.0, 1), P(3.5, 1)), (P(23.0, 0), P(14.4, 1)), P(0.70, 2), 5, P(8.0, 0)),
], ids=["aza_y1", "mtx_m3_6", "mtx_y1"])
def test_correlation_range_against_scipy_brute_force(case):
    pre, post, p, n, pct = case
    r_lo, r_hi = correlation_range(pre, post, p, n, pct)
    found = brute_force_r(pre, post, p, n, pct)
    assert found is not None
    # every r the brute force finds lies in the computed range (grid: r step 0.005) ...
    assert r_lo - 0.006 <= found[0] and found[1] <= r_hi + 0.006
    # ... and it reaches close to both ends that lie inside [-1, 1] (the boxes on a grid)
    assert found[0] <= max(r_lo, -1.0) + 0.03
    assert found[1] >= min(r_hi, 1.0) - 0.03


def test_decrease_bounds_hand():
    # AZA 143.2 -> 84.1 mg, 41.2% decrease: b / a in [1 - 0.4125, 1 - 0.4115]; a <= 84.15 /
    # 0.5875 = 143.234...; smallest d = 143.15 - 84.15 (41.216% decrease, inside), largest
    # d = 0.4125 * 84.15 / 0.5875 (Fraction)
    lo, hi = decrease_bounds(P(143.2, 1), P(84.1, 1), P(41.2, 1))
    assert Fraction(4115, 100) <= Fraction(5900, 14315) * 100 <= Fraction(4125, 100)
    assert lo == pytest.approx(59.0, abs=1e-9)
    assert hi == pytest.approx(float(Fraction(4125, 10000) * Fraction(8415, 100)
                                     / Fraction(5875, 10000)), abs=1e-9)
    # without the percent: |a - b| over the boxes
    assert decrease_bounds(P(143.2, 1), P(84.1, 1)) == pytest.approx((59.0, 59.2))
    # MMF 2166.7 -> 1333.3, "38.4%": the decrease is at least 38.46% (pct_change), no means fit
    assert decrease_bounds(P(2166.7, 1), P(1333.3, 1), P(38.4, 1)) is None


def test_tacrolimus_prednisone_p_needs_a_negative_r_with_18():
    # 35.1 +/- 18.6 -> 12.4 +/- 8.0 mg, 65% decrease, p = 0.002. Hand: at r = 0 the SD of the
    # differences is at most sqrt(18.65^2 + 8.05^2) = 20.31, the decrease at least 22.6, so
    # t >= 22.6 sqrt(18) / 20.31 = 4.72 and p <= 2 t.sf(4.72, 17) = 0.0002 < 0.0015 (scipy):
    # no r >= 0 gives 0.002 with 18 pairs; the largest r that does is about -0.77.
    t = 22.6 * math.sqrt(18) / math.sqrt(18.65 ** 2 + 8.05 ** 2)
    assert 2 * scipy.stats.t.sf(t, 17) < 0.0015
    v = paired_joint((P(35.1, 1), P(18.6, 1)), (P(12.4, 1), P(8.0, 1)), P(0.002, 3),
                     list(range(18, 1, -1)), P(65.0, 0), r_min=0.0, r_min_words="r >= 0")
    assert v.evidence["possible"] and not v.evidence["plausible"]
    assert -0.78 < v.evidence["r_hi"] < -0.76
    assert v.klass == "possible only if n differs"
    assert v.condition.startswith("r >= 0; only if ")
    # with r = 0 exactly, n = 13 gives p in the printed interval for some corner, n = 14 none
    # (scipy, corners of the boxes: largest p = smallest decrease, largest SDs)
    def p_max(n):
        sd = math.sqrt(18.65 ** 2 + 8.05 ** 2)
        d = max(35.05 - 12.45, 0.645 * 35.05)  # the 65% decrease lets d go no lower
        return 2 * scipy.stats.t.sf(d * math.sqrt(n) / sd, n - 1)
    assert p_max(13) >= 0.0015 > p_max(14)
    assert max(v.evidence["ns_plausible"]) == 13
    # without the plausibility bound it is plainly consistent at n = 18
    free = paired_joint((P(35.1, 1), P(18.6, 1)), (P(12.4, 1), P(8.0, 1)), P(0.002, 3),
                        list(range(18, 1, -1)), P(65.0, 0), r_min=-1.0)
    assert free.klass == "consistent" and free.condition == ""


def test_impossible_and_impossible_under_the_bound():
    # p = 0.08 with 44.7 +/- 5.2 -> 31.2 +/- 18.9 and exactly 23 pairs: no r in [-1, 1]
    # (p <= 0.0145 at r = -1, by hand in tests/test_consistency_engine.py): impossible, and the
    # bound plays no part in it
    v = paired_joint((P(44.7, 1), P(5.2, 1)), (P(31.2, 1), P(18.9, 1)), P(0.08, 2), [23],
                     r_min=0.0, r_min_words="r >= 0")
    assert v.klass == "impossible" and v.condition == "" and v.evidence["r_hi"] < -1
    # with 10 pairs: possible (r about -0.5) but no r >= 0 (scipy at r = 0, corners: the SD of
    # the differences at most sqrt(5.25^2 + 18.95^2) = 19.66, d at least 13.4)
    sd0 = math.sqrt(5.25 ** 2 + 18.95 ** 2)
    assert 2 * scipy.stats.t.sf(13.4 * math.sqrt(10) / sd0, 9) < 0.075
    v = paired_joint((P(44.7, 1), P(5.2, 1)), (P(31.2, 1), P(18.9, 1)), P(0.08, 2), [10],
                     r_min=0.0, r_min_words="r >= 0")
    assert v.klass == "impossible under an assumption" and v.condition == "r >= 0"


def test_engine_names_the_bound_and_its_alternative():
    published = load_published()
    rows = row_verdicts(verdicts(published)).set_index("id")
    for ident in ("text.dose.tac.prednisone.m3_6.p", "abstract.dose.tac.prednisone.m3_6.p"):
        assert rows.loc[ident, "class"] == "possible only if n differs"
        assert rows.loc[ident, "condition"].startswith(
            "within-patient correlation of the dose before and after at least 0")
    free = row_verdicts(verdicts(published, Params(check_min_correlation=-1))).set_index("id")
    assert free.loc["text.dose.tac.prednisone.m3_6.p", "class"] == "consistent"
    # the MMF percent decrease contradicts its means by itself: the joint check leaves it out
    # rather than blame the p-value (r needed 0.76-0.84, as paired_t_range finds)
    frame = verdicts(published)
    mmf = frame[(frame["id"] == "text.dose.tac.mmf.m3_6.p") & (frame["check"] == "paired_joint")]
    assert mmf["class"].tolist() == ["consistent"]
    assert "is left out" in mmf["sentence"].iloc[0]
