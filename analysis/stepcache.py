"""The pipeline's step cache (``runs/.cache``): what each step reads, its key, and storing and
reusing its files (issue 17).

A step is reused when everything it reads is unchanged. What each step reads (checked in the
notebooks' code paths, the :mod:`analysis` functions they call, and the parameters papermill
injects, which are only those a notebook's ``parameters`` cell declares):

=====================  =========================================================================
step                   reads
=====================  =========================================================================
01_cohort              the data folder; ``params.yaml`` (shows every parameter); its notebook
02_flow                the data folder; ``data/published`` (the assumptions section compares
                       with the printed numbers); ``params.yaml``; its notebook
03_tables, 04_tapers,  the data folder; ``params.yaml``; its notebook
06_sensitivity
05_reproduction        the five steps' outputs (so: their keys); ``data/published``;
                       ``params.yaml``; the run's name (recorded in ``results.json``); its notebook
render                 every file of the staging folder at render time (the steps' outputs, the
                       run notes, the copied report sources ``analysis.render.PROJECT_FILES``),
                       the formats, the engine (and the Quarto CLI's version when it renders),
                       the PDF date (``SOURCE_DATE_EPOCH``), pandoc and Typst versions
=====================  =========================================================================

Every key also holds the package source (``analysis/**/*.py``: every step imports from it, and
proving which modules a notebook reaches is not worth the risk) and the codebook.

Kept wide, and why: the parameters. Steps 02, 03, 04 and 06 show only some parameter groups
(:func:`analysis.params.parameter_table`), but each records the *whole* parameter set it ran
with (``parameters/<step>.json``, :func:`analysis.params.load_step_params`) and step 05
refuses a run whose steps ran with different sets (issue 15); a step reused under a narrower
key would carry the old set and fail that check. Step 01 shows every parameter. The data
folder too: :func:`analysis.schema.read_cohort` decides which of its files it reads.
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

__all__ = ["READS_PUBLISHED", "code_hash", "step_inputs", "step_key", "collect_key",
           "render_key", "store", "restore", "changed_files"]

#: The steps that read ``data/published`` (``published_dir``); the others never do.
READS_PUBLISHED = ("02_flow.ipynb", "05_reproduction.ipynb")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 64 kB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def code_hash(root: Path, notebook: Path) -> str:
    """Hash of the code a step runs besides its data and parameters: the package source, the
    step's own notebook (not the other steps': a change to notebook 06 does not touch 01) and
    the codebook."""
    digest = hashlib.sha256()
    files = sorted((root / "analysis").rglob("*.py"))
    for path in [*files, notebook, root / paths.CODEBOOK.relative_to(paths.ROOT)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def step_inputs(name: str, data: dict[str, str], published: dict[str, str]) -> dict[str, str]:
    """The input files (path to SHA-256) step ``name`` reads: the data folder's (``data``),
    plus ``data/published``'s (``published``) only for :data:`READS_PUBLISHED`."""
    return {**data, **published} if name in READS_PUBLISHED else dict(data)


def step_key(name: str, params_text: str, inputs: dict[str, str], code: str) -> str:
    """Cache key of an independent step: its notebook, the run's parameters, the hashes of the
    input files it reads (:func:`step_inputs`) and its code (:func:`code_hash`)."""
    payload = json.dumps({"step": name, "params": params_text, "inputs": sorted(inputs.values()),
                          "code": code}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def collect_key(name: str, step_keys: dict[str, str], params_text: str,
                inputs: dict[str, str], code: str, run_name: str) -> str:
    """Cache key of the collecting step: the independent steps' keys (which determine every
    file it reads from the run folder), the parameters, ``data/published``, its code and the
    run's name."""
    payload = json.dumps({"step": name, "steps": step_keys, "params": params_text,
                          "inputs": sorted(inputs.values()), "code": code, "run": run_name},
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


def package_digest(root: Path) -> str:
    """SHA-256 of every file of the :mod:`analysis` package under ``root`` (code and
    resources)."""
    digest = hashlib.sha256()
    for path in sorted((root / "analysis").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


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
