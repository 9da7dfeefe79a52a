"""The variables file for Quarto: the numbers and words the report's prose shows.

``report.qmd`` computes nothing; its prose reads ``_variables.yml`` through Quarto's
``{{< var ... >}}`` shortcode. Every value is computed by the run; nothing here is typed from
the paper. p-values are whole clauses (``p = 0.013``, ``p < 0.001``) from
:func:`analysis.report.format.p_clause`, so the report never prints "p = <0.001".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.params import Params
from analysis.report.atomic import write_atomic
from analysis.report.format import format_number, p_clause
from analysis.stats import TEST_LABELS

__all__ = ["report_variables", "dose_variables", "write_variables"]

_FISHER_RULE = {"expected": "an expected cell count is below",
                "observed": "an observed cell count is below",
                "always": "always (threshold ignored):",
                "never": "never (threshold ignored):"}


#: How the Methods paragraph words a missing-data rule (analysis.params: ck_missing_*,
#: pft_missing).
_MISSING = {"refractory": "meets the CK criterion (CK refractory)",
            "not_met": "meets no criterion", "met": "meets its decline criterion"}


def _param_variables(p: Params) -> dict[str, str]:
    scale = "relative" if p.decline_scale == "relative" else "absolute (percentage points)"
    return {
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
    }


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
                     run_name: str, tests: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The prose variables as a nested mapping of strings (Results, Sharma 2017).

    ``tests`` maps a table row (``"t2.myositis"``) to the test this run used for it
    (:func:`analysis.report.inputs.row_tests`), so that each comparison in the prose names its
    test; a row without one reads "test not recorded".
    """
    r = results.get
    tests = tests or {}

    def test(row: str) -> str:
        return TEST_LABELS.get(tests.get(row, ""), "test not recorded")

    def pct(key: str) -> str:
        return format_number(r(key), 0)

    def mean(key: str) -> str:
        return format_number(r(key), 1)

    return {
        "run": {"name": run_name, "is_paper": str(run_name == "paper").lower()},
        "params": _param_variables(params),
        "flow": {k.split(".", 1)[1].replace(".", "_"): format_number(v, 0)
                 for k, v in results.items() if k.startswith("flow.")},
        "conv": {
            "response_pct": pct("conv.response.pct"),
            "pm_pct": pct("conv.pm.response_pct"), "dm_pct": pct("conv.dm.response_pct"),
            "pm_dm_p": p_clause(r("t2.myositis.p")), "myositis_test": test("t2.myositis"),
            "pm_dm_2x2_p": p_clause(r("conv.pm_vs_dm.p_2x2")),
            "pm_dm_2x2_test": TEST_LABELS["fisher_two_sided"],
            "female_pct": pct("conv.female.response_pct"),
            "male_pct": pct("conv.male.response_pct"), "sex_p": p_clause(r("t2.sex.p")),
            "sex_test": test("t2.sex"),
        },
        "tac": {
            "myositis_n": pct("tac.myositis_improved.n"),
            "myositis_pct": pct("tac.myositis_improved.pct"),
            "ild_n": pct("tac.ild_improved.n"), "ild_pct": pct("tac.ild_improved.pct"),
            "both_n": pct("tac.both_improved.n"), "both_pct": pct("tac.both_improved.pct"),
            "hospitalised": pct("tac.hospitalised.n"),
            "fvc_resp": mean("t3.fvc.resp"), "fvc_nonresp": mean("t3.fvc.nonresp"),
            "fvc_p": p_clause(r("t3.fvc.p")), "tlc_resp": mean("t3.tlc.resp"),
            "tlc_nonresp": mean("t3.tlc.nonresp"), "tlc_p": p_clause(r("t3.tlc.p")),
            "fvc_test": test("t3.fvc"), "tlc_test": test("t3.tlc"),
        },
        "dose": dose_variables(results),
        "repro": _repro_variables(comparison),
    }


def dose_variables(results: dict[str, Any]) -> dict[str, str]:
    """The dose numbers of the prose (``dose.<cohort>.<drug>.<timepoint>.<stat>`` keys, dots
    as underscores): p-values as clauses, percent changes and counts whole, doses at 0.1 mg."""
    out: dict[str, str] = {}
    for key, value in results.items():
        if not key.startswith("dose.") or value is None:
            continue
        name = key[len("dose."):].replace(".", "_")
        if key.endswith((".p", ".p_between")):
            out[name] = p_clause(value)
        elif key.endswith((".pct_change", ".n", ".discontinued", ".started", "modal_n")):
            out[name] = format_number(value, 0)
        else:
            out[name] = format_number(value, 1)
    return out


def write_variables(run_dir: Path, variables: dict[str, Any]) -> Path:
    """Write ``_variables.yml`` (keys in insertion order, UTF-8 text kept as is)."""
    import yaml

    return write_atomic(Path(run_dir) / "_variables.yml",
                        yaml.safe_dump(variables, sort_keys=False, allow_unicode=True))
