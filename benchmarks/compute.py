"""In-process measurements for ``benchmarks/run.py``: the computation stages (as the notebooks
chain them) and Tables 1-3 at 1,000 to 1,000,000 patients against ``tableone`` (issue 17,
row 4). Each size and implementation runs in its own process: this file run as
``python benchmarks/compute.py SIZE IMPL REPEAT`` prints one JSON line.

Importing this module puts the checkout's ``analysis`` package first on ``sys.path`` and on
``PYTHONPATH`` (which notebook kernels and subprocesses inherit).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# The checkout this script benchmarks, found from this file before its package can be
# imported; every other path comes from that package (analysis.paths).
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

from analysis.paper.rows import ROWS  # noqa: E402  (after the checkout is on sys.path)
from analysis.paths import RAW as DATA  # noqa: E402

SIZES = (1_000, 100_000, 1_000_000)
SEED = 2017
#: Table 1's columns as tableone sees them: categorical (counted) and continuous.
T1_CATEGORICAL = tuple(row.column for row in ROWS if row.kind != "continuous")
T1_CONTINUOUS = tuple(row.column for row in ROWS if row.kind == "continuous")


def best_of(fn, repeat: int) -> tuple[float, list[float], object]:
    """Best wall time of ``repeat`` calls (time.perf_counter), all times, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), times, result


# ----------------------------------------------------------------- pure computation
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
        # notebook 06: merged fragments against the published numbers
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
    two taper figures and saving each as the PNG the report embeds (a run's default figure
    set; into a temporary folder)."""
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


# ----------------------------------------------------------------- scaling (row 4)
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
    from analysis.paper.rows import BY_KEY as spec

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
            proc = subprocess.run([sys.executable, __file__, str(size), impl,
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




if __name__ == "__main__":
    size, impl, repeat = sys.argv[1:4]
    print(json.dumps(scale_worker(int(size), impl, int(repeat))))
