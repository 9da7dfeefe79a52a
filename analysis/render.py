"""Render a run's ``report.qmd`` to self-contained HTML and to PDF (DESIGN.md section 7).

Two engines produce ``report.html`` and ``report.pdf`` in a run folder:

``quarto``
    The real Quarto CLI (``quarto render report.qmd --to html`` and ``--to typst``), used when
    ``quarto`` is on the PATH or the environment variable ``QUARTO`` names it. Options come from
    the project's ``_quarto.yml``.
``pandoc``
    A small pip-only **stand-in for Quarto**, built on the tools Quarto itself drives: pandoc
    (``pypandoc-binary``) and Typst (``typst``). It is not a second product: it supports only
    the few Quarto features the report uses, and rejects any other shortcode with a clear error.

Supported by the stand-in (everything else is plain pandoc Markdown):

- ``{{< include path >}}`` alone on its line, recursively; a relative path is resolved from the
  folder of the file holding the shortcode, a path starting with ``/`` from the project folder.
  As in Quarto, the included text is pasted in, so image paths inside it are relative to the
  report.
- ``{{< var a.b.c >}}``: a dotted path into ``_variables.yml`` (a missing key is an error naming
  the key, the variables file and the report line).
- ``{{< pagebreak >}}`` alone on its line: a page break in the PDF, nothing in HTML.
- ``{{{< ... >}}}``: an escaped shortcode, printed literally.
- Cross-references: figures ``![Caption](figures/x.png){#fig-flow}`` and tables with a caption
  line ``: Caption {#tbl-table1}`` are numbered in order of appearance (figures and tables
  separately); ``@fig-flow`` becomes a link "Figure 1", ``@Fig-flow`` the same, ``-@fig-flow``
  the bare number, and captions get Quarto's "Figure 1: " prefix. ``crossref`` options
  ``title-delim``, ``fig-title``, ``tbl-title``, ``fig-prefix`` and ``tbl-prefix`` are read
  from ``_quarto.yml`` and the front matter.
- Callouts ``::: {.callout-note title="..."}`` (also warning, important, tip, caution; the title
  may instead be the callout's first heading): a styled box in HTML, a bordered block in PDF.
- Front matter ``title``, ``subtitle``, ``author``, ``date`` (``today`` allowed), ``abstract``
  and ``lang``; options ``toc``, ``toc-depth``, ``toc-title``, ``number-sections``,
  ``section-numbering``, ``papersize``, ``margin`` and ``fontsize`` from ``_quarto.yml``
  (``format: html`` / ``format: typst``) and the front matter.

The HTML is standalone, with resources embedded as ``data:`` URIs, a small embedded stylesheet,
MathML for any math and no external URL. The PDF is Typst output of pandoc's Typst writer, with
smaller type in tables so they fit the page. Outputs are written under a temporary name in the
run folder and renamed into place, so a failed render never leaves a half-written report.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisError

__all__ = [
    "RenderError",
    "find_quarto",
    "load_variables",
    "render_report",
    "resolve_quarto_markdown",
]

REPORT_NAME = "report.qmd"
VARIABLES_NAME = "_variables.yml"
PROJECT_NAME = "_quarto.yml"
FORMATS = ("html", "pdf")
ENGINES = ("auto", "quarto", "pandoc")

#: Quarto's defaults for the cross-reference options the stand-in reads.
CROSSREF_DEFAULTS = {
    "title-delim": ":",
    "fig-title": "Figure",
    "tbl-title": "Table",
    "fig-prefix": "Figure",
    "tbl-prefix": "Table",
}

_CALLOUT_KINDS = {
    # kind: (default title, colour)
    "note": ("Note", "#0d6efd"),
    "warning": ("Warning", "#e0a800"),
    "important": ("Important", "#dc3545"),
    "tip": ("Tip", "#198754"),
    "caution": ("Caution", "#fd7e14"),
}

_HTML_CSS = """<style>
body { max-width: 62em; font-family: system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; line-height: 1.5; }
header#title-block-header { margin-bottom: 2em; }
header#title-block-header .subtitle { font-size: 1.2em; margin-top: 0; }
nav#TOC { border-left: 3px solid #dee2e6; padding-left: 1em; margin-bottom: 2em; }
table { border-collapse: collapse; margin: 1em auto; font-size: 0.85em;
  font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.4em; }
th, td { padding: 0.25em 0.7em; border: none; border-bottom: 1px solid #dee2e6; }
thead th { border-top: 2px solid #495057; border-bottom: 2px solid #495057; }
tbody tr:last-child td { border-bottom: 2px solid #495057; }
figure { margin: 1.5em 0; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; margin-top: 0.4em; }
.callout { margin: 1.2em 0; padding: 0.6em 1em; border: 1px solid #dee2e6;
  border-left: 5px solid #0d6efd; border-radius: 4px; background: #f8f9fa; }
.callout-title { font-weight: 600; margin-bottom: 0.2em; }
.callout-title p { margin: 0; }
.callout > :last-child { margin-bottom: 0; }
"""
_HTML_CSS += "".join(
    f".callout-{kind} {{ border-left-color: {colour}; }}\n"
    for kind, (_, colour) in _CALLOUT_KINDS.items()
)
_HTML_CSS += "</style>"

# Typst set/show rules placed before the document (pandoc's ``header-includes``).
_TYPST_HEADER = """\
// Numbers are already in the captions (Quarto-style cross-references, analysis/render.py).
#set figure(numbering: none)
#show figure: set block(breakable: true)
#show table: set text(size: 0.8em)
#set table(inset: (x: 4pt, y: 3pt))
"""

_FRONT_MATTER_KEYS = ("title", "subtitle", "author", "date", "abstract", "lang")
_FORMAT_KEYS = (
    "toc",
    "toc-depth",
    "toc-title",
    "number-sections",
    "section-numbering",
    "papersize",
    "margin",
    "fontsize",
)
_HTML_DEFAULTS = {"toc": True, "toc-depth": 3, "toc-title": "Table of contents",
                  "number-sections": True}
_TYPST_DEFAULTS = {"toc": True, "toc-depth": 3, "number-sections": True}


class RenderError(AnalysisError):
    """The report cannot be rendered; the message names the file, line and rule."""


# --------------------------------------------------------------------------------------------
# Source lines with their origin (for error messages)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    text: str
    source: str
    lineno: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lineno}"


def _lines_of(text: str, source: str) -> list[_Line]:
    return [_Line(t, source, i) for i, t in enumerate(text.splitlines(), start=1)]


_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _code_mask(lines: list[_Line]) -> list[bool]:
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


def _front_matter_end(lines: list[_Line]) -> int:
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


def _outside_code_spans(text: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the parts of one line that are not inline code spans."""
    out, pos = [], 0
    for m in _CODE_SPAN_RE.finditer(text):
        out.append(fn(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(fn(text[pos:]))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Shortcodes: include, var, pagebreak
# --------------------------------------------------------------------------------------------

_INCLUDE_RE = re.compile(r"^\s*\{\{<\s*include\s+(.+?)\s*>\}\}\s*$")
_SHORTCODE_RE = re.compile(r"\{\{\{<\s*(.*?)\s*>\}\}\}|\{\{<\s*(.*?)\s*>\}\}")
_SUPPORTED_SHORTCODES = ("include", "var", "pagebreak")


def _unquote(arg: str) -> str:
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1]
    return arg


def _expand_includes(
    lines: list[_Line], here: Path, root: Path, stack: tuple[Path, ...]
) -> list[_Line]:
    out: list[_Line] = []
    for line in lines:
        m = _INCLUDE_RE.match(line.text)
        if not m:
            if re.search(r"(?<!\{)\{\{<\s*include\b", line.text):
                raise RenderError(
                    f"{line.where}: an include shortcode must stand alone on its line "
                    "(Quarto rule); found inside other text"
                )
            out.append(line)
            continue
        target = _unquote(m.group(1))
        path = (root / target.lstrip("/")) if target.startswith("/") else (here / target)
        path = path.resolve()
        if path in stack:
            chain = " -> ".join(p.name for p in (*stack, path))
            raise RenderError(f"{line.where}: include cycle {chain}")
        if not path.is_file():
            raise RenderError(
                f"{line.where}: included file '{target}' not found (looked for {path})"
            )
        text = path.read_text(encoding="utf-8")
        shown = os.path.relpath(path, root) if path.is_relative_to(root) else str(path)
        sub = _expand_includes(_lines_of(text, shown), path.parent, root, (*stack, path))
        out.extend(sub)
    return out


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup_variable(
    key: str, variables: Mapping[str, Any], variables_file: str, where: str
) -> str:
    node: Any = variables
    for i, part in enumerate(key.split(".")):
        if not isinstance(node, Mapping) or part not in node:
            known = ", ".join(sorted(map(str, node))) if isinstance(node, Mapping) else ""
            prefix = ".".join(key.split(".")[:i]) or "(top level)"
            hint = f"; keys under {prefix}: {known}" if known else ""
            raise RenderError(
                f"{where}: variable '{key}' not found in {variables_file}{hint}"
            )
        node = node[part]
    if isinstance(node, Mapping | list) or node is None:
        raise RenderError(
            f"{where}: variable '{key}' in {variables_file} is not a single value "
            f"(got {type(node).__name__})"
        )
    return _format_value(node)


def _resolve_shortcodes(
    lines: list[_Line], variables: Mapping[str, Any], variables_file: str
) -> list[_Line]:
    out: list[_Line] = []
    for line in lines:
        stripped = line.text.strip()
        if re.fullmatch(r"\{\{<\s*pagebreak\s*>\}\}", stripped):
            out.extend(replace(line, text=t) for t in ("", "```{=typst}", "#pagebreak()",
                                                        "```", ""))
            continue

        def sub(m: re.Match[str], line: _Line = line) -> str:
            if m.group(1) is not None:  # escaped: {{{< x >}}} prints {{< x >}}
                return "{{< " + m.group(1) + " >}}"
            parts = m.group(2).split()
            name = parts[0] if parts else ""
            if name == "var":
                if len(parts) != 2:
                    raise RenderError(
                        f"{line.where}: write the var shortcode as {{{{< var key.path >}}}}"
                    )
                return _lookup_variable(_unquote(parts[1]), variables, variables_file,
                                        line.where)
            if name == "pagebreak":
                raise RenderError(f"{line.where}: pagebreak must stand alone on its line")
            raise RenderError(
                f"{line.where}: shortcode '{name}' is not supported by the pip-only renderer "
                f"(supported: {', '.join(_SUPPORTED_SHORTCODES)}); install Quarto or remove it"
            )

        out.append(replace(line, text=_SHORTCODE_RE.sub(sub, line.text)))
    return out


# --------------------------------------------------------------------------------------------
# Cross-references
# --------------------------------------------------------------------------------------------

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
_BRACKET_REF_RE = re.compile(r"\[(-?@(?:[Ff]ig|[Tt]bl)-" + _LABEL + r")\]")


def _crossref_numbers(lines: list[_Line], skip: list[bool]) -> dict[str, int]:
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


def _resolve_crossrefs(
    lines: list[_Line], skip: list[bool], crossref: Mapping[str, str]
) -> list[_Line]:
    numbers = _crossref_numbers(lines, skip)
    out: list[_Line] = []
    for line, is_code in zip(lines, skip, strict=True):
        if is_code:
            out.append(line)
            continue

        def ref(m: re.Match[str], line: _Line = line) -> str:
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
            return f"![{cap}]{m.group('target')}{{{m.group('attrs')}}}"

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
            text = text[:lead] + _outside_code_spans(text[lead:], fix)
        else:
            text = _outside_code_spans(text, fix)
        out.append(replace(line, text=text))
    return out


# --------------------------------------------------------------------------------------------
# Callouts
# --------------------------------------------------------------------------------------------

_DIV_OPEN_RE = re.compile(r"^\s*(:{3,})\s*(\{[^}]*\}|[\w-]+)\s*:*\s*$")
_DIV_CLOSE_RE = re.compile(r"^\s*:{3,}\s*$")
_ATTR_KV_RE = re.compile(r"([\w-]+)=(\"[^\"]*\"|'[^']*'|[^\s}]+)")
_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{[^}]*\})?\s*$")


def _typst_callout_open(kind: str) -> str:
    colour = _CALLOUT_KINDS[kind][1]
    return (
        f'#block(width: 100%, inset: 8pt, radius: 2pt, fill: rgb("{colour}").lighten(92%), '
        f'stroke: (left: 3pt + rgb("{colour}"), rest: 0.5pt + rgb("{colour}")))['
    )


def _resolve_callouts(lines: list[_Line], skip: list[bool]) -> list[_Line]:
    out: list[_Line] = []
    stack: list[tuple[bool, _Line]] = []  # one entry per open div: (is a callout, opener)
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
            kinds = [k for k in kinds if k in _CALLOUT_KINDS]
            stack.append((bool(kinds), line))
            if not kinds:
                out.append(line)
                i += 1
                continue
            kind = kinds[0]
            kv = {k: _unquote(v) for k, v in _ATTR_KV_RE.findall(attrs)}
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
            title = title or _CALLOUT_KINDS[kind][0]
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


# --------------------------------------------------------------------------------------------
# Public preprocessing
# --------------------------------------------------------------------------------------------


def resolve_quarto_markdown(
    text: str,
    base_dir: Path,
    variables: Mapping[str, Any],
    *,
    source: str = REPORT_NAME,
    variables_file: str = VARIABLES_NAME,
    crossref: Mapping[str, str] | None = None,
) -> str:
    """Turn the Quarto features the report uses into plain pandoc Markdown.

    Includes are pasted in first (recursively), then ``var`` and ``pagebreak`` shortcodes are
    resolved, then figures and tables are numbered, cross-references replaced and callouts
    converted. The front matter is kept (shortcodes in it are resolved too).

    Parameters
    ----------
    text : str
        The ``.qmd`` source.
    base_dir : Path
        Folder of the document: relative include paths start here, ``/path`` too.
    variables : Mapping
        The parsed ``_variables.yml`` (nested mapping).
    source, variables_file : str
        Names used in error messages.
    crossref : Mapping, optional
        Quarto ``crossref`` options (``title-delim``, ``fig-title``, ``tbl-title``,
        ``fig-prefix``, ``tbl-prefix``); Quarto's defaults otherwise.

    Returns
    -------
    str
        Pandoc Markdown. Typst-only pieces (page breaks, callout borders) are raw
        ``{=typst}`` blocks, which the HTML writer drops.

    Raises
    ------
    RenderError
        A missing include, variable or cross-reference target, a duplicate label, an
        unsupported shortcode; the message names the file and line.

    Notes
    -----
    DESIGN.md section 7: a stand-in for Quarto supporting only these features.

    Examples
    --------
    >>> md = "See @fig-a.\\n\\n![Flow](f.png){#fig-a}\\n\\nN = {{< var n.total >}}\\n"
    >>> print(resolve_quarto_markdown(md, Path("."), {"n": {"total": 67}}))
    See [Figure\\ 1](#fig-a).
    <BLANKLINE>
    ![Figure\\ 1: Flow](f.png){#fig-a}
    <BLANKLINE>
    N = 67
    <BLANKLINE>
    """
    options = {**CROSSREF_DEFAULTS, **{k: str(v) for k, v in (crossref or {}).items()
                                        if k in CROSSREF_DEFAULTS}}
    base = Path(base_dir).resolve()
    lines = _expand_includes(_lines_of(text, source), base, base, (base / source,))
    lines = _resolve_shortcodes(lines, variables, variables_file)
    fm_end = _front_matter_end(lines)
    skip = [i < fm_end or c for i, c in enumerate(_code_mask(lines))]
    lines = _resolve_crossrefs(lines, skip, options)
    lines = _resolve_callouts(lines, skip)
    return "\n".join(line.text for line in lines) + "\n"


# --------------------------------------------------------------------------------------------
# Configuration: _variables.yml, _quarto.yml, front matter
# --------------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML ({exc})") from exc


def load_variables(path: Path) -> dict[str, Any]:
    """Read ``_variables.yml``: a nested mapping, empty if the file does not exist.

    Parameters
    ----------
    path : Path
        The variables file.

    Returns
    -------
    dict
        The parsed mapping.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    data = _read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RenderError(f"{path}: must be a YAML mapping of names to values")
    return data


def _split_front_matter(markdown: str, source: str) -> tuple[dict[str, Any], str]:
    import yaml

    m = re.match(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)", markdown, re.S)
    if not m:
        return {}, markdown
    try:
        meta = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{source}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise RenderError(f"{source}: front matter must be a YAML mapping")
    return meta, markdown[m.end():]


def _format_options(layers: Iterable[Mapping[str, Any]], fmt: str, defaults: dict) -> dict:
    """Merge Quarto options: project then document, top level then ``format: <fmt>``."""
    opts = dict(defaults)
    for layer in layers:
        opts.update({k: v for k, v in layer.items() if k in _FORMAT_KEYS})
        formats = layer.get("format")
        if isinstance(formats, Mapping) and isinstance(formats.get(fmt), Mapping):
            opts.update({k: v for k, v in formats[fmt].items() if k in _FORMAT_KEYS})
    return opts


def _crossref_options(layers: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    opts = dict(CROSSREF_DEFAULTS)
    for layer in layers:
        cr = layer.get("crossref")
        if isinstance(cr, Mapping):
            opts.update({k: str(v) for k, v in cr.items() if k in CROSSREF_DEFAULTS})
    return opts


def _author_names(author: Any) -> list[str]:
    items = author if isinstance(author, list) else [author]
    names = []
    for item in items:
        if isinstance(item, Mapping):
            name = item.get("name", "")
            if isinstance(name, Mapping):
                name = name.get("literal") or " ".join(
                    str(name[k]) for k in ("given", "family") if name.get(k))
            names.append(str(name))
        elif item is not None:
            names.append(str(item))
    return names


def _pandoc_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _FRONT_MATTER_KEYS:
        if meta.get(key) is None:
            continue
        value = meta[key]
        if key == "author":
            value = _author_names(value)
        elif key == "date":
            if str(value) in ("today", "now", "last-modified"):
                value = _dt.date.today()
            value = value.isoformat() if isinstance(value, _dt.date) else str(value)
        out[key] = value
    out.setdefault("lang", "en")  # Quarto's default; sets <html lang> for screen readers
    return out


def _pdf_timestamp(meta: Mapping[str, Any]) -> int | None:
    """Creation time for a reproducible PDF: SOURCE_DATE_EPOCH, else an ISO ``date``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    date = meta.get("date")
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            return None
    if isinstance(date, _dt.date):
        when = _dt.datetime(date.year, date.month, date.day, tzinfo=_dt.UTC)
        return int(when.timestamp())
    return None


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


def find_quarto() -> str | None:
    """Locate the Quarto CLI: the ``QUARTO`` environment variable, else ``quarto`` on PATH.

    Returns
    -------
    str or None
        The executable's path, or None when Quarto is not available.

    Raises
    ------
    RenderError
        ``QUARTO`` is set but names no executable.
    """
    named = os.environ.get("QUARTO", "").strip()
    if named:
        found = shutil.which(named)
        if found is None:
            raise RenderError(f"QUARTO={named!r} does not name an executable Quarto CLI")
        return found
    return shutil.which("quarto")


def _pandoc_path() -> str:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as exc:
        raise RenderError(
            "pandoc not found: install the pinned 'pypandoc-binary' package "
            f"(pip install -e .) ({exc})"
        ) from exc


def _atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``target``, then rename it into place."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _run_pandoc(markdown: str, args: list[str], cwd: Path, what: str) -> str:
    cmd = [_pandoc_path(), "--from=markdown", *args]
    proc = subprocess.run(cmd, input=markdown, capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, check=False)
    problems = [ln for ln in proc.stderr.splitlines()
                if "Could not fetch resource" in ln or "Could not find image" in ln]
    if proc.returncode != 0 or problems:
        detail = "; ".join(problems) or proc.stderr.strip() or f"exit code {proc.returncode}"
        raise RenderError(f"pandoc failed to write the {what} of {cwd / REPORT_NAME}: {detail}")
    return proc.stdout


def _with_metadata(meta: Mapping[str, Any], body: str) -> str:
    import yaml

    if not meta:
        return body
    return "---\n" + yaml.safe_dump(dict(meta), allow_unicode=True, sort_keys=False) + \
        "---\n" + body


def _render_html_pandoc(run_dir: Path, meta: dict, body: str, opts: dict) -> Path:
    def write(tmp: Path) -> None:
        args = ["--to=html5", "--standalone", "--embed-resources", "--mathml",
                "--resource-path=.", f"--output={tmp}", f"--variable=header-includes:{_HTML_CSS}"]
        if opts.get("toc"):
            args += ["--toc", f"--toc-depth={int(opts.get('toc-depth', 3))}"]
            if opts.get("toc-title"):
                args.append(f"--variable=toc-title:{opts['toc-title']}")
        if opts.get("number-sections"):
            args.append("--number-sections")
        _run_pandoc(_with_metadata(_pandoc_metadata(meta), body), args, run_dir, "HTML")

    return _atomic_write(run_dir / "report.html", write)


def _render_pdf_pandoc(run_dir: Path, meta: dict, body: str, opts: dict) -> Path:
    import typst

    pmeta = _pandoc_metadata(meta)
    args = ["--to=typst", "--standalone", f"--variable=header-includes:{_TYPST_HEADER}"]
    if opts.get("toc"):
        args += ["--toc", f"--toc-depth={int(opts.get('toc-depth', 3))}"]
    numbering = opts.get("section-numbering") or ("1.1.a" if opts.get("number-sections")
                                                  else None)
    if numbering:
        args.append(f"--variable=section-numbering:{numbering}")
    for key in ("papersize", "fontsize"):
        if opts.get(key):
            args.append(f"--variable={key}:{opts[key]}")
    if isinstance(opts.get("margin"), Mapping):
        pmeta["margin"] = {str(k): str(v) for k, v in opts["margin"].items()}
    source = _run_pandoc(_with_metadata(pmeta, body), args, run_dir, "Typst source")

    def write(tmp: Path) -> None:
        try:
            pdf = typst.compile(source.encode("utf-8"), root=str(run_dir), format="pdf",
                                timestamp=_pdf_timestamp(meta))
        except typst.TypstError as exc:
            hints = " ".join(getattr(exc, "hints", None) or [])
            raise RenderError(
                f"Typst failed to compile the PDF of {run_dir / REPORT_NAME}: "
                f"{getattr(exc, 'message', exc)} {hints}".strip()
            ) from exc
        tmp.write_bytes(pdf)

    return _atomic_write(run_dir / "report.pdf", write)


def _render_quarto(run_dir: Path, fmt: str, quarto: str) -> Path:
    to, name = {"html": ("html", "report.html"), "pdf": ("typst", "report.pdf")}[fmt]
    # A fresh output folder inside the project (relative, as Quarto expects; "_" keeps Quarto
    # from treating it as input), then a rename: the previous report stays until the new one
    # is complete.
    with tempfile.TemporaryDirectory(dir=run_dir, prefix="_quarto-out-") as out_dir:
        cmd = [quarto, "render", REPORT_NAME, "--to", to, "--output-dir",
               os.path.basename(out_dir)]
        proc = subprocess.run(cmd, cwd=run_dir, capture_output=True, text=True, check=False)
        produced = Path(out_dir) / name
        if proc.returncode != 0 or not produced.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise RenderError(
                f"'{' '.join(cmd)}' in {run_dir} failed (exit code {proc.returncode}, "
                f"{name} {'written' if produced.is_file() else 'not written'}):\n{tail}"
            )
        os.replace(produced, run_dir / name)
    return run_dir / name


def render_report(
    run_dir: Path, formats: Iterable[str] = FORMATS, engine: str = "auto"
) -> dict[str, Path]:
    """Render ``run_dir/report.qmd`` to ``report.html`` and/or ``report.pdf`` in ``run_dir``.

    The run folder must already hold ``report.qmd`` (and normally ``_quarto.yml``,
    ``_variables.yml``, ``tables/`` and ``figures/``); this function copies nothing.

    Parameters
    ----------
    run_dir : Path
        The run folder (rendered in place).
    formats : iterable of {"html", "pdf"}
        Outputs to write.
    engine : {"auto", "quarto", "pandoc"}
        ``quarto`` runs the Quarto CLI (see :func:`find_quarto`), ``pandoc`` the pip-only
        stand-in; ``auto`` takes Quarto when it is available.

    Returns
    -------
    dict
        Format name to the written file.

    Raises
    ------
    RenderError
        Bad arguments, a missing input, or a failed render (the previous outputs are left
        untouched).

    Notes
    -----
    DESIGN.md section 7 (Rendering).
    """
    run_dir = Path(run_dir).resolve()
    formats = tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise RenderError(f"formats must be a non-empty subset of {FORMATS}, got {formats}")
    if engine not in ENGINES:
        raise RenderError(f"engine must be one of {ENGINES}, got {engine!r}")
    qmd = run_dir / REPORT_NAME
    if not qmd.is_file():
        raise RenderError(f"{qmd} not found: copy report.qmd into the run folder first")

    quarto = find_quarto() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise RenderError("engine='quarto' but no Quarto CLI found (set QUARTO or PATH)")
    if quarto is not None:
        return {fmt: _render_quarto(run_dir, fmt, quarto) for fmt in formats}

    project_file = run_dir / PROJECT_NAME
    project = _read_yaml(project_file) if project_file.is_file() else {}
    if not isinstance(project, dict):
        raise RenderError(f"{project_file}: must be a YAML mapping")
    source = qmd.read_text(encoding="utf-8")
    raw_meta, _ = _split_front_matter(source, str(qmd))
    variables_file = run_dir / VARIABLES_NAME
    shown_vars = str(variables_file) if variables_file.is_file() else \
        f"{variables_file} (file does not exist)"
    markdown = resolve_quarto_markdown(
        source, run_dir, load_variables(variables_file),
        source=REPORT_NAME, variables_file=shown_vars,
        crossref=_crossref_options((project, raw_meta)),
    )
    meta, body = _split_front_matter(markdown, str(qmd))
    layers = (project, meta)

    def one(fmt: str) -> Path:
        if fmt == "html":
            return _render_html_pandoc(run_dir, meta, body,
                                       _format_options(layers, "html", _HTML_DEFAULTS))
        return _render_pdf_pandoc(run_dir, meta, body,
                                  _format_options(layers, "typst", _TYPST_DEFAULTS))

    # HTML and PDF are independent (separate pandoc processes, separate temporary files):
    # render them side by side.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, len(formats))) as pool:
        futures = {fmt: pool.submit(one, fmt) for fmt in formats}
        return {fmt: future.result() for fmt, future in futures.items()}
