"""Tests of analysis.consistency.engine.verdicts on data/published/numbers.csv.

The expected proofs are the paper's own numbers worked by hand (cited in each comment); the
typed ``consistency`` column is read here only to name today's 16 typed-inconsistent rows,
never by the engine (a copy with the typed columns blanked gives the same frame).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.consistency import row_verdicts, verdicts
from analysis.consistency.engine import COLUMNS
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


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_published()


@pytest.fixture(scope="module")
def frame(published) -> pd.DataFrame:
    return verdicts(published)


def test_columns_and_values(frame):
    assert tuple(frame.columns) == COLUMNS
    assert set(frame["verdict"]) <= {"consistent", "inconsistent", "undecidable"}
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
    # and nothing else is declared inconsistent
    assert set(bad["id"]) == set(PROOFS)


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
    # 31.2 vs 31.6 mg: undecidable (the n behind each is not printed)
    verdict, ev = evidence("text.dose.conv.prednisone.m6_12.fail_mean", "same_quantity")
    assert verdict == "undecidable"


def test_command_line_lists_the_proofs(capsys):
    from analysis.consistency.__main__ import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "t2.histology.p  contingency_p" in out
    assert "16 numbers proven inconsistent" in out


def test_row_verdicts(frame):
    rows = row_verdicts(frame)
    assert rows["id"].is_unique and set(rows["id"]) == set(frame["id"])
    bad = rows[rows["verdict"] == "inconsistent"]
    assert set(bad["id"]) == set(PROOFS)
    assert (bad["sentence"].str.len() > 0).all()
    # the first inconsistent check in name order decides (hand: count_within < same_quantity)
    assert bad.set_index("id").loc["disc.honeycomb.tac_improved", "check"] == "count_within"
    assert rows.set_index("id").loc["t1.age.mean", "verdict"] == "consistent"
