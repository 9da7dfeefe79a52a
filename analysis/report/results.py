"""The home of ``results.json``: every computed number of a run, keyed as ``data/published``.

Each step of the run saves its numbers as a fragment (``results/<step>.json``); the
reproduction step merges the fragments and writes ``results.json`` with the run's parameters
and the value of every published number. The numbers themselves are computed where their rule
lives (:mod:`analysis.results` for the text's rates, :func:`analysis.tables.table_results`,
:func:`analysis.doses.dose_results`, the sensitivity analysis); this module only collects them,
so a key computed twice is caught here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.files import write_atomic
from analysis.params import Params

__all__ = ["save_fragment", "load_fragments", "results_payload", "write_results"]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value


def save_fragment(run_dir: Path, step: str, values: dict[str, Any]) -> Path:
    """Save one step's computed numbers (keys as in ``data/published``) for the reproduction."""
    clean = {key: _clean(v) for key, v in sorted(values.items())}
    text = json.dumps(clean, indent=1, sort_keys=True, allow_nan=False) + "\n"
    return write_atomic(Path(run_dir) / "results" / f"{step}.json", text)


def load_fragments(run_dir: Path) -> dict[str, Any]:
    """Merge every step's fragment; a key computed twice must agree.

    Raises
    ------
    ValueError
        Two fragments give one key different values (names the fragment and the key).
    """
    merged: dict[str, Any] = {}
    for path in sorted((Path(run_dir) / "results").glob("*.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged and merged[key] != value:
                raise ValueError(f"{path.name}: key {key!r} disagrees with another step")
            merged[key] = value
    return merged


def results_payload(results: dict[str, Any], published: pd.DataFrame, params: Params,
                    run_name: str) -> dict[str, Any]:
    """What ``results.json`` holds: the run, its parameters, every number sorted by key, and
    the value of each published number by its id (``None`` where not computed)."""
    by_id = {rec["id"]: results.get(rec["key"]) for rec in published.to_dict("records")}
    return {"run": run_name, "parameters": params.to_dict(),
            "numbers": dict(sorted(results.items())), "published_ids": by_id}


def write_results(run_dir: Path, results: dict[str, Any], published: pd.DataFrame,
                  params: Params, run_name: str) -> Path:
    """Write ``results.json`` (one-space indent, keys in the payload's order, no NaN)."""
    payload = results_payload(results, published, params, run_name)
    return write_atomic(Path(run_dir) / "results.json",
                        json.dumps(payload, indent=1, sort_keys=False, allow_nan=False) + "\n")
