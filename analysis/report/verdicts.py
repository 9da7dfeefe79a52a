"""Appendix B's computed evidence: sentences filled from the consistency checks of a run.

Every number below comes from :func:`analysis.consistency.verdicts` (checks on the paper's
printed numbers only, computed at run time); nothing is typed from the paper. The templates
name the check that produced each number (Sharma 2017, Statistical analysis; Results, "Change
in the doses of DMARD"; Tables 1-3).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from analysis.consistency import row_verdicts
from analysis.consistency.core import IMPOSSIBLE, IMPOSSIBLE_IF
from analysis.consistency.statements import STATEMENTS
from analysis.paper import rows as paper_rows
from analysis.printed import format_at

__all__ = ["continuous_tests_text", "contradictions_text", "dose_series_text",
           "verdict_items"]

#: Continuous rows of Tables 2 and 3, in the order the tables print them: key -> name in a
#: sentence.
CONTINUOUS = {key: paper_rows.row(key).short for key in paper_rows.CONTINUOUS}
#: Printed numbers whose verdicts Appendix B spells out (Results, Table 1): id -> (title, check).
DOSE_SERIES = {
    "text.dose.conv_fail.prednisone.m6_12.p": ("Prednisone in the conventional failures",
                                               "paired_t_range"),
    "text.dose.tac.prednisone.m3_6.p": ("Prednisone after tacrolimus start", "paired_t_range"),
    "text.dose.conv.prednisone.m6_12.fail_mean": ("Prednisone at 6–12 months, two printings",
                                                  "same_quantity"),
    "text.conv.pm_vs_dm.p": ("Which test the text's PM vs DM p is", "which_test"),
    "t1.ck.mean": ("Table 1's CK mean against Table 2's group means", "pooled_mean"),
}


def _one(checks: pd.DataFrame, ident: str, check: str) -> tuple[str, str, dict[str, Any]]:
    """``(class, sentence, evidence)`` of one check on one printed number (the class with its
    condition when it has one: "possible only if n differs: only if 6-12 pairs ...")."""
    row = checks[(checks["id"] == ident) & (checks["check"] == check)]
    if len(row) != 1:
        raise KeyError(f"consistency verdicts: expected one {check!r} row for {ident!r}, "
                       f"got {len(row)}")
    rec = row.iloc[0]
    klass = str(rec["class"]) + (f": {rec['condition']}" if rec["condition"] else "")
    return klass, str(rec["sentence"]), json.loads(rec["evidence"])


def _range(lo: float, hi: float) -> str:
    a, b = format_at(lo, 2), format_at(hi, 2)
    return a if a == b else f"{a}–{b}"


def _u_text(reading: list[Any], sizes: tuple[int, int]) -> str:
    """"U = 302 of 713" from ``mw_reading`` = (n1, n2, U_lo, U_hi, tied values)."""
    n1, n2, u_lo, u_hi, ties = reading
    u = f"{u_lo:g}" if u_lo == u_hi else f"{u_lo:g}–{u_hi:g}"
    text = f"U = {u} of {n1 * n2}"
    if (n1, n2) != sizes:
        text += f" with {n1} vs {n2} measured"
    return text + (f", {ties} tied values" if ties else "")


def continuous_tests_text(checks: pd.DataFrame, label: str) -> str:
    """The continuous-test paragraph, from the ``two_sample_p`` verdicts of Tables 2 and 3.

    Parameters
    ----------
    checks : pandas.DataFrame
        :func:`analysis.consistency.verdicts` of the run.
    label : str
        Name of the test the run uses for continuous rows (:data:`analysis.stats.TEST_LABELS`).
    """
    t2 = {v: _one(checks, f"t2.{v}.p", "two_sample_p")[2] for v in CONTINUOUS}
    t3 = {v: _one(checks, f"t3.{v}.p", "two_sample_p")[2] for v in CONTINUOUS}
    off = [v for v, e in t2.items() if e["t_p_lo"] is not None and not e["t_fits"]]
    fits = [v for v, e in t2.items() if e["t_fits"]]
    t_text = "; ".join(f"{CONTINUOUS[v]} {_range(e['t_p_lo'], e['t_p_hi'])} against the printed "
                       f"{e['printed']}" for v, e in t2.items() if e["t_p_lo"] is not None)
    mw_all = all(e["mw_fits"] for e in (*t2.values(), *t3.values()))
    parts = [
        "**Continuous rows.** The paper names a paired t test (which cannot compare two groups "
        "of different patients) and the Mann–Whitney test without saying which row used "
        "which. The check `two_sample_p` computes, from the printed numbers "
        "alone, what each test could give. In Table 2, Table 1's SD and the group means fix the "
        f"pooled variance, so the t test's p is known up to rounding: {t_text}. "
        f"So {len(off)} of {len(t2)} Table 2 p-values cannot come from a t test"
        + (f" (it fits {', '.join(CONTINUOUS[v] for v in fits)})" if fits else "") + ". ",
        "The Mann–Whitney test needs " + "; ".join(
            f"{CONTINUOUS[v]} {_u_text(e['mw_reading'], (e['n1'], e['n2']))}"
            for v, e in t2.items() if e["mw_fits"]) + ". ",
        "Table 3 prints no SD, so only the Mann–Whitney test can be checked there: "
        + "; ".join(f"{CONTINUOUS[v]} p = {e['printed']} (means {e['a']} vs {e['b']}) needs "
                    f"{_u_text(e['mw_reading'], (e['n1'], e['n2']))}"
                    for v, e in t3.items() if e["mw_fits"]) + ". ",
    ]
    if mw_all:
        parts.append(f"Every continuous row therefore uses the Mann–Whitney test ({label}).")
    else:
        missing = [f"Table {t} {CONTINUOUS[v]}" for t, rows in (("2", t2), ("3", t3))
                   for v, e in rows.items() if not e["mw_fits"]]
        parts.append(f"No Mann–Whitney U reaches {', '.join(missing)}.")
    return "".join(parts)


def _labelled(published: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in published.to_dict("records")}


def verdict_items(checks: pd.DataFrame, published: pd.DataFrame, klass: str) -> list[str]:
    """Every printed number whose verdict is of class ``klass``, as Markdown list items.

    One item per number (:func:`analysis.consistency.row_verdicts`: the strongest class, its
    first check in name order), in the order of ``published``: where the paper prints it,
    the deciding check, what the verdict rests on (its condition, in italics) and the
    evidence. Statements without a number of their own (a test the Methods name, applied to a
    table; an "all" or "none" sentence: :data:`analysis.consistency.statements.STATEMENTS`)
    come last, with their place in the paper.
    """
    rows = row_verdicts(checks)
    chosen = rows[rows["class"] == klass]
    labels = _labelled(published)
    order = {ident: i for i, ident in enumerate(labels)}
    items = []
    for rec in sorted(chosen.to_dict("records"), key=lambda r: order.get(r["id"], len(order))):
        condition = f" — *{rec['condition']}*" if rec["condition"] else ""
        if rec["id"] not in labels:
            said = STATEMENTS[rec["id"]]
            items.append(f"- {said.source}: {said.label} ({said.location}): `{rec['check']}`"
                         f"{condition}: {rec['sentence']}")
            continue
        row = labels[rec["id"]]
        if str(row["source"]).startswith(("Table", "Figure")) and row.get("location"):
            head = f"{row['location']} (printed {row['printed']})"  # names row and column
        else:
            where = f"; {row['location']}" if row.get("location") else ""
            head = f"{row['source']}, {row['row_label']} (printed {row['printed']}{where})"
        items.append(f"- {head}: `{rec['check']}`{condition}: {rec['sentence']}")
    return items


def contradictions_text(checks: pd.DataFrame, published: pd.DataFrame) -> list[str]:
    """"Where the paper contradicts itself": every printed number a check proves impossible,
    from the printed numbers alone first, then under a stated assumption (its condition named);
    :func:`verdict_items` of both classes."""
    return [*verdict_items(checks, published, IMPOSSIBLE),
            *verdict_items(checks, published, IMPOSSIBLE_IF)]


def _signed(r: float) -> str:
    return f"{r:.2f}".replace("-", "−")


def _paired_text(e: dict[str, Any]) -> str:
    """A paired prednisone series: what the printed p needs (``paired_t_range``)."""
    head = (f"{e['a']} ± {e['sa']} → {e['b']} ± {e['sb']} mg, printed p = {e['printed']}: "
            f"with n = {e['n']} pairs{e['reading_txt']} a paired t test gives p between "
            f"{e['plo']} and {e['phi']} over every correlation r in [−1, 1]")
    if e["r_lo"] is None:
        return (f"{head}, so no r gives p = {e['printed']} with n = {e['n']}; it needs "
                f"n = {e['fit_txt']} patients with both doses recorded")
    r_lo, r_hi = _signed(e["r_lo"]), _signed(e["r_hi"])
    return f"{head}; p = {e['printed']} needs r between {r_lo} and {r_hi}"


def dose_series_text(checks: pd.DataFrame) -> list[str]:
    """The verdicts on the prednisone series (p = 0.08, p = 0.002), on 31.2 vs 31.6 mg, on the
    PM vs DM p of the text and on Table 1's CK mean (missing values), one Markdown list item
    each, filled from the checks' evidence (the others' sentences as the checks print them).
    """
    items = []
    for ident, (title, name) in DOSE_SERIES.items():
        verdict, sentence, e = _one(checks, ident, name)
        if name == "paired_t_range":
            body = _paired_text(e)
        elif name == "same_quantity":
            body = (f"the paired series prints {e['a']} mg, the between-group sentence {e['b']} "
                    f"mg; their rounding intervals are {e['gap']:.2f} mg apart"
                    f"{re.sub(r'^;', ',', e['extra_txt'])}")
        else:
            body = sentence.rsplit(":", 1)[0]
        items.append(f"- *{title}* (`{name}`, {verdict}): {body}.")
    return items
