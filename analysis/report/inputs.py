"""What the report reads, written from a run's computed numbers: ``results.json``, the
variables file, and Appendices A (reproduction) and B (methods audit) as Markdown tables.

``report.qmd`` computes nothing; its tables are the Markdown files of the run and its prose
numbers come from ``_variables.yml`` (:mod:`analysis.report.variables`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.consistency.core import (
    CLASSES,
    IMPOSSIBLE,
    IMPOSSIBLE_IF,
    NEEDS_OTHER_N,
    UNDECIDABLE,
)
from analysis.files import write_atomic
from analysis.format import format_number
from analysis.params import Params
from analysis.report.claims import save_claims
from analysis.report.markdown import markdown_table, save_table
from analysis.report.results import write_results
from analysis.report.variables import report_variables, write_variables
from analysis.report.verdicts import (
    continuous_tests_text,
    dose_series_text,
    verdict_items,
)

__all__ = ["write_report_inputs", "reproduction_markdown", "audit_rows", "audit_markdown"]

SOURCE_ORDER = ("Abstract", "Figure 1", "Results", "Table 1", "Table 2", "Table 3",
                "Discussion", "Assumed")


def write_report_inputs(run_dir: Path, results: dict[str, Any], comparison: pd.DataFrame,
                        published: pd.DataFrame, params: Params, run_name: str,
                        checks: pd.DataFrame) -> None:
    """Write ``results.json``, ``tables/reproduction.*``, ``tables/audit.*``,
    ``tables/claims.*`` (the paper's conclusions judged on this run),
    ``tables/check_assumptions.*`` (the consistency verdicts under each alternative check
    assumption, for the Assumptions section), ``tables/groups.md`` (the note on groups with no
    patient or one) and ``_variables.yml`` into the run folder: every report input that
    comes from this run's numbers, written by this one step (issue 24; the run notes that
    compare with another run or record the machine are the pipeline's,
    :func:`analysis.pipeline.bundle.write_run_notes`);
    ``checks`` are the run's consistency verdicts (:func:`analysis.consistency.verdicts`,
    Appendix B's computed evidence)."""
    from analysis.audit import evidence_table, printed_counts
    from analysis.consistency.alternatives import (
        alternative_verdicts,
        check_assumptions_markdown,
    )
    from analysis.published import printed_group_sizes
    from analysis.report.variables import group_note

    run_dir = Path(run_dir)
    write_results(run_dir, results, published, params, run_name)
    write_atomic(run_dir / "tables" / "groups.md", group_note(results))
    columns = ["id", "key", "source", "row_label", "column", "printed", "decimals",
               "reproduced", "status", "reason", "verdict", "condition", "check", "evidence",
               "curator_note", "location"]
    from analysis.report.spans import table_cells

    save_table(run_dir, "reproduction", comparison[columns])
    write_atomic(run_dir / "tables" / "reproduction.md",
                 reproduction_markdown(comparison, table_cells(run_dir)))
    alternatives = alternative_verdicts(published, params)
    save_table(run_dir, "check_assumptions", alternatives)
    write_atomic(run_dir / "tables" / "check_assumptions.md",
                 check_assumptions_markdown(alternatives, published, params))
    evidence = evidence_table(printed_counts(published), params, printed_group_sizes(published))
    save_table(run_dir, "audit", evidence)
    write_atomic(run_dir / "tables" / "audit.md", audit_markdown(evidence, published, checks))
    tests = row_tests(run_dir)
    claims = save_claims(run_dir, results, tests, published, params.alpha)
    write_variables(run_dir, report_variables(results, comparison, params, run_name, tests,
                                              claims))


def row_tests(run_dir: Path) -> dict[str, str]:
    """The test behind each p-value of Tables 2 and 3 in this run (``"t2.myositis"`` ->
    ``"fisher_rxc"``), read from the run's ``tables/table2.csv`` and ``table3.csv`` (the
    ``test`` column that :func:`analysis.tables.compare_groups` wrote), so the prose names the
    test it quotes."""
    tests: dict[str, str] = {}
    for stem in ("table2", "table3"):
        path = Path(run_dir) / "tables" / f"{stem}.csv"
        if not path.is_file():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for rec in frame[frame["test"] != ""].to_dict("records"):
            tests.setdefault(f"{rec['table']}.{rec['variable']}", rec["test"])
    return tests


def short_location(location: str, source: str, heading: str = "") -> str:
    """Where a number is printed, without what its group ``heading`` already says: a sentence
    of the text as "¶2 s3" (paragraph, sentence; the subsection named unless the heading
    names it), a table cell or a figure box as "" (its label is the row and column).

    >>> short_location("Results, 'Change in the doses of DMARD', paragraph 2, sentence 3 "
    ...                "(“This decreased ...”)", "Results: Change in the doses of DMARD",
    ...                "Results")
    'Change in the doses of DMARD ¶2 s3'
    >>> short_location("Results, paragraph 1, sentence 2 (“All 54 ...”)", "Results", "Results")
    '¶1 s2'
    >>> short_location("Abstract, Results, sentence 4 (“Ninety-four ...”)", "Abstract")
    'Results s4'
    """
    if source.startswith(("Table", "Figure", "Assumed")):
        return ""
    head = location.split(" (\u201c", 1)[0]
    m = re.search(r"(?:paragraph (\d+), )?sentence (\d+)$", head)
    if not m:
        return head
    where = (f"¶{m.group(1)} " if m.group(1) else "") + f"s{m.group(2)}"
    rest = head[:m.start()].rstrip(", ")
    sub = rest.split(", ", 1)[1] if ", " in rest else ""
    sub = sub.strip("'")
    if sub and sub not in (heading or source):
        where = f"{sub} {where}"
    return where


def reproduction_markdown(comparison: pd.DataFrame, cells: dict[str, str] | None = None) -> str:
    """Published vs reproduced, grouped by source (table or section): one compact table per
    group (where in the paper, printed, reproduced, status, and the class of the consistency
    checks' verdict), then the reason for every number that is not a plain match (with its
    location, the deciding check, its class and condition, and its evidence), as a list (long
    reasons in a table column would squeeze the numbers). It opens with the statuses and the
    verdict classes and their counts (printed numbers only); the values the reconstruction
    assumes come last, marked *assumed*, and are not counted as reproduced.

    Each row's printed number is an anchor (:func:`analysis.report.provenance.appendix_anchor`,
    the target of the table cells' links and of the HTML's cards); a row of Tables 1-3 whose
    number has a cell there (``cells``: key -> the cell's anchor,
    :func:`analysis.report.provenance.table_cells`) links back to it from its reproduced
    number (issue 28)."""
    from analysis.report.spans import appendix_anchor

    cells = cells or {}
    parts = [_legend(comparison)]
    comparison = comparison.assign(
        _group=comparison["source"].map(lambda s: next(
            (g for g in SOURCE_ORDER if str(s).startswith(g)), "Other")))
    order = {g: i for i, g in enumerate((*SOURCE_ORDER, "Other"))}
    for group, block in sorted(comparison.groupby("_group"), key=lambda kv: order[kv[0]]):
        label = block["row_label"].astype(str)
        column = block["column"].fillna("").astype(str)
        label = label.where(column == "", label + " — " + column.str.replace(
            r",? n = \d+", "", regex=True))
        marks = block["status"].map({"match": "match", "mismatch": "**mismatch**",
                                     "inconsistent": "inconsistent †",
                                     "not-computed": "**not computed**"})
        marks = marks.where((block["status"] != "match") | (block["reason"] == ""), "match †")
        marks = marks.where((marks != "match") | (block["curator_note"] == ""), "match ‡")
        if group == "Assumed":
            marks = block["status"].map(lambda st: "assumed" if st == "match"
                                        else "assumed, **not met**")
        # A sentence with several numbers is printed once, on its first number's row.
        label = label.where(label != label.shift(), "")
        where = [short_location(str(loc), str(src), group) for loc, src in
                 zip(block["location"], block["source"], strict=True)]
        printed = [f"[{text}]{{#{appendix_anchor(i)}}}" if text else text
                   for text, i in zip(block["printed"].astype(str), block["id"], strict=True)]
        reproduced = [f"[{text}](#{cells[key]})" if text and key in cells
                      and str(src).startswith("Table") else text
                      for text, key, src in zip(block["reproduced_text"].fillna("").astype(str),
                                                block["key"], block["source"], strict=True)]
        shown = pd.DataFrame({"Number as printed": label, "Where": where,
                              "Printed": printed, "Reproduced": reproduced,
                              "Status": marks,
                              "Verdict": block["verdict"].fillna("").astype(str)})
        if not any(where):
            shown = shown.drop(columns="Where")
        matched = int((block["status"] == "match").sum())
        if group == "Assumed":
            parts.append(f"**{group}** (not printed; not counted): {len(block)} values the "
                         "synthetic cohort is built to meet.\n")
        else:
            parts.append(f"**{group}**: {matched} of {len(block)} reproduced.\n")
        parts.append(markdown_table(shown, text_columns=("Where", "Status", "Verdict")))
        notes = [_note(r) for r in block.itertuples()]
        if any(notes):
            parts.append("\n".join(n for n in notes if n) + "\n")
    return "\n".join(parts)


def _legend(comparison: pd.DataFrame) -> str:
    """The statuses and verdict classes of Appendix A, each with its count among the printed
    numbers of ``comparison`` (the assumed rows are counted apart, never as reproduced)."""
    assumed = comparison["source"].astype(str).str.startswith("Assumed")
    printed = comparison[~assumed]
    n = printed["status"].value_counts()
    classes = printed["verdict"].value_counts()
    class_text = "; ".join(f"*{c}* ({int(classes.get(c, 0))})" for c in CLASSES)
    return (
        f"Of the {len(printed)} numbers the paper prints: "
        f"*match* ({int(n.get('match', 0))}): the reproduced number equals the printed one at "
        f"the printed decimals. *inconsistent* ({int(n.get('inconsistent', 0))}): it does "
        "not, and a named consistency check proves from the paper's printed numbers alone that "
        "the printed value cannot hold; the check and its evidence follow the table. *mismatch* "
        f"({int(n.get('mismatch', 0))}): it does not, and no check proves the printed value "
        f"impossible. *not computed* ({int(n.get('not-computed', 0))}): the run has no finite "
        "result. † marks a row whose reason or check follows the table; ‡ a curator's note "
        "typed in `numbers.csv`, shown as commentary only (it never decides a status). "
        "*Where*: paragraph (¶) and sentence (s) of the section, for numbers printed in the "
        "text.\n\n"
        "*Verdict*: what the consistency checks on the printed numbers alone (Appendix B) say "
        f"of each printed value, whether or not this run reproduces it: {class_text}. "
        "*Impossible*: no values the printed numbers allow give it. *Impossible under an "
        "assumption*: impossible only if the assumption named with it holds (a dose grid, the "
        "MTX weekly cap, n at follow-up at most n at start, a measurement's resolution; the "
        "Assumptions section shows what each verdict becomes without it). *Possible only if n "
        "differs*: possible only if the paper analysed another number of patients, or values "
        "were missing, than it prints (the n needed follows the table). *Undecidable*: a "
        "check cannot decide. A blank verdict: no check covers the number.\n\n"
        f"The {int(assumed.sum())} values the reconstruction assumes where the paper prints "
        "none come last, marked *assumed*: the synthetic cohort is built to meet them, so "
        "they are not counted as reproduced.\n")


def _note(r: Any) -> str:
    """The list item of one comparison row: † its reason and the deciding check's evidence;
    ‡ for a match the curator typed as inconsistent, that typed note, shown as commentary."""
    typed = f"curator's note (typed in numbers.csv, not a computed verdict): {r.curator_note}"
    if r.status != "match" or r.reason:
        condition = f"; {r.condition}" if r.condition else ""
        evidence = (f". Check `{r.check}` (*{r.verdict}*{condition}): {r.evidence}"
                    if r.check else "")
        extra = f"; {typed}" if r.curator_note and not r.check else ""
        return f"- † {r.row_label} ({r.printed}; {r.location}): {r.reason}{evidence}{extra}"
    return f"- ‡ {r.row_label} ({r.printed}): reproduced; {typed}" if r.curator_note else ""


def _class_block(title: str, items: list[str]) -> list[str]:
    """A class of verdicts in Appendix B: its title and items, or nothing when it is empty."""
    return [f"*{title}* ({len(items)}):", "", *items, ""] if items else []


def audit_rows(evidence: pd.DataFrame) -> pd.DataFrame:
    """Appendix B's table: each printed categorical p-value, the p under each candidate test,
    the tests that reproduce it, this run's choice and the recommended two-sided value."""
    from analysis.report.variants import key_label

    short = {"chi2": "χ²", "chi2_yates": "Yates", "fisher_two_sided": "Fisher 2-sided",
             "fisher_one_sided": "Fisher 1-sided", "fisher_rxc": "exact r×c",
             "not_testable": "not testable"}

    def names(text) -> str:
        if not isinstance(text, str) or not text:
            return "none"
        return ", ".join(short.get(t.strip(), t.strip()) for t in text.split(","))

    def p(value) -> str:
        return format_number(value, 3, missing="")

    return pd.DataFrame({
        "Row": [key_label(f"{t}.{v}.p", {}).rsplit(" · ", 1)[0]
                for t, v in zip(evidence["table"], evidence["variable"], strict=True)],
        "Printed": evidence["printed_p"].astype(str),
        "χ²": evidence["p_chi2"].map(p), "Fisher 2-sided": evidence["p_fisher_two"].map(p),
        "Fisher 1-sided": evidence["p_fisher_one"].map(p),
        "Reproduced by": evidence["matches"].map(names),
        "This run": [f"{p(v)} ({short.get(t, t)})"
                     for v, t in zip(evidence["chosen_p"], evidence["test_chosen"]
                                     if "test_chosen" in evidence else evidence["chosen_test"],
                                     strict=True)],
        "Two-sided": evidence["two_sided_p"].map(p)})


def audit_markdown(evidence: pd.DataFrame, published: pd.DataFrame,
                   checks: pd.DataFrame) -> str:
    """Appendix B: which test reproduces each printed categorical p-value, the run's choice
    beside the recommended two-sided value, then the consistency checks' computed evidence
    (:mod:`analysis.report.verdicts`): the continuous tests, the paper's internal
    contradictions and the prednisone series. ``published`` gives labels only."""
    from analysis.stats import TEST_LABELS

    shown = audit_rows(evidence)
    reproduced = int(evidence["reproduced"].sum())
    differ = evidence[(evidence["two_sided_p"].round(3) != evidence["chosen_p"].round(3))
                      & evidence["chosen_p"].notna()]
    lines = [
        f"This run's tests reproduce {reproduced} of {len(evidence)} printed categorical "
        "p-values. For 2×2 tables, Fisher's exact columns are computed on the table; for larger "
        "tables the Fisher column is the exact Fisher–Freeman–Halton test. "
        f"In {len(differ)} rows the recommended two-sided p-value differs from the one the paper "
        "printed (column *Two-sided*).", "",
        markdown_table(shown, "Printed categorical p-values recomputed from the printed counts "
                       "under each candidate test", "tbl-audit",
                       text_columns=("Reproduced by",)),
        continuous_tests_text(checks, TEST_LABELS["mannwhitney"]), "",
        "**Where the paper contradicts itself.** A check on the printed numbers alone proves "
        "each number below impossible together with the others it is compared with (the check "
        "and its evidence, computed at run time); the reconstruction follows the reading most "
        "numbers agree with, and Appendix A shows which of these it meets. Each verdict is in "
        "one of the classes of Appendix A; what it rests on beyond the printed numbers is "
        "named with it, in italics.", "",
        *_class_block("Impossible from the printed numbers alone",
                      verdict_items(checks, published, IMPOSSIBLE)),
        *_class_block("Impossible under a stated assumption (named with each; the Assumptions "
                      "section shows the verdicts without it)",
                      verdict_items(checks, published, IMPOSSIBLE_IF)),
        *_class_block("Possible only if the paper's n or missing data differ from what it "
                      "prints (the n or missing values needed, named with each)",
                      verdict_items(checks, published, NEEDS_OTHER_N)),
        *_class_block("Undecidable from the printed numbers",
                      verdict_items(checks, published, UNDECIDABLE)),
        "**Dose series and sentences the checks weigh.** What the printed means, SDs and n "
        "allow, by the checks named:", "", *dose_series_text(checks)]
    return "\n".join(lines) + "\n"
