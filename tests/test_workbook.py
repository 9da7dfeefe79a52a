"""tables.xlsx is deterministic: the same tables give the same bytes (DESIGN.md 8), and its
cells are the CSV's (read back with openpyxl, an independent reader of the file)."""

import shutil
import time
from pathlib import Path

import pandas as pd

from analysis.report.workbook import write_workbook

SNAPSHOT_TABLES = Path(__file__).parent / "fixtures" / "paper_run" / "tables"


def test_same_tables_give_the_same_bytes(tmp_path: Path):
    (tmp_path / "tables").mkdir()
    for name in ("table1.csv", "table2.csv"):
        shutil.copy(SNAPSHOT_TABLES / name, tmp_path / "tables" / name)
    first = write_workbook(tmp_path).read_bytes()
    time.sleep(1.1)  # the zip format stores seconds (two-second steps): let the clock move
    assert write_workbook(tmp_path).read_bytes() == first


def test_cells_are_the_csv_numbers(tmp_path: Path):
    from openpyxl import load_workbook

    (tmp_path / "tables").mkdir()
    shutil.copy(SNAPSHOT_TABLES / "table1.csv", tmp_path / "tables" / "table1.csv")
    book = load_workbook(write_workbook(tmp_path), read_only=True)
    rows = list(book["Table 1"].values)
    csv = pd.read_csv(SNAPSHOT_TABLES / "table1.csv", keep_default_na=False, na_values=[""])
    assert list(rows[0]) == ["Characteristic", "Level or row", "n", "%", "Patients", "Mean",
                             "SD"]
    assert len(rows) == len(csv) + 1
    # Full precision in the cells (the CSV's), read back by openpyxl; rounding is a format.
    for row, rec in zip(rows[1:], csv.to_dict("records"), strict=True):
        assert row[2] == rec["n"] and row[4] == rec["denominator"]
        assert (row[3] is None) == pd.isna(rec["pct"])
        if row[3] is not None:
            assert row[3] == rec["pct"]
