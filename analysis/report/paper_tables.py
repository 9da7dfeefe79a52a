"""Tables 1, 2 and 3 in the paper's layout: headings, indented levels, captions, footnotes.

The numbers come from :mod:`analysis.tables` as long frames; this module is the last pass that
turns them into the layout Sharma 2017 prints (as ``tableone`` separates computing from
formatting), and writes each table as CSV (numbers) and captioned Markdown (layout).
"""

from __future__ import annotations

import pandas as pd

from analysis.format import format_p_against, not_computable
from analysis.paper.rows import BY_KEY, HEADINGS
from analysis.params import Params
from analysis.report.markdown import save_table
from analysis.tables import MIN_PER_GROUP

__all__ = ["FOOTNOTE", "NOT_COMPUTABLE_MARK", "format_table", "caption", "p_value_note",
           "not_computable_note", "table_notes",
           "save_paper_table"]


def _suppress(count: int, below: int) -> str:
    return f"<{below}" if below and 0 < count < below else str(count)


def _plain(text: str, key: str, link: bool = True) -> str:
    return text


def _mean_cell(mean: float, n: int, size: int, key: str = "", n_key: str = "",
               mark=_plain) -> str:
    """A group's mean in Tables 2 and 3, with its n when below the group's size; "not
    computable (n = 0)" when no patient of the group has a value (issue 13: never ``nan``)."""
    if not n or pd.isna(mean):
        return mark(not_computable(n), key)
    return mark(f"{mean:.1f}", key) + (f" [n = {mark(str(n), n_key, False)}]" if n < size
                                       else "")


#: The p column's mark for a test that could not run; the table's notes say why, per row
#: (issue 25: the reason in the cell stretched the p column of Table 3).
NOT_COMPUTABLE_MARK = "NC\u2020"


def _too_small(rec: dict, kind: str) -> bool:
    """Whether a row's test could not run because a group is below the patients the test
    needs (:data:`analysis.tables.MIN_PER_GROUP`)."""
    return bool(pd.isna(rec["p"]) and min(rec["n_resp"], rec["n_nonresp"]) < MIN_PER_GROUP[kind])


def _p_cell(rec: dict, kind: str, key: str = "", mark=_plain, alpha: float = 0.05) -> str:
    """A row's p-value, with the digits that show which side of ``alpha`` it lies (issue 25:
    0.0498 printed "0.050"; :func:`analysis.format.format_p_against`), or
    :data:`NOT_COMPUTABLE_MARK` where its test could not run (the notes give both groups' n:
    :func:`not_computable_note`); ``mark`` keys the cell (issue 28)."""
    return mark(NOT_COMPUTABLE_MARK if _too_small(rec, kind)
                else format_p_against(rec["p"], alpha), key)


def not_computable_note(frame: pd.DataFrame) -> str:
    """The footnote of the rows of Table 2 or 3 whose test could not run: each row, both
    groups' n and the n the test needs per group; empty when every test ran.

    >>> f = pd.DataFrame({"table": "t3", "variable": ["histology"], "p": [float("nan")],
    ...                   "n_resp": [7], "n_nonresp": [0]})
    >>> not_computable_note(f)
    '†NC: not computable: Lung histopathology, not computable (n = 7 vs 0; needs 1 per group).'
    """
    if frame["table"].iloc[0] == "t1":
        return ""
    parts = []
    for variable, block in frame.groupby("variable", sort=False):
        spec = BY_KEY[variable]
        rec = block.iloc[0].to_dict()
        if _too_small(rec, spec.kind):
            parts.append(f"{spec.t2_label or spec.label}, "
                         + not_computable(rec["n_resp"], rec["n_nonresp"],
                                          need=MIN_PER_GROUP[spec.kind]))
    return f"\u2020NC: not computable: {'; '.join(parts)}." if parts else ""


def _t1_mean_cell(rec: dict, stem: str = "", mark=_plain) -> str:
    """Table 1's mean (SD) [n], or "not computable" where no patient (mean) or one (SD) has
    a value."""
    if not rec["n"]:
        return mark(not_computable(0), f"{stem}.mean")
    sd = (mark(f"{rec['sd']:.1f}", f"{stem}.sd") if not pd.isna(rec["sd"])
          else f"SD {mark(not_computable(rec['n']), f'{stem}.sd')}")
    mean = f"{rec['mean']:.1f}"
    value = f"{mark(mean, f'{stem}.mean')} ({sd})"
    return value + (f" [n = {mark(str(rec['n']), f'{stem}.n')}]"
                    if rec["n"] < rec["denominator"] else "")


def format_table(frame: pd.DataFrame, suppress_below: int = 0, mark=_plain,
                 alpha: float = 0.05) -> pd.DataFrame:
    """The paper's layout: headings, indented levels, n (%) / mean (SD) or counts and p.

    ``mark(text, key, link=True)`` wraps each number's text with its key (``results.json``'s,
    e.g. ``t1.sex.male.n``); the default leaves it plain, as notebooks and the workbook show
    it; the report's Markdown passes :func:`analysis.report.provenance.mark` (issue 28).

    Returns a frame of strings with columns ``Clinical characteristics`` and the value columns.
    """
    table = frame["table"].iloc[0]
    rows: list[dict[str, str]] = []
    if table != "t1":  # group sizes, as in the caption: a mean on fewer patients says so
        sizes = frame.loc[frame["variable"] == "sex", ["resp", "nonresp"]].sum()
    for variable, block in frame.groupby("variable", sort=False):
        spec = BY_KEY[variable]
        if variable in HEADINGS:
            rows.append({"Clinical characteristics": f"**{HEADINGS[variable]}**"})
        multi = (block["level"] != "").any() and spec.kind == "categorical"
        if multi:
            rows.append({"Clinical characteristics": f"**{spec.label}**",
                         **({"p": _p_cell(block.iloc[0].to_dict(), spec.kind,
                                          f"{table}.{variable}.p", mark, alpha)}
                            if table != "t1" else {})})
        indent = "\u2003" if multi or spec.heading else ""
        for rec in block.to_dict("records"):
            label = indent + str(rec["label"])
            stem = ".".join(part for part in (table, variable, rec["level"]) if part)
            if table == "t1":
                if spec.kind == "continuous":
                    value = _t1_mean_cell(rec, stem, mark)
                    if not spec.heading:  # the paper marks a heading (PFT), not its rows
                        label += ", mean (SD)"
                elif suppress_below and 0 < rec["n"] < suppress_below:
                    # the percentage would give the count back
                    value = mark(f"<{suppress_below}", f"{stem}.n")
                elif not rec["denominator"]:
                    value = mark(not_computable(0), f"{stem}.n")
                else:
                    pct = f"{rec['pct']:.1f}"
                    value = f"{mark(str(rec['n']), f'{stem}.n')} ({mark(pct, f'{stem}.pct')})"
                rows.append({"Clinical characteristics": label, "Values": value})
            else:
                if spec.kind == "continuous":
                    resp = _mean_cell(rec["resp"], rec["n_resp"], sizes["resp"],
                                      f"{stem}.resp", f"{stem}.n_resp", mark)
                    nonresp = _mean_cell(rec["nonresp"], rec["n_nonresp"], sizes["nonresp"],
                                         f"{stem}.nonresp", f"{stem}.n_nonresp", mark)
                else:
                    resp = mark(_suppress(int(rec["resp"]), suppress_below), f"{stem}.resp")
                    nonresp = mark(_suppress(int(rec["nonresp"]), suppress_below),
                                   f"{stem}.nonresp")
                out = {"Clinical characteristics": label, "Responders": resp,
                       "Nonresponders": nonresp}
                if not multi:
                    out["p"] = _p_cell(rec, spec.kind, f"{table}.{variable}.p", mark, alpha)
                rows.append(out)
    return pd.DataFrame(rows).fillna("")


FOOTNOTE = (
    "\\*COP with NSIP, COP with hypersensitivity pneumonitis, and COP with diffuse alveolar "
    "damage. MA-ILD: myositis-associated interstitial lung disease; CADM: clinically amyopathic "
    "dermatomyositis; CK: creatine kinase; ANA: antinuclear antibody; SRP: signal recognition "
    "particle; PFT: pulmonary function test; FVC: forced vital capacity; TLC: total lung "
    "capacity; DLCO: diffusing capacity of the lung for carbon monoxide; CT: computed "
    "tomography; OP: organizing pneumonia; COP: cryptogenic OP; NSIP: nonspecific interstitial "
    "pneumonia; UIP: usual interstitial pneumonia; DMARD: disease-modifying antirheumatic drugs; "
    "AZA: azathioprine; MTX: methotrexate; MMF: mycophenolate mofetil; N/A: not applicable."
)


def caption(frame: pd.DataFrame) -> str:
    """The paper's caption of a table, with the group sizes of this run."""
    table = frame["table"].iloc[0]
    if table == "t1":
        n = int(frame.loc[frame["variable"] == "sex", "n"].sum())
        return (f"Clinical characteristics of patients with MA-ILD (n = {n}). "
                "Values are n (%) unless otherwise specified.")
    n_r = int(frame.loc[frame["variable"] == "sex", "resp"].sum())
    n_n = int(frame.loc[frame["variable"] == "sex", "nonresp"].sum())
    if table == "t2":
        what = "who responded to or failed conventional treatment"
    else:
        what = "who failed conventional treatment and received adjunctive tacrolimus"
    return (f"Clinical characteristics of patients with MA-ILD {what} (n = {n_r + n_n}; "
            f"responders n = {n_r}, nonresponders n = {n_n}). Values are n unless otherwise "
            "specified; continuous rows are means.")


def p_value_note(frame: pd.DataFrame) -> str:
    """Which test gave each p-value, as a footnote: the test, then the rows it was used for,
    named as the table prints them (without their unit).

    >>> f = pd.DataFrame({"variable": ["sex", "age", "mi2"],
    ...                   "test": ["chi2", "mannwhitney", "chi2"]})
    >>> p_value_note(f)
    'p-values: Mann-Whitney rank-sum test, normal approximation with tie correction (Age at onset of myositis); Pearson chi-square (Sex, Mi-2).'
    """  # noqa: E501
    from analysis.report.labels import row_label
    from analysis.stats import TEST_LABELS

    tests = frame.loc[frame["test"].astype(str) != "", ["variable", "test"]]
    if tests.empty:
        return ""
    parts = [f"{TEST_LABELS.get(test, test)} "
             f"({', '.join(row_label(v).split(', ')[0] for v in block['variable'])})"
             for test, block in tests.groupby("test")]
    return "p-values: " + "; ".join(sorted(parts)) + "."


def table_notes(frame: pd.DataFrame) -> str:
    """The notes under Table 1, 2 or 3: the abbreviations, and for Tables 2 and 3 the note
    naming each row's test (:func:`p_value_note`)."""
    if frame["table"].iloc[0] == "t1":
        return FOOTNOTE
    return " ".join(part for part in (FOOTNOTE, p_value_note(frame), not_computable_note(frame))
                    if part)


def save_paper_table(run_dir, stem: str, frame: pd.DataFrame, params: Params) -> None:
    """Save a table as numbers (CSV) and in the paper's layout (Markdown, captioned)."""
    from analysis.report.spans import mark

    notes = table_notes(frame)
    save_table(run_dir, stem, frame, format_table(frame, params.suppress_below, mark, params.alpha),
               caption=caption(frame), label=f"tbl-{stem}", notes=notes)
