"""One run of the report: notebooks executed by papermill, then rendering, as one bundle.

A run is built in a hidden staging folder next to its destination (``runs/.NAME.tmp-*``) and
moved into place only when every step succeeded, so a failed or interrupted run leaves the
previous bundle of that name untouched. Only one run of a name runs at a time, under that
name's lock, and what a killed run left is removed by exact recorded name
(:mod:`analysis.runfolder`). The notebooks execute in a few kernels started once per run, as
the run starts, with the common imports done (:mod:`analysis.kernels`): the independent
notebooks (01-05) each into its own folder, then the reproduction notebook (06); then the
report renders (HTML, PDF and Word side by side). Each of these steps is reused from a cache
when nothing it reads changed (:mod:`analysis.steps` says what each step reads).

By concern: :mod:`analysis.pipeline.plan` (the steps, their cache keys, the provenance: what
a run computes before anything executes), :mod:`analysis.pipeline.once` (what the run's own
process does once: the parameters handed over, the export read and kept, the groups kept),
:mod:`analysis.pipeline.execute` (the steps in the kernels, or from the cache; the
rendering) and :mod:`analysis.pipeline.bundle` (the files of the bundle beside the steps'
own, the swap into place); this module runs them in order.

Done once per run (:mod:`analysis.steps`): the parameters are parsed and validated once (by
the command line, or given as :class:`~analysis.params.Params`) and handed to each kernel as
it starts (:func:`analysis.params.hand_over`); the export is read and checked once, with the
run's parameters, by this process (:func:`read_export`), and kept as step 01's output
(:mod:`analysis.schema.kept`); the response groups are computed once from it and kept by
their key (:func:`keep_groups`); :mod:`analysis.pipeline.once` holds these. All three
happen while the kernels start, before any notebook runs, so the notebooks 01-05 still run
side by side, each reading those files.

Every notebook is given the path of the run's ``params.yaml`` (``params_file``) and the
files and folders it declares in its ``parameters`` cell, never parameter values (see
``notebooks/README.md``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from analysis import paths
from analysis.errors import PipelineError
from analysis.params import Params
from analysis.pipeline import plan as planning
from analysis.pipeline.bundle import (
    copy_paper_figures,
    move_into_place,
    write_manifest,
    write_params_file,
    write_run_notes,
)
from analysis.pipeline.execute import (
    DEFAULT_KERNELS,
    KERNEL_NAME,
    StepSetup,
    _ipc_kernel_manager,
    default_kernels,
    kernel_name,
    render_step,
    run_collecting_step,
    run_independent_steps,
    say,
)
from analysis.pipeline.once import (
    COHORT_STEP,
    MAX_PROBLEMS,
    READ_GROUPS,
    check_eligible,
    hand_over_code,
    keep_export_and_groups,
    keep_groups,
    read_export,
    release_export,
)
from analysis.pipeline.plan import (
    BY_COST,
    COLLECT,
    DEFAULT_DATA,
    INDEPENDENT,
    NOTEBOOKS,
    PUBLISHED,
    ROOT,
    Plan,
    plan_run,
)
from analysis.runfolder import (
    check_run_name,
    clean_stale,
    is_write_error,
    os_error_message,
    run_lock,
    start_record,
)

__all__ = ["ROOT", "DEFAULT_DATA", "PUBLISHED", "NOTEBOOKS", "INDEPENDENT", "COLLECT",
           "BY_COST", "KERNEL_NAME", "DEFAULT_KERNELS", "Plan", "plan_run", "default_kernels",
           "kernel_name", "write_params_file", "release_export", "run", "_ipc_kernel_manager",
           "read_export", "keep_groups", "hand_over_code", "check_eligible", "MAX_PROBLEMS"]


def run(name: str = "paper", params: Params | None = None, data_dir: Path | None = None,
        formats: tuple[str, ...] = ("html", "pdf", "docx"), runs_dir: Path | None = None,
        engine: str = "auto", jobs: int | None = None, log: Callable[[str], None] = say,
        notebooks_dir: Path | None = None, cache: bool = True, sheet: str | None = None,
        started: float | None = None, warn: Callable[[str], None] | None = None,
        max_problems: int = MAX_PROBLEMS, figures: str = "report") -> Path:
    """Execute every notebook and render the report into ``runs/<name>/``.

    Parameters
    ----------
    name : run name (folder under ``runs_dir``); ``paper`` is the default run.
    params : the run's parameters (default: the paper's).
    data_dir : folder of the export (default: the bundled synthetic cohort).
    formats : report formats to render (``html``, ``pdf``, ``docx``); empty to skip rendering.
    runs_dir : where runs live (default ``<repo>/runs``).
    engine : renderer: ``auto`` (Quarto if on PATH, else pandoc + Typst), ``quarto``, ``pandoc``.
    jobs : kernels the notebooks run in (each started once per run, the notebooks shared out
        among them, :mod:`analysis.kernels`); default :func:`default_kernels` (2 on two or
        more CPUs, 1 for an export over 10 MB; measured), never more than the notebooks to
        execute.
    notebooks_dir : folder of the step notebooks (default ``<repo>/notebooks``).
    cache : reuse a step's result (``runs/.cache``) when what it reads is unchanged
        (:mod:`analysis.stepcache`); the manifest says which steps were reused.
    sheet : Excel: the sheet every ``.xlsx`` file of the export is read from (default: the
        first whose header matches the codebook); given to every notebook as ``sheet``.
    started : when the user's wait began (``time.time()``; the CLI passes its process's
        start): the last line says how long the run took from then to the end, kernels shut
        down (default: from this call).
    warn : where the export's warnings go, worded for ``params`` (the command line: standard
        error); default: not shown (the report's data section lists them).
    max_problems : problems or warnings listed per file and rule before the rest are counted
        (0: all).
    figures : the files of each figure (:data:`analysis.report.style.FIGURE_SETS`):
        ``report``, the PNG every report format embeds; ``print``, also SVG, a 300-dpi PNG
        and PDF. The paper run's print set is copied into the repository's ``figures/``.

    Returns
    -------
    The bundle's path. On failure raises :class:`PipelineError` naming the step, and the
    previous bundle of that name is left as it was.
    """
    from analysis.kernels import KernelPool, notebook_imports
    from analysis.report.style import figure_set

    started = time.time() if started is None else started
    params = params or Params()
    data_dir = Path(data_dir or planning.DEFAULT_DATA).resolve()
    runs_dir = Path(runs_dir or paths.RUNS).resolve()
    notebooks_dir = Path(notebooks_dir or paths.NOTEBOOKS).resolve()
    check_run_request(name, data_dir)
    figure_set(figures)  # an unknown set is refused before anything starts
    plan = plan_run(name, params, data_dir, notebooks_dir, runs_dir / ".cache" if cache else None,
                    sheet, figures)
    to_run = [nb for nb in NOTEBOOKS if not plan.cached(nb)]
    kernels = jobs or default_kernels(data_dir)
    pool = KernelPool(min(kernels, max(1, len(to_run) - (COLLECT in to_run))),
                      kernel_name(), notebooks_dir, _ipc_kernel_manager(),
                      notebook_imports([notebooks_dir / nb for nb in to_run]),
                      hand_over_code(plan.params_text, params))
    if to_run:
        pool.start()  # the kernels start and import while the data is validated below
    try:
        # Read and check the export once, up front, so a bad export fails with one clear
        # message and nothing is created; kept as step 01's output for every later step. Not
        # needed when every step that reads it is reused: their keys hold step 01's, which
        # holds every file of the data folder, and a step is stored in the cache only by a
        # run that passed this check.
        export = None
        if any(nb in to_run for nb in INDEPENDENT):
            export = read_export(plan, data_dir, sheet, params, warn, max_problems)
        runs_dir.mkdir(parents=True, exist_ok=True)
        with run_lock(runs_dir, name):
            clean_stale(runs_dir, name)
            final = _build(name, params, data_dir, formats, runs_dir, engine, log,
                           notebooks_dir, plan, pool, sheet, export, to_run, figures)
    except OSError as exc:  # a full disk, an unwritable runs folder: one sentence, no trace
        pool.close(kill=True)
        if not is_write_error(exc):
            raise
        raise PipelineError(os_error_message(exc, runs_dir)) from None
    except BaseException:
        pool.close(kill=True)  # failure or interrupt: no notebook is waited for
        raise
    finally:
        pool.close()
    log(f"run '{name}' complete in {time.time() - started:.1f} s: {final}")
    return final


def _build(name: str, params: Params, data_dir: Path, formats: tuple[str, ...],
           runs_dir: Path, engine: str, log: Callable[[str], None], notebooks_dir: Path,
           plan: Plan, pool, sheet: str | None = None, export=None,
           to_run: list[str] | None = None, figures: str = "report") -> Path:
    """The body of :func:`run`, with the run's lock held: build in a staging folder recorded
    in the run's record (:mod:`analysis.runfolder`), swap it in, or remove exactly it.
    ``export``: what :func:`read_export` returned (None: no step reads the export)."""
    from analysis import stepcache
    from analysis.render import describe_renderer

    final = runs_dir / name
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=runs_dir))
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    workbook = None
    try:
        start_record(runs_dir, name, stage)
        log(f"run '{name}': building in {stage.name} (data: {data_dir})")
        write_params_file(stage, params)
        # Step 01's output and the response groups: in the cache by their keys, or (without
        # cache) in hidden files of the staging folder, removed before the bundle is published
        # (they hold patient rows).
        cohort_dir = plan.cohort_dir or stage / ".cohort"
        groups_file = plan.groups_file or stage / ".groups.pickle"
        once = {}
        if export is not None:
            once = keep_export_and_groups(export, cohort_dir, groups_file, params, plan,
                                          [nb for nb in to_run or () if nb in READ_GROUPS])
            release_export()
            export = None
        setup = StepSetup(stage, {"params_file": str(stage / "params.yaml"),
                                  "data_dir": str(data_dir), "run_dir": str(stage),
                                  "published_dir": str(planning.PUBLISHED), "run_name": name,
                                  "sheet": sheet, "sweep_file": plan.sweep_file and
                                  str(plan.sweep_file), "cohort_file": str(cohort_dir),
                                  "groups_file": str(groups_file), "figures": figures},
                          pool.kernel, notebooks_dir, log)
        (stage / "notebooks").mkdir()
        steps = run_independent_steps(setup, plan, pool)
        if "export" in once:
            steps[COHORT_STEP]["export"] = once.pop("export")
        steps.update(once)
        steps[COLLECT] = run_collecting_step(setup, plan, pool)
        shutil.rmtree(stage / ".cohort", ignore_errors=True)  # patient rows: not published
        (stage / ".groups.pickle").unlink(missing_ok=True)
        pool.close(wait=False)  # the kernels shut down while the report renders
        # tables.xlsx (issue 14), written in a thread from here on, while the run notes are
        # written and the report renders: it reads only the steps' CSV tables, all written
        # by now (the run notes are Markdown); in a cold run it ends last (issue 24).
        workbook = stepcache.WorkbookStep(stage, plan.cache_dir, planning.ROOT)
        # Which engine renders, and its version: for the manifest and Appendix C.
        renderer = describe_renderer(engine) if formats else None
        write_run_notes(stage, name, params, plan.provenance, runs_dir / "paper", renderer)
        if formats:
            steps["render"] = render_step(stage, formats, engine, log, plan.cache_dir)
        workbook.finish()
        write_manifest(stage, name, started, time.perf_counter() - t0, steps,
                       {**plan.provenance, "kernels": {"count": pool.size,
                                                       "warm_up_seconds": pool.warm_seconds},
                        "renderer": renderer, "figures": figures})
        move_into_place(stage, final)
    except BaseException:
        pool.close(kill=True)  # no notebook may still write into the folder removed next
        if workbook is not None:
            workbook.wait()  # nor the workbook
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        clean_stale(runs_dir, name)  # an interrupt mid-swap: put the previous bundle back
    if name == "paper" and runs_dir == paths.RUNS.resolve() and figures == "print":
        copy_paper_figures(final)  # the repository's figures/ (`make figures`)
    return final


def check_run_request(name: str, data_dir: Path) -> None:
    """Refuse a run name that breaks :data:`analysis.runfolder.RUN_NAME_RULE`, or a data
    folder that is missing or a file (the export check's message)."""
    check_run_name(name)
    if not data_dir.is_dir():
        from analysis.schema import check_export

        check_export(data_dir)  # raises the message naming what to give instead
        raise PipelineError(f"data folder not found: {data_dir}")
