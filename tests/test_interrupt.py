"""Never lose a run: a killed run leaves the previous bundle of that name byte for byte as it
was, and the next run leaves no staging or swap folder behind.

The end-to-end test runs ``python -m analysis run`` as a subprocess and signals it at fixed
points of its progress, read from its stdout (no random delay): SIGTERM while the step-1
notebooks execute (the CLI turns it into an interrupt, so the staging folder is removed on the
way out), and SIGKILL while the collecting step 06 executes (nothing can catch it, so its
leftovers are tidied by the next run, :func:`analysis.runfolder.clean_stale`, from the run's
record; its unit tests are in test_runfolder.py). The runs share
the session's folder with the paper run, so steps unchanged since that run come from its cache.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analysis import paths
from analysis.pipeline import BY_COST

ROOT = paths.ROOT
NAME = "keep"


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(runs: Path) -> list[str]:
    return sorted(p.name for p in runs.glob(f".{NAME}.*"))


class Run:
    """``python -m analysis run`` in its own process group, stdout read line by line."""

    def __init__(self, runs: Path, *overrides: str):
        args = [arg for item in overrides for arg in ("-p", item)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "analysis", "run", "--name", NAME, "--runs-dir", str(runs),
             "--to", "none", "--jobs", "4", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, marker: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            if line.startswith(marker):
                return
        raise AssertionError(f"never saw {marker!r}:\n{''.join(self.output)}")

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        while (line := self.lines.get(timeout=10)) is not None:
            self.output.append(line)
        return code

    def reap(self) -> None:
        """End what the run started (its kernels), which a SIGKILL leaves orphaned."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


#: Where each signal is sent: after the first line starting with the marker, plus a fixed
#: second so that the step's kernel has started. SIGTERM: a parameter unseen in this folder
#: (alpha = 0.051, harmless) makes every step-1 notebook execute (the mark: the first one
#: queued, so the signal lands while step 1 runs); SIGKILL: the paper's
#: parameters, so step 1 is reused from the paper run's cache and the kill lands in step 06.
KILLS = ((signal.SIGTERM, ("alpha=0.051",), f"  - {BY_COST[0]}: running"),
         (signal.SIGKILL, (), "  - 06_reproduction.ipynb: running"))


@pytest.mark.slow
def test_killed_runs_keep_the_previous_bundle(paper_run: Path):
    runs = paper_run.parent
    bundle = runs / NAME
    shutil.copytree(paper_run, bundle)  # the previous bundle: a complete run, report included
    before = tree_digest(bundle)
    manifest = (bundle / "manifest.json").read_bytes()
    assert {"results.json", "report.pdf", "notebooks/06_reproduction.ipynb"} <= set(before)

    for sig, overrides, marker in KILLS:
        run = Run(runs, *overrides)
        run.wait_for(marker)
        time.sleep(1.0)
        run.proc.send_signal(sig)
        code = run.finish()
        run.reap()
        context = f"{sig.name} after {marker.strip()!r}:\n{''.join(run.output)}"
        assert (bundle / "manifest.json").read_bytes() == manifest, context
        assert tree_digest(bundle) == before, context
        if sig == signal.SIGTERM:
            assert code == 143, context
            assert "interrupted: the previous bundle is untouched" in run.output[-1], context
            assert leftovers(runs) == [], context  # cleaned on the way out
        else:
            assert code == -signal.SIGKILL, context
            # Nothing can clean up after SIGKILL: the staging folder stays until the next run.
            assert [n.split("-")[0] for n in leftovers(runs)] == [f".{NAME}.tmp"], context

    last = Run(runs)  # the paper's parameters again: step 1 from the cache, then 05
    assert last.finish() == 0, "".join(last.output)
    last.reap()
    assert leftovers(runs) == [], "".join(last.output)
    assert (bundle / "manifest.json").read_bytes() != manifest  # the new run replaced it
    assert "results.json" in tree_digest(bundle) and not (bundle / "report.pdf").exists()
    shutil.rmtree(bundle)
