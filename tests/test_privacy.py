"""Privacy: no patient identifier in anything a run writes, and the small-cell rule.

The scan reads every file of a run's bundle as a reader would see it: text files as text,
executed notebooks' sources and outputs (embedded images aside), the HTML without its embedded
base64 resources, and the PDF's extracted text.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import analysis.tables as tb
from analysis import paths
from analysis.cohort import analysis_groups
from analysis.params import Params
from analysis.report.paper_tables import format_table, save_paper_table
from analysis.schema import load_codebook, read_cohort
from analysis.tables import analysis_dataset

ROOT = paths.ROOT
RAW = paths.RAW
TEXT_SUFFIXES = {".csv", ".md", ".json", ".yml", ".yaml", ".txt", ".svg", ".html", ".qmd",
                 ".typ", ".tex", ".log"}
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def patient_ids() -> list[str]:
    return pd.read_csv(RAW / "patients.csv", dtype=str)["patient_id"].tolist()


def id_pattern(ids: list[str]) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, ids)) + r")(?![0-9])")


def notebook_text(path: Path) -> str:
    """Sources and outputs of a notebook, without binary (base64) image data."""
    book = nbformat.read(path, as_version=4)
    parts = []
    for cell in book.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("evalue", ""))
            parts.extend(output.get("traceback", []))
            for mime, value in output.get("data", {}).items():
                if mime.startswith("image/") and mime != "image/svg+xml":
                    continue
                parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def readable_text(path: Path) -> str | None:
    """What a person could read in a file of the bundle (None for binary images)."""
    if path.suffix == ".ipynb":
        return notebook_text(path)
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    if path.suffix in TEXT_SUFFIXES:
        return DATA_URI.sub("data:", path.read_text(encoding="utf-8", errors="replace"))
    return None


def leaks(folder: Path, ids: list[str]) -> dict[str, list[str]]:
    pattern = id_pattern(ids)
    found = {}
    for path in sorted(folder.rglob("*")):
        text = readable_text(path) if path.is_file() else None
        hits = sorted(set(pattern.findall(text))) if text else []
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


@pytest.mark.slow
def test_no_patient_id_anywhere_in_the_bundle(paper_run: Path):
    ids = patient_ids()
    assert len(ids) == 67 and ids[0] == "MA001" and ids[-1] == "MA067"
    scanned = {p.suffix for p in paper_run.rglob("*") if p.is_file() and readable_text(p)}
    assert {".ipynb", ".html", ".pdf", ".csv", ".md", ".json"} <= scanned
    assert leaks(paper_run, ids) == {}


@pytest.mark.slow
def test_no_patient_level_table_in_the_bundle(paper_run: Path):
    """No table has the columns of a patient row (an extract of the export), and no notebook
    output shows the identifier column."""
    codebook = load_codebook()
    row_columns = set(codebook.columns("patients").index) | {
        "month", "ck", "aldolase", "fvc", "tlc", "dlco", "dose_mg"}
    tables = sorted((paper_run / "tables").glob("*.csv"))
    assert len(tables) >= 7
    for path in tables:
        header = set(pd.read_csv(path, nrows=0).columns)
        assert header.isdisjoint(row_columns), (path.name, header & row_columns)
    for path in (paper_run / "notebooks").glob("*.ipynb"):
        book = nbformat.read(path, as_version=4)
        outputs = json.dumps([c.get("outputs", []) for c in book.cells])
        assert "patient_id" not in outputs, path.name


def test_the_scan_finds_a_planted_id(tmp_path: Path):
    """The scanner itself works: an id in a notebook output, the HTML and a CSV is found, and
    base64 images (which may contain any letters) are not mistaken for one."""
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("frame.head()")
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "0  MA012  55"}),
                    nbformat.v4.new_output("display_data", {
                        "image/png": base64.b64encode(b"MA013" * 10).decode()})]
    book.cells.append(cell)
    nbformat.write(book, tmp_path / "n.ipynb")
    image = base64.b64encode(b"x" * 30).decode().replace("eHh4", "MA014x")
    (tmp_path / "r.html").write_text(f'<img src="data:image/png;base64,{image}">'
                                     "<td>MA015</td>")
    (tmp_path / "t.csv").write_text("id,n\nMA0160,1\nMA016,2\n")
    assert leaks(tmp_path, ["MA012", "MA013", "MA014", "MA015", "MA016"]) == {
        "n.ipynb": ["MA012"], "r.html": ["MA015"], "t.csv": ["MA016"]}


# ------------------------------------------------------------------------------ small cells
@pytest.fixture(scope="module")
def tables():
    cohort = read_cohort(RAW)
    params = Params()
    groups = analysis_groups(cohort.patients, cohort.assessments, params)
    at_index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    at_tac = analysis_dataset(cohort.patients, groups, cohort.assessments, "tac_start")
    return {"table1": tb.table1(at_index[at_index["included"]]),
            "table2": tb.table2(at_index, params), "table3": tb.table3(at_tac, params)}


def cell(table: pd.DataFrame, label: str, column: str) -> str:
    rows = table[table["Clinical characteristics"].str.strip() == label]
    return rows[column].iloc[0]


def test_suppression_is_off_by_default(tables):
    t1 = format_table(tables["table1"])
    assert cell(t1, "Hispanic", "Values") == "2 (3.7)"  # Sharma 2017, Table 1
    t3 = format_table(tables["table3"])
    assert cell(t3, "PL-7", "Nonresponders") == "1"


def test_table1_counts_below_n_are_suppressed(tables):
    t1 = format_table(tables["table1"], suppress_below=5)
    assert cell(t1, "Hispanic", "Values").startswith("<5")  # 2 patients
    assert cell(t1, "Asian", "Values").startswith("<5")  # 4
    assert cell(t1, "Black", "Values") == "26 (48.1)"  # 5 or more: shown
    assert cell(t1, "Male", "Values") == "16 (29.6)"
    # Means are not counts; they keep their value.
    assert cell(t1, "Age at onset, yrs, mean (SD)", "Values") == "44.9 (14.9)"


def test_table1_percentage_does_not_reveal_a_suppressed_count(tables):
    t1 = format_table(tables["table1"], suppress_below=5)
    assert cell(t1, "Hispanic", "Values") == "<5"


def test_tables_2_and_3_counts_below_n_are_suppressed(tables):
    t2 = format_table(tables["table2"], suppress_below=5)
    # 4 Asian responders are suppressed; zero is shown (nobody to identify).
    assert (cell(t2, "Asian", "Responders"), cell(t2, "Asian", "Nonresponders")) == ("<5", "0")
    assert (cell(t2, "Male", "Responders"), cell(t2, "Male", "Nonresponders")) == ("6", "10")
    t3 = format_table(tables["table3"], suppress_below=5)
    assert cell(t3, "ANA", "Nonresponders") == "<5"  # 2
    assert cell(t3, "ANA", "Responders") == "10"
    # p-values and means are not suppressed.
    assert cell(t2, "Baseline CK, U/l", "Responders").startswith("2588.9")
    assert cell(t2, "**Myositis**", "p") == "0.013"


def test_suppression_reaches_the_saved_tables(tables, tmp_path):
    """End to end at the table level: what a run saves (Markdown and its caption)."""
    params = Params.load(overrides=["suppress_below=5"])
    for stem, frame in tables.items():
        save_paper_table(tmp_path, stem, frame, params)
    from analysis.report.provenance import unkeyed

    # what a reader sees (the cells carry their keys and links, issue 28)
    table1_md = unkeyed((tmp_path / "tables" / "table1.md").read_text())
    assert re.search(r"\| Hispanic\s*\|\s*<5[ |]", table1_md)
    table3_md = unkeyed((tmp_path / "tables" / "table3.md").read_text())
    assert re.search(r"\|\s*<5\s*\|", table3_md)


def test_tables_2_and_3_show_n_below_group_size(tables):
    t2 = format_table(tables["table2"])
    assert cell(t2, "Baseline CK, U/l", "Responders") == "2588.9 [n = 26]"  # of 31
    assert cell(t2, "Baseline CK, U/l", "Nonresponders") == "3431.0 [n = 18]"  # of 23
    assert cell(t2, "FVC", "Nonresponders") == "60.4 [n = 22]"
    assert cell(t2, "FVC", "Responders") == "62.5"  # all 31 measured: no n
    t3 = format_table(tables["table3"])
    assert cell(t3, "Baseline CK, U/l", "Nonresponders") == "1975.7 [n = 3]"  # of 5
