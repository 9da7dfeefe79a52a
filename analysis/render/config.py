"""Options of a render: ``_variables.yml``, the project's ``_quarto.yml`` and the document's
front matter, merged as Quarto merges them (project, then document; top level, then
``format: <name>``)."""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis.render.crossref import CROSSREF_DEFAULTS
from analysis.render.source import RenderError

_FRONT_MATTER_KEYS = ("title", "subtitle", "author", "date", "abstract", "lang")
_FORMAT_KEYS = (
    "toc",
    "toc-depth",
    "toc-title",
    "number-sections",
    "section-numbering",
    "papersize",
    "margin",
    "fontsize",
    "include-in-header",
    "tbl-colwidths",
    "reference-doc",
    "filters",
)
HTML_DEFAULTS = {"toc": True, "toc-depth": 3, "toc-title": "Table of contents",
                  "number-sections": True}
TYPST_DEFAULTS = {"toc": True, "toc-depth": 3, "number-sections": True}
DOCX_DEFAULTS = {"toc": True, "toc-depth": 2, "number-sections": True}


def read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML ({exc})") from exc


def load_variables(path: Path) -> dict[str, Any]:
    """Read ``_variables.yml``: a nested mapping, empty if the file does not exist.

    Parameters
    ----------
    path : Path
        The variables file.

    Returns
    -------
    dict
        The parsed mapping.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RenderError(f"{path}: must be a YAML mapping of names to values")
    return data


def split_front_matter(markdown: str, source: str) -> tuple[dict[str, Any], str]:
    import yaml

    m = re.match(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)", markdown, re.S)
    if not m:
        return {}, markdown
    try:
        meta = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as exc:
        raise RenderError(f"{source}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise RenderError(f"{source}: front matter must be a YAML mapping")
    return meta, markdown[m.end():]


def format_options(layers: Iterable[Mapping[str, Any]], fmt: str, defaults: dict) -> dict:
    """Merge Quarto options: project then document, top level then ``format: <fmt>``."""
    opts = dict(defaults)
    for layer in layers:
        opts.update({k: v for k, v in layer.items() if k in _FORMAT_KEYS})
        formats = layer.get("format")
        if isinstance(formats, Mapping) and isinstance(formats.get(fmt), Mapping):
            opts.update({k: v for k, v in formats[fmt].items() if k in _FORMAT_KEYS})
    return opts


def crossref_options(layers: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    opts = dict(CROSSREF_DEFAULTS)
    for layer in layers:
        cr = layer.get("crossref")
        if isinstance(cr, Mapping):
            opts.update({k: str(v) for k, v in cr.items() if k in CROSSREF_DEFAULTS})
    return opts


def _author_names(author: Any) -> list[str]:
    items = author if isinstance(author, list) else [author]
    names = []
    for item in items:
        if isinstance(item, Mapping):
            name = item.get("name", "")
            if isinstance(name, Mapping):
                name = name.get("literal") or " ".join(
                    str(name[k]) for k in ("given", "family") if name.get(k))
            names.append(str(name))
        elif item is not None:
            names.append(str(item))
    return names


def pandoc_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _FRONT_MATTER_KEYS:
        if meta.get(key) is None:
            continue
        value = meta[key]
        if key == "author":
            value = _author_names(value)
        elif key == "date":
            if str(value) in ("today", "now", "last-modified"):
                value = _dt.date.today()
            value = value.isoformat() if isinstance(value, _dt.date) else str(value)
        out[key] = value
    out.setdefault("lang", "en")  # Quarto's default; sets <html lang> for screen readers
    return out


def pdf_timestamp(meta: Mapping[str, Any]) -> int | None:
    """Creation time for a reproducible PDF: SOURCE_DATE_EPOCH, else an ISO ``date``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    date = meta.get("date")
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            return None
    if isinstance(date, _dt.date):
        when = _dt.datetime(date.year, date.month, date.day, tzinfo=_dt.UTC)
        return int(when.timestamp())
    return None



def header_includes(opts: Mapping[str, Any], base: Path, fmt: str) -> str:
    """The text of a format's ``include-in-header`` (Quarto's option): a file path, ``{text:
    ...}``, ``{file: ...}``, or a list of these, in order; paths relative to ``base``.

    Raises
    ------
    RenderError
        A named file does not exist, or an entry is of another kind.
    """
    entries = opts.get("include-in-header") or []
    if not isinstance(entries, list):
        entries = [entries]
    parts = []
    for entry in entries:
        if isinstance(entry, Mapping) and "text" in entry:
            parts.append(str(entry["text"]))
            continue
        name = entry.get("file") if isinstance(entry, Mapping) else entry
        if not isinstance(name, str):
            raise RenderError(f"format: {fmt}: include-in-header: expected a file name, "
                              f"{{text: ...}} or {{file: ...}}, got {entry!r}")
        path = base / name
        if not path.is_file():
            raise RenderError(f"format: {fmt}: include-in-header: file '{name}' not found "
                              f"(looked for {path})")
        parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _project_file(base: Path, name: Any, fmt: str, option: str) -> Path:
    if not isinstance(name, str) or not name:
        raise RenderError(f"format: {fmt}: {option}: expected a file name, got {name!r}")
    path = base / name
    if not path.is_file():
        raise RenderError(f"format: {fmt}: {option}: file '{name}' not found (looked for {path})")
    return path


def filter_args(opts: Mapping[str, Any], base: Path, fmt: str) -> list[str]:
    """pandoc arguments for Quarto's ``filters`` (Lua files, or ``{path: ..., at: ...}``) and,
    for docx, ``reference-doc``; paths relative to ``base``.

    The stand-in resolves Quarto's own syntax (shortcodes, cross-references, callouts) before
    pandoc runs, so every filter sees the document as Quarto's filters leave it: an entry point
    (``at: post-render``) changes nothing here. Only Lua filters are supported.

    Raises
    ------
    RenderError
        A named file does not exist, or a filter is not a ``.lua`` file.
    """
    entries = opts.get("filters") or []
    if not isinstance(entries, list):
        entries = [entries]
    args = []
    for entry in entries:
        name = entry.get("path") if isinstance(entry, Mapping) else entry
        path = _project_file(base, name, fmt, "filters")
        if path.suffix != ".lua":
            raise RenderError(f"format: {fmt}: filters: '{name}': the pip-only renderer runs "
                              "Lua filters only")
        args.append(f"--lua-filter={path}")
    if fmt == "docx" and opts.get("reference-doc"):
        path = _project_file(base, opts["reference-doc"], fmt, "reference-doc")
        args.append(f"--reference-doc={path}")
    return args
