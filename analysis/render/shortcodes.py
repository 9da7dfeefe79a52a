"""Quarto shortcodes: ``{{< include >}}`` (recursive), ``{{< var >}}`` (from
``_variables.yml``), ``{{< pagebreak >}}`` and escaped ``{{{< ... >}}}``; any other shortcode is
an error naming the file and line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.render.source import Line, RenderError, lines_of

_INCLUDE_RE = re.compile(r"^\s*\{\{<\s*include\s+(.+?)\s*>\}\}\s*$")
_SHORTCODE_RE = re.compile(r"\{\{\{<\s*(.*?)\s*>\}\}\}|\{\{<\s*(.*?)\s*>\}\}")
_SUPPORTED_SHORTCODES = ("include", "var", "pagebreak")


def unquote(arg: str) -> str:
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1]
    return arg


def expand_includes(
    lines: list[Line], here: Path, root: Path, stack: tuple[Path, ...]
) -> list[Line]:
    out: list[Line] = []
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
        target = unquote(m.group(1))
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
        sub = expand_includes(lines_of(text, shown), path.parent, root, (*stack, path))
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


def resolve_shortcodes(
    lines: list[Line], variables: Mapping[str, Any], variables_file: str
) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        stripped = line.text.strip()
        if re.fullmatch(r"\{\{<\s*pagebreak\s*>\}\}", stripped):
            # A page break in PDF and Word (raw blocks of other formats are dropped: none in
            # HTML), as Quarto's pagebreak shortcode does.
            out.extend(replace(line, text=t) for t in (
                "", "```{=typst}", "#pagebreak()", "```", "",
                "```{=openxml}", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>', "```", ""))
            continue

        def sub(m: re.Match[str], line: Line = line) -> str:
            if m.group(1) is not None:  # escaped: {{{< x >}}} prints {{< x >}}
                return "{{< " + m.group(1) + " >}}"
            parts = m.group(2).split()
            name = parts[0] if parts else ""
            if name == "var":
                if len(parts) != 2:
                    raise RenderError(
                        f"{line.where}: write the var shortcode as {{{{< var key.path >}}}}"
                    )
                return _lookup_variable(unquote(parts[1]), variables, variables_file,
                                        line.where)
            if name == "pagebreak":
                raise RenderError(f"{line.where}: pagebreak must stand alone on its line")
            raise RenderError(
                f"{line.where}: shortcode '{name}' is not supported by the pip-only renderer "
                f"(supported: {', '.join(_SUPPORTED_SHORTCODES)}); install Quarto or remove it"
            )

        out.append(replace(line, text=_SHORTCODE_RE.sub(sub, line.text)))
    return out

