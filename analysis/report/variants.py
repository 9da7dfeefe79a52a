"""Reviewer variant runs: what changed against the paper's run.

A variant run (other cutoffs, e.g. ``-p fvc_decline=0.05``) opens its report with the
parameters that differ from the paper's and, for each table, the rows whose numbers or
significance changed, side by side with the paper run's bundle (``runs/paper``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.format import format_number, format_p_against
from analysis.params import Params
from analysis.report.labels import dose_label, parameter_label, parameter_value
from analysis.report.markdown import markdown_table

__all__ = ["changed_rows", "variant_markdown", "variant_changes_markdown", "CHANGES_APPENDIX"]

#: The appendix of a variant's report that lists every changed number (issue 25: the long
#: list came before the report proper; it now follows Appendix C).
CHANGES_APPENDIX = "Appendix D"

TABLE_NAMES = {"flow": "Figure 1 flow", "t1": "Table 1", "t2": "Table 2", "t3": "Table 3",
               "conv": "Text: conventional response", "tac": "Text: tacrolimus",
               "dose": "Dose tapers", "sens": "Sensitivity analysis"}


def _fmt4(value) -> str:
    return format_number(value, missing="", significant=4)


STAT_NAMES = {"resp": "responders", "nonresp": "nonresponders", "p": "p", "n": "n",
              "pct": "%", "mean": "mean", "sd": "SD", "effect": "effect size",
              "effect_low": "effect size, 95% CI low", "effect_high": "effect size, 95% CI high",
              "n_resp": "responders with a value", "n_nonresp": "nonresponders with a value"}


#: The bounds of a bootstrap interval (keys ``sens.boot.<quantity>.<bound>``) in words.
BOOT_BOUNDS = {"estimate": "estimate", "low": "95% CI low", "high": "95% CI high"}
#: The groups of the Results' response rates (``conv.<group>.response_pct``).
_GROUP_WORDS = {"pm": "PM-ILD", "dm": "DM-ILD", "cadm": "CADM-ILD", "female": "women",
                "male": "men"}
#: The sensitivity analysis's numbers per conclusion (``sens.<measure>.<conclusion>``,
#: :func:`analysis.sensitivity.sensitivity_results`) in words.
SENS_MEASURES = {"share": "% of the grid's definitions where it is supported",
                 "direction": "% of the grid's definitions in the paper's direction",
                 "reference": "supported under this run's definition (1 yes, 0 no)"}
#: Computed numbers of the text that neither the paper's printed numbers nor a table label.
TEXT_LABELS = {"conv.pm_vs_dm.p_2x2": "PM against DM alone (Fisher's exact, two-sided) · p",
               "sens.n_definitions": "Definitions in the grid of the sensitivity analysis",
               "sens.conv_responders.min": "Conventional responders, fewest over the grid",
               "sens.conv_responders.max": "Conventional responders, most over the grid",
               "sens.tac_pct.min": "Response to tacrolimus, %, lowest over the grid",
               "sens.tac_pct.max": "Response to tacrolimus, %, highest over the grid"}


def key_label(key: str, labels: dict[str, str]) -> str:
    """A readable name for a computed key: table row and column, or the printed sentence.

    >>> key_label("t2.myositis.pm.resp", {})
    'Table 2 · Myositis: Polymyositis · responders'
    >>> key_label("t3.fvc.p", {})
    'Table 3 · FVC · p'

    A sentence of the Results that holds several numbers says which one; a dose is named by
    its drug, patients, time point and statistic (not the paper's sentence, which holds four):

    >>> key_label("conv.male.response_pct", {"conv.male.response_pct": "Women responded more"})
    'Women responded more · men, % responding'
    >>> key_label("dose.tac.aza.discontinued", {"dose.tac.aza.discontinued": "AZA stopped"})
    'Azathioprine, patients analysed for tacrolimus: patients who stopped the drug'
    """
    from analysis.paper.rows import ROWS

    parts = key.split(".")
    rows = {row.key: row for row in ROWS}
    if parts[0] in ("t1", "t2", "t3") and parts[1] in rows:
        row = rows[parts[1]]
        label = row.t2_label if parts[0] != "t1" and row.t2_label else row.label
        name = f"Table {parts[0][1]} · {label}"
        if len(parts) == 4:
            level = {lv[0]: lv[2] for lv in row.levels}.get(parts[2], parts[2])
            name += f": {level}"
        return f"{name} · {STAT_NAMES.get(parts[-1], parts[-1])}"
    if key.startswith("dose."):  # the paper's sentence holds several numbers: name the one
        words = dose_label(key)
        if words != key:
            return words
    label = labels.get(key) or key
    # A sentence of the Results holds several numbers: say which one changed.
    if parts[0] == "conv" and parts[-1] == "response_pct" and parts[1] in _GROUP_WORDS:
        return f"{label} · {_GROUP_WORDS[parts[1]]}, % responding"
    if parts[0] == "tac" and parts[-1] in ("n", "pct"):
        return f"{label} · {'patients' if parts[-1] == 'n' else '%'}"
    return label


def key_labels(run_dir: Path) -> dict[str, str]:
    """Labels of the flow boxes (this run's flow table) and of the printed numbers."""
    from analysis.published import load_published

    published = load_published()
    labels = {}
    for rec in published.to_dict("records"):
        labels.setdefault(rec["key"], str(rec["row_label"]))
    flow = Path(run_dir) / "tables" / "flow.csv"
    if flow.is_file():
        frame = pd.read_csv(flow)
        labels.update(dict(zip(frame["key"], frame["label"], strict=True)))
    # The bootstrap intervals of the sensitivity section (sens.boot.<quantity>.<bound>), by
    # the labels its table prints.
    boot = Path(run_dir) / "tables" / "sensitivity_bootstrap.csv"
    if boot.is_file():
        for rec in pd.read_csv(boot).to_dict("records"):
            for bound, words in BOOT_BOUNDS.items():
                labels[f"sens.boot.{rec['quantity']}.{bound}"] = (f"Bootstrap: {rec['label']}, "
                                                                   f"{words}")
    # The conclusions across the grid (sens.<measure>.<conclusion>), by the claim's words.
    swept = Path(run_dir) / "tables" / "sensitivity_conclusions.csv"
    if swept.is_file():
        for rec in pd.read_csv(swept).to_dict("records"):
            for measure, words in SENS_MEASURES.items():
                labels[f"sens.{measure}.{rec['conclusion']}"] = f"{rec['claim']}: {words}"
    labels.update(TEXT_LABELS)
    return labels


def _numbers(run_dir: Path) -> dict[str, float]:
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["numbers"]


def changed_rows(variant: dict[str, float], paper: dict[str, float],
                 alpha: float = 0.05) -> pd.DataFrame:
    """Numbers that differ between two runs (to 4 significant digits), with significance flips.

    >>> changed = changed_rows({"t2.fvc.p": 0.03, "t2.age.p": 0.34},
    ...                        {"t2.fvc.p": 0.39, "t2.age.p": 0.34})
    >>> changed.to_dict("records")
    [{'key': 't2.fvc.p', 'paper': 0.39, 'variant': 0.03, 'significance': 'now < 0.05'}]
    """
    rows = []
    for key in sorted(set(variant) | set(paper)):
        a, b = paper.get(key), variant.get(key)
        if a == b or (a is not None and b is not None and f"{a:.4g}" == f"{b:.4g}"):
            continue
        flip = ""
        if key.endswith(".p") and a is not None and b is not None and (a < alpha) != (b < alpha):
            flip = f"now < {alpha:g}" if b < alpha else f"now >= {alpha:g}"
        rows.append({"key": key, "paper": a, "variant": b, "significance": flip})
    return pd.DataFrame(rows, columns=["key", "paper", "variant", "significance"])


def _row_order(key: str) -> tuple[int, str]:
    """Table order of a computed key: its row's place in Tables 1-3 (ROWS), then the key."""
    from analysis.paper.rows import ROWS

    order = {row.key: i for i, row in enumerate(ROWS)}
    parts = key.split(".")
    return (order.get(parts[1], len(order)) if len(parts) > 1 else len(order), key)


def _changed_table(block: pd.DataFrame, labels: dict[str, str],
                   alpha: float = 0.05) -> pd.DataFrame:
    """One table's changed numbers: significance flips first, then in the table's row order."""
    block = block.assign(_flip=block["significance"] == "",
                         _order=block["key"].map(_row_order))
    block = block.sort_values(["_flip", "_order"], kind="stable")
    is_p = block["key"].str.contains(r"\.p(?:_\w+)?$")

    def shown(column: str) -> pd.Series:
        # p-values in the report's one format (report.format.format_p), with the digits that
        # show which side of the significance level they lie (0.0498, not "0.050"); other
        # numbers to 4 significant digits.
        return pd.Series([format_p_against(v, alpha) if p and v is not None and not pd.isna(v)
                          else _fmt4(v)
                          for v, p in zip(block[column], is_p, strict=True)],
                         index=block.index, dtype=object)

    table = pd.DataFrame({
        "Number": block["key"].map(lambda k: key_label(k, labels)),
        "Paper run": shown("paper"), "This run": shown("variant"),
        "Significance": block["significance"].map(_significance_words)})
    # A p-value that moved below its printed precision (0.341 -> 0.339, both "0.34") is not a
    # change a reader can see.
    return table[table["Paper run"] != table["This run"]]


def _significance_words(flip: str) -> str:
    """``now < 0.05`` -> ``now below 0.05``; ``now >= 0.05`` -> ``now 0.05 or above``.

    >>> _significance_words("now < 0.05"), _significance_words("now >= 0.05")
    ('now below 0.05', 'now 0.05 or above')
    """
    if flip.startswith("now < "):
        return f"now below {flip.removeprefix('now < ')}"
    if flip.startswith("now >= "):
        return f"now {flip.removeprefix('now >= ')} or above"
    return flip


def _conclusions_part(paper_dir: Path, run_dir: Path, alpha: float) -> list[str]:
    """The paper's conclusions, paper run against this run, from both runs' claims.csv."""
    from analysis.paper.claims import SUPPORTING
    from analysis.report.claims import load_claims, variant_claims_table

    paper, this = load_claims(paper_dir), load_claims(run_dir)
    head = ["## The paper's conclusions in this run", ""]
    if paper is None or this is None:
        missing = "the paper run (`runs/paper`)" if paper is None else "this run"
        return head + [f"The table of conclusions of {missing} is missing, so the verdicts "
                       "cannot be compared; re-run it with this version.", ""]
    table = variant_claims_table(paper, this)
    before = paper.set_index("id")["verdict"].isin(SUPPORTING)
    after = this.set_index("id")["verdict"].isin(SUPPORTING)
    lost = int((before & ~after.reindex(before.index, fill_value=False)).sum())
    gained = int((~before & after.reindex(before.index, fill_value=False)).sum())
    return head + [
        f"Each conclusion of the paper, its verdict in the paper run and in this run (judged "
        f"by the rule stated in the Methods, significance level {alpha:g}; a changed verdict "
        f"is in bold), and the numbers it rests on in each run. Of the {len(table)} "
        f"conclusions, {lost} supported by the paper run {'is' if lost == 1 else 'are'} no "
        f"longer supported here and {gained} {'is' if gained == 1 else 'are'} newly "
        f"supported. What the paper printed is in the paper run's report.", "",
        markdown_table(table, "The paper's conclusions: the paper run and this run",
                       left_columns=len(table.columns))]


def _flow_part(changed: pd.DataFrame, labels: dict[str, str], run_dir: Path) -> list[str]:
    """The changed boxes of Figure 1, top to bottom (the order of ``tables/flow.csv``)."""
    flow = changed[changed["key"].str.startswith("flow.")]
    path = Path(run_dir) / "tables" / "flow.csv"
    if path.is_file():
        order = {k: i for i, k in enumerate(pd.read_csv(path)["key"])}
        flow = flow.assign(_o=flow["key"].map(lambda k: order.get(k, len(order))))
        flow = flow.sort_values("_o", kind="stable")
    if flow.empty:
        return ["## Study flow", "", "The study flow (Figure 1) is the paper run's.", ""]
    shown = pd.DataFrame({"Box of Figure 1": flow["key"].map(lambda k: labels.get(k, k)),
                          "Paper run": flow["paper"].map(_fmt4),
                          "This run": flow["variant"].map(_fmt4)})
    return ["## Study flow", "", markdown_table(shown, "Study flow (Figure 1): counts that "
                                                "changed against the paper run")]


def _changes(run_dir: Path, params: Params, paper_dir: Path
             ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, str]] | None:
    """The changed numbers by table (flow and group sizes left out), the full frame of
    :func:`changed_rows`, and the labels; None without a paper run."""
    paper = _numbers(paper_dir)
    if not paper:
        return None
    changed = changed_rows(_numbers(run_dir), paper, params.alpha)
    labels = key_labels(run_dir)
    # Group sizes behind each mean follow the flow; listing them per row adds nothing.
    rest = changed[~changed["key"].str.endswith((".n_resp", ".n_nonresp"))
                   & ~changed["key"].str.startswith("flow.")]
    part = rest["key"].str.split(".").str[0]
    tables = {title: _changed_table(rest[part == prefix], labels, params.alpha)
              for prefix, title in TABLE_NAMES.items()}
    return ({title: table for title, table in tables.items() if not table.empty}, changed,
            labels)


def variant_markdown(run_dir: Path, name: str, params: Params, paper_dir: Path) -> str:
    """The opening section of a variant's report (empty text for the paper's own run).

    Order (issues 14 and 25): the run's name and the parameters that differ, in words; the
    paper's conclusions (the paper, the paper run, this run, verdict); the study flow; the
    p-values that crossed the significance level. The full list of changed numbers, grouped by
    table, is :data:`CHANGES_APPENDIX` (:func:`variant_changes_markdown`), after the report
    proper. Its tables carry captions but no cross-reference labels, so the paper's tables
    keep the numbers 1-3 in every run.
    """
    diff = params.differences()
    if name == "paper" and not diff:
        return ""
    lines = ["# What this variant changes {#sec-variant}", "",
             f"This is run **{name}**, a variant of the paper's analysis; the paper run "
             "(`runs/paper`) is the reference for every comparison below.", ""]
    if diff:
        frame = pd.DataFrame([{"Parameter": parameter_label(k),
                               "Paper": parameter_value(k, v[0]),
                               "This run": parameter_value(k, v[1])}
                              for k, v in diff.items()])
        lines.append(markdown_table(frame, "Parameters that differ from the paper's",
                                    left_columns=3))
    else:
        lines.append("No parameter differs from the paper's (other data or run name).\n")
    found = _changes(run_dir, params, paper_dir)
    if found is None:
        lines.append("The paper run (`runs/paper`) was not found, so numbers cannot be "
                     "compared; run `make report` first.\n")
        return "\n".join(lines)
    tables, changed, labels = found
    lines += _conclusions_part(paper_dir, run_dir, params.alpha)
    lines += _flow_part(changed, labels, run_dir)
    lines += ["## Changed numbers", ""]
    n = sum(len(table) for table in tables.values())
    if not n:
        lines.append("No other computed number differs from the paper run.\n")
        return "\n".join(lines)
    flips = pd.concat([table[table["Significance"] != ""].assign(Table=title)
                       for title, table in tables.items()])
    counts = pd.DataFrame({
        "Table": list(tables),
        "Numbers changed": [len(table) for table in tables.values()],
        f"p-values that crossed {params.alpha:g}": [int((table["Significance"] != "").sum())
                                                   for table in tables.values()]})
    lines.append(f"{n} other computed numbers differ from the paper run; {CHANGES_APPENDIX} "
                 "lists each of them, table by table, after the report proper.\n")
    lines.append(markdown_table(counts, "Changed numbers by table (each listed in "
                                f"{CHANGES_APPENDIX})", left_columns=1))
    lines.append(f"{len(flips)} p-values crossed the significance level "
                 f"{params.alpha:g}{':' if len(flips) else '.'}\n")
    if len(flips):
        # The table's name once, in its own column (not again at the start of the number).
        shown = flips.assign(Number=[n.removeprefix(f"{t} · ") for n, t in
                                     zip(flips["Number"], flips["Table"], strict=True)])
        shown = shown[["Table", "Number", "Paper run", "This run", "Significance"]]
        lines.append(markdown_table(shown, f"p-values that crossed {params.alpha:g} (paper run "
                                    "and this run)", left_columns=2,
                                    text_columns=("Significance",)))
    return "\n".join(lines)


def variant_changes_markdown(run_dir: Path, name: str, params: Params,
                             paper_dir: Path) -> str:
    """:data:`CHANGES_APPENDIX` of a variant's report: every computed number that differs from
    the paper run, grouped by table in table order, significance flips first in each; empty
    text for the paper's own run or without a paper run."""
    if name == "paper" and not params.differences():
        return ""
    found = _changes(run_dir, params, paper_dir)
    if found is None or not found[0]:
        return ""
    lines = ["{{< pagebreak >}}", "",
             f"# {CHANGES_APPENDIX} — Numbers that changed {{.appendix .unnumbered}}", "",
             f"Every computed number of run **{name}** that differs from the paper run, by "
             "table (group sizes follow the study flow and are not repeated).", ""]
    for title, table in found[0].items():
        lines.append(markdown_table(table, f"Changed numbers, {title} (paper run and this run)",
                                    text_columns=("Significance",)))
    return "\n".join(lines)
