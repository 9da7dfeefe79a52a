"""The pipeline's step cache (``runs/.cache``): each step's key, and storing and reusing its
files (issue 17; keys by what each step reads, issue 24).

A step is reused when everything it reads is unchanged. What each step reads is declared once,
in :mod:`analysis.steps`: the parameters of its groups (:func:`analysis.params.
step_parameters`), the data folder, ``data/published``, earlier steps' outputs (their keys)
and its code. A step's key (:func:`step_key`) is exactly that, plus:

- the code: the :mod:`analysis` package (every file, :func:`package_digest`: every step
  imports from it, and proving which modules a notebook reaches is not worth the risk), the
  step's own notebook (not the other steps') and the codebook;
- the Excel sheet the export is read from, when the run names one (data steps);
- the print set of figures, when the run asks for it (``--figures print``: the notebook
  steps write more files);
- for the collecting step 06, the run's name (recorded in ``results.json``).

The render step's key is every file of the staging folder at render time (the steps' outputs,
the run notes, the copied report sources ``analysis.render.PROJECT_FILES``), the formats, the
engine (and the Quarto CLI's version when it renders), the PDF date (``SOURCE_DATE_EPOCH``),
the package and the tools' versions (:func:`render_key`).

The data folder is read whole: :func:`analysis.schema.read_cohort` decides which of its
files it reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from importlib import metadata
from pathlib import Path

from analysis import paths
from analysis.files import file_digest

__all__ = ["package_digest", "code_key", "step_key", "render_key", "store", "restore",
           "changed_files", "WorkbookStep"]


def package_digest(root: Path) -> str:
    """SHA-256 of every file of the :mod:`analysis` package under ``root`` (code and
    resources; caches aside): the one hash of the package, in every key that reads it."""
    digest = hashlib.sha256()
    for path in sorted((root / "analysis").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def code_key(package: str, root: Path, notebook: Path | None = None) -> str:
    """Hash of the code a step runs besides its data and parameters: the package
    (``package``, :func:`package_digest`), the step's own notebook (a change to notebook 05
    does not touch 01; none for the sweep, which no notebook holds) and the codebook."""
    digest = hashlib.sha256(package.encode())
    for path in [*([notebook] if notebook else []),
                 root / paths.CODEBOOK.relative_to(paths.ROOT)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def step_key(name: str, params: dict, inputs: dict[str, str], code: str,
             after: dict[str, str] | None = None, extra: dict | None = None) -> str:
    """Cache key of a step: its name, the values of the parameters it reads (``params``,
    :func:`analysis.params.params_subset`), the SHA-256 of the input files it reads, its code
    (:func:`code_key`), the keys of the earlier steps whose outputs it reads (``after``) and
    ``extra`` (the sheet, the run's name)."""
    payload = json.dumps({"step": name, "params": params, "inputs": sorted(inputs.values()),
                          "code": code, "after": after or {}, **(extra or {})},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _files(folder: Path) -> list[Path]:
    """The files under ``folder``, its hidden working folders (``.workbook/``) left out."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.relative_to(folder).parts[0].startswith("."))


def render_key(stage: Path, formats: tuple[str, ...], engine: str, extra: dict) -> str:
    """Cache key of the render step: every file in the staging folder (path and SHA-256;
    hidden working folders aside), the formats, the engine, and ``extra`` (tool versions,
    the PDF date)."""
    files = {str(p.relative_to(stage)): file_digest(p) for p in _files(stage)}
    payload = json.dumps({"files": files, "formats": list(formats), "engine": engine,
                          **extra}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file under ``folder`` (relative path) with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in _files(folder)}


def changed_files(folder: Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Files under ``folder`` new or changed since :func:`snapshot` ``before``."""
    return sorted(path for path, stamp in snapshot(folder).items() if before.get(path) != stamp)


def store(folder: Path, entry: Path, files: list[str] | None = None) -> None:
    """Copy ``folder`` (or only ``files`` in it) to the cache entry ``entry``: written aside
    and renamed, so a killed run never leaves a half-filled entry. Two runs (of other names)
    may store the same entry at once: the first rename wins and the other copy is dropped."""
    partial = entry.with_name(f".{entry.name}.tmp-{os.getpid()}")
    entry.parent.mkdir(parents=True, exist_ok=True)
    try:
        if files is None:
            shutil.copytree(folder, partial, dirs_exist_ok=True)
        else:
            for name in files:
                (partial / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / name, partial / name)
            (partial / ".complete").write_text("\n".join(files) + "\n", encoding="utf-8")
    except BaseException:  # a full disk, an interrupt: no half-written entry is left
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        os.replace(partial, entry)
    except OSError:
        if not entry.is_dir():
            raise
        shutil.rmtree(partial, ignore_errors=True)


def restore(entry: Path, folder: Path) -> None:
    """Copy a cache entry's files into ``folder`` (the marker file excepted)."""
    shutil.copytree(entry, folder, dirs_exist_ok=True,
                    ignore=lambda _, names: [n for n in names if n == ".complete"])


class WorkbookStep:
    """``tables/tables.xlsx`` (:func:`analysis.report.workbook.write_workbook`), written in a
    thread while the report renders: the workbook reads only ``tables/*.csv`` and the
    renderer never reads the workbook. It is built in the staging folder's hidden
    ``.workbook/`` (which :func:`analysis.stepcache.render_key` does not read) and moved into
    ``tables/`` by :meth:`finish`; reused from the cache (``runs/.cache/workbook``) when the
    CSV files, the package and openpyxl and pandas are unchanged."""

    def __init__(self, stage: Path, cache_dir: Path | None, root: Path) -> None:
        self.stage, self.work = stage, stage / ".workbook"
        digest = hashlib.sha256(json.dumps([package_digest(root), metadata.version("openpyxl"),
                                            metadata.version("pandas")]).encode())
        for table in sorted((stage / "tables").glob("*.csv")):
            digest.update(table.name.encode() + b"\0" + table.read_bytes())
        self.entry = cache_dir / "workbook" / digest.hexdigest() if cache_dir else None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._write, daemon=True)
        self.cached = self.entry is not None and (self.entry / "tables.xlsx").is_file()
        if not self.cached:
            (self.work / "tables").mkdir(parents=True)
            for table in (stage / "tables").glob("*.csv"):
                shutil.copy2(table, self.work / "tables" / table.name)
            self.thread.start()

    def _write(self) -> None:
        from analysis.report.workbook import write_workbook

        try:
            write_workbook(self.work)
        except BaseException as exc:  # noqa: BLE001 - raised again by finish()
            self.error = exc

    def wait(self) -> None:
        if self.thread.ident is not None:
            self.thread.join()

    def finish(self) -> None:
        """Wait for the workbook and put it in ``tables/`` (and in the cache)."""
        if self.cached:
            shutil.copy2(self.entry / "tables.xlsx", self.stage / "tables" / "tables.xlsx")
            return
        self.wait()
        if self.error is not None:
            raise self.error
        built = self.work / "tables" / "tables.xlsx"
        if built.is_file():  # none when the run has no table
            os.replace(built, self.stage / "tables" / "tables.xlsx")
            if self.entry is not None:
                store(self.stage / "tables", self.entry, ["tables.xlsx"])
        shutil.rmtree(self.work, ignore_errors=True)
