"""The pip-only stand-in for Quarto: pandoc writes HTML, Typst and Word, Typst writes the PDF."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.files import write_atomic
from analysis.render.callouts import CALLOUT_KINDS
from analysis.render.config import (
    filter_args,
    header_includes,
    pandoc_metadata,
    pdf_timestamp,
)
from analysis.render.docx_contents import write_contents
from analysis.render.source import REPORT_NAME, RenderError

#: Quarto's conditional content (``.content-visible`` / ``.content-hidden`` with
#: ``when-format`` / ``unless-format``), resolved per format before the project's filters.
_CONDITIONAL = Path(__file__).with_name("conditional.lua")

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
    for kind, (_, colour) in CALLOUT_KINDS.items()
)
_HTML_CSS += "</style>"

# Typst set/show rules of the stand-in only, placed before the document (pandoc's
# ``header-includes``), followed by the typst format's ``include-in-header`` files, which
# Quarto includes too (the project's report-header.typ: breakable table figures, caption
# separator, sticky captions, table text, floating figures), so both engines print the same
# document.
_TYPST_HEADER = """\
// Numbers are already in the captions (Quarto-style cross-references, analysis/render).
#set figure(numbering: none)
"""


def _colwidth_args(opts: Mapping[str, Any]) -> list[str]:
    """Quarto's ``tbl-colwidths: false``: no explicit column widths from a pipe table's dashes.

    pandoc gives a pipe table relative widths (from its dashes) when a line is longer than
    ``--columns``; a column width no table line reaches keeps every table at default widths,
    which Typst and Word size to the content, as Quarto's option does.
    """
    return ["--columns=100000"] if opts.get("tbl-colwidths") is False else []

def _pandoc_path() -> str:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as exc:
        raise RenderError(
            "pandoc not found: install the pinned 'pypandoc-binary' package "
            f"(pip install -e .) ({exc})"
        ) from exc



def pandoc_version() -> str:
    """The version of the pandoc the stand-in runs (``pypandoc-binary``'s), e.g. ``3.9``."""
    import pypandoc

    _pandoc_path()  # a clear error when pandoc is missing
    return str(pypandoc.get_pandoc_version())


def _run_pandoc(markdown: str, args: list[str], cwd: Path, what: str,
                env: Mapping[str, str] | None = None) -> str:
    cmd = [_pandoc_path(), "--from=markdown", f"--lua-filter={_CONDITIONAL}", *args]
    proc = subprocess.run(cmd, input=markdown, capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, check=False,
                          env=None if env is None else {**os.environ, **env})
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


def render_html(run_dir: Path, meta: dict, body: str, opts: dict) -> Path:
    def write(tmp: Path) -> None:
        # The stand-in's CSS, then the html format's include-in-header (Quarto's option).
        css = _HTML_CSS + header_includes(opts, run_dir, "html")
        args = ["--to=html5", "--standalone", "--embed-resources", "--mathml",
                "--resource-path=.", f"--output={tmp}", f"--variable=header-includes:{css}",
                *_colwidth_args(opts), *filter_args(opts, run_dir, "html")]
        if opts.get("toc"):
            args += ["--toc", f"--toc-depth={int(opts.get('toc-depth', 3))}"]
            if opts.get("toc-title"):
                args.append(f"--variable=toc-title:{opts['toc-title']}")
        if opts.get("number-sections"):
            args.append("--number-sections")
        _run_pandoc(_with_metadata(pandoc_metadata(meta), body), args, run_dir, "HTML")

    return write_atomic(run_dir / "report.html", write)


def render_pdf(run_dir: Path, meta: dict, body: str, opts: dict) -> Path:
    import typst

    pmeta = pandoc_metadata(meta)
    header = _TYPST_HEADER + header_includes(opts, run_dir, "typst")
    args = ["--to=typst", "--standalone", f"--variable=header-includes:{header}",
            *_colwidth_args(opts), *filter_args(opts, run_dir, "typst")]
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
                                timestamp=pdf_timestamp(meta))
        except typst.TypstError as exc:
            hints = " ".join(getattr(exc, "hints", None) or [])
            raise RenderError(
                f"Typst failed to compile the PDF of {run_dir / REPORT_NAME}: "
                f"{getattr(exc, 'message', exc)} {hints}".strip()
            ) from exc
        tmp.write_bytes(pdf)

    return write_atomic(run_dir / "report.pdf", write)



def render_docx(run_dir: Path, meta: dict, body: str, opts: dict) -> Path:
    """``report.docx`` with pandoc's Word writer: real Word tables (captions "Table 1. ..."
    above them, as Quarto's docx format), the PNG figures embedded with their alt text, a
    table of contents field (Word fills it on opening; its entries are written too, for
    LibreOffice: :func:`analysis.render.docx_contents.write_contents`) and numbered sections.
    Styles and page come from ``reference-doc`` (the project's reference.docx: the PDF's paper,
    margins and type sizes), and ``filters`` (docx-tables.lua) sizes the tables' columns from
    their content."""
    def write(tmp: Path) -> None:
        args = ["--to=docx", "--resource-path=.", f"--output={tmp}", *_colwidth_args(opts),
                *filter_args(opts, run_dir, "docx")]
        if opts.get("toc"):
            args += ["--toc", f"--toc-depth={int(opts.get('toc-depth', 3))}"]
        if opts.get("number-sections"):
            args.append("--number-sections")
        # pandoc stamps a .docx with SOURCE_DATE_EPOCH when set (its manual), else the time
        # of day: the document's date keeps re-rendered files identical, as for the PDF.
        stamp = pdf_timestamp(meta)
        env = None if stamp is None else {"SOURCE_DATE_EPOCH": str(stamp)}
        _run_pandoc(_with_metadata(pandoc_metadata(meta), body), args, run_dir, "Word file",
                    env)
        write_contents(tmp)  # the contents list written, for LibreOffice (issue 25)

    return write_atomic(run_dir / "report.docx", write)
