"""Reading and validating the chart-review export against the codebook.

The codebook (``data/raw/codebook.csv``) is the single source of truth: column names, types,
units, allowed values, ranges, whether a value may be missing, and the spellings a real export
uses for each category (``F=Female|female``, ``Yes=Y|1``). Nothing else is guessed: a spelling
the codebook does not list is a problem, and only a blank cell is a missing value. The pandera
schemas are built from it, so a new column is added in one place. Every problem is reported at
once, each naming file, row (or Excel sheet and cell), column, the rule and how to fix it.
(Sharma 2017, Materials and Methods: chart review of clinical characteristics.)

One module per concept; every public name is importable from ``analysis.schema``:

- :mod:`~analysis.schema.codebook`: the codebook, table names, time points;
- :mod:`~analysis.schema.read`: one file (CSV, Excel, Stata, Parquet) as text cells;
- :mod:`~analysis.schema.excel`: an Excel workbook: sheet, header row, cells that are no value,
  merged cells, hidden rows and columns, formulas;
- :mod:`~analysis.schema.rules`: the codebook's and the cross-table rules;
- :mod:`~analysis.schema.plausible`: plausible ranges and the unit a value was likely typed in;
- :mod:`~analysis.schema.problems`: a problem and the message listing them;
- :mod:`~analysis.schema.export`: an export folder, checked as a whole;
- :mod:`~analysis.schema.kept`: the validated export kept as files, read by a run's later
  steps instead of the export;
- :mod:`~analysis.schema.empty`: warnings for data that is entirely blank where it is used, and
  for patients without the follow-up assessment their response is judged on.
"""

from analysis.schema.codebook import (
    DEFAULT_CODEBOOK,
    DOSE_TIMEPOINT_ORDER,
    GRAIN,
    SUFFIXES,
    TABLES,
    TIMEPOINT_ORDER,
    Codebook,
    Cohort,
    load_codebook,
)
from analysis.schema.empty import empty_data_warnings, missing_visit_warnings
from analysis.schema.export import (
    ExportCheck,
    check_export,
    describe_cohort,
    param_warnings,
    read_cohort,
)
from analysis.schema.kept import export_warnings, keep_export, kept_export, validated_export
from analysis.schema.problems import Problem, format_problems, warnings_markdown
from analysis.schema.read import TableRead, find_table, read_export, read_table
from analysis.schema.rules import EXCEL_ERRORS, codebook_names, unknown_columns, validate_tables

__all__ = ["Codebook", "Cohort", "ExportCheck", "Problem", "load_codebook", "read_cohort",
           "check_export", "read_table", "find_table", "validate_tables", "unknown_columns",
           "format_problems", "describe_cohort", "TABLES", "SUFFIXES", "TIMEPOINT_ORDER",
           "DOSE_TIMEPOINT_ORDER", "DEFAULT_CODEBOOK", "GRAIN", "empty_data_warnings",
           "read_export", "TableRead", "codebook_names", "EXCEL_ERRORS",
           "param_warnings", "missing_visit_warnings", "warnings_markdown", "keep_export",
           "kept_export", "validated_export", "export_warnings"]
