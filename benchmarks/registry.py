"""Registry scale: a large export built from the bundled cohort, and peak memory over a
process tree.

Two reusable pieces for ``benchmarks/run.py`` (issue 17, row 5; issue 13, item 6):

- :func:`write_registry_export` writes an export folder of ``n`` patients in the project's
  export format (``patients.csv``, ``assessments.csv``, ``doses.csv``), by resampling the
  bundled cohort's patients with replacement (seeded) and giving each copy a new id; every
  assessment and dose record of a patient is copied with it, so each copy is a valid patient.
- :func:`peak_rss_of` runs a command (a subprocess) or a callable (in this process) and
  samples, every ~50 ms in a thread, the summed resident memory (RSS) of the process and all
  its descendants (notebook kernels, renderers): the peak of that sum is the run's peak
  memory "over all processes".

Run as a script to measure one full run at a size::

    .venv/bin/python benchmarks/registry.py --size 100000 [--keep DIR]

which writes the export, runs ``python -m analysis run --name big --data DIR --no-cache``
under :func:`peak_rss_of`, and prints one JSON line (seconds, peak GB, per-process peaks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from analysis import paths

ROOT, DATA = paths.ROOT, paths.RAW
TABLES = ("patients", "assessments", "doses")
SEED = 2017

__all__ = ["write_registry_export", "add_extra_columns", "peak_rss_of", "PeakMemory",
           "process_tree_rss",
           "run_registry", "profile_notebook"]


def write_registry_export(n: int, out_dir: str | Path, seed: int = SEED,
                          source: str | Path = DATA, prefix: str = "R") -> Path:
    """Write an export of ``n`` patients resampled from ``source`` (default ``data/raw``).

    Patients are drawn with replacement from all screened patients of ``source`` (excluded
    ones too, so the flow's exclusions scale with the cohort) by
    ``numpy.random.default_rng(seed)``; the ``k``-th drawn patient is re-labelled
    ``{prefix}{k:07d}`` and all their rows of ``assessments`` and ``doses`` are copied with the
    new id, in the same order. Cells are copied as text (read with ``dtype=str`` and no NA
    parsing), so every spelling and blank is the source's. Deterministic: the same ``n``,
    ``seed`` and source give the same bytes.

    Parameters
    ----------
    n : number of patients to write.
    out_dir : folder to write into (created; existing files of the three tables replaced).
    seed : seed of the resampling.
    source : an export folder of CSV files (default: the bundled synthetic cohort).
    prefix : first characters of the new patient ids.

    Returns
    -------
    ``out_dir`` as a Path.
    """
    import numpy as np
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw = {t: pd.read_csv(Path(source) / f"{t}.csv", dtype=str, keep_default_na=False)
           for t in TABLES}
    patients = raw["patients"]
    drawn = np.random.default_rng(seed).integers(0, len(patients), n)
    new_ids = np.array([f"{prefix}{k:07d}" for k in range(1, n + 1)], dtype=object)
    big = patients.iloc[drawn].reset_index(drop=True)
    big["patient_id"] = new_ids
    big.to_csv(out / "patients.csv", index=False)
    source_pos = {pid: i for i, pid in enumerate(patients["patient_id"])}
    for table in ("assessments", "doses"):
        frame = raw[table]
        owner = frame["patient_id"].map(source_pos).to_numpy(dtype=np.int64)
        order = np.argsort(owner, kind="stable")  # each patient's rows, in file order
        counts = np.bincount(owner, minlength=len(patients))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        per_copy = counts[drawn]
        total = int(per_copy.sum())
        copy_of_row = np.repeat(np.arange(n), per_copy)
        first_row = np.repeat(np.cumsum(per_copy) - per_copy, per_copy)
        within = np.arange(total) - first_row
        rows = order[np.repeat(starts[drawn], per_copy) + within]
        copied = frame.iloc[rows].reset_index(drop=True)
        copied["patient_id"] = new_ids[copy_of_row]
        copied.to_csv(out / f"{table}.csv", index=False)
    return out


# ----------------------------------------------------------------- peak memory
def process_tree_rss(pid: int) -> dict[int, tuple[str, int]]:
    """Resident memory of ``pid`` and every descendant: ``{pid: (name, rss bytes)}``.

    Uses ``psutil`` (already installed: ipykernel depends on it, pinned in
    ``requirements.lock``); processes that end while being read are skipped.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    out = {}
    for proc in procs:
        try:
            out[proc.pid] = (_describe(proc), proc.memory_info().rss)
        except psutil.Error:
            continue
    return out


def _describe(proc) -> str:
    """A short label of a process: its name, or the notebook kernel / module it runs."""
    try:
        cmd = proc.cmdline()
    except Exception:  # noqa: BLE001 (psutil.Error or gone: the name is enough)
        return proc.name()
    for flag in ("-m", "-c"):
        if flag in cmd[:3]:
            i = cmd.index(flag)
            return " ".join(cmd[i:i + 2])[:60]
    return " ".join(Path(c).name for c in cmd[:2])[:60] or proc.name()


@dataclass
class PeakMemory:
    """What :func:`peak_rss_of` measured.

    ``peak_bytes`` is the largest sum of RSS over the process tree seen at one sample;
    ``per_process_peak`` each process's own largest RSS (label -> bytes; labels of processes
    with the same label are numbered); ``seconds`` the wall time; ``samples`` how many
    samples were taken; ``returncode`` (command) or ``result`` (callable) what it gave.
    """

    peak_bytes: int = 0
    seconds: float = 0.0
    samples: int = 0
    per_process_peak: dict[str, int] = field(default_factory=dict)
    returncode: int | None = None
    result: object = None
    stdout: str = ""
    stderr: str = ""

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 1e9

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("result")
        out["peak_gb"] = round(self.peak_gb, 3)
        return out


def peak_rss_of(target: Sequence[str] | Callable[[], object], interval: float = 0.05,
                cwd: str | Path | None = None, env: dict | None = None) -> PeakMemory:
    """Run ``target`` and sample the summed RSS of its process tree every ``interval`` s.

    Parameters
    ----------
    target : a command (list of arguments, run with :func:`subprocess.Popen`; the tree is
        that process and its descendants) or a callable (called in this process; the tree is
        this process and its descendants, e.g. the notebook kernels a pipeline run starts;
        memory this process held before the call counts too).
    interval : seconds between samples (a thread reads ``/proc`` through psutil).
    cwd, env : for a command.

    Returns
    -------
    :class:`PeakMemory`. A short-lived peak between two samples can be missed; the sum
    counts memory shared between processes (libraries, copy-on-write pages) once per process,
    so it is an upper bound of the machine's use.
    """
    record = PeakMemory()
    labels: dict[int, str] = {}
    done = threading.Event()

    def sample(pid: int) -> None:
        while True:
            tree = process_tree_rss(pid)
            record.samples += 1
            record.peak_bytes = max(record.peak_bytes, sum(rss for _, rss in tree.values()))
            for child, (name, rss) in tree.items():
                if child not in labels:
                    same = sum(1 for v in labels.values() if v.split(" #")[0] == name)
                    labels[child] = f"{name} #{same + 1}" if same else name
                key = labels[child]
                record.per_process_peak[key] = max(record.per_process_peak.get(key, 0), rss)
            if done.wait(interval):
                return

    started = time.perf_counter()
    if callable(target):
        thread = threading.Thread(target=sample, args=(os.getpid(),), daemon=True)
        thread.start()
        try:
            record.result = target()
        finally:
            done.set()
            thread.join()
    else:
        proc = subprocess.Popen(list(target), cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        thread = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        thread.start()
        try:
            record.stdout, record.stderr = proc.communicate()
        finally:
            done.set()
            thread.join()
        record.returncode = proc.returncode
    record.seconds = time.perf_counter() - started
    return record


def add_extra_columns(folder: str | Path, count: int, table: str = "patients") -> None:
    """Append ``count`` columns the codebook does not know (``extra_1`` ...) to ``table``,
    each cell a short code as a registry's own fields hold (issue 23: a real export carries
    thousands of them). Written line by line: the file is never held as a frame."""
    path = Path(folder) / f"{table}.csv"
    partial = path.with_suffix(".tmp")
    header = "".join(f",extra_{i + 1}" for i in range(count))
    row = ",0" * count
    with open(path, encoding="utf-8") as source, open(partial, "w", encoding="utf-8") as out:
        out.write(source.readline().rstrip("\n") + header + "\n")
        for line in source:
            out.write(line.rstrip("\n") + row + "\n")
    os.replace(partial, path)


def run_registry(size: int = 100_000, seed: int = SEED, keep: Path | None = None,
                 extra: Sequence[str] = ("--to", "html,pdf,docx"),
                 extra_columns: int = 0) -> dict:
    """Write a ``size``-patient export and time a full ``--no-cache`` run on it in a fresh
    ``python -m analysis`` process under :func:`peak_rss_of`.

    Returns a dict: ``size``, ``seconds``, ``peak_gb``, ``per_process_peak_mb``, ``returncode``
    and the run's last output lines (its per-step log). The export and the runs folder are in
    a temporary folder, removed afterwards unless ``keep`` is given.
    """
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ma-ild-registry-"))
    try:
        data = write_registry_export(size, tmp / "export", seed)
        if extra_columns:
            add_extra_columns(data, extra_columns)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        cmd = [sys.executable, "-m", "analysis", "run", "--name", "big", "--data", str(data),
               "--no-cache", "--runs-dir", str(tmp / "runs"), *extra]
        measured = peak_rss_of(cmd, cwd=ROOT, env=env)
        return {"size": size, "extra_columns": extra_columns,
                "seconds": round(measured.seconds, 2),
                "peak_gb": round(measured.peak_gb, 3), "samples": measured.samples,
                "per_process_peak_mb": {k: round(v / 2**20, 1) for k, v in sorted(
                    measured.per_process_peak.items(), key=lambda kv: -kv[1])},
                "returncode": measured.returncode,
                "log": (measured.stdout + measured.stderr).strip().splitlines()[-30:]}
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _hwm_reset() -> int:
    """Reset this process's RSS high-water mark; return the current RSS (bytes)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return _status("VmRSS")


def _status(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def profile_notebook(name: str, data_dir: str | Path, run_dir: str | Path,
                     params_file: str | Path | None = None) -> list[dict]:
    """Run one step notebook's code cells in this process, cell by cell, as papermill would
    (its parameters cell, then ``data_dir``, ``run_dir``, ``params_file``, ``published_dir``
    and ``run_name`` set), and measure each cell: wall seconds and the RSS it added at its
    peak (``/proc/self/clear_refs`` high-water mark above the RSS before the cell).

    Returns one dict per code cell: ``cell`` (index), ``first_line``, ``seconds``,
    ``peak_mb`` (above the RSS before the cell), ``rss_mb`` (the process's RSS after it).
    Linux only. The notebook's own imports are paid in its first cells.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if params_file is None:
        from analysis.params import Params
        from analysis.pipeline import write_params_file

        write_params_file(run_dir, Params())
        params_file = run_dir / "params.yaml"
    book = json.loads((paths.NOTEBOOKS / name).read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__main__"}
    injected = {"data_dir": str(data_dir), "run_dir": str(run_dir),
                "params_file": str(params_file), "published_dir": str(paths.PUBLISHED),
                "run_name": "profile"}
    out = []
    cwd = os.getcwd()
    os.chdir(paths.NOTEBOOKS)
    try:
        for i, cell in enumerate(book["cells"]):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            base = _hwm_reset()
            started = time.perf_counter()
            exec(compile(source, f"{name}[{i}]", "exec"), namespace)  # noqa: S102
            seconds = time.perf_counter() - started
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                namespace.update(injected)
            out.append({"cell": i, "first_line": next((line for line in source.splitlines()
                                                      if line and not line.startswith("#")),
                                                     "")[:70],
                        "seconds": round(seconds, 3),
                        "peak_mb": round((_status("VmHWM") - base) / 2**20, 1),
                        "rss_mb": round(_status("VmRSS") / 2**20, 1)})
    finally:
        os.chdir(cwd)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--keep", type=Path, help="keep the export and run in this folder")
    parser.add_argument("--to", default="html,pdf,docx", help="formats (or none)")
    parser.add_argument("--write-only", type=Path, metavar="DIR",
                        help="only write the export into DIR")
    parser.add_argument("--profile", metavar="NOTEBOOK",
                        help="profile one notebook cell by cell on --data (in this process)")
    parser.add_argument("--data", type=Path, help="export folder for --profile")
    parser.add_argument("--extra-columns", type=int, default=0, metavar="N",
                        help="add N columns the codebook does not know to patients.csv")
    args = parser.parse_args(argv)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="ma-ild-profile-") as tmp:
            for rec in profile_notebook(args.profile, args.data, tmp):
                print(json.dumps(rec))
        return 0
    if args.write_only:
        write_registry_export(args.size, args.write_only, args.seed)
        print(args.write_only)
        return 0
    print(json.dumps(run_registry(args.size, args.seed, args.keep, ("--to", args.to),
                                  args.extra_columns), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
