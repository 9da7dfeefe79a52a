"""Quarto Markdown to plain pandoc Markdown: includes, shortcodes, cross-references and
callouts resolved in that order."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.render.callouts import resolve_callouts
from analysis.render.crossref import CROSSREF_DEFAULTS, resolve_crossrefs
from analysis.render.shortcodes import expand_includes, resolve_shortcodes
from analysis.render.source import (
    REPORT_NAME,
    VARIABLES_NAME,
    code_mask,
    front_matter_end,
    lines_of,
)

__all__ = ["resolve_quarto_markdown"]


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
    lines = expand_includes(lines_of(text, source), base, base, (base / source,))
    lines = resolve_shortcodes(lines, variables, variables_file)
    fm_end = front_matter_end(lines)
    skip = [i < fm_end or c for i, c in enumerate(code_mask(lines))]
    lines = resolve_crossrefs(lines, skip, options)
    lines = resolve_callouts(lines, skip)
    return "\n".join(line.text for line in lines) + "\n"

