"""What a run computes before anything executes: the steps, each step's cache key (by what
it reads, :mod:`analysis.steps`), the parameters' text and the provenance (input hashes,
package versions, commit). Nothing here writes a file or starts a process but ``git``.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from analysis import paths
from analysis.files import file_digest
from analysis.params import Params, params_subset, step_parameters
from analysis.steps import COHORT, RESPONSE_GROUPS, SWEEP

__all__ = ["ROOT", "DEFAULT_DATA", "PUBLISHED", "INDEPENDENT", "COLLECT", "NOTEBOOKS",
           "BY_COST", "Plan", "plan_run", "params_yaml", "git_commit", "commit_epoch",
           "package_versions", "input_hashes", "published_hashes"]

#: The repository, the default data and the printed numbers (:mod:`analysis.paths`); module
#: names so that a test can point one run elsewhere (``monkeypatch.setattr``).
ROOT, DEFAULT_DATA, PUBLISHED = paths.ROOT, paths.RAW, paths.PUBLISHED


#: Steps that only read the data: independent, run side by side and cached.
INDEPENDENT = ("01_cohort.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
               "05_sensitivity.ipynb")


#: The step that collects every other step's numbers (the reproduction); it always runs.
COLLECT = "06_reproduction.ipynb"


NOTEBOOKS = (*INDEPENDENT, COLLECT)


#: The independent steps, longest first (time in cells, measured), so that with several
#: kernels the last one to start is short.
BY_COST = ("05_sensitivity.ipynb", "02_flow.ipynb", "03_tables.ipynb", "04_tapers.ipynb",
           "01_cohort.ipynb")


PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill",
            "pandera", "pypandoc-binary", "typst", "jupyterlab", "ipykernel", "pyyaml")


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


def params_yaml(params: Params) -> str:
    """The text of a run's ``params.yaml``: every parameter, the paper's included."""
    import yaml

    return yaml.safe_dump(params.to_dict(), sort_keys=False)


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
    def cohort_dir(self) -> Path | None:
        """Where step 01's output, the validated export (:mod:`analysis.schema.kept`), is
        kept by step 01's key (``None`` without cache: the run keeps it in its staging
        folder)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / "cohort" / self.keys[f"{COHORT}.ipynb"]

    @property
    def groups_file(self) -> Path | None:
        """Where the response groups (:data:`analysis.steps.RESPONSE_GROUPS`) are kept by
        their key (``None`` without cache: the run keeps them in its staging folder)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / RESPONSE_GROUPS / f"{self.keys[RESPONSE_GROUPS]}.pickle"

    @property
    def sweep_file(self) -> Path | None:
        """Where the sweep over the sensitivity grid is kept (:data:`analysis.steps.SWEEP`;
        ``None`` without cache): step 05 reads it when it is there, else computes and keeps
        it (:func:`analysis.files.stored`)."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / SWEEP / f"{self.keys[SWEEP]}.pickle"


def plan_run(name: str, params: Params, data_dir: Path, notebooks_dir: Path,
             cache_dir: Path | None, sheet: str | None = None,
             figures: str = "report") -> Plan:
    """Parameters, provenance and cache keys of a run (no file is written): each step's key
    holds what it reads (:mod:`analysis.steps`). The Excel sheet, when one is named, is part
    of what the data steps read, so it joins their keys (an unnamed sheet leaves the keys as
    they were); so does the print set of figures (``figures="print"``: more files from the
    steps that draw figures, 02-05; the report's set leaves the keys as they were)."""
    from analysis import stepcache, steps

    data, published = input_hashes(data_dir), published_hashes()
    provenance = {"git_commit": git_commit(), "inputs": {**data, **published},
                  "packages": package_versions()}
    package = stepcache.package_digest(ROOT)
    keys: dict[str, str] = {}
    for stem in steps.READS:  # declared in order: after the steps whose outputs it reads
        step = _step_name(stem)
        reads = steps.reads(step)
        notebook = notebooks_dir / step if step.endswith(".ipynb") else None
        inputs = {**(data if reads.data else {}), **(published if reads.published else {})}
        extra = {"sheet": sheet} if sheet and reads.data else {}
        if figures != "report" and reads.figures:
            extra["figures"] = figures
        if step == COLLECT:
            extra["run"] = name
        keys[step] = stepcache.step_key(
            Path(step).stem, params_subset(params, step_parameters(step, params)), inputs,
            stepcache.code_key(package, ROOT, notebook),
            {after: keys[_step_name(after)] for after in reads.after}, extra)
    return Plan(params_yaml(params), provenance, keys, cache_dir)


def _step_name(stem: str) -> str:
    """A step's name in :attr:`Plan.keys` (the notebook's file name, or ``sweep``,
    ``groups``)."""
    return stem if stem in (SWEEP, RESPONSE_GROUPS) else f"{stem}.ipynb"
