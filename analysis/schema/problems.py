"""A problem found in an export, and the message listing all of them (grouped by file)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from analysis.schema.codebook import TABLES

__all__ = ["Problem", "format_problems", "warnings_markdown"]


@dataclass(frozen=True)
class Problem:
    """One broken rule: where it is, what is wrong and how to fix it.

    ``level`` is ``"error"`` (the export cannot be used) or ``"warning"`` (it can, but look).
    """

    file: str
    row: int | None  # 1-based row as a spreadsheet shows it (header = row 1), or None
    column: str | None
    rule: str
    value: str = ""
    fix: str = ""
    level: str = "error"
    row_label: str = "row"  # "observation" for Stata files (numbered without the header)
    sheet: str | None = None  # Excel: the sheet read
    cell: str | None = None  # Excel: the cell in A1 notation

    def location(self, with_file: bool = True) -> str:
        parts = [self.file] if with_file else []
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell is not None:
            parts.append(f"cell {self.cell} ({self.row_label} {self.row})")
        elif self.row is not None:
            parts.append(f"{self.row_label} {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def describe(self, with_file: bool = True) -> str:
        shown = f" (found {self.value!r})" if self.value != "" else ""
        tag = "warning: " if self.level == "warning" else ""
        where = self.location(with_file)
        text = f"{where + ': ' if where else ''}{tag}{self.rule}{shown}"
        return text + (f"\n      fix: {self.fix}" if self.fix else "")

    def __str__(self) -> str:
        return self.describe()

    def kind(self) -> tuple[str, str | None, str]:
        """File, column and the rule without its particulars (ids, numbers, quoted text in
        parentheses): problems of one kind are capped together by :func:`format_problems`."""
        rule = re.sub(r"\s*\([^)]*\)", "", self.rule)
        # Warnings of one rule are one kind whatever the column (5,000 extra columns are one
        # warning repeated); errors are capped per column, where each names its own fix.
        column = self.column if self.level != "warning" else None
        return self.file, column, re.sub(r"\b[A-Za-z]{0,4}\d+\b", "N", rule)


def format_problems(problems: list[Problem], folder: str | Path | None = None,
                    max_per_kind: int | None = None) -> str:
    """All problems, grouped by file; in a file, file-wide problems first, then by row.

    The first line counts them and repeats the first one in full, so that it alone says what
    is wrong; the fix of each follows it in the list. With ``max_per_kind`` (N > 0), at most
    N problems of each file and rule (:meth:`Problem.kind`) are listed, then one line counts
    the rest (a 100,000-patient export with one systematic fault stays readable).
    """
    errors = [p for p in problems if p.level != "warning"]
    warnings = [p for p in problems if p.level == "warning"]
    files = sorted(dict.fromkeys(p.file for p in problems),
                   key=lambda f: TABLES.index(Path(f).stem) if Path(f).stem in TABLES
                   else len(TABLES))
    ordered = [p for file in files for p in sorted(
        (q for q in problems if q.file == file),
        key=lambda q: (q.level == "warning", q.row is not None, q.row or 0))]
    counts = [f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"] if errors else []
    if warnings:
        counts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    counts = " and ".join(counts) or "no problems"
    where = f" in {folder}" if folder is not None else " in the input data"
    first = next((p for p in ordered if p.level != "warning"), ordered[0] if ordered else None)
    lines = [f"{counts}{where}" + ("" if first is None else (
        ": " if len(problems) == 1 else ", the first: ") + first.describe().split("\n")[0])]
    for file in files:
        lines.append(f"  {file}:")
        lines.extend(_file_lines([p for p in ordered if p.file == file], max_per_kind))
    return "\n".join(lines)


def _file_lines(problems: list[Problem], max_per_kind: int | None) -> list[str]:
    """One file's problems as list lines, at most ``max_per_kind`` of each kind."""
    shown: dict[tuple, int] = {}
    hidden: dict[tuple, list[Problem]] = {}
    lines = []
    for problem in problems:
        kind = problem.kind()
        if max_per_kind and shown.get(kind, 0) >= max_per_kind:
            hidden.setdefault(kind, []).append(problem)
            continue
        shown[kind] = shown.get(kind, 0) + 1
        lines.append(f"    - {problem.describe(with_file=False)}")
    for (_, column, rule), rest in hidden.items():
        plain = {re.sub(r"\s*\([^)]*\)", "", p.rule) for p in rest}
        rule = plain.pop() if len(plain) == 1 else rule  # else with N for what varies
        where = f" (column '{column}')" if column else ""
        lines.append(f"    ... and {len(rest):,} more: {rule}{where}; --max-problems 0 shows all")
    return lines


def warnings_markdown(warnings: list[Problem], max_per_kind: int = 20) -> str:
    """The report's *Data warnings* section: every warning about the run's export (where it
    is, what it does to the numbers), at most ``max_per_kind`` of each kind, then a count of
    the rest; "" when there is none (the section is left out).

    Aggregates only: a warning names files, columns, cells and counts, never a patient's
    value (the value a warning carries is left out).
    """
    if not warnings:
        return ""
    lines = ["# Data warnings", "",
             "The export passed every check of the codebook. These warnings about it were "
             "also printed when the run started; each says what the export lacks and what "
             "that does to the numbers of this report.", ""]
    shown: dict[tuple, int] = {}
    hidden: dict[tuple, int] = {}
    for warning in warnings:
        kind = warning.kind()
        if shown.get(kind, 0) >= max_per_kind:
            hidden[kind] = hidden.get(kind, 0) + 1
            continue
        shown[kind] = shown.get(kind, 0) + 1
        where = warning.location()
        lines.append(f"- {_escape(where)}: {_escape(warning.rule)}.")
    for (file, _, rule), count in hidden.items():
        lines.append(f"- {_escape(file)}: {count:,} more of the same kind ({_escape(rule)}).")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Markdown-safe text (no emphasis, links or raw HTML from a file's own names)."""
    return re.sub(r"([\\`*_\[\]<])", r"\\\1", str(text))
