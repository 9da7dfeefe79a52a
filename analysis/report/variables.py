"""The variables file for Quarto: the numbers and words the report's prose shows.

``report.qmd`` computes nothing; its prose reads ``_variables.yml`` through Quarto's
``{{< var ... >}}`` shortcode. Every value is computed by the run; nothing here is typed from
the paper. p-values are whole clauses (``p = 0.013``, ``p < 0.001``) from
:func:`analysis.format.p_clause`, so the report never prints "p = <0.001".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.files import write_atomic
from analysis.format import format_number, not_computable, p_clause
from analysis.params import Params
from analysis.report.spans import keyed
from analysis.stats import TEST_LABELS

__all__ = ["param_variable_names", "report_variables", "dose_variables", "write_variables",
           "group_note"]

_FISHER_RULE = {"expected": "an expected cell count is below",
                "observed": "an observed cell count is below",
                "always": "always (threshold ignored):",
                "never": "never (threshold ignored):"}


#: How the Methods paragraph words a missing-data rule (analysis.params: ck_missing_*,
#: pft_missing).
_MISSING = {"refractory": "meets the CK criterion (CK refractory)",
            "not_met": "meets no criterion", "met": "meets its decline criterion"}


#: How the Methods paragraph words the missing-visit rule (analysis.params: missing_visit).
_MISSING_VISIT = {"failed": "is counted as failing the treatment",
                  "excluded": "is left out of the response split as not assessable"}


def _param_variables(p: Params) -> dict[str, str]:
    """The Methods' parameters in words, each keyed with its variable's path (``params.fvc``,
    issue 28: a reader can ask any number of the prose where it comes from)."""
    scale = "relative" if p.decline_scale == "relative" else "absolute (percentage points)"
    return {name: keyed(text, f"params.{name}") for name, text in {
        "min_age": str(p.min_age), "ck_uln": f"{p.ck_uln:g}",
        "ck_fall": f"{100 * p.ck_fall:g}", "fvc": f"{100 * p.fvc_decline:g}",
        "tlc": f"{100 * p.tlc_decline:g}", "dlco": f"{100 * p.dlco_decline:g}",
        "scale": scale, "ild_required": str(p.ild_criteria_required),
        "symptoms": "counts" if p.count_symptoms else "does not count",
        "conv_followup": p.conventional_followup.replace("month", "") + " months",
        "tac_followup": p.tacrolimus_followup.replace("tac_month", "") + " months",
        "fisher_rule": _FISHER_RULE[p.fisher_rule],
        "fisher_threshold": f"{p.fisher_threshold:g}", "fisher_sided": p.fisher_sided,
        "alpha": f"{p.alpha:g}",
        "age_rule": "at least" if p.age_rule == ">=" else "older than",
        "ck_missing_baseline": _MISSING[p.ck_missing_baseline],
        "ck_missing_followup": _MISSING[p.ck_missing_followup],
        "pft_missing": _MISSING[p.pft_missing],
        "missing_visit": _MISSING_VISIT[p.missing_visit],
    }.items()}


def param_variable_names(p: Params) -> tuple[str, ...]:
    """The names of the Methods' parameter variables (``params.<name>`` of ``_variables.yml``),
    for the cards that explain them (:mod:`analysis.report.provenance`)."""
    return tuple(_param_variables(p))


def _repro_variables(comparison: pd.DataFrame) -> dict[str, str]:
    from analysis.published import summary_line

    status = comparison["status"].value_counts()
    return {
        "summary": summary_line(comparison), "total": str(len(comparison)),
        "match": str(int(status.get("match", 0))),
        "inconsistent": str(int(status.get("inconsistent", 0))),
        "mismatch": str(int(status.get("mismatch", 0))),
        "not_computed": str(int(status.get("not-computed", 0))),
    }


def report_variables(results: dict[str, Any], comparison: pd.DataFrame, params: Params,
                     run_name: str, tests: Mapping[str, str] | None = None,
                     claims: pd.DataFrame | None = None) -> dict[str, Any]:
    """The prose variables as a nested mapping of strings (Results, Sharma 2017).

    ``tests`` maps a table row (``"t2.myositis"``) to the test this run used for it
    (:func:`analysis.report.inputs.row_tests`), so that each comparison in the prose names its
    test; a row without one reads "test not recorded". ``claims`` is the run's
    ``tables/claims.csv``: the sentences that state a direction (``prose.*``,
    :mod:`analysis.report.prose`) take their words from it.
    """
    from analysis.paper.claims import RULES_TEXT
    from analysis.report.prose import prose_variables

    r = results.get
    tests = tests or {}

    def test(row: str) -> str:
        return TEST_LABELS.get(tests.get(row, ""), "test not recorded")

    def n(*keys: str) -> int:
        return int(sum(r(key) or 0 for key in keys))

    # Each number carries its key (issue 28): [57]{data-key="conv.response.pct"}.
    def pct(key: str, *n_keys: str) -> str:
        # A percentage of no patient is "not computable (n = 0)" (issue 13), never N/A.
        return keyed(format_number(r(key), 0, missing=not_computable(n(*n_keys))), key)

    def mean(key: str, n_key: str) -> str:
        return keyed(format_number(r(key), 1, missing=not_computable(n(n_key))), key)

    def count(key: str) -> str:
        return keyed(format_number(r(key), 0), key)

    def p(key: str, group_a: tuple[str, ...], group_b: tuple[str, ...], need: int = 1) -> str:
        missing = r(key) is None or pd.isna(r(key))
        return keyed(f"p {not_computable(n(*group_a), n(*group_b), need=need)}" if missing
                     else p_clause(r(key)), key)

    conv = (("flow.conv_responders",), ("flow.conv_failures",))
    pm = ("t2.myositis.pm.resp", "t2.myositis.pm.nonresp")
    dm = ("t2.myositis.dm.resp", "t2.myositis.dm.nonresp")
    analysed = "flow.tac_analysed"
    return {
        "run": {"name": run_name, "is_paper": str(run_name == "paper").lower()},
        "params": _param_variables(params),
        "flow": {k.split(".", 1)[1].replace(".", "_"): keyed(format_number(v, 0), k)
                 for k, v in results.items() if k.startswith("flow.")},
        "conv": {
            "response_pct": pct("conv.response.pct", "flow.included"),
            "pm_pct": pct("conv.pm.response_pct", *pm),
            "dm_pct": pct("conv.dm.response_pct", *dm),
            "pm_dm_p": p("t2.myositis.p", *conv), "myositis_test": test("t2.myositis"),
            "pm_dm_2x2_p": p("conv.pm_vs_dm.p_2x2", pm, dm),
            "pm_dm_2x2_test": TEST_LABELS["fisher_two_sided"],
            "female_pct": pct("conv.female.response_pct", "t2.sex.female.resp",
                              "t2.sex.female.nonresp"),
            "male_pct": pct("conv.male.response_pct", "t2.sex.male.resp", "t2.sex.male.nonresp"),
            "sex_p": p("t2.sex.p", *conv), "sex_test": test("t2.sex"),
        },
        "tac": {
            "myositis_n": count("tac.myositis_improved.n"),
            "myositis_pct": pct("tac.myositis_improved.pct", analysed),
            "ild_n": count("tac.ild_improved.n"),
            "ild_pct": pct("tac.ild_improved.pct", analysed),
            "both_n": count("tac.both_improved.n"),
            "both_pct": pct("tac.both_improved.pct", analysed),
            "hospitalised": count("tac.hospitalised.n"),
            "fvc_resp": mean("t3.fvc.resp", "t3.fvc.n_resp"),
            "fvc_nonresp": mean("t3.fvc.nonresp", "t3.fvc.n_nonresp"),
            "fvc_p": p("t3.fvc.p", ("t3.fvc.n_resp",), ("t3.fvc.n_nonresp",), need=2),
            "tlc_resp": mean("t3.tlc.resp", "t3.tlc.n_resp"),
            "tlc_nonresp": mean("t3.tlc.nonresp", "t3.tlc.n_nonresp"),
            "tlc_p": p("t3.tlc.p", ("t3.tlc.n_resp",), ("t3.tlc.n_nonresp",), need=2),
            "fvc_test": test("t3.fvc"), "tlc_test": test("t3.tlc"),
        },
        "dose": dose_variables(results),
        "repro": _repro_variables(comparison),
        "prose": prose_variables(results, claims, tests),
        "claims": {"rules": RULES_TEXT},
    }


def dose_variables(results: dict[str, Any]) -> dict[str, str]:
    """The dose numbers of the prose (``dose.<cohort>.<drug>.<timepoint>.<stat>`` keys, dots
    as underscores): p-values as clauses, percent changes and counts whole, doses at 0.1 mg.

    Every summary with an n has its mean and SD, and after the first time point its percent
    change and p, even when its group is too small for them: "not computable (n = 0)" (issue
    13: the prose never names a variable that may be missing).
    """
    from analysis.doses import COHORTS, TIMEPOINTS

    out: dict[str, str] = {}
    for key, value in results.items():
        if not key.startswith("dose.") or value is None:
            continue
        name = key[len("dose."):].replace(".", "_")
        if key.endswith((".p", ".p_between")):
            out[name] = keyed(p_clause(value), key)
        elif key.endswith((".pct_change", ".n", ".discontinued", ".started", "modal_n")):
            out[name] = keyed(format_number(value, 0), key)
        else:
            out[name] = keyed(format_number(value, 1), key)
    for key, value in results.items():
        parts = key.split(".")  # dose, cohort, drug, time point, n
        if len(parts) != 5 or parts[0] != "dose" or parts[4] != "n" or parts[1] not in COHORTS:
            continue
        first = next(iter(TIMEPOINTS[COHORTS[parts[1]][0]]))
        stats = ("mean", "sd") if parts[3] == first else ("mean", "sd", "pct_change", "p")
        for stat in stats:
            text = not_computable(int(value or 0))
            out.setdefault("_".join(parts[1:4] + [stat]),
                           keyed(f"p {text}" if stat == "p" else text, key))
    return out


#: The comparison groups of the report: flow key, who they are, what rests on them.
_GROUPS = (
    ("flow.conv_responders", "responded to conventional treatment",
     "Table 2's responder column and the conventional response percentages"),
    ("flow.conv_failures", "failed conventional treatment",
     "Table 2's nonresponder column, its tests and the failures' dose taper"),
    ("flow.tac_analysed", "was analysed for tacrolimus",
     "Table 3, the tacrolimus percentages and the tacrolimus dose tapers"),
    ("flow.tac_responders", "responded to tacrolimus", "Table 3's responder column"),
    ("flow.tac_failures", "failed tacrolimus", "Table 3's nonresponder column"),
)


def group_note(numbers: Mapping[str, Any]) -> str:
    """A paragraph naming each comparison group of this run with no patient or one (issue 13:
    an empty or one-patient group is stated in the report); "" when every group has two or
    more, as in the paper's run. A test needs one patient per group for counts and two for
    means; below that the tables say "not computable" with the n.

    >>> print(group_note({"flow.conv_responders": 31, "flow.conv_failures": 1,
    ...       "flow.tac_analysed": 0, "flow.tac_responders": 0, "flow.tac_failures": 0}))
    ... # doctest: +ELLIPSIS
    **Small groups in this run.** Only one patient failed conventional treatment (n = 1): ...
    """
    sentences = []
    for key, who, what in _GROUPS:
        n = int(numbers.get(key) or 0)
        if key.startswith("flow.tac_") and key != "flow.tac_analysed" and not numbers.get(
                "flow.tac_analysed"):
            continue  # said once, for the analysed group
        if n == 0:
            sentences.append(f"No patient {who} (n = 0): {what} are not computable.")
        elif n == 1:
            sentences.append(f"Only one patient {who} (n = 1): {what} rest on one patient, "
                             "and tests of means (two per group) are not computable.")
    if not sentences:
        return ""
    return "**Small groups in this run.** " + " ".join(sentences) + "\n"


def write_variables(run_dir: Path, variables: dict[str, Any]) -> Path:
    """Write ``_variables.yml`` (keys in insertion order, UTF-8 text kept as is)."""
    import yaml

    return write_atomic(Path(run_dir) / "_variables.yml",
                        yaml.safe_dump(variables, sort_keys=False, allow_unicode=True))
