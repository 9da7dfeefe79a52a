"""One run of the report: notebooks executed by papermill, then rendering, as one bundle.

A run is built in a hidden staging folder next to its destination (``runs/.NAME.tmp-*``) and
moved into place only when every step succeeded, so a failed or interrupted run leaves the
previous bundle of that name untouched. Only one run of a name runs at a time, under that
name's lock, and what a killed run left is removed by exact recorded name
(:mod:`analysis.runfolder`). The independent notebooks (01-04, 06) run side by
side in separate kernels, each into its own folder, and are reused from a cache when nothing
they depend on changed; the reproduction notebook (05) runs after them, then the report
renders (HTML and PDF side by side).

Every notebook is given the path of the run's ``params.yaml`` (``params_file``) and the
folders it declares in its ``parameters`` cell, never parameter values: the values are read
from that one file (see ``notebooks/README.md``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from analysis.errors import PipelineError
from analysis.params import Params, parameter_rows
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

__all__ = ["ROOT", "NOTEBOOKS", "INDEPENDENT", "COLLECT", "run", "KERNEL_NAME"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "data" / "raw"
PUBLISHED = ROOT / "data" / "published"
KERNEL_NAME = "ma-ild-analysis"
#: Steps that only read the data: independent, run side by side and cached.
INDEPENDENT = ("01_cohort.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
               "06_sensitivity.ipynb")
#: The step that collects every other step's numbers (the reproduction); it always runs.
COLLECT = "05_reproduction.ipynb"
NOTEBOOKS = (*INDEPENDENT, COLLECT)
PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill",
            "pandera", "pypandoc-binary", "typst", "jupyterlab", "ipykernel", "pyyaml")


def _say(message: str) -> None:
    print(message, flush=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


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


def input_hashes(data_dir: Path) -> dict[str, str]:
    files = sorted(p for p in Path(data_dir).iterdir() if p.is_file() and not p.name.startswith(
        ".")) + sorted(PUBLISHED.glob("*.csv"))
    return {str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p): sha256(p) for p in files}


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


def _execute_notebook(name: str, out_dir: Path, setup: StepSetup) -> None:
    """Run one notebook with papermill; its executed copy goes to ``out_dir/notebooks``."""
    import papermill

    source = setup.notebooks_dir / name
    target = out_dir / "notebooks" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    values = {**setup.parameters, "run_dir": str(out_dir)}
    wanted = declared_parameters(source)
    try:
        papermill.execute_notebook(str(source), str(target),
                                   parameters={k: v for k, v in values.items() if k in wanted},
                                   kernel_name=setup.kernel, cwd=str(setup.notebooks_dir),
                                   kernel_manager_class=_ipc_kernel_manager(),
                                   progress_bar=False, log_output=False)
    except papermill.PapermillExecutionError as exc:
        # Keep the failed notebook outside the staging folder (which is deleted) for inspection.
        kept = setup.failed_dir / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, kept)
        raise PipelineError(f"step {name} failed in cell {exc.exec_count}: {exc.ename}: "
                            f"{exc.evalue}\n  (executed notebook kept for inspection: "
                            f"{kept})") from None


def notebook_timing(path: Path) -> dict[str, float]:
    """Where a notebook's time went, from papermill's metadata: kernel start (until the first
    cell ran), cells, and the rest (saving, shutdown)."""
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


def code_hash(notebooks_dir: Path) -> str:
    """Hash of everything a step's result depends on besides data and parameters: the package
    source, the notebooks and the codebook."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "analysis").rglob("*.py")) + sorted(notebooks_dir.glob("*.ipynb"))
    for path in [*files, ROOT / "data" / "raw" / "codebook.csv"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def step_key(name: str, params_text: str, inputs: dict[str, str], code: str) -> str:
    """Cache key of a step: its notebook, the run's parameters, input hashes and code."""
    payload = json.dumps({"step": name, "params": params_text, "inputs": sorted(inputs.values()),
                          "code": code}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _run_step(name: str, setup: StepSetup, cache_dir: Path | None, key: str) -> dict:
    """Run one independent step into its own folder (or reuse its cached result), then merge
    its files into the staging folder. Returns its timing and cache record."""
    started = time.perf_counter()
    cached = cache_dir / Path(name).stem / key if cache_dir else None
    if cached is not None and (cached / "notebooks" / name).is_file():
        shutil.copytree(cached, setup.stage, dirs_exist_ok=True)
        elapsed = time.perf_counter() - started
        setup.log(f"  - {name}: reused from cache ({elapsed:.1f} s)")
        return {"seconds": round(elapsed, 2), "cache": "hit", "key": key[:16]}
    setup.log(f"  - {name}: running")
    own = setup.stage / ".steps" / Path(name).stem
    _execute_notebook(name, own, setup)
    elapsed = time.perf_counter() - started
    record = {"seconds": round(elapsed, 2), "cache": "miss" if cached else "off",
              "key": key[:16], **notebook_timing(own / "notebooks" / name)}
    if cached is not None:
        _store_in_cache(own, cached)
    shutil.copytree(own, setup.stage, dirs_exist_ok=True)
    setup.log(f"  - {name}: done in {elapsed:.1f} s")
    return record


def _store_in_cache(folder: Path, entry: Path) -> None:
    """Copy a finished step's folder to its cache entry: written aside and renamed, so a
    killed run never leaves a half-filled cache entry. Two runs (of other names) may store
    the same entry at once: the first rename wins and the other copy is dropped."""
    partial = entry.with_name(f".{entry.name}.tmp-{os.getpid()}")
    shutil.copytree(folder, partial, dirs_exist_ok=True)
    try:
        os.replace(partial, entry)
    except OSError:
        if not (entry / "notebooks").is_dir():
            raise
        shutil.rmtree(partial, ignore_errors=True)


def run_independent_steps(setup: StepSetup, keys: dict[str, str], cache_dir: Path | None,
                          jobs: int | None) -> dict[str, dict]:
    """Step 1: the notebooks that only read the data, side by side (one kernel each), each
    reused from the cache when its key is there. Returns each step's record."""
    setup.log(f"step 1: notebooks {', '.join(INDEPENDENT)} side by side "
              f"(kernel {setup.kernel})")
    steps: dict[str, dict] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs or (os.cpu_count() or 1) + 1))
    try:
        futures = {nb: pool.submit(_run_step, nb, setup, cache_dir, keys[nb])
                   for nb in INDEPENDENT}
        for nb, future in futures.items():
            steps[nb] = future.result()
    finally:
        # On failure or interrupt, notebooks not yet started are dropped, not waited for.
        pool.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(setup.stage / ".steps", ignore_errors=True)
    return steps


def run_collecting_step(setup: StepSetup) -> dict:
    """Step 2: the reproduction reads every step's results, so it always runs, in the
    bundle itself. Returns its record."""
    setup.log(f"step 2: notebook {COLLECT}")
    setup.log(f"  - {COLLECT}: running")
    started = time.perf_counter()
    _execute_notebook(COLLECT, setup.stage, setup)
    record = {"seconds": round(time.perf_counter() - started, 2), "cache": "never",
              **notebook_timing(setup.stage / "notebooks" / COLLECT)}
    setup.log(f"  - {COLLECT}: done in {record['seconds']:.1f} s")
    return record


def render_step(stage: Path, formats: tuple[str, ...], engine: str,
                log: Callable[[str], None]) -> dict:
    """Step 3: render the report in the staging folder (the report's sources are copied in
    and removed afterwards). Returns its record."""
    from analysis.render import PROJECT_FILES, render_report

    log(f"step 3: rendering {', '.join(formats)}")
    started = time.perf_counter()
    sources = [shutil.copy2(ROOT / source, stage / source) for source in PROJECT_FILES]
    # A fixed PDF creation date (the commit's) keeps re-rendered PDFs identical.
    os.environ.setdefault("SOURCE_DATE_EPOCH", commit_epoch())
    render_report(stage, formats=formats, engine=engine)
    for source in sources:
        Path(source).unlink()
    record = {"seconds": round(time.perf_counter() - started, 2)}
    log(f"  - rendered in {record['seconds']:.1f} s")
    return record


def kernel_name() -> str:
    """The project's Jupyter kernel if installed (``make`` installs it), else python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in specs else "python3"


def run(name: str = "paper", params: Params | None = None, data_dir: Path | None = None,
        formats: tuple[str, ...] = ("html", "pdf", "docx"), runs_dir: Path | None = None,
        engine: str = "auto", jobs: int | None = None, log: Callable[[str], None] = _say,
        notebooks_dir: Path | None = None, cache: bool = True, sheet: str | None = None) -> Path:
    """Execute every notebook and render the report into ``runs/<name>/``.

    Parameters
    ----------
    name : run name (folder under ``runs_dir``); ``paper`` is the default run.
    params : the run's parameters (default: the paper's).
    data_dir : folder of the export (default: the bundled synthetic cohort).
    formats : report formats to render (``html``, ``pdf``, ``docx``); empty to skip rendering.
    runs_dir : where runs live (default ``<repo>/runs``).
    engine : renderer: ``auto`` (Quarto if on PATH, else pandoc + Typst), ``quarto``, ``pandoc``.
    jobs : notebooks run side by side (one kernel each); default: CPU count + 1, since a
        kernel spends part of its start waiting rather than computing (measured on 2 cores:
        3 side by side beat 2 by about 1 s).
    notebooks_dir : folder of the step notebooks (default ``<repo>/notebooks``).
    cache : reuse a step's result (``runs/.cache``) when its notebook, the package code, the
        inputs and the parameters are all unchanged; the manifest says which steps were reused.
    sheet : Excel: the sheet every ``.xlsx`` file of the export is read from (default: the
        first whose header matches the codebook); given to every notebook as ``sheet``.

    Returns
    -------
    The bundle's path. On failure raises :class:`PipelineError` naming the step, and the
    previous bundle of that name is left as it was.
    """
    params = params or Params()
    data_dir = Path(data_dir or DEFAULT_DATA).resolve()
    runs_dir = Path(runs_dir or ROOT / "runs").resolve()
    notebooks_dir = Path(notebooks_dir or ROOT / "notebooks").resolve()
    check_run_request(name, data_dir)
    # Validate the data once, up front, so a bad export fails with one clear message and
    # nothing is created.
    from analysis.schema import read_cohort

    check_eligible(read_cohort(data_dir, sheet=sheet), params, data_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        with run_lock(runs_dir, name):
            clean_stale(runs_dir, name)
            final = _build(name, params, data_dir, formats, runs_dir, engine, jobs, log,
                           notebooks_dir, cache, sheet)
    except OSError as exc:  # a full disk, an unwritable runs folder: one sentence, no trace
        if not is_write_error(exc):
            raise
        raise PipelineError(os_error_message(exc, runs_dir)) from None
    return final


def _build(name: str, params: Params, data_dir: Path, formats: tuple[str, ...],
           runs_dir: Path, engine: str, jobs: int | None, log: Callable[[str], None],
           notebooks_dir: Path, cache: bool, sheet: str | None = None) -> Path:
    """The body of :func:`run`, with the run's lock held: build in a staging folder recorded
    in the run's record (:mod:`analysis.runfolder`), swap it in, or remove exactly it."""
    final = runs_dir / name
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=runs_dir))
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        start_record(runs_dir, name, stage)
        log(f"run '{name}': building in {stage.name} (data: {data_dir})")
        params_text = write_params_file(stage, params)
        setup = StepSetup(stage, {"params_file": str(stage / "params.yaml"),
                                  "data_dir": str(data_dir), "run_dir": str(stage),
                                  "published_dir": str(PUBLISHED), "run_name": name,
                                  "sheet": sheet},
                          kernel_name(), notebooks_dir, log)
        (stage / "notebooks").mkdir()
        provenance = {"git_commit": git_commit(), "inputs": input_hashes(data_dir),
                      "packages": package_versions()}
        code = code_hash(notebooks_dir)
        read_as = params_text + (f"\n# sheet: {sheet}\n" if sheet else "")  # a step's input too
        keys = {nb: step_key(nb, read_as, provenance["inputs"], code) for nb in INDEPENDENT}
        steps = run_independent_steps(setup, keys, runs_dir / ".cache" if cache else None, jobs)
        steps[COLLECT] = run_collecting_step(setup)
        write_run_notes(stage, name, params, provenance, runs_dir / "paper")
        if formats:
            steps["render"] = render_step(stage, formats, engine, log)
        write_manifest(stage, name, started, time.perf_counter() - t0, steps, provenance)
        _move_into_place(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        clean_stale(runs_dir, name)  # an interrupt mid-swap: put the previous bundle back
    if name == "paper" and runs_dir == (ROOT / "runs").resolve():
        copy_paper_figures(final)
    log(f"run '{name}' complete in {time.perf_counter() - t0:.1f} s: {final}")
    return final


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
    from analysis.cohort import apply_eligibility

    eligible = apply_eligibility(cohort.patients, params)
    if eligible["included"].any():
        return
    reasons = eligible["excluded_by"].value_counts()
    why = ", ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in reasons.items())
    raise PipelineError(
        f"no eligible patients: all {len(eligible)} patients in {data_dir} are excluded by the "
        f"inclusion criteria ({why or 'no patients'}), so there is nothing to report; check "
        "the export (e.g. age_at_index) or the eligibility parameters (min_age, age_rule)")


def write_params_file(stage: Path, params: Params) -> str:
    """Write the run's ``params.yaml`` (every parameter, the paper's included: the file alone
    re-runs the report), the file whose path every notebook is given. Returns its text."""
    import yaml

    text = yaml.safe_dump(params.to_dict(), sort_keys=False)
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
    figures = ROOT / "figures"
    figures.mkdir(exist_ok=True)
    for figure in sorted((bundle / "figures").glob("*")):
        shutil.copy2(figure, figures / figure.name)


def write_run_notes(stage: Path, name: str, params: Params, provenance: dict,
                    paper_dir: Path) -> None:
    """The report's run-specific sections: what changed against the paper run (variants) and
    Appendix C (parameters, input hashes, package versions, commit, how to re-run)."""
    import pandas as pd

    from analysis.report.atomic import write_atomic
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
        markdown_table(table, "Parameters of this run", "tbl-params", left_columns=5),
        markdown_table(hashes, "Input files (SHA-256)", "tbl-inputs", left_columns=2),
        markdown_table(packages, "Package versions", "tbl-packages", left_columns=2)])
    write_atomic(stage / "tables" / "reproducibility.md", text)
    from analysis.report.workbook import write_workbook

    write_workbook(stage)  # tables/tables.xlsx, every table of the run (issue 14)


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
