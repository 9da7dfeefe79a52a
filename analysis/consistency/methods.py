"""The tests the Methods name, checked against the data they are applied to.

Sharma 2017, Materials and Methods, Statistical analysis: "Continuous variables ... were
compared using a paired Student t test for normally distributed values. Mann-Whitney
2-samples rank-sum test was used for nonparametric interval variables. Categorical variables
... compared using the Pearson chi-square test and Fisher's exact test when n was small (< 5)."

* :func:`paired_design`: a paired test needs each patient's two values; two columns of
  different patients (Tables 2 and 3) are not pairs, and unequal printed group sizes prove it.
* :func:`declared_categorical_test`: which test the Methods' rule names for a table, two-sided
  (no one-sided test is declared; Stata's ``tabulate ..., exact`` prints the two-sided
  "Fisher's exact" line first), against the tests that give the printed p
  (:func:`analysis.consistency.contingency.table_tests`, Appendix B's audit): a printed p that
  only a one-sided test gives, or only a test the rule does not name for that table.
* :func:`declared_continuous_test`: a between-group p of continuous values against the two
  tests the Methods name for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.consistency.contingency import table_tests
from analysis.consistency.core import (
    CONSISTENT,
    INCONSISTENT,
    Verdict,
    fmt,
    in_interval,
    make_verdict,
    with_assumptions,
)
from analysis.consistency.pvalues import mann_whitney_u_range
from analysis.printed import Printed

__all__ = ["METHODS_RULE", "declared_categorical_test", "declared_continuous_test",
           "paired_design", "prescribed_tests"]

#: The categorical test rule as the Methods state it, as a verdict's condition names it.
METHODS_RULE = ("the tests as the Methods name them: Fisher's exact when a count is below 5 "
                "(observed or expected), else Pearson chi-square, two-sided (no one-sided test "
                "is declared)")


def paired_design(sizes: tuple[int, int], same_patients: bool, what: str) -> Verdict:
    """Can the Methods' paired t test have compared these two columns?

    A paired test takes each patient's two values, so both columns hold the same patients and
    as many values. Two columns of different patients (responders and nonresponders) are not
    pairs; with unequal printed sizes that is proven by the printed numbers alone.

    Parameters
    ----------
    sizes : (int, int)
        The printed sizes of the two columns.
    same_patients : bool
        Whether the paper describes the two columns as the same patients (a dose before and
        after) rather than two groups.
    what : str
        The data, in words.

    Examples
    --------
    >>> paired_design((31, 23), False, "Table 2").verdict
    'inconsistent'
    """
    ok = same_patients and sizes[0] == sizes[1]
    why = ("the same patients at two times: a paired test applies" if ok else
           f"two groups of different patients ({sizes[0]} and {sizes[1]}"
           + (", unequal" if sizes[0] != sizes[1] else "") + "): nothing to pair")
    return make_verdict(
        "paired_design", CONSISTENT if ok else INCONSISTENT,
        "a paired Student t test for {what}: {why}: {verdict}",
        what=what, why=why, sizes=tuple(sizes), same_patients=bool(same_patients))


def _label(test: str, levels: int) -> str:
    """A test as a sentence names it (two-sided unless it says otherwise)."""
    return {"pearson": "Pearson chi-square", "yates": "chi-square with Yates correction",
            "lr": "likelihood-ratio chi-square",
            "fisher": ("Fisher's exact (Freeman-Halton), two-sided" if levels > 2
                       else "Fisher's exact, two-sided"),
            "fisher_one_sided": "Fisher's exact, one-sided"}[test]


def _expected_min(table: np.ndarray) -> float:
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    return float((np.outer(rows, cols) / table.sum()).min())


def prescribed_tests(table: Sequence[Sequence[int]],
                     threshold: float = 5.0) -> dict[str, str]:
    """The test the Methods' rule names for a table, under each reading of "n was small
    (< 5)": ``{"observed": test, "expected": test}`` (test ids of
    :data:`~analysis.consistency.contingency.TESTS`: ``"fisher"`` or ``"pearson"``); empty
    levels dropped, as Stata does.

    >>> prescribed_tests([[6, 10], [25, 13]])
    {'observed': 'pearson', 'expected': 'pearson'}
    >>> prescribed_tests([[14, 12], [13, 9], [4, 0], [0, 2]])
    {'observed': 'fisher', 'expected': 'fisher'}
    """
    arr = np.asarray(table, dtype=float)
    arr = arr[arr.sum(axis=1) > 0]
    return {"observed": "fisher" if arr.min() < threshold else "pearson",
            "expected": "fisher" if _expected_min(arr) < threshold else "pearson"}


def declared_categorical_test(table: Sequence[Sequence[int]], p: Printed) -> Verdict:
    """Does the test the Methods name for this table give the printed p?

    The rule is read both ways ("n": an observed or an expected count); its test is taken
    two-sided. When neither reading's test gives the printed p, the verdict is
    ``inconsistent`` under the assumption :data:`METHODS_RULE` (the printed p is possible with
    another test: the evidence names which, e.g. the undeclared one-sided Fisher test).

    Returns
    -------
    Verdict
        Evidence: ``prescribed`` (reading -> test), ``p_by_test``, ``tests_fitting``,
        ``finding`` ("" when the named test fits; "one-sided" when only the one-sided Fisher
        test gives it; "another test" when a two-sided test the rule does not name for this
        table does; "no test" when none does), ``expected_min``, ``observed_min``.

    Examples
    --------
    Table 3 anti-Jo1, 6/0 of 13/5: two-sided Fisher 0.114, one-sided 0.092 (printed 0.09).

    >>> v = declared_categorical_test([[6, 0], [7, 5]], Printed(0.09, 2))
    >>> v.klass, v.evidence["finding"]
    ('impossible under an assumption', 'one-sided')
    """
    arr = np.asarray(table, dtype=np.int64)
    arr = arr[arr.sum(axis=1) > 0]
    tests = table_tests(arr)
    prescribed = prescribed_tests(arr)
    named = set(prescribed.values())
    fitting = tuple(k for k, v in tests.items() if in_interval(v, p.lo, p.hi))
    ok = bool(named & set(fitting))
    if ok:
        finding = ""
    elif not fitting:
        finding = "no test"
    elif set(fitting) <= {"fisher_one_sided"}:
        finding = "one-sided"
    else:
        finding = "another test"
    levels = len(arr)
    rule_txt = (_label(prescribed["observed"], levels) + " (observed and expected counts)"
                if len(named) == 1 else
                " or ".join(f"{_label(t, levels)} ({reading} counts)"
                            for reading, t in prescribed.items()))
    named_txt = "; ".join(f"{_label(t, levels)} {fmt(tests[t], 4)}" for t in sorted(named)
                          if t in tests)
    fit_txt = ", ".join(_label(k, levels) for k in fitting) or "no test"
    v = make_verdict(
        "declared_test", CONSISTENT if ok else INCONSISTENT,
        "table {tab}, printed p = {printed} [{lo}, {hi}]: smallest count {omin}, smallest "
        "expected count {emin}; the Methods' rule names {rule_txt}, which gives {named_txt}; "
        "the printed p is given by {fit_txt}{finding_txt}: {verdict}",
        tab=[list(map(int, r)) for r in arr], printed=str(p), lo=p.lo, hi=p.hi,
        omin=int(arr.min()), emin=fmt(_expected_min(arr.astype(float)), 3),
        observed_min=int(arr.min()), expected_min=_expected_min(arr.astype(float)),
        prescribed=prescribed, p_by_test=tests, tests_fitting=fitting, finding=finding,
        rule_txt=rule_txt, named_txt=named_txt, fit_txt=fit_txt,
        finding_txt={"": "", "no test": "",
                     "one-sided": " only: a one-sided test the Methods do not declare",
                     "another test": " only: a test the Methods' rule does not name for this "
                                     "table"}[finding],
    )
    return v if ok or finding == "no test" else with_assumptions(v, METHODS_RULE)


def declared_continuous_test(sizes: tuple[int, int], p: Printed, what: str) -> Verdict:
    """Can a test the Methods name for continuous values give a between-group p?

    The paired t test cannot compare two groups of different patients
    (:func:`paired_design`); the Mann-Whitney test can give the printed p when some whole U
    does (:func:`~analysis.consistency.pvalues.mann_whitney_u_range`, Stata's normal
    approximation, no ties).

    Returns
    -------
    Verdict
        ``consistent`` when some U fits; evidence ``u_range``.
    """
    u = mann_whitney_u_range(p, *sizes)
    return make_verdict(
        "declared_test", CONSISTENT if u is not None else INCONSISTENT,
        "{what}, printed p = {printed}: the Methods' paired t test cannot compare {n1} and {n2} "
        "different patients; their Mann-Whitney test {u_txt}: {verdict}",
        what=what, printed=str(p), n1=sizes[0], n2=sizes[1], u_range=u,
        u_txt=(f"gives it with U in [{u[0]}, {u[1]}] of {sizes[0] * sizes[1]}" if u
               else "gives it with no U"),
    )
