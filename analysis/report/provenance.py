"""Where each number of the report comes from (issue 28): keys on the numbers, links to
Appendix A, and the HTML's cards.

Every computed number the report shows carries its key, the key of ``results.json`` (of
which ``tables/reproduction.csv``'s ``key`` column is the printed part), as a pandoc/Quarto
bracketed span: ``[31]{data-key="flow.conv_responders"}`` (:func:`keyed`). A number of the
prose that is not a computed number but a parameter of the run carries its ``_variables.yml``
path (``params.fvc``), and a conclusion's cells in the table of conclusions carry
``claim.<id>`` (the ``id`` of ``tables/claims.csv``). Both renderers read the spans from the
Markdown tables and from ``_variables.yml`` (Quarto reads a variable's value as Markdown; the
stand-in substitutes the text before pandoc reads it); Typst and Word print the number alone.

A number of Tables 1-3 is also a link to its row of Appendix A (:func:`mark`): the link is an
internal link in HTML, in the PDF (a Typst label) and in Word (a bookmark), and the row of
Appendix A links back to the cell (:func:`appendix_anchor`, :func:`cell_anchor`). Anchor
names are letters, digits and ``_`` only, at most 40 characters, as Word's bookmarks require.

In the HTML, a number shows a small card on hover, on keyboard focus or when tapped
(:func:`provenance_html`): what the number is, how it was computed (the rule or test in words,
its inputs with their n, the parameters it depends on with this run's values), the numbers the
paper printed for it with their status and verdict (Appendix A, with the verdict's condition),
and links to its Appendix A row and the notebook cell that computed it. The cards' data is
embedded in the page as the robustness explorer's is (an inline JSON script and an inline
script; nothing is fetched). ``report.html#why:KEY`` opens the card of one number. A variant
run's cards show the paper run's value beside this run's.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.format import format_number
from analysis.params import MAPPINGS, Params
from analysis.report.labels import DOSE_COHORTS as _DOSE_COHORTS
from analysis.report.labels import DOSE_POINTS as _DOSE_POINTS
from analysis.report.labels import DOSE_STATS as _DOSE_STATS
from analysis.report.labels import parameter_label, parameter_value

__all__ = ["keyed", "mark", "unkeyed", "anchor_name", "appendix_anchor", "cell_anchor",
           "table_cells", "used_keys", "provenance_data", "provenance_html", "save_provenance",
           "KEY_ATTRIBUTE"]

from analysis.report.spans import (  # noqa: E402  (the span helpers: keys and links)
    _SAFE,
    KEY_ATTRIBUTE,
    anchor_name,
    appendix_anchor,
    cell_anchor,
    keyed,
    mark,
    table_cells,
    unkeyed,
)

# ------------------------------------------------------------------------- the card's words
# The parameters a card depends on are listed by their labels and values from
# analysis.report.labels (issue 25: named alike in the cards, the explorer and the Methods).


def _months(value: str) -> str:
    """A follow-up time point as the cards' sentences of the definition read it.

    >>> _months("month6"), _months("tac_month12")
    ('6 months', '12 months')
    """
    return str(value).replace("tac_", "").replace("month", "") + " months"


_ELIGIBILITY = ("min_age", "age_rule")
_DEFINITION = ("count_weakness", "ck_uln", "ck_fall", "ck_missing_baseline",
               "ck_missing_followup", "fvc_decline", "tlc_decline", "dlco_decline",
               "decline_scale", "count_symptoms", "ild_criteria_required", "pft_missing")
_CONV = (*_ELIGIBILITY, "conventional_followup", *_DEFINITION)
_TAC = (*_ELIGIBILITY, "conventional_followup", "tacrolimus_followup", *_DEFINITION)
_CATEGORICAL = ("fisher_rule", "fisher_threshold", "fisher_sided", "chi2_correction")


def _params_text(names: tuple[str, ...], params: Params, row: str = "") -> tuple[str, ...]:
    """The parameters a number depends on, each with this run's value (and the paper's where
    it differs), as parts ("FVC decline: 10%; ") that the page joins."""
    paper = Params()
    parts = []
    for name in names:
        value, default = getattr(params, name), getattr(paper, name)
        if name in ("continuous_tests", "categorical_tests"):
            if row not in value:
                continue
            value, default = value[row], default.get(row)
        # The parameter's label and values from the one place they live (issue 25), as the
        # explorer, the Methods and the variant report name it.
        label = parameter_label(f"{name}.{row}" if name in MAPPINGS and row else name)
        text = f"{label}: {parameter_value(name, value)}"
        if value != default and default is not None:
            text += f" (paper: {parameter_value(name, default)})"
        parts.append(text + "; ")
    return tuple(parts)


def _definition_text(params: Params, followup: str) -> str:
    """Refractory myositis and refractory ILD in words, with this run's cutoffs."""
    scale = "relative" if params.decline_scale == "relative" else "absolute, in points"
    symptoms = ", worsening respiratory symptoms" if params.count_symptoms else ""
    n_criteria = 4 if params.count_symptoms else 3
    weakness = "worsening weakness, or " if params.count_weakness else ""
    return (f"between {followup}: refractory myositis is {weakness}a CK that neither fell to "
            f"at most {params.ck_uln:g} U/l nor fell by more than {100 * params.ck_fall:g}%; "
            f"refractory ILD is at least {params.ild_criteria_required} of {n_criteria}: FVC "
            f"down by at least {100 * params.fvc_decline:g}%, TLC by at least "
            f"{100 * params.tlc_decline:g}%, DLCO by at least {100 * params.dlco_decline:g}% "
            f"({scale} declines){symptoms}")


def _conv_rule(params: Params) -> str:
    months = _months(params.conventional_followup)
    return " " + _definition_text(params, f"the index assessment and {months}") + "."


def _tac_rule(params: Params) -> str:
    months = _months(params.tacrolimus_followup)
    return " " + _definition_text(params, f"tacrolimus start and {months}") + "."


def _flow_card(key: str, label: str, n: Mapping[str, Any], params: Params) -> dict[str, str]:
    """A box of Figure 1: what decides it, from whom."""
    def count(k: str) -> str:
        return format_number(n.get(k), 0, missing="0")

    excluded = ("Excluded under the first criterion that applies, in the Methods' order "
                "(age, overlap myositis, inclusion body myositis, cancer with chemotherapy "
                "before conventional treatment, other myopathy, no conventional treatment).")
    rules = {
        "flow.identified": ("Every patient with MA-ILD in the export.", "the export's "
                            "patients"),
        "flow.excluded": ((excluded, " Patients excluded under any criterion."),
                          f"{count('flow.identified')} patients identified"),
        "flow.included": ("Identified patients not excluded: eligible and given conventional "
                          "treatment.", f"{count('flow.identified')} identified minus "
                          f"{count('flow.excluded')} excluded"),
        "flow.conv_responders": (("Included patients with neither refractory myositis nor "
                                  "refractory ILD", _conv_rule(params)),
                                 f"{count('flow.included')} included patients"),
        "flow.conv_failures": (("Included patients with refractory myositis or refractory "
                                "ILD", _conv_rule(params)),
                               f"{count('flow.included')} included patients"),
        "flow.tac_analysed": ("Patients who failed conventional treatment, received "
                              "tacrolimus and have the follow-up data to judge it.",
                              f"{count('flow.conv_failures')} who failed conventional "
                              "treatment"),
        "flow.tac_responders": (("Analysed patients who improved in both myositis and ILD "
                                 "(neither refractory)", _tac_rule(params)),
                                f"{count('flow.tac_analysed')} analysed for tacrolimus"),
        "flow.tac_failures": (("Analysed patients with refractory myositis or refractory "
                               "ILD", _tac_rule(params)),
                              f"{count('flow.tac_analysed')} analysed for tacrolimus"),
    }
    if key in rules:
        how, inputs = rules[key]
    elif key.startswith("flow.excluded."):
        how, inputs = (excluded,), f"{count('flow.identified')} patients identified"
    else:
        how = ("Patients who failed conventional treatment and are not in the tacrolimus "
               "analysis, by reason (cyclophosphamide, or tacrolimus without sufficient data).")
        inputs = f"{count('flow.conv_failures')} who failed conventional treatment"
    names = (_ELIGIBILITY if key in ("flow.identified", "flow.excluded", "flow.included")
             or key.startswith("flow.excluded.") else
             _TAC if key.startswith(("flow.tac_responders", "flow.tac_failures")) else _CONV)
    return {"what": label, "how": how, "inputs": inputs, "params": _params_text(names, params)}


def _row_words(table: str, variable: str, level: str) -> tuple[str, str]:
    """The row's label (and level) in Tables 1-3, and its kind."""
    from analysis.paper.rows import BY_KEY, printed_levels

    spec = BY_KEY[variable]
    label = spec.t2_label if table != "t1" and spec.t2_label else spec.label
    if level:
        names = {k: text for k, _, text in printed_levels(spec, table)}
        label = f"{label}: {names.get(level, level)}"
    return label, spec.kind


_GROUPS = {"t2": ("responders to conventional treatment", "patients who failed conventional "
                  "treatment", "flow.conv_responders", "flow.conv_failures"),
           "t3": ("responders to tacrolimus", "patients who failed tacrolimus",
                  "flow.tac_responders", "flow.tac_failures")}


def _table_card(key: str, n: Mapping[str, Any], tests: Mapping[str, str],
                params: Params) -> dict[str, str] | None:
    """A number of Tables 1-3: the row, the statistic, its patients and its test."""
    from analysis.paper.rows import BY_KEY
    from analysis.stats import TEST_LABELS

    parts = key.split(".")
    if len(parts) not in (3, 4) or parts[1] not in BY_KEY:
        return None
    table, variable, stat = parts[0], parts[1], parts[-1]
    level = parts[2] if len(parts) == 4 else ""
    label, kind = _row_words(table, variable, level)
    name = f"Table {table[1]}, {label}"
    at = "tacrolimus start" if table == "t3" else "the index assessment"
    who = ("included patients" if table == "t1" else
           "patients analysed for tacrolimus" if table == "t3" else "included patients")

    def count(k: str) -> str:
        return format_number(n.get(k), 0, missing="0")

    if table == "t1":
        stem = f"t1.{variable}"
        denominator = count(f"{stem}.n")
        if stat in ("mean", "sd"):
            what = (name, f": {'mean' if stat == 'mean' else 'standard deviation'}")
            how = (f"The {'mean' if stat == 'mean' else 'sample standard deviation (n − 1)'} "
                   f"of the value at {at} over the patients who have one.")
            inputs = f"{count(f'{stem}.n')} of {count('flow.included')} {who} have a value"
        elif stat == "n" and level:
            what, how = (name, ": number of patients"), f"Patients in this category at {at}."
            inputs = f"{denominator} {who} with the row recorded"
        elif stat == "pct":
            what = (name, ": percentage")
            how = "The category's patients as a percentage of the patients the row counts."
            inputs = f"{count(f'{stem}.{level}.n')} of {denominator}"
        else:
            what, how = (name, ": patients the row rests on"), "Patients with a value."
            inputs = f"{count('flow.included')} {who}"
        return {"what": what, "how": how, "inputs": inputs,
                "params": _params_text(_ELIGIBILITY, params)}
    group_a, group_b, key_a, key_b = _GROUPS[table]
    names = _TAC if table == "t3" else _CONV
    sizes = f"{count(key_a)} {group_a}, {count(key_b)} {group_b}"
    row = f"{table}.{variable}"
    if stat == "p":
        test = tests.get(row, "")
        label_test = TEST_LABELS.get(test, "test not recorded")
        if kind == "continuous":
            how = (label_test, f", the test declared for this row, comparing the values at {at} "
                   "of the two groups (two-sided).")
            extra = ("continuous_tests",)
            inputs = (f"{count(f'{row}.n_resp')} {group_a} and {count(f'{row}.n_nonresp')} "
                      f"{group_b} with a value")
        else:
            how = (label_test, ". The rule: Pearson chi-square, replaced by Fisher's exact "
                   "test when the threshold rule applies (2×2 tables: the sided value of the "
                   "parameters; larger tables: the exact Fisher-Freeman-Halton test), unless "
                   "a test is declared for the row.")
            extra = (*_CATEGORICAL, "categorical_tests")
            inputs = sizes
        return {"what": (name, ": p-value"), "how": how, "inputs": inputs,
                "params": _params_text((*names, *extra), params, row)}
    group = group_a if stat in ("resp", "n_resp") else group_b
    if stat.startswith("n_"):
        return {"what": (name, f": {group} with a value"), "how": "Patients of the group whose "
                f"value at {at} is recorded (below the group's size where values are missing).",
                "inputs": sizes, "params": _params_text(names, params)}
    if kind == "continuous":
        how = f"The mean of the value at {at} among the {group} who have one."
        n_key = f"{row}.n_{'resp' if stat == 'resp' else 'nonresp'}"
        inputs = f"{count(n_key)} {group} with a value"
    else:
        how = f"The number of {group} in this category."
        inputs = f"{count(key_a if stat == 'resp' else key_b)} {group}"
    if stat not in ("resp", "nonresp"):
        how = f"The row's {stat.replace('_', ' ')} (effect size columns of Tables 2 and 3)."
    return {"what": (name, f": {group}" if stat in ("resp", "nonresp") else f": {stat}"),
            "how": how, "inputs": inputs, "params": _params_text(names, params)}




def _other_card(key: str, n: Mapping[str, Any], params: Params,
                labels: Mapping[str, str]) -> dict[str, str]:
    """Numbers of the text: response rates, tacrolimus counts, doses."""
    def count(k: str) -> str:
        return format_number(n.get(k), 0, missing="0")

    parts = key.split(".")
    what = ""
    if key == "conv.response.pct":
        return {"what": what or "Response to conventional treatment, %", "how": "Responders "
                "to conventional treatment as a percentage of the included patients.",
                "inputs": f"{count('flow.conv_responders')} of {count('flow.included')}",
                "params": _params_text(_CONV, params)}
    if key.startswith("conv.") and key.endswith(".response_pct"):
        group = parts[1]
        variable, level = (("myositis", group) if group in ("pm", "dm", "cadm")
                           else ("sex", group))
        r, f = n.get(f"t2.{variable}.{level}.resp") or 0, n.get(f"t2.{variable}.{level}.nonresp")
        total = int(r) + int(f or 0)
        return {"what": what or f"Response to conventional treatment, {group.upper()}, %",
                "how": "Responders as a percentage of the included patients of the group "
                "(Table 2's counts).", "inputs": f"{int(r)} of {total}",
                "params": _params_text(_CONV, params)}
    if key == "conv.pm_vs_dm.p_2x2":
        pm = sum(int(n.get(f"t2.myositis.pm.{s}") or 0) for s in ("resp", "nonresp"))
        dm = sum(int(n.get(f"t2.myositis.dm.{s}") or 0) for s in ("resp", "nonresp"))
        return {"what": "PM against DM alone: p-value", "how": "Fisher's exact test, "
                "two-sided, of the 2×2 table of PM and DM by response (CADM left out): the "
                "test the verdict on the PM-versus-DM conclusion uses.",
                "inputs": f"{pm} patients with PM, {dm} with DM",
                "params": _params_text(_CONV, params)}
    if key.startswith("tac."):
        thing = {"myositis_improved": "improved in myositis (no refractory myositis)",
                 "ild_improved": "improved in ILD (no refractory ILD)",
                 "both_improved": "improved in both", "hospitalised": "were hospitalised for "
                 "an exacerbation in the year after tacrolimus start"}.get(parts[1], parts[1])
        stat = "percentage" if parts[-1] == "pct" else "number"
        return {"what": what or f"Patients analysed for tacrolimus who {thing}: {stat}",
                "how": (f"Analysed patients who {thing}", _tac_rule(params)),
                "inputs": f"{count('flow.tac_analysed')} patients analysed for tacrolimus",
                "params": _params_text(_TAC, params)}
    if key.startswith("dose.") and len(parts) >= 4:
        cohort = _DOSE_COHORTS.get(parts[1], parts[1])
        drug = parts[2]
        point = _DOSE_POINTS.get(parts[3], parts[3])
        stat = _DOSE_STATS.get(parts[-1], parts[-1].replace("_", " "))
        n_key = ".".join(parts[:4]) + ".n"
        how = {"p": "Paired Student t test (two-sided) of each patient's dose at this time "
                    "point against the same patient's first dose.",
               "pct_change": "100 × (first mean − this mean) / first mean, over the patients "
                             "with a dose at both."}.get(parts[-1], (f"The {stat}", f" of the "
                                                     f"{cohort} at {point}."))
        return {"what": (f"{drug.capitalize()}, {cohort}", f", {point}: {stat}"), "how": how,
                "inputs": f"{count(n_key)} patients with a dose" if n_key in n else cohort,
                "params": _params_text(_TAC if parts[1] == "tac" else _CONV, params)}
    return {"what": what or key, "how": "Computed by the run (see its notebook cell).",
            "inputs": "", "params": ()}


def _param_card(var: str, params: Params) -> dict[str, str] | None:
    """A parameter named in the Methods (``params.<variable>`` of ``_variables.yml``)."""
    fields = {"fvc": "fvc_decline", "tlc": "tlc_decline", "dlco": "dlco_decline",
              "scale": "decline_scale", "ild_required": "ild_criteria_required",
              "symptoms": "count_symptoms", "conv_followup": "conventional_followup",
              "tac_followup": "tacrolimus_followup"}
    name = fields.get(var, var)
    specs = {spec["name"]: spec for spec in Params.describe()}
    if name not in specs:
        return None
    spec = specs[name]
    return {"what": f"Parameter: {spec['meaning']}", "how": ("A parameter of this run, not a "
            "computed number: every number that depends on it names it. Source: ",
            f"{spec['source']}."), "inputs": "", "params": _params_text((name,), params)}


# ------------------------------------------------------------------------- the cards' data
def _number_text(value: Any) -> str:
    """A computed value at 4 significant digits (whole numbers whole)."""
    if value is None or pd.isna(value):
        return "not computable"
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format_number(value, significant=4)


def _notebook_cells(run_dir: Path) -> dict[str, tuple[str, int, str]]:
    """For each step's fragment (``results/<step>.json``), the executed notebook cell that
    saved it: (notebook file, execution count, cell id)."""
    out: dict[str, tuple[str, int, str]] = {}
    for path in sorted((Path(run_dir) / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            source = "".join(cell.get("source", ""))
            for m in re.finditer(r'save_fragment\(run_dir, "(\w+)"', source):
                out.setdefault(m.group(1), (path.name, cell.get("execution_count") or 0,
                                            str(cell.get("id", ""))))
            if "write_report_inputs(" in source:
                out.setdefault("_report", (path.name, cell.get("execution_count") or 0,
                                           str(cell.get("id", ""))))
    return out


def _cell_text(cell: tuple[str, int, str] | None) -> str:
    """``03_tables.ipynb|[6] (cell id cell-6)``: the notebook file (the page links it), then
    the cell as Jupyter numbers it."""
    return f"{cell[0]}|[{cell[1]}] (cell id {cell[2]})" if cell else ""


def _steps_of_keys(run_dir: Path) -> dict[str, str]:
    steps = {}
    for path in sorted((Path(run_dir) / "results").glob("*.json")):
        for key in json.loads(path.read_text(encoding="utf-8")):
            steps.setdefault(key, path.stem)
    return steps


def _rule_sentence(kind: str) -> str:
    """The sentence of the report's rule (:data:`analysis.paper.claims.RULES_TEXT`) that
    judges a claim of this kind."""
    from analysis.paper.claims import RULES_TEXT

    starts = {"comparison": "A comparison", "descriptive": "A descriptive",
              "absence": "A statement that no"}
    text = RULES_TEXT[RULES_TEXT.find(starts.get(kind, "A comparison")):]
    ends = [text.find(m) for m in (" A descriptive", " A statement that no", " A conclusion")
            if text.find(m) > 0]
    return text[:min(ends)] if ends else text


def _claim_cards(run_dir: Path) -> dict[str, dict[str, Any]]:
    from analysis.paper.claims import BY_ID

    path = Path(run_dir) / "tables" / "claims.csv"
    if not path.is_file():
        return {}
    frame = pd.read_csv(path, keep_default_na=False)
    cards = {}
    for rec in frame.to_dict("records"):
        claim = BY_ID.get(rec["id"])
        test = rec["test"] or (claim.test if claim else "")
        cards[f"claim.{rec['id']}"] = {
            "what": f"Conclusion of the paper: {rec['label']}",
            "how": (f"{str(rec['quantity'])[:1].upper()}{str(rec['quantity'])[1:]}"
                    f"{'; ' + test if test else ''}. ", _rule_sentence(rec["kind"])),
            "inputs": str(rec["detail"]), "params": (),
            "value": str(rec["detail"]),
            "printed": [[str(rec["paper"]), f"{rec['where']}", "", str(rec["verdict"]), ""]]
            if rec["paper"] else [], "claim_verdict": str(rec["verdict"])}
    return cards


_KEY_IN_MARKDOWN = re.compile(r'data-key=\\?"([^"\\]+)\\?"')


def used_keys(run_dir: Path) -> set[str]:
    """The keys the report's Markdown carries: its tables (``tables/*.md``) and its
    variables (``_variables.yml``); only their cards are embedded."""
    run_dir = Path(run_dir)
    paths = [*sorted((run_dir / "tables").glob("*.md")), run_dir / "_variables.yml"]
    keys: set[str] = set()
    for path in paths:
        if path.is_file() and path.name != "provenance.md":
            keys.update(_KEY_IN_MARKDOWN.findall(path.read_text(encoding="utf-8")))
    return keys


def provenance_data(run_dir: Path, params: Params, paper_dir: Path | None = None,
                    run_name: str = "paper", keys: set[str] | None = None) -> dict[str, Any]:
    """The cards of every keyed number of a run, as compact data for the page.

    Reads the run's ``results.json``, ``results/*.json`` (which step computed a key),
    ``tables/reproduction.csv`` (what the paper printed, status, verdict and its condition),
    ``tables/table2.csv``/``table3.csv`` (each row's test), ``tables/claims.csv`` and the
    executed notebooks (the cell that saved each step's numbers); ``paper_dir``'s
    ``results.json`` for a variant (the paper run's value beside this run's). ``keys``: only
    these numbers' cards (:func:`used_keys`); None: every number of the run.

    Returns
    -------
    dict with ``s`` (every distinct text once), ``cards`` (key -> indices into ``s``:
    what, how, inputs, parameters, this run's value, the paper run's value, notebook,
    cell, the printed rows as [printed, where, status, verdict, anchor] index lists),
    ``run`` and ``variant`` (whether a paper run's value is shown).
    """
    from analysis.report.inputs import row_tests, short_location
    from analysis.report.variants import key_labels

    run_dir = Path(run_dir)
    numbers = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["numbers"]
    paper_numbers: dict[str, Any] | None = None
    if paper_dir is not None and (Path(paper_dir) / "results.json").is_file() \
            and Path(paper_dir).resolve() != run_dir.resolve():
        paper_numbers = json.loads((Path(paper_dir) / "results.json")
                                   .read_text(encoding="utf-8"))["numbers"]
    tests = row_tests(run_dir)
    labels = key_labels(run_dir)
    repro = pd.read_csv(run_dir / "tables" / "reproduction.csv", dtype=str,
                        keep_default_na=False)
    printed: dict[str, list[list[str]]] = {}
    for rec in repro.to_dict("records"):
        verdict = rec["verdict"] + (f" ({rec['condition']})" if rec["condition"] else "")
        where = " ".join(part for part in (rec["source"], short_location(
            rec["location"], rec["source"], rec["source"])) if part)
        printed.setdefault(rec["key"], []).append(
            [rec["printed"], where, rec["status"], verdict or "no check covers it",
             appendix_anchor(rec["id"])])
    steps = _steps_of_keys(run_dir)
    cells = _notebook_cells(run_dir)
    cards: dict[str, dict[str, Any]] = {}
    # a number the report shows as "not computable" keeps the key of what it would be
    missing = {k: None for k in sorted(keys or ()) if k.startswith(("t1.", "t2.", "t3."))
               and k not in numbers}
    for key, value in {**numbers, **missing}.items():
        if keys is not None and key not in keys:
            continue
        if key.startswith("flow."):
            card = _flow_card(key, labels.get(key, key), numbers, params)
        elif key.startswith(("t1.", "t2.", "t3.")):
            card = _table_card(key, numbers, tests, params) or _other_card(key, numbers,
                                                                            params, labels)
        else:
            card = _other_card(key, numbers, params, labels)
        card.update(value=_number_text(value), printed=printed.get(key, []),
                    notebook=_cell_text(cells.get(steps.get(key, ""))))
        if paper_numbers is not None:
            card["paper_value"] = _number_text(paper_numbers.get(key))
        cards[key] = card
    from analysis.report.variables import param_variable_names

    for var in param_variable_names(params):  # the Methods' parameters, as the prose keys them
        card = _param_card(var, params)
        if card:
            cards[f"params.{var}"] = {**card, "value": "", "printed": [], "notebook": ""}
    for key, card in _claim_cards(run_dir).items():
        card.update(notebook=_cell_text(cells.get("_report")))
        cards[key] = card
    if keys is not None:
        cards = {k: v for k, v in cards.items() if k in keys}
    return _compact(cards, run_name, paper_numbers is not None)


#: A card: what the number is, its profile (how it is computed, the parameters, the notebook
#: cell: shared by many numbers), its inputs, this run's value (and the paper run's, for a
#: variant), and what the paper printed.
_PROFILE = ("how", "params", "notebook")


def _compact(cards: Mapping[str, Mapping[str, Any]], run_name: str,
             variant: bool) -> dict[str, Any]:
    """Each distinct text once (many numbers share a rule, a parameter list, a notebook cell
    or a printed row's place, status and verdict): ``s`` holds the texts, ``p`` the profiles
    (indices into ``s``), and a card is ``[what, profile, inputs, value, printed]`` (``what``
    an index or a list of indices of parts; ``printed`` a list of ``[printed number, place |
    status | verdict, anchor]``, the anchor left out where it is the key's own,
    :func:`appendix_anchor` of the key), with the paper run's value before ``printed`` for a
    variant."""
    strings: dict[str, int] = {}
    profiles: dict[tuple, int] = {}

    def ix(text: Any) -> int:
        return strings.setdefault(str(text or ""), len(strings))

    def text(value: Any) -> int | list[int]:
        # a text made of shared parts ("Table 2, Age" + ": p-value") keeps them apart
        return [ix(part) for part in value] if isinstance(value, tuple) else ix(value)

    ix("")
    out = {}
    for key, card in cards.items():
        profile = tuple(json.dumps(text(card.get(f, ""))) for f in _PROFILE)
        rows = []
        for number, where, status, verdict, anchor in card.get("printed", []):
            row = [ix(number), ix(f"{where}|{status}|{verdict}")]
            if anchor != f"A_{_SAFE.sub('_', key)}":  # the script derives this one
                row.append(ix(anchor))
            rows.append(row)
        out[key] = [text(card.get("what", "")), profiles.setdefault(profile, len(profiles)),
                    text(card.get("inputs", "")), ix(card.get("value", "")),
                    *([ix(card.get("paper_value", ""))] if variant else []), rows]
    return {"s": list(strings), "p": [[json.loads(f) for f in prof] for prof in profiles],
            "cards": out, "run": run_name, "variant": variant}


# ------------------------------------------------------------------------------ the page
SCRIPT = r"""
(function () {
  "use strict";
  var source = document.getElementById("provenance-data");
  var card = document.getElementById("why-card");
  if (!source || !card) { return; }
  var data = JSON.parse(source.textContent);
  var S = data.s, PREFIX = "#why:";
  var V = data.variant ? 1 : 0;
  var F = {what: 0, profile: 1, inputs: 2, value: 3, paper_value: 4, printed: 4 + V};
  var current = null, pinned = false, timer = null, restoring = false;

  function T(x) { return Array.isArray(x) ? x.map(function (i) { return S[i]; }).join("")
                                            : S[x]; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function row(list, term, detail) {
    if (!detail) { return; }
    list.appendChild(el("dt", term));
    list.appendChild(typeof detail === "string" ? el("dd", detail) : detail);
  }
  function trigger(node) { return node.closest("a") || node; }

  function fill(key, shown) {
    var c = data.cards[key];
    card.textContent = "";
    var close = el("button", "\u00d7", {type: "button", "class": "why-close",
                                         "aria-label": "Close"});
    close.addEventListener("click", function () { hide(true); });
    card.appendChild(close);
    if (!c) {
      card.appendChild(el("p", "No number of this report has the key " + key + "."));
      return;
    }
    var prof = data.p[c[F.profile]];
    var title = el("p", "", {"class": "why-title", id: "why-title", tabindex: "-1"});
    if (shown) { title.appendChild(el("strong", shown)); title.appendChild(
      document.createTextNode(" \u2014 ")); }
    title.appendChild(document.createTextNode(T(c[F.what])));
    card.appendChild(title);
    var list = el("dl");
    row(list, "How it is computed", T(prof[0]));
    row(list, "From", T(c[F.inputs]));
    row(list, "Parameters", T(prof[1]).replace(/; $/, ""));
    if (data.variant) {
      row(list, "Paper run", T(c[F.paper_value]));
      row(list, "This run (" + data.run + ")", T(c[F.value]));
    } else {
      row(list, "This run", T(c[F.value]));
    }
    c[F.printed].forEach(function (p) {
      var dd = el("dd"), meta = S[p[1]].split("|");
      var anchor = p.length > 2 ? S[p[2]] : "A_" + key.replace(/[^A-Za-z0-9_]/g, "_");
      dd.appendChild(el("strong", S[p[0]]));
      dd.appendChild(document.createTextNode(" (" + meta[0] + ")" +
        (meta[1] ? ": " + meta[1] : "") + "; verdict: " + meta[2] + ". "));
      if (document.getElementById(anchor)) {
        dd.appendChild(el("a", "Appendix A row", {href: "#" + anchor}));
      }
      row(list, "The paper printed", dd);
    });
    if (T(prof[2])) {
      var where = T(prof[2]).split("|"), nb = el("dd");
      nb.appendChild(el("a", where[0], {href: "notebooks/" + where[0]}));
      nb.appendChild(document.createTextNode(", code cell " + where[1]));
      row(list, "Computed in", nb);
    }
    var link = el("dd");
    link.appendChild(el("a", PREFIX + key, {href: PREFIX + key}));
    row(list, "Link to this number", link);
    card.appendChild(list);
  }

  function place(node) {
    card.style.position = "absolute";
    var r = node ? node.getBoundingClientRect() : {left: 16, bottom: 16};
    var left = Math.max(8, Math.min(r.left + window.scrollX,
                                    window.scrollX + document.documentElement.clientWidth -
                                    card.offsetWidth - 8));
    card.style.left = left + "px";
    card.style.top = (r.bottom + window.scrollY + 6) + "px";
  }

  function show(node, key, pin) {
    clearTimeout(timer);
    if (current && current !== node) { trigger(current).setAttribute("aria-expanded", "false"); }
    current = node;
    pinned = pin;
    fill(key, node ? node.textContent : "");
    card.hidden = false;
    card.setAttribute("data-key", key);
    place(node);
    if (node) {
      var t = trigger(node);
      t.setAttribute("aria-expanded", "true");
      t.setAttribute("aria-describedby", "why-card");
    }
    if (pin) {
      var title = document.getElementById("why-title");
      if (title) { title.focus({preventScroll: true}); }
    }
  }

  function hide(restore) {
    clearTimeout(timer);
    card.hidden = true;
    card.removeAttribute("data-key");
    if (current) {
      var t = trigger(current);
      t.setAttribute("aria-expanded", "false");
      t.removeAttribute("aria-describedby");
      if (restore && pinned) { restoring = true; t.focus(); restoring = false; }
    }
    if (pinned && location.hash.indexOf(PREFIX) === 0) {
      try { history.replaceState(null, "", location.href.split("#")[0]); } catch (e) {}
    }
    current = null;
    pinned = false;
  }

  function later(fn) { clearTimeout(timer); timer = setTimeout(fn, 250); }

  var numbers = Array.prototype.slice.call(document.querySelectorAll("[data-key]"))
    .filter(function (n) { return n !== card && !card.contains(n); });
  numbers.forEach(function (node) {
    var key = node.getAttribute("data-key");
    var t = trigger(node);
    t.classList.add("why-number");
    if (t === node) { node.setAttribute("tabindex", "0"); node.setAttribute("role", "button"); }
    t.setAttribute("aria-expanded", "false");
    t.setAttribute("aria-controls", "why-card");
    t.addEventListener("click", function (ev) {
      ev.preventDefault();
      if (current === node && pinned) { hide(true); return; }
      show(node, key, true);
      try { history.replaceState(null, "", location.href.split("#")[0] + PREFIX + key); }
      catch (e) {}
    });
    t.addEventListener("keydown", function (ev) {
      if (t === node && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); t.click(); }
      if (ev.key === "Escape") { hide(true); }
    });
    t.addEventListener("mouseenter", function () {
      if (!pinned) { later(function () { show(node, key, false); }); }
    });
    t.addEventListener("focus", function () {
      if (!pinned && !restoring) { show(node, key, false); }
    });
    t.addEventListener("mouseleave", function () { if (!pinned) { later(function () {
      if (!card.matches(":hover")) { hide(false); } }); } });
    t.addEventListener("blur", function () { if (!pinned) { later(function () {
      if (!card.contains(document.activeElement)) { hide(false); } }); } });
  });
  card.addEventListener("mouseleave", function () { if (!pinned) { later(function () {
    hide(false); }); } });
  card.addEventListener("mouseenter", function () { clearTimeout(timer); });
  card.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { hide(true); } });
  document.addEventListener("click", function (ev) {
    if (pinned && !card.contains(ev.target) && !(current && trigger(current).contains(ev.target))) {
      hide(false);
    }
  });

  function fromLocation() {
    if (location.hash.indexOf(PREFIX) !== 0) { return; }
    var key = decodeURIComponent(location.hash.slice(PREFIX.length));
    var node = numbers.filter(function (n) { return n.getAttribute("data-key") === key; })[0];
    if (node) { node.scrollIntoView({block: "center"}); }
    show(node || null, key, true);
  }
  window.addEventListener("hashchange", fromLocation);
  document.documentElement.setAttribute("data-why", "ready");
  fromLocation();
})();
"""

STYLE = """
.why-number { cursor: help; text-decoration: underline dotted; text-underline-offset: 0.2em; }
a.why-number { color: inherit; }
#why-card { z-index: 1000; max-width: min(32em, 92vw); padding: 0.6em 0.9em; font-size: 0.85em;
  line-height: 1.35; text-align: left; background: #fff; color: #212529;
  border: 1px solid #adb5bd; border-radius: 6px; box-shadow: 0 4px 14px rgba(0,0,0,0.18); }
#why-card .why-title { margin: 0 1.6em 0.4em 0; }
#why-card dl { margin: 0; }
#why-card dt { font-weight: 600; margin-top: 0.35em; }
#why-card dd { margin: 0 0 0 0.8em; }
#why-card .why-close { position: absolute; top: 0.2em; right: 0.4em; border: none;
  background: none; font-size: 1.3em; cursor: pointer; }
"""


def _script_json(data: Mapping[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element and inside both renderers' Markdown, as the
    explorer's (:func:`analysis.report.explorer._script_json`: no ``<``, ``>``, ``&`` or
    ``@``), but UTF-8 as it is (the page is UTF-8; ``\\u2019`` would cost six bytes)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("@", "\\u0040"))


def provenance_html(data: Mapping[str, Any]) -> str:
    """The card (hidden until a number is pointed at), its data, style and script."""
    label = html.escape("Where this number comes from")
    return "\n".join([
        f'<div id="why-card" role="dialog" aria-modal="false" aria-label="{label}" hidden>'
        "</div>",
        f"<style>{STYLE}</style>",
        f'<script type="application/json" id="provenance-data">{_script_json(data)}</script>',
        f"<script>{SCRIPT}</script>"])


def save_provenance(run_dir: Path, params: Params, paper_dir: Path | None = None,
                    run_name: str = "paper") -> Path:
    """Write ``tables/provenance.md``: one raw HTML block (HTML only; Typst and Word drop
    it) holding the cards of the run's numbers (:func:`provenance_data`)."""
    from analysis.errors import DataValidationError
    from analysis.files import write_atomic

    run_dir = Path(run_dir)
    target = run_dir / "tables" / "provenance.md"
    if not ((run_dir / "results.json").is_file()
            and (run_dir / "tables" / "reproduction.csv").is_file()):
        return write_atomic(target, "")  # the steps wrote no numbers: no card to show
    keys = used_keys(run_dir)
    block = provenance_html(provenance_data(run_dir, params, paper_dir, run_name, keys))
    if any(line.lstrip().startswith("```") for line in block.splitlines()):
        raise DataValidationError("provenance HTML: a line starts with ``` and would end the "
                                  "raw block")
    return write_atomic(target, f"```{{=html}}\n{block}\n```\n")
