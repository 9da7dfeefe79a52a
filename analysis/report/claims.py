"""The paper's conclusions in the report: ``tables/claims.csv`` and the tables that show it.

The claims, their measures and the one judgement are :mod:`analysis.paper.claims`. This module
writes a run's ``tables/claims.csv`` (the one source of the report's table of conclusions, a
variant's lead table and the prose's direction words) and lays it out: the run's own table
(:func:`claims_markdown`) and a variant's comparison with the paper run
(:func:`variant_claims_table`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.files import write_atomic
from analysis.format import format_number
from analysis.paper.claims import SUPPORTING, claims_table
from analysis.report.markdown import markdown_table

__all__ = ["save_claims", "load_claims", "claims_rows", "claims_markdown", "variant_claims_table",
           "estimate_text", "verdict_markdown"]


def estimate_text(rec: Mapping[str, Any]) -> str:
    """An estimate with its unit and 95% interval, as the tables print it.

    >>> estimate_text({"estimate": 31.7, "low": 4.9, "high": 52.1, "unit": "percentage points",
    ...                "kind": "comparison"})
    '31.7 percentage points (95% CI 4.9 to 52.1)'
    >>> estimate_text({"estimate": 72.2, "low": 46.52, "high": 90.3, "unit": "percent",
    ...                "kind": "descriptive"})
    '72% (95% CI 47% to 90%)'
    >>> estimate_text({"estimate": float("nan"), "low": 1, "high": 2, "unit": "mg",
    ...                "kind": "comparison"})
    'not computable'
    """
    est = rec.get("estimate")
    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "not computable"
    if rec.get("kind") == "absence":
        return f"{int(est)} {'row' if int(est) == 1 else 'rows'} with p below the level"
    percent = rec.get("unit") == "percent"
    digits = 0 if percent else 1

    def show(value: float) -> str:
        return format_number(value, digits) + ("%" if percent else "")

    text = show(est) if percent else f"{show(est)} {rec.get('unit', '')}".rstrip()
    low, high = rec.get("low"), rec.get("high")
    if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
        text += f" (95% CI {show(low)} to {show(high)})"
    return text


def save_claims(run_dir: Path, numbers: Mapping[str, Any], tests: Mapping[str, str],
                published: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Write ``tables/claims.csv`` (one row per claim, full precision) and ``tables/claims.md``
    (the report's table of conclusions); return the frame."""
    frame = claims_table(numbers, alpha, tests, published)
    folder = Path(run_dir) / "tables"
    write_atomic(folder / "claims.csv",
                 frame.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
    write_atomic(folder / "claims.md", claims_markdown(frame, alpha))
    return frame


def load_claims(run_dir: Path) -> pd.DataFrame | None:
    """A run's ``tables/claims.csv``, or None where the run has none (an older bundle)."""
    path = Path(run_dir) / "tables" / "claims.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def verdict_markdown(verdict: str, before: str | None = None) -> str:
    """A verdict as the report's tables print it (issue 25: a verdict a reader must not miss
    is marked, in bold, which HTML, PDF and Word show alike under both engines).

    Without ``before`` (a run's own table): a verdict that does not support the paper is bold.
    With ``before`` (a variant's table: the paper run's verdict): a changed verdict is bold
    and says whether the conclusion is no longer supported, newly supported, or changed.

    >>> verdict_markdown("holds"), verdict_markdown("not established")
    ('holds', '**not established**')
    >>> verdict_markdown("direction only", "holds")
    '**no longer supported** (holds → direction only)'
    >>> verdict_markdown("holds", "direction only"), verdict_markdown("holds", "holds")
    ('**newly supported** (direction only → holds)', 'holds')
    >>> verdict_markdown("reversed", "direction only")
    '**changed** (direction only → reversed)'
    """
    if before is None:
        return verdict if verdict in SUPPORTING else f"**{verdict}**"
    if verdict == before:
        return verdict
    was, now = before in SUPPORTING, verdict in SUPPORTING
    change = ("no longer supported" if was and not now else "newly supported" if now and not was
              else "changed")
    return f"**{change}** ({before} → {verdict})"


def claims_rows(frame: pd.DataFrame, keyed_cells: bool = False) -> pd.DataFrame:
    """``tables/claims.csv`` as the report prints it: each claim as the paper states it, what
    the paper printed, this run's numbers and estimate (95% CI), and the verdict. With
    ``keyed_cells`` (the report), this run's cells carry the claim's key (issue 28): its card
    says how it is judged; and a verdict that does not support the paper is marked
    (:func:`verdict_markdown`; the notebook shows plain text)."""
    from analysis.report.spans import keyed

    keys = "claim." + frame["id"].astype(str)

    def mark(text: str, key: str) -> str:
        return keyed(text, key) if keyed_cells else text

    return pd.DataFrame({
        "Conclusion of the paper": frame["label"],
        "The paper printed": frame["paper"].fillna(""),
        "This run": [mark(d, k) for d, k in zip(frame["detail"], keys, strict=True)],
        "Estimate": [mark(estimate_text(r), k)
                     for r, k in zip(frame.to_dict("records"), keys, strict=True)],
        "Verdict": [verdict_markdown(v) if keyed_cells else v for v in frame["verdict"]]})


def claims_markdown(frame: pd.DataFrame, alpha: float) -> str:
    """The report's table of conclusions (:func:`claims_rows`) with its caption and note."""
    shown = claims_rows(frame, keyed_cells=True)
    supported = int(frame["verdict"].isin(SUPPORTING).sum())
    notes = (f"{supported} of {len(frame)} conclusions are supported by this run (*holds* or "
             f"*established*), at a significance level of {alpha:g}; the verdicts follow the "
             "rule stated in the Methods. Estimates are with their 95% confidence intervals.")
    # No cross-reference label: the paper's Tables 1-3 keep their numbers (this table comes
    # before them), as the variant report's tables do.
    return markdown_table(shown, "The paper's conclusions and what this run finds", None, notes,
                          left_columns=len(shown.columns))


def variant_claims_table(paper: pd.DataFrame, this: pd.DataFrame) -> pd.DataFrame:
    """A variant's lead table: each claim, its verdict (marked where it changed:
    :func:`verdict_markdown`), and the paper run's and this run's numbers.

    Both frames are runs' ``tables/claims.csv``; the verdicts were judged by the same rule
    (:func:`analysis.paper.claims.judge`) when each run was built. What the paper printed is
    not repeated here (issue 25: beside the paper run's numbers it read as the same column
    twice); the paper run's own table of conclusions shows it.
    """
    before = paper.set_index("id")
    rows = []
    for rec in this.to_dict("records"):
        old = before.loc[rec["id"]] if rec["id"] in before.index else None
        old_verdict = str(old["verdict"]) if old is not None else "not in the paper run"
        rows.append({"Conclusion of the paper": rec["label"],
                     "Verdict (paper run → this run)": verdict_markdown(rec["verdict"],
                                                                        old_verdict),
                     "Paper run": str(old["detail"]) if old is not None else "",
                     "This run": rec["detail"]})
    return pd.DataFrame(rows)
