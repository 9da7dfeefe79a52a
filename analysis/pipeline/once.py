"""What a run does once, in its own process, while the kernels start (issue 24): the
parameters handed to each kernel (:func:`hand_over_code`), the export read and checked with
the run's parameters (:func:`read_export`) and kept as step 01's output, the response groups
computed from it and kept by their key (:func:`keep_groups`), and the refusal of an export in
which no patient is eligible (:func:`check_eligible`). :func:`check_data` is the one check of
an export, shared with ``python -m analysis validate``. :mod:`analysis.steps` declares these
outputs and who reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from analysis.errors import MAX_PROBLEMS, PipelineError
from analysis.params import Params
from analysis.pipeline.plan import Plan
from analysis.steps import COHORT, READS, RESPONSE_GROUPS

__all__ = ["MAX_PROBLEMS", "COHORT_STEP", "READ_GROUPS", "hand_over_code", "check_data",
           "read_export", "keep_export_and_groups", "keep_groups", "release_export",
           "check_eligible"]

#: Step 01's notebook, whose output is the validated export.
COHORT_STEP = f"{COHORT}.ipynb"
#: The notebooks that read the response groups (:data:`analysis.steps.RESPONSE_GROUPS`).
READ_GROUPS = tuple(f"{stem}.ipynb" for stem, reads in READS.items()
                    if RESPONSE_GROUPS in reads.after)


def hand_over_code(params_text: str, params: Params) -> str:
    """Code each kernel runs as it starts: ``params`` (parsed and validated once, by this
    process) become the kernel's parameters of the run's ``params.yaml``, whose text is
    ``params_text`` (:func:`analysis.params.hand_over`), so that no step parses it again. A
    pickle of this process's own object, read in the run's own kernels only."""
    import hashlib
    import pickle

    digest = hashlib.sha256(params_text.encode("utf-8")).hexdigest()
    blob = pickle.dumps(params, protocol=pickle.HIGHEST_PROTOCOL)
    return ("\nimport pickle as _pickle\nimport analysis.params as _params\n"
            f"_params.hand_over({digest!r}, _pickle.loads({blob!r}))\n")


def check_data(data_dir: Path, sheet: str | None, params: Params,
               warn: Callable[[str], None] | None = None, max_problems: int = MAX_PROBLEMS,
               kept: Path | None = None):
    """The one check of an export (a run's and ``python -m analysis validate``'s): read and
    checked with ``params`` (:func:`analysis.schema.check_export`), or, with ``kept``, step
    01's kept copy of an export that passed it (:func:`analysis.schema.kept_export`; its
    warnings worded again for ``params``). The warnings go to ``warn``; an export in which no
    patient is eligible is refused (:func:`check_eligible`). Returns the
    :class:`~analysis.schema.ExportCheck`.

    Raises
    ------
    DataValidationError
        Listing the export's problems (at most ``max_problems`` per file and rule; 0: all).
    """
    from analysis.errors import AnalysisError, DataValidationError
    from analysis.schema import check_export, export_warnings, format_problems, kept_export

    if max_problems < 0:
        raise AnalysisError(f"--max-problems must be 0 (all) or more, got {max_problems}")
    if kept is not None:
        check = kept_export(kept)
        warnings = export_warnings(check, params)
    else:
        check = check_export(data_dir, sheet=sheet, params=params)
        warnings = check.warnings
        if check.problems:
            raise DataValidationError(format_problems(check.problems + check.warnings,
                                                      folder=data_dir,
                                                      max_per_kind=max_problems))
    if warn is not None and warnings:
        warn(format_problems(warnings, folder=data_dir, max_per_kind=max_problems))
    check_eligible(check.cohort, params, data_dir)
    return check


def read_export(plan: Plan, data_dir: Path, sheet: str | None, params: Params,
                warn: Callable[[str], None] | None = None,
                max_problems: int = MAX_PROBLEMS) -> dict:
    """The run's one reading of the export (:func:`check_data`): step 01's kept output when
    the cache holds it (:attr:`Plan.cohort_dir`; a run with another cutoff reads no export
    file), else the export read and checked with the run's parameters.

    Returns
    -------
    dict: ``check`` (the :class:`~analysis.schema.ExportCheck`) and ``record`` (for the
    manifest: seconds, and ``cache``: ``hit`` when read from the kept copy).

    Raises
    ------
    DataValidationError
        Listing the export's problems (at most ``max_problems`` per file and rule).
    """
    from analysis.schema.kept import READ_NOTES

    started = time.perf_counter()
    kept = plan.cohort_dir
    hit = kept is not None and (kept / READ_NOTES).is_file()
    check = check_data(data_dir, sheet, params, warn, max_problems, kept if hit else None)
    cache = "hit" if hit else "miss" if kept is not None else "off"
    return {"check": check, "record": {"seconds": round(time.perf_counter() - started, 2),
                                       "cache": cache, "key": plan.keys[COHORT_STEP][:16]}}


def keep_export_and_groups(export: dict, cohort_dir: Path, groups_file: Path, params: Params,
                           plan: Plan, readers: list[str]) -> dict[str, dict]:
    """Keep the export read by :func:`read_export` as step 01's output at ``cohort_dir``
    (unless it was read from there), and the response groups at ``groups_file`` when a step
    to run reads them (``readers``) and they are not kept yet (:func:`keep_groups`). Returns
    the manifest's records: ``export`` and ``groups``."""
    from analysis.schema import keep_export

    check, record = export["check"], dict(export["record"])
    if record["cache"] != "hit":
        started = time.perf_counter()
        keep_export(cohort_dir, check)
        record["seconds"] = round(record["seconds"] + time.perf_counter() - started, 2)
    records = {"export": record}
    if readers:
        records[RESPONSE_GROUPS] = keep_groups(check.cohort, params, groups_file, plan)
    return records


def keep_groups(cohort, params: Params, groups_file: Path, plan: Plan) -> dict:
    """The response groups (:func:`analysis.cohort.analysis_groups`), computed once per run
    and kept at ``groups_file`` (:func:`analysis.files.stored`), where every step that reads
    them finds them: with the cache, by their key (:data:`analysis.steps.RESPONSE_GROUPS`),
    so a run whose definition is unchanged computes nothing. Returns the manifest's record."""
    from analysis.cohort import analysis_groups
    from analysis.files import stored

    started = time.perf_counter()
    found = groups_file.is_file()
    if not found:
        stored(groups_file, partial(analysis_groups, cohort.patients, cohort.assessments,
                                    params))
    cache = "hit" if found else "miss" if plan.groups_file is not None else "off"
    return {"seconds": round(time.perf_counter() - started, 2), "cache": cache,
            "key": plan.keys[RESPONSE_GROUPS][:16]}


def release_export() -> None:
    """The run's own process validated the export and analyses nothing itself (the kernels
    read their own copy): drop its remembered read and hand the freed heap back to the
    operating system (glibc's ``malloc_trim``; a no-op elsewhere), so that a registry-size
    export is not held twice while the kernels work (issue 13, item 6: peak memory over all
    processes)."""
    import ctypes
    import gc

    from analysis.schema.export import forget_reads

    forget_reads()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: memory is returned as the allocator does
        pass


def check_eligible(cohort, params: Params, data_dir: Path) -> None:
    """Refuse, with one sentence, an export in which no patient meets the inclusion criteria
    (Sharma 2017, Methods, Patients): there is nothing to tabulate or test, so a run would only
    produce empty tables. The message counts the patients each criterion excluded."""
    from analysis.eligibility import apply_eligibility

    eligible = apply_eligibility(cohort.patients, params)
    if eligible["included"].any():
        return
    reasons = eligible["excluded_by"].value_counts()
    why = ", ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in reasons.items())
    raise PipelineError(
        f"no eligible patients: all {len(eligible)} patients in {data_dir} are excluded by the "
        f"inclusion criteria ({why or 'no patients'}), so there is nothing to report; check "
        "the export (e.g. age_at_index) or the eligibility parameters (min_age, age_rule)")
