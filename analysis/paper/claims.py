"""The paper's conclusions as data, and the one judgement of whether a run supports each.

Sharma et al. 2017 draws ten conclusions from its numbers (Abstract, Results, Discussion,
Conclusion). Each is declared here once, as data (:class:`Claim`): the quantity it rests on,
the direction the paper states, whether the paper calls it significant, the test the paper
used (and the test this report prefers where they differ), and where the paper prints it. The
paper's printed values are not typed here: :func:`printed_text` reads them from
``data/published/numbers.csv`` by their ids.

A claim is measured (:func:`measure`) from a mapping of computed numbers keyed as
``results.json`` (``t2.myositis.pm.resp``, ``t3.fvc.p``, ...): a run's own numbers, or one
definition's numbers from the sensitivity grid (:func:`analysis.sensitivity.grid_numbers`),
so the run's claims table, the variant report, the sensitivity section and the robustness
explorer judge every claim with the same code. Estimates, intervals and p-values come from the
engine of Tables 2-3 (:mod:`analysis.tables`, :mod:`analysis.effects`, :mod:`analysis.doses`).

The judgement (:func:`judge`), stated in words in the report's Methods (:data:`RULES_TEXT`):

- a **comparison** *holds* when the estimate lies in the direction the paper states and, where
  the paper calls the difference significant, p < alpha; *direction only* when the direction
  is the paper's but p >= alpha (or no p can be computed); *reversed* when the estimate lies
  the other way; *no difference* when it is exactly zero;
- a **descriptive** claim ("a majority responded") is *established* only when the whole 95%
  interval lies on the claimed side; *not established* when the estimate does but the
  interval crosses; *reversed* when the estimate does not;
- an **absence** claim ("no other characteristic predicted response") *holds* when no row it
  covers has p < alpha, and *does not hold* otherwise (naming the rows);
- any claim whose numbers cannot be computed (an empty group) is *not computable*.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis.format import p_clause

__all__ = ["Claim", "Measure", "CLAIMS", "BY_ID", "VERDICTS", "SUPPORTING", "RULES_TEXT",
           "measure", "judge", "direction_word", "claims_table", "printed_text"]

Numbers = Mapping[str, Any]

#: Every verdict, in the order the report lists them.
VERDICTS = ("holds", "established", "direction only", "not established", "no difference",
            "reversed", "does not hold", "not computable")
#: The verdicts that mean "the run supports the claim as the paper states it".
SUPPORTING = ("holds", "established")

RULES_TEXT = (
    "Each conclusion of the paper is judged the same way wherever this report shows it (the "
    "table of conclusions, a variant's report, the sensitivity analysis and the robustness "
    "explorer). A comparison *holds* when this run's estimate lies in the direction the paper "
    "states and, where the paper calls the difference significant, its p-value is below the "
    "significance level; it holds in *direction only* when the direction is the paper's but "
    "the p-value is not below the level; it is *reversed* when the estimate lies the other "
    "way. A descriptive statement (such as \"a majority responded\") is *established* only "
    "when the whole 95% confidence interval of the estimate lies on the side the paper "
    "claims; otherwise it is *not established* (or *reversed* when the estimate itself lies "
    "on the other side). A statement that no other characteristic differed *holds* when no "
    "such row has a p-value below the level. A conclusion whose groups are empty is *not "
    "computable*.")


@dataclass(frozen=True)
class Measure:
    """What a run's numbers say about one claim."""

    estimate: float = math.nan  # in ``Claim.unit``
    low: float = math.nan  # 95% interval of the estimate (NaN where none is computed)
    high: float = math.nan
    p: float = math.nan  # the p-value the verdict uses
    test: str = ""  # the test behind ``p`` (words)
    detail: str = "not computable"  # the numbers as a reader reads them
    paper_test_p: float = math.nan  # the paper's own test, where the verdict uses another


@dataclass(frozen=True)
class Claim:
    """One conclusion of Sharma 2017, declared as data.

    ``direction`` is the sign of the estimate the paper states ("greater": estimate > 0, or
    above ``threshold`` for a descriptive claim; "less": below). ``words`` are the direction
    words of the data, for an estimate above, below and equal to zero (the prose reads
    them). ``swept``: the sensitivity grid recomputes the claim under every definition.
    """

    id: str
    label: str
    kind: str  # "comparison", "descriptive" or "absence"
    quantity: str
    unit: str
    direction: str
    significant: bool
    test: str
    preferred_test: str
    where: str
    printed: tuple[str, ...]
    paper_format: str
    words: tuple[str, str, str]
    swept: bool
    reads: Callable[[Numbers, Mapping[str, str], float], Measure]
    threshold: float = 0.0
    short: str = ""  # a name for a plot's axis (line breaks allowed) and the exercises' answers


# --------------------------------------------------------------------------- helpers
def _num(n: Numbers, key: str) -> float:
    value = n.get(key)
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _nan(*values: float) -> bool:
    return any(math.isnan(v) for v in values)


def _p_text(p: float, alpha: float) -> str:
    """A p-value with the digits that show which side of ``alpha`` it lies (issue 25: a
    variant's 0.0498 read "p = 0.050")."""
    return p_clause(p, alpha) if not math.isnan(p) else "p not computable"


def _test_name(tests: Mapping[str, str], row: str, fallback: str) -> str:
    from analysis.stats import TEST_LABELS

    test = tests.get(row, "")
    return TEST_LABELS.get(test, test) if test else fallback


def _rate_difference(n: Numbers, a: tuple[str, str], b: tuple[str, str], names: tuple[str, str],
                     p_key: str, test: str, alpha: float, paper_p_key: str = "") -> Measure:
    """Response rate of group a minus group b (percentage points), Newcombe interval
    (:func:`analysis.effects.prop_diff_newcombe`, the interval of Tables 2-3's differences)."""
    from analysis.effects import prop_diff_newcombe

    a_r, a_f, b_r, b_f = (_num(n, k) for k in (*a, *b))
    if _nan(a_r, a_f, b_r, b_f) or not (a_r + a_f) or not (b_r + b_f):
        return Measure(detail=f"not computable ({names[0]} {_count(a_r, a_f)}, "
                              f"{names[1]} {_count(b_r, b_f)})")
    diff, low, high = prop_diff_newcombe(int(a_r), int(a_r + a_f), int(b_r), int(b_r + b_f))
    p = _num(n, p_key)
    detail = (f"{names[0]} {int(a_r)}/{int(a_r + a_f)} ({100 * a_r / (a_r + a_f):.0f}%) vs "
              f"{names[1]} {int(b_r)}/{int(b_r + b_f)} ({100 * b_r / (b_r + b_f):.0f}%), "
              f"{_p_text(p, alpha)}")
    return Measure(100 * diff, 100 * low, 100 * high, p, test, detail,
                   _num(n, paper_p_key) if paper_p_key else math.nan)


def _count(r: float, f: float) -> str:
    return "n = 0" if _nan(r, f) else f"n = {int(r + f)}"


def _table_effect(n: Numbers, row: str, names: tuple[str, str], test: str, unit: str,
                  alpha: float) -> Measure:
    """A Table 3 row: the two groups' values, the row's effect and interval (Tables 2-3's
    :func:`analysis.tables.add_effects`) and its p-value."""
    resp, nonresp = _num(n, f"{row}.resp"), _num(n, f"{row}.nonresp")
    est, low, high = (_num(n, f"{row}.effect{s}") for s in ("", "_low", "_high"))
    p = _num(n, f"{row}.p")
    if _nan(resp, nonresp) or math.isnan(est):
        return Measure(detail="not computable (a group has no patient with a value)")
    digits = 0 if unit == "patients" else 1
    detail = (f"{names[0]} {resp:.{digits}f} vs {names[1]} {nonresp:.{digits}f}, "
              f"{_p_text(p, alpha)}")
    return Measure(est, low, high, p, test, detail)


# --------------------------------------------------------------------------- readers
def _pm_vs_dm(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
    from analysis.stats import TEST_LABELS

    m = _rate_difference(n, ("t2.myositis.pm.resp", "t2.myositis.pm.nonresp"),
                         ("t2.myositis.dm.resp", "t2.myositis.dm.nonresp"), ("PM", "DM"),
                         "conv.pm_vs_dm.p_2x2", TEST_LABELS["fisher_two_sided"], alpha,
                         "t2.myositis.p")
    if math.isnan(m.paper_test_p):
        return m
    paper = _test_name(tests, "t2.myositis", "Table 2's test of the myositis row")
    return Measure(m.estimate, m.low, m.high, m.p, m.test,
                   f"{m.detail}; the paper's test over PM, DM and CADM ({paper}): "
                   f"{_p_text(m.paper_test_p, alpha)}", m.paper_test_p)


def _sex(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
    return _rate_difference(n, ("t2.sex.female.resp", "t2.sex.female.nonresp"),
                            ("t2.sex.male.resp", "t2.sex.male.nonresp"), ("women", "men"),
                            "t2.sex.p", _test_name(tests, "t2.sex", "Table 2's test of the row"),
                            alpha)


#: Table 2 rows the paper's "no other difference" covers: all but myositis type and sex,
#: which the Results discuss on their own.
_ABSENCE_EXCLUDES = ("t2.myositis.p", "t2.sex.p")


def _no_other(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
    from analysis.paper.rows import ROWS

    labels = {f"t2.{row.key}.p": row.t2_label or row.label for row in ROWS}
    ps = {key: _num(n, key) for key in labels if key not in _ABSENCE_EXCLUDES}
    known = {k: v for k, v in ps.items() if not math.isnan(v)}
    if not known:
        return Measure(detail="not computable (no row of Table 2 could be tested)")
    below = sorted((v, labels[k]) for k, v in known.items() if v < alpha)
    smallest = min(known.values())
    detail = ("none of the other rows of Table 2 has p < "
              f"{alpha:g} (smallest {_p_text(smallest, alpha)}; {len(known)} rows tested)"
              if not below else
              "; ".join(f"{label} ({_p_text(v, alpha)})" for v, label in below))
    return Measure(float(len(below)), math.nan, math.nan, smallest,
                   "Table 2's test of each row", detail)


def _majority(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
    from analysis.effects import proportion_exact

    k, total = _num(n, "flow.tac_responders"), _num(n, "flow.tac_analysed")
    if _nan(k, total) or total < 1:
        return Measure(detail="not computable (no patient analysed for tacrolimus)")
    est, low, high, p = proportion_exact(int(k), int(total))
    detail = (f"{int(k)}/{int(total)} ({100 * est:.0f}%, 95% CI {100 * low:.0f}% to "
              f"{100 * high:.0f}%); exact binomial test against 50%: {_p_text(p, alpha)}")
    return Measure(100 * est, 100 * low, 100 * high, p,
                   "exact binomial test against 50% (Clopper-Pearson interval)", detail)


def _t3_row(row: str, name: str) -> Callable[[Numbers, Mapping[str, str], float], Measure]:
    def read(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
        return _table_effect(n, f"t3.{row}", ("responders", "failures"),
                             _test_name(tests, f"t3.{row}", f"Table 3's test of the {name} row"),
                             "points", alpha)
    return read


def _jo1(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
    m = _table_effect(n, "t3.jo1", ("responders", "failures"),
                      _test_name(tests, "t3.jo1", "Table 3's test of the anti-Jo1 row"),
                      "patients", alpha)
    resp, fail = _num(n, "t3.jo1.resp"), _num(n, "t3.jo1.nonresp")
    if _nan(resp, fail) or math.isnan(m.estimate):
        return m
    detail = (f"{int(resp)} of {int(resp + fail)} anti-Jo1-positive patients responded; "
              f"{_p_text(m.p, alpha)}")
    return Measure(100 * m.estimate, 100 * m.low, 100 * m.high, m.p, m.test, detail)


def _taper(drug: str, point: str) -> Callable[[Numbers, Mapping[str, str], float], Measure]:
    stem = f"dose.tac.{drug}.{point}"

    def read(n: Numbers, tests: Mapping[str, str], alpha: float) -> Measure:
        change, low, high = (_num(n, f"{stem}.change{s}") for s in ("", "_low", "_high"))
        start, later = _num(n, f"dose.tac.{drug}.start.mean"), _num(n, f"{stem}.mean")
        p, pairs = _num(n, f"{stem}.p"), _num(n, f"{stem}.n")
        if _nan(change, start, later):
            return Measure(detail=f"not computable ({int(pairs) if not math.isnan(pairs) else 0}"
                                  " patients with both doses)")
        from analysis.format import format_number

        sign = "+" if change > 0 else ""  # format_number prints a true minus sign
        detail = (f"mean {start:.1f} mg at tacrolimus start, {later:.1f} mg later "
                  f"(mean paired change {sign}{format_number(change, 1)} mg), "
                  f"{_p_text(p, alpha)}")
        return Measure(change, low, high, p, "paired Student t test (two-sided)", detail)
    return read


_GROUPS_WORDS = ("more often than", "less often than", "as often as")
_FELL = ("rose", "fell", "did not change")

#: The paper's conclusions, in the order the paper makes them.
CLAIMS: tuple[Claim, ...] = (
    Claim("pm_vs_dm", "Patients with PM-ILD responded to conventional treatment more often "
          "than patients with DM-ILD", "comparison",
          "response rate, PM minus DM", "percentage points", "greater", True,
          "Table 2's test over PM, DM and CADM together (the p-value the paper prints)",
          "two-sided Fisher exact test of PM against DM alone (the comparison the sentence "
          "states; this report's verdict uses it)",
          "Abstract; Results, response to conventional treatment; Table 2, myositis row",
          ("abstract.pm.response_pct", "abstract.dm.response_pct", "abstract.pm_vs_dm.p"),
          "{0}% vs {1}%, p = {2}", _GROUPS_WORDS, True, _pm_vs_dm,
          short="PM-ILD responds more\nthan DM-ILD"),
    Claim("sex", "Women responded to conventional treatment more often than men (not "
          "significantly)", "comparison", "response rate, women minus men",
          "percentage points", "greater", False, "Table 2's test of the sex row", "",
          "Results, response to conventional treatment; Table 2, sex row",
          ("text.conv.female.response_pct", "text.conv.male.response_pct", "t2.sex.p"),
          "{0}% vs {1}%, p = {2}", _GROUPS_WORDS, True, _sex,
          short="Women respond more\nthan men"),
    Claim("no_other_predictor", "No other clinical characteristic or serology differed "
          "between responders and failures of conventional treatment", "absence",
          "rows of Table 2 (other than myositis type and sex) with p below the level", "rows",
          "less", True, "Table 2's test of each row", "",
          "Results, response to conventional treatment; Conclusion; Table 2", (),
          "none significant", ("", "", ""), False, _no_other,
          short="No other characteristic\ndiffers (Table 2)"),
    Claim("tac_majority", "A majority of the patients given tacrolimus responded to it",
          "descriptive", "share of the patients analysed for tacrolimus who improved in both "
          "myositis and ILD", "percent", "greater", False,
          "none (the paper states the share: 72%)",
          "exact binomial test against 50%, Clopper-Pearson interval",
          "Abstract; Results, use of tacrolimus; Conclusion",
          ("text.tac.both_improved.n", "abstract.tac_analysed.n", "text.tac.both_improved.pct"),
          "{0} of {1} ({2}%)", ("more than half", "less than half", "exactly half"), True,
          _majority, threshold=50.0, short="Majority respond\nto tacrolimus"),
    Claim("fvc_lower", "Patients who failed tacrolimus had lower FVC at tacrolimus start",
          "comparison", "FVC at tacrolimus start, responders minus failures (Hodges-Lehmann "
          "shift, Moses interval)", "% predicted", "greater", True,
          "Table 3's test of the FVC row", "",
          "Results, use of tacrolimus; Table 3, FVC row",
          ("t3.fvc.resp", "t3.fvc.nonresp", "t3.fvc.p"), "{0} vs {1}, p = {2}",
          ("lower", "higher", "the same"), True, _t3_row("fvc", "FVC"),
          short="Tacrolimus failures:\nlower FVC"),
    Claim("tlc_lower", "Patients who failed tacrolimus had lower TLC at tacrolimus start",
          "comparison", "TLC at tacrolimus start, responders minus failures (Hodges-Lehmann "
          "shift, Moses interval)", "% predicted", "greater", True,
          "Table 3's test of the TLC row", "",
          "Results, use of tacrolimus; Table 3, TLC row",
          ("t3.tlc.resp", "t3.tlc.nonresp", "t3.tlc.p"), "{0} vs {1}, p = {2}",
          ("lower", "higher", "the same"), True, _t3_row("tlc", "TLC"),
          short="Tacrolimus failures:\nlower TLC"),
    Claim("jo1", "Anti-Jo1-positive patients responded to tacrolimus more often than the "
          "others (all 6 did; a trend, not significant)", "comparison",
          "share anti-Jo1-positive, tacrolimus responders minus failures (Newcombe interval)",
          "percentage points", "greater", False, "Table 3's test of the anti-Jo1 row", "",
          "Results, use of tacrolimus; Discussion; Table 3, anti-Jo1 row",
          ("text.t3.jo1.resp", "t3.jo1.nonresp", "text.t3.jo1.p"),
          "{0} responders, {1} failures, p = {2}", _GROUPS_WORDS, True, _jo1,
          short="Anti-Jo1: respond more\nto tacrolimus"),
    Claim("prednisone_m3_6", "The prednisone dose fell by 3–6 months after tacrolimus start",
          "comparison", "mean paired change of the daily prednisone dose (t interval)", "mg",
          "less", True, "paired Student t test", "",
          "Abstract; Results, change in the doses", (
              "abstract.dose.tac.prednisone.m3_6.pct_change",
              "abstract.dose.tac.prednisone.m3_6.p"),
          "{0}% decrease, p = {1}", _FELL, False, _taper("prednisone", "m3_6"),
          short="Prednisone falls\nby 3–6 months"),
    Claim("prednisone_y1", "The prednisone dose fell by 1 year after tacrolimus start",
          "comparison", "mean paired change of the daily prednisone dose (t interval)", "mg",
          "less", True, "paired Student t test", "",
          "Abstract; Results, change in the doses",
          ("abstract.dose.tac.prednisone.y1.pct_change", "abstract.dose.tac.prednisone.y1.p"),
          "{0}% decrease, p {1}", _FELL, False, _taper("prednisone", "y1"),
          short="Prednisone falls\nby 1 year"),
    Claim("aza_y1", "The azathioprine dose fell by 1 year after tacrolimus start",
          "comparison", "mean paired change of the daily azathioprine dose (t interval)", "mg",
          "less", True, "paired Student t test", "",
          "Results, change in the doses; Discussion",
          ("text.dose.tac.aza.y1.pct_change", "text.dose.tac.aza.y1.p"),
          "{0}% decrease, p = {1}", _FELL, False, _taper("aza", "y1"),
          short="Azathioprine falls\nby 1 year"),
)

BY_ID: Mapping[str, Claim] = {claim.id: claim for claim in CLAIMS}


# --------------------------------------------------------------------------- judgement
def measure(claim: Claim, numbers: Numbers, tests: Mapping[str, str] | None = None,
            alpha: float = 0.05) -> Measure:
    """What ``numbers`` (keys of ``results.json``) say about ``claim``."""
    return claim.reads(numbers, tests or {}, alpha)


def judge(claim: Claim, m: Measure, alpha: float) -> str:
    """The one verdict of a claim on a run's measure (the rule of the module docstring).

    >>> c = BY_ID["fvc_lower"]
    >>> judge(c, Measure(21.0, 8.0, 33.0, 0.01), 0.05), judge(c, Measure(21.0, -1, 33, 0.2), 0.05)
    ('holds', 'direction only')
    >>> judge(c, Measure(-3.0, -9.0, 2.0, 0.4), 0.05), judge(c, Measure(), 0.05)
    ('reversed', 'not computable')
    >>> t = BY_ID["tac_majority"]
    >>> judge(t, Measure(72.2, 46.5, 90.3, 0.096), 0.05), judge(t, Measure(80, 60, 95, .01), .05)
    ('not established', 'established')
    """
    if math.isnan(m.estimate):
        return "not computable"
    if claim.kind == "absence":
        return "holds" if m.estimate == 0 else "does not hold"
    sign = 1.0 if claim.direction == "greater" else -1.0
    side = sign * (m.estimate - claim.threshold)
    if claim.kind == "descriptive":
        if side <= 0:
            return "reversed"
        bound = m.low if sign > 0 else m.high
        inside = not math.isnan(bound) and sign * (bound - claim.threshold) > 0
        return "established" if inside else "not established"
    if side == 0:
        return "no difference"
    if side < 0:
        return "reversed"
    if claim.significant and not (m.p < alpha):
        return "direction only"
    return "holds"


def direction_word(claim: Claim, m: Measure) -> str:
    """The data's direction in the claim's words ("more often than", "fell", ...), or "" when
    the estimate cannot be computed."""
    if math.isnan(m.estimate) or not any(claim.words):
        return ""
    value = m.estimate - claim.threshold
    return claim.words[0] if value > 0 else claim.words[1] if value < 0 else claim.words[2]


def printed_text(claim: Claim, published: Any) -> str:
    """The claim's numbers as the paper prints them, read from ``numbers.csv`` by id."""
    if not claim.printed:
        return claim.paper_format
    printed = published.set_index("id")["printed"]
    try:
        values = [str(printed.loc[i]) for i in claim.printed]
        values = [f"< {v[1:]}" if v.startswith("<") else v for v in values]  # "p < 0.001"
    except KeyError as err:  # a renamed id must fail loudly, not print a stale text
        raise KeyError(f"claim {claim.id!r}: id {err.args[0]!r} is not in numbers.csv") from None
    return claim.paper_format.format(*values)


def claims_table(numbers: Numbers, alpha: float, tests: Mapping[str, str] | None = None,
                 published: Any = None, claims: tuple[Claim, ...] = CLAIMS) -> Any:
    """One row per claim: what ``tables/claims.csv`` holds.

    Parameters
    ----------
    numbers : a run's computed numbers (``results.json``'s ``numbers``) or one definition's
        numbers from the sensitivity grid.
    alpha : the run's significance level.
    tests : the test of each Table 2-3 row (``"t2.sex"`` -> ``"fisher_one_sided"``).
    published : ``numbers.csv`` (:func:`analysis.published.load_published`) for the
        ``paper`` column; omitted: the column is left empty.

    Returns
    -------
    DataFrame with columns ``id``, ``label``, ``kind``, ``quantity``, ``unit``, ``estimate``,
    ``low``, ``high`` (95% interval), ``p``, ``test``, ``paper_test_p`` (the paper's own
    test where the verdict uses another), ``direction`` (the data's direction word),
    ``detail`` (the numbers in words), ``verdict``, ``paper`` (as printed), ``where``.
    """
    import pandas as pd

    rows = []
    for claim in claims:
        m = measure(claim, numbers, tests, alpha)
        rows.append({"id": claim.id, "label": claim.label, "kind": claim.kind,
                     "quantity": claim.quantity, "unit": claim.unit,
                     "estimate": m.estimate, "low": m.low, "high": m.high, "p": m.p,
                     "test": m.test, "paper_test_p": m.paper_test_p,
                     "direction": direction_word(claim, m), "detail": m.detail,
                     "verdict": judge(claim, m, alpha),
                     "paper": printed_text(claim, published) if published is not None else "",
                     "where": claim.where})
    return pd.DataFrame(rows)
