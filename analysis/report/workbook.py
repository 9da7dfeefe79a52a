"""All of a run's tables in one spreadsheet: ``tables/tables.xlsx``, a sheet per table.

Written with openpyxl (pinned in pyproject.toml), the library pandas itself uses for ``.xlsx``;
each sheet holds the numbers of one ``tables/<stem>.csv`` (full precision, as in the CSV), in
the report's order: Tables 1-3 first. openpyxl stamps the save time into ``docProps/core.xml``
and into every zip entry; :func:`_fix_timestamps` rewrites both with a fixed time, so that the
same tables give the same bytes (DESIGN.md 8, determinism). Written here rather than found in a
library: openpyxl offers no switch for it, and the rewrite is a dozen lines of ``zipfile``.
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile
from pathlib import Path

import pandas as pd

from analysis.files import write_atomic

__all__ = ["SHEET_ORDER", "write_workbook"]

#: Sheets first in this order (the report's), then every other CSV by name.
SHEET_ORDER = ("table1", "table2", "table3", "flow", "doses", "cohort_overview",
               "assumptions", "sensitivity", "sensitivity_conclusions",
               "sensitivity_bootstrap", "reproduction", "audit")
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


def write_workbook(run_dir: str | Path) -> Path | None:
    """Write ``tables/tables.xlsx``: one sheet per ``tables/*.csv``, header row frozen; nothing
    when the run has no table (a workbook needs at least one sheet).

    Parameters
    ----------
    run_dir : the run folder (its ``tables/`` holds the CSV files).

    Returns
    -------
    Path of the workbook, or None when there is no table.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    tables = Path(run_dir) / "tables"
    stems = sorted(p.stem for p in tables.glob("*.csv"))
    rank = {s: i for i, s in enumerate(SHEET_ORDER)}
    stems.sort(key=lambda s: (rank.get(s, len(rank)), s))
    if not stems:
        return None
    book = Workbook()
    book.remove(book.active)
    for stem in stems:
        frame = pd.read_csv(tables / f"{stem}.csv", keep_default_na=False, na_values=[""])
        sheet = book.create_sheet(_sheet_name(stem))
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                          for v in row])
        sheet.freeze_panes = "A2"
        for i, column in enumerate(frame.columns, start=1):
            longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, longest + 2)
    book.properties.created = _FIXED_TIME
    book.properties.creator = "analysis (python -m analysis run)"

    def save(tmp: Path) -> None:
        book.save(tmp)
        _fix_timestamps(tmp)

    return write_atomic(tables / "tables.xlsx", save)
