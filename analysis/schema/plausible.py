"""Plausible ranges and units: a value the codebook's hard limits accept but no patient has
in the declared unit (mycophenolate 2 mg/day: typed in grams), and the unit it was likely
typed in.

The codebook (``data/raw/codebook.csv``) gives, per column and with its clinical source
(``plausible_source``):

- ``plausible``: the range a real value lies in, in the column's unit: ``10-100000``, or one
  range per category of another column of the same table,
  ``drug=MMF:0,250-3000;drug=AZA:0,25-300`` (comma-separated ranges or single values; ``0``
  is "stopped" for a dose);
- ``other_units``: the units a value is often typed in instead, each with the factor from the
  column's unit, ``g/day=1/1000`` (2000 mg/day is 2 g/day), ``months=12``.

A value outside the plausible range is an error naming the range and, where dividing it by a
factor puts it inside, the likely unit (:func:`likely_unit`); when most values of a column (or
of one drug) are outside and every one is inside another unit's range, one error says the
column looks typed in that unit. The synthetic cohort and the paper's printed ranges lie well
inside every range (Sharma 2017, Table 1 and the dose paragraphs).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from analysis.schema.problems import Problem

__all__ = ["parse_ranges", "parse_plausible", "parse_units", "likely_unit",
           "plausible_problems"]


def parse_ranges(text: str) -> list[tuple[float, float]]:
    """``"0,250-3000"`` -> ``[(0, 0), (250, 3000)]``.

    >>> parse_ranges("0,2.5-30")
    [(0.0, 0.0), (2.5, 30.0)]
    """
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, sep, high = part.partition("-")
        out.append((float(low), float(high)) if sep else (float(low), float(low)))
    return out


def parse_plausible(text: str) -> dict[tuple[str, str] | None, list[tuple[float, float]]]:
    """The codebook's ``plausible`` cell: ``None`` (whole column) or ``(column, category)``
    to its ranges.

    >>> parse_plausible("drug=MMF:0,250-3000")
    {('drug', 'MMF'): [(0.0, 0.0), (250.0, 3000.0)]}
    >>> parse_plausible("15-150")
    {None: [(15.0, 150.0)]}
    """
    out: dict[tuple[str, str] | None, list[tuple[float, float]]] = {}
    for group in filter(None, (g.strip() for g in (text or "").split(";"))):
        key, sep, ranges = group.rpartition(":")
        if sep and "=" in key:
            column, _, value = key.partition("=")
            out[column.strip(), value.strip()] = parse_ranges(ranges)
        else:
            out[None] = parse_ranges(group)
    return out


def parse_units(text: str) -> list[tuple[str, Fraction]]:
    """The codebook's ``other_units`` cell: (unit, factor from the column's unit).

    >>> parse_units("g/day=1/1000")
    [('g/day', Fraction(1, 1000))]
    """
    out = []
    for group in filter(None, (g.strip() for g in (text or "").split(";"))):
        unit, _, factor = group.rpartition("=")
        out.append((unit.strip(), Fraction(factor.strip())))
    return out


def _inside(values: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    ok = np.zeros(len(values), dtype=bool)
    for low, high in ranges:
        ok |= (values >= low) & (values <= high)
    return ok


def _num(value: float) -> str:
    return f"{value:,.6g}".replace(",", "") if abs(value) < 1e6 else f"{value:.6g}"


def ranges_text(ranges: list[tuple[float, float]], unit: str) -> str:
    """``[(0, 0), (250, 3000)]`` -> ``"0 or 250 to 3000 mg/day"``."""
    parts = [_num(low) if low == high else f"{_num(low)} to {_num(high)}"
             for low, high in ranges]
    return f"{' or '.join(parts)} {unit}".rstrip()


def likely_unit(value: float, ranges: list[tuple[float, float]],
                units: list[tuple[str, Fraction]], unit: str) -> str:
    """Where ``value``, read in another unit, lies inside ``ranges``: "; likely typed in g/day
    (2 g/day = 2000 mg/day)"; else "".

    >>> likely_unit(2.0, [(250.0, 3000.0)], [("g/day", Fraction(1, 1000))], "mg/day")
    '; likely typed in g/day (2 in g/day = 2000 mg/day)'
    """
    wide = [(low, high) for low, high in ranges if high > low]
    for other, factor in units:
        converted = value / float(factor)
        if _inside(np.array([converted]), wide)[0]:
            return (f"; likely typed in {other} ({_num(value)} in {other} = {_num(converted)} "
                    f"{unit})".rstrip())
    return ""


def plausible_problems(typed: pd.DataFrame, spec: pd.DataFrame, text: pd.DataFrame,
                       file: str, skip: set[tuple[int | None, str | None]]) -> list[Problem]:
    """Values outside the codebook's plausible range (see the module docstring).

    Parameters
    ----------
    typed : the table with codebook types (cells that failed conversion are missing).
    spec : the table's codebook rows (indexed by column).
    text : the table as typed, for the values shown.
    file : the file name, for messages.
    skip : (row, column) already reported (outside the hard limits): not reported again.
    """
    problems: list[Problem] = []
    for column, row in spec.iterrows():
        plausible = parse_plausible(row.get("plausible", ""))
        if not plausible or column not in typed:
            continue
        units = parse_units(row.get("other_units", ""))
        unit = row["unit"]
        values = typed[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        for key, ranges in plausible.items():
            if key is None:
                members, who = np.ones(len(values), dtype=bool), ""
            else:
                other, category = key
                members = (typed[other].astype("string") == category).fillna(False) \
                    .to_numpy(dtype=bool)
                who = f" for {category}"
            known = members & ~np.isnan(values)
            outside = known & ~_inside(np.nan_to_num(values), ranges)
            if not outside.any():
                continue
            shown = ranges_text(ranges, unit)
            fix = (f"check the chart and type the value in {unit or 'the codebook unit'}; the "
                   f"plausible range{who} and its clinical source are in the codebook "
                   "(columns plausible, plausible_source)")
            whole = _whole_column_unit(values[known], ranges, units)
            if whole is not None:
                other_unit, factor, real = whole
                example = values[outside][0]
                problems.append(Problem(
                    file, None, column,
                    f"the values{who} look typed in {other_unit}, not {unit}: all {real} "
                    f"(0 aside) would be plausible in {other_unit}, and "
                    f"{int(outside.sum())} are outside the plausible range {shown} (e.g. "
                    f"{_num(example)} in {other_unit} = {_num(example / float(factor))} {unit})",
                    fix=f"convert the values{who} to {unit} (multiply by "
                        f"{_num(1 / float(factor))}), then validate again"))
                continue
            for i in np.flatnonzero(outside):
                index = typed.index[i]
                if (index + 2, column) in skip:
                    continue
                problems.append(Problem(
                    file, index + 2, column,
                    f"outside the plausible range{who} ({shown})"
                    + likely_unit(values[i], ranges, units, unit),
                    str(text.at[index, column]), fix=fix))
    return problems


def _whole_column_unit(values: np.ndarray, ranges: list[tuple[float, float]],
                       units: list[tuple[str, Fraction]]
                       ) -> tuple[str, Fraction, int] | None:
    """The other unit every value (single allowed points such as a 0 dose aside) would be
    plausible in, when more than half are implausible in the declared one, with the factor
    and the number of such values; else None."""
    points = {low for low, high in ranges if low == high}
    wide = [(low, high) for low, high in ranges if high > low]
    real = values[~np.isin(values, list(points))] if points else values
    if len(real) < 2 or (~_inside(real, ranges)).sum() * 2 <= len(real):
        return None
    for other, factor in units:
        if _inside(real / float(factor), wide).all():
            return other, factor, len(real)
    return None
