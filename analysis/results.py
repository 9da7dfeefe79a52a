"""The numbers the paper prints in its text, computed from the response groups.

Keys follow ``data/published/numbers.csv`` (e.g. ``conv.response.pct``, ``tac.ild_improved.n``)
so the reproduction can compare every printed number with its computed value. Like the keyed
numbers of the tables, doses and sensitivity analysis, they reach ``results.json`` through one
place, :mod:`analysis.report.results`. (Sharma 2017, Abstract; Results, Response to
conventional treatment and Use of tacrolimus.)
"""

from __future__ import annotations

import pandas as pd

from analysis.params import Params

__all__ = ["flow_results", "response_results", "subgroup_results"]


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def flow_results(flow: pd.DataFrame) -> dict[str, float]:
    """Figure 1's counts keyed as published (``flow.included`` -> 54)."""
    return {key: float(n) for key, n in zip(flow["key"], flow["n"], strict=True)}


def response_results(groups: pd.DataFrame) -> dict[str, float]:
    """Response rates of the text: conventional response (31 of 54, 57%) and the tacrolimus
    improvements in myositis, ILD and both (14, 17, 13 of 18), hospitalisations (1)."""
    included = groups["included"]
    responders = int((groups["conv_responder"].fillna(False).astype(bool) & included).sum())
    analysed = groups["tac_analysed"]
    n_tac = int(analysed.sum())
    out = {"conv.response.pct": _pct(responders, int(included.sum()))}
    for name, column in (("myositis_improved", "tac_myositis_improved"),
                         ("ild_improved", "tac_ild_improved"), ("both_improved", "tac_responder")):
        count = int(groups.loc[analysed, column].fillna(False).astype(bool).sum())
        out[f"tac.{name}.n"] = float(count)
        out[f"tac.{name}.pct"] = _pct(count, n_tac)
    out["tac.hospitalised.n"] = float(
        groups.loc[analysed, "tac_hospitalised"].fillna(False).astype(bool).sum())
    return out


def subgroup_results(data: pd.DataFrame, params: Params) -> dict[str, float]:
    """Response rates by myositis type and sex among the included patients (the text's 67% vs
    35% for PM vs DM, 66% vs 38% for women vs men).

    The p-values the text prints beside them are Table 2's rows (``t2.myositis.p``: the exact
    3x2 test over PM, DM and CADM gives the printed 0.013; a 2x2 PM vs DM test does not). The
    comparison the sentence states, PM vs DM alone, is added as ``conv.pm_vs_dm.p_2x2``: the
    two-sided Fisher exact test on the 2x2 table (responders and failures with PM and DM),
    the recommended test for a 2x2 table with small counts.
    """
    from analysis.stats import fisher_exact

    included = data[data["included"].fillna(False).astype(bool)]
    resp = included["conv_responder"].fillna(False).astype(bool)
    out: dict[str, float] = {}
    for key, column, value in (("pm", "myositis_type", "PM"), ("dm", "myositis_type", "DM"),
                               ("female", "sex", "F"), ("male", "sex", "M")):
        members = included[column] == value
        out[f"conv.{key}.response_pct"] = _pct(int((members & resp).sum()), int(members.sum()))
    pm, dm = (included["myositis_type"] == kind for kind in ("PM", "DM"))
    table = [[int((pm & resp).sum()), int((pm & ~resp).sum())],
             [int((dm & resp).sum()), int((dm & ~resp).sum())]]
    out["conv.pm_vs_dm.p_2x2"] = (fisher_exact(table) if min(map(sum, table)) > 0
                                  else float("nan"))
    return out
