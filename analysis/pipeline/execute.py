"""Executing a run's steps: the notebooks in the run's warm kernels (:mod:`analysis.kernels`),
each reused from the step cache when its key is there (:mod:`analysis.stepcache`), then the
rendering; each step returns its record for the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from analysis.errors import PipelineError
from analysis.pipeline import plan as planning
from analysis.pipeline.plan import BY_COST, COLLECT, INDEPENDENT, Plan
from analysis.runfolder import FAILED
from analysis.steps import SWEEP

__all__ = ["KERNEL_NAME", "DEFAULT_KERNELS", "ONE_KERNEL_ABOVE_BYTES", "StepSetup",
           "default_kernels", "kernel_name", "declared_parameters", "notebook_timing",
           "run_independent_steps", "run_collecting_step", "render_step", "say"]

KERNEL_NAME = "ma-ild-analysis"


_SAY_LOCK = threading.Lock()


def say(message: str) -> None:
    """Print one progress line. Steps report from the kernel pool's threads: the line and its
    newline go out in one write under a lock, so two threads' lines never run together."""
    with _SAY_LOCK:
        sys.stdout.write(message + "\n")
        sys.stdout.flush()


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
    sweep = None  # the sweep over the sensitivity grid: kept apart, read by step 05
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
    and the run's name are unchanged (:func:`analysis.stepcache.step_key`). Returns its
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
    return {"code": stepcache.package_digest(planning.ROOT),
            "packages": planning.package_versions(),
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
    sources = [shutil.copy2(planning.ROOT / source, stage / source) for source in PROJECT_FILES]
    # A fixed PDF creation date (the commit's) keeps re-rendered PDFs identical.
    os.environ.setdefault("SOURCE_DATE_EPOCH", planning.commit_epoch())
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
