"""The rows of Tables 1-3 of Sharma 2017 and what each row is, declared once.

Tables 1, 2 and 3 print the same 22 characteristics, in the same order, under the same
section headings (Sharma 2017, Tables 1-3); Tables 2 and 3 reorder the levels of two rows and
relabel one level. Every module that needs a row's role asks here: the tables
(:mod:`analysis.tables`), the methods audit (:mod:`analysis.audit`), the consistency checks
(:mod:`analysis.consistency`), the report's prose (:mod:`analysis.report`), the synthetic
cohort (:mod:`analysis.synth`) and the per-row test declarations (:mod:`analysis.params`).

A row's *kind* decides its test family, as the paper's Statistical analysis does:
``continuous`` rows (means) take a two-sample test (t test or Mann-Whitney); ``categorical``
rows (several printed levels, one p) and ``binary`` rows (one count of the positive or treated
patients per group, one p each) are the paper's "categorical variables", compared by
chi-square or Fisher's exact test.

Which printed number stands where (the group sizes in the headers of Tables 2 and 3) is
declared by its ``id`` in ``data/published/numbers.csv`` (:data:`TABLES`); the value is read
from that file (:func:`analysis.published.printed_group_sizes`), never typed here. This
module imports nothing from the package: it is the bottom layer every other module can ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Row", "ROWS", "BY_KEY", "row", "HEADINGS", "T23_LEVEL_ORDER", "T23_LEVEL_LABEL",
           "printed_levels", "level_keys", "under", "CONTINUOUS", "CATEGORICAL", "BINARY",
           "COUNTED", "MEASURES", "KINDS", "FAMILY", "Table", "TABLES", "TABLE", "COMPARED"]

#: What a row is, and the test family the paper compares it with (Statistical analysis:
#: "Categorical variables were compared using chi-square or Fisher's exact test ...
#: interval variables ... t test or Mann-Whitney").
FAMILY = MappingProxyType({"continuous": "two_sample", "categorical": "contingency",
                           "binary": "contingency"})
KINDS = tuple(FAMILY)
#: The export's tables a row's column can come from (DESIGN section 3).
SOURCES = ("patients", "assessments")


@dataclass(frozen=True)
class Row:
    """One characteristic of Tables 1-3: how to read it and how the paper prints it.

    Attributes
    ----------
    key : the row's name in published keys (``t2.<key>.p``) and in the long tables.
    label : Table 1's label (without Table 1's ", mean (SD)" marker).
    kind : ``"continuous"`` (a mean), ``"categorical"`` (the levels of one column, one p) or
        ``"binary"`` (the count of positive / treated patients).
    column : the export's column (``data/raw/codebook.csv``).
    levels : ``(level key, value in data, Table 1 label)`` per printed level, Table 1's order
        (Tables 2 and 3: :func:`printed_levels`).
    t2_label : Tables 2 and 3 label where it differs from Table 1.
    denominator : ``"all"``, or ``"biopsied"`` (Table 1 prints histology as % of the 14
        patients with a biopsy).
    heading : the section heading the paper prints above the row (``"Serologic data"``), or
        None.
    source : the export's table holding ``column``: ``"patients"``, or ``"assessments"``
        (measured at the table's assessment: the index, or tacrolimus start for Table 3).
    short : the row's name in a sentence ("CK"), continuous rows.
    printed : the paper prints the row (every row below). A row added to the tables that the
        paper does not print (``printed=False``) is computed and shown like the others, but
        left out of the role lists below, which everything about the paper's printed numbers
        (the audit, the consistency checks, the synthetic cohort) reads.
    """

    key: str
    label: str
    kind: str
    column: str
    levels: tuple[tuple[str, object, str], ...] = ()
    t2_label: str | None = None
    denominator: str = "all"
    heading: str | None = None
    source: str = "patients"
    short: str | None = None
    printed: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAMILY:
            raise ValueError(f"row {self.key!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.source not in SOURCES:
            raise ValueError(f"row {self.key!r}: source {self.source!r} is not one of {SOURCES}")
        if (self.kind == "categorical") != bool(self.levels):
            raise ValueError(f"row {self.key!r}: a categorical row, and only one, has levels")

    @property
    def family(self) -> str:
        """``"two_sample"`` (continuous) or ``"contingency"`` (categorical and binary)."""
        return FAMILY[self.kind]


_SEROLOGY, _PFT, _DMARD = "Serologic data", "PFT, %", "Conventional DMARD"

#: The rows of Tables 1-3, in the order the paper prints them.
ROWS: tuple[Row, ...] = (
    Row("age", "Age at onset, yrs", "continuous", "age_at_onset",
        t2_label="Age at onset of myositis, yrs", short="age"),
    Row("sex", "Sex", "categorical", "sex", (("male", "M", "Male"), ("female", "F", "Female"))),
    Row("race", "Race", "categorical", "race",
        (("black", "Black", "Black"), ("white", "White", "White"),
         ("hispanic", "Hispanic", "Hispanic"), ("asian", "Asian", "Asian"))),
    Row("smoking", "Smoking history", "categorical", "smoking",
        (("never", "Never", "Never"), ("former", "Former", "Former"),
         ("active", "Active", "Active"))),
    Row("myositis", "Myositis", "categorical", "myositis_type",
        (("pm", "PM", "Polymyositis"), ("dm", "DM", "Dermatomyositis"),
         ("cadm", "CADM", "CADM"))),
    Row("ck", "Baseline CK, U/l", "continuous", "ck", source="assessments", short="CK"),
    Row("aldolase", "Baseline aldolase", "continuous", "aldolase", source="assessments",
        short="aldolase"),
    Row("ana", "ANA", "binary", "ana", heading=_SEROLOGY),
    Row("jo1", "Anti-Jo1", "binary", "anti_jo1", heading=_SEROLOGY),
    Row("ssa", "SSA", "binary", "ssa", heading=_SEROLOGY),
    Row("mi2", "Mi-2", "binary", "mi2", heading=_SEROLOGY),
    Row("pl7", "PL-7", "binary", "pl7", heading=_SEROLOGY),
    Row("srp", "SRP", "binary", "srp", heading=_SEROLOGY),
    Row("ku", "Ku", "binary", "ku", heading=_SEROLOGY),
    Row("fvc", "FVC", "continuous", "fvc", heading=_PFT, source="assessments", short="FVC"),
    Row("tlc", "TLC", "continuous", "tlc", heading=_PFT, source="assessments", short="TLC"),
    Row("dlco", "DLCO", "continuous", "dlco", heading=_PFT, source="assessments",
        short="DLCO"),
    Row("honeycomb", "CT chest", "categorical", "honeycombing",
        (("absent", False, "Honeycombing absent"), ("present", True, "Honeycombing present"))),
    Row("histology", "Lung histopathology", "categorical", "biopsy",
        (("op", "OP", "OP"), ("nsip", "NSIP", "NSIP"), ("uip", "UIP", "UIP"),
         ("other", "other", "Others*")), denominator="biopsied"),
    Row("aza", "AZA", "binary", "aza_conventional", heading=_DMARD),
    Row("mtx", "MTX", "binary", "mtx_conventional", heading=_DMARD),
    Row("mmf", "MMF", "binary", "mmf_conventional", heading=_DMARD),
)

#: Each row by its key.
BY_KEY: MappingProxyType[str, Row] = MappingProxyType({r.key: r for r in ROWS})


def row(key: str) -> Row:
    """The row named ``key``.

    >>> row("myositis").column
    'myositis_type'
    """
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no row {key!r} in Tables 1-3; rows: {', '.join(BY_KEY)}") from None


#: Section headings the paper prints above groups of rows (inserted before the row key).
HEADINGS: MappingProxyType[str, str] = MappingProxyType(
    {r.key: r.heading for i, r in enumerate(ROWS)
     if r.heading and (i == 0 or ROWS[i - 1].heading != r.heading)})
#: Level order of Tables 2 and 3 where it differs from Table 1 (the paper reorders two rows).
T23_LEVEL_ORDER = MappingProxyType({"race": ("black", "white", "asian", "hispanic"),
                                    "histology": ("op", "uip", "nsip", "other")})
#: Level labels of Tables 2 and 3 where they differ from Table 1.
T23_LEVEL_LABEL = MappingProxyType({("histology", "op"): "COP"})


def printed_levels(r: Row, table: str) -> tuple[tuple[str, object, str], ...]:
    """A categorical row's levels as ``table`` ("t1", "t2", "t3") prints them: order and label.

    >>> [label for _, _, label in printed_levels(row("histology"), "t2")]
    ['COP', 'UIP', 'NSIP', 'Others*']
    """
    if table == "t1":
        return r.levels
    levels = r.levels
    if r.key in T23_LEVEL_ORDER:
        by_key = {lvl[0]: lvl for lvl in r.levels}
        levels = tuple(by_key[k] for k in T23_LEVEL_ORDER[r.key])
    return tuple((k, v, T23_LEVEL_LABEL.get((r.key, k), label)) for k, v, label in levels)


def level_keys(r: Row, table: str) -> tuple[str, ...]:
    """The keys of a categorical row's levels in ``table``'s order.

    >>> level_keys(row("race"), "t3")
    ('black', 'white', 'asian', 'hispanic')
    """
    return tuple(k for k, _, _ in printed_levels(r, table))


def under(heading: str) -> tuple[str, ...]:
    """The keys of the rows printed under a section heading, in table order.

    >>> under("Conventional DMARD")
    ('aza', 'mtx', 'mmf')
    """
    keys = tuple(r.key for r in ROWS if r.heading == heading)
    if not keys:
        raise KeyError(f"no section heading {heading!r}; headings: {', '.join(HEADINGS.values())}")
    return keys


def _keys(*kinds: str) -> tuple[str, ...]:
    return tuple(r.key for r in ROWS if r.kind in kinds and r.printed)


#: Rows the paper prints as a mean, in table order.
CONTINUOUS = _keys("continuous")
#: Rows the paper prints as several levels with one p, in table order.
CATEGORICAL = _keys("categorical")
#: Rows the paper prints as one count of positive / treated patients per group, in table order.
BINARY = _keys("binary")
#: Every row the paper prints as counts (its "categorical variables": chi-square or Fisher).
COUNTED = _keys("categorical", "binary")
#: Columns of an assessment that enter the tables (printed or not), in table order.
MEASURES = tuple(r.column for r in ROWS if r.source == "assessments")


@dataclass(frozen=True)
class Table:
    """One of the paper's tables: whose patients, which groups, where its group sizes stand.

    Attributes
    ----------
    key : ``"t1"``, ``"t2"``, ``"t3"`` (the prefix of its published keys).
    name : as the paper names it.
    patients : the boolean column of :func:`analysis.cohort.analysis_groups` selecting its
        patients.
    group : the boolean column splitting responders (True) from the others; None for Table 1.
    timepoint : the assessment whose measurements (:data:`MEASURES`) it shows.
    sizes : ids in ``data/published/numbers.csv`` of the printed group sizes (its column
        headers: responders, others); None for Table 1.
    """

    key: str
    name: str
    patients: str
    group: str | None
    timepoint: str
    sizes: tuple[str, str] | None


#: Tables 1-3 (Sharma 2017): Table 1 the 54 included patients; Table 2 "Responders, n = 31 /
#: Nonresponders, n = 23" to conventional treatment; Table 3 "Responders, n = 13 / No
#: Response, n = 5" among the 18 analysed for tacrolimus, measured at tacrolimus start
#: (Results: "lower FVC and lower TLC at the time of initiation of tacrolimus").
TABLES: tuple[Table, ...] = (
    Table("t1", "Table 1", "included", None, "index", None),
    Table("t2", "Table 2", "included", "conv_responder", "index",
          ("t2.header.resp.n", "t2.header.nonresp.n")),
    Table("t3", "Table 3", "tac_analysed", "tac_responder", "tac_start",
          ("t3.header.resp.n", "t3.header.nonresp.n")),
)
#: Each table by its key.
TABLE: MappingProxyType[str, Table] = MappingProxyType({t.key: t for t in TABLES})
#: The tables that compare two groups with a p per row.
COMPARED = tuple(t.key for t in TABLES if t.group)
