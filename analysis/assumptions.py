"""The reconstruction's assumptions: each choice the paper does not fix, and what it decides.

Sharma 2017 leaves some choices open that decide its headline counts (issue 12): how a missing
CK or PFT value counts in the response rules, the CK upper limit of normal (not printed), how
"> 18 years" is read, and, for two rows of Table 2, the test behind the printed p-value (fitted
to the printed value). Each is a parameter of :class:`analysis.params.Params` whose metadata
says so (``assumption``, ``alternatives``, ``source``); :func:`registry` collects them, plus
the combined reading "a missing value meets no criterion".

:func:`assumption_table` recomputes, for each assumption and alternative, the headline counts
(Figure 1: conventional responders and failures of the included patients, tacrolimus analysed
and responders; for a test override, the row's p-value) and compares every reproduced number
with the printed ones (``data/published`` through :mod:`analysis.published`): which printed
numbers the run's value reproduces and the alternative does not (the numbers that *force* the
assumption), and the reverse. :func:`assumption_results` flattens the table into the run's
results (keys ``assume.<name>.<alternative>.<quantity>``). Pure functions: nothing is written.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.cohort import analysis_groups, flow_table, group_basis
from analysis.consistency import verdicts
from analysis.params import FITTED_ROWS, MAPPINGS, Params
from analysis.published import compare, load_published
from analysis.response import DEFINITION_FIELDS
from analysis.results import flow_results, response_results, subgroup_results
from analysis.tables import analysis_dataset, table2, table3, table_results

__all__ = ["Assumption", "HEADLINE", "registry", "with_values", "reproduced_results",
           "assumption_table", "assumption_results"]

#: Headline counts shown under each alternative: quantity -> result key (Figure 1).
HEADLINE: dict[str, str] = {
    "included": "flow.included",
    "conv_responders": "flow.conv_responders",
    "conv_failures": "flow.conv_failures",
    "tac_analysed": "flow.tac_analysed",
    "tac_responders": "flow.tac_responders",
}


@dataclass(frozen=True)
class Assumption:
    """One choice the paper does not fix.

    Attributes
    ----------
    name : registry name: a Params field, ``<mapping field>.<row>`` for a per-row override,
        or the name of a combined reading.
    kind : what kind of assumption ("missing-data rule", "assumed laboratory ULN", "fitted to
        the printed value", "reading of the Methods").
    source : where the paper is silent or what the choice rests on.
    default : the paper-reproducing values, parameter (dotted for a row) -> value.
    alternatives : (label, values) pairs, each a complete alternative setting of ``default``'s
        parameters.
    p_key : result key of the p-value the assumption decides ("" when none).
    """

    name: str
    kind: str
    source: str
    default: Mapping[str, Any]
    alternatives: tuple[tuple[str, Mapping[str, Any]], ...]
    p_key: str = ""


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def registry() -> tuple[Assumption, ...]:
    """Every assumption, from the Params metadata (fields with an ``assumption``), the fitted
    per-row test overrides (:data:`analysis.params.FITTED_ROWS`) and the combined reading "a
    missing value meets no criterion" (issue 12: conventional 33/21, tacrolimus 15/2).

    >>> [a.name for a in registry()][:3]
    ['age_rule', 'ck_uln', 'ck_missing_baseline']
    """
    out = []
    for spec in Params.describe():
        if not spec["assumption"] or isinstance(spec["default"], dict):
            continue
        name = spec["name"]
        out.append(Assumption(name, spec["assumption"], spec["source"],
                              {name: spec["default"]},
                              tuple((_label(alt), {name: alt}) for alt in spec["alternatives"])))
    for row, source in FITTED_ROWS.items():
        field_name, _, key = row.partition(".")
        default = MAPPINGS[field_name][0][key]
        out.append(Assumption(row, "fitted to the printed value", source, {row: default},
                              (("rule", {row: "rule"}),), p_key=f"{key}.p"))
    missing = {"ck_missing_baseline": "not_met", "ck_missing_followup": "not_met",
               "pft_missing": "not_met"}
    out.append(Assumption(
        "missing_meets_no_criterion", "missing-data rule",
        "the response module's reading 'a missing measurement cannot meet a criterion', "
        "applied to CK as well (the paper says nothing on missing values)",
        {"ck_missing_baseline": "refractory", "ck_missing_followup": "refractory",
         "pft_missing": "not_met"}, (("not_met", missing),)))
    return tuple(out)


def with_values(params: Params, values: Mapping[str, Any]) -> Params:
    """``params`` with some values replaced; a dotted name sets one row of a mapping field
    (``categorical_tests.t2.race``). Validated like any Params."""
    plain: dict[str, Any] = {}
    for name, value in values.items():
        field_name, _, row = name.partition(".")
        if row:
            plain[field_name] = {**plain.get(field_name, getattr(params, field_name)),
                                 row: value}
        else:
            plain[name] = value
    return dataclasses.replace(params, **plain)


def _current(params: Params, name: str) -> Any:
    field_name, _, row = name.partition(".")
    value = getattr(params, field_name)
    return value.get(row) if row else value


#: What :func:`analysis.cohort.group_basis` reads of Params (eligibility, time points), and
#: all :func:`analysis.cohort.analysis_groups` reads (those plus the response rules);
#: :func:`analysis.tables.analysis_dataset` reads none. Alternatives equal in these fields
#: share the basis, or the groups and datasets (e.g. a test override shares both).
_BASIS_FIELDS = ("min_age", "age_rule", "conventional_followup", "tacrolimus_followup",
                 "missing_visit")
_GROUP_FIELDS = (*_BASIS_FIELDS, *DEFINITION_FIELDS)


def _datasets(patients: pd.DataFrame, assessments: pd.DataFrame, params: Params,
              basis: Mapping[str, Any] | None = None) -> tuple[pd.DataFrame, ...]:
    """The groups and the analysis datasets at the index and at tacrolimus start."""
    groups = analysis_groups(patients, assessments, params, basis=basis)
    return (groups, analysis_dataset(patients, groups, assessments, "index"),
            analysis_dataset(patients, groups, assessments, "tac_start"))


def reproduced_results(patients: pd.DataFrame, assessments: pd.DataFrame,
                       params: Params,
                       datasets: tuple[pd.DataFrame, ...] | None = None) -> dict[str, float]:
    """The reproduced numbers an assumption is judged on: Figure 1 and the response paragraphs
    (:mod:`analysis.results`), and Tables 2 and 3 (:mod:`analysis.tables`), under
    ``params``; keys as in ``data/published``. ``datasets``, optional: :func:`_datasets` under
    parameters equal to ``params`` in :data:`_GROUP_FIELDS` (read only)."""
    groups, at_index, at_tacrolimus = datasets or _datasets(patients, assessments, params)
    return {**flow_results(flow_table(groups)), **response_results(groups),
            **subgroup_results(at_index, params), **table_results(table2(at_index, params)),
            **table_results(table3(at_tacrolimus, params))}


def _matched(published: pd.DataFrame, results: Mapping[str, float],
             checks: pd.DataFrame) -> dict[str, str]:
    """Printed (not assumed) numbers reproduced at the printed precision: id -> printed
    (``checks``: :func:`analysis.consistency.verdicts` of ``published``)."""
    comparison = compare(published, results, checks)
    printed = ~comparison["source"].astype(str).str.startswith("Assumed")
    hits = comparison[printed & (comparison["key"].isin(list(results)))
                      & (comparison["status"] == "match")]
    return dict(zip(hits["id"], hits["printed"], strict=True))


def _changed(a: Mapping[str, float], b: Mapping[str, float]) -> int:
    """Reproduced numbers whose value differs (NaN equals NaN)."""
    def differ(x, y):
        return not ((math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12,
                                                                      abs_tol=1e-12))
    return sum(differ(float(a.get(k, math.nan)), float(b.get(k, math.nan)))
               for k in set(a) | set(b))


def assumption_table(patients: pd.DataFrame, assessments: pd.DataFrame,
                     params: Params | None = None,
                     published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each assumption under the run's value and under each alternative.

    Parameters
    ----------
    patients, assessments : validated tables.
    params : the run's parameters (default: the paper's). The run's value of an assumption is
        compared with every other candidate (the paper-reproducing default and the listed
        alternatives), so a run made under an alternative shows what the default gives.
    published : :func:`analysis.published.load_published` (default: ``data/published``).

    Returns
    -------
    DataFrame, one row per (assumption, alternative): ``name``, ``kind``, ``source``,
    ``default`` (paper-reproducing values, text), ``value`` (this run's), ``alternative``
    (label) and ``alternative_values`` (text); for each quantity ``q`` of :data:`HEADLINE`,
    ``q`` (this run) and ``q_alt``; ``p_key``, ``p``, ``p_alt`` (the p-value a test override
    decides, NaN otherwise); ``n_forced`` and ``forced`` (printed numbers reproduced under
    this run's value and not under the alternative, as ``id (printed)`` joined by "; "),
    ``n_gained`` and ``gained`` (the reverse), ``n_changed`` (reproduced numbers whose value
    changes).

    Notes
    -----
    Sharma 2017 prints Figure 1's counts (67, 54, 31/23, 18, 13/5), Tables 2 and 3 and the
    response paragraphs; the comparison covers exactly those keys.
    """
    params = params or Params()
    published = load_published() if published is None else published
    cache: dict[str, dict[str, float]] = {}
    bases: dict[str, Any] = {}
    datasets: dict[str, tuple[pd.DataFrame, ...]] = {}

    def fields(p: Params, names: tuple[str, ...]) -> str:
        return repr([(name, getattr(p, name)) for name in names])

    def results_for(p: Params) -> dict[str, float]:
        key = repr(sorted(p.to_dict().items()))
        if key not in cache:
            b_key, d_key = fields(p, _BASIS_FIELDS), fields(p, _GROUP_FIELDS)
            if d_key not in datasets:
                if b_key not in bases:
                    bases[b_key] = group_basis(patients, assessments, p)
                datasets[d_key] = _datasets(patients, assessments, p, bases[b_key])
            cache[key] = reproduced_results(patients, assessments, p, datasets[d_key])
        return cache[key]

    base = results_for(params)
    checks = verdicts(published, params)
    base_hits = _matched(published, base, checks)
    rows = []
    for item in registry():
        value = {name: _current(params, name) for name in item.default}
        candidates = [("paper", dict(item.default)), *item.alternatives]
        for label, values in candidates:
            if values == value:
                continue
            alt = results_for(with_values(params, values))
            alt_hits = _matched(published, alt, checks)
            forced = [f"{i} ({base_hits[i]})" for i in base_hits if i not in alt_hits]
            gained = [f"{i} ({alt_hits[i]})" for i in alt_hits if i not in base_hits]
            row = {"name": item.name, "kind": item.kind, "source": item.source,
                   "default": _text(item.default), "value": _text(value),
                   "alternative": label, "alternative_values": _text(values)}
            for quantity, key in HEADLINE.items():
                row[quantity] = int(base[key])
                row[f"{quantity}_alt"] = int(alt[key])
            row["p_key"] = item.p_key
            row["p"] = base.get(item.p_key, math.nan)
            row["p_alt"] = alt.get(item.p_key, math.nan)
            row.update(n_forced=len(forced), forced="; ".join(forced), n_gained=len(gained),
                       gained="; ".join(gained), n_changed=_changed(base, alt))
            rows.append(row)
    return pd.DataFrame(rows)


def _key_label(label: str) -> str:
    """An alternative's label as a results-key part (">" -> "gt", ">=" -> "ge").

    >>> _key_label(">"), _key_label("not_met"), _key_label("150")
    ('gt', 'not_met', '150')
    """
    return {">": "gt", ">=": "ge"}.get(label, label)


def _text(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={_label(value)}" for name, value in values.items())


def assumption_results(table: pd.DataFrame) -> dict[str, float]:
    """The table as results (keys ``assume.<name>.<alternative>.<quantity>``).

    Quantities: the headline counts under the alternative (``conv_responders`` ...), the
    p-value under it (``p``, test overrides only), ``n_forced``, ``n_gained``, ``n_changed``;
    and ``assume.n_assumptions`` (distinct assumptions).
    """
    out: dict[str, float] = {"assume.n_assumptions": float(table["name"].nunique())}
    for rec in table.to_dict("records"):
        stem = f"assume.{rec['name']}.{_key_label(rec['alternative'])}"
        for quantity in HEADLINE:
            out[f"{stem}.{quantity}"] = float(rec[f"{quantity}_alt"])
        if rec["p_key"]:
            out[f"{stem}.p"] = float(rec["p_alt"])
        for quantity in ("n_forced", "n_gained", "n_changed"):
            out[f"{stem}.{quantity}"] = float(rec[quantity])
    return out
