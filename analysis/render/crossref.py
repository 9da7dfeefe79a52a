"""Quarto cross-references: figures and tables numbered in order of appearance, ``@fig-x``
/ ``@tbl-x`` replaced by links, captions prefixed "Figure 1. " with the ``crossref`` options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from analysis.render.source import Line, RenderError, outside_code_spans

#: Quarto's defaults for the cross-reference options the stand-in reads.
CROSSREF_DEFAULTS = {
    "title-delim": ":",
    "fig-title": "Figure",
    "tbl-title": "Table",
    "fig-prefix": "Figure",
    "tbl-prefix": "Table",
}


_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_FIG_RE = re.compile(
    r"!\[(?P<cap>(?:[^\[\]]|\[[^\[\]]*\])*)\]"  # caption, one level of nested brackets
    r"(?P<target>\([^()\s]+(?:\s+\"[^\"]*\")?\))"
    r"\{(?P<attrs>[^{}]*#fig-" + _LABEL + r"[^{}]*)\}"
)
_TBL_CAPTION_RE = re.compile(
    r"^(?P<lead>(?:Table)?:\s+)(?P<cap>.*?)\s*\{(?P<attrs>[^{}]*#tbl-" + _LABEL
    + r"[^{}]*)\}\s*$"
)
_ID_RE = re.compile(r"#((?:fig|tbl)-" + _LABEL + ")")
_DIV_FLOAT_RE = re.compile(r"^\s*:{3,}\s*\{[^}]*#(?:fig|tbl)-")
_REF_RE = re.compile(r"(?<![\w@\\])(?P<bare>-?)@(?P<kind>[Ff]ig|[Tt]bl)-(?P<label>" + _LABEL
                     + ")")
_FIG_ALT_RE = re.compile(r"(^|\s)fig-alt=")
_BRACKET_REF_RE = re.compile(r"\[(-?@(?:[Ff]ig|[Tt]bl)-" + _LABEL + r")\]")


def _crossref_numbers(lines: list[Line], skip: list[bool]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    seen: dict[str, str] = {}
    counters = {"fig": 0, "tbl": 0}
    for line, is_code in zip(lines, skip, strict=True):
        if is_code:
            continue
        if _DIV_FLOAT_RE.match(line.text):
            raise RenderError(
                f"{line.where}: figure/table divs (::: {{#fig-...}}) are not supported by the "
                "pip-only renderer; label the image ![Caption](file){#fig-x} or the table "
                "caption ': Caption {#tbl-x}'"
            )
        found = [_ID_RE.search(m.group("attrs")).group(1) for m in _FIG_RE.finditer(line.text)]
        m = _TBL_CAPTION_RE.match(line.text)
        if m:
            found.append(_ID_RE.search(m.group("attrs")).group(1))
        for label in found:
            if label in numbers:
                raise RenderError(
                    f"{line.where}: duplicate cross-reference label '#{label}' "
                    f"(first defined at {seen[label]})"
                )
            kind = label[:3]
            counters[kind] += 1
            numbers[label] = counters[kind]
            seen[label] = line.where
    return numbers


def _caption_prefix(kind: str, number: int, caption: str, crossref: Mapping[str, str]) -> str:
    title = f"{crossref[f'{kind}-title']}\\ {number}"
    if not caption.strip():
        return title
    return f"{title}{crossref['title-delim']} {caption.strip()}"


def resolve_crossrefs(
    lines: list[Line], skip: list[bool], crossref: Mapping[str, str]
) -> list[Line]:
    numbers = _crossref_numbers(lines, skip)
    out: list[Line] = []
    for line, is_code in zip(lines, skip, strict=True):
        if is_code:
            out.append(line)
            continue

        def ref(m: re.Match[str], line: Line = line) -> str:
            kind = m.group("kind").lower()
            label = f"{kind}-{m.group('label')}"
            if label not in numbers:
                raise RenderError(
                    f"{line.where}: cross-reference @{label} has no target; label a figure "
                    f"![Caption](file){{#{label}}} or a table caption ': Caption {{#{label}}}'"
                )
            n = numbers[label]
            text = str(n) if m.group("bare") else f"{crossref[f'{kind}-prefix']}\\ {n}"
            return f"[{text}](#{label})"

        def fig(m: re.Match[str]) -> str:
            label = _ID_RE.search(m.group("attrs")).group(1)
            cap = _caption_prefix("fig", numbers[label], m.group("cap"), crossref)
            # Quarto's fig-alt is the image's alt text (read by screen readers and Word);
            # pandoc names the same attribute alt.
            attrs = _FIG_ALT_RE.sub(r"\1alt=", m.group("attrs"))
            return f"![{cap}]{m.group('target')}{{{attrs}}}"

        def fix(segment: str) -> str:
            segment = _BRACKET_REF_RE.sub(r"\1", segment)
            segment = _FIG_RE.sub(fig, segment)
            return _REF_RE.sub(ref, segment)

        text = line.text
        m = _TBL_CAPTION_RE.match(text)
        if m:
            label = _ID_RE.search(m.group("attrs")).group(1)
            cap = _caption_prefix("tbl", numbers[label], m.group("cap"), crossref)
            text = f"{m.group('lead')}{cap} {{{m.group('attrs')}}}"
            lead = len(m.group("lead"))
            text = text[:lead] + outside_code_spans(text[lead:], fix)
        else:
            text = outside_code_spans(text, fix)
        out.append(replace(line, text=text))
    return out

