"""The run's parameters: one typed, frozen object whose defaults are the paper's methods.

Every cutoff, test rule and time point the paper's Methods fix is a field here, so that a
reviewer can change it (``-p fvc_decline=0.05`` or a YAML file) and the whole report follows.
Unknown names, wrong types and out-of-range values are refused with a message that lists
what is allowed (papermill only warns on an unknown name; we do not, so a typo never runs the
defaults silently).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import ParameterError
from analysis.paper import rows as paper_rows
from analysis.paper.grids import DOSE_GRIDS, MIN_CORRELATION, MTX_WEEKLY_CAP
from analysis.paramfile import load_scalar, read_parameter_file

__all__ = ["Params", "parse_assignment", "CONTINUOUS_TEST_ROWS", "CATEGORICAL_TEST_ROWS",
           "FITTED_ROWS", "SENSITIVITY_GRID", "SENSITIVITY_AXES", "GROUPS", "parameter_table",
           "parameter_rows", "params_digest", "params_subset", "step_parameters",
           "load_step_params", "read_params", "hand_over", "stamp_matches",
           "check_one_parameter_set", "LABELS", "VALUE_WORDS"]

#: Rows of Tables 2 and 3 compared with a two-sample test, and the test the printed p-values
#: are consistent with. The paper says "Mann-Whitney ... for nonparametric interval variables"
#: without naming the rows. Evidence from the printed numbers alone: Table 3's age p = 1.00
#: with unequal means is only possible under a rank test; and Table 2's age, FVC, TLC and DLCO
#: p-values (0.34, 0.39, 0.46, 0.62) cannot come from a t test: Table 1's SD and Table 2's
#: means fix the pooled variance, which gives p = 0.25-0.28, 0.69-0.72, 0.90-0.93 and
#: 0.87-0.89 (tests/test_synth.py shows it). Every row is therefore a Mann-Whitney rank-sum
#: test (Stata's ranksum); the t test stays available per row.
CONTINUOUS_TEST_ROWS: dict[str, str] = {
    f"{table}.{row}": "mannwhitney"
    for table in paper_rows.COMPARED for row in paper_rows.CONTINUOUS
}
CONTINUOUS_TESTS = ("t", "welch", "mannwhitney")

#: Categorical rows whose printed p-value no single rule explains: the methods audit finds
#: Table 2's race (0.12) and smoking (0.068) rows printed as Pearson chi-square although an
#: expected count is below 5, while the myositis row (0.013), with the same smallest expected
#: count, is the exact test. The paper evidently chose the test row by row; these rows keep
#: the test that reproduces their printed value, every other row follows ``fisher_rule``.
#: ASSUMPTION, fitted to the printed value (see :data:`FITTED_ROWS`): these two rows
#: "reproduce" their printed p because the test was chosen to.
CATEGORICAL_TEST_ROWS: dict[str, str] = {"t2.race": "chi2", "t2.smoking": "chi2"}
#: The per-row overrides chosen because they reproduce the printed value (an assumption, not
#: a finding): ``<mapping parameter>.<row>`` -> why. ``analysis.assumptions`` shows what the
#: row's p-value is under the alternative ("rule": follow ``fisher_rule``).
FITTED_ROWS: dict[str, str] = {
    f"categorical_tests.{row}": "fitted to the printed value: Pearson chi-square reproduces "
    "the printed p although an expected count is below 5 (methods audit)"
    for row in CATEGORICAL_TEST_ROWS}
#: How a missing measurement counts in a rule (``ck_missing_*``: the CK criterion of
#: refractory myositis is met, or not met; ``pft_missing``: a decline criterion is met or not).
CK_MISSING_RULES = ("refractory", "not_met")
PFT_MISSING_RULES = ("not_met", "met")
#: An included patient without the follow-up assessment a response is judged on (issue 23).
MISSING_VISIT_RULES = ("failed", "excluded")
#: The grid of response definitions the sensitivity analysis sweeps (issue: reviewers' "do the
#: conclusions survive other reasonable definitions?"), the cutoffs together with the
#: assumptions the paper does not fix (the CK upper limit, how a missing CK counts; issue 12):
#: 3 x 3 x 3 x 4 x 3 x 2 x 3 x 2 x 2 = 7776 definitions. ``pft_missing`` can be swept too
#: (``sensitivity_grid.pft_missing``); by default it keeps the run's value.
SENSITIVITY_GRID: dict[str, list] = {
    "fvc_decline": [0.05, 0.10, 0.15],
    "tlc_decline": [0.05, 0.10, 0.15],
    "dlco_decline": [0.10, 0.15, 0.20],
    "ild_criteria_required": [1, 2, 3, 4],
    "ck_fall": [0.3, 0.5, 0.7],
    "decline_scale": ["relative", "absolute"],
    "ck_uln": [150.0, 200.0, 250.0],
    "ck_missing_baseline": list(CK_MISSING_RULES),
    "ck_missing_followup": list(CK_MISSING_RULES),
}
#: Axes the grid may have beyond the default ones.
SENSITIVITY_AXES: tuple[str, ...] = (*SENSITIVITY_GRID, "pft_missing")
CATEGORICAL_TESTS = ("rule", "chi2", "chi2_yates", "fisher_two_sided", "fisher_one_sided",
                     "fisher_rxc")


def _spec(default, doc, *, allowed=None, low=None, high=None, unit="", source="",
          assumption="", alternatives=()):
    """A dataclass field carrying its documentation and its admissible values.

    ``assumption`` is set on a choice the paper does not fix (what kind of assumption, e.g.
    "missing-data rule"); ``alternatives`` then lists the values it is checked against (for a
    field with ``allowed`` words: the other words).
    """
    if assumption and not alternatives and allowed:
        alternatives = tuple(a for a in allowed if a != default)
    meta = {"doc": doc, "allowed": allowed, "low": low, "high": high, "unit": unit,
            "source": source, "assumption": assumption, "alternatives": tuple(alternatives)}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Params:
    """Parameters of one run; the defaults reproduce Sharma et al. 2017.

    Build with :meth:`Params.load`, which validates; the bare constructor does too.

    Examples
    --------
    >>> Params().fvc_decline
    0.1
    >>> Params.load(overrides=["fvc_decline=0.05"]).fvc_decline
    0.05
    >>> Params.load(overrides=["fvc_dcline=0.05"])
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: unknown parameter 'fvc_dcline' (did you mean 'fvc_decline'?)...
    """

    # --- Eligibility (Materials and Methods, Patients) ---
    min_age: int = _spec(18, "Minimum age at index; younger patients are excluded",
                         low=0, high=100, unit="years", source="Methods, Patients: '> 18 years'")
    age_rule: str = _spec(">=", "How the minimum age applies: '>=' includes patients aged "
                          "exactly min_age, '>' excludes them", allowed=(">=", ">"),
                          source="Methods, Patients: '> 18 years', read as >= 18 (an adult "
                          "cohort); the report's Assumptions section shows whether the "
                          "strict reading changes Figure 1",
                          assumption="reading of the Methods")
    # --- Refractory myositis (Methods, Response to treatment) ---
    ck_uln: float = _spec(200.0, "CK upper limit of normal; CK at or below it has normalised "
                          "(not printed in the paper: assumed laboratory ULN)",
                          low=1, high=10000, unit="U/l",
                          source="assumed laboratory ULN (the paper prints none); the "
                          "Assumptions section shows the counts under 150 and 250 U/l",
                          assumption="assumed laboratory ULN", alternatives=(150.0, 250.0))
    ck_missing_baseline: str = _spec(
        "refractory", "A missing baseline CK with a follow-up CK above the limit: the CK "
        "criterion of refractory myositis is met ('refractory') or not met ('not_met')",
        allowed=CK_MISSING_RULES, assumption="missing-data rule",
        source="not in the paper; 'refractory' is the reading that reproduces Figure 1 (the "
        "Assumptions section computes it); with 'not_met' a missing value meets no criterion")
    ck_missing_followup: str = _spec(
        "refractory", "A missing follow-up CK: the CK criterion of refractory myositis is met "
        "('refractory': no response can be shown) or not met ('not_met')",
        allowed=CK_MISSING_RULES, assumption="missing-data rule",
        source="not in the paper; 'refractory' (a missing follow-up cannot show a response) "
        "matches the baseline rule; with 'not_met' a missing value meets no criterion")
    ck_fall: float = _spec(0.50, "Relative CK fall that counts as response (strictly more than)",
                           low=0, high=1, unit="fraction", source="Methods: 'decrease by > 50%'")
    count_weakness: bool = _spec(True, "Physician-recorded worsening weakness makes myositis "
                                 "refractory", source="Methods, refractory myositis (1)")
    # --- Refractory ILD ---
    fvc_decline: float = _spec(0.10, "FVC decline that counts as an ILD criterion (at least)",
                               low=0, high=1, unit="fraction", source="Methods: 'FVC by 10%'")
    tlc_decline: float = _spec(0.10, "TLC decline that counts as an ILD criterion (at least)",
                               low=0, high=1, unit="fraction", source="Methods: 'TLC by 10%'")
    dlco_decline: float = _spec(0.15, "DLCO decline that counts as an ILD criterion (at least)",
                                low=0, high=1, unit="fraction", source="Methods: 'DLCO by 15%'")
    decline_scale: str = _spec("relative", "Declines relative to baseline, or absolute in "
                               "percentage points of predicted (0.10 = 10 points)",
                               allowed=("relative", "absolute"),
                               source="Methods (ambiguous: ATS statement uses relative)")
    count_symptoms: bool = _spec(True, "Worsening respiratory symptoms count as one of the 4 "
                                 "ILD criteria", source="Methods, refractory ILD (4)")
    ild_criteria_required: int = _spec(2, "How many of the 4 ILD criteria make ILD refractory",
                                       low=1, high=4, source="Methods: 'at least 2 of 4'")
    pft_missing: str = _spec("not_met", "A missing FVC, TLC or DLCO (baseline or follow-up): "
                             "its decline criterion is not met ('not_met') or met ('met')",
                             allowed=PFT_MISSING_RULES, assumption="missing-data rule",
                             source="not in the paper; 'not_met': a missing value meets no "
                             "criterion")
    missing_visit: str = _spec(
        "failed", "An included patient without the follow-up assessment a response is judged "
        "on (conventional_followup; tacrolimus_followup for those on tacrolimus): counted as "
        "failing that treatment ('failed': no response can be shown) or not assessable "
        "('excluded': left out of the response split; Figure 1 counts them as excluded, "
        "and on tacrolimus as insufficient data)", allowed=MISSING_VISIT_RULES,
        assumption="missing-data rule",
        source="not in the paper; 'failed' reproduces Figure 1 (the Assumptions section shows "
        "the counts under 'excluded')")
    # --- Time points ---
    conventional_followup: str = _spec("month6", "Assessment judged against the index one for "
                                       "conventional response", allowed=("month6", "month12"),
                                       source="Methods: 'index time and 6 months later'")
    tacrolimus_followup: str = _spec("tac_month12", "Assessment judged against tacrolimus start "
                                     "for tacrolimus response",
                                     allowed=("tac_month6", "tac_month12"),
                                     source="Methods: '1 year after the initiation'")
    # --- Tests (Statistical analysis) ---
    fisher_rule: str = _spec("expected", "When Fisher's exact test replaces Pearson chi-square: "
                             "any expected count (or observed count) below the threshold, "
                             "always or never", allowed=("expected", "observed", "always",
                                                         "never"),
                             source="Statistical analysis: 'when n was small (< 5)'")
    fisher_threshold: float = _spec(5.0, "Count below which Fisher's exact test is used",
                                    low=0, high=100, source="Statistical analysis: '(< 5)'")
    fisher_sided: str = _spec("one-sided", "Fisher p-value for 2x2 tables as printed "
                              "(one-sided, Stata's '1-sided Fisher') or two-sided",
                              allowed=("one-sided", "two-sided"), source="methods audit")
    chi2_correction: bool = _spec(False, "Yates continuity correction for 2x2 chi-square",
                                  source="methods audit")
    continuous_tests: dict = _spec(CONTINUOUS_TEST_ROWS, "Two-sample test per row of Tables 2 "
                                   "and 3: t (pooled Student), welch or mannwhitney",
                                   allowed=CONTINUOUS_TESTS,
                                   source="Statistical analysis; methods audit")
    categorical_tests: dict = _spec(CATEGORICAL_TEST_ROWS, "Test per categorical row where "
                                    "the paper departs from its own rule (rule = follow "
                                    "fisher_rule)", allowed=CATEGORICAL_TESTS,
                                    source="methods audit (Table 2 race, smoking: the test "
                                    "was fitted to the printed value)",
                                    assumption="t2.race and t2.smoking fitted to the printed "
                                    "value", alternatives=("rule",))
    # --- Consistency checks on the printed numbers (issue 22): what a verdict rests on ---
    check_aza_step: float = _spec(
        DOSE_GRIDS["aza"].step, "Step of the AZA dose grid the consistency checks use "
        "(12.5: halves of 75-mg tablets allowed)", low=0.5, high=50, unit="mg",
        source=DOSE_GRIDS["aza"].source)
    check_mtx_cap: float = _spec(
        MTX_WEEKLY_CAP.value, "Largest weekly MTX dose the consistency checks allow (0 = no "
        "cap: only the largest dose the printed mean and SD allow)", low=0, high=100,
        unit="mg/week", source=MTX_WEEKLY_CAP.source)
    check_followup_n: str = _spec(
        "at_most_start", "Patients behind a follow-up dose mean: at most those taking the drug "
        "at tacrolimus start ('at_most_start') or any of the patients analysed "
        "('up_to_analysed')", allowed=("at_most_start", "up_to_analysed"),
        source="Results prints n at tacrolimus start only; a patient who started the drug "
        "later would count at follow-up")
    check_min_correlation: float = _spec(
        MIN_CORRELATION.value, "Smallest plausible within-patient correlation of a dose before "
        "and after, for the checks that weigh everything a paired comparison prints (-1: "
        "possible only, no plausibility bound)", low=-1, high=1, source=MIN_CORRELATION.source)
    sensitivity_grid: dict = _spec(SENSITIVITY_GRID, "Values of each definition the "
                                   "sensitivity analysis sweeps (a list per parameter; axes not "
                                   "given keep these defaults)",
                                   allowed=SENSITIVITY_AXES,
                                   source="sensitivity analysis (beyond the paper)")
    alpha: float = _spec(0.05, "Significance level used to flag rows", low=0, high=1)
    # Beyond the paper (issue 21): an odds ratio (predictors of failure; the effect sizes'
    # 2x2 rows) from fewer events than this per term prints "not estimable (k events)".
    # Events: the less frequent outcome (failure or response) among the model's patients.
    # 5, not Peduzzi's 10: Vittinghoff & McCulloch found problems "fairly frequent" at 2-4
    # events per variable and "uncommon" at 5-9; at 10 the paper run's race model (23
    # events, 3 terms) and the exploratory model (22 events, 3 terms) would not be shown. At
    # 5 the paper run's histology model (14 biopsied, 5 responders, 3 terms) is not. Low 3:
    # no estimate from one or two events whatever the value.
    min_events_per_term: int = _spec(5, "Fewest events (the less frequent outcome, failure or "
                                     "response) per estimated term for an odds ratio to be "
                                     "shown; fewer prints 'not estimable'",
                                     low=3, high=100, unit="events per term",
                                     source="Vittinghoff E, McCulloch CE. Am J Epidemiol "
                                     "2007;165:710-8 (at least 5); Peduzzi P et al. J Clin "
                                     "Epidemiol 1996;49:1373-9 (10)")
    # --- Output ---
    suppress_below: int = _spec(0, "Replace counts below this by '<N' in report tables "
                                "(small-cell rule for real data; 0 = off)", low=0, high=100)
    # --- Run: the sensitivity step's bootstrap (beyond the paper) ---
    bootstrap_resamples: int = _spec(5000, "Bootstrap resamples per quantity for the 95% "
                                     "confidence intervals of the sensitivity step",
                                     low=2000, high=1_000_000,
                                     source="sensitivity analysis (beyond the paper)")
    bootstrap_seed: int = _spec(2017, "Seed of the bootstrap's random generator "
                                "(numpy.random.default_rng): the same seed gives the same "
                                "intervals", low=0, high=2**32 - 1,
                                source="sensitivity analysis (beyond the paper)")

    def __post_init__(self) -> None:
        # A mapping given in part (Params(continuous_tests={"t2.age": "t"})) keeps the
        # defaults of the rows it does not name.
        for name, (defaults, _, _) in MAPPINGS.items():
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, {**defaults, **value})
        for f in dataclasses.fields(self):
            _check_value(f, getattr(self, f.name))

    # ------------------------------------------------------------------ building
    @classmethod
    def load(cls, path: str | Path | None = None, overrides: list[str] | None = None,
             **values: Any) -> Params:
        """Defaults, then a YAML file, then ``key=value`` overrides, then keyword values.

        Parameters
        ----------
        path : path of a YAML mapping of parameter names to values, optional.
        overrides : strings ``name=value`` (the CLI's ``-p``); values are parsed as YAML
            scalars, so ``0.05``, ``true`` and ``absolute`` have their natural types.
        **values : parameter values given directly.
        """
        merged: dict[str, Any] = {}
        lines: dict[str, int] = {}
        if path is not None:
            merged, lines = _read_yaml(Path(path))
        for item in overrides or []:
            name, value = parse_assignment(item)
            _merge_assignment(merged, name, value)
            lines.pop(name.partition(".")[0], None)  # no longer the file's value
        merged.update(values)
        for name in values:
            lines.pop(name, None)
        return cls.from_dict(merged, origin=str(path) if path else "parameters", lines=lines)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "parameters",
                  lines: Mapping[str, int] | None = None) -> Params:
        """Validate a mapping of names to values and build the parameters; ``lines`` (the
        line of each name in the file ``origin``) puts the line in every message."""
        if not isinstance(data, Mapping):
            raise ParameterError(f"{origin}: expected a mapping of parameter names to values, "
                                 f"got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            where = f"{origin}, line {lines[name]}" if lines and name in lines else origin
            if name not in fields:
                raise ParameterError(_unknown(name, fields, where))
            kwargs[name] = _coerce(fields[name], value, where)
            if where != origin:  # check the value here, where its line is known
                try:
                    _check_value(fields[name], kwargs[name])
                except ParameterError as exc:
                    raise ParameterError(f"{where}: {exc}") from None
        try:
            return cls(**kwargs)
        except ParameterError as exc:
            raise ParameterError(f"{origin}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain values, YAML- and JSON-ready (the run's ``params.yaml``)."""
        return {f.name: (dict(getattr(self, f.name)) if isinstance(getattr(self, f.name), dict)
                         else getattr(self, f.name)) for f in dataclasses.fields(self)}

    def differences(self, other: Params | None = None) -> dict[str, tuple[Any, Any]]:
        """Parameters that differ from ``other`` (default: the paper's), as (other, self)."""
        base = (other or Params()).to_dict()
        mine = self.to_dict()
        diff = {}
        for name, value in mine.items():
            if isinstance(value, dict):
                for key, sub in value.items():
                    if base[name].get(key) != sub:
                        diff[f"{name}.{key}"] = (base[name].get(key), sub)
            elif value != base[name]:
                diff[name] = (base[name], value)
        return diff

    def continuous_test(self, row: str) -> str:
        """The two-sample test declared for a table row such as ``"t2.age"``."""
        return self.continuous_tests.get(row, "t")

    def categorical_test(self, row: str) -> str:
        """The test declared for a categorical row (``"rule"``: decided by ``fisher_rule``)."""
        return self.categorical_tests.get(row, "rule")

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One record per parameter: name, default, allowed values, unit, source, meaning,
        assumption (what kind, "" where the paper fixes the value) and alternatives."""
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata
            default = f.default_factory() if f.default is dataclasses.MISSING else f.default
            out.append({"name": f.name, "default": default, "allowed": _allowed_text(f),
                        "unit": meta["unit"], "source": meta["source"], "meaning": meta["doc"],
                        "assumption": meta["assumption"],
                        "alternatives": meta["alternatives"]})
        return out


# ---------------------------------------------------------------------- helpers
def parse_assignment(item: str) -> tuple[str, Any]:
    """Split ``name=value`` into the name and the value parsed as a YAML scalar.

    >>> parse_assignment("fvc_decline=0.05")
    ('fvc_decline', 0.05)
    >>> parse_assignment("continuous_tests.t2.age=mannwhitney")
    ('continuous_tests.t2.age', 'mannwhitney')
    """
    import yaml

    if not isinstance(item, str) or "=" not in item:
        raise ParameterError(f"malformed parameter {item!r}: expected name=value, "
                             "e.g. -p fvc_decline=0.05")
    name, _, text = item.partition("=")
    name = name.strip()
    if not name or not text.strip():
        raise ParameterError(f"malformed parameter {item!r}: expected name=value, "
                             "e.g. -p fvc_decline=0.05")
    try:
        value = load_scalar(text, f"-p {item}")
    except yaml.YAMLError as exc:
        raise ParameterError(f"malformed parameter {item!r}: value is not a scalar "
                             f"({exc.__class__.__name__})") from None
    return name, value


#: Mapping parameters: name -> (defaults, allowed values, rows allowed besides the defaults:
#: a categorical test may be declared for any row of Tables 2 and 3 printed as counts).
MAPPINGS = {"continuous_tests": (CONTINUOUS_TEST_ROWS, CONTINUOUS_TESTS, None),
            "categorical_tests": (CATEGORICAL_TEST_ROWS, CATEGORICAL_TESTS,
                                  tuple(f"{table}.{row}" for table in paper_rows.COMPARED
                                        for row in paper_rows.COUNTED)),
            "sensitivity_grid": (SENSITIVITY_GRID, None, None)}

#: What each parameter is called where a reader sees it (the report, the variant report, the
#: figures, the spreadsheet; issue 25): words, never the field name, which appears only in
#: Appendix C, parameter files and the CLI. The meaning is the field's ``doc``.
LABELS: dict[str, str] = {
    "min_age": "Minimum age", "age_rule": "Age criterion",
    "ck_uln": "CK upper limit of normal",
    "ck_missing_baseline": "A missing baseline CK",
    "ck_missing_followup": "A missing follow-up CK",
    "ck_fall": "CK fall counted as response", "count_weakness": "Worsening weakness counts",
    "fvc_decline": "FVC decline", "tlc_decline": "TLC decline", "dlco_decline": "DLCO decline",
    "decline_scale": "Declines", "count_symptoms": "Worsening respiratory symptoms count",
    "ild_criteria_required": "ILD criteria required",
    "pft_missing": "A missing FVC, TLC or DLCO",
    "conventional_followup": "Conventional response judged at",
    "tacrolimus_followup": "Tacrolimus response judged at",
    "fisher_rule": "Fisher's exact test used when", "fisher_threshold": "Small-count threshold",
    "fisher_sided": "Fisher p-value of 2×2 tables", "chi2_correction": "Yates correction",
    "continuous_tests": "Test", "categorical_tests": "Test",
    "sensitivity_grid": "Grid of the sensitivity analysis", "alpha": "Significance level",
    "suppress_below": "Small counts suppressed below",
    "bootstrap_resamples": "Bootstrap resamples", "bootstrap_seed": "Bootstrap seed",
    "missing_visit": "A patient without the follow-up assessment",
    "min_events_per_term": "Minimum events per model term",
    "check_aza_step": "Azathioprine dose step the checks assume",
    "check_mtx_cap": "Methotrexate weekly cap the checks assume",
    "check_followup_n": "Patients at follow-up the checks assume",
    "check_min_correlation": "Smallest plausible within-patient correlation of doses",
}
#: A coded value in words, per parameter (the rest print as numbers or as themselves).
VALUE_WORDS: dict[str, dict[Any, str]] = {
    "age_rule": {">=": "at least the minimum age", ">": "older than the minimum age"},
    "ck_missing_baseline": {"refractory": "counted as refractory",
                            "not_met": "meeting no criterion"},
    "ck_missing_followup": {"refractory": "counted as refractory",
                            "not_met": "meeting no criterion"},
    "pft_missing": {"not_met": "meeting no criterion", "met": "counted as a decline"},
    "missing_visit": {"failed": "counted as failing the treatment",
                      "excluded": "left out as not assessable"},
    "check_followup_n": {"at_most_start": "at most those taking the drug at the start",
                         "up_to_analysed": "up to every patient analysed"},
    "ild_criteria_required": {k: f"{k} of 4" for k in range(1, 5)},
    "decline_scale": {"relative": "relative (% of baseline)",
                      "absolute": "absolute (points of predicted)"},
    "conventional_followup": {"month6": "6 months", "month12": "12 months"},
    "tacrolimus_followup": {"tac_month6": "6 months after tacrolimus start",
                            "tac_month12": "1 year after tacrolimus start"},
    "fisher_rule": {"expected": "an expected count is below the threshold",
                    "observed": "an observed count is below the threshold",
                    "always": "always", "never": "never"},
    "categorical_tests": {"rule": "by the small-count rule", "chi2": "Pearson chi-square",
                          "chi2_yates": "chi-square with Yates correction",
                          "fisher_two_sided": "Fisher's exact, two-sided",
                          "fisher_one_sided": "Fisher's exact, one-sided",
                          "fisher_rxc": "Fisher-Freeman-Halton exact"},
    "continuous_tests": {"t": "Student t test", "welch": "Welch t test",
                         "mannwhitney": "Mann-Whitney rank-sum test"},
}


def _merge_assignment(merged: dict[str, Any], name: str, value: Any) -> None:
    # "continuous_tests.t2.age" addresses one entry of a mapping parameter.
    field_name, _, row = name.partition(".")
    if row and field_name in MAPPINGS:
        tests = dict(merged.get(field_name, MAPPINGS[field_name][0]))
        tests[row] = value
        merged[field_name] = tests
    else:
        merged[name] = value


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """A parameter file's mapping and the line of each name (:mod:`analysis.paramfile`:
    size-limited, no anchors or aliases, YAML 1.2 numbers)."""
    return read_parameter_file(path)


def _unknown(name: str, fields: dict, origin: str) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), list(fields), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown parameter {name!r}{hint} in {origin}; allowed: "
            + ", ".join(fields))


def _allowed_text(f: dataclasses.Field) -> str:
    meta = f.metadata
    if meta["allowed"]:
        return " | ".join(meta["allowed"])
    if f.type in ("bool", bool):
        return "true | false"
    if meta["low"] is not None:
        return f"{meta['low']} to {meta['high']}"
    return ""


def _coerce(f: dataclasses.Field, value: Any, origin: str) -> Any:
    """Convert a YAML/CLI value to the field's type, or explain what is allowed."""
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    where = f"{origin}: parameter {f.name!r}"
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ParameterError(f"{where} must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            raise ParameterError(f"{where} must be a whole number "
                                 f"({_allowed_text(f)}), got {value!r}")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{where} must be a number ({_allowed_text(f)}), "
                                 f"got {value!r}")
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise ParameterError(f"{where} must be one of {_allowed_text(f)}, got {value!r}")
        return value
    if kind == "dict":
        if not isinstance(value, Mapping):
            raise ParameterError(f"{where} must be a mapping of row to test")
        merged = dict(MAPPINGS[f.name][0])
        merged.update({str(k): v for k, v in value.items()})
        return merged
    raise AssertionError(f"unhandled parameter type {kind}")  # pragma: no cover


def _check_value(f: dataclasses.Field, value: Any) -> None:
    meta = f.metadata
    if f.name == "sensitivity_grid":
        _check_grid(value)
        return
    if isinstance(value, dict):
        defaults, tests, others = MAPPINGS[f.name]
        for row, test in value.items():
            if row not in defaults and row not in (others or ()):
                raise ParameterError(f"parameter '{f.name}' has unknown row {row!r}; "
                                     "allowed: " + ", ".join(dict.fromkeys(
                                         [*defaults, *(others or ())])))
            if test not in tests:
                raise ParameterError(f"parameter '{f.name}.{row}' must be one of "
                                     f"{' | '.join(tests)}, got {test!r}")
        return
    if meta["allowed"] and value not in meta["allowed"]:
        raise ParameterError(f"parameter {f.name!r} must be one of {_allowed_text(f)}, "
                             f"got {value!r}")
    if meta["low"] is not None and not isinstance(value, bool):
        if not isinstance(value, int | float) or math.isnan(value) or not (
                meta["low"] <= value <= meta["high"]):
            raise ParameterError(f"parameter {f.name!r} must be between {meta['low']} and "
                                 f"{meta['high']} {meta['unit']}".rstrip()
                                 + f", got {value!r}")


def _check_grid(grid: Mapping[str, Any]) -> None:
    """Each axis of the sensitivity grid is a known definition with a non-empty list of values
    that are each allowed for that parameter."""
    fields = {f.name: f for f in dataclasses.fields(Params)}
    for name, values in grid.items():
        if name not in SENSITIVITY_AXES:
            raise ParameterError(f"parameter 'sensitivity_grid' has unknown axis {name!r}; "
                                 "allowed: " + ", ".join(SENSITIVITY_AXES))
        if not isinstance(values, list | tuple) or not values:
            raise ParameterError(f"parameter 'sensitivity_grid.{name}' must be a non-empty "
                                 f"list of values, e.g. [0.05, 0.10], got {values!r}")
        for value in values:
            try:
                _check_value(fields[name], _coerce(fields[name], value, "sensitivity_grid"))
            except ParameterError as exc:
                raise ParameterError(f"parameter 'sensitivity_grid.{name}': {exc}") from None


# ---------------------------------------------------------------------- notebooks
#: Parameters that only some steps read, by group; every other field is part of the response
#: definition (eligibility, refractory myositis and ILD, time points), which every analysis
#: step reads. A notebook shows the groups it uses with :func:`parameter_table`.
GROUPS: dict[str, tuple[str, ...]] = {
    "tests": ("fisher_rule", "fisher_threshold", "fisher_sided", "chi2_correction",
              "continuous_tests", "categorical_tests", "alpha", "min_events_per_term"),
    "output": ("suppress_below",),
    "sensitivity": ("sensitivity_grid", "alpha", "bootstrap_resamples", "bootstrap_seed"),
    "checks": ("check_aza_step", "check_mtx_cap", "check_followup_n", "check_min_correlation"),
}
#: Mapping parameters with more entries than this show only their changed entries.
_SHOWN_ENTRIES = 6


def group_names(group: str) -> tuple[str, ...]:
    """The parameter names of a group: ``definition`` (every field no other group names) or
    a key of :data:`GROUPS`.

    >>> group_names("definition")[:3]
    ('min_age', 'age_rule', 'ck_uln')
    """
    if group in GROUPS:
        return GROUPS[group]
    if group != "definition":
        raise ParameterError(f"unknown parameter group {group!r}; allowed: definition, "
                             + ", ".join(GROUPS))
    others = {name for names in GROUPS.values() for name in names}
    return tuple(f.name for f in dataclasses.fields(Params) if f.name not in others)


def parameter_rows(params: Params, names: tuple[str, ...] | None = None,
                   compact: bool = False) -> list[dict[str, str]]:
    """One record per parameter (per entry of a mapping parameter): ``Parameter``, ``Value``,
    ``Paper`` (the default, i.e. Sharma 2017's methods), ``Allowed``, ``Source``, ``Meaning``.

    ``compact`` shows a mapping with many entries as its changed entries plus one summary row.
    """
    specs = {spec["name"]: spec for spec in Params.describe()}
    values = params.to_dict()
    rows = []
    for name in names or tuple(specs):
        spec, value, default = specs[name], values[name], specs[name]["default"]
        base = {"Allowed": spec["allowed"], "Source": spec["source"], "Meaning": spec["meaning"]}
        if not isinstance(value, dict):
            rows.append({"Parameter": name, "Value": str(value), "Paper": str(default), **base})
            continue
        entries = sorted(set(value) | set(default))
        changed = [e for e in entries if value.get(e) != default.get(e)]
        shown = changed if compact and len(entries) > _SHOWN_ENTRIES else entries
        allowed = spec["allowed"] if name != "sensitivity_grid" else "a list"
        for entry in shown:
            rows.append({"Parameter": f"{name}.{entry}", "Value": str(value.get(entry, "")),
                         "Paper": str(default.get(entry, "")), **base, "Allowed": allowed})
        if len(shown) < len(entries):
            rest = len(entries) - len(shown)
            rows.append({"Parameter": f"{name} ({rest} {'other ' if shown else ''}entries)",
                         "Value": "as in the paper", "Paper": "", **base, "Allowed": allowed})
    return rows


def parameter_table(params: Params, *groups: str) -> Any:
    """The parameters a notebook uses, as a small table: name, this run's value, the paper's
    value, and what the parameter means. Changed values are marked ``*``.

    Parameters
    ----------
    params : the run's parameters.
    *groups : ``definition`` and/or keys of :data:`GROUPS`; none: every parameter.

    Returns
    -------
    pandas DataFrame, indexed by parameter name.
    """
    import pandas as pd

    names: list[str] = []
    for group in groups or ("definition", *GROUPS):
        names += [n for n in group_names(group) if n not in names]
    frame = pd.DataFrame(parameter_rows(params, tuple(names), compact=True))
    changed = (frame["Value"] != frame["Paper"]) & (frame["Paper"] != "")
    frame["Value"] = frame["Value"].where(~changed, frame["Value"] + " *")
    return frame.set_index("Parameter")[["Value", "Paper", "Meaning"]]


# ---------------------------------------------------------------------- one parameter set
#: Folder of a run where each step records the parameters its outputs come from.
STAMPS = "parameters"


def step_parameters(step: str, params: Params | None = None) -> tuple[str, ...]:
    """The names of the parameters ``step`` reads (:data:`analysis.steps.READS`): what its
    cache key holds and what it records in ``parameters/<step>.json``.

    The sweep over the sensitivity grid reads the definition less the axes the grid names
    (the grid gives their values; an axis the grid leaves out keeps the run's value), the
    tests' rules (not ``alpha``: the sweep computes p-values, the conclusions judge them) and
    the grid itself; so ``params`` (default: the paper's) decides which axes drop out.

    >>> "fvc_decline" in step_parameters("02_flow"), step_parameters("01_cohort")
    (True, ())
    >>> "fvc_decline" in step_parameters("sweep"), "pft_missing" in step_parameters("sweep")
    (False, True)
    """
    from analysis import steps

    groups = steps.reads(step).groups
    if groups == steps.ALL:
        return tuple(f.name for f in dataclasses.fields(Params))
    names = tuple(dict.fromkeys(n for group in groups for n in group_names(group)))
    if step.removesuffix(".ipynb") == steps.SWEEP:
        grid = (params or Params()).sensitivity_grid
        names = tuple(n for n in (*group_names("definition"), *GROUPS["tests"],
                                  "sensitivity_grid") if n not in grid and n != "alpha")
    return names


def params_subset(params: Params, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The values of ``names`` (default: every parameter), as :meth:`Params.to_dict`."""
    values = params.to_dict()
    return values if names is None else {name: values[name] for name in names}


def params_digest(params: Params, names: tuple[str, ...] | None = None) -> str:
    """SHA-256 of the parameters (canonical JSON of :meth:`Params.to_dict`), or of only
    ``names`` (:func:`step_parameters`)."""
    import hashlib
    import json

    text = json.dumps(params_subset(params, names), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


#: Parameters this process was handed by the run that parsed and validated them
#: (:func:`hand_over`), by the SHA-256 of the text of that run's ``params.yaml``.
_HANDED: dict[str, Params] = {}


def hand_over(digest: str, params: Params) -> None:
    """Make ``params`` this process's parameters of every parameter file whose bytes have the
    SHA-256 ``digest``: a run parses and validates its parameters once and hands them to each
    of its kernels as it starts (:mod:`analysis.kernels`), so that no step parses the YAML
    again (:func:`read_params`)."""
    _HANDED[digest] = params


def read_params(params_file: str | Path) -> Params:
    """A notebook's parameters: those the run handed over (:func:`hand_over`) when
    ``params_file`` is that run's ``params.yaml``, byte for byte; else the file read and
    validated (:meth:`Params.load`; a notebook opened in JupyterLab reads
    ``lab-params.yaml``)."""
    import hashlib

    try:
        digest = hashlib.sha256(Path(params_file).read_bytes()).hexdigest()
    except OSError:
        digest = None  # Params.load says what is wrong with the file
    if digest in _HANDED:
        return _HANDED[digest]
    return Params.load(params_file)


def load_step_params(params_file: str | Path, run_dir: str | Path, step: str) -> Params:
    """A notebook step's parameters (:func:`read_params`: handed over by the run, or read and
    validated from the file), after recording in ``run_dir/parameters/<step>.json`` the
    parameters the step reads (:func:`step_parameters`: the names, their values and hash)
    that its outputs come from, for :func:`check_one_parameter_set`."""
    import json

    from analysis.files import write_atomic as write_text

    params = read_params(params_file)
    names = step_parameters(step, params)
    stamp = {"step": step, "reads": list(names), "params_sha256": params_digest(params, names),
             "parameters": params_subset(params, names)}
    write_text(Path(run_dir) / STAMPS / f"{step}.json", json.dumps(stamp, indent=1) + "\n")
    return params


def stamp_matches(stamp: Mapping[str, Any], params: Params) -> bool:
    """Whether a step's record (``parameters/<step>.json``, :func:`load_step_params`) holds
    ``params``'s values of what the step read (a record without ``reads``: every
    parameter)."""
    names = tuple(stamp["reads"]) if "reads" in stamp else None
    return stamp["params_sha256"] == params_digest(params, names)


def check_one_parameter_set(run_dir: str | Path, params: Params) -> dict[str, str]:
    """Refuse a run folder whose steps ran with parameters other than ``params`` (issue 15: a
    run never mixes outputs of two parameter sets, e.g. after a class changed the parameter
    file and re-ran only one notebook). Each step is checked on the parameters it read
    (:func:`step_parameters`): a step that does not read a changed value need not run again.

    Returns
    -------
    dict of step name to the hash of the parameters it read (each equal to ``params``'s).

    Raises
    ------
    ParameterError naming each step that ran with other values, the values, and the fix.
    """
    import json

    found, stale = {}, []
    for path in sorted((Path(run_dir) / STAMPS).glob("*.json")):
        stamp = json.loads(path.read_text(encoding="utf-8"))
        found[stamp["step"]] = stamp["params_sha256"]
        if not stamp_matches(stamp, params):
            names = stamp.get("reads")  # what the step read (a record without: every one)
            theirs = Params.from_dict(stamp.get("parameters", {}), origin=str(path))
            diff = ", ".join(f"{k}={a!r} (now {b!r})"  # of a mapping, the entries that differ
                             for k, (a, b) in params.differences(theirs).items()
                             if names is None or k.partition(".")[0] in names)
            stale.append(f"{stamp['step']} ran with {diff}")
    if stale:
        raise ParameterError(
            f"{run_dir} mixes outputs of two parameter sets: " + "; ".join(stale)
            + ". Run every notebook again in order (01 to 06) so that all outputs come from "
            "the same parameter file (in the lab: `make reset`).")
    return found
