"""A problem found in an export, and the message listing all of them (grouped by file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.schema.codebook import TABLES

__all__ = ["Problem", "format_problems"]


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

    def location(self, with_file: bool = True) -> str:
        parts = [self.file] if with_file else []
        if self.row is not None:
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



def format_problems(problems: list[Problem], folder: str | Path | None = None) -> str:
    """All problems, grouped by file; in a file, file-wide problems first, then by row.

    The first line counts them and repeats the first one in full, so that it alone says what
    is wrong; the fix of each follows it in the list.
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
        lines.extend(f"    - {p.describe(with_file=False)}" for p in ordered if p.file == file)
    return "\n".join(lines)


