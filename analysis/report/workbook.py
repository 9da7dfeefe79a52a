"""All of a run's tables in one spreadsheet: ``tables/tables.xlsx``, a sheet per table.

Written with openpyxl (pinned in pyproject.toml), the library pandas itself uses for ``.xlsx``;
each sheet holds the numbers of one ``tables/<stem>.csv`` in the report's order, Tables 1-3
first, as tables a reader reuses (issue 25): headers in words, a row's characteristic and test
in words rather than code, values at full precision shown at the precision the report prints
them (number formats, not rounded text), Table 1's n beside its %, and a last sheet,
*Dictionary*, saying what each column of each sheet means. The raw numbers, with the code
names, stay in the CSV files; so does the sensitivity grid alone (:data:`CSV_ONLY`: one row
per response definition, 7,776, is data the report summarises, not a table it prints, and
was 390,000 of the workbook's 480,000 cells and 10 of its 11 s; the Dictionary names its
file). openpyxl stamps the save time into ``docProps/core.xml``
and into every zip entry; :func:`_fix_timestamps` rewrites both with a fixed time, so that the
same tables give the same bytes (DESIGN.md 8, determinism). Written here rather than found in a
library: openpyxl offers no switch for it, and the rewrite is a dozen lines of ``zipfile``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import zipfile
from pathlib import Path

import pandas as pd

from analysis.files import write_atomic

__all__ = ["SHEET_ORDER", "SHEET_TITLES", "COLUMNS", "CSV_ONLY", "write_workbook"]

#: Sheets first in this order (the report's), then every other CSV by name.
SHEET_ORDER = ("table1", "table2", "table3", "flow", "claims", "doses", "dose_changes",
               "predictors", "cohort_overview",
               "assumptions", "sensitivity", "sensitivity_conclusions",
               "sensitivity_bootstrap", "reproduction", "audit")
#: Tables kept in their CSV file only, with what the Dictionary says of them: data the report
#: summarises, not tables it prints (issue 25: the raw numbers stay in the CSVs).
CSV_ONLY = {"sensitivity": "The sensitivity grid: one row per response definition swept "
                           "(the report's section 5 summarises it)"}
_FIXED_TIME = _dt.datetime(2017, 9, 1)  # the paper's first release; any fixed time would do


def _sheet_name(stem: str) -> str:
    """Excel allows 31 characters and none of ``[]:*?/\\`` in a sheet name."""
    return "".join("_" if c in "[]:*?/\\" else c for c in stem)[:31]


def _fix_timestamps(path: Path) -> None:
    """Rewrite an ``.xlsx`` (a zip) in place with every entry dated ``_FIXED_TIME`` and the
    ``dcterms:modified`` property set to it, keeping entry order and compression."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


#: Sheet titles of the tables the report prints (others keep their file's name).
SHEET_TITLES = {"table1": "Table 1", "table2": "Table 2", "table3": "Table 3",
                "flow": "Figure 1 (flow)", "claims": "Conclusions",
                "predictors": "Odds ratios of failure", "dose_changes": "Dose changes",
                "doses": "Doses", "cohort_overview": "Cohort overview",
                "assumptions": "Assumptions", "sensitivity": "Sensitivity grid",
                "sensitivity_conclusions": "Sensitivity, conclusions",
                "sensitivity_bootstrap": "Bootstrap intervals",
                "reproduction": "Appendix A reproduction", "audit": "Appendix B audit"}
#: Column order of a sheet where it differs from the CSV's: Table 1's n beside its %.
COLUMN_ORDER = {"table1": ("variable", "label", "n", "pct", "denominator", "mean", "sd")}

#: Number formats at the report's precision.
_INT, _ONE, _TWO, _P = "0", "0.0", "0.00", "0.000"

#: Column of a CSV -> (header in words, meaning, number format or None for text). Columns not
#: listed keep their name with spaces for underscores; the Dictionary sheet says so.
COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "variable": ("Characteristic", "The row of Tables 1-3 (as the table labels it)", None),
    "label": ("Level or row", "The level of a characteristic, or the row itself", None),
    "level": ("Level code", "The level's code in the data", None),
    "n": ("n", "Number of patients", _INT),
    "denominator": ("Patients", "Patients the percentage is of", _INT),
    "pct": ("%", "Percentage of the patients (n / Patients)", _ONE),
    "mean": ("Mean", "Mean of the patients with a value", _ONE),
    "sd": ("SD", "Standard deviation", _ONE),
    "resp": ("Responders", "Responders: a count, or the mean of a continuous row", None),
    "nonresp": ("Nonresponders", "Nonresponders: a count, or the mean of a continuous row",
                None),
    "n_resp": ("Responders with a value", "Responders the row rests on", _INT),
    "n_nonresp": ("Nonresponders with a value", "Nonresponders the row rests on", _INT),
    "p": ("p", "p-value of the row's test, as the table prints it", _P),
    "test": ("Test", "The test that gave p", None),
    "p_two_sided": ("p, two-sided", "Two-sided p-value (the recommended one)", _P),
    "test_two_sided": ("Test, two-sided", "The test that gave the two-sided p", None),
    "effect_measure": ("Effect measure", "What the effect size measures", None),
    "effect": ("Effect", "Effect size (proportions as fractions)", _TWO),
    "effect_low": ("Effect, 95% CI low", "Lower limit of the effect's 95% CI", _TWO),
    "effect_high": ("Effect, 95% CI high", "Upper limit of the effect's 95% CI", _TWO),
    "effect_ci": ("Effect CI method", "How the effect's 95% CI was computed", None),
    "odds_ratio": ("Odds ratio", "Odds ratio of responding (exact conditional)", _TWO),
    "or": ("Odds ratio", "Odds ratio of failure", _TWO),
    "or_low": ("Odds ratio, 95% CI low", "Lower limit of the odds ratio's 95% CI", _TWO),
    "or_high": ("Odds ratio, 95% CI high", "Upper limit of the odds ratio's 95% CI", _TWO),
    "or_ci": ("Odds ratio CI method", "How the odds ratio's 95% CI was computed", None),
    "mean_diff": ("Mean difference", "Responders minus nonresponders", _ONE),
    "mean_diff_low": ("Mean difference, 95% CI low", "Lower limit of its 95% CI", _ONE),
    "mean_diff_high": ("Mean difference, 95% CI high", "Upper limit of its 95% CI", _ONE),
    "mean_diff_ci": ("Mean difference CI method", "How its 95% CI was computed", None),
    "term": ("Characteristic compared", "The model's term (level vs reference)", None),
    "failures": ("Failures", "Patients who failed conventional treatment", _INT),
    "method": ("Method", "Maximum likelihood (ml) or Firth-penalised (firth)", None),
    "cohort": ("Patients", "The group of patients", None),
    "drug": ("Drug", "The drug", None),
    "timepoint": ("Time point", "The time point", None),
    "n_pairs": ("Patients with both doses", "Patients with a dose at both time points", _INT),
    "change": ("Mean change, mg", "Mean paired change from the first time point", _ONE),
    "change_low": ("Mean change, 95% CI low", "Lower limit of its 95% CI", _ONE),
    "change_high": ("Mean change, 95% CI high", "Upper limit of its 95% CI", _ONE),
    "pct_change": ("% change", "Percent change of the mean dose from the first time point",
                   _ONE),
    "parent": ("Box above", "The box of Figure 1 this one comes from", None),
    "estimate": ("Estimate", "This run's estimate", _ONE),
    "low": ("95% CI low", "Lower limit of the 95% CI", _ONE),
    "high": ("95% CI high", "Upper limit of the 95% CI", _ONE),
    "verdict": ("Verdict", "The verdict by the rule stated in the Methods", None),
    "detail": ("This run", "This run's numbers behind the verdict", None),
    "paper": ("The paper printed", "What the paper printed", None),
}
#: Columns left out of a reader's sheet (codes and bookkeeping; they stay in the CSV).
HIDDEN = ("table", "key", "id", "level")
#: Readable values of coded columns.
_DRUGS = {"prednisone": "Prednisone", "aza": "AZA", "mtx": "MTX", "mmf": "MMF"}
_COHORTS = {"conv_resp": "Conventional responders", "conv_fail": "Conventional failures",
            "tac": "Tacrolimus"}
_POINTS = {"baseline": "Baseline", "m6_12": "6\u201312 months", "start": "Tacrolimus start",
           "m3_6": "3\u20136 months", "y1": "1 year"}


@functools.cache
def _labels() -> tuple:
    """The row labels and the tests' names, imported once (not once per cell)."""
    from analysis.report.labels import row_label
    from analysis.stats import TEST_LABELS

    return row_label, TEST_LABELS


def _words(column: str, value: object, table: object = "t2") -> object:
    """A coded cell in words (a row's key, a test, a drug); other cells as they are."""
    if not isinstance(value, str):  # most cells: numbers (the sensitivity grid's 390,000)
        return value
    row_label, TEST_LABELS = _labels()
    if column == "variable":
        return row_label(value, str(table))
    if column in ("test", "test_two_sided"):
        return TEST_LABELS.get(value, value)
    mapping = {"drug": _DRUGS, "cohort": _COHORTS, "timepoint": _POINTS}.get(column, {})
    return mapping.get(value, value)


def _header(column: str) -> str:
    return COLUMNS[column][0] if column in COLUMNS else column.replace("_", " ").capitalize()


def _format(stem: str, column: str, rec: dict) -> str | None:
    """A cell's number format: the column's, except Tables 2-3's group columns, which hold a
    count (whole) or a mean (one decimal) by row."""
    if column in ("resp", "nonresp"):
        from analysis.paper.rows import BY_KEY

        row = BY_KEY.get(str(rec.get("variable")))
        return _ONE if row is not None and row.kind == "continuous" else _INT
    return COLUMNS[column][2] if column in COLUMNS else None


def write_workbook(run_dir: str | Path) -> Path | None:
    """Write ``tables/tables.xlsx``: one sheet per ``tables/*.csv`` (headers in words, codes
    in words, number formats at the printed precision, header row frozen) and a *Dictionary*
    sheet; nothing when the run has no table (a workbook needs at least one sheet).

    Parameters
    ----------
    run_dir : the run folder (its ``tables/`` holds the CSV files).

    Returns
    -------
    Path of the workbook, or None when there is no table.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    tables = Path(run_dir) / "tables"
    found = sorted(p.stem for p in tables.glob("*.csv"))
    stems = [s for s in found if s not in CSV_ONLY]
    rank = {s: i for i, s in enumerate(SHEET_ORDER)}
    stems.sort(key=lambda s: (rank.get(s, len(rank)), s))
    if not stems:
        return None
    book = Workbook()
    book.remove(book.active)
    dictionary: list[list[str]] = []
    for stem in stems:
        frame = pd.read_csv(tables / f"{stem}.csv", keep_default_na=False, na_values=[""])
        columns = [c for c in frame.columns if c not in HIDDEN] or list(frame.columns)
        order = COLUMN_ORDER.get(stem, ())
        columns = [c for c in order if c in columns] + [c for c in columns if c not in order]
        title = SHEET_TITLES.get(stem, stem)
        sheet = book.create_sheet(_sheet_name(title))
        sheet.append([_header(c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row, rec in enumerate(frame.to_dict("records"), start=2):
            values = [None if pd.isna(rec[c]) else _words(c, rec[c], rec.get("table", "t2"))
                      for c in columns]
            sheet.append([v.item() if hasattr(v, "item") else v for v in values])
            for i, column in enumerate(columns, start=1):
                fmt = _format(stem, column, rec)
                if fmt:  # the row just appended (sheet.max_row would scan every cell)
                    sheet.cell(row=row, column=i).number_format = fmt
        sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            shown = [str(_words(column, v, t)) for v, t in
                     zip(frame[column], frame.get("table", ["t2"] * len(frame)), strict=True)]
            longest = max([len(_header(column)), *(len(v) for v in shown)])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, longest + 2)
        dictionary += [[sheet.title, _header(c),
                        COLUMNS[c][1] if c in COLUMNS else "as the column of the CSV file",
                        f"{stem}.csv: {c}"] for c in columns]
    sheet = book.create_sheet("Dictionary")
    sheet.append(["Sheet", "Column", "Meaning", "In the CSV file"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in dictionary:
        sheet.append(row)
    for stem in (s for s in found if s in CSV_ONLY):
        sheet.append(["(not in this workbook)", "", CSV_ONLY[stem], f"{stem}.csv"])
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCD", (24, 30, 70, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    book.properties.created = _FIXED_TIME
    book.properties.creator = "analysis (python -m analysis run)"

    def save(tmp: Path) -> None:
        book.save(tmp)
        _fix_timestamps(tmp)

    return write_atomic(tables / "tables.xlsx", save)
