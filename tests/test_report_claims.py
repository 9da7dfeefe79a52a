"""The variant report's conclusions table (analysis.report.claims) and the Markdown table layout,
without a run: the expected values are the paper's printed numbers, typed by hand from
Sharma et al. 2017 (Abstract, Results, Tables 2 and 3)."""

import pandas as pd

from analysis.report.claims import CLAIMS, claim_table
from analysis.report.markdown import markdown_table

#: The paper's printed numbers under the keys of results.json (Sharma 2017).
PAPER = {
    "conv.pm.response_pct": 67.0, "conv.dm.response_pct": 35.0, "t2.myositis.p": 0.013,
    "conv.female.response_pct": 66.0, "conv.male.response_pct": 38.0, "t2.sex.p": 0.055,
    "t2.age.p": 0.34, "t2.jo1.p": 0.17,  # two of Table 2's other rows, both p > 0.05
    "flow.tac_responders": 13.0, "flow.tac_analysed": 18.0,
    "t3.fvc.resp": 63.7, "t3.fvc.nonresp": 42.4, "t3.fvc.p": 0.010,
    "t3.tlc.resp": 65.9, "t3.tlc.nonresp": 45.0, "t3.tlc.p": 0.042,
    "t3.jo1.resp": 6.0, "t3.jo1.nonresp": 0.0,
    "dose.tac.prednisone.m3_6.pct_change": 65.0, "dose.tac.prednisone.m3_6.p": 0.002,
    "dose.tac.prednisone.y1.pct_change": 81.0, "dose.tac.prednisone.y1.p": 0.0009,
    "dose.tac.aza.y1.pct_change": 41.2, "dose.tac.aza.y1.p": 0.010,
}


def test_every_claim_holds_on_the_paper_s_own_numbers():
    table = claim_table(PAPER, PAPER)
    assert len(table) == len(CLAIMS) == 9
    assert set(table["Verdict"]) == {"holds"}
    row = table.set_index("Claim").loc["PM-ILD responded to conventional treatment more often "
                                       "than DM-ILD"]
    assert row["Paper run"] == "67% vs 35%, p = 0.013" == row["The paper"]
    assert table.iloc[7]["This run"] == "65% at 3-6 months, p = 0.002; 81% at 1 year, p < 0.001"


def test_a_variant_that_loses_significance_no_longer_holds():
    """strict-ild (3 of 4 ILD criteria) moves PM vs DM to p = 0.31 (issue 14)."""
    variant = {**PAPER, "t2.myositis.p": 0.31, "t2.jo1.p": 0.02, "t3.jo1.nonresp": 1.0}
    verdicts = claim_table(PAPER, variant).set_index("Claim")["Verdict"]
    assert verdicts.iloc[0] == "no longer holds"
    assert verdicts.loc["No other characteristic predicted response (Table 2)"] == \
        "no longer holds"
    assert verdicts.loc["All anti-Jo1-positive patients responded to tacrolimus"] == \
        "no longer holds"
    assert verdicts.loc["A majority responded to tacrolimus"] == "holds"


def test_a_missing_number_is_not_computable_not_an_error():
    variant = {k: v for k, v in PAPER.items() if not k.startswith("t3.fvc")}
    row = claim_table(PAPER, variant).iloc[4]
    assert (row["This run"], row["Verdict"]) == ("not computable", "not computable")


def test_text_columns_are_left_aligned_wherever_they_are():
    frame = pd.DataFrame({"Number": ["a"], "Printed": ["1"], "Status": ["match"]})
    text = markdown_table(frame, text_columns=("Status",))
    assert text.splitlines()[1] == "|:---------|----------:|:---------|"
