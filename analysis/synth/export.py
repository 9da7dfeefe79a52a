"""The reconstructed cohort as CSV text with deterministic bytes.

Fixed column order (the codebook's), rows sorted by patient, then time point (and drug) in
their natural order, fixed number formats (``month`` and ``aldolase`` with one decimal, doses
with at most two), booleans written ``Yes``/``No``, missing values blank, ``\\n`` line endings,
UTF-8. The same frames therefore always give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.schema import DOSE_TIMEPOINT_ORDER, TIMEPOINT_ORDER
from analysis.synth.assessments import ASSESSMENT_COLUMNS
from analysis.synth.patients import PATIENT_COLUMNS

__all__ = ["DOSE_COLUMNS", "DRUG_ORDER", "to_text", "write"]

DOSE_COLUMNS = ("patient_id", "drug", "timepoint", "dose_mg")
DRUG_ORDER = ("prednisone", "AZA", "MTX", "MMF")
_COLUMNS = {"patients": PATIENT_COLUMNS, "assessments": ASSESSMENT_COLUMNS,
            "doses": DOSE_COLUMNS}
_ONE_DECIMAL = {"month", "aldolase"}


def _cell(value: object, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    if column in _ONE_DECIMAL:
        return f"{float(value):.1f}"
    if column == "dose_mg":
        text = f"{float(value):.2f}".rstrip("0").rstrip(".")
        return text or "0"
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return repr(number)


def _sorted(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    if table == "patients":
        keys = frame[["patient_id"]]
    elif table == "assessments":
        rank = {tp: i for i, tp in enumerate(TIMEPOINT_ORDER)}
        keys = pd.DataFrame({"patient_id": frame["patient_id"],
                             "t": frame["timepoint"].map(rank)})
    else:
        drug = {d: i for i, d in enumerate(DRUG_ORDER)}
        rank = {tp: i for i, tp in enumerate(DOSE_TIMEPOINT_ORDER)}
        keys = pd.DataFrame({"patient_id": frame["patient_id"],
                             "d": frame["drug"].map(drug), "t": frame["timepoint"].map(rank)})
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return frame.loc[order]


def to_text(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table as text cells, in file order (what :func:`write` writes).

    Returns
    -------
    dict with keys ``patients``, ``assessments``, ``doses``: DataFrames of str, columns in
    codebook order, rows sorted.
    """
    out = {}
    for table, columns in _COLUMNS.items():
        frame = _sorted(table, frames[table][list(columns)])
        text = pd.DataFrame({c: [_cell(v, c) for v in frame[c].astype(object)]
                             for c in columns}, dtype=object)
        out[table] = text.reset_index(drop=True)
    return out


def csv_bytes(text: pd.DataFrame) -> bytes:
    """One text table as CSV bytes (header, comma, ``\\n``)."""
    lines = [",".join(text.columns)]
    lines += [",".join(row) for row in text.itertuples(index=False, name=None)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write(frames: dict[str, pd.DataFrame], out_dir: str | Path) -> dict[str, Path]:
    """Write ``patients.csv``, ``assessments.csv`` and ``doses.csv`` into ``out_dir``.

    Each file is written beside its target and moved into place, so a failure never leaves a
    half-written table.

    Returns
    -------
    dict of table name to the path written.
    """
    from analysis.files import write_atomic

    out_dir = Path(out_dir)
    return {table: write_atomic(out_dir / f"{table}.csv", csv_bytes(text))
            for table, text in to_text(frames).items()}
