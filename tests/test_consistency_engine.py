"""Tests of analysis.consistency.engine.verdicts on data/published/numbers.csv.

The expected proofs are the paper's own numbers worked by hand (cited in each comment); the
typed ``consistency`` column is read here only to name today's 16 typed-inconsistent rows,
never by the engine (a copy with the typed columns blanked gives the same frame).
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis.consistency import row_verdicts, verdicts
from analysis.consistency.core import CLASSES
from analysis.consistency.engine import COLUMNS
from analysis.params import Params
from analysis.published import load_published

#: Today's typed-inconsistent rows that do not match (issue 12), with the check that must prove
#: each and the hand computation behind it.
PROOFS = {
    "t1.race.black.pct": "percent_granularity",  # 26/54 = 48.148%, not 48.2
    "text.t1.race.black.pct": "percent_granularity",
    "t1.race.hispanic.n": "swapped_levels",  # Table 2: 0 + 2 = 2, not 4 (and Asian 4 + 0)
    "t1.race.asian.n": "swapped_levels",  # Table 2: 4 + 0 = 4, not 2
    "t1.race.hispanic.pct": "percent_vs_table2",  # 2/54 = 3.7%, not 7.4
    "t1.race.asian.pct": "percent_vs_table2",  # 4/54 = 7.4%, not 3.7
    "t2.histology.p": "contingency_p",  # Pearson 0.397, LR 0.275, FFH 0.663; no table 0.60
    "text.dose.tac.aza.start.sd": "sd_on_grid",  # 27.6 or 29.8 with 7 on 150 mg
    "text.dose.tac.aza.m3_6.mean": "grim_mean",  # 25k/n never 89.6 for n <= 11
    "text.dose.tac.aza.m3_6.sd": "sd_on_grid",  # no grid sample with mean 89.6 at all
    "text.dose.tac.aza.y1.pct_change": "pct_change_on_grid",  # 650/1575 = 41.27%
    "text.dose.tac.mtx.m3_6.sd": "sd_on_grid",  # at most 16.0 (n = 5)
    "text.dose.tac.mtx.y1.sd": "sd_on_grid",  # at most 13.2 (n = 5), 15.0 or 13.75 (n = 4)
    "text.dose.tac.mmf.m3_6.pct_change": "pct_change",  # >= 38.460%
    "disc.ssa.pct": "percent_granularity",  # 22/54 = 40.7%, not 40
    "disc.honeycomb.tac_improved": "count_within",  # Table 3 has 4, not 6
}
#: Of these, the proofs that rest on a declared dose grid (issue 22), with the words their
#: condition must contain: the AZA rows on the 25-mg grid, the MTX SDs on the weekly cap.
UNDER_ASSUMPTION = {
    "text.dose.tac.aza.start.sd": "AZA doses in 25-mg steps",
    "text.dose.tac.aza.m3_6.mean": "AZA doses in 25-mg steps",
    "text.dose.tac.aza.m3_6.sd": "AZA doses in 25-mg steps",
    "text.dose.tac.aza.y1.pct_change": "AZA doses in 25-mg steps",
    "text.dose.tac.mtx.m3_6.sd": "MTX at most 30 mg/week",
    "text.dose.tac.mtx.y1.sd": "MTX at most 30 mg/week",
}


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_published()


@pytest.fixture(scope="module")
def frame(published) -> pd.DataFrame:
    return verdicts(published)


def test_columns_and_values(frame):
    assert tuple(frame.columns) == COLUMNS
    assert set(frame["verdict"]) <= {"consistent", "inconsistent", "undecidable"}
    assert set(frame["class"]) <= set(CLASSES)
    # a plain consistent verdict rests on nothing; a proof with no condition is "impossible"
    assert (frame.loc[frame["class"] == "consistent", "condition"] == "").all()
    assert not frame.duplicated(["id", "check", "sentence"]).any()
    for text in frame["evidence"]:
        json.loads(text)


def test_the_16_are_proven_by_named_checks(published, frame):
    typed = published[published["consistency"] == "inconsistent"]["id"]
    # the two CK rows match the reconstruction (missing CK); the other 16 are today's
    assert set(typed) - set(PROOFS) == {"t1.ck.mean", "text.t1.ck.mean"}
    bad = frame[frame["verdict"] == "inconsistent"]
    for ident, check in PROOFS.items():
        assert ((bad["id"] == ident) & (bad["check"] == check)).any(), ident
    # and no other printed number is proven inconsistent by its own numbers; the Methods
    # checks (tests/test_consistency_methods.py) judge the test named, not the number
    numbers = bad[~bad["check"].isin(["declared_test", "paired_design"])]
    assert set(numbers["id"]) == set(PROOFS)


def test_typed_columns_are_not_read(published, frame):
    blank = published.copy()
    blank["consistency"] = "ok"
    blank["reason"] = ""
    pd.testing.assert_frame_equal(verdicts(blank), frame)
    assert_frame = verdicts(published.drop(columns=["consistency", "reason", "note"]))
    pd.testing.assert_frame_equal(assert_frame, frame)


def test_assumed_rows_are_not_used(published, frame):
    assumed = set(published.loc[published["status"] == "assumed", "id"])
    assert not set(frame["id"]) & assumed
    inputs = {i for text in frame["inputs"] for i in text.split(",") if i}
    assert not inputs & assumed


def test_planted_wrong_values_are_caught(published):
    # Table 1 White 22 -> 23: 23 != 13 + 9 (Table 2). (A planted Table 1 age SD 14.9 -> 19.4
    # is a mismatch for the reproduction, not for these checks: the age p stays reachable by
    # the Mann-Whitney test, so no printed-number check can see it.)
    planted = published.copy()
    planted.loc[planted["id"] == "t1.race.white.n", "value"] = 23.0
    out = verdicts(planted)
    row = out[(out["id"] == "t1.race.white.n") & (out["check"] == "level_sum")]
    assert row["verdict"].tolist() == ["inconsistent"]
    # Table 2 sex p 0.055 -> 0.045: no test on [[6, 10], [25, 13]] gives it (SciPy: Pearson
    # 0.0549, Yates 0.106, Fisher 0.0739, one-sided 0.0531)
    planted = published.copy()
    planted.loc[planted["id"] == "t2.sex.p", "value"] = 0.045
    out = verdicts(planted)
    row = out[(out["id"] == "t2.sex.p") & (out["check"] == "contingency_p")]
    assert row["verdict"].tolist() == ["inconsistent"]


def test_issue_claims_in_the_frame(frame):
    def evidence(ident, check):
        row = frame[(frame["id"] == ident) & (frame["check"] == check)]
        assert len(row) == 1, (ident, check)
        return row.iloc[0]["verdict"], json.loads(row.iloc[0]["evidence"])

    # p = 0.08 (n = 23 failures): p <= 0.0145 at r = -1 (hand: t = 13.4 sqrt(23) / 24.2)
    verdict, ev = evidence("text.dose.conv_fail.prednisone.m6_12.p", "paired_t_range")
    assert ev["n"] == 23 and ev["p_max"] < 0.0145 and ev["r_lo"] is None
    assert verdict == "consistent" and 23 not in ev["ns_fitting"]  # n is not printed
    # p = 0.002 (n = 18): r <= about -0.77
    verdict, ev = evidence("text.dose.tac.prednisone.m3_6.p", "paired_t_range")
    assert ev["n"] == 18 and ev["r_lo"] == -1.0 and -0.78 < ev["r_hi"] < -0.76
    # CK: Table 1 needs at least 10 missing, (26, 18)
    verdict, ev = evidence("t1.ck.mean", "pooled_mean")
    assert verdict == "consistent" and ev["min_missing"] == 10
    # PM vs DM p: the 3-category test
    verdict, ev = evidence("abstract.pm_vs_dm.p", "which_test")
    assert ev["fitting"] == [["the 3-category myositis row (PM/DM/CADM)", "fisher"]]
    # 31.2 vs 31.6 mg: possible only if the two printings cover different patients
    verdict, ev = evidence("text.dose.conv.prednisone.m6_12.fail_mean", "same_quantity")
    assert verdict == "consistent" and ev["extra_dose_gap"] == pytest.approx(0.3)


def test_command_line_lists_the_proofs(capsys):
    from analysis.consistency.__main__ import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "t2.histology.p  impossible  []  contingency_p" in out
    # 10 numbers + the paired t test named for Tables 2 and 3; 6 numbers on a dose grid + 18
    # printed p-values that the test the Methods name would not give (test_consistency_methods)
    assert "'impossible': 12" in out and "'impossible under an assumption': 24" in out
    assert main(["-p", "check_mtx_cap=0"]) == 0
    out = capsys.readouterr().out
    assert "mtx.m3_6.sd" not in out and "'impossible under an assumption': 22" in out


# ------------------------------------------------------------------ verdict classes (issue 22)
def test_classes_of_the_proofs(frame):
    rows = row_verdicts(frame).set_index("id")
    for ident in PROOFS:
        expected = "impossible under an assumption" if ident in UNDER_ASSUMPTION else "impossible"
        assert rows.loc[ident, "class"] == expected, ident
        assert (rows.loc[ident, "condition"] == "") is (ident not in UNDER_ASSUMPTION)
    for ident, words in UNDER_ASSUMPTION.items():
        assert words in rows.loc[ident, "condition"], ident


def test_prednisone_p_008_is_not_consistent(frame):
    # Independent (scipy.stats.t over r in [-1, 1] at the printed values 44.7 +/- 5.2 -> 31.2 +/-
    # 18.9): p = 0.08 is reachable with 6-12 pairs and not with the 23 failures, where at r = -1
    # p <= 2 t.sf(13.4 sqrt(23) / 24.2, 22) = 0.0144 (rounding corners, by hand)
    def reachable(n: int) -> bool:
        for r in np.linspace(-1, 1, 2001):
            sd = math.sqrt(5.2**2 + 18.9**2 - 2 * r * 5.2 * 18.9)
            if 0.075 <= 2 * scipy.stats.t.sf(13.5 * math.sqrt(n) / sd, n - 1) <= 0.085:
                return True
        return False

    assert [n for n in range(2, 24) if reachable(n)] == list(range(6, 13))
    assert 2 * scipy.stats.t.sf(13.4 * math.sqrt(23) / 24.2, 22) < 0.0145
    row = row_verdicts(frame).set_index("id").loc["text.dose.conv_fail.prednisone.m6_12.p"]
    assert row["class"] == "possible only if n differs"
    # everything printed together (paired_joint) with a plausible r >= 0: 6-9 pairs. By hand
    # at r = 0 and the most favourable corner (d = 44.65 - 31.25, SDs 5.25 and 18.95), n = 9
    # still reaches p >= 0.075 and n = 10 does not (scipy.stats.t)
    sd0 = math.sqrt(5.25**2 + 18.95**2)
    assert 2 * scipy.stats.t.sf(13.4 * 3 / sd0, 8) >= 0.075
    assert 2 * scipy.stats.t.sf(13.4 * math.sqrt(10) / sd0, 9) < 0.075
    assert row["condition"] == ("within-patient correlation of the dose before and after at "
                                "least 0; only if 6-9 pairs were analysed, not 23")
    # without the plausibility bound the paired t check alone says 6-12 (above)
    checks = frame[frame["id"] == "text.dose.conv_fail.prednisone.m6_12.p"].set_index("check")
    assert checks.loc["paired_t_range", "condition"] == "only if 6-12 pairs were analysed, not 23"


def test_needs_other_n_rows(frame):
    rows = row_verdicts(frame).set_index("id")
    # Table 3 CK 1975.7 of the 5 failures: 5 whole numbers average to a multiple of 0.2, never
    # in [1975.65, 1975.75] (Fraction: 9878/5 = 1975.6, 9879/5 = 1975.8); 3 values can
    # (5927/3 = 1975.67)
    assert Fraction(9878, 5) < Fraction(197565, 100) and Fraction(9879, 5) > Fraction(197575, 100)
    assert Fraction(197565, 100) <= Fraction(5927, 3) <= Fraction(197575, 100)
    assert rows.loc["t3.ck.nonresp", "class"] == "possible only if n differs"
    assert rows.loc["t3.ck.nonresp", "condition"].startswith("CK in whole U/l; only if there")
    # Table 1 CK (both printings): at least 10 of 54 missing; the 31.2 vs 31.6 mg pair
    for ident in ("t1.ck.mean", "text.t1.ck.mean", "text.dose.conv.prednisone.m6_12.fail_mean"):
        assert rows.loc[ident, "class"] == "possible only if n differs", ident
    assert "at least 10 of the 54 values are missing" in rows.loc["t1.ck.mean", "condition"]


def _witnesses(mean: tuple[float, float], sd: tuple[float, float], n: int, top: float):
    """Brute force: every multiset of n doses on 2.5-mg steps from 0 to ``top`` with the mean
    and SD (statistics.stdev) in the given closed intervals."""
    doses = [2.5 * k for k in range(int(top / 2.5) + 1)]
    return [c for c in itertools.combinations_with_replacement(doses, n)
            if mean[0] <= sum(c) / n <= mean[1] and sd[0] <= statistics.stdev(c) <= sd[1]]


def test_mtx_sd_rests_on_the_weekly_cap(published):
    # brute force (statistics.stdev): with 5 doses up to 30 mg no sample has mean 17.5 and SD
    # 16.8; up to 50 mg one does, e.g. (0, 0, 25, 25, 37.5) from the issue
    assert _witnesses((17.45, 17.55), (16.75, 16.85), 5, 30.0) == []
    found = _witnesses((17.45, 17.55), (16.75, 16.85), 5, 50.0)
    assert (0.0, 0.0, 25.0, 25.0, 37.5) in found and all(max(c) > 30 for c in found)
    assert _witnesses((22.5, 23.5), (14.35, 14.45), 5, 30.0) == []
    assert _witnesses((22.5, 23.5), (14.35, 14.45), 5, 50.0)
    uncapped = row_verdicts(verdicts(published, Params(check_mtx_cap=0))).set_index("id")
    for ident in ("text.dose.tac.mtx.m3_6.sd", "text.dose.tac.mtx.y1.sd"):
        assert uncapped.loc[ident, "class"] == "consistent", ident


def test_aza_on_half_tablets(published):
    # 12.5-mg steps: 43 x 12.5 / 6 = 89.583 rounds to 89.6 (Fraction); on 25-mg steps no n <= 11
    # gives it (25 k / n in [89.55, 89.65] for no whole k)
    assert Fraction(8955, 100) <= Fraction(43 * 25, 2 * 6) <= Fraction(8965, 100)
    assert not any(Fraction(8955, 100) <= Fraction(25 * k, n) <= Fraction(8965, 100)
                   for n in range(1, 12) for k in range(0, 12 * n + 1))
    rows = row_verdicts(verdicts(published, Params(check_aza_step=12.5))).set_index("id")
    assert rows.loc["text.dose.tac.aza.m3_6.mean", "class"] == "possible only if n differs"
    assert "only if there are 6 values" in rows.loc["text.dose.tac.aza.m3_6.mean", "condition"]
    assert rows.loc["text.dose.tac.aza.m3_6.sd", "class"] == "impossible under an assumption"
    with pytest.raises(Exception, match="modal dose 150"):
        verdicts(published, Params(check_aza_step=40))


def test_planted_typo_keeps_the_other_printings_verdict(published):
    # Table 2 sex p 0.055 -> 0.066 in a copy: no test on [[6, 10], [25, 13]] gives 0.066 (SciPy:
    # Pearson 0.0549, likelihood ratio 0.0552, Yates 0.106, Fisher 0.0739, one-sided 0.0531); the
    # text's 0.055 (same key) keeps its own verdict, on its own value
    table = np.array([[6, 10], [25, 13]])
    p_lr = scipy.stats.chi2_contingency(table, correction=False,
                                        lambda_="log-likelihood")[1]
    assert not 0.0655 <= p_lr <= 0.0665
    planted = published.copy()
    planted.loc[planted["id"] == "t2.sex.p", "value"] = 0.066
    out = verdicts(planted)
    rows = row_verdicts(out).set_index("id")
    text_ids = [i for i in published.loc[published["key"] == "t2.sex.p", "id"] if i != "t2.sex.p"]
    assert text_ids
    for ident in text_ids:
        assert rows.loc[ident, "class"] == "consistent", ident
        mine = out[out["id"] == ident]
        assert not mine["sentence"].str.contains("0.066").any()
    assert rows.loc["t2.sex.p", "class"] == "impossible"


def test_row_verdicts(frame):
    rows = row_verdicts(frame)
    assert rows["id"].is_unique and set(rows["id"]) == set(frame["id"])
    bad = rows[rows["verdict"] == "inconsistent"]
    methods = bad["check"].isin(["declared_test", "paired_design"])
    assert set(bad.loc[~methods, "id"]) == set(PROOFS)
    assert len(bad[methods]) == 20  # 18 printed p-values, 2 statements of the Methods
    assert (bad["sentence"].str.len() > 0).all()
    # the first inconsistent check in name order decides (hand: count_within < same_quantity)
    assert bad.set_index("id").loc["disc.honeycomb.tac_improved", "check"] == "count_within"
    assert rows.set_index("id").loc["t1.age.mean", "verdict"] == "consistent"
