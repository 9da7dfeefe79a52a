"""Benchmark of the analysis: pure computation, the full pipeline, re-runs, and scaling.

Run with ``make bench`` (``.venv/bin/python benchmarks/run.py``); ``--quick`` skips the
1,000,000-patient size and the pipeline runs. Prints a table and writes
``benchmarks/results.json``. What each figure means: ``benchmarks/README.md``.

The script benchmarks the checkout it lives in: that checkout's ``analysis`` package is put
first on ``sys.path`` and on ``PYTHONPATH`` (which the notebook kernels inherit).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

DATA = ROOT / "data" / "raw"
SIZES = (1_000, 100_000, 1_000_000)
SEED = 2017
#: Table 1's columns as tableone sees them: (column, categorical?).
T1_CATEGORICAL = ("sex", "race", "smoking", "myositis_type", "honeycombing", "biopsy", "ana",
                  "anti_jo1", "ssa", "mi2", "pl7", "srp", "ku", "aza_conventional",
                  "mtx_conventional", "mmf_conventional")
T1_CONTINUOUS = ("age_at_onset", "ck", "aldolase", "fvc", "tlc", "dlco")


def best_of(fn, repeat: int) -> tuple[float, list[float], object]:
    """Best wall time of ``repeat`` calls (time.perf_counter), all times, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), times, result


# ----------------------------------------------------------------- 1. pure computation
def computation(repeat: int = 5) -> dict:
    """Each stage of the analysis in this process, as the notebooks chain them."""
    from analysis import consistency, doses, published, results, tables
    from analysis.cohort import analysis_groups, flow_table
    from analysis.params import Params
    from analysis.schema import read_cohort

    params = Params()
    stage_names = ("load+validate", "classify", "tables 1-3", "tapers", "flow", "reproduction")
    runs: dict[str, list[float]] = {name: [] for name in stage_names}
    totals: list[float] = []
    summary = ""

    def lap(name: str, started: float) -> float:
        now = time.perf_counter()
        runs[name].append(now - started)
        return now

    for _ in range(repeat):
        state: dict = {}
        t0 = t = time.perf_counter()
        cohort = read_cohort(DATA)
        t = lap("load+validate", t)
        groups = analysis_groups(cohort.patients, cohort.assessments, params)
        t = lap("classify", t)
        # notebook 03: the tables and their fragment
        at_index = tables.analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
        at_tac = tables.analysis_dataset(cohort.patients, groups, cohort.assessments,
                                         "tac_start")
        frames = {"table1": tables.table1(at_index[at_index["included"]]),
                  "table2": tables.table2(at_index, params),
                  "table3": tables.table3(at_tac, params)}
        state["tables"] = results.subgroup_results(at_index, params)
        for frame in frames.values():
            state["tables"].update(tables.table_results(frame))
        t = lap("tables 1-3", t)
        # notebook 04: taper summary and the dose fragment
        doses.taper_summary(cohort.doses, groups, params)
        state["doses"] = doses.dose_results(cohort.doses, groups, params)
        t = lap("tapers", t)
        # notebook 02: Figure 1's counts and the flow fragment
        flow = flow_table(groups)
        state["flow"] = {**results.flow_results(flow), **results.response_results(groups)}
        t = lap("flow", t)
        # notebook 05: merged fragments against the published numbers
        merged: dict = {}
        for fragment in (state["doses"], state["flow"], state["tables"]):
            merged.update(fragment)
        numbers = published.load_published()
        comparison = published.compare(numbers, merged, consistency.verdicts(numbers))
        summary = published.summary_line(comparison)
        lap("reproduction", t)
        totals.append(time.perf_counter() - t0)
    figures = figure_stage(cohort, groups, params, repeat)
    return {"repeat": repeat,
            "stages": {name: {"best": min(v), "first": v[0], "runs": v}
                       for name, v in runs.items()},
            "figures_not_in_total": figures,
            "total": {"best": min(totals), "first": totals[0], "runs": totals},
            "reproduction_summary": summary}


def figure_stage(cohort, groups, params, repeat: int) -> dict:
    """Not one of the stages above, but part of notebooks 02 and 04: drawing Figure 1 and the
    two taper figures and saving each as PNG and SVG (into a temporary folder)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import doses
    from analysis.cohort import flow_table
    from analysis.report import figures

    summary = doses.taper_summary(cohort.doses, groups, params)
    flow = flow_table(groups)
    with tempfile.TemporaryDirectory(prefix="ma-ild-bench-fig-") as tmp:
        def draw():
            for stem, fig in (("figure1", figures.plot_flow(flow)),
                              ("taper_conventional", figures.plot_taper_conventional(summary)),
                              ("taper_tacrolimus", figures.plot_taper_tacrolimus(summary))):
                figures.save_figure(fig, tmp, stem)
                plt.close(fig)

        best, times, _ = best_of(draw, repeat)
    return {"best": best, "first": times[0], "runs": times}


# ----------------------------------------------------------------- 2. kernel floor
EMPTY_NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
#: What the step notebooks import at their top (the modules import pandas, matplotlib, ...).
IMPORTS_CELL = ("import importlib\n"
                "for name in ('params', 'schema', 'report', 'cohort', 'results', 'tables',\n"
                "             'doses', 'report.figures', 'published', 'printed'):\n"
                "    importlib.import_module('analysis.' + name)\n")


def kernel_floor(repeat: int = 3) -> dict:
    """papermill on an empty notebook with the project's kernel (the start-up every step pays),
    and on a one-cell notebook importing what the notebooks import."""
    import papermill

    from analysis import pipeline

    kernel = pipeline.kernel_name() if hasattr(pipeline, "kernel_name") else "ma-ild-analysis"
    manager = getattr(pipeline, "_ipc_kernel_manager", None)
    extra = {"kernel_manager_class": manager()} if manager else {}
    out = {"kernel": kernel}
    with tempfile.TemporaryDirectory(prefix="ma-ild-bench-nb-") as tmp:
        for label, cells in (("empty", []), ("imports", [IMPORTS_CELL])):
            book = {**EMPTY_NOTEBOOK, "cells": [
                {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
                 "outputs": [], "source": src} for i, src in enumerate(cells)]}
            source = Path(tmp) / f"{label}.ipynb"
            source.write_text(json.dumps(book), encoding="utf-8")

            def once(source=source, label=label):
                papermill.execute_notebook(str(source), str(Path(tmp) / f"{label}.out.ipynb"),
                                           kernel_name=kernel, cwd=tmp, progress_bar=False,
                                           log_output=False, **extra)

            best, times, _ = best_of(once, repeat)
            out[label] = {"best": best, "runs": times}
    return out


# ----------------------------------------------------------------- 3. the pipeline
def pipeline_runs() -> dict:
    """Full run (cold), a re-run with one cutoff changed, and a re-run with nothing changed,
    all into one temporary runs folder (so a step cache there can be exercised)."""
    import inspect

    from analysis import pipeline
    from analysis.params import Params

    accepts_log = "log" in inspect.signature(pipeline.run).parameters
    runs_dir = Path(tempfile.mkdtemp(prefix="ma-ild-bench-runs-"))
    out = {}
    try:
        for label, params in (("full (cold)", Params()),
                              ("one cutoff changed (fvc_decline=0.05)", Params(fvc_decline=0.05)),
                              ("nothing changed", Params(fvc_decline=0.05))):
            kwargs = {"log": lambda _: None} if accepts_log else {}
            started = time.perf_counter()
            bundle = pipeline.run("bench", params=params, runs_dir=runs_dir, engine="pandoc",
                                  **kwargs)
            wall = time.perf_counter() - started
            manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
            keep = ("elapsed_seconds", "step_seconds", "steps", "kernel_start", "cache")
            out[label] = {"wall": wall, **{k: manifest[k] for k in keep if k in manifest},
                          **{k: v for k, v in manifest.items()
                             if k not in keep and ("cache" in k or "kernel" in k)}}
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return out


# ----------------------------------------------------------------- 4. scaling (subprocess)
def _rss_tools():
    """Peak-memory probe: reset the kernel's high-water mark (/proc/self/clear_refs "5") and
    read VmHWM; falls back to tracemalloc where /proc is not available."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return None
    import ctypes

    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except OSError:
        trim = None

    def status(field: str) -> int:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    def start() -> int:
        gc.collect()
        if trim is not None:
            trim(0)  # give freed heap back, so the baseline is live memory only
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return status("VmRSS")

    def peak(baseline: int) -> int:
        return status("VmHWM") - baseline

    return start, peak


def measure(fn, repeat: int) -> dict:
    """Time ``fn`` (best of ``repeat``) and its peak memory above the live baseline (first
    call, untraced, so the timing is not slowed)."""
    tools = _rss_tools()
    if tools is not None:
        start, peak = tools
        base = start()
        t = time.perf_counter()
        result = fn()
        first = time.perf_counter() - t
        peak_bytes, method = peak(base), "rss"
    else:
        import tracemalloc

        gc.collect()
        tracemalloc.start()
        result = fn()
        peak_bytes, method = tracemalloc.get_traced_memory()[1], "tracemalloc"
        tracemalloc.stop()
        t = time.perf_counter()
        result = fn()
        first = time.perf_counter() - t
    times = [first]
    for _ in range(repeat - 1):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return {"best": min(times), "runs": times, "peak_mb": peak_bytes / 2**20,
            "memory_method": method, "result": result}


def synthetic(size: int):
    """``size`` patients resampled with replacement (seeded) from the included patients of the
    bundled cohort, at index and at tacrolimus start (same patients), ids re-labelled."""
    import numpy as np
    import pandas as pd

    from analysis.cohort import analysis_groups
    from analysis.params import Params
    from analysis.schema import read_cohort
    from analysis.tables import analysis_dataset

    cohort = read_cohort(DATA)
    groups = analysis_groups(cohort.patients, cohort.assessments, Params())
    at_index = analysis_dataset(cohort.patients, groups, cohort.assessments, "index")
    at_tac = analysis_dataset(cohort.patients, groups, cohort.assessments, "tac_start")
    included = np.flatnonzero(at_index["included"].to_numpy(dtype=bool))
    rows = included[np.random.default_rng(SEED).integers(0, len(included), size)]
    ids = pd.array([f"S{i:07d}" for i in range(1, size + 1)], dtype="string")
    out = []
    for frame in (at_index, at_tac):
        big = frame.iloc[rows].reset_index(drop=True)
        big["patient_id"] = ids
        out.append(big)
    return out


def _ours_numbers(t1) -> dict[str, str]:
    """Our Table 1 as tableone prints it: 'n (pct)' per level, 'mean (SD)' per continuous row,
    keyed by tableone's (row, level)."""
    from analysis.tables import ROWS

    spec = {row.key: row for row in ROWS}
    out = {}
    for rec in t1.to_dict("records"):
        row = spec[rec["variable"]]
        if row.kind == "continuous":
            out[f"{row.column}, mean (SD)|"] = f"{rec['mean']:.1f} ({rec['sd']:.1f})"
            continue
        value = "True" if row.kind == "binary" else next(
            str(v) for k, v, _ in row.levels if k == rec["level"])
        out[f"{row.column}, n (%)|{value}"] = f"{rec['n']} ({rec['pct']:.1f})"
    return out


def _tableone_numbers(frame) -> dict[str, str]:
    """tableone's Overall column, keyed 'row|level'. Histology (ours: % of the biopsied) is
    re-based on tableone's own counts, leaving out its 'none' level."""
    import re

    overall = frame.tableone["Overall"]
    out = {f"{row}|{level}": str(text) for (row, level), text in overall.items()}
    biopsy = {k: int(re.match(r"\s*(\d+)", v).group(1)) for k, v in out.items()
              if k.startswith("biopsy, n (%)|") and not k.endswith("|none")}
    biopsied = sum(biopsy.values())
    for key, n in biopsy.items():
        out[key] = f"{n} ({100 * n / biopsied:.1f})"
    return out


def scale_worker(size: int, impl: str, repeat: int) -> dict:
    """One size and one implementation, in its own process (clean memory baseline)."""
    warnings.simplefilter("ignore")  # tableone's pandas deprecation warnings
    from analysis.params import Params
    from analysis.tables import table1, table2, table3

    params = Params()
    at_index, at_tac = synthetic(size)
    small_index, small_tac = at_index.iloc[:200], at_tac.iloc[:200]
    out: dict = {"size": size, "impl": impl}
    if impl == "ours":
        for fn in (lambda: table1(small_index), lambda: table2(small_index, params),
                   lambda: table3(small_tac, params)):
            fn()  # warm-up: lazy imports (scipy) are not counted
        for name, fn in (("table1", lambda: table1(at_index)),
                         ("table2", lambda: table2(at_index, params)),
                         ("table3", lambda: table3(at_tac, params))):
            res = measure(fn, repeat)
            if name == "table1":
                out["numbers"] = _ours_numbers(res["result"])
            out[name] = {k: v for k, v in res.items() if k != "result"}
    else:
        from tableone import TableOne

        columns = list(T1_CATEGORICAL + T1_CONTINUOUS)
        data = at_index[columns]
        TableOne(small_index[columns], columns=columns, categorical=list(T1_CATEGORICAL))
        res = measure(lambda: TableOne(data, columns=columns, categorical=list(T1_CATEGORICAL),
                                       decimals=1), repeat)
        out["numbers"] = _tableone_numbers(res["result"])
        out["n"] = str(res["result"].tableone["Overall"].iloc[0])
        out["table1"] = {k: v for k, v in res.items() if k != "result"}
    return out


def scaling(sizes: tuple[int, ...], log) -> dict:
    out = {}
    for size in sizes:
        repeat = 1 if size >= 1_000_000 else 3
        entry = {"repeat": repeat}
        for impl in ("ours", "tableone"):
            log(f"  scaling: {size:,} patients, {impl} ...")
            proc = subprocess.run([sys.executable, __file__, "--worker", str(size), impl,
                                   str(repeat)], capture_output=True, text=True, cwd=ROOT)
            if proc.returncode:
                raise RuntimeError(f"worker {size} {impl} failed:\n{proc.stderr}")
            entry[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        ours, ref = entry["ours"].pop("numbers"), entry["tableone"].pop("numbers")
        differ = sorted(k for k in ours if ref.get(k) != ours[k])
        entry["compared"] = len(ours)
        entry["differ"] = {k: {"ours": ours[k], "tableone": ref.get(k)} for k in differ}
        entry["n_agrees"] = entry["tableone"].pop("n") == str(size)
        entry["same_numbers"] = not differ and entry["n_agrees"]
        out[str(size)] = entry
    return out


# ----------------------------------------------------------------- report
def machine() -> dict:
    versions = {}
    for name in ("pandas", "numpy", "scipy", "tableone", "papermill", "pandera"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    cpu_model = ""
    try:
        cpu_model = next(line.split(":", 1)[1].strip()
                         for line in Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(), "cpus_usable": usable, "cpu_model": cpu_model,
            "platform": platform.platform(), "python": platform.python_version(),
            **versions, "checkout": str(ROOT), "git_commit": git("rev-parse", "HEAD"),
            "git_changed_files": git("status", "--porcelain", "--untracked-files=no").split(
                "\n") if git("status", "--porcelain", "--untracked-files=no") else []}


def render(res: dict) -> str:
    lines: list[str] = []
    rows: list[tuple[str, str, str, str]] = []

    def section(title: str) -> None:
        rows.append((f"[{title}]", "", "", ""))

    def add(stage: str, seconds: float | None, mb: float | None = None, note: str = "") -> None:
        rows.append(("  " + stage, "" if seconds is None else f"{seconds:.3f}",
                     "" if mb is None else f"{mb:.1f}", note))

    comp = res["computation"]
    section(f"computation, one process, best of {comp['repeat']} (first run in parentheses)")
    for name, v in comp["stages"].items():
        add(name, v["best"], note=f"(first {v['first']:.3f})")
    add("total", comp["total"]["best"], note=f"(first {comp['total']['first']:.3f})")
    if "figures_not_in_total" in comp:
        fig = comp["figures_not_in_total"]
        add("figures: draw + save PNG/SVG", fig["best"],
            note=f"(first {fig['first']:.3f}; not in total; notebooks 02, 04)")
    rows.append(("  reproduction check", "", "", comp["reproduction_summary"]))
    if "kernel_floor" in res:
        kf = res["kernel_floor"]
        section(f"kernel start floor, papermill, kernel {kf['kernel']}, best of "
                f"{len(kf['empty']['runs'])}")
        add("empty notebook", kf["empty"]["best"])
        add("one cell: imports of the notebooks", kf["imports"]["best"])
    for label, run in res.get("pipeline", {}).items():
        section(f"pipeline: {label}")
        add("end to end (wall)", run["wall"])
        steps = run.get("steps", {})
        for step, seconds in run.get("step_seconds", {}).items():
            info = steps.get(step, {}) if isinstance(steps, dict) else {}
            note = ", ".join(f"{k} {v}" for k, v in info.items()
                             if k in ("cache", "kernel_start", "cells"))
            add(step, seconds, note=note)
    for size, entry in res.get("scaling", {}).items():
        n = int(size)
        section(f"scaling: {n:,} patients, best of {entry['repeat']}, peak memory "
                f"({entry['ours']['table1']['memory_method']})")
        total = 0.0
        for name in ("table1", "table2", "table3"):
            v = entry["ours"][name]
            total += v["best"]
            add(f"ours {name}", v["best"], v["peak_mb"])
        add("ours tables 1-3", total, max(entry["ours"][t]["peak_mb"]
                                          for t in ("table1", "table2", "table3")))
        ref = entry["tableone"]["table1"]
        ours = entry["ours"]["table1"]["best"]
        add("tableone Table 1", ref["best"], ref["peak_mb"],
            f"ours is {ref['best'] / ours:.1f}x faster" if ours else "")
        same = "yes" if entry["same_numbers"] else f"no ({len(entry['differ'])} differ)"
        rows.append(("  same numbers", "", "", f"{same}, {entry['compared']} values compared"))
    body = [r for r in rows if not r[0].startswith("[")] + [("stage", "seconds", "MB", "")]
    widths = [max(len(r[i]) for r in body) for i in range(3)]
    header = f"{'stage':<{widths[0]}}  {'seconds':>{widths[1]}}  {'MB':>{widths[2]}}  note"
    lines += [header, "-" * (len(header) + 30)]
    for stage, sec, mb, note in rows:
        if stage.startswith("["):
            lines.append(stage)
            continue
        lines.append(f"{stage:<{widths[0]}}  {sec:>{widths[1]}}  {mb:>{widths[2]}}  {note}"
                     .rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the 1,000,000-patient size and the pipeline runs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--label", default="",
                        help="free text saved with the figures (e.g. the commit of a snapshot)")
    parser.add_argument("--worker", nargs=3, metavar=("SIZE", "IMPL", "REPEAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        size, impl, repeat = args.worker
        print(json.dumps(scale_worker(int(size), impl, int(repeat))))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    res: dict = {"mode": "quick" if args.quick else "full", "label": args.label,
                 "machine": machine(), "load_average_at_start": os.getloadavg()}
    log("computation (best of 5) ...")
    res["computation"] = computation()
    if not args.quick:
        log("kernel start floor (best of 3) ...")
        res["kernel_floor"] = kernel_floor()
        log("pipeline: full run, one cutoff changed, nothing changed ...")
        res["pipeline"] = pipeline_runs()
    res["scaling"] = scaling(SIZES[:2] if args.quick else SIZES, log)
    res["benchmark_seconds"] = time.perf_counter() - started
    res["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(render(res))
    load = res["load_average_at_start"][0], res["load_average_at_end"][0]
    print(f"\nbenchmark took {res['benchmark_seconds']:.0f} s (load average {load[0]:.1f} at "
          f"start, {load[1]:.1f} at end, {res['machine']['cpus_usable']} CPUs); "
          f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
