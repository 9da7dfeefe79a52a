"""Source lines that remember where they came from, for error messages naming file and
line; fenced code, front matter and inline code spans, which the resolvers leave alone."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from analysis.errors import AnalysisError

REPORT_NAME = "report.qmd"
VARIABLES_NAME = "_variables.yml"
PROJECT_NAME = "_quarto.yml"
TYPST_HEADER_NAME = "report-header.typ"
#: Word's styles and page (analysis/render/docx_reference.py) and its tables' column widths.
DOCX_REFERENCE_NAME = "reference.docx"
DOCX_FILTER_NAME = "docx-tables.lua"
#: The PDF's captions of unlabelled tables under Quarto (typst-captions.lua says why).
TYPST_FILTER_NAME = "typst-captions.lua"
#: The project files a render needs in the run folder besides the run's own outputs.
PROJECT_FILES = (REPORT_NAME, PROJECT_NAME, TYPST_HEADER_NAME, DOCX_REFERENCE_NAME,
                 DOCX_FILTER_NAME, TYPST_FILTER_NAME)


class RenderError(AnalysisError):
    """The report cannot be rendered; the message names the file, line and rule."""





@dataclass(frozen=True)
class Line:
    text: str
    source: str
    lineno: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lineno}"


def lines_of(text: str, source: str) -> list[Line]:
    return [Line(t, source, i) for i, t in enumerate(text.splitlines(), start=1)]


_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def code_mask(lines: list[Line]) -> list[bool]:
    """True for lines inside (or delimiting) a fenced code block."""
    mask = []
    fence: str | None = None
    for line in lines:
        m = _FENCE_RE.match(line.text)
        if fence is None:
            if m:
                fence = m.group(1)
                mask.append(True)
            else:
                mask.append(False)
        else:
            mask.append(True)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and \
                    not line.text.strip()[len(m.group(1)):].strip():
                fence = None
    return mask


def front_matter_end(lines: list[Line]) -> int:
    """Index one past the closing ``---`` of a leading YAML block, or 0 if there is none."""
    if not lines or lines[0].text.rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].text.rstrip() in ("---", "..."):
            return i + 1
    raise RenderError(
        f"{lines[0].where}: the YAML front matter opened by '---' is never closed"
    )


_CODE_SPAN_RE = re.compile(r"(`+).+?\1")


def outside_code_spans(text: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of one line that are not inline code spans."""
    out, pos = [], 0
    for m in _CODE_SPAN_RE.finditer(text):
        out.append(fn(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(fn(text[pos:]))
    return "".join(out)

