"""Writing a run's bundle: its ``params.yaml``, the run notes the report includes (what
changed against the paper run, Appendix C), ``manifest.json``, the swap into place, and the
paper run's figures in the repository's ``figures/``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from analysis import paths
from analysis.params import Params, parameter_rows
from analysis.pipeline.plan import params_yaml
from analysis.runfolder import update_record

__all__ = ["write_params_file", "write_run_notes", "write_manifest", "move_into_place",
           "copy_paper_figures"]

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
    """The repository's ``figures/`` holds the paper run's figures in the print set (PNG,
    SVG, 300-dpi PNG, PDF; not those of test or variant runs): written by ``make figures``
    (``python -m analysis run --figures print``)."""
    figures = paths.FIGURES
    figures.mkdir(exist_ok=True)
    for figure in sorted((bundle / "figures").glob("*")):
        shutil.copy2(figure, figures / figure.name)


def write_run_notes(stage: Path, name: str, params: Params, provenance: dict,
                    paper_dir: Path, renderer: dict | None = None) -> None:
    """The run notes: the report's sections about the run's context, not its numbers — what
    changed against the paper run (variants; they read that run's folder), the provenance
    cards (a variant's show the paper run's value too) and Appendix C (parameters, input
    hashes, package versions, commit, the engine that renders the report and its version, how
    to re-run). Every input that comes from the run's own numbers is written by the collecting
    step (:func:`analysis.report.inputs.write_report_inputs`); no file is written by both."""
    import pandas as pd

    from analysis.files import write_atomic
    from analysis.report.markdown import markdown_table
    from analysis.report.provenance import save_provenance
    from analysis.report.variants import variant_changes_markdown, variant_markdown

    write_atomic(stage / "tables" / "variant.md", variant_markdown(stage, name, params, paper_dir))
    write_atomic(stage / "tables" / "variant_changes.md",
                 variant_changes_markdown(stage, name, params, paper_dir))
    # Every number's card in the HTML (issue 28); a variant's show the paper run's value too.
    save_provenance(stage, params, paper_dir if name != "paper" else None, name)
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


def move_into_place(stage: Path, final: Path) -> None:
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
