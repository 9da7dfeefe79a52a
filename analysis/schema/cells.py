"""One cell of an export as text, whichever file it came from (CSV, Excel, Stata): shared by
the readers (:mod:`analysis.schema.read`, :mod:`analysis.schema.excel`) so that neither
imports the other for it (issue 24: no import cycles)."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["_cell_text"]


def _cell_text(value) -> str:
    """One cell as the text a CSV export would hold: blank for missing, whole numbers without
    a decimal point (Excel and Stata store 55 as 55.0), text stripped of outer spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or hasattr(value, "dtype") and value.dtype.kind == "f":
        if math.isnan(value):
            return ""
        if math.isfinite(value) and float(value).is_integer() and abs(value) < 2 ** 53:
            return str(int(value))
        return str(value)  # shortest text of a float32 or float64 ("123.8")
    return str(value).strip()
