"""Render a run's ``report.qmd`` to HTML and PDF with Quarto, or with the pip-only stand-in."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from analysis.render.config import (
    DOCX_DEFAULTS,
    HTML_DEFAULTS,
    TYPST_DEFAULTS,
    crossref_options,
    format_options,
    load_variables,
    read_yaml,
    split_front_matter,
)
from analysis.render.pandoc import render_docx, render_html, render_pdf
from analysis.render.quarto import find_quarto, quarto_version, render_quarto
from analysis.render.quarto_markdown import resolve_quarto_markdown
from analysis.render.source import PROJECT_NAME, REPORT_NAME, VARIABLES_NAME, RenderError

FORMATS = ("html", "pdf", "docx")
ENGINES = ("auto", "quarto", "pandoc")


def render_report(
    run_dir: Path, formats: Iterable[str] = FORMATS, engine: str = "auto"
) -> dict[str, Path]:
    """Render ``run_dir/report.qmd`` to ``report.html``, ``report.pdf``, ``report.docx``.

    The run folder must already hold ``report.qmd`` (and normally ``_quarto.yml``,
    ``_variables.yml``, ``tables/`` and ``figures/``); this function copies nothing.

    Parameters
    ----------
    run_dir : Path
        The run folder (rendered in place).
    formats : iterable of {"html", "pdf", "docx"}
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
        return {fmt: render_quarto(run_dir, fmt, quarto) for fmt in formats}

    return render_with_standin(run_dir, formats)


def describe_renderer(engine: str = "auto") -> dict[str, object]:
    """The engine :func:`render_report` uses with ``engine``, and its version.

    Parameters
    ----------
    engine : {"auto", "quarto", "pandoc"}
        As for :func:`render_report`.

    Returns
    -------
    dict
        ``engine`` ("quarto" or "pandoc"), ``version`` (Quarto's, or pandoc's for the
        stand-in), ``tools`` (each program that renders, with its version: Quarto, whose
        release fixes the pandoc and Typst it bundles; or pandoc and Typst from the
        ``pypandoc-binary`` and ``typst`` packages) and ``text``, the same in words for the
        report's Appendix C.

    Raises
    ------
    RenderError
        ``engine`` is unknown, or is "quarto" and no Quarto CLI is found.

    Notes
    -----
    DESIGN.md section 7; /work/shared/QUARTO.md, defect 11 (the manifest and Appendix C did
    not say which engine rendered the report).
    """
    if engine not in ENGINES:
        raise RenderError(f"engine must be one of {ENGINES}, got {engine!r}")
    quarto = find_quarto() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise RenderError("engine='quarto' but no Quarto CLI found (set QUARTO or PATH)")
    if quarto is not None:
        version = quarto_version(quarto)
        return {"engine": "quarto", "version": version, "tools": {"quarto": version},
                "text": f"Quarto {version}"}
    from importlib import metadata

    from analysis.render.pandoc import pandoc_version

    pandoc = pandoc_version()
    try:
        typst = metadata.version("typst")
    except metadata.PackageNotFoundError:
        typst = "not installed"
    return {"engine": "pandoc", "version": pandoc, "tools": {"pandoc": pandoc, "typst": typst},
            "text": f"pandoc {pandoc} and Typst {typst} (the project's stand-in for Quarto, "
                     "installed with pip)"}


def render_with_standin(run_dir: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    """The pip-only path: resolve the Quarto Markdown once, then write HTML, PDF and Word.

    Options merge as in Quarto: ``_quarto.yml``, then the document's front matter.
    """
    qmd = run_dir / REPORT_NAME
    project_file = run_dir / PROJECT_NAME
    project = read_yaml(project_file) if project_file.is_file() else {}
    if not isinstance(project, dict):
        raise RenderError(f"{project_file}: must be a YAML mapping")
    source = qmd.read_text(encoding="utf-8")
    raw_meta, _ = split_front_matter(source, str(qmd))
    variables_file = run_dir / VARIABLES_NAME
    shown_vars = str(variables_file) if variables_file.is_file() else \
        f"{variables_file} (file does not exist)"
    markdown = resolve_quarto_markdown(
        source, run_dir, load_variables(variables_file),
        source=REPORT_NAME, variables_file=shown_vars,
        crossref=crossref_options((project, raw_meta)),
    )
    meta, body = split_front_matter(markdown, str(qmd))
    layers = (project, meta)

    def one(fmt: str) -> Path:
        if fmt == "html":
            return render_html(run_dir, meta, body,
                               format_options(layers, "html", HTML_DEFAULTS))
        if fmt == "docx":
            return render_docx(run_dir, meta, body,
                               format_options(layers, "docx", DOCX_DEFAULTS))
        return render_pdf(run_dir, meta, body, format_options(layers, "typst", TYPST_DEFAULTS))

    # The formats are independent (separate pandoc processes and Typst compilations, which
    # release the GIL; separate temporary files): all rendered at once, the operating system
    # sharing the cores. (Not capped at the core count: on two cores, three formats at once
    # end when their summed CPU time does, while two workers leave the last format alone on
    # one core after the others.) Each output is written atomically (analysis.files.
    # write_atomic), so a failed format leaves no half-written file; every failure is named.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, len(formats))) as pool:
        futures = {fmt: pool.submit(one, fmt) for fmt in formats}
    failed = {fmt: f.exception() for fmt, f in futures.items() if f.exception() is not None}
    if len(failed) == 1:
        raise next(iter(failed.values()))
    if failed:
        raise RenderError(f"{len(failed)} formats failed to render: " + "; ".join(
            f"{fmt}: {exc}" for fmt, exc in failed.items())) from next(iter(failed.values()))
    return {fmt: future.result() for fmt, future in futures.items()}
