"""The codebook: every column of the export, its type, unit, range and accepted spellings.

``data/raw/codebook.csv`` is the single source of truth for reading and checking an export
(:mod:`analysis.schema.rules`) and for the blank template (:mod:`analysis.template`).
(Sharma 2017, Materials and Methods: chart review of clinical characteristics.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import DataValidationError

__all__ = ["Codebook", "Cohort", "load_codebook", "TABLES", "SUFFIXES", "TIMEPOINT_ORDER",
           "DOSE_TIMEPOINT_ORDER", "DEFAULT_CODEBOOK", "GRAIN", "FORMATS_TEXT", "convert_command"]

TABLES = ("patients", "assessments", "doses")
#: Export formats read, in order of preference when a folder holds more than one.
SUFFIXES = (".csv", ".xlsx", ".dta", ".parquet")
#: The formats, as messages name them.
FORMATS_TEXT = ".csv, .xlsx, .dta or .parquet"
TIMEPOINT_ORDER = ("index", "month6", "month12", "tac_start", "tac_month6", "tac_month12")
DOSE_TIMEPOINT_ORDER = ("conv_baseline", "conv_6_12m", "tac_start", "tac_3_6m", "tac_1y")
DEFAULT_CODEBOOK = paths.CODEBOOK
#: What one row of each table is (for messages and the template).
GRAIN = {"patients": "one row per screened patient",
         "assessments": "one row per patient and time point",
         "doses": "one row per patient, drug and time point"}
_CODEBOOK_COLUMNS = ("table", "column", "type", "unit", "allowed", "min", "max", "required",
                     "spellings", "meaning")
#: Plausible ranges, the units a value is often typed in instead, and their clinical source
#: (:mod:`analysis.schema.plausible`).
_OPTIONAL_COLUMNS = ("plausible", "other_units", "plausible_source")
_TYPES = ("string", "integer", "number", "category", "boolean")


@dataclass(frozen=True)
class Codebook:
    """The codebook as a frame, one row per (table, column)."""

    frame: pd.DataFrame

    def columns(self, table: str) -> pd.DataFrame:
        return self.frame[self.frame["table"] == table].set_index("column")

    def spellings(self, table: str, column: str) -> dict[str, str]:
        """Map every accepted spelling of a category to its canonical value.

        Only what the codebook lists: the allowed values themselves, and the ``spellings``
        column, ``canonical=alternative|alternative;canonical=...`` (an empty alternative
        means a blank cell stands for that value, e.g. ``none=None|``).
        """
        row = self.columns(table).loc[column]
        mapping: dict[str, str] = {}
        for canonical in _split(row["allowed"], "|"):
            mapping[canonical] = canonical
        for group in _split(row["spellings"], ";"):
            canonical, _, alternatives = group.partition("=")
            for alt in alternatives.split("|"):
                mapping[alt.strip()] = canonical.strip()
        return mapping


@dataclass(frozen=True)
class Cohort:
    """The three validated tables, with codebook types (booleans as bool, categories as str)."""

    patients: pd.DataFrame
    assessments: pd.DataFrame
    doses: pd.DataFrame


def _split(text, sep: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [part.strip() for part in text.split(sep) if part.strip() or sep == "|"]


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read ``codebook.csv`` (every column as text, so nothing is guessed).

    Raises
    ------
    DataValidationError
        When the codebook itself is missing or malformed (it drives every check).
    """
    path = Path(path) if path else DEFAULT_CODEBOOK
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise DataValidationError(f"codebook {path} cannot be read: {exc}") from None
    missing = [c for c in _CODEBOOK_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(f"codebook {path}: missing column(s) {', '.join(missing)}")
    for optional in _OPTIONAL_COLUMNS:  # an older codebook without them: no such checks
        if optional not in frame.columns:
            frame[optional] = ""
    bad = frame.loc[~frame["type"].isin(_TYPES), "column"].tolist()
    if bad:
        raise DataValidationError(f"codebook {path}: unknown type for {', '.join(bad)}; "
                                  f"allowed: {', '.join(_TYPES)}")
    return Codebook(frame)




#: Formats that are not read, with the pandas call that converts one to CSV (each reader
#: ships with the pinned environment: pandas' own, pyreadstat, pyarrow); None: no such call.
_CONVERT = {".json": "read_json('{src}')", ".jsonl": "read_json('{src}', lines=True)",
            ".ndjson": "read_json('{src}', lines=True)", ".sav": "read_spss('{src}')",
            ".sas7bdat": "read_sas('{src}')", ".feather": "read_feather('{src}')",
            ".tsv": "read_csv('{src}', sep='\\t', dtype=str, keep_default_na=False)",
            ".xls": None, ".ods": None}


def convert_command(source: Path, table: str) -> str:
    """How to turn an export file of a format that is not read into ``table.csv``: the one
    command (pandas), or what to do in the spreadsheet program.

    >>> print(convert_command(Path("exp/assessments.json"), "assessments"))  # doctest: +ELLIPSIS
    python -c "import pandas as pd; pd.read_json('exp/assessments.json').to_csv(...)"
    """
    suffix = source.suffix.lower()
    target = source.with_name(f"{table}.csv")
    if suffix in _CONVERT and _CONVERT[suffix] is not None:
        call = _CONVERT[suffix].format(src=source)
        return (f'python -c "import pandas as pd; pd.{call}.to_csv(\'{target}\', '
                'index=False)"')
    if suffix in _CONVERT:
        return f"open {source.name} in Excel or LibreOffice and save it as {table}.xlsx"
    return f"export the table again as {table}.csv (UTF-8) or {table}.xlsx"
