"""The paper's conclusions as rules on a run's computed numbers (``results.json``).

A variant's report opens with these (issue 14): each claim of Sharma et al. 2017 as the paper
states it, then as the paper run computes it, then as this run computes it, and whether it
still holds. The rules read only keys of ``results.json`` ("numbers"); a missing key (an empty
group) makes the claim "not computable", never a crash.

Where the paper states them: Abstract and Results ("Patients with PM-ILD were more likely to
respond ... (67% vs 35%, p = 0.013)"; "Women were more likely to respond, though this was not
statistically significant (66% vs 38%, p = 0.055)"; "no significant differences ... with
respect to age, race, serologic tests, radiographic pattern, or severity of ILD"; "Patients
with ... lower FVC and lower TLC at the time of initiation of tacrolimus were more likely to
fail treatment (63.7 vs 42.4, p = 0.010 and 65.9 vs 45.0, p = 0.042)"; "All 6 patients with
anti-Jo1 antibody responded to tacrolimus"; prednisone "decreased from baseline by 65% at 3-6
months (p = 0.002) and 81% at 1 year (p < 0.001)"; AZA "84.1 mg +/- 69.2 mg at 1 year (41.2%
decrease, p = 0.010)"), Conclusion ("A majority of patients ... improved while receiving
tacrolimus").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from analysis.report.format import p_clause

__all__ = ["CLAIMS", "Claim", "claim_table"]

Numbers = Mapping[str, float]


@dataclass(frozen=True)
class Claim:
    """One conclusion of the paper: its wording, the paper's numbers, and its rule."""

    key: str
    text: str
    paper: str
    holds: Callable[[Numbers, float], bool]
    shows: Callable[[Numbers, float], str]


def _get(n: Numbers, key: str) -> float:
    value = n.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise KeyError(key)
    return float(value)


def _pct(n: Numbers, key: str) -> str:
    return f"{_get(n, key):.0f}%"


def _share(k: float, n: float) -> str:
    return f"{k:.0f} of {n:.0f} ({100 * k / n:.0f}%)"


def _other_predictors(n: Numbers, alpha: float) -> list[str]:
    """Table 2 rows other than myositis type with p < alpha (sex counts: the paper calls it
    not significant)."""
    return sorted(k.split(".")[1] for k, v in n.items()
                  if k.startswith("t2.") and k.endswith(".p") and k != "t2.myositis.p"
                  and v is not None and not math.isnan(v) and v < alpha)


def _taper(n: Numbers, drug: str, points: tuple[str, ...], alpha: float) -> bool:
    return all(_get(n, f"dose.tac.{drug}.{pt}.pct_change") > 0
               and _get(n, f"dose.tac.{drug}.{pt}.p") < alpha for pt in points)


def _taper_text(n: Numbers, drug: str, points: tuple[str, ...]) -> str:
    names = {"m3_6": "3-6 months", "y1": "1 year"}
    return "; ".join(f"{_get(n, f'dose.tac.{drug}.{pt}.pct_change'):.0f}% at {names[pt]}, "
                     f"{p_clause(_get(n, f'dose.tac.{drug}.{pt}.p'))}" for pt in points)


#: The paper's claims, in the order the paper makes them.
CLAIMS: tuple[Claim, ...] = (
    Claim("pm_vs_dm", "PM-ILD responded to conventional treatment more often than DM-ILD",
          "67% vs 35%, p = 0.013",
          lambda n, a: (_get(n, "conv.pm.response_pct") > _get(n, "conv.dm.response_pct")
                        and _get(n, "t2.myositis.p") < a),
          lambda n, a: (f"{_pct(n, 'conv.pm.response_pct')} vs {_pct(n, 'conv.dm.response_pct')}, "
                     f"{p_clause(_get(n, 't2.myositis.p'))}")),
    Claim("sex", "Women responded more often than men, not significantly",
          "66% vs 38%, p = 0.055",
          lambda n, a: (_get(n, "conv.female.response_pct") > _get(n, "conv.male.response_pct")
                        and _get(n, "t2.sex.p") >= a),
          lambda n, a: (f"{_pct(n, 'conv.female.response_pct')} vs "
                     f"{_pct(n, 'conv.male.response_pct')}, {p_clause(_get(n, 't2.sex.p'))}")),
    Claim("no_other_predictor", "No other characteristic predicted response (Table 2)",
          "none",
          lambda n, a: not _other_predictors(n, a),
          lambda n, a: ", ".join(_other_predictors(n, a)) or "none"),
    Claim("tac_majority", "A majority responded to tacrolimus", "13 of 18 (72%)",
          lambda n, a: _get(n, "flow.tac_responders") > _get(n, "flow.tac_analysed") / 2,
          lambda n, a: _share(_get(n, "flow.tac_responders"), _get(n, "flow.tac_analysed"))),
    Claim("fvc_lower", "Lower FVC at tacrolimus start in tacrolimus failures",
          "63.7 vs 42.4, p = 0.010",
          lambda n, a: _get(n, "t3.fvc.resp") > _get(n, "t3.fvc.nonresp")
          and _get(n, "t3.fvc.p") < a,
          lambda n, a: (f"{_get(n, 't3.fvc.resp'):.1f} vs {_get(n, 't3.fvc.nonresp'):.1f}, "
                     f"{p_clause(_get(n, 't3.fvc.p'))}")),
    Claim("tlc_lower", "Lower TLC at tacrolimus start in tacrolimus failures",
          "65.9 vs 45.0, p = 0.042",
          lambda n, a: _get(n, "t3.tlc.resp") > _get(n, "t3.tlc.nonresp")
          and _get(n, "t3.tlc.p") < a,
          lambda n, a: (f"{_get(n, 't3.tlc.resp'):.1f} vs {_get(n, 't3.tlc.nonresp'):.1f}, "
                     f"{p_clause(_get(n, 't3.tlc.p'))}")),
    Claim("jo1", "All anti-Jo1-positive patients responded to tacrolimus", "6 of 6",
          lambda n, a: _get(n, "t3.jo1.nonresp") == 0 and _get(n, "t3.jo1.resp") > 0,
          lambda n, a: (f"{_get(n, 't3.jo1.resp'):.0f} of "
                     f"{_get(n, 't3.jo1.resp') + _get(n, 't3.jo1.nonresp'):.0f}")),
    Claim("prednisone_taper", "Prednisone fell after tacrolimus start (3-6 months, 1 year)",
          "65% at 3-6 months, p = 0.002; 81% at 1 year, p < 0.001",
          lambda n, a: _taper(n, "prednisone", ("m3_6", "y1"), a),
          lambda n, a: _taper_text(n, "prednisone", ("m3_6", "y1"))),
    Claim("aza_taper", "Azathioprine fell by 1 year after tacrolimus start",
          "41% at 1 year, p = 0.010",
          lambda n, a: _taper(n, "aza", ("y1",), a),
          lambda n, a: _taper_text(n, "aza", ("y1",))),
)


def _verdict(claim: Claim, numbers: Numbers, alpha: float) -> tuple[bool | None, str]:
    try:
        return bool(claim.holds(numbers, alpha)), claim.shows(numbers, alpha)
    except (KeyError, ZeroDivisionError):
        return None, "not computable"


def claim_table(paper_run: Numbers, this_run: Numbers, alpha: float = 0.05) -> pd.DataFrame:
    """Each claim: the paper's numbers, the paper run's, this run's, and the verdict.

    Parameters
    ----------
    paper_run, this_run : the ``numbers`` of two runs' ``results.json``.
    alpha : significance level of this run.

    Returns
    -------
    DataFrame with columns Claim, The paper, Paper run, This run, Verdict. The verdict is
    "holds" or "no longer holds" when the paper run supports the claim, else "now holds" or
    "does not hold"; "not computable" when this run lacks a number.

    >>> n = {"t3.jo1.resp": 6.0, "t3.jo1.nonresp": 0.0}
    >>> v = {"t3.jo1.resp": 5.0, "t3.jo1.nonresp": 1.0}
    >>> row = claim_table(n, v).set_index("Claim").loc[CLAIMS[6].text]
    >>> row["Paper run"], row["This run"], row["Verdict"]
    ('6 of 6', '5 of 6', 'no longer holds')
    """
    rows = []
    for claim in CLAIMS:
        before, shown_before = _verdict(claim, paper_run, alpha)
        after, shown_after = _verdict(claim, this_run, alpha)
        if after is None:
            verdict = "not computable"
        elif before:
            verdict = "holds" if after else "no longer holds"
        else:
            verdict = "now holds" if after else "does not hold"
        rows.append({"Claim": claim.text, "The paper": claim.paper,
                     "Paper run": shown_before, "This run": shown_after, "Verdict": verdict})
    return pd.DataFrame(rows)
