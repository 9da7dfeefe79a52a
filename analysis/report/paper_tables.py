"""Tables 1, 2 and 3 in the paper's layout: headings, indented levels, captions, footnotes.

The numbers come from :mod:`analysis.tables` as long frames; this module is the last pass that
turns them into the layout Sharma 2017 prints (as ``tableone`` separates computing from
formatting), and writes each table as CSV (numbers) and captioned Markdown (layout).
"""

from __future__ import annotations

import pandas as pd

from analysis.format import format_p, not_computable
from analysis.paper.rows import BY_KEY, HEADINGS
from analysis.params import Params
from analysis.report.markdown import save_table
from analysis.tables import MIN_PER_GROUP

__all__ = ["FOOTNOTE", "format_table", "caption", "p_value_note", "table_notes",
           "save_paper_table"]


def _suppress(count: int, below: int) -> str:
    return f"<{below}" if below and 0 < count < below else str(count)


def _mean_cell(mean: float, n: int, size: int) -> str:
    """A group's mean in Tables 2 and 3, with its n when below the group's size; "not
    computable (n = 0)" when no patient of the group has a value (issue 13: never ``nan``)."""
    if not n or pd.isna(mean):
        return not_computable(n)
    return f"{mean:.1f}" + (f" [n = {n}]" if n < size else "")


def _p_cell(rec: dict, kind: str) -> str:
    """A row's p-value, or why its test could not run: a group below the patients the test
    needs (:data:`analysis.tables.MIN_PER_GROUP`), with both groups' n."""
    need = MIN_PER_GROUP[kind]
    if pd.isna(rec["p"]) and min(rec["n_resp"], rec["n_nonresp"]) < need:
        return not_computable(rec["n_resp"], rec["n_nonresp"], need=need)
    return format_p(rec["p"])


def _t1_mean_cell(rec: dict) -> str:
    """Table 1's mean (SD) [n], or "not computable" where no patient (mean) or one (SD) has
    a value."""
    if not rec["n"]:
        return not_computable(0)
    sd = f"{rec['sd']:.1f}" if not pd.isna(rec["sd"]) else f"SD {not_computable(rec['n'])}"
    value = f"{rec['mean']:.1f} ({sd})"
    return value + (f" [n = {rec['n']}]" if rec["n"] < rec["denominator"] else "")


def format_table(frame: pd.DataFrame, suppress_below: int = 0) -> pd.DataFrame:
    """The paper's layout: headings, indented levels, n (%) / mean (SD) or counts and p.

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
                         **({"p": _p_cell(block.iloc[0].to_dict(), spec.kind)}
                            if table != "t1" else {})})
        indent = "\u2003" if multi or spec.heading else ""
        for rec in block.to_dict("records"):
            label = indent + str(rec["label"])
            if table == "t1":
                if spec.kind == "continuous":
                    value = _t1_mean_cell(rec)
                    if not spec.heading:  # the paper marks a heading (PFT), not its rows
                        label += ", mean (SD)"
                elif suppress_below and 0 < rec["n"] < suppress_below:
                    value = f"<{suppress_below}"  # the percentage would give the count back
                elif not rec["denominator"]:
                    value = not_computable(0)
                else:
                    value = f"{rec['n']} ({rec['pct']:.1f})"
                rows.append({"Clinical characteristics": label, "Values": value})
            else:
                if spec.kind == "continuous":
                    resp = _mean_cell(rec["resp"], rec["n_resp"], sizes["resp"])
                    nonresp = _mean_cell(rec["nonresp"], rec["n_nonresp"], sizes["nonresp"])
                else:
                    resp = _suppress(int(rec["resp"]), suppress_below)
                    nonresp = _suppress(int(rec["nonresp"]), suppress_below)
                out = {"Clinical characteristics": label, "Responders": resp,
                       "Nonresponders": nonresp}
                if not multi:
                    out["p"] = _p_cell(rec, spec.kind)
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
    """Which test gave each p-value, as a footnote: the test, then the rows it was used for.

    >>> f = pd.DataFrame({"variable": ["sex", "age"], "test": ["chi2", "mannwhitney"]})
    >>> p_value_note(f)
    'p-values: Mann-Whitney rank-sum test, normal approximation with tie correction (age); Pearson chi-square (sex).'
    """  # noqa: E501
    from analysis.stats import TEST_LABELS

    tests = frame.loc[frame["test"].astype(str) != "", ["variable", "test"]]
    if tests.empty:
        return ""
    parts = [f"{TEST_LABELS.get(test, test)} ({', '.join(block['variable'])})"
             for test, block in tests.groupby("test")]
    return "p-values: " + "; ".join(sorted(parts)) + "."


def table_notes(frame: pd.DataFrame) -> str:
    """The notes under Table 1, 2 or 3: the abbreviations, and for Tables 2 and 3 the note
    naming each row's test (:func:`p_value_note`)."""
    return FOOTNOTE if frame["table"].iloc[0] == "t1" else f"{FOOTNOTE} {p_value_note(frame)}"


def save_paper_table(run_dir, stem: str, frame: pd.DataFrame, params: Params) -> None:
    """Save a table as numbers (CSV) and in the paper's layout (Markdown, captioned)."""
    notes = table_notes(frame)
    save_table(run_dir, stem, frame, format_table(frame, params.suppress_below),
               caption=caption(frame), label=f"tbl-{stem}", notes=notes)
