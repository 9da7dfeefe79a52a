"""Benchmark of the project's speed goals: each row a ratio or a figure measured in the same
run (rows 1-3: issue 24; rows 4-6: issues 13 and 17).

Run with ``make bench`` (``.venv/bin/python benchmarks/run.py``). Rows: 1-3 the pipeline
(``python -m analysis run`` with the default formats, a subprocess) against the floor
(papermill running one notebook of imports, a subprocess), interleaved pair by pair, median
of ``--repeat`` ratios, wall (and CPU, recorded) of the process tree; 4 Tables 1-3 at
1,000,000 patients against tableone; 5 a full run
on a 100,000-patient export (seconds, peak memory over all processes); 6 the test suite
(``--suite`` only). ``--quick`` skips the 1,000,000-patient size and every pipeline run.
Prints the goal table (measure | value | goal | met?) and the details, and writes
``benchmarks/results.json``. What each figure means: ``benchmarks/README.md``.

The script benchmarks the checkout it lives in (see ``compute.py``: that checkout's
``analysis`` package first on ``sys.path`` and ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compute import ROOT, SIZES, computation, scaling  # noqa: E402

#: Goal rows measured by default (6, the test suite, only with --suite).
ROWS = (1, 2, 3, 4, 5)
REGISTRY_SIZE = 100_000
#: Seconds after which the run of row 5 is stopped (coreutils ``timeout``; exit 124).
REGISTRY_TIMEOUT = 1200


# ----------------------------------------------------------------- 2. whole processes
#: The floor: one notebook importing what a statistical notebook imports, executed by
#: papermill's command line in its own process (issue 17: the floor of a notebook step).
FLOOR_CELL = ("import pandas as pd\nimport scipy.stats\nimport matplotlib.pyplot as plt\n"
              "import seaborn as sns\nimport statsmodels.api as sm\n")
#: The report formats of rows 1-3: the run's default (issue 24: "cold report (default
#: formats)"), as ``python -m analysis run`` renders without ``--to``.
FORMATS = "html,pdf,docx"
#: The formats of row 5 (issue 13: a registry-size run, HTML + PDF).
REGISTRY_FORMATS = "html,pdf"


def timed_process(cmd: list[str], what: str, check: bool = True) -> dict:
    """Run ``cmd`` as a subprocess: wall time and the CPU time (user + system) of the process
    and every descendant it waited for (notebook kernels, renderers), from
    ``resource.getrusage(RUSAGE_CHILDREN)`` before and after; the 1-minute load average at
    its start. Raises (with the end of its stderr) if it fails and ``check``."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    if check and proc.returncode:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                           f"{proc.stderr[-3000:]}")
    return {"wall": wall, "cpu": user + system, "user": user, "system": system,
            "load_1min": load, "returncode": proc.returncode, "stdout": proc.stdout}


def floor_command(folder: Path) -> list[str]:
    """Write the floor notebook (one cell: :data:`FLOOR_CELL`) into ``folder`` and return the
    papermill command executing it with the project's kernel."""
    from analysis.pipeline import kernel_name

    cell = {"cell_type": "code", "execution_count": None, "id": "imports", "metadata": {},
            "outputs": [], "source": FLOOR_CELL}
    book = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    source = folder / "floor.ipynb"
    source.write_text(json.dumps(book), encoding="utf-8")
    return [sys.executable, "-m", "papermill", str(source), str(folder / "floor.out.ipynb"),
            "-k", kernel_name(), "--cwd", str(folder), "--no-progress-bar"]


def run_command(name: str, runs_dir: Path, *extra: str, formats: str = FORMATS) -> list[str]:
    """``python -m analysis run`` of ``name`` into ``runs_dir`` (default: the default formats,
    HTML, PDF and Word)."""
    return [sys.executable, "-m", "analysis", "run", "--name", name, "--runs-dir",
            str(runs_dir), "--to", formats, *extra]


def manifest_steps(bundle: Path) -> dict:
    """The run's own account from ``manifest.json``: elapsed and per-step seconds, and any
    key about the cache or kernels (missing keys skipped)."""
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    keep = ("elapsed_seconds", "step_seconds", "steps")
    return {k: v for k, v in manifest.items()
            if k in keep or "cache" in k or "kernel" in k}


#: One repetition, in order: (key, run name or None for the floor, extra arguments).
#: Each pipeline run is preceded by a floor of its own; "prime" (a cache-on run after the
#: --no-cache one, which may not write the cache) makes "unchanged" a true re-run.
SEQUENCE = (("floor_cold", None, ()), ("cold", "paper", ("--no-cache",)),
            ("prime", "paper", ()), ("floor_unchanged", None, ()), ("unchanged", "paper", ()),
            ("floor_cutoff", None, ()), ("cutoff", "cutoff", ("-p", "fvc_decline=0.05")))
#: Goal rows 1-3: (run key, its floor's key).
PAIRS = {"cold": "floor_cold", "unchanged": "floor_unchanged", "cutoff": "floor_cutoff"}


def pipeline_pairs(repeat: int, log) -> list[dict]:
    """``repeat`` repetitions of :data:`SEQUENCE`, each into a fresh runs folder (so the
    cache starts empty and the cutoff run follows a paper run in the same folder); each run's
    wall/CPU ratio to the floor just before it."""
    out = []
    with tempfile.TemporaryDirectory(prefix="ma-ild-bench-") as tmp:
        floor = floor_command(Path(tmp))
        for i in range(repeat):
            runs_dir = Path(tmp) / f"runs{i}"
            rep: dict = {}
            for key, name, extra in SEQUENCE:
                log(f"  pipeline {i + 1}/{repeat}: {key} ...")
                cmd = floor if name is None else run_command(name, runs_dir, *extra)
                rep[key] = timed_process(cmd, key)
                rep[key].pop("stdout")
                if name is not None:
                    rep[key]["manifest"] = manifest_steps(runs_dir / name)
            for key, floor_key in PAIRS.items():
                rep[f"{key}_ratio"] = {m: rep[key][m] / rep[floor_key][m] for m in ("wall", "cpu")}
            shutil.rmtree(runs_dir, ignore_errors=True)
            out.append(rep)
    return out


# ----------------------------------------------------------------- 3. registry scale (row 5)
def registry_tools():
    """``write_registry_export(n, out_dir)`` and ``peak_rss_of(cmd, cwd=, env=)`` from
    ``benchmarks/registry.py``, and where they came from."""
    import importlib.util

    path = Path(__file__).resolve().parent / "registry.py"
    spec = importlib.util.spec_from_file_location("ma_ild_bench_registry", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.write_registry_export, module.peak_rss_of, "benchmarks/registry.py"
# END OF PRIVATE FALLBACK


def registry_run(size: int, log, timeout: int = REGISTRY_TIMEOUT) -> dict:
    """Row 5: write a ``size``-patient export, then a full ``--no-cache`` run (HTML + PDF)
    on it as a subprocess: wall seconds, CPU of the process tree, and the peak of the summed
    RSS of all its processes (sampled; see ``peak_rss_of``). The run is stopped after
    ``timeout`` s (``timeout`` of coreutils; the kernels end with their parent)."""
    write_export, peak_rss_of, source = registry_tools()
    with tempfile.TemporaryDirectory(prefix="ma-ild-bench-registry-") as tmp:
        log(f"  registry: writing a {size:,}-patient export ({source}) ...")
        started = time.perf_counter()
        data = write_export(size, Path(tmp) / "export")
        written = time.perf_counter() - started
        log(f"  registry: full run on {size:,} patients ...")
        cmd = ["timeout", "--kill-after=10", str(timeout),
               *run_command("registry", Path(tmp) / "runs", "--no-cache", "--data", str(data),
                            formats=REGISTRY_FORMATS)]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        rec = peak_rss_of(cmd, cwd=ROOT, env=dict(os.environ))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = manifest_steps(Path(tmp) / "runs" / "registry")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"size": size, "tools": source, "timeout": timeout, "timed_out":
            rec.returncode in (124, 137), "export_seconds": written, "wall": rec.seconds,
            "cpu": cpu, "load_1min": load, "peak_bytes": rec.peak_bytes,
            "peak_gb": rec.peak_bytes / 1e9, "samples": rec.samples,
            "per_process_peak_mb": {k: round(v / 2**20, 1) for k, v in sorted(
                rec.per_process_peak.items(), key=lambda kv: -kv[1])[:12]},
            "returncode": rec.returncode, "manifest": manifest,
            "stderr_tail": rec.stderr.strip().splitlines()[-15:] if rec.returncode else []}


# ----------------------------------------------------------------- 4. test suite (row 6)
SUITE = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=15")


def parse_durations(text: str) -> list[dict]:
    """pytest's ``--durations`` lines (``1.23s call     tests/x.py::test_y``), in order."""
    import re

    found = re.findall(r"^\s*(\d+(?:\.\d+)?)s (call|setup|teardown)\s+(\S.*?)\s*$", text,
                       flags=re.MULTILINE)
    return [{"seconds": float(s), "phase": phase, "test": test} for s, phase, test in found]


def suite_run() -> dict:
    """Row 6: the whole test suite in a subprocess; wall, CPU, outcome and the 15 slowest."""
    res = timed_process([sys.executable, *SUITE], "test suite", check=False)
    text = res.pop("stdout")
    summary = [line.strip("= ") for line in text.splitlines() if " in " in line
               and any(w in line for w in ("passed", "failed", "error"))]
    return {**res, "command": "python " + " ".join(SUITE),
            "summary": summary[-1] if summary else "", "slowest": parse_durations(text),
            "failed": [line for line in text.splitlines() if line.startswith(("FAILED", "ERROR"))]}


# ----------------------------------------------------------------- goals
def goal_row(row: int, measure: str, value, unit: str, op: str, target, **extra) -> dict:
    """One row of the goal table: ``met`` is ``value op target`` (None when not measured)."""
    if value is None:
        met = None
    elif op == "same":
        met = bool(value)
    else:
        met = {"<=": value <= target, ">=": value >= target, "<": value < target}[op]
    return {"row": row, "measure": measure, "value": value, "unit": unit, "op": op,
            "target": target, "met": met, **extra}


#: Rows 1-3 (issue 24, "Speed goals"): (row, run key, metric, goal, measure). Wall time is
#: what a user waits; each row also keeps the CPU ratio (``other_ratios``).
PIPELINE_GOALS = (
    (1, "cold", "wall", 2.5, "cold report (--no-cache, HTML+PDF+Word) / floor, wall"),
    (2, "unchanged", "wall", 0.8, "unchanged re-run / floor, wall"),
    (3, "cutoff", "wall", 1.5, "one cutoff changed after a paper run / floor, wall"))


def goals(res: dict) -> list[dict]:
    """The goal table from the measurements in ``res``; each row keeps its individual
    measurements (ratios per pair, or the runs it was read from)."""
    from statistics import median

    rows = []
    pairs = res.get("pipeline_pairs") or []
    for row, key, metric, target, measure in PIPELINE_GOALS:
        ratios = [p[f"{key}_ratio"][metric] for p in pairs]
        runs, floors = ([p[k][metric] for p in pairs] for k in (key, PAIRS[key]))
        other = "cpu" if metric == "wall" else "wall"
        rows.append(goal_row(
            row, measure, median(ratios) if pairs else None, "x", "<=", target,
            ratios=ratios, seconds=runs, floor_seconds=floors,
            other_ratios={other: [p[f"{key}_ratio"][other] for p in pairs]},
            detail=f"median {median(runs):.1f} s / {median(floors):.1f} s {metric}, "
                   f"median of {len(pairs)} pairs" if pairs else "not measured"))
    big = res.get("scaling", {}).get(str(SIZES[-1]))
    if big:
        ours, ref = big["ours"], big["tableone"]["table1"]
        total = sum(ours[t]["best"] for t in ("table1", "table2", "table3"))
        rows += [goal_row(4, "Table 1 at 1,000,000 patients vs tableone, times faster",
                          ref["best"] / ours["table1"]["best"], "x", ">=", 100,
                          detail=f"{ref['best']:.2f} s / {ours['table1']['best']:.3f} s"),
                 goal_row(4, "Table 1 at 1,000,000: same numbers as tableone",
                          big["same_numbers"], "bool", "same", True,
                          detail=f"{big['compared']} values and n compared"),
                 goal_row(4, "Tables 1-3 at 1,000,000 patients", total, "s", "<", 2.0,
                          detail="sum of the three bests")]
    else:
        rows.append(goal_row(4, "Table 1 at 1,000,000 vs tableone; Tables 1-3 < 2 s", None,
                             "x", ">=", 100, detail="not measured (--quick or --rows)"))
    reg = res.get("registry")
    ok = reg is not None and reg["returncode"] == 0
    size = f"{reg['size']:,}" if reg else "100,000"
    why = ("not measured" if reg is None else
           "" if ok else f"stopped after {reg['timeout']} s" if reg.get("timed_out") else
           f"run failed (exit {reg['returncode']})")
    rows += [goal_row(5, f"full run on a {size}-patient export, wall", reg["wall"] if ok else None,
                      "s", "<=", 60, detail=why or f"CPU {reg['cpu']:.0f} s"),
             goal_row(5, f"full run on a {size}-patient export, peak memory (all processes)",
                      reg["peak_gb"] if reg else None, "GB", "<=", 1.0,
                      detail=why or f"{reg['samples']} samples of the process tree")]
    suite = res.get("suite")
    rows.append(goal_row(6, "test suite (pytest), wall", suite["wall"] if suite else None,
                         "s", "<=", 90, detail=suite["summary"] if suite
                         else "not measured (use --suite)"))
    return rows


def render_goals(rows: list[dict]) -> str:
    """The goal table: measure | value | goal | met?"""
    def fmt(value, unit: str) -> str:
        if value is None:
            return "-"
        return {"x": f"{value:.2f}x", "s": f"{value:.2f} s", "GB": f"{value:.2f} GB",
                "bool": "yes" if value else "no"}[unit]

    table = [("measure", "value", "goal", "met?")]
    for r in rows:
        value = fmt(r["value"], r["unit"]) + (f" ({r['detail']})" if r.get("detail") else "")
        target = "same" if r["op"] == "same" else f"{r['op']} {fmt(r['target'], r['unit'])}"
        met = "-" if r["met"] is None else "yes" if r["met"] else "NO"
        table.append((f"{r['row']}. {r['measure']}", value, target, met))
    widths = [max(len(t[i]) for t in table) for i in range(4)]
    lines = [" | ".join(f"{c:<{w}}" for c, w in zip(t, widths, strict=True)).rstrip()
             for t in table]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


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
        add("figures: draw + save the PNG", fig["best"],
            note=f"(first {fig['first']:.3f}; not in total; notebooks 02, 04)")
    rows.append(("  reproduction check", "", "", comp["reproduction_summary"]))
    for i, rep in enumerate(res.get("pipeline_pairs") or [], 1):
        section(f"pipeline, repetition {i}: each run after its own floor (CPU: process tree)")
        for key, _, _ in SEQUENCE:
            ratio = rep.get(f"{key}_ratio")
            add(key, rep[key]["wall"], note=f"CPU {rep[key]['cpu']:.1f} s" + (
                f"; / floor: {ratio['wall']:.2f}x wall, {ratio['cpu']:.2f}x CPU" if ratio else ""))
            if i == 1 and key in PAIRS:
                steps = rep[key].get("manifest", {}).get("steps", {})
                for step, info in steps.items() if isinstance(steps, dict) else ():
                    note = ", ".join(f"{k} {v}" for k, v in info.items()
                                     if k in ("cache", "kernel_start", "cells"))
                    add(f"  {step}", info.get("seconds"), note=note)
    reg = res.get("registry")
    if reg:
        section(f"registry: full run on {reg['size']:,} patients ({reg['tools']}); MB = "
                "peak RSS per process")
        add("write the export", reg["export_seconds"])
        add("run (wall)", reg["wall"], reg["peak_bytes"] / 2**20,
            f"CPU {reg['cpu']:.0f} s; exit {reg['returncode']}; MB: sum over all processes")
        for label, mb in list(reg["per_process_peak_mb"].items())[:6]:
            add(f"  {label}", None, mb)
    if res.get("suite"):
        section(f"test suite: {res['suite']['summary']}; the slowest")
        for t in res["suite"]["slowest"]:
            add(f"{t['phase']} {t['test']}", t["seconds"])
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
                        help="skip the 1,000,000-patient size and every pipeline run "
                             "(rows 1-3 and 5)")
    parser.add_argument("--repeat", type=int, default=5, metavar="N",
                        help="floor/pipeline pairs of rows 1-3 (median of N; default 5)")
    parser.add_argument("--suite", action="store_true",
                        help="also time the test suite (row 6; minutes)")
    parser.add_argument("--rows", default=None, metavar="LIST",
                        help="measure only these goal rows, e.g. 1,5 (rows 1-3 are measured "
                             "together; default 1-5, and 6 with --suite)")
    parser.add_argument("--registry-size", type=int, default=REGISTRY_SIZE, metavar="N",
                        help="patients in the export of row 5 (default 100000)")
    parser.add_argument("--registry-timeout", type=int, default=REGISTRY_TIMEOUT, metavar="S",
                        help="stop the run of row 5 after S seconds (default 1200)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--label", default="",
                        help="free text saved with the figures (e.g. the commit of a snapshot)")
    args = parser.parse_args(argv)
    rows = set(ROWS) | ({6} if args.suite else set())
    if args.rows:
        rows = {int(r) for r in args.rows.split(",")}
    if args.quick:
        rows -= {1, 2, 3, 5}

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    res: dict = {"mode": "quick" if args.quick else "full", "label": args.label,
                 "rows": sorted(rows), "repeat": args.repeat, "machine": machine(),
                 "load_average_at_start": os.getloadavg()}
    def save() -> None:  # after every part, so a long run interrupted keeps what it measured
        res["goals"] = goals(res)
        res["benchmark_seconds"] = time.perf_counter() - started
        res["load_average_at_end"] = os.getloadavg()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")

    log("computation (best of 5) ...")
    res["computation"] = computation()
    if rows & {1, 2, 3}:
        log(f"pipeline against the floor, {args.repeat} repetitions ...")
        res["pipeline_pairs"] = pipeline_pairs(args.repeat, log)
        save()
    if 4 in rows or args.quick:
        res["scaling"] = scaling(SIZES[:2] if args.quick else SIZES, log)
        save()
    if 5 in rows:
        res["registry"] = registry_run(args.registry_size, log, args.registry_timeout)
        save()
    if 6 in rows:
        log("test suite ...")
        res["suite"] = suite_run()
    save()
    print(render_goals(res["goals"]) + "\n\n" + render(res))
    load = res["load_average_at_start"][0], res["load_average_at_end"][0]
    print(f"\nbenchmark took {res['benchmark_seconds']:.0f} s (load average {load[0]:.1f} at "
          f"start, {load[1]:.1f} at end, {res['machine']['cpus_usable']} CPUs); "
          f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
