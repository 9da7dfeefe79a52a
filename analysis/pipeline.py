"""One run of the report: notebooks executed by papermill, then rendering, as one bundle.

A run is built in a hidden staging folder next to its destination (``runs/.NAME.tmp-*``) and
moved into place only when every step succeeded, so a failed or interrupted run leaves the
previous bundle of that name untouched. Only one run of a name runs at a time, under that
name's lock, and what a killed run left is removed by exact recorded name
(:mod:`analysis.runfolder`). The notebooks execute in a few kernels started once per run, as
the run starts, with the common imports done (:mod:`analysis.kernels`): the independent
notebooks (01-04, 06) each into its own folder, then the reproduction notebook (05); then the
report renders (HTML, PDF and Word side by side). Each of these steps is reused from a cache
when nothing it reads changed (:mod:`analysis.stepcache` says what each step reads).

Every notebook is given the path of the run's ``params.yaml`` (``params_file``) and the
folders it declares in its ``parameters`` cell, never parameter values: the values are read
from that one file (see ``notebooks/README.md``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path

from analysis import paths
from analysis.errors import PipelineError
from analysis.files import file_digest
from analysis.params import Params, parameter_rows, params_subset, step_parameters
from analysis.runfolder import (
    FAILED,
    check_run_name,
    clean_stale,
    is_write_error,
    os_error_message,
    run_lock,
    start_record,
    update_record,
)
from analysis.steps import SWEEP

__all__ = ["ROOT", "NOTEBOOKS", "INDEPENDENT", "COLLECT", "run", "KERNEL_NAME"]

#: The repository, the default data and the printed numbers (:mod:`analysis.paths`); module
#: names so that a test can point one run elsewhere (``monkeypatch.setattr``).
ROOT, DEFAULT_DATA, PUBLISHED = paths.ROOT, paths.RAW, paths.PUBLISHED
KERNEL_NAME = "ma-ild-analysis"
#: Steps that only read the data: independent, run side by side and cached.
INDEPENDENT = ("01_cohort.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
               "06_sensitivity.ipynb")
#: The step that collects every other step's numbers (the reproduction); it always runs.
COLLECT = "05_reproduction.ipynb"
NOTEBOOKS = (*INDEPENDENT, COLLECT)
PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill",
            "pandera", "pypandoc-binary", "typst", "jupyterlab", "ipykernel", "pyyaml")


_SAY_LOCK = threading.Lock()


def _say(message: str) -> None:
    """Print one progress line. Steps report from the kernel pool's threads: the line and its
    newline go out in one write under a lock, so two threads' lines never run together."""
    with _SAY_LOCK:
        sys.stdout.write(message + "\n")
        sys.stdout.flush()


def git_commit() -> str:
    """The checkout's commit (with ``-dirty`` when files changed), or ``unknown``."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def commit_epoch() -> str:
    """Seconds since 1970 of the checkout's last commit (0 when unknown)."""
    try:
        return subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip() or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _hashes(files: list[Path]) -> dict[str, str]:
    return {str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p): file_digest(p)
            for p in files}


def input_hashes(data_dir: Path) -> dict[str, str]:
    """SHA-256 of each file of the export folder (hidden files aside)."""
    return _hashes(sorted(p for p in Path(data_dir).iterdir()
                          if p.is_file() and not p.name.startswith(".")))


def published_hashes() -> dict[str, str]:
    """SHA-256 of the printed numbers (``data/published/*.csv``)."""
    return _hashes(sorted(PUBLISHED.glob("*.csv")))


def _ipc_kernel_manager():
    """A kernel manager on local IPC sockets (in the temp folder) instead of TCP: nothing
    listens on the network, and ipykernel no longer warns about unencrypted TCP."""
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return os.path.join(tempfile.gettempdir(), f"ma-ild-kernel-{uuid.uuid4().hex[:12]}")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # The kernel's own log (e.g. "KeyboardInterrupt caught in kernel" at shutdown) is
            # noise on the user's terminal; errors in cells reach us through papermill.
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager


@dataclass(frozen=True)
class StepSetup:
    """What every step of one run shares.

    ``parameters`` are the values a notebook may declare in its ``parameters`` cell (the
    path of the run's ``params.yaml``, the data, run and published folders, the run's name);
    each notebook is given only those it declares.
    """

    stage: Path
    parameters: dict
    kernel: str
    notebooks_dir: Path
    log: Callable[[str], None]

    @property
    def failed_dir(self) -> Path:
        """Where a failed step's executed notebook is kept (outside the staging folder, in
        the run name's own folder: ``runs/_failed/NAME``)."""
        return self.stage.parent / FAILED / self.parameters.get("run_name", "run")


def declared_parameters(path: Path) -> set[str]:
    """Names a notebook's ``parameters`` cell declares (papermill's own parser)."""
    import papermill

    return set(papermill.inspect_notebook(str(path)))


def _execute_notebook(name: str, out_dir: Path, setup: StepSetup, kernel) -> None:
    """Run one notebook with papermill in a running ``kernel`` (:mod:`analysis.kernels`);
    its executed copy goes to ``out_dir/notebooks``."""
    import papermill

    from analysis.kernels import execute_in_kernel

    source = setup.notebooks_dir / name
    target = out_dir / "notebooks" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    values = {**setup.parameters, "run_dir": str(out_dir)}
    wanted = declared_parameters(source)
    try:
        execute_in_kernel(kernel, source, target,
                          {k: v for k, v in values.items() if k in wanted}, setup.notebooks_dir)
    except papermill.PapermillExecutionError as exc:
        # Keep the failed notebook outside the staging folder (which is deleted) for inspection.
        kept = setup.failed_dir / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, kept)
        raise PipelineError(f"step {name} failed in cell {exc.exec_count}: {exc.ename}: "
                            f"{exc.evalue}\n  (executed notebook kept for inspection: "
                            f"{kept})") from None


def notebook_timing(path: Path) -> dict[str, float]:
    """Where a notebook's time went, from papermill's metadata: ``kernel_start`` (until the
    first cell ran: in the run's warm kernels, resetting the namespace, :data:`analysis.kernels.
    ISOLATE`; the kernel's own start and imports are the manifest's ``kernels``), ``cells``,
    and the rest (saving)."""
    from datetime import datetime as dt

    book = json.loads(Path(path).read_text(encoding="utf-8"))
    meta = book["metadata"].get("papermill", {})
    cells = [c["metadata"].get("papermill", {}) for c in book["cells"]]
    starts = [c["start_time"] for c in cells if c.get("start_time")]
    if not meta.get("start_time") or not starts:
        return {}
    kernel = (dt.fromisoformat(min(starts)) - dt.fromisoformat(meta["start_time"])).total_seconds()
    running = sum(c.get("duration") or 0.0 for c in cells)
    return {"kernel_start": round(kernel, 2), "cells": round(running, 2),
            "total": round(meta.get("duration") or 0.0, 2)}


#: Kernels in the pool by default (``jobs``): two where there are two CPUs, else one. Measured
#: on a quiet 2-core machine (cold run, HTML and PDF, ``--no-cache``, alternating): one kernel
#: 27.3 s and 26.0 s wall (30.5 s and 29.5 s CPU), two kernels 20.3 s and 20.5 s wall (32.9 s
#: and 33.5 s CPU): the second kernel's start and imports cost about 2.5 s of CPU, and the
#: notebooks' 14 s of cells then use both cores. (On the same machine loaded by other work,
#: load average 11, one kernel measured faster: with no idle core, a second start is pure cost.)
DEFAULT_KERNELS = min(2, os.cpu_count() or 1)
#: Each kernel holds its own copy of the export, about 20 times the files' size (measured at
#: 100,000 patients: a 31 MB export, 615 MB per kernel). Above this size (all files of the
#: data folder) the notebooks share one kernel, so that a registry-size run stays within 1 GB
#: over all processes (issue 13 item 6; measured at 100,000 patients, HTML + PDF: one kernel
#: 0.88 GB peak in 66 s, two kernels 1.37 GB in 52 s).
ONE_KERNEL_ABOVE_BYTES = 10 * 2**20


def default_kernels(data_dir: Path) -> int:
    """Kernels for a run that does not say (``jobs``): :data:`DEFAULT_KERNELS`, or one for
    an export over :data:`ONE_KERNEL_ABOVE_BYTES`."""
    size = sum(p.stat().st_size for p in Path(data_dir).iterdir() if p.is_file())
    return 1 if size > ONE_KERNEL_ABOVE_BYTES else DEFAULT_KERNELS
#: The independent steps, longest first (time in cells, measured), so that with several
#: kernels the last one to start is short.
BY_COST = ("06_sensitivity.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
           "01_cohort.ipynb")


@dataclass(frozen=True)
class Plan:
    """What a run computes before its kernels start: parameters, provenance, each step's
    cache key (:mod:`analysis.stepcache`, by what it reads: :mod:`analysis.steps`) and the
    cache folder (``None``: no cache)."""

    params_text: str
    provenance: dict
    keys: dict[str, str]
    cache_dir: Path | None

    def entry(self, step: str) -> Path | None:
        """The cache entry of a notebook step (``None`` without cache)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / Path(step).stem / self.keys[step]

    def cached(self, step: str) -> bool:
        entry = self.entry(step)
        return entry is not None and (entry / "notebooks" / step).is_file()

    @property
    def sweep_file(self) -> Path | None:
        """Where the sweep over the sensitivity grid is kept (:data:`analysis.steps.SWEEP`;
        ``None`` without cache): step 06 reads it when it is there, else computes and keeps
        it (:func:`analysis.files.stored`)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / SWEEP / f"{self.keys[SWEEP]}.pickle"


def plan_run(name: str, params: Params, data_dir: Path, notebooks_dir: Path,
             cache_dir: Path | None, sheet: str | None = None) -> Plan:
    """Parameters, provenance and cache keys of a run (no file is written): each step's key
    holds what it reads (:mod:`analysis.steps`). The Excel sheet, when one is named, is part
    of what the data steps read, so it joins their keys (an unnamed sheet leaves the keys as
    they were)."""
    from analysis import stepcache, steps

    data, published = input_hashes(data_dir), published_hashes()
    provenance = {"git_commit": git_commit(), "inputs": {**data, **published},
                  "packages": package_versions()}
    package = stepcache.package_digest(ROOT)
    keys: dict[str, str] = {}
    for step in (SWEEP, *INDEPENDENT, COLLECT):  # a step after those whose outputs it reads
        reads = steps.reads(step)
        notebook = notebooks_dir / step if step.endswith(".ipynb") else None
        inputs = {**(data if reads.data else {}), **(published if reads.published else {})}
        extra = {"sheet": sheet} if sheet and reads.data else {}
        if step == COLLECT:
            extra["run"] = name
        keys[step] = stepcache.step_key(
            Path(step).stem, params_subset(params, step_parameters(step, params)), inputs,
            stepcache.code_key(package, ROOT, notebook),
            {after: keys[_step_name(after)] for after in reads.after}, extra)
    return Plan(params_yaml(params), provenance, keys, cache_dir)


def _step_name(stem: str) -> str:
    """A step's name in :attr:`Plan.keys` (the notebook's file name, or ``sweep``)."""
    return stem if stem == SWEEP else f"{stem}.ipynb"


def _execute_step(name: str, setup: StepSetup, out_dir: Path, kernel) -> dict:
    """Run one step notebook in ``kernel`` (a :class:`~analysis.kernels.KernelPool` job);
    returns its timing."""
    setup.log(f"  - {name}: running")
    started = time.perf_counter()
    _execute_notebook(name, out_dir, setup, kernel)
    return {"seconds": round(time.perf_counter() - started, 2),
            **notebook_timing(out_dir / "notebooks" / name)}


def _reuse(name: str, entry: Path, stage: Path, log: Callable[[str], None], key: str) -> dict:
    from analysis.stepcache import restore

    started = time.perf_counter()
    restore(entry, stage)
    elapsed = time.perf_counter() - started
    log(f"  - {name}: reused from cache ({elapsed:.1f} s)")
    return {"seconds": round(elapsed, 2), "cache": "hit", "key": key[:16]}


def run_independent_steps(setup: StepSetup, plan: Plan, pool) -> dict[str, dict]:
    """Step 1: the notebooks that only read the data, each reused from the cache when its key
    is there, the others executed in the run's warm kernels (``pool``), each into its own
    folder, then merged into the staging folder. Returns each step's record."""
    from analysis.stepcache import restore, store

    setup.log(f"step 1: notebooks {', '.join(INDEPENDENT)} in {pool.size} kernel(s) "
              f"started once (kernel {setup.kernel})")
    steps: dict[str, dict] = {}
    running = {}
    sweep = None  # the sweep over the sensitivity grid: kept apart, read by step 06
    for nb in BY_COST:
        key, entry = plan.keys[nb], plan.entry(nb)
        if plan.cached(nb):
            steps[nb] = _reuse(nb, entry, setup.stage, setup.log, key)
            continue
        if "sweep_file" in declared_parameters(setup.notebooks_dir / nb):
            found = plan.sweep_file is not None and plan.sweep_file.is_file()
            sweep = {"cache": "hit" if found else "miss" if plan.sweep_file else "off",
                     "key": plan.keys[SWEEP][:16], "in": nb}
        own = setup.stage / ".steps" / Path(nb).stem
        running[nb] = pool.submit(partial(_execute_step, nb, setup, own))
    for nb, future in running.items():
        own = setup.stage / ".steps" / Path(nb).stem
        record = future.result()
        steps[nb] = {"seconds": record.pop("seconds"),
                     "cache": "miss" if plan.cache_dir else "off",
                     "key": plan.keys[nb][:16], **record}
        if sweep is not None and sweep["in"] == nb:
            steps[nb]["sweep"] = sweep
        if plan.cache_dir is not None:
            store(own, plan.entry(nb))
        restore(own, setup.stage)
        setup.log(f"  - {nb}: done in {steps[nb]['seconds']:.1f} s")
    shutil.rmtree(setup.stage / ".steps", ignore_errors=True)
    return {nb: steps[nb] for nb in INDEPENDENT}


def run_collecting_step(setup: StepSetup, plan: Plan, pool) -> dict:
    """Step 2: the reproduction reads every step's results, in the bundle itself; reused
    from the cache when the steps' keys, the published numbers, the parameters, its notebook
    and the run's name are unchanged (:func:`analysis.stepcache.collect_key`). Returns its
    record."""
    from analysis.stepcache import changed_files, snapshot, store

    setup.log(f"step 2: notebook {COLLECT}")
    key, entry = plan.keys[COLLECT], plan.entry(COLLECT)
    if plan.cached(COLLECT):
        return _reuse(COLLECT, entry, setup.stage, setup.log, key)
    before = snapshot(setup.stage)
    record = pool.submit(partial(_execute_step, COLLECT, setup, setup.stage)).result()
    record = {"seconds": record.pop("seconds"), "cache": "miss" if entry else "off",
              "key": key[:16], **record}
    if entry is not None:
        store(setup.stage, entry, changed_files(setup.stage, before))
    setup.log(f"  - {COLLECT}: done in {record['seconds']:.1f} s")
    return record


def render_inputs(engine: str) -> dict:
    """What the render step reads besides the staging folder: the package's files (the
    renderer and its resources), tool versions, the Quarto CLI when used, the PDF date."""
    from analysis import stepcache
    from analysis.render import find_quarto

    quarto = find_quarto() if engine in ("auto", "quarto") else None
    tool = Path(quarto).stat() if quarto else None
    return {"code": stepcache.package_digest(ROOT), "packages": package_versions(),
            "quarto": [str(quarto), tool.st_size, tool.st_mtime_ns] if tool else None,
            "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH")}


def render_step(stage: Path, formats: tuple[str, ...], engine: str,
                log: Callable[[str], None], cache_dir: Path | None = None) -> dict:
    """Step 3: render the report in the staging folder (the report's sources are copied in
    and removed afterwards), or reuse the rendered files from the cache when every file the
    renderer reads is unchanged (:func:`analysis.stepcache.render_key`). Returns its record."""
    from analysis.render import PROJECT_FILES, render_report
    from analysis.stepcache import changed_files, render_key, restore, snapshot, store

    log(f"step 3: rendering {', '.join(formats)}")
    started = time.perf_counter()
    sources = [shutil.copy2(ROOT / source, stage / source) for source in PROJECT_FILES]
    # A fixed PDF creation date (the commit's) keeps re-rendered PDFs identical.
    os.environ.setdefault("SOURCE_DATE_EPOCH", commit_epoch())
    key = render_key(stage, formats, engine, render_inputs(engine))
    entry = cache_dir / "render" / key if cache_dir else None
    if entry is not None and (entry / ".complete").is_file():
        restore(entry, stage)
        cache = "hit"
    else:
        before = snapshot(stage)
        render_report(stage, formats=formats, engine=engine)
        if entry is not None:
            store(stage, entry, changed_files(stage, before))
        cache = "miss" if entry else "off"
    for source in sources:
        Path(source).unlink()
    record = {"seconds": round(time.perf_counter() - started, 2), "cache": cache,
              "key": key[:16]}
    log(f"  - rendered in {record['seconds']:.1f} s" if cache != "hit" else
        f"  - reused from cache ({record['seconds']:.1f} s)")
    return record


def kernel_name() -> str:
    """The project's Jupyter kernel if installed (``make`` installs it), else python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def run(name: str = "paper", params: Params | None = None, data_dir: Path | None = None,
        formats: tuple[str, ...] = ("html", "pdf", "docx"), runs_dir: Path | None = None,
        engine: str = "auto", jobs: int | None = None, log: Callable[[str], None] = _say,
        notebooks_dir: Path | None = None, cache: bool = True, sheet: str | None = None,
        started: float | None = None) -> Path:
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

    Returns
    -------
    The bundle's path. On failure raises :class:`PipelineError` naming the step, and the
    previous bundle of that name is left as it was.
    """
    from analysis.kernels import KernelPool, notebook_imports

    started = time.time() if started is None else started
    params = params or Params()
    data_dir = Path(data_dir or DEFAULT_DATA).resolve()
    runs_dir = Path(runs_dir or paths.RUNS).resolve()
    notebooks_dir = Path(notebooks_dir or paths.NOTEBOOKS).resolve()
    check_run_request(name, data_dir)
    plan = plan_run(name, params, data_dir, notebooks_dir, runs_dir / ".cache" if cache else None,
                    sheet)
    to_run = [nb for nb in NOTEBOOKS if not plan.cached(nb)]
    kernels = jobs or default_kernels(data_dir)
    pool = KernelPool(min(kernels, max(1, len(to_run) - (COLLECT in to_run))),
                      kernel_name(), notebooks_dir, _ipc_kernel_manager(),
                      notebook_imports([notebooks_dir / nb for nb in to_run]))
    if to_run:
        pool.start()  # the kernels start and import while the data is validated below
    try:
        # Validate the data once, up front, so a bad export fails with one clear message and
        # nothing is created. Not needed when every independent step is reused: their keys
        # hold every file of the data folder, the parameters and the package code, and a
        # step is stored in the cache only by a run that passed this validation.
        if any(nb in to_run for nb in INDEPENDENT):
            from analysis.schema import read_cohort

            check_eligible(read_cohort(data_dir, sheet=sheet), params, data_dir)
            release_export()
        runs_dir.mkdir(parents=True, exist_ok=True)
        with run_lock(runs_dir, name):
            clean_stale(runs_dir, name)
            final = _build(name, params, data_dir, formats, runs_dir, engine, log,
                           notebooks_dir, plan, pool, sheet)
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
           plan: Plan, pool, sheet: str | None = None) -> Path:
    """The body of :func:`run`, with the run's lock held: build in a staging folder recorded
    in the run's record (:mod:`analysis.runfolder`), swap it in, or remove exactly it."""
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
        setup = StepSetup(stage, {"params_file": str(stage / "params.yaml"),
                                  "data_dir": str(data_dir), "run_dir": str(stage),
                                  "published_dir": str(PUBLISHED), "run_name": name,
                                  "sheet": sheet, "sweep_file": plan.sweep_file and
                                  str(plan.sweep_file)},
                          pool.kernel, notebooks_dir, log)
        (stage / "notebooks").mkdir()
        steps = run_independent_steps(setup, plan, pool)
        steps[COLLECT] = run_collecting_step(setup, plan, pool)
        pool.close(wait=False)  # the kernels shut down while the report renders
        # Which engine renders, and its version: for the manifest and Appendix C.
        renderer = describe_renderer(engine) if formats else None
        write_run_notes(stage, name, params, plan.provenance, runs_dir / "paper", renderer)
        workbook = stepcache.WorkbookStep(stage, plan.cache_dir, ROOT)  # tables.xlsx (issue 14)
        if formats:
            steps["render"] = render_step(stage, formats, engine, log, plan.cache_dir)
        workbook.finish()
        write_manifest(stage, name, started, time.perf_counter() - t0, steps,
                       {**plan.provenance, "kernels": {"count": pool.size,
                                                       "warm_up_seconds": pool.warm_seconds},
                        "renderer": renderer})
        _move_into_place(stage, final)
    except BaseException:
        pool.close(kill=True)  # no notebook may still write into the folder removed next
        if workbook is not None:
            workbook.wait()  # nor the workbook
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        clean_stale(runs_dir, name)  # an interrupt mid-swap: put the previous bundle back
    if name == "paper" and runs_dir == paths.RUNS.resolve():
        copy_paper_figures(final)
    return final


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


def check_run_request(name: str, data_dir: Path) -> None:
    """Refuse a run name that breaks :data:`analysis.runfolder.RUN_NAME_RULE`, or a missing
    data folder."""
    check_run_name(name)
    if not data_dir.is_dir():
        raise PipelineError(f"data folder not found: {data_dir}")


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


def params_yaml(params: Params) -> str:
    """The text of a run's ``params.yaml``: every parameter, the paper's included."""
    import yaml

    return yaml.safe_dump(params.to_dict(), sort_keys=False)


def write_params_file(stage: Path, params: Params) -> str:
    """Write the run's ``params.yaml`` (every parameter, the paper's included: the file alone
    re-runs the report), the file whose path every notebook is given. Returns its text."""
    text = params_yaml(params)
    (stage / "params.yaml").write_text(text, encoding="utf-8")
    return text


def write_manifest(stage: Path, name: str, started: datetime, elapsed: float,
                   steps: dict[str, dict], provenance: dict) -> None:
    """``manifest.json``: when, how long each step took (and whether it came from the
    cache), the inputs' hashes, package versions, commit, platform and command."""
    manifest = {
        "run": name, "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_seconds": round(elapsed, 2),
        "step_seconds": {k: record["seconds"] for k, record in steps.items()},
        "steps": steps,
        **provenance, "platform": platform.platform(),
        "command": " ".join(sys.argv),
    }
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n",
                                         encoding="utf-8")


def copy_paper_figures(bundle: Path) -> None:
    """The repository's ``figures/`` holds the default run's figures (not those of test or
    variant runs)."""
    figures = paths.FIGURES
    figures.mkdir(exist_ok=True)
    for figure in sorted((bundle / "figures").glob("*")):
        shutil.copy2(figure, figures / figure.name)


def write_run_notes(stage: Path, name: str, params: Params, provenance: dict,
                    paper_dir: Path, renderer: dict | None = None) -> None:
    """The report's run-specific sections: what changed against the paper run (variants) and
    Appendix C (parameters, input hashes, package versions, commit, the engine that renders
    the report and its version, how to re-run)."""
    import pandas as pd

    from analysis.files import write_atomic
    from analysis.report.markdown import markdown_table
    from analysis.report.variables import group_note
    from analysis.report.variants import variant_markdown

    write_atomic(stage / "tables" / "variant.md", variant_markdown(stage, name, params, paper_dir))
    results = stage / "results.json"
    numbers = json.loads(results.read_text(encoding="utf-8"))["numbers"] if results.is_file() \
        else None  # None: the steps wrote no numbers (stub notebooks)
    write_atomic(stage / "tables" / "groups.md", group_note(numbers) if numbers else "")
    columns = ["Parameter", "Value", "Paper", "Allowed", "Source"]
    table = pd.DataFrame(parameter_rows(params))[columns]
    hashes = pd.DataFrame({"File": list(provenance["inputs"]),
                           "SHA-256": list(provenance["inputs"].values())})
    packages = pd.DataFrame({"Package": list(provenance["packages"]),
                             "Version": list(provenance["packages"].values())})
    command = f"python -m analysis run --name {name} --params runs/{name}/params.yaml"
    text = "\n".join([
        f"Git commit: `{provenance['git_commit']}`. To re-run exactly this report: "
        f"`{command}` (or `make report` for the paper's parameters).", "",
        *([f"Rendered by {renderer['text']}.", ""] if renderer else []),
        markdown_table(table, "Parameters of this run", "tbl-params", left_columns=5),
        markdown_table(hashes, "Input files (SHA-256)", "tbl-inputs", left_columns=2),
        markdown_table(packages, "Package versions", "tbl-packages", left_columns=2)])
    write_atomic(stage / "tables" / "reproducibility.md", text)


def _move_into_place(stage: Path, final: Path) -> None:
    """Swap the finished staging folder in; the old bundle is removed only afterwards. The
    swap folder is recorded first, so that a kill between the two renames is undone by the
    next run of this name (:func:`analysis.runfolder.clean_stale`)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        update_record(final.parent, final.name, old=old.name)
        os.replace(final, old)
    os.replace(stage, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
