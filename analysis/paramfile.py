"""Reading a parameter file (``--params FILE``, a run's ``params.yaml``) safely.

Issue 13, item 4: a 401-byte file whose value was a YAML alias bomb took minutes and gigabytes,
and PyYAML reads YAML 1.1, where ``1e4`` is a string and ``1:30`` the number 90. A parameter
file is a flat mapping of names to scalars (a few short mappings and lists at most), so:

- a file over :data:`MAX_BYTES` is refused before it is parsed;
- the YAML *events* are scanned first (:func:`yaml.parse`: no document is built) and anchors
  (``&name``), aliases (``*name``), duplicated keys and nesting deeper than :data:`MAX_DEPTH`
  are refused, naming the file, line and key, before anything is expanded;
- scalars are resolved as YAML 1.2's core schema does (:class:`Core12Loader`): ``1e4`` is a
  number, ``1:30``, ``yes`` and ``1_000`` are strings, ``010`` is ten.

PyYAML (already a dependency) reads YAML 1.1 only; ``ruamel.yaml`` reads 1.2 but would be a
second YAML library for one file type, and it too expands aliases. The 1.2 core schema's
scalar rules are four regular expressions (YAML 1.2.2, section 10.3.2), given below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import ParameterError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Core12Loader", "read_parameter_file", "load_scalar"]

#: A parameter file lists a few dozen names; 64 KiB is hundreds of times that.
MAX_BYTES = 64 * 1024
#: Names map to scalars, or to a mapping of rows to tests or of axes to lists: depth 3.
MAX_DEPTH = 4


class Core12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's implicit types (bool, int, float,
    null) instead of YAML 1.1's; explicit tags (``!!str``) work as before."""

    yaml_implicit_resolvers: dict = {}

    def construct_yaml_int(self, node):  # noqa: D102 (YAML 1.2: 010 is ten, 0o10 eight)
        text = self.construct_scalar(node)
        return int(text, 0) if text.startswith(("0o", "0x")) else int(text, 10)


Core12Loader.add_constructor("tag:yaml.org,2002:int", Core12Loader.construct_yaml_int)
for _tag, _pattern, _first in (
        ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
        ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+0123456789."),
        ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""])):
    Core12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}",
                                       re.compile(f"^(?:{_pattern})$"), list(_first))


@dataclass
class _Frame:
    """One open mapping or sequence while scanning events."""

    mapping: bool
    key: str | None = None
    expecting_key: bool = True
    keys: dict[str, int] = field(default_factory=dict)


def _where(path: str | Path, event: yaml.Event, stack: list[_Frame]) -> str:
    keys = [f.key for f in stack if f.mapping and f.key is not None and not f.expecting_key]
    key = f", key {'.'.join(keys)!r}" if keys else ""
    return f"{path}, line {event.start_mark.line + 1}{key}"


def _scan(text: str, path: str | Path) -> dict[str, int]:
    """Check the events of ``text``; return the line of each top-level key.

    Raises
    ------
    ParameterError naming the file, line and key of an anchor, an alias, a duplicated key or
    too deep a nesting.
    """
    stack: list[_Frame] = []
    lines: dict[str, int] = {}
    for event in yaml.parse(text, Loader=Core12Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ParameterError(
                f"{_where(path, event, stack)}: YAML anchors and aliases (&name, *name) are "
                "not allowed in a parameter file; write each value out")
        top = stack[-1] if stack else None
        is_key = top is not None and top.mapping and top.expecting_key
        if is_key and isinstance(event, yaml.CollectionStartEvent):
            raise ParameterError(f"{_where(path, event, stack)}: a key must be a plain name")
        if is_key and isinstance(event, yaml.ScalarEvent):
            if event.value in top.keys:
                raise ParameterError(f"{path}, line {event.start_mark.line + 1}: key "
                                     f"{event.value!r} appears twice (first on line "
                                     f"{top.keys[event.value]}); keep one")
            top.keys[event.value] = event.start_mark.line + 1
            if len(stack) == 1:
                lines[event.value] = event.start_mark.line + 1
            top.key, top.expecting_key = event.value, False
        elif isinstance(event, yaml.ScalarEvent) and top is not None and top.mapping:
            top.expecting_key = True  # a scalar value: the next scalar is a key
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append(_Frame(mapping=isinstance(event, yaml.MappingStartEvent)))
            if len(stack) > MAX_DEPTH:
                raise ParameterError(f"{_where(path, event, stack)}: nested deeper than "
                                     f"{MAX_DEPTH} levels; a parameter file maps names to "
                                     "values, rows to tests or axes to lists")
        elif isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            if stack and stack[-1].mapping:
                stack[-1].expecting_key = True  # the collection was this key's value
    return lines


def read_parameter_file(path: str | Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a parameter file safely (see the module's docstring).

    Returns
    -------
    The mapping of names to values (``{}`` for an empty file) and the line of each name.

    Raises
    ------
    ParameterError naming the file (and line and key where there is one).
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: parameter file not found")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ParameterError(f"{path}: {size} bytes is too large for a parameter file (at most "
                             f"{MAX_BYTES}; a parameter file lists a few dozen names); is it "
                             "the right file?")
    with open(path, "rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    try:
        text = raw.decode("utf-8")
        lines = _scan(text, path)
        data = yaml.load(text, Loader=Core12Loader)  # noqa: S506 (a SafeLoader subclass)
    except UnicodeDecodeError:
        raise ParameterError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParameterError(f"{path}{where}: not a valid YAML file "
                             f"({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not a valid YAML file ({exc})") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ParameterError(_not_a_mapping(path, text, data))
    return data, lines


def _not_a_mapping(path: str | Path, text: str, data: Any) -> str:
    """The message for a file that is not ``name: value`` lines, naming the line; the
    commonest slip, ``name:value`` without a space (YAML reads it as one word), is said.

    >>> _not_a_mapping("lab.yaml", "# comment\\nild_criteria_required:1\\n",
    ...                "ild_criteria_required:1")  # doctest: +NORMALIZE_WHITESPACE
    "lab.yaml, line 2: 'ild_criteria_required:1' is not a 'name: value' line; write a space
    after the colon: 'ild_criteria_required: 1'"
    """
    node = yaml.compose(text, Loader=Core12Loader)
    line = node.start_mark.line + 1 if node is not None else 1
    first = text.splitlines()[line - 1].strip() if text.splitlines() else ""
    name, colon, value = first.partition(":")
    if isinstance(data, str) and colon and value and not value.startswith(" "):
        return (f"{path}, line {line}: {first!r} is not a 'name: value' line; write a space "
                f"after the colon: '{name}: {value}'")
    return (f"{path}, line {line}: expected lines of 'name: value' (a parameter name, a colon "
            f"and a space, its value), got {first!r}")


def load_scalar(text: str, origin: str = "-p") -> Any:
    """One value of ``-p name=value``, read as the parameter file's values are (``origin``
    names it in messages).

    >>> load_scalar("1e4"), load_scalar("1:30"), load_scalar("yes"), load_scalar("010")
    (10000.0, '1:30', 'yes', 10)
    """
    if len(text) > 1000:
        raise ParameterError(f"value of {len(text)} characters is too long for a parameter")
    _scan(text, origin)  # the same refusals (anchors, aliases, depth)
    return yaml.load(text, Loader=Core12Loader)  # noqa: S506 (a SafeLoader subclass)
