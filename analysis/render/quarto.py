"""The real Quarto CLI, when it is installed: ``quarto render report.qmd --to html|typst``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.render.source import REPORT_NAME, RenderError
from analysis.report.atomic import write_atomic


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


def render_quarto(run_dir: Path, fmt: str, quarto: str) -> Path:
    """``quarto render report.qmd --to html|typst|docx`` in ``run_dir``; "pdf" is Typst.

    Options come from the run folder's ``_quarto.yml`` (Quarto reads it itself).
    """
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
        return write_atomic(run_dir / name, lambda tmp: os.replace(produced, tmp))

