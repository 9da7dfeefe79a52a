"""The report's sentences about the data, written from the run's numbers.

``report.qmd`` types no direction word about the data: "more often", "lower", "fell" are true
of the paper's data and may be false of another definition or of the authors' own export. Each
sentence that compares two numbers is therefore written here, from the run's numbers and its
table of conclusions (``tables/claims.csv``), and reaches the report as a variable
(``{{< var prose.pm_vs_dm >}}``). A sentence whose groups are empty says so.

The direction words of the paper's conclusions are those of :mod:`analysis.paper.claims`
(:func:`~analysis.paper.claims.direction_word`); the dose sentences use :func:`change_word`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.format import format_number, not_computable, p_clause
from analysis.report.spans import keyed

__all__ = ["change_word", "percent_change_text", "prose_variables"]


def _num(results: Mapping[str, Any], key: str) -> float:
    value = results.get(key)
    return math.nan if value is None else float(value)


def change_word(before: float, after: float) -> str:
    """How a mean moved: "fell", "rose" or "did not change" (compared at the printed 0.1 mg).

    >>> change_word(35.1, 12.4), change_word(12.4, 35.1), change_word(5.0, 5.04)
    ('fell', 'rose', 'did not change')
    """
    a, b = round(before, 1), round(after, 1)
    return "fell" if b < a else "rose" if b > a else "did not change"


def percent_change_text(pct_decrease: float) -> str:
    """A percent change as the paper words it, from the run's ``pct_change`` (positive: a
    decrease, as the paper prints "65% decrease").

    >>> percent_change_text(64.6), percent_change_text(-12.0), percent_change_text(0.2)
    ('65% decrease', '12% increase', 'no change')
    """
    value = round(pct_decrease)
    if value == 0:
        return "no change"
    return f"{abs(value):.0f}% {'decrease' if value > 0 else 'increase'}"


def _claim(claims: pd.DataFrame | None, cid: str) -> Mapping[str, Any]:
    if claims is None:
        return {}
    rows = claims[claims["id"] == cid]
    return rows.iloc[0].to_dict() if len(rows) else {}


# Every number of a sentence carries its key (issue 28): [67]{data-key="conv.pm.response_pct"}.
def _pct(results: Mapping[str, Any], key: str) -> str:
    return keyed(format_number(results.get(key), 0, missing="not computable"), key)


def _rates_sentence(results: Mapping[str, Any], claim: Mapping[str, Any], subject: str,
                    other: str, keys: tuple[str, str], tail: str = "") -> str:
    word = claim.get("direction") or ""
    if not word:
        return (f"The response of {subject} and {other} to conventional treatment cannot be "
                f"compared in this run ({claim.get('detail', 'not computable')}).")
    return (f"{subject[:1].upper()}{subject[1:]} responded to conventional treatment {word} "
            f"{other} ({_pct(results, keys[0])}% vs {_pct(results, keys[1])}%{tail}).")


def _mean(results: Mapping[str, Any], key: str) -> str:
    return keyed(format_number(results.get(key), 1), key)


def _tac_sentence(results: Mapping[str, Any], claims: pd.DataFrame | None,
                  tests: Mapping[str, str]) -> str:
    from analysis.stats import TEST_LABELS

    parts = []
    for cid, name, unit in (("fvc_lower", "fvc", " predicted"), ("tlc_lower", "tlc", "")):
        claim = _claim(claims, cid)
        word = claim.get("direction") or ""
        label = name.upper()
        if not word:
            parts.append(f"{label} could not be compared ({claim.get('detail', '')})")
            continue
        test = TEST_LABELS.get(tests.get(f"t3.{name}", ""), "test not recorded")
        p = results.get(f"t3.{name}.p")
        p_text = keyed(p_clause(p) if p is not None else "p not computable", f"t3.{name}.p")
        parts.append(f"{word} {label} ({_mean(results, f't3.{name}.resp')} vs "
                     f"{_mean(results, f't3.{name}.nonresp')}%{unit} in responders and "
                     f"failures, {p_text}, {test})")
    return ("At tacrolimus start, patients who failed tacrolimus had " + " and ".join(parts)
            + " than those who responded")


def _dose_point(results: Mapping[str, Any], stem: str, first: str, point: str,
                when: str) -> str:
    """One later time point of a taper: "fell to 12.4 mg at 3–6 months (65% decrease, p =
    0.002)", or why it cannot be said."""
    n = int(_num(results, f"{stem}.{point}.n") or 0) if not math.isnan(
        _num(results, f"{stem}.{point}.n")) else 0
    before, after = _num(results, f"{stem}.{first}.mean"), _num(results, f"{stem}.{point}.mean")
    at = f"{stem}.{point}"
    if math.isnan(before) or math.isnan(after):
        return f"could not be followed {when} ({keyed(not_computable(n), f'{at}.n')})"
    pct = _num(results, f"{at}.pct_change")
    p = results.get(f"{at}.p")
    extra = [keyed(percent_change_text(pct), f"{at}.pct_change")] if not math.isnan(pct) else []
    extra.append(keyed(p_clause(p) if p is not None else f"p {not_computable(n)}", f"{at}.p"))
    return (f"{change_word(before, after)} to {keyed(f'{after:.1f}', f'{at}.mean')} mg {when} "
            f"({', '.join(extra)})")


def _dose_sentences(results: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    conv = []
    for cohort, who in (("conv_resp", "patients who responded to conventional treatment"),
                        ("conv_fail", "those who failed it")):
        stem = f"dose.{cohort}.prednisone"
        start = _num(results, f"{stem}.baseline.mean")
        if math.isnan(start):
            n = int(_num(results, f"{stem}.baseline.n") or 0) if not math.isnan(
                _num(results, f"{stem}.baseline.n")) else 0
            conv.append(f"in {who} the prednisone dose could not be followed "
                        f"({keyed(not_computable(n), f'{stem}.baseline.n')})")
            continue
        conv.append(f"in {who} the mean prednisone dose was "
                    f"{keyed(f'{start:.1f}', f'{stem}.baseline.mean')} mg at baseline and "
                    + _dose_point(results, stem, "baseline", "m6_12", "by 6–12 months"))
    text = "; ".join(conv)
    out["dose_conv"] = text[:1].upper() + text[1:]
    stem = "dose.tac.prednisone"
    start = _num(results, f"{stem}.start.mean")
    if math.isnan(start):
        out["dose_tac"] = ("No patient analysed for tacrolimus had a prednisone dose at "
                           "tacrolimus start, so its course cannot be followed.")
    else:
        start_text = keyed(f"{start:.1f}", f"{stem}.start.mean")
        out["dose_tac"] = (f"After tacrolimus start the mean prednisone dose was {start_text} mg; "
                           "it " + _dose_point(results, stem, "start", "m3_6", "at 3–6 months")
                           + " and " + _dose_point(results, stem, "start", "y1", "at 1 year")
                           + ".")
    return out


def prose_variables(results: Mapping[str, Any], claims: pd.DataFrame | None,
                    tests: Mapping[str, str]) -> dict[str, str]:
    """The sentences of the Results that state a direction (``prose.*`` variables).

    ``tac_pft`` and ``dose_conv`` end without a full stop: the report adds its cross-reference
    after them (a reference inside a variable is not resolved by every renderer).

    Parameters
    ----------
    results : the run's numbers (``results.json``).
    claims : the run's ``tables/claims.csv`` (:func:`analysis.report.claims.save_claims`).
    tests : the test of each Table 2-3 row (:func:`analysis.report.inputs.row_tests`).
    """
    from analysis.stats import TEST_LABELS

    pm = _claim(claims, "pm_vs_dm")
    sex = _claim(claims, "sex")
    sex_p = results.get("t2.sex.p")
    sex_test = TEST_LABELS.get(tests.get("t2.sex", ""), "test not recorded")
    sex_tail = f", {keyed(p_clause(sex_p), 't2.sex.p')}, {sex_test}" if sex_p is not None \
        else ""
    return {
        "pm_vs_dm": _rates_sentence(results, pm, "patients with PM-ILD", "patients with DM-ILD",
                                    ("conv.pm.response_pct", "conv.dm.response_pct")),
        "sex": _rates_sentence(results, sex, "women", "men",
                               ("conv.female.response_pct", "conv.male.response_pct"), sex_tail),
        "tac_pft": _tac_sentence(results, claims, tests),
        **_dose_sentences(results),
    }
