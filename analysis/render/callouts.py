"""Quarto callouts (``::: {.callout-note title="..."}``): a styled box in HTML, a bordered
Typst block in PDF."""

from __future__ import annotations

import re
from dataclasses import replace

from analysis.render.shortcodes import unquote
from analysis.render.source import Line, RenderError

#: kind: (default title, colour)
CALLOUT_KINDS = {
    "note": ("Note", "#0d6efd"),
    "warning": ("Warning", "#e0a800"),
    "important": ("Important", "#dc3545"),
    "tip": ("Tip", "#198754"),
    "caution": ("Caution", "#fd7e14"),
}


_DIV_OPEN_RE = re.compile(r"^\s*(:{3,})\s*(\{[^}]*\}|[\w-]+)\s*:*\s*$")
_DIV_CLOSE_RE = re.compile(r"^\s*:{3,}\s*$")
_ATTR_KV_RE = re.compile(r"([\w-]+)=(\"[^\"]*\"|'[^']*'|[^\s}]+)")
_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{[^}]*\})?\s*$")


def _typst_callout_open(kind: str) -> str:
    colour = CALLOUT_KINDS[kind][1]
    return (
        f'#block(width: 100%, inset: 8pt, radius: 2pt, fill: rgb("{colour}").lighten(92%), '
        f'stroke: (left: 3pt + rgb("{colour}"), rest: 0.5pt + rgb("{colour}")))['
    )


def resolve_callouts(lines: list[Line], skip: list[bool]) -> list[Line]:
    out: list[Line] = []
    stack: list[tuple[bool, Line]] = []  # one entry per open div: (is a callout, opener)
    i = 0
    while i < len(lines):
        line, is_code = lines[i], skip[i]
        m = None if is_code else _DIV_OPEN_RE.match(line.text)
        if m:
            attrs = m.group(2)
            bare = _ATTR_KV_RE.sub("", attrs)  # classes and id, without key=value pairs
            classes = re.findall(r"(?:^|[\s{])\.([\w-]+)", bare) if attrs.startswith("{") \
                else [attrs]
            kinds = [c[len("callout-"):] for c in classes if c.startswith("callout-")]
            kinds = [k for k in kinds if k in CALLOUT_KINDS]
            stack.append((bool(kinds), line))
            if not kinds:
                out.append(line)
                i += 1
                continue
            kind = kinds[0]
            kv = {k: unquote(v) for k, v in _ATTR_KV_RE.findall(attrs)}
            title = kv.get("title")
            ident = re.search(r"#([\w-]+)", bare)
            # A first heading inside the callout is its title (Quarto rule).
            j = i + 1
            while j < len(lines) and not lines[j].text.strip():
                j += 1
            if title is None and j < len(lines) and not skip[j]:
                h = _HEADING_RE.match(lines[j].text)
                if h:
                    title = h.group(1)
                    i = j  # drop the heading line
            title = title or CALLOUT_KINDS[kind][0]
            opener = f"{m.group(1)} {{" + (f"#{ident.group(1)} " if ident else "") + \
                f".callout .callout-{kind}}}"
            new = [opener, "", "```{=typst}", _typst_callout_open(kind), "```", "",
                   "::: {.callout-title}", f"**{title}**", ":::", ""]
            out.extend(replace(line, text=t) for t in new)
            i += 1
            continue
        if not is_code and _DIV_CLOSE_RE.match(line.text) and stack:
            if stack.pop()[0]:
                out.extend(replace(line, text=t) for t in ("", "```{=typst}", "]", "```", ""))
        out.append(line)
        i += 1
    unclosed = [opener for is_callout, opener in stack if is_callout]
    if unclosed:
        raise RenderError(f"{unclosed[0].where}: this callout div (:::) is never closed")
    return out

