"""The validated export kept as files: a run reads and checks the export once, and every later
step reads this copy instead of reading and checking the export again (issue 24).

A kept export is a folder: one Parquet file per table and ``read.json`` (the warnings of the
reading, which do not depend on the run's parameters, and the file each table was read from:
the warnings' wording needs both). Parquet, through pyarrow (pinned in ``pyproject.toml``):
the column types come back exactly as validation gave them (pandas' nullable ``Int64``,
``Float64``, ``boolean`` and ``string``; checked by ``tests/test_validation.py``), which a
CSV does not promise, and reading it runs no code, as a pickle's would. The folder is written
aside and renamed into place, so a reader never sees half of it.

The folder holds the export's patient rows, which the published bundle does not: a run keeps
it in its step cache or in a hidden folder of its staging folder, removed before the bundle is
moved into place (:mod:`analysis.pipeline`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from analysis.errors import DataValidationError
from analysis.schema.codebook import TABLES, Cohort
from analysis.schema.export import ExportCheck, check_export, param_warnings
from analysis.schema.problems import Problem, format_problems

__all__ = ["READ_NOTES", "keep_export", "kept_export", "validated_export", "export_warnings"]

#: The file of a kept export beside its tables: the reading's warnings and file names.
READ_NOTES = "read.json"


def keep_export(folder: str | Path, check: ExportCheck) -> Path:
    """Keep a clean :class:`~analysis.schema.export.ExportCheck` at ``folder`` (see the
    module's docstring); a folder already there (another writer of the same export) is left
    as it is. Returns ``folder``."""
    folder = Path(folder)
    if check.cohort is None:
        raise ValueError("only a clean export is kept")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
    try:
        for table in TABLES:
            getattr(check.cohort, table).to_parquet(work / f"{table}.parquet")
        notes = {"warnings": [dataclasses.asdict(p) for p in check.read_warnings],
                 "files": dict(check.files)}
        (work / READ_NOTES).write_text(json.dumps(notes, indent=1) + "\n", encoding="utf-8")
        os.chmod(work, 0o755)  # mkdtemp makes it private
        try:
            os.replace(work, folder)
        except OSError:
            if not (folder / READ_NOTES).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def kept_export(folder: str | Path) -> ExportCheck:
    """The export kept at ``folder`` (:func:`keep_export`), as the clean check it came from:
    its ``warnings`` are the reading's (:func:`export_warnings` adds the parameters')."""
    folder = Path(folder)
    tables = {table: pd.read_parquet(folder / f"{table}.parquet") for table in TABLES}
    notes = json.loads((folder / READ_NOTES).read_text(encoding="utf-8"))
    warnings = [Problem(**record) for record in notes["warnings"]]
    return ExportCheck(Cohort(**tables), [], warnings, notes["files"], warnings)


def validated_export(data_dir: str | Path, sheet: str | None = None,
                     kept: str | Path | None = None) -> ExportCheck:
    """The run's validated export: the copy kept at ``kept`` when there is one (a pipeline run
    gives every step its path: the export is read and checked once per run, by the run), else
    the export of ``data_dir`` read and checked here, and kept at ``kept`` when given (as
    :func:`analysis.files.stored` does for a computed result). ``kept`` None (a notebook
    opened in JupyterLab): read and checked here, nothing kept.

    Raises
    ------
    DataValidationError
        Listing every problem of the export, each with file, row, column, rule and fix.
    """
    if kept is not None and (Path(kept) / READ_NOTES).is_file():
        return kept_export(kept)
    check = check_export(data_dir, sheet=sheet)
    if check.problems:
        raise DataValidationError(format_problems(check.problems, folder=data_dir))
    if kept is not None:
        keep_export(kept, check)
    return check


def export_warnings(check: ExportCheck, params=None) -> list[Problem]:
    """Every warning about a valid export, worded for ``params`` (the run's
    :class:`~analysis.params.Params`; default the paper's): the reading's and those of
    :func:`~analysis.schema.export.param_warnings`. What the console shows before a run and
    the report's data section lists."""
    return [*check.read_warnings, *param_warnings(check.cohort, params, check.files)]
