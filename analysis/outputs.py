"""Writing a run's artifacts: tables (CSV + Markdown), result fragments, variables.

Only aggregates are written here; nothing patient-level ever reaches a run's bundle. Every file
is written to a temporary name and renamed, so a reader never sees half a file, and the bytes
are deterministic (fixed float format, sorted JSON keys, ``\\n`` line endings).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["write_text", "save_table", "save_fragment", "load_fragments", "markdown_table"]


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)
    return path


def markdown_table(frame: pd.DataFrame, caption: str | None = None, label: str | None = None,
                   notes: str | None = None) -> str:
    """A pipe table with a Quarto caption line ``: Caption {#tbl-label}`` and notes below.

    >>> print(markdown_table(pd.DataFrame({"a": ["1"], "p": ["0.34"]}), "Demo", "tbl-demo"))
    | a   |    p |
    |:----|-----:|
    | 1   | 0.34 |
    <BLANKLINE>
    : Demo {#tbl-demo}
    <BLANKLINE>
    """
    from tabulate import tabulate

    align = ["left"] + ["right"] * (frame.shape[1] - 1)
    body = tabulate(frame.astype(str).values.tolist(), headers=list(frame.columns),
                    tablefmt="pipe", colalign=align, disable_numparse=True)
    parts = [body, ""]
    if caption:
        parts += [f": {caption}" + (f" {{#{label}}}" if label else ""), ""]
    if notes:
        parts += [notes, ""]
    return "\n".join(parts)


def save_table(run_dir: Path, stem: str, numeric: pd.DataFrame,
               formatted: pd.DataFrame | None = None, caption: str | None = None,
               label: str | None = None, notes: str | None = None) -> list[Path]:
    """Save ``tables/<stem>.csv`` (numbers, full precision) and ``tables/<stem>.md`` (layout)."""
    folder = Path(run_dir) / "tables"
    csv_text = numeric.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    paths = [write_text(folder / f"{stem}.csv", csv_text)]
    shown = formatted if formatted is not None else numeric
    paths.append(write_text(folder / f"{stem}.md", markdown_table(shown, caption, label, notes)))
    return paths


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
    return write_text(Path(run_dir) / "results" / f"{step}.json", text)


def load_fragments(run_dir: Path) -> dict[str, Any]:
    """Merge every step's fragment; a key computed twice must agree."""
    merged: dict[str, Any] = {}
    for path in sorted((Path(run_dir) / "results").glob("*.json")):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged and merged[key] != value:
                raise ValueError(f"{path.name}: key {key!r} disagrees with another step")
            merged[key] = value
    return merged
