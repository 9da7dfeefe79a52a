"""The real Quarto CLI, when it is installed: ``quarto render report.qmd --to html|typst``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.files import write_atomic
from analysis.render.docx_contents import write_contents
from analysis.render.source import REPORT_NAME, RenderError


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


#: What every ``quarto render`` of a project leaves in its folder: Quarto's scratch folder, and
#: a ``.gitignore`` for it when the folder is inside a git work tree (as runs/ is). Neither can
#: be configured away (/work/shared/QUARTO.md, defect 11).
QUARTO_SCRATCH = (".quarto", ".gitignore")


def quarto_version(quarto: str) -> str:
    """``quarto --version``: the version of the Quarto CLI (e.g. ``1.10.18``).

    Raises
    ------
    RenderError
        The CLI does not run or prints nothing.
    """
    try:
        proc = subprocess.run([quarto, "--version"], capture_output=True, text=True,
                              check=False, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RenderError(f"'{quarto} --version' failed: {exc}") from exc
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version:
        raise RenderError(f"'{quarto} --version' failed (exit code {proc.returncode}): "
                          f"{(proc.stderr or proc.stdout).strip()}")
    return version.splitlines()[-1].strip()


def _remove_scratch(run_dir: Path, existed: set[str]) -> None:
    """Remove what Quarto created in ``run_dir`` (:data:`QUARTO_SCRATCH`), keeping what was
    there before the render."""
    for name in QUARTO_SCRATCH:
        path = run_dir / name
        if name in existed:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)


def render_quarto(run_dir: Path, fmt: str, quarto: str) -> Path:
    """``quarto render report.qmd --to html|typst|docx`` in ``run_dir``; "pdf" is Typst.

    Options come from the run folder's ``_quarto.yml`` (Quarto reads it itself). Quarto's
    scratch folder and ``.gitignore`` are removed afterwards (unless they were there before),
    so that the run's bundle holds only the run's files.
    """
    existed = {name for name in QUARTO_SCRATCH if (run_dir / name).exists()}
    try:
        return _render_quarto(run_dir, fmt, quarto)
    finally:
        _remove_scratch(run_dir, existed)


def _render_quarto(run_dir: Path, fmt: str, quarto: str) -> Path:
    to, name = {"html": ("html", "report.html"), "pdf": ("typst", "report.pdf"),
                "docx": ("docx", "report.docx")}[fmt]
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
        if fmt == "docx":
            write_contents(produced)  # the contents list written, for LibreOffice (issue 25)
        return write_atomic(run_dir / name, lambda tmp: os.replace(produced, tmp))

