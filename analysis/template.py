"""A blank export template generated from the codebook: one CSV per table (header only) and a
README explaining every column, for a user preparing their own chart-review export.

The codebook (``data/raw/codebook.csv``) is the only source, so the template always matches
what :mod:`analysis.schema` checks. (Sharma 2017, Materials and Methods: chart review.)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.files import write_atomic
from analysis.report.markdown import escape_cell
from analysis.schema import GRAIN, TABLES, Codebook, load_codebook

__all__ = ["template_files", "write_template"]

_TYPE_TEXT = {"string": "text", "integer": "whole number", "number": "number",
              "category": "one of a list", "boolean": "Yes / No"}


def _header(columns: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(columns)
    return out.getvalue()


def _allowed(row) -> str:
    if row["allowed"]:
        return ", ".join(f"`{v}`" for v in row["allowed"].split("|"))
    if row["min"] or row["max"]:
        return f"{row['min'] or '...'} to {row['max'] or '...'}"
    return ""


def _spellings(row) -> str:
    parts = []
    for group in filter(None, (g.strip() for g in row["spellings"].split(";"))):
        canonical, _, alternatives = group.partition("=")
        shown = ["(blank)" if a.strip() == "" else f"`{a.strip()}`"
                 for a in alternatives.split("|")]
        parts.append(f"{', '.join(shown)} = `{canonical.strip()}`")
    return "; ".join(parts)


def template_readme(codebook: Codebook) -> str:
    """The README of the template: how to fill it in, then one table per file."""
    lines = [
        "# Blank export template",
        "",
        "Generated from the codebook (`data/raw/codebook.csv`) by "
        "`python -m analysis template`. Fill in one file per table, keep the header row "
        "exactly as it is, and check the result with "
        "`python -m analysis validate --data THIS_FOLDER`.",
        "",
        "- Files: `patients`, `assessments`, `doses`, each as `.csv` (UTF-8, comma-separated), "
        "`.xlsx` (the first sheet whose header holds these column names, or `validate "
        "--sheet NAME`), `.dta` (Stata; value labels are read as the text; extended missing "
        "values `.a`-`.z` are counted and read as blank) or `.parquet`. Other formats (JSON, "
        "SPSS, SAS) are refused with the one command that converts them to CSV.",
        "- Excel error cells (`#DIV/0!`, `#N/A`) and formulas saved without their value are "
        "errors: type the value, or leave the cell blank where blank is allowed. Merged cells, "
        "hidden rows and hidden columns are errors too: unmerge and unhide them.",
        "- A **blank cell is a missing value**; it is allowed only where *Required* is `no`. "
        "There, `NA`, `N/A` and `.` are read as blank too (with a warning); do not write `-`, "
        "`?` or `999`.",
        "- Numbers: digits only, `.` as the decimal mark, no units (the unit is the column's). "
        "A value outside the codebook's plausible range for that unit (its `plausible` "
        "column, with the clinical source) is an error naming the unit it was likely typed "
        "in (a dose in grams, a CK in µkat/l); a censored result (`<20`) is named as such.",
        "- Categories: the values listed, or a spelling listed under *Also accepted*. Any "
        "other spelling is refused; to accept yours, add it to the codebook's `spellings` "
        "column (`canonical=yours|other`).",
        "- Extra columns are ignored (with a warning). Column order does not matter; a header "
        "differing only in case is read as the name below (with a note).",
        "- Real data belongs in `data/private/`, which git ignores.",
        "",
    ]
    for table in TABLES:
        spec = codebook.columns(table)
        lines += [f"## {table} ({GRAIN[table]})", "",
                  "| Column | Type | Unit | Allowed | Required | Also accepted | Meaning |",
                  "|---|---|---|---|---|---|---|"]
        for column, row in spec.iterrows():
            lines.append("| " + " | ".join(escape_cell(v) for v in (
                f"`{column}`", _TYPE_TEXT.get(row["type"], row["type"]), row["unit"],
                _allowed(row), row["required"], _spellings(row), row["meaning"])) + " |")
        lines.append("")
    return "\n".join(lines)


def template_files(codebook: Codebook | None = None) -> dict[str, str]:
    """File name to text: ``patients.csv``, ``assessments.csv``, ``doses.csv`` (header rows
    in codebook order) and ``README.md``."""
    codebook = codebook or load_codebook()
    files = {f"{table}.csv": _header(list(codebook.columns(table).index)) for table in TABLES}
    files["README.md"] = template_readme(codebook)
    return files


def write_template(out_dir: str | Path, force: bool = False,
                   codebook: Codebook | None = None) -> list[Path]:
    """Write the template into ``out_dir``; existing files are kept unless ``force``.

    Raises
    ------
    AnalysisError
        When a file of the template already exists there (it may hold data) and not ``force``.
    """
    out_dir = Path(out_dir)
    files = template_files(codebook)
    existing = [name for name in files if (out_dir / name).exists()]
    if existing and not force:
        raise AnalysisError(f"{out_dir} already has {', '.join(existing)}; choose an empty "
                            "folder, or pass --force to overwrite them")
    return [write_atomic(out_dir / name, text) for name, text in files.items()]
