"""Selection rules for the categorical test, scored by the printed p-values they reproduce.

Sharma 2017, Statistical analysis ("Pearson chi-square test and Fisher's exact test when n was
small (< 5)"); the scores on the paper's printed counts are in :mod:`analysis.audit`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analysis.audit.evidence import TEST_COLUMNS, categorical_evidence
from analysis.errors import ParameterError
from analysis.printed import decimals_of, reproduces
from analysis.stats import select_categorical_test

__all__ = ["best_rule", "candidate_rules", "evidence_table", "rule_scores"]

_DOCUMENTED = {"rule": "expected", "threshold": 5, "fisher_sided": "two-sided", "correction": False}


def candidate_rules() -> list[dict[str, Any]]:
    """The selection rules scored by :func:`rule_scores`, in tie-break preference order.

    Rules: "expected" and "observed" with thresholds 5, 4, 3, 2, 1, then "never" and
    "always"; each with two- then one-sided Fisher, and without then with Yates. The
    documented reading (Fisher when an expected count < 5, two-sided, no correction) comes
    first, so it wins every tie it is part of.

    Returns
    -------
    list of dict
        Keys ``rule``, ``threshold`` (``None`` for never/always), ``fisher_sided``,
        ``correction``.

    Examples
    --------
    >>> rules = candidate_rules()
    >>> len(rules), rules[0]
    (48, {'rule': 'expected', 'threshold': 5, 'fisher_sided': 'two-sided', 'correction': False})
    """
    bases: list[tuple[str, int | None]] = [("expected", t) for t in (5, 4, 3, 2, 1)]
    bases += [("observed", t) for t in (5, 4, 3, 2, 1)]
    bases += [("never", None), ("always", None)]
    out = []
    for rule, threshold in bases:
        for correction in (False, True):
            for sided in ("two-sided", "one-sided"):
                out.append(
                    {
                        "rule": rule,
                        "threshold": threshold,
                        "fisher_sided": sided,
                        "correction": correction,
                    }
                )
    return out


def _chosen(evidence_row: pd.Series, spec: Mapping[str, Any]) -> tuple[str, float]:
    threshold = spec.get("threshold")
    test = select_categorical_test(
        evidence_row["counts"],
        rule=spec["rule"],
        threshold=5 if threshold is None else threshold,
        fisher_sided=spec["fisher_sided"],
        correction=bool(spec["correction"]),
    )
    p = math.nan if test == "not_testable" else float(evidence_row[TEST_COLUMNS[test]])
    return test, p


def _is_numeric_printed(printed: object) -> bool:
    return decimals_of(printed) is not None


def rule_scores(
    evidence: pd.DataFrame, rules: Iterable[Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """Score selection rules by how many printed numeric p-values they reproduce.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`.
    rules : iterable of dict, optional
        Rules to score (keys as in :func:`candidate_rules`); default all candidates.

    Returns
    -------
    pandas.DataFrame
        One row per rule, best first (score descending, then the candidate order of
        :func:`candidate_rules`), columns ``rule``, ``threshold``, ``fisher_sided``,
        ``correction``, ``score`` (reproduced printed numeric p-values), ``n`` (printed
        numeric p-values), ``missed`` (comma list of "table.variable" not reproduced).

    Notes
    -----
    Rows printed "N/A" are not scored (every rule leaves an untestable table untested).
    """
    specs = list(candidate_rules() if rules is None else rules)
    scored = evidence[[_is_numeric_printed(p) for p in evidence["printed_p"]]]
    out = []
    for rank, spec in enumerate(specs):
        missed = []
        for _, row in scored.iterrows():
            _, p = _chosen(row, spec)
            if not reproduces(p, row["printed_p"]):
                missed.append(f"{row['table']}.{row['variable']}")
        out.append(
            {
                "rule": spec["rule"],
                "threshold": spec.get("threshold"),
                "fisher_sided": spec["fisher_sided"],
                "correction": bool(spec["correction"]),
                "score": len(scored) - len(missed),
                "n": len(scored),
                "missed": ", ".join(missed),
                "_rank": rank,
            }
        )
    frame = pd.DataFrame(out)
    frame = frame.sort_values(["score", "_rank"], ascending=[False, True], kind="stable")
    frame["threshold"] = frame["threshold"].astype("Int64")
    return frame.drop(columns="_rank").reset_index(drop=True)


def best_rule(evidence: pd.DataFrame) -> dict[str, Any]:
    """The candidate selection rule that reproduces the most printed categorical p-values.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`.

    Returns
    -------
    dict
        ``rule``, ``threshold`` (int or None), ``fisher_sided``, ``correction`` (the
        arguments of :func:`analysis.stats.choose_categorical_test`), ``score`` and ``n``
        (x of N printed numeric p-values reproduced), ``missed`` (list of "table.variable"),
        ``tied`` (how many other candidates reach the same score) and ``documented`` (whether
        it is the plain documented reading, expected < 5, two-sided Fisher, no Yates).

    Notes
    -----
    Ties go to the earlier rule of :func:`candidate_rules`: the documented "Fisher when an
    expected count < 5", no Yates correction (Stata never applies it), two-sided Fisher,
    then thresholds closer to 5. On the paper's printed counts the best rule is
    expected < 5 with one-sided Fisher, 28 of 31 (module docstring).
    """
    scores = rule_scores(evidence)
    top = scores.iloc[0]
    threshold = None if pd.isna(top["threshold"]) else int(top["threshold"])
    spec = {
        "rule": str(top["rule"]),
        "threshold": threshold,
        "fisher_sided": str(top["fisher_sided"]),
        "correction": bool(top["correction"]),
    }
    return {
        **spec,
        "score": int(top["score"]),
        "n": int(top["n"]),
        "missed": [m for m in str(top["missed"]).split(", ") if m],
        "tied": int((scores["score"] == top["score"]).sum()) - 1,
        "documented": spec == _DOCUMENTED,
    }


def _rule_spec(rule: object, evidence: pd.DataFrame) -> dict[str, Any]:
    """A selection rule as a dict, from a dict, an ``analysis.params.Params`` or None (best)."""
    if rule is None:
        best = best_rule(evidence)
        return {k: best[k] for k in ("rule", "threshold", "fisher_sided", "correction")}
    if isinstance(rule, Mapping):
        missing = {"rule", "fisher_sided", "correction"} - set(rule)
        if missing:
            raise ParameterError(
                f"a selection rule needs the keys rule, threshold, fisher_sided, correction; "
                f"missing {', '.join(sorted(missing))}"
            )
        return {
            "rule": rule["rule"],
            "threshold": rule.get("threshold"),
            "fisher_sided": rule["fisher_sided"],
            "correction": bool(rule["correction"]),
        }
    try:
        return {
            "rule": rule.fisher_rule,
            "threshold": rule.fisher_threshold,
            "fisher_sided": rule.fisher_sided,
            "correction": bool(rule.chi2_correction),
        }
    except AttributeError as exc:
        raise ParameterError(
            "rule must be a dict (rule, threshold, fisher_sided, correction), a Params with "
            f"fisher_rule, fisher_threshold, fisher_sided, chi2_correction, or None; got {rule!r}"
        ) from exc


def evidence_table(evidence: pd.DataFrame, rule: object = None,
                   group_sizes: Mapping[str, tuple[int, int]] | None = None) -> pd.DataFrame:
    """Tidy methods-audit table: each printed p, every candidate test, and the rule's choice.

    Parameters
    ----------
    evidence : pandas.DataFrame
        Output of :func:`categorical_evidence`, or its input (a counts frame as from
        :func:`printed_counts`), which is then passed through it first.
    rule : dict or analysis.params.Params, optional
        Selection rule: a dict with keys ``rule``, ``threshold``, ``fisher_sided``,
        ``correction``, or a ``Params`` (fields ``fisher_rule``, ``fisher_threshold``,
        ``fisher_sided``, ``chi2_correction``); default :func:`best_rule` of ``evidence``.
    group_sizes : mapping of str to (int, int), optional
        Passed to :func:`categorical_evidence` when ``evidence`` is a counts frame.

    Returns
    -------
    pandas.DataFrame
        One row per printed row, columns ``table``, ``variable``, ``printed_p``,
        ``p_chi2``, ``p_yates``, ``p_fisher_two``, ``p_fisher_one``, ``matches`` (comma
        list of test ids), ``chosen_test`` (test id the rule applies), ``chosen_p``,
        ``reproduced`` (bool: chosen_p rounds to printed_p), ``two_sided_p`` (the same rule
        with two-sided Fisher: the recommended value to report beside the paper's).

    Notes
    -----
    Sharma 2017, Statistical analysis; Tables 2 and 3 (methods-audit appendix of the
    report).

    Examples
    --------
    >>> counts = pd.DataFrame({"table": ["t3"], "variable": ["jo1"], "level": [None],
    ...                        "resp": [6], "nonresp": [0], "printed_p": ["0.09"]})
    >>> row = evidence_table(counts).iloc[0]
    >>> row["chosen_test"], round(float(row["chosen_p"]), 4), round(float(row["two_sided_p"]), 4)
    ('fisher_one_sided', 0.0924, 0.1141)
    """
    if "counts" not in evidence.columns and {"resp", "nonresp"} <= set(evidence.columns):
        evidence = categorical_evidence(evidence, group_sizes)
    spec = _rule_spec(rule, evidence)
    two_sided = {**spec, "fisher_sided": "two-sided"}
    # Rows where the run declares its own test (Params.categorical_tests) keep that test.
    declared = getattr(rule, "categorical_tests", {}) or {}
    rows = []
    for _, row in evidence.iterrows():
        test, p = _chosen(row, spec)
        _, p_two = _chosen(row, two_sided)
        own = declared.get(f"{row['table']}.{row['variable']}", "rule")
        if own != "rule":
            test, p = own, row[TEST_COLUMNS[own]]
        rows.append(
            {
                "table": row["table"],
                "variable": row["variable"],
                "printed_p": row["printed_p"],
                "p_chi2": row["p_chi2"],
                "p_yates": row["p_yates"],
                "p_fisher_two": row["p_fisher_two"],
                "p_fisher_one": row["p_fisher_one"],
                "matches": row["matches"],
                "chosen_test": test,
                "chosen_p": p,
                "reproduced": reproduces(p, row["printed_p"]),
                "two_sided_p": p_two,
            }
        )
    return pd.DataFrame(rows, columns=list(_TABLE_COLUMNS))


#: Columns of :func:`evidence_table`.
_TABLE_COLUMNS = ("table", "variable", "printed_p", "p_chi2", "p_yates", "p_fisher_two",
                  "p_fisher_one", "matches", "chosen_test", "chosen_p", "reproduced",
                  "two_sided_p")
