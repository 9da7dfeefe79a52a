"""Tests of analysis.audit on the paper's printed counts.

The oracle is the paper itself: the counts and p-values below are typed from Sharma 2017,
Table 2 (responders n = 31 vs nonresponders n = 23) and Table 3 (responders n = 13 vs no
response n = 5), in the key grammar of the team contract. Serology and DMARD rows print the
positive/treated count per group.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import pandas as pd
import pytest
import scipy.stats

from analysis import paths
from analysis.audit import (
    best_rule,
    candidate_rules,
    categorical_evidence,
    counts_from_published,
    evidence_table,
    pm_vs_dm_readings,
    printed_counts,
    race_readings,
    rule_scores,
)
from analysis.errors import DataValidationError, ParameterError
from analysis.printed import decimals_of, reproduces


def _levels(table: str, var: str, levels: dict[str, tuple[int, int]], p: str) -> dict:
    out: dict[str, object] = {f"{table}.{var}.p": p}
    for level, (resp, nonresp) in levels.items():
        out[f"{table}.{var}.{level}.resp"] = resp
        out[f"{table}.{var}.{level}.nonresp"] = nonresp
    return out


def _positive(table: str, var: str, resp: int, nonresp: int, p: str) -> dict:
    return {f"{table}.{var}.resp": resp, f"{table}.{var}.nonresp": nonresp, f"{table}.{var}.p": p}


PRINTED: dict[str, object] = {
    # Sharma 2017, Table 2 (conventional treatment: responders 31, nonresponders 23)
    **_levels("t2", "sex", {"male": (6, 10), "female": (25, 13)}, "0.055"),
    **_levels(
        "t2",
        "race",
        {"black": (14, 12), "white": (13, 9), "asian": (4, 0), "hispanic": (0, 2)},
        "0.12",
    ),
    **_levels("t2", "smoking", {"never": (20, 18), "former": (10, 2), "active": (1, 3)}, "0.068"),
    **_levels("t2", "myositis", {"pm": (20, 10), "dm": (7, 13), "cadm": (4, 0)}, "0.013"),
    **_positive("t2", "ana", 16, 16, "0.18"),
    **_positive("t2", "jo1", 18, 9, "0.17"),
    **_positive("t2", "ssa", 13, 9, "0.84"),
    **_positive("t2", "mi2", 1, 2, "0.39"),
    **_positive("t2", "pl7", 0, 1, "0.43"),
    **_positive("t2", "srp", 1, 1, "0.68"),
    **_positive("t2", "ku", 0, 1, "0.43"),
    **_levels("t2", "honeycomb", {"absent": (21, 17), "present": (10, 6)}, "0.62"),
    **_levels(
        "t2", "histology", {"op": (3, 2), "uip": (1, 2), "nsip": (0, 3), "other": (1, 2)}, "0.60"
    ),
    **_positive("t2", "aza", 19, 16, "0.53"),
    **_positive("t2", "mtx", 8, 9, "0.30"),
    **_positive("t2", "mmf", 6, 5, "0.55"),
    # Sharma 2017, Table 3 (tacrolimus: responders 13, no response 5)
    **_levels("t3", "sex", {"male": (6, 2), "female": (7, 3)}, "0.62"),
    **_levels(
        "t3",
        "race",
        {"black": (5, 4), "white": (7, 1), "asian": (0, 0), "hispanic": (1, 0)},
        "0.49",
    ),
    **_levels("t3", "smoking", {"never": (10, 4), "former": (2, 0), "active": (1, 1)}, "1.00"),
    **_levels("t3", "myositis", {"pm": (6, 3), "dm": (7, 2), "cadm": (0, 0)}, "0.50"),
    **_positive("t3", "ana", 10, 2, "0.18"),
    **_positive("t3", "jo1", 6, 0, "0.09"),
    **_positive("t3", "ssa", 5, 2, "0.68"),
    **_positive("t3", "mi2", 2, 0, "0.51"),
    **_positive("t3", "pl7", 0, 1, "0.28"),
    **_positive("t3", "srp", 1, 0, "0.72"),
    **_positive("t3", "ku", 1, 0, "0.72"),
    **_levels("t3", "honeycomb", {"absent": (9, 5), "present": (4, 0)}, "0.23"),
    **_levels(
        "t3", "histology", {"op": (2, 0), "uip": (2, 0), "nsip": (2, 0), "other": (1, 0)}, "N/A"
    ),
    **_positive("t3", "aza", 8, 5, "0.15"),
    **_positive("t3", "mtx", 4, 4, "0.088"),
    **_positive("t3", "mmf", 3, 1, "0.70"),
    # continuous rows are ignored by the audit
    "t2.age.resp": "46.8",
    "t2.age.nonresp": "42.2",
    "t2.age.p": "0.34",
}

#: REGRESSION SNAPSHOT of the audit's finding (module docstring of analysis.audit): which
#: candidate tests reproduce each printed p. Recorded from analysis.audit's output; the rows that
#: carry the audit's conclusions are recomputed independently with scipy.stats called directly
#: in test_expected_matches_backed_by_scipy.
EXPECTED_MATCHES = {
    ("t2", "sex"): "chi2",
    ("t2", "race"): "chi2",
    ("t2", "smoking"): "chi2",
    ("t2", "myositis"): "fisher_rxc",
    ("t2", "ana"): "chi2",
    ("t2", "jo1"): "chi2",
    ("t2", "ssa"): "chi2",
    ("t2", "mi2"): "chi2, fisher_one_sided",
    ("t2", "pl7"): "fisher_two_sided, fisher_one_sided",
    ("t2", "srp"): "fisher_one_sided",
    ("t2", "ku"): "fisher_two_sided, fisher_one_sided",
    ("t2", "honeycomb"): "chi2",
    ("t2", "histology"): "",
    ("t2", "aza"): "chi2",
    ("t2", "mtx"): "chi2",
    ("t2", "mmf"): "fisher_one_sided",
    ("t3", "sex"): "fisher_one_sided",
    ("t3", "race"): "fisher_rxc",
    ("t3", "smoking"): "fisher_rxc",
    ("t3", "myositis"): "fisher_one_sided",
    ("t3", "ana"): "fisher_one_sided",
    ("t3", "jo1"): "fisher_one_sided",
    ("t3", "ssa"): "fisher_one_sided",
    ("t3", "mi2"): "fisher_one_sided",
    ("t3", "pl7"): "fisher_two_sided, fisher_one_sided",
    ("t3", "srp"): "fisher_one_sided",
    ("t3", "ku"): "fisher_one_sided",
    ("t3", "honeycomb"): "fisher_one_sided",
    ("t3", "histology"): "not_testable",
    ("t3", "aza"): "fisher_one_sided",
    ("t3", "mtx"): "fisher_one_sided",
    ("t3", "mmf"): "fisher_one_sided",
}

BEST = {"rule": "expected", "threshold": 5, "fisher_sided": "one-sided", "correction": False}


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    return counts_from_published(PRINTED)


@pytest.fixture(scope="module")
def evidence(counts) -> pd.DataFrame:
    return categorical_evidence(counts)


@pytest.fixture(scope="module")
def table(evidence) -> pd.DataFrame:
    return evidence_table(evidence).set_index(["table", "variable"])


# --------------------------------------------------------------------------- printed p


@pytest.mark.parametrize(
    "printed, decimals", [("0.055", 3), ("0.60", 2), ("1.00", 2), ("<0.001", 3), ("N/A", None)]
)
def test_printed_decimals(printed, decimals):
    assert decimals_of(printed) == decimals


def test_reproduces_within_half_a_last_digit():
    # half away from zero (analysis.printed): 0.0545 prints 0.055, 0.0555 prints 0.056
    assert reproduces(0.0549, "0.055") and reproduces(0.0545, "0.055")
    assert not reproduces(0.0555, "0.055") and not reproduces(0.0544, "0.055")
    assert reproduces(0.1205, "0.12") and not reproduces(0.1347, "0.12")
    assert reproduces(1.0, "1.00") and reproduces(0.9951, "1.00")
    assert reproduces(0.0004, "<0.001") and not reproduces(0.0012, "<0.001")
    assert reproduces(math.nan, "N/A") and not reproduces(0.5, "N/A")
    assert not reproduces(math.nan, "0.50")
    with pytest.raises(ValueError, match="not a printed number"):
        decimals_of("p small")


# --------------------------------------------------------------------------- inputs


def test_counts_from_published_shape(counts):
    assert len(counts) == 2 * (2 + 4 + 3 + 3 + 7 + 2 + 4 + 3)  # levels + positive rows
    assert set(counts["variable"]) == {v for _, v in EXPECTED_MATCHES}
    jo1 = counts[(counts["table"] == "t3") & (counts["variable"] == "jo1")]
    assert jo1[["resp", "nonresp"]].values.tolist() == [[6, 0]]
    assert pd.isna(jo1["level"].iloc[0])
    assert set(counts.loc[counts["variable"] == "race", "printed_p"]) == {"0.12", "0.49"}


def test_counts_from_published_errors():
    with pytest.raises(DataValidationError, match="t2.sex.male.nonresp: count is missing"):
        counts_from_published({"t2.sex.male.resp": 6, "t2.sex.p": "0.055"})
    with pytest.raises(DataValidationError, match="whole number"):
        counts_from_published({"t2.ana.resp": 1.5, "t2.ana.nonresp": 2, "t2.ana.p": "0.1"})
    # a variable printed without a p (Table 3 histology "N/A") is kept, p missing
    out = counts_from_published({"t3.ana.resp": 10, "t3.ana.nonresp": 2})
    assert pd.isna(out["printed_p"].iloc[0])


def test_printed_counts_from_a_published_table():
    published = pd.DataFrame(
        {
            "key": [
                "t2.histology.op.resp",
                "t2.histology.op.nonresp",
                "t2.histology.uip.resp",
                "t2.histology.uip.nonresp",
                "t2.histology.p",
                "t2.myositis.p",
                "t2.histology.p",
            ],
            "printed": ["3", "2", "1", "2", "0.6", "0.013", "0.99"],
            "decimals": [0, 0, 0, 0, 2, 3, 2],
            "source": ["Table 2"] * 5 + ["Abstract", "Discussion"],
            "status": ["printed"] * 7,
        }
    )
    out = printed_counts(published)
    # the trailing zero of "0.60" is restored from `decimals`; the Table 2 row wins
    assert out["printed_p"].tolist() == ["0.60", "0.60"]
    assert out[["resp", "nonresp"]].values.tolist() == [[3, 2], [1, 2]]


def test_positive_counts_above_group_size_are_rejected():
    bad = counts_from_published({"t3.ana.resp": 14, "t3.ana.nonresp": 2, "t3.ana.p": "0.1"})
    with pytest.raises(DataValidationError, match="exceed the group sizes"):
        categorical_evidence(bad)
    with pytest.raises(ParameterError, match="group sizes"):
        categorical_evidence(bad, group_sizes={"t2": (31, 23)})


def test_categorical_evidence_does_not_mutate_input(counts):
    before = counts.copy()
    categorical_evidence(counts)
    pd.testing.assert_frame_equal(counts, before)


def test_missing_column_is_named():
    with pytest.raises(DataValidationError, match="printed_p"):
        categorical_evidence(
            pd.DataFrame({"table": [], "variable": [], "level": [], "resp": [], "nonresp": []})
        )


# --------------------------------------------------------------------------- per-row findings


@pytest.mark.parametrize("key, matches", EXPECTED_MATCHES.items(), ids=lambda v: str(v))
def test_which_tests_reproduce_each_printed_p(evidence, key, matches):
    row = evidence.set_index(["table", "variable"]).loc[key]
    assert row["matches"] == matches


def _ffh_by_enumeration(table: list[list[int]]) -> float:
    """Exact Fisher-Freeman-Halton p of an r x 2 table by listing every table with its margins
    (multivariate hypergeometric probabilities, math.comb): a hand computation, independent of
    analysis.stats.fisher_exact_rxc's network algorithm."""
    rows = [a + b for a, b in table]
    first, total = sum(a for a, _ in table), sum(rows)

    def prob(cells: tuple[int, ...]) -> float:
        return math.prod(math.comb(n, a) for a, n in zip(cells, rows, strict=True)) / math.comb(
            total, first)

    observed = prob(tuple(a for a, _ in table))
    return sum(q for cells in itertools.product(*(range(n + 1) for n in rows))
               if sum(cells) == first and (q := prob(cells)) <= observed * (1 + 1e-7))


def test_expected_matches_backed_by_scipy():
    """The snapshot's key rows, recomputed from the printed counts by scipy.stats directly."""
    # Table 2 sex 0.055: Pearson chi-square (no Yates) reproduces it, two-sided Fisher does not
    sex = [[6, 10], [25, 13]]
    assert reproduces(scipy.stats.chi2_contingency(sex, correction=False).pvalue, "0.055")
    assert not reproduces(scipy.stats.fisher_exact(sex).pvalue, "0.055")
    # Table 2 myositis 0.013: the exact 3 x 2 test; Pearson chi-square gives 0.017
    myositis = [[20, 10], [7, 13], [4, 0]]
    assert reproduces(_ffh_by_enumeration(myositis), "0.013")
    assert not reproduces(scipy.stats.chi2_contingency(myositis).pvalue, "0.013")
    # Table 2 race 0.12: Pearson chi-square on the 4 x 2 table
    race = [[14, 12], [13, 9], [4, 0], [0, 2]]
    assert reproduces(scipy.stats.chi2_contingency(race).pvalue, "0.12")
    # Table 3 anti-Jo1 0.09: the one-sided Fisher p (positives 6/13 vs 0/5), not two-sided
    jo1 = [[6, 0], [7, 5]]
    one_sided = min(scipy.stats.fisher_exact(jo1, alternative=a).pvalue
                    for a in ("less", "greater"))
    assert reproduces(one_sided, "0.09")
    assert not reproduces(scipy.stats.fisher_exact(jo1).pvalue, "0.09")
    # Table 2 histology 0.60: neither chi-square nor the exact test
    histology = [[3, 2], [1, 2], [0, 3], [1, 2]]
    assert not reproduces(scipy.stats.chi2_contingency(histology).pvalue, "0.60")
    assert not reproduces(_ffh_by_enumeration(histology), "0.60")
    snapshot = {k: EXPECTED_MATCHES[k] for k in (("t2", "sex"), ("t2", "myositis"),
                                                 ("t2", "race"), ("t3", "jo1"),
                                                 ("t2", "histology"))}
    assert snapshot == {("t2", "sex"): "chi2", ("t2", "myositis"): "fisher_rxc",
                        ("t2", "race"): "chi2", ("t3", "jo1"): "fisher_one_sided",
                        ("t2", "histology"): ""}


def test_serology_rows_are_positive_vs_negative(evidence):
    row = evidence.set_index(["table", "variable"]).loc[("t2", "ana")]
    assert row["counts"] == ((16, 16), (15, 7))
    assert row["shape"] == "2x2" and row["n"] == 54


def test_empty_levels_are_dropped(evidence):
    ev = evidence.set_index(["table", "variable"])
    assert ev.loc[("t3", "race"), "shape"] == "3x2"  # Asian 0 0 dropped
    assert ev.loc[("t3", "myositis"), "shape"] == "2x2"  # CADM 0 0 dropped
    assert ev.loc[("t3", "histology"), "shape"] == "4x1"  # no nonresponder biopsied


def test_table2_myositis_reproduced_by_chosen_rule(table):
    # Sharma 2017, Table 2: myositis p = 0.013 (Abstract and Results repeat it)
    row = table.loc[("t2", "myositis")]
    assert row["chosen_test"] == "fisher_rxc"
    assert round(row["chosen_p"], 3) == 0.013 and row["reproduced"]
    assert round(row["p_chi2"], 3) == 0.017  # Pearson chi-square would not print 0.013


def test_table3_jo1_printed_one_sided(table):
    # Sharma 2017, Table 3 and Results: anti-Jo1 p = 0.09 "trended toward significance"
    row = table.loc[("t3", "jo1")]
    assert row["chosen_test"] == "fisher_one_sided"
    assert row["chosen_p"] == pytest.approx(792 / 8568, rel=1e-12)  # C(12,5) / C(18,5)
    assert row["two_sided_p"] == pytest.approx(978 / 8568, rel=1e-12)
    assert round(row["two_sided_p"], 2) == 0.11
    assert not reproduces(row["two_sided_p"], "0.09")


def test_table3_mtx_and_aza_two_sided_values(table):
    assert round(table.loc[("t3", "mtx"), "chosen_p"], 3) == 0.088
    assert round(table.loc[("t3", "mtx"), "two_sided_p"], 3) == 0.118
    assert round(table.loc[("t3", "aza"), "two_sided_p"], 2) == 0.25


def test_table2_histology_reproduced_by_no_test(evidence):
    row = evidence.set_index(["table", "variable"]).loc[("t2", "histology")]
    assert round(row["p_chi2"], 3) == 0.397
    assert round(row["p_fisher_two"], 3) == 0.663
    assert row["matches"] == ""


def test_table3_histology_not_testable_like_printed_na(table):
    row = table.loc[("t3", "histology")]
    assert row["chosen_test"] == "not_testable" and math.isnan(row["chosen_p"])
    assert row["reproduced"]


# --------------------------------------------------------------------------- rule


def test_best_rule_expected_5_one_sided_28_of_31(evidence):
    best = best_rule(evidence)
    assert {k: best[k] for k in BEST} == BEST
    assert (best["score"], best["n"]) == (28, 31)
    assert best["missed"] == ["t2.race", "t2.smoking", "t2.histology"]
    assert best["tied"] == 0 and best["documented"] is False


def test_rule_scores_of_alternatives(evidence):
    scores = rule_scores(evidence)
    assert len(scores) == len(candidate_rules()) == 48

    def score(rule, threshold, sided, correction):
        sel = scores[
            (scores["rule"] == rule)
            & (scores["fisher_sided"] == sided)
            & (scores["correction"] == correction)
        ]
        sel = (
            sel[sel["threshold"].isna()]
            if threshold is None
            else sel[sel["threshold"] == threshold]
        )
        return int(sel["score"].iloc[0])

    assert score("expected", 5, "two-sided", False) == 13  # the plain documented reading
    assert score("expected", 5, "one-sided", True) == 21  # Yates never helps
    assert score("expected", 4, "one-sided", False) == 27  # loses Table 2 MMF
    assert score("never", None, "two-sided", False) == 10
    assert score("always", None, "two-sided", False) == 6
    assert scores["score"].iloc[1] == 27  # the runner-up


def test_ties_go_to_the_documented_rule():
    # one row that every rule reproduces: the documented reading must win the tie
    counts = counts_from_published(
        {
            "t2.sex.male.resp": 6,
            "t2.sex.male.nonresp": 10,
            "t2.sex.female.resp": 25,
            "t2.sex.female.nonresp": 13,
            "t2.sex.p": "0.1",
        }
    )
    best = best_rule(categorical_evidence(counts))
    assert best["documented"] and best["tied"] == 47


def test_evidence_table_columns_and_rule_forms(evidence):
    by_dict = evidence_table(evidence, BEST)
    assert list(by_dict.columns) == [
        "table",
        "variable",
        "printed_p",
        "p_chi2",
        "p_yates",
        "p_fisher_two",
        "p_fisher_one",
        "matches",
        "chosen_test",
        "chosen_p",
        "reproduced",
        "two_sided_p",
    ]
    params = SimpleNamespace(
        fisher_rule="expected",
        fisher_threshold=5.0,
        fisher_sided="one-sided",
        chi2_correction=False,
    )
    pd.testing.assert_frame_equal(evidence_table(evidence, params), by_dict)
    pd.testing.assert_frame_equal(evidence_table(evidence), by_dict)
    assert int(by_dict["reproduced"].sum()) == 29  # 28 numeric + the "N/A"
    with pytest.raises(ParameterError, match="selection rule"):
        evidence_table(evidence, {"rule": "expected"})


def test_evidence_table_accepts_counts(counts, evidence):
    pd.testing.assert_frame_equal(evidence_table(counts), evidence_table(evidence))


def test_evidence_is_deterministic(counts):
    first = evidence_table(counts)
    pd.testing.assert_frame_equal(evidence_table(counts), first)


# --------------------------------------------------------------------------- special readings


def test_text_pm_vs_dm_is_the_3x2_row(counts):
    # Results and Abstract: "PM ... than DM (67% vs 35%, p = 0.013)"
    readings = pm_vs_dm_readings(counts, "0.013").set_index("reading")
    two = readings.loc["pm_vs_dm_2x2"]
    assert two["counts"] == ((20, 10), (7, 13))
    assert two["matches"] == ""
    assert [round(two[c], 3) for c in ("p_chi2", "p_yates", "p_fisher_two", "p_fisher_one")] == [
        0.028,
        0.056,
        0.043,
        0.028,
    ]
    three = readings.loc["myositis_3x2_with_cadm"]
    assert three["matches"] == "fisher_rxc"


def test_race_swap_cannot_be_decided_by_p(counts):
    # Table 1: Black 26, White 22, Hispanic 4, Asian 2; Table 2: Asian 4/0, Hispanic 0/2
    table1 = {"black": 26, "white": 22, "hispanic": 4, "asian": 2}
    readings = race_readings(counts, table1_totals=table1).set_index("reading")
    printed, swapped = readings.loc["as_printed"], readings.loc["asian_hispanic_swapped"]
    for column in ("p_chi2", "p_fisher_two"):
        assert printed[column] == swapped[column]
    assert printed["matches"] == swapped["matches"] == "chi2"
    assert round(printed["p_chi2"], 2) == 0.12
    assert not printed["totals_agree_with_table1"]
    assert swapped["totals_agree_with_table1"]


# --------------------------------------------------------------------------- published data


def test_published_numbers_transcribe_the_same_counts(counts):
    """Cross-check: data/published/numbers.csv holds the counts typed above."""
    from analysis.published import load_published

    from_file = printed_counts(load_published(paths.NUMBERS))
    mine = counts.copy()
    # Table 3 histology prints "N/A", which numbers.csv does not transcribe
    mine.loc[mine["printed_p"] == "N/A", "printed_p"] = pd.NA
    key = ["table", "variable", "level"]
    left = from_file.sort_values(key, na_position="first").reset_index(drop=True)
    right = mine.sort_values(key, na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False)
