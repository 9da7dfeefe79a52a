"""The numbers the paper prints in its text, computed from the response groups.

Keys follow ``data/published/numbers.csv`` (e.g. ``conv.response.pct``, ``tac.ild_improved.n``)
so the reproduction can compare every printed number with its computed value.
(Sharma 2017, Abstract; Results, Response to conventional treatment and Use of tacrolimus.)
"""

from __future__ import annotations

import numpy as np
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
    """Response rates by myositis type and sex among the included patients, and the PM vs DM
    comparison the text reports (67% vs 35%, p = 0.013).

    The p-value of the PM vs DM sentence is the 2x2 PM/DM test under the run's categorical
    rule; the methods audit shows whether the paper's 0.013 is that or Table 2's 3x2 row.
    """
    from analysis import stats

    included = data[data["included"].fillna(False).astype(bool)]
    resp = included["conv_responder"].fillna(False).astype(bool)
    out: dict[str, float] = {}
    for key, column, value in (("pm", "myositis_type", "PM"), ("dm", "myositis_type", "DM"),
                               ("female", "sex", "F"), ("male", "sex", "M")):
        members = included[column] == value
        out[f"conv.{key}.response_pct"] = _pct(int((members & resp).sum()), int(members.sum()))
    pm = included["myositis_type"] == "PM"
    dm = included["myositis_type"] == "DM"
    table = np.array([[int((pm & resp).sum()), int((pm & ~resp).sum())],
                      [int((dm & resp).sum()), int((dm & ~resp).sum())]])
    out["conv.pm_vs_dm.p"], _ = stats.choose_categorical_test(
        table, rule=params.fisher_rule, threshold=params.fisher_threshold,
        fisher_sided=params.fisher_sided, correction=params.chi2_correction)
    return out
