"""Sensitivity of the paper's conclusions to its response definitions (beyond the paper).

Sharma 2017 fixes one definition of response (Materials and Methods, *Response to
treatment*): FVC decline >= 10%, TLC decline >= 10%, DLCO decline >= 15% (relative), at least
2 of the 4 ILD criteria, CK fall > 50%. A reviewer's first question is whether the conclusions
survive other reasonable definitions. This module sweeps a grid of definitions and, for each,
recomputes the numbers the conclusions rest on:

- the conventional responders among the included patients (Results: 31 of 54);
- PM vs DM response (Abstract: 67% vs 35%, p = 0.013), with the recommended two-sided tests:
  Fisher's exact test on the 2 x 2 PM/DM table, and Table 2's myositis row (PM, DM, CADM,
  exact r x c test);
- the tacrolimus response rate (Results: 13 of 18). The tacrolimus group changes with the
  definition: it is the patients who failed conventional treatment *under that definition*
  and received tacrolimus with sufficient data;
- Table 3's FVC and TLC at tacrolimus start, responders minus non-responders (63.7 vs 42.4,
  65.9 vs 45.0) and the row's two-sample test (Mann-Whitney by default).

Speed: the per-patient changes (relative and absolute declines of FVC, TLC and DLCO, the CK
fall, CK normalised, worsening weakness and symptoms) are computed once with
:mod:`analysis.response`; every definition is then a column of a boolean matrix
(patients x definitions), and p-values are computed once per distinct contingency table or
per distinct pair of groups (many definitions give identical tables).

Also here: seeded percentile-bootstrap confidence intervals for the main proportions and
differences under the run's definition (:func:`bootstrap`), the share of the grid where each
conclusion holds (:func:`conclusions`), the figures and the report section's Markdown.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError, ParameterError
from analysis.params import SENSITIVITY_GRID, Params
from analysis.response import _TOLERANCE, PFT_CUTOFFS, decline, paired_assessments

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_GRID",
    "SWEPT",
    "PatientChanges",
    "definitions",
    "patient_changes",
    "responder_matrix",
    "response_matrices",
    "sweep",
    "conclusions",
    "bootstrap",
    "reference_label",
    "plot_heatmap",
    "plot_shares",
    "sensitivity_figures",
    "sensitivity_markdown",
    "sensitivity_results",
    "save_sensitivity",
]

#: The swept fields of :class:`analysis.params.Params`, in the grid's order.
SWEPT: tuple[str, ...] = ("fvc_decline", "tlc_decline", "dlco_decline", "ild_criteria_required",
                          "ck_fall", "decline_scale")

#: The default grid (``Params.sensitivity_grid``'s default): 3 x 3 x 3 x 4 x 3 x 2 = 648
#: definitions, the paper's among them (0.10, 0.10, 0.15, 2, 0.50, relative). Declines either
#: side of the paper's cutoffs by 5 points (the ATS statement's "significant" FVC change is 10%,
#: 5% is often called marginal); every number of the 4 ILD criteria; CK falls of 30-70%;
#: relative or absolute declines.
DEFAULT_GRID: Mapping[str, tuple[Any, ...]] = MappingProxyType(
    {name: tuple(values) for name, values in SENSITIVITY_GRID.items()})

#: Fields that change who is included or how response is judged (the reference is "the
#: paper's definition" when none of them differs from the paper's value).
CLASSIFICATION_FIELDS = ("min_age", "ck_uln", "count_weakness", "count_symptoms",
                         "conventional_followup", "tacrolimus_followup", *SWEPT)

_SCALES = ("relative", "absolute")
_PFTS = tuple(PFT_CUTOFFS)  # fvc, tlc, dlco
_T3_MEASURES = ("fvc", "tlc")


# --------------------------------------------------------------------------- the grid
def _grid_values(grid: Mapping[str, Sequence[Any]] | None,
                 reference: Params) -> dict[str, tuple[Any, ...]]:
    """Validated, de-duplicated values per swept field (an absent field: the reference's)."""
    grid = DEFAULT_GRID if grid is None else grid
    if not isinstance(grid, Mapping):
        raise ParameterError("the sensitivity grid must be a mapping of parameter names to "
                             f"lists of values; got {type(grid).__name__}")
    unknown = [name for name in grid if name not in SWEPT]
    if unknown:
        raise ParameterError(f"sensitivity grid: cannot sweep {unknown}; allowed: "
                             + ", ".join(SWEPT))
    out: dict[str, tuple[Any, ...]] = {}
    for name in SWEPT:
        if name not in grid:
            out[name] = (getattr(reference, name),)
            continue
        values = grid[name]
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ParameterError(f"sensitivity grid: {name!r} needs a non-empty list of values, "
                                 f"got {values!r}")
        checked = [getattr(Params.from_dict({name: v}, origin="sensitivity grid"), name)
                   for v in values]
        out[name] = tuple(dict.fromkeys(checked))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-12)


def definitions(grid: Mapping[str, Sequence[Any]] | None = None,
                reference: Params | None = None) -> pd.DataFrame:
    """The definitions swept: the Cartesian product of the grid, plus the reference.

    Parameters
    ----------
    grid : mapping of a swept field (see :data:`SWEPT`) to a list of values, optional
        Default :data:`DEFAULT_GRID`. A field left out keeps the reference's value. Values are
        validated as :class:`~analysis.params.Params` values (range, type, allowed words).
    reference : Params, optional
        The run's parameters (default: the paper's). Its definition is marked, and appended
        (``in_grid`` False) when the grid does not contain it.

    Returns
    -------
    DataFrame, one row per definition: ``definition`` (0, 1, ...), the six fields of
    :data:`SWEPT`, ``in_grid`` (part of the grid; the shares are over these rows) and
    ``is_reference`` (exactly one row).

    Examples
    --------
    >>> len(definitions())
    648
    >>> definitions({"ild_criteria_required": [1, 2]})[["ild_criteria_required",
    ...     "is_reference"]].values.tolist()
    [[1, False], [2, True]]
    """
    reference = reference or Params()
    values = _grid_values(grid, reference)
    rows = [dict(zip(SWEPT, combo, strict=True))
            for combo in itertools.product(*(values[name] for name in SWEPT))]
    frame = pd.DataFrame(rows, columns=list(SWEPT))
    ref = {name: getattr(reference, name) for name in SWEPT}
    is_ref = np.array([all(_same(row[n], ref[n]) for n in SWEPT) for row in rows], dtype=bool)
    frame["in_grid"] = True
    frame["is_reference"] = is_ref
    if not is_ref.any():
        extra = pd.DataFrame([{**ref, "in_grid": False, "is_reference": True}])
        frame = pd.concat([frame, extra], ignore_index=True)
    frame.insert(0, "definition", np.arange(len(frame)))
    frame["ild_criteria_required"] = frame["ild_criteria_required"].astype(int)
    for name in ("fvc_decline", "tlc_decline", "dlco_decline", "ck_fall"):
        frame[name] = frame[name].astype(float)
    frame["decline_scale"] = frame["decline_scale"].astype(str)
    return frame


# --------------------------------------------------------------------------- per patient
@dataclass(frozen=True)
class PatientChanges:
    """What every definition needs about one assessment pair, one entry per patient.

    Attributes
    ----------
    has_pair : bool array; both assessments exist (else the patient cannot respond).
    declines : mapping ``(test, scale)`` to a float array (NaN when a value is missing),
        ``test`` in fvc, tlc, dlco and ``scale`` in relative, absolute, as
        :func:`analysis.response.decline`.
    ck_fall : float array, ``(ck_0 - ck_1) / ck_0`` (NaN when missing).
    ck_normalised : bool array, follow-up CK at or below ``ck_uln``.
    weakness : bool array, worsening weakness at follow-up (False if not counted).
    symptoms : bool array, worsening respiratory symptoms (False if not counted).
    """

    has_pair: np.ndarray
    declines: Mapping[tuple[str, str], np.ndarray]
    ck_fall: np.ndarray
    ck_normalised: np.ndarray
    weakness: np.ndarray
    symptoms: np.ndarray


def _floats(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _flags(series: pd.Series) -> np.ndarray:
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def patient_changes(assessments: pd.DataFrame, patient_ids: Sequence[str], baseline: str,
                    followup: str, params: Params) -> PatientChanges:
    """Per-patient changes between two assessments, computed once for every definition.

    Parameters
    ----------
    assessments : validated long assessments table (:mod:`analysis.schema`).
    patient_ids : the patients, in the order of the rows of the matrices built from it.
    baseline, followup : time points, e.g. ``"index"`` and ``params.conventional_followup``.
    params : fixes what is not swept: ``ck_uln``, ``count_weakness``, ``count_symptoms``.

    Notes
    -----
    Sharma 2017, Materials and Methods, *Response to treatment*. Same arithmetic as
    :func:`analysis.response.classify` (its :func:`~analysis.response.decline`), so that the
    matrices of :func:`responder_matrix` reproduce it exactly (tested).
    """
    found = paired_assessments(assessments, baseline, followup)
    pairs = found.reindex(pd.Index(patient_ids))
    has_pair = pairs.index.isin(found.index)
    declines = {(test, scale): _floats(decline(pairs[f"{test}_0"], pairs[f"{test}_1"], scale))
                for test in _PFTS for scale in _SCALES}
    ck0 = pairs["ck_0"].astype("Float64")
    ck1 = pairs["ck_1"].astype("Float64")
    ck_fall = _floats((ck0 - ck1) / ck0)
    normalised = _flags(ck1 <= params.ck_uln)
    weakness = _flags(pairs["worsening_weakness_1"]) & bool(params.count_weakness)
    symptoms = _flags(pairs["worsening_resp_symptoms_1"]) & bool(params.count_symptoms)
    return PatientChanges(np.asarray(has_pair, dtype=bool), MappingProxyType(declines),
                          ck_fall, normalised, weakness, symptoms)


def responder_matrix(changes: PatientChanges, defs: pd.DataFrame) -> np.ndarray:
    """Responders (patients x definitions): improved in both myositis and ILD.

    Parameters
    ----------
    changes : from :func:`patient_changes`.
    defs : definitions, from :func:`definitions` (the columns of :data:`SWEPT`).

    Returns
    -------
    bool array of shape (patients, definitions).

    Notes
    -----
    Sharma 2017, Methods: refractory ILD is at least ``ild_criteria_required`` of: FVC,
    TLC, DLCO declines at least their cutoff (within the float tolerance of
    :mod:`analysis.response`), worsening symptoms; refractory myositis is worsening weakness
    or a CK that neither normalised nor fell by strictly more than ``ck_fall``. A missing
    value meets no criterion; a patient without the follow-up assessment does not respond.
    """
    absolute = (defs["decline_scale"].to_numpy(dtype=str) == "absolute")[None, :]
    met = changes.symptoms.astype(np.int16)[:, None]
    for test in _PFTS:
        cutoff = defs[f"{test}_decline"].to_numpy(dtype=float)[None, :] - _TOLERANCE
        relative = changes.declines[test, "relative"][:, None] >= cutoff
        points = changes.declines[test, "absolute"][:, None] >= cutoff
        met = met + np.where(absolute, points, relative)
    refractory_ild = met >= defs["ild_criteria_required"].to_numpy(dtype=int)[None, :]
    fell = changes.ck_fall[:, None] > defs["ck_fall"].to_numpy(dtype=float)[None, :] + _TOLERANCE
    refractory_ck = ~(changes.ck_normalised[:, None] | fell)
    failure = changes.weakness[:, None] | refractory_ck | refractory_ild
    return changes.has_pair[:, None] & ~failure


# --------------------------------------------------------------------------- the sweep
def response_matrices(patients: pd.DataFrame, assessments: pd.DataFrame, defs: pd.DataFrame,
                      params: Params) -> dict[str, np.ndarray]:
    """Eligibility (not swept) and the response groups of every definition.

    Parameters
    ----------
    patients, assessments : validated tables.
    defs : from :func:`definitions`.
    params : fixes what is not swept (eligibility, ``ck_uln``, time points).

    Returns
    -------
    dict of arrays, rows in the order of ``patients``: ``ids``, ``included`` (bool),
    ``myositis_type`` (str), and boolean matrices (patients x definitions)
    ``conv_responder`` (included and responded to conventional treatment), ``tac_analysed``
    (included, failed conventional treatment under that definition, received tacrolimus with
    sufficient data) and ``tac_responder``: the columns of
    :func:`analysis.cohort.analysis_groups` for every definition at once.
    """
    from analysis.cohort import apply_eligibility

    eligible = apply_eligibility(patients, params)
    ids = eligible["patient_id"].astype(str).tolist()
    included = eligible["included"].to_numpy(dtype=bool)
    tac_ok = ((eligible["second_line"] == "tacrolimus").fillna(False).to_numpy(dtype=bool)
              & _flags(eligible["tacrolimus_data_sufficient"]))
    conv = responder_matrix(
        patient_changes(assessments, ids, "index", params.conventional_followup, params), defs)
    tac = responder_matrix(
        patient_changes(assessments, ids, "tac_start", params.tacrolimus_followup, params), defs)
    conv_responder = conv & included[:, None]
    tac_analysed = included[:, None] & ~conv_responder & tac_ok[:, None]
    return {"ids": np.asarray(ids), "included": included,
            "myositis_type": eligible["myositis_type"].astype(str).to_numpy(),
            "conv_responder": conv_responder, "tac_analysed": tac_analysed,
            "tac_responder": tac_analysed & tac}


def _pct(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    part = np.asarray(part, dtype=float)
    whole = np.asarray(whole, dtype=float)
    out = np.full(part.shape, np.nan)
    np.divide(100.0 * part, whole, out=out, where=whole > 0)
    return out


def _column_keys(matrix: np.ndarray) -> list[bytes]:
    """One hashable key per column of a boolean matrix (its bits)."""
    packed = np.packbits(matrix, axis=0)
    return [packed[:, j].tobytes() for j in range(matrix.shape[1])]


def sweep(patients: pd.DataFrame, assessments: pd.DataFrame, params: Params | None = None,
          grid: Mapping[str, Sequence[Any]] | None = None) -> pd.DataFrame:
    """Recompute the conclusions' numbers under every definition of the grid.

    Parameters
    ----------
    patients, assessments : validated tables (:func:`analysis.schema.read_cohort`).
    params : the run's parameters (default: the paper's). Fixes everything not swept
        (eligibility, ``ck_uln``, time points, test rules) and marks the reference
        definition.
    grid : see :func:`definitions` (default :data:`DEFAULT_GRID`).

    Returns
    -------
    DataFrame, one row per definition (columns of :func:`definitions`, then):

    - ``n_included``, ``conv_responders``, ``conv_pct``: conventional response.
    - ``pm_n``, ``pm_responders``, ``pm_pct``, ``dm_n``, ``dm_responders``, ``dm_pct``,
      ``cadm_n``, ``cadm_responders``; ``pm_dm_diff`` (PM minus DM, percentage points);
      ``pm_dm_p`` (two-sided Fisher exact test, PM vs DM x responded or not);
      ``myositis_p``, ``myositis_test``: Table 2's myositis row (PM, DM, CADM), its test rule
      with the two-sided Fisher p (``p_two_sided`` of :func:`analysis.tables.compare_groups`).
    - ``tac_n`` (analysed for tacrolimus under that definition), ``tac_responders``,
      ``tac_pct``, ``tac_binom_p`` (two-sided exact binomial test of the rate against 50%).
    - for ``m`` in fvc, tlc, at tacrolimus start: ``m_resp``, ``m_nonresp`` (means),
      ``m_diff`` (responders minus non-responders), ``m_p`` (Table 3's test for the row,
      ``params.continuous_test("t3.m")``, Mann-Whitney by default; NaN unless both groups
      have at least 2 values, as in Table 3), ``m_test`` (that test's id).

    Notes
    -----
    Sharma 2017, Abstract; Results (Response to conventional treatment, Use of tacrolimus);
    Tables 2 and 3. Counts, means and p-values equal those of :mod:`analysis.cohort` and
    :mod:`analysis.tables` run with that definition's parameters (tested on sampled
    definitions).
    """
    from analysis import stats

    params = params or Params()
    defs = definitions(grid, params)
    g = response_matrices(patients, assessments, defs, params)
    conv, analysed, tac = g["conv_responder"], g["tac_analysed"], g["tac_responder"]
    included = g["included"]
    out = defs.copy()
    n_included = int(included.sum())
    out["n_included"] = n_included
    out["conv_responders"] = conv.sum(axis=0)
    out["conv_pct"] = _pct(out["conv_responders"], np.full(len(defs), n_included))

    # PM vs DM (and CADM): count tables, p-values cached per distinct table.
    counts = {}
    for key, level in (("pm", "PM"), ("dm", "DM"), ("cadm", "CADM")):
        members = included & (g["myositis_type"] == level)
        counts[key] = (int(members.sum()), (conv & members[:, None]).sum(axis=0))
        out[f"{key}_n"] = counts[key][0]
        out[f"{key}_responders"] = counts[key][1]
    out["pm_pct"] = _pct(out["pm_responders"], out["pm_n"])
    out["dm_pct"] = _pct(out["dm_responders"], out["dm_n"])
    out["pm_dm_diff"] = out["pm_pct"] - out["dm_pct"]
    tables = np.column_stack([np.column_stack([counts[k][1], counts[k][0] - counts[k][1]])
                              for k in ("pm", "dm", "cadm")])  # pm_r, pm_n, dm_r, ...
    fisher_cache: dict[tuple[int, ...], float] = {}
    rxc_cache: dict[tuple[int, ...], tuple[float, str]] = {}
    pm_dm_p, myo_p, myo_test = [], [], []
    for row in tables.tolist():
        key = tuple(row)
        if key[:4] not in fisher_cache:
            two = np.array([[key[0], key[1]], [key[2], key[3]]])
            fisher_cache[key[:4]] = stats.fisher_exact(two)  # nan if a group is empty
        if key not in rxc_cache:
            rxc_cache[key] = tuple(stats.choose_categorical_test(
                np.array(key).reshape(3, 2), rule=params.fisher_rule,
                threshold=params.fisher_threshold, fisher_sided="two-sided",
                correction=params.chi2_correction))
        pm_dm_p.append(fisher_cache[key[:4]])
        myo_p.append(rxc_cache[key][0])
        myo_test.append(rxc_cache[key][1])
    out["pm_dm_p"] = pm_dm_p
    out["myositis_p"] = myo_p
    out["myositis_test"] = myo_test

    # Tacrolimus: the group depends on the definition (failures of conventional treatment).
    out["tac_n"] = analysed.sum(axis=0)
    out["tac_responders"] = tac.sum(axis=0)
    out["tac_pct"] = _pct(out["tac_responders"], out["tac_n"])
    binom_cache: dict[tuple[int, int], float] = {}
    binom_p = []
    for k, n in zip(out["tac_responders"].tolist(), out["tac_n"].tolist(), strict=True):
        if (k, n) not in binom_cache:
            binom_cache[k, n] = (float(_binomtest(k, n)) if n > 0 else math.nan)
        binom_p.append(binom_cache[k, n])
    out["tac_binom_p"] = binom_p

    # Table 3: FVC and TLC at tacrolimus start, responders minus non-responders.
    start = (assessments.loc[assessments["timepoint"] == "tac_start"]
             .drop_duplicates("patient_id").set_index("patient_id")
             .reindex(pd.Index(g["ids"])))
    nonresp = analysed & ~tac
    group_keys = [a + b for a, b in zip(_column_keys(tac), _column_keys(nonresp), strict=True)]
    for measure in _T3_MEASURES:
        values = _floats(start[measure])
        known = ~np.isnan(values)
        filled = np.where(known, values, 0.0)
        n_r = (tac & known[:, None]).sum(axis=0)
        n_n = (nonresp & known[:, None]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_r = np.where(n_r > 0, filled @ (tac & known[:, None]) / n_r, np.nan)
            mean_n = np.where(n_n > 0, filled @ (nonresp & known[:, None]) / n_n, np.nan)
        test = params.continuous_test(f"t3.{measure}")
        cache: dict[bytes, float] = {}
        p_values = []
        for j, key in enumerate(group_keys):
            if key not in cache:
                x = values[tac[:, j] & known]
                y = values[nonresp[:, j] & known]
                cache[key] = (stats.two_sample(x, y, test=test) if len(x) > 1 and len(y) > 1
                              else math.nan)
            p_values.append(cache[key])
        out[f"{measure}_resp"] = mean_r
        out[f"{measure}_nonresp"] = mean_n
        out[f"{measure}_diff"] = mean_r - mean_n
        out[f"{measure}_p"] = p_values
        out[f"{measure}_test"] = test
    return out


def _binomtest(k: int, n: int) -> float:
    import scipy.stats

    return scipy.stats.binomtest(k, n, 0.5, alternative="two-sided").pvalue


# --------------------------------------------------------------------------- conclusions
def reference_label(params: Params | None = None) -> str:
    """"paper's definition", or "this run's definition" when a response field differs.

    >>> reference_label(), reference_label(Params(fvc_decline=0.05))
    ("paper's definition", "this run's definition")
    """
    diff = (params or Params()).differences()
    changed = [name for name in diff if name in CLASSIFICATION_FIELDS]
    return "this run's definition" if changed else "paper's definition"


def _p_text(p: float) -> str:
    from analysis.figures import format_p

    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _count(value: float) -> str:
    return "n/a" if pd.isna(value) else str(int(value))


_CATEGORICAL_NAMES = {"fisher_rxc": "Fisher-Freeman-Halton exact test",
                      "chi2": "Pearson chi-square test", "chi2_yates": "chi-square with Yates",
                      "not_testable": "not testable"}
_TEST_NAMES = {"mannwhitney": "two-sided Mann-Whitney test", "t": "two-sided Student t test",
               "welch": "two-sided Welch t test"}


def _claims(alpha: float, ref: pd.Series) -> list[dict[str, Any]]:
    """The paper's conclusions, each as a rule on a row of the sweep."""
    a = f"{alpha:g}"

    def test_name(measure):
        test = str(ref.get(f"{measure}_test", ""))
        return _TEST_NAMES.get(test, test or "Table 3's test")

    def pm_vs_dm(r):
        return (r["pm_pct"] > r["dm_pct"]) & (r["pm_dm_p"] < alpha)

    def myositis(r):
        return r["myositis_p"] < alpha

    def tac_majority(r):
        return r["tac_pct"] > 50

    def lower(measure):
        return lambda r: (r[f"{measure}_diff"] > 0) & (r[f"{measure}_p"] < alpha)

    return [
        {"conclusion": "pm_vs_dm", "source": "Abstract; Results, conventional treatment",
         "claim": "PM-ILD responded to conventional treatment more often than DM-ILD",
         "criterion": f"(PM rate above DM rate, two-sided Fisher exact test p < {a})",
         "rule": pm_vs_dm,
         "detail": lambda r: (f"{_count(r['pm_responders'])}/{_count(r['pm_n'])} vs "
                              f"{_count(r['dm_responders'])}/{_count(r['dm_n'])}, "
                              f"{_p_text(r['pm_dm_p'])}")},
        {"conclusion": "myositis_type", "source": "Table 2, myositis row (printed p = 0.013)",
         "claim": "Response to conventional treatment differed by myositis type",
         "criterion": f"(PM, DM and CADM; Table 2's test of the row, two-sided, p < {a})",
         "rule": myositis,
         "detail": lambda r: (f"{_p_text(r['myositis_p'])}, "
                              f"{_CATEGORICAL_NAMES.get(r['myositis_test'], r['myositis_test'])}")},
        {"conclusion": "tac_majority", "source": "Abstract; Results, use of tacrolimus",
         "claim": "A majority of the patients given tacrolimus responded",
         "criterion": "(response rate above 50%)",
         "rule": tac_majority,
         "detail": lambda r: (f"{_count(r['tac_responders'])}/{_count(r['tac_n'])}; exact "
                              f"binomial test against 50%: {_p_text(r['tac_binom_p'])}")},
        {"conclusion": "fvc_lower", "source": "Results, use of tacrolimus; Table 3",
         "claim": "Tacrolimus non-responders had lower FVC at tacrolimus start",
         "criterion": f"(responders' mean above non-responders', {test_name('fvc')} "
                      f"p < {a})",
         "rule": lower("fvc"),
         "detail": lambda r: (f"{_fmt(r['fvc_resp'])} vs {_fmt(r['fvc_nonresp'])}, "
                              f"{_p_text(r['fvc_p'])}")},
        {"conclusion": "tlc_lower", "source": "Results, use of tacrolimus; Table 3",
         "claim": "Tacrolimus non-responders had lower TLC at tacrolimus start",
         "criterion": f"(responders' mean above non-responders', {test_name('tlc')} "
                      f"p < {a})",
         "rule": lower("tlc"),
         "detail": lambda r: (f"{_fmt(r['tlc_resp'])} vs {_fmt(r['tlc_nonresp'])}, "
                              f"{_p_text(r['tlc_p'])}")},
    ]


def conclusions(sweep: pd.DataFrame, alpha: float = 0.05,
                label: str = "paper's definition") -> pd.DataFrame:
    """The share of the grid where each of the paper's conclusions holds.

    Parameters
    ----------
    sweep : from :func:`sweep`.
    alpha : significance level of the two-sided tests.
    label : how the sentences name the reference definition (:func:`reference_label`).

    Returns
    -------
    DataFrame, one row per conclusion: ``conclusion`` (id: pm_vs_dm, myositis_type,
    tac_majority, fvc_lower, tlc_lower), ``source`` (where the paper states it), ``claim``,
    ``criterion``, ``n_definitions`` (rows with ``in_grid``), ``n_holds``, ``share`` (0-1),
    ``reference_holds`` (bool), ``reference_detail`` (the numbers under the reference) and
    ``sentence``, e.g. "PM-ILD responded to conventional treatment more often than DM-ILD
    (...) in 266 of 648 definitions (41%; paper's definition: yes, 20/30 vs 7/20,
    p = 0.043)."

    Notes
    -----
    A missing p-value or rate (an empty group) counts as "does not hold". Conclusion
    ``pm_vs_dm`` tests PM against DM directly (2 x 2, two-sided Fisher); ``myositis_type`` is
    the test Table 2 prints (PM, DM and CADM), which does not by itself say PM did better.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie between 0 and 1, got {alpha!r}")
    grid = sweep[sweep["in_grid"].astype(bool)]
    reference = sweep[sweep["is_reference"].astype(bool)]
    if len(reference) != 1 or grid.empty:
        raise DataValidationError("sensitivity sweep: expected a non-empty grid and exactly "
                                  "one reference definition")
    ref = reference.iloc[0]
    records = []
    for claim in _claims(alpha, ref):
        holds = claim["rule"](grid).fillna(False).astype(bool)
        ref_holds = bool(claim["rule"](ref)) if not pd.isna(claim["rule"](ref)) else False
        n, k = len(grid), int(holds.sum())
        detail = claim["detail"](ref)
        sentence = (f"{claim['claim']} {claim['criterion']} in {k} of {n} definitions "
                    f"({_share_text(k, n)}; {label}: {'yes' if ref_holds else 'no'}, "
                    f"{detail}).")
        records.append({"conclusion": claim["conclusion"], "source": claim["source"],
                        "claim": claim["claim"], "criterion": claim["criterion"],
                        "n_definitions": n, "n_holds": k, "share": k / n,
                        "reference_holds": ref_holds, "reference_detail": detail,
                        "sentence": sentence})
    return pd.DataFrame.from_records(records)


def _share_text(k: int, n: int) -> str:
    """Percent of the grid, never rounded to 0% or 100% when it is not.

    >>> _share_text(1, 648), _share_text(647, 648), _share_text(266, 648)
    ('<1%', '>99%', '41%')
    """
    share = 100 * k / n
    if 0 < share < 1:
        return "<1%"
    if 99 < share < 100:
        return ">99%"
    return f"{share:.0f}%"


# --------------------------------------------------------------------------- bootstrap
def _percentile(samples: np.ndarray, level: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def _boot_mean(rng: np.random.Generator, values: np.ndarray, n_resamples: int) -> np.ndarray:
    """Means of ``n_resamples`` resamples (with replacement) of ``values`` (NaN if empty)."""
    if values.size == 0:
        return np.full(n_resamples, np.nan)
    idx = rng.integers(0, values.size, size=(n_resamples, values.size))
    return values[idx].mean(axis=1)


def bootstrap(groups: pd.DataFrame, assessments: pd.DataFrame, n_resamples: int = 5000,
              seed: int = 2017, level: float = 0.95) -> pd.DataFrame:
    """Percentile bootstrap confidence intervals of the main proportions and differences.

    Parameters
    ----------
    groups : :func:`analysis.cohort.analysis_groups` under the run's definition.
    assessments : validated assessments (FVC and TLC at tacrolimus start).
    n_resamples : resamples per quantity (at least 2000).
    seed : seed of ``numpy.random.default_rng``; one generator draws every quantity in the
        order of the rows, so the result is deterministic.
    level : confidence level.

    Returns
    -------
    DataFrame, one row per quantity: ``quantity`` (conv_pct, pm_pct, dm_pct, pm_dm_diff,
    tac_pct, fvc_diff, tlc_diff), ``label``, ``estimate``, ``ci_low``, ``ci_high`` (percent or
    percentage points for rates, % predicted for FVC/TLC), ``numerator`` and ``denominator``
    (counts behind a rate; group sizes ``responders/non-responders`` for a difference),
    ``resampling`` (what was resampled), ``n_resamples``, ``seed``.

    Notes
    -----
    Resampling units: the 54 included patients for the conventional response rate; the PM and
    the DM patients separately (stratified, fixed group sizes) for their rates and their
    difference; the tacrolimus-analysed patients for the tacrolimus rate; the tacrolimus
    responders and non-responders separately for Table 3's FVC and TLC differences (patients
    with a missing value left out). Sharma 2017 reports no interval; these are ours.
    """
    if n_resamples < 2000:
        raise ParameterError(f"n_resamples must be at least 2000, got {n_resamples}")
    if not 0 < level < 1:
        raise ParameterError(f"level must lie between 0 and 1, got {level!r}")
    rng = np.random.default_rng(seed)
    included = groups[groups["included"].astype(bool)]
    conv = included["conv_responder"].fillna(False).astype(bool).to_numpy(dtype=float)
    types = included["myositis_type"].astype(str).to_numpy()
    pm, dm = conv[types == "PM"], conv[types == "DM"]
    analysed = groups[groups["tac_analysed"].astype(bool)]
    tac = analysed["tac_responder"].fillna(False).astype(bool).to_numpy()
    start = (assessments.loc[assessments["timepoint"] == "tac_start"]
             .drop_duplicates("patient_id").set_index("patient_id"))
    records = []

    def add(quantity, label, estimate, samples, numerator, denominator, resampling):
        low, high = _percentile(samples, level)
        records.append({"quantity": quantity, "label": label, "estimate": float(estimate),
                        "ci_low": low, "ci_high": high, "numerator": numerator,
                        "denominator": denominator, "resampling": resampling,
                        "n_resamples": n_resamples, "seed": seed})

    def rate(values):
        return 100 * values.mean() if values.size else math.nan

    add("conv_pct", "Response to conventional treatment, %", rate(conv),
        100 * _boot_mean(rng, conv, n_resamples), int(conv.sum()), conv.size,
        "included patients")
    pm_s = 100 * _boot_mean(rng, pm, n_resamples)
    dm_s = 100 * _boot_mean(rng, dm, n_resamples)
    add("pm_pct", "PM-ILD response, %", rate(pm), pm_s, int(pm.sum()), pm.size, "PM patients")
    add("dm_pct", "DM-ILD response, %", rate(dm), dm_s, int(dm.sum()), dm.size, "DM patients")
    add("pm_dm_diff", "PM minus DM response, percentage points", rate(pm) - rate(dm),
        pm_s - dm_s, None, None, "PM and DM patients separately")
    tac_f = tac.astype(float)
    add("tac_pct", "Response to tacrolimus, %", rate(tac_f),
        100 * _boot_mean(rng, tac_f, n_resamples), int(tac.sum()), tac.size,
        "tacrolimus-analysed patients")
    ids = analysed["patient_id"].astype(str)
    for measure in _T3_MEASURES:
        values = _floats(start[measure].reindex(pd.Index(ids)))
        x = values[tac & ~np.isnan(values)]
        y = values[~tac & ~np.isnan(values)]
        estimate = (x.mean() - y.mean()) if x.size and y.size else math.nan
        samples = _boot_mean(rng, x, n_resamples) - _boot_mean(rng, y, n_resamples)
        add(f"{measure}_diff", f"{measure.upper()} at tacrolimus start, responders minus "
            "non-responders, % predicted", estimate, samples, x.size, y.size,
            "tacrolimus responders and non-responders separately")
    out = pd.DataFrame.from_records(records)
    out["numerator"] = out["numerator"].astype("Int64")
    out["denominator"] = out["denominator"].astype("Int64")
    return out


# --------------------------------------------------------------------------- figures
def _nearest(values: Sequence[Any], target: Any) -> Any:
    if isinstance(target, str):
        return target if target in values else values[0]
    return min(values, key=lambda v: (abs(float(v) - float(target)), float(v)))


def _slice_values(sweep: pd.DataFrame) -> dict[str, Any]:
    """Values of the fields held fixed in the heatmaps: the reference's (or the nearest)."""
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    grid = sweep[sweep["in_grid"].astype(bool)]
    return {name: _nearest(list(dict.fromkeys(grid[name])), ref[name])
            for name in ("dlco_decline", "ck_fall")}


def _pct_label(value: float) -> str:
    return f"{100 * value:.0f}"


def _reference_shown(sweep: pd.DataFrame) -> bool:
    """Whether the heatmaps contain the reference definition (it is on the grid)."""
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    fixed = _slice_values(sweep)
    return bool(ref["in_grid"]) and all(_same(fixed[k], ref[k]) for k in fixed)


def _held_text(fixed: Mapping[str, Any]) -> str:
    """The fields held fixed in the heatmaps, in words."""
    dlco = _pct_label(fixed["dlco_decline"])
    return (f"DLCO decline {dlco}% if relative, {dlco} points if absolute; "
            f"CK fall more than {_pct_label(fixed['ck_fall'])}%")


def _any_reversed(frame: pd.DataFrame) -> bool:
    """Whether DM-ILD responded at least as often as PM-ILD in any row."""
    return bool((~(frame["pm_pct"] > frame["dm_pct"])).any())


def plot_heatmap(sweep: pd.DataFrame, value: str, label: str = "paper's definition") -> Figure:
    """Small multiples of FVC x TLC decline cutoffs: rows = decline scale, columns = ILD
    criteria required; DLCO decline and CK fall at the reference's values.

    Parameters
    ----------
    sweep : from :func:`sweep`.
    value : ``"conv_responders"`` (number of conventional responders, each cell annotated)
        or ``"pm_dm_p"`` (two-sided Fisher p of PM vs DM, binned at 0.001, 0.01, 0.05, 0.1,
        0.2; a cell where DM did at least as well as PM is marked with a dagger).
    label : name of the reference definition, marked with a black box.

    Returns
    -------
    matplotlib.figure.Figure
        Colour maps: viridis (responders) and cividis (p), both colour-blind safe.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
    from matplotlib.patches import Rectangle

    from analysis.figures import _new_figure, format_p, style_context

    if value not in ("conv_responders", "pm_dm_p"):
        raise ParameterError(f"value must be 'conv_responders' or 'pm_dm_p', got {value!r}")
    grid = sweep[sweep["in_grid"].astype(bool)]
    fixed = _slice_values(sweep)
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    part = grid[np.isclose(grid["dlco_decline"], fixed["dlco_decline"])
                & np.isclose(grid["ck_fall"], fixed["ck_fall"])]
    fvcs = sorted(part["fvc_decline"].unique())
    tlcs = sorted(part["tlc_decline"].unique())
    required = sorted(part["ild_criteria_required"].unique())
    scales = [s for s in _SCALES if s in set(part["decline_scale"])]
    import matplotlib

    if value == "conv_responders":
        cmap = matplotlib.colormaps["viridis"]
        # The colours span the grid's range (not 0 to n): small differences stay visible.
        norm = Normalize(vmin=float(grid[value].min()), vmax=float(grid[value].max()))
        bar_label = "Conventional responders (of the {} included)".format(
            int(grid["n_included"].iloc[0]))
    else:
        bounds = [0, 0.001, 0.01, 0.05, 0.1, 0.2, 1.0]
        base = matplotlib.colormaps["cividis"]
        cmap = ListedColormap(base(np.linspace(0.0, 1.0, len(bounds) - 1)))
        norm = BoundaryNorm(bounds, cmap.N)
        bar_label = "PM vs DM, two-sided Fisher p"
    ncols, nrows = len(required), len(scales)
    width = 1.2 + 1.75 * ncols
    height = 1.2 + 1.7 * nrows
    with style_context():
        fig = _new_figure((width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        image = None
        marked = False
        for i, scale in enumerate(scales):
            for j, req in enumerate(required):
                ax = axes[i, j]
                cell = part[(part["decline_scale"] == scale)
                            & (part["ild_criteria_required"] == req)]
                mat = (cell.pivot_table(index="tlc_decline", columns="fvc_decline",
                                        values=value, aggfunc="first", dropna=False)
                       .reindex(index=tlcs, columns=fvcs))
                data = mat.to_numpy(dtype=float)
                image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm,
                                  origin="lower", aspect="auto")
                ax.grid(False)
                for (r, c), v in np.ndenumerate(data):
                    if value == "conv_responders":
                        text = _count(v)
                    else:
                        text = format_p(v)
                        row = cell[np.isclose(cell["tlc_decline"], tlcs[r])
                                   & np.isclose(cell["fvc_decline"], fvcs[c])]
                        if len(row) and not (row["pm_pct"].iloc[0] > row["dm_pct"].iloc[0]):
                            text += "\u2020"
                    shade = cmap(norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
                    lum = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
                    ax.text(c, r, text, ha="center", va="center", fontsize=7,
                            color="black" if lum > 0.5 else "white")
                is_ref = (scale == ref["decline_scale"] and req == ref["ild_criteria_required"]
                          and _same(fixed["dlco_decline"], ref["dlco_decline"])
                          and _same(fixed["ck_fall"], ref["ck_fall"]))
                if is_ref:
                    hits_c = [k for k, f in enumerate(fvcs) if _same(f, ref["fvc_decline"])]
                    hits_r = [k for k, t in enumerate(tlcs) if _same(t, ref["tlc_decline"])]
                    if hits_c and hits_r:
                        ax.add_patch(Rectangle((hits_c[0] - 0.5, hits_r[0] - 0.5), 1, 1,
                                               fill=False, edgecolor="black", linewidth=2.2,
                                               gid="reference"))
                        marked = True
                ax.set_xticks(range(len(fvcs)), [_pct_label(f) for f in fvcs])
                ax.set_yticks(range(len(tlcs)), [_pct_label(t) for t in tlcs])
                ax.tick_params(length=0)
                for side in ("top", "right", "left", "bottom"):
                    ax.spines[side].set_visible(False)
                if i == 0:
                    ax.set_title(f"{req} of 4 ILD criteria", fontsize=8.5)
                if j == 0:
                    unit = "%" if scale == "relative" else "points"
                    ax.set_ylabel(f"{scale.capitalize()} declines ({unit})\nTLC decline")
                if i == nrows - 1:
                    ax.set_xlabel("FVC decline")
        bar = fig.colorbar(image, ax=axes, shrink=0.9, aspect=25)
        bar.set_label(bar_label)
        if value == "pm_dm_p":
            bar.set_ticks([0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 1.0],
                          labels=["0", "0.001", "0.01", "0.05", "0.1", "0.2", "1"])
        note = f"{_held_text(fixed)}. " + (f"Black box: {label}." if marked else
                                            f"The {label} is not on this grid.")
        if value == "pm_dm_p" and _any_reversed(part):
            note += " \u2020 DM rate at least the PM rate."
        fig.supxlabel(textwrap.fill(note, width=int(width * 15)), fontsize=7.5)
    return fig


def plot_shares(claims: pd.DataFrame, label: str = "paper's definition") -> Figure:
    """Horizontal bars: share of the grid where each conclusion holds (from
    :func:`conclusions`), with whether it holds under the reference definition."""
    from analysis.figures import _new_figure, palette, style_context

    short = {"pm_vs_dm": "PM-ILD responds more\nthan DM-ILD",
             "myositis_type": "Response differs by\nmyositis type (Table 2)",
             "tac_majority": "Majority respond\nto tacrolimus",
             "fvc_lower": "Tacrolimus failures:\nlower FVC",
             "tlc_lower": "Tacrolimus failures:\nlower TLC"}
    n = len(claims)
    with style_context():
        colours = palette()
        fig = _new_figure((6.0, 0.55 * n + 1.1), layout="constrained")
        ax = fig.subplots()
        y = np.arange(n)[::-1]
        shares = 100 * claims["share"].to_numpy(dtype=float)
        ax.barh(y, shares, color=colours[0], height=0.6)
        ax.barh(y, 100 - shares, left=shares, color="0.88", height=0.6)
        for yy, share, holds, k, total in zip(y, shares, claims["reference_holds"],
                                              claims["n_holds"], claims["n_definitions"],
                                              strict=True):
            ax.text(101.5, yy, f"{share:.0f}% ({k}/{total}); {label}: "
                    f"{'yes' if holds else 'no'}", va="center", fontsize=7.5)
        ax.set_yticks(y, [short.get(c, c) for c in claims["conclusion"]])
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("Share of the grid of definitions where the conclusion holds, %")
        ax.tick_params(axis="y", length=0)
        ax.grid(False)
        ax.spines["left"].set_visible(False)
    return fig


#: Figures of the section: stem -> (value drawn, report label).
FIGURES: dict[str, tuple[str, str]] = {
    "sensitivity_responders": ("conv_responders", "fig-sens-responders"),
    "sensitivity_pm_dm": ("pm_dm_p", "fig-sens-pm-dm"),
    "sensitivity_shares": ("shares", "fig-sens-shares"),
}


def sensitivity_figures(sweep: pd.DataFrame, claims: pd.DataFrame,
                        label: str = "paper's definition") -> dict[str, Figure]:
    """The section's figures by file stem (see :data:`FIGURES`)."""
    out = {}
    for stem, (value, _) in FIGURES.items():
        out[stem] = (plot_shares(claims, label) if value == "shares"
                     else plot_heatmap(sweep, value, label))
    return out


def _figure_captions(sweep: pd.DataFrame, label: str) -> dict[str, str]:
    fixed = _slice_values(sweep)
    held = _held_text(fixed)
    grid = sweep[sweep["in_grid"].astype(bool)]
    part = grid[np.isclose(grid["dlco_decline"], fixed["dlco_decline"])
                & np.isclose(grid["ck_fall"], fixed["ck_fall"])]
    dagger = ("; a dagger marks definitions where DM-ILD responded at least as often as "
              "PM-ILD" if _any_reversed(part) else "")
    box = (f"The box marks the {label}" if _reference_shown(sweep)
           else f"The {label} is not on the grid")
    return {
        "sensitivity_responders": (
            "Number of conventional responders by the FVC and TLC decline cutoffs (relative "
            "declines in %, absolute in points of predicted), the number of ILD criteria "
            f"required and the decline scale; {held}. {box}"),
        "sensitivity_pm_dm": (
            "PM vs DM response to conventional treatment: two-sided Fisher exact p-value by "
            f"the same cutoffs; {held}{dagger}. {box}"),
        "sensitivity_shares": (
            "Share of the grid of definitions in which each conclusion of the paper holds at "
            "the chosen significance level"),
    }


# --------------------------------------------------------------------------- report
def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"


def _grid_description(sweep: pd.DataFrame) -> str:
    grid = sweep[sweep["in_grid"].astype(bool)]

    def levels(name, pct=True):
        vals = list(dict.fromkeys(grid[name]))
        return ", ".join(_pct_label(v) if pct else str(v) for v in vals)

    return (f"declines of FVC by {levels('fvc_decline')}, TLC by {levels('tlc_decline')} and "
            f"DLCO by {levels('dlco_decline')} (percent of baseline when relative, "
            f"percentage points of predicted when absolute); "
            f"{levels('ild_criteria_required', False)} of the 4 ILD criteria required; a CK "
            f"fall of more than {levels('ck_fall')}%; declines "
            f"{' or '.join(dict.fromkeys(grid['decline_scale']))}")


def _range_table(sweep: pd.DataFrame) -> pd.DataFrame:
    grid = sweep[sweep["in_grid"].astype(bool)]
    ref = sweep[sweep["is_reference"].astype(bool)].iloc[0]
    rows = [("Conventional responders", "conv_responders", 0),
            ("Conventional response, %", "conv_pct", 1),
            ("PM-ILD response, %", "pm_pct", 1), ("DM-ILD response, %", "dm_pct", 1),
            ("PM minus DM, percentage points", "pm_dm_diff", 1),
            ("PM vs DM, two-sided Fisher p", "pm_dm_p", 3),
            ("Myositis type (Table 2), two-sided exact p", "myositis_p", 3),
            ("Patients analysed for tacrolimus", "tac_n", 0),
            ("Response to tacrolimus, %", "tac_pct", 1),
            ("FVC at tacrolimus start, responders minus non-responders", "fvc_diff", 1),
            ("FVC, Table 3 test p", "fvc_p", 3),
            ("TLC at tacrolimus start, responders minus non-responders", "tlc_diff", 1),
            ("TLC, Table 3 test p", "tlc_p", 3)]
    out = []
    for label, column, digits in rows:
        values = grid[column].astype(float)
        out.append({"Result": label, "Reference": _fmt(ref[column], digits),
                    "Minimum": _fmt(values.min(), digits),
                    "Median": _fmt(values.median(), digits),
                    "Maximum": _fmt(values.max(), digits)})
    return pd.DataFrame(out)


def _bootstrap_table(boot: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for rec in boot.to_dict("records"):
        if rec["quantity"].endswith("_pct") and not pd.isna(rec["denominator"]):
            estimate = (f"{_fmt(rec['estimate'])} ({int(rec['numerator'])}/"
                        f"{int(rec['denominator'])})")
        elif rec["quantity"] in ("fvc_diff", "tlc_diff") and not pd.isna(rec["numerator"]):
            estimate = (f"{_fmt(rec['estimate'])} (n = {int(rec['numerator'])} vs "
                        f"{int(rec['denominator'])})")
        else:
            estimate = _fmt(rec["estimate"])
        rows.append({"Quantity": rec["label"], "Estimate": estimate,
                     "95% CI": f"{_fmt(rec['ci_low'])} to {_fmt(rec['ci_high'])}",
                     "Resampled": rec["resampling"]})
    return pd.DataFrame(rows)


def sensitivity_markdown(sweep: pd.DataFrame, claims: pd.DataFrame, boot: pd.DataFrame,
                         label: str = "paper's definition", alpha: float = 0.05) -> str:
    """The report section (``tables/sensitivity.md``), every number generated.

    Parameters
    ----------
    sweep, claims, boot : from :func:`sweep`, :func:`conclusions` and :func:`bootstrap`.
    label : how the reference definition is named (:func:`reference_label`).
    alpha : the significance level used in :func:`conclusions` (for the prose).

    Returns
    -------
    str
        Markdown: a level-1 heading, prose, one bullet per conclusion, a table of ranges
        (``{#tbl-sens-range}``), the bootstrap table (``{#tbl-bootstrap}``) and the figures
        (``![...](figures/<stem>.png){#fig-sens-...}``, paths relative to the run folder).
    """
    from analysis.outputs import markdown_table

    grid = sweep[sweep["in_grid"].astype(bool)]
    n = len(grid)
    resamples = int(boot["n_resamples"].iloc[0]) if len(boot) else 0
    seed = int(boot["seed"].iloc[0]) if len(boot) else 0
    captions = _figure_captions(sweep, label)
    parts = [
        "# Sensitivity of the conclusions to the definitions",
        "",
        f"The paper fixes one definition of response. This section recomputes the numbers "
        f"behind its conclusions under each of {n} definitions: every combination of "
        f"{_grid_description(sweep)}. Everything else (eligibility, time points, tests) is "
        f"as in this run. The tacrolimus group changes with the definition: it is the "
        f"patients who failed conventional treatment under that definition and received "
        f"tacrolimus with sufficient data. A conclusion holds in a definition when its "
        f"direction is the paper's and, where the paper gives a p-value, the two-sided test "
        f"gives p < {alpha:g}. The data are synthetic: the shares describe how much the "
        f"conclusions depend on the definitions, not how real patients would respond.",
        "",
        *[f"- {s}" for s in claims["sentence"]],
        "",
        markdown_table(_range_table(sweep),
                       f"Results across the {n} definitions of the grid, and under the "
                       f"{label} (Reference)", "tbl-sens-range").rstrip("\n"),
        "",
        markdown_table(_bootstrap_table(boot),
                       f"Bootstrap 95% confidence intervals under the {label} (percentile "
                       f"method, {resamples} resamples, seed {seed}); rates in %, differences in "
                       "percentage points or % predicted", "tbl-bootstrap").rstrip("\n"),
        "",
    ]
    for stem, (_, fig_label) in FIGURES.items():
        parts += [f"![{captions[stem]}.](figures/{stem}.png){{#{fig_label}}}", ""]
    return "\n".join(parts)


def sensitivity_results(sweep: pd.DataFrame, claims: pd.DataFrame,
                        boot: pd.DataFrame) -> dict[str, float]:
    """Summary numbers for the run's results (keys ``sens.*``).

    Keys: ``sens.n_definitions``; ``sens.share.<conclusion>`` (percent of the grid) and
    ``sens.reference.<conclusion>`` (1 or 0); ``sens.conv_responders.min``/``.max``;
    ``sens.tac_pct.min``/``.max``; ``sens.boot.<quantity>.estimate``/``.low``/``.high``.
    """
    grid = sweep[sweep["in_grid"].astype(bool)]
    out: dict[str, float] = {"sens.n_definitions": float(len(grid))}
    for rec in claims.to_dict("records"):
        out[f"sens.share.{rec['conclusion']}"] = 100.0 * rec["share"]
        out[f"sens.reference.{rec['conclusion']}"] = float(rec["reference_holds"])
    for column in ("conv_responders", "tac_pct"):
        out[f"sens.{column}.min"] = float(grid[column].min())
        out[f"sens.{column}.max"] = float(grid[column].max())
    for rec in boot.to_dict("records"):
        stem = f"sens.boot.{rec['quantity']}"
        out[f"{stem}.estimate"] = float(rec["estimate"])
        out[f"{stem}.low"] = float(rec["ci_low"])
        out[f"{stem}.high"] = float(rec["ci_high"])
    return out


def save_sensitivity(run_dir: str | Path, sweep: pd.DataFrame, claims: pd.DataFrame,
                     boot: pd.DataFrame, label: str = "paper's definition",
                     alpha: float = 0.05) -> list[Path]:
    """Write ``tables/sensitivity.csv`` (the full grid, numeric), ``tables/sensitivity.md``
    (the report section), ``tables/sensitivity_conclusions.csv``,
    ``tables/sensitivity_bootstrap.csv`` and ``figures/sensitivity_*.png/.svg``."""
    from analysis.figures import save_figure
    from analysis.outputs import write_text

    run_dir = Path(run_dir)
    tables = run_dir / "tables"

    def csv(frame: pd.DataFrame) -> str:
        return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")

    paths = [write_text(tables / "sensitivity.csv", csv(sweep)),
             write_text(tables / "sensitivity_conclusions.csv", csv(claims)),
             write_text(tables / "sensitivity_bootstrap.csv", csv(boot)),
             write_text(tables / "sensitivity.md",
                        sensitivity_markdown(sweep, claims, boot, label, alpha))]
    for stem, figure in sensitivity_figures(sweep, claims, label).items():
        paths += save_figure(figure, run_dir / "figures", stem)
    return paths
