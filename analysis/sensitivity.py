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

The response rules are not repeated here: every definition is a column of the patients x
definitions matrices of :func:`analysis.response.evaluate`, grouped by
:func:`analysis.cohort.group_matrices` (the paper run is the one-column case of the same
code). p-values are computed once per distinct contingency table or per distinct pair of
groups (many definitions give identical tables).

Also here: seeded percentile-bootstrap confidence intervals for the main proportions and
differences under the run's definition (:func:`bootstrap`), the share of the grid where each
conclusion holds (:func:`conclusions`) and the results dict (:func:`sensitivity_results`).
The figures and the report section are in :mod:`analysis.report.sensitivity`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.cohort import pattern_matrix_chunks
from analysis.errors import DataValidationError, ParameterError
from analysis.params import SENSITIVITY_AXES, SENSITIVITY_GRID, Params
from analysis.report.format import p_clause
from analysis.response import DEFINITION_FIELDS

__all__ = [
    "DEFAULT_GRID",
    "SWEPT",
    "CLASSIFICATION_FIELDS",
    "definitions",
    "same_value",
    "sweep",
    "conclusions",
    "claim_rows",
    "bootstrap",
    "reference_label",
    "format_count",
    "format_value",
    "sensitivity_results",
]

#: The fields of :class:`analysis.params.Params` the grid can sweep, in the grid's order.
SWEPT: tuple[str, ...] = SENSITIVITY_AXES

#: The default grid (``Params.sensitivity_grid``'s default): 3 x 3 x 3 x 4 x 3 x 2 x 3 x 2 x 2
#: = 7776 definitions, the paper's among them (0.10, 0.10, 0.15, 2, 0.50, relative, CK limit
#: 200 U/l, a missing CK counted as refractory). Declines either side of the paper's cutoffs by
#: 5 points (the ATS statement's "significant" FVC change is 10%, 5% is often called marginal);
#: every number of the 4 ILD criteria; CK falls of 30-70%; relative or absolute declines; the
#: assumptions the paper does not fix (issue 12): a CK upper limit of 150, 200 or 250 U/l and
#: both readings of a missing baseline or follow-up CK. ``pft_missing`` keeps the run's value
#: unless the grid names it.
DEFAULT_GRID: Mapping[str, tuple[Any, ...]] = MappingProxyType(
    {name: tuple(values) for name, values in SENSITIVITY_GRID.items()})

#: Fields that change who is included or how response is judged (the reference is "the
#: paper's definition" when none of them differs from the paper's value).
CLASSIFICATION_FIELDS = tuple(dict.fromkeys(
    ("min_age", "age_rule", "conventional_followup", "tacrolimus_followup", "missing_visit",
     *DEFINITION_FIELDS)))

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


def same_value(a: Any, b: Any) -> bool:
    """Equal definition values (numbers within 1e-12; words exactly)."""
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
    DataFrame, one row per definition: ``definition`` (0, 1, ...), the fields of
    :data:`SWEPT`, ``in_grid`` (part of the grid; the shares are over these rows) and
    ``is_reference`` (exactly one row).

    Examples
    --------
    >>> len(definitions())
    7776
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
    is_ref = np.array([all(same_value(row[n], ref[n]) for n in SWEPT) for row in rows], dtype=bool)
    frame["in_grid"] = True
    frame["is_reference"] = is_ref
    if not is_ref.any():
        extra = pd.DataFrame([{**ref, "in_grid": False, "is_reference": True}])
        frame = pd.concat([frame, extra], ignore_index=True)
    frame.insert(0, "definition", np.arange(len(frame)))
    frame["ild_criteria_required"] = frame["ild_criteria_required"].astype(int)
    for name in ("fvc_decline", "tlc_decline", "dlco_decline", "ck_fall", "ck_uln"):
        frame[name] = frame[name].astype(float)
    for name in ("decline_scale", "ck_missing_baseline", "ck_missing_followup", "pft_missing"):
        frame[name] = frame[name].astype(str)
    return frame


def _response_definitions(defs: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The swept definitions completed with the run's values of the fields not swept."""
    out = defs.copy()
    for name in DEFINITION_FIELDS:
        if name not in out:
            out[name] = getattr(params, name)
    return out


# --------------------------------------------------------------------------- the sweep
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
        (eligibility, time points, test rules, the response fields the grid leaves out) and
        marks the reference definition.
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
    Tables 2 and 3. The groups are :func:`analysis.cohort.group_matrices`; counts, means and
    p-values equal those of :mod:`analysis.tables` run with that definition's parameters
    (tested on sampled definitions).
    """
    params = params or Params()
    defs = definitions(grid, params)
    start = (assessments.loc[assessments["timepoint"] == "tac_start"]
             .drop_duplicates("patient_id").set_index("patient_id"))
    caches: dict[str, dict] = {"fisher": {}, "rxc": {}, "binom": {}, "fvc": {}, "tlc": {}}
    columns: dict[str, Any] = {}
    values: dict[str, np.ndarray] = {}
    # Slices of the definitions, so memory stays flat at registry scale (MAX_CELLS); p-values
    # are cached across slices, per distinct table or pair of groups. The groups come per
    # distinct patient pattern (rows) with its number of patients (weights): counts are
    # weights @ matrix (exact integers); Table 3's means and tests read patient values.
    for _, _, g in pattern_matrix_chunks(patients, assessments,
                                         _response_definitions(defs, params), params):
        values = values or {m: _floats(start[m].reindex(pd.Index(g["patient_ids"])))
                            for m in _T3_MEASURES}
        for part in (_conventional_columns(g, params, caches), _tacrolimus_columns(g, caches),
                     _table3_columns(g, values, params, caches)):
            for name, value in part.items():
                columns[name] = _extend(columns.get(name), value)
    out = defs.copy()
    for name, value in columns.items():
        out[name] = value
    return out


def _extend(done: Any, more: Any) -> Any:
    """One sweep column over slices: a constant stays a constant, arrays and lists are
    concatenated in order."""
    if done is None or np.ndim(more) == 0:
        return more
    if isinstance(more, list):
        return done + more
    return np.concatenate([done, more])


def _conventional_columns(g: Mapping[str, np.ndarray], params: Params,
                          caches: dict[str, dict]) -> dict[str, Any]:
    """Conventional response and PM vs DM (and CADM): counts, and p-values cached per
    distinct table (two-sided Fisher 2 x 2; Table 2's myositis row, two-sided)."""
    from analysis import stats

    conv, included, w = g["conv_responder"], g["included"], g["weights"]
    n_defs = conv.shape[1]
    n_included = int(w @ included)
    out: dict[str, Any] = {"n_included": n_included, "conv_responders": w @ conv}
    out["conv_pct"] = _pct(out["conv_responders"], np.full(n_defs, n_included))
    counts = {}
    for key, level in (("pm", "PM"), ("dm", "DM"), ("cadm", "CADM")):
        members = included & (g["myositis_type"] == level)
        counts[key] = (int(w @ members), (w * members) @ conv)
        out[f"{key}_n"] = counts[key][0]
        out[f"{key}_responders"] = counts[key][1]
    out["pm_pct"] = _pct(out["pm_responders"], out["pm_n"])
    out["dm_pct"] = _pct(out["dm_responders"], out["dm_n"])
    out["pm_dm_diff"] = out["pm_pct"] - out["dm_pct"]
    tables = np.column_stack([np.column_stack([counts[k][1], counts[k][0] - counts[k][1]])
                              for k in ("pm", "dm", "cadm")])  # pm_r, pm_n, dm_r, ...
    fisher_cache, rxc_cache = caches["fisher"], caches["rxc"]
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
    out.update(pm_dm_p=pm_dm_p, myositis_p=myo_p, myositis_test=myo_test)
    return out


def _tacrolimus_columns(g: Mapping[str, np.ndarray], caches: dict[str, dict]) -> dict[str, Any]:
    """Tacrolimus response (the group depends on the definition: failures of conventional
    treatment) and the exact binomial test of the rate against 50%, cached per (k, n)."""
    out: dict[str, Any] = {"tac_n": g["weights"] @ g["tac_analysed"],
                           "tac_responders": g["weights"] @ g["tac_responder"]}
    out["tac_pct"] = _pct(out["tac_responders"], out["tac_n"])
    binom_cache = caches["binom"]
    binom_p = []
    for k, n in zip(out["tac_responders"].tolist(), out["tac_n"].tolist(), strict=True):
        if (k, n) not in binom_cache:
            binom_cache[k, n] = (float(_binomtest(k, n)) if n > 0 else math.nan)
        binom_p.append(binom_cache[k, n])
    out["tac_binom_p"] = binom_p
    return out


def _table3_columns(g: Mapping[str, np.ndarray], start: Mapping[str, np.ndarray],
                    params: Params, caches: dict[str, dict]) -> dict[str, Any]:
    """Table 3: FVC and TLC at tacrolimus start (``start``: measure -> values of each
    patient), responders minus non-responders, and the row's two-sample test, cached per
    distinct pair of groups (the patterns' columns decide the patients'). Means and tests
    are taken over the patients (``g["inverse"]`` rebuilds their rows)."""
    from analysis import stats

    nonresp_k = g["tac_analysed"] & ~g["tac_responder"]
    group_keys = [a + b for a, b in zip(_column_keys(g["tac_responder"]),
                                        _column_keys(nonresp_k), strict=True)]
    tac, nonresp = g["tac_responder"][g["inverse"]], nonresp_k[g["inverse"]]
    out: dict[str, Any] = {}
    for measure in _T3_MEASURES:
        values = start[measure]
        known = ~np.isnan(values)
        filled = np.where(known, values, 0.0)
        known_k = np.bincount(g["inverse"], weights=known, minlength=len(g["weights"]))
        n_r = np.rint(known_k @ g["tac_responder"]).astype(np.int64)  # exact: integers
        n_n = np.rint(known_k @ nonresp_k).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_r = np.where(n_r > 0, filled @ (tac & known[:, None]) / n_r, np.nan)
            mean_n = np.where(n_n > 0, filled @ (nonresp & known[:, None]) / n_n, np.nan)
        test = params.continuous_test(f"t3.{measure}")
        cache = caches[measure]
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


def _floats(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


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


def format_count(value: float) -> str:
    """A count as text; "n/a" when missing."""
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
         "detail": lambda r: (f"{format_count(r['pm_responders'])}/"
                              f"{format_count(r['pm_n'])} vs "
                              f"{format_count(r['dm_responders'])}/"
                              f"{format_count(r['dm_n'])}, "
                              f"{p_clause(r['pm_dm_p'])}")},
        {"conclusion": "myositis_type", "source": "Table 2, myositis row (printed p = 0.013)",
         "claim": "Response to conventional treatment differed by myositis type",
         "criterion": f"(PM, DM and CADM; Table 2's test of the row, two-sided, p < {a})",
         "rule": myositis,
         "detail": lambda r: (f"{p_clause(r['myositis_p'])}, "
                              f"{_CATEGORICAL_NAMES.get(r['myositis_test'], r['myositis_test'])}")},
        {"conclusion": "tac_majority", "source": "Abstract; Results, use of tacrolimus",
         "claim": "A majority of the patients given tacrolimus responded",
         "criterion": "(response rate above 50%)",
         "rule": tac_majority,
         "detail": lambda r: (f"{format_count(r['tac_responders'])}/"
                              f"{format_count(r['tac_n'])}; exact "
                              f"binomial test against 50%: {p_clause(r['tac_binom_p'])}")},
        {"conclusion": "fvc_lower", "source": "Results, use of tacrolimus; Table 3",
         "claim": "Tacrolimus non-responders had lower FVC at tacrolimus start",
         "criterion": f"(responders' mean above non-responders', {test_name('fvc')} "
                      f"p < {a})",
         "rule": lower("fvc"),
         "detail": lambda r: (f"{format_value(r['fvc_resp'])} vs {format_value(r['fvc_nonresp'])}, "
                              f"{p_clause(r['fvc_p'])}")},
        {"conclusion": "tlc_lower", "source": "Results, use of tacrolimus; Table 3",
         "claim": "Tacrolimus non-responders had lower TLC at tacrolimus start",
         "criterion": f"(responders' mean above non-responders', {test_name('tlc')} "
                      f"p < {a})",
         "rule": lower("tlc"),
         "detail": lambda r: (f"{format_value(r['tlc_resp'])} vs {format_value(r['tlc_nonresp'])}, "
                              f"{p_clause(r['tlc_p'])}")},
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


def claim_rows(sweep: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Whether each of the paper's conclusions holds in each row of the sweep, and its numbers.

    The rules are those of :func:`conclusions` (one place: ``_claims``), applied row by row
    instead of summed over the grid; the robustness explorer of the HTML report
    (:mod:`analysis.report.explorer`) looks them up.

    Parameters
    ----------
    sweep : from :func:`sweep` (any subset of its rows, e.g. the distinct results).
    alpha : significance level of the two-sided tests.

    Returns
    -------
    DataFrame on ``sweep``'s index: for each conclusion id (pm_vs_dm, myositis_type,
    tac_majority, fvc_lower, tlc_lower) a bool column ``<id>`` (a missing p-value or rate:
    False) and a text column ``<id>_detail`` (e.g. "20/30 vs 7/20, p = 0.043").
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie between 0 and 1, got {alpha!r}")
    out = pd.DataFrame(index=sweep.index)
    if sweep.empty:
        return out
    for claim in _claims(alpha, sweep.iloc[0]):
        name = claim["conclusion"]
        out[name] = claim["rule"](sweep).fillna(False).astype(bool)
        out[f"{name}_detail"] = [claim["detail"](row) for _, row in sweep.iterrows()]
    return out


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

def format_value(value: float, digits: int = 1) -> str:
    """A number with ``digits`` decimals; "n/a" when missing."""
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"


# --------------------------------------------------------------------------- bootstrap
def _percentile(samples: np.ndarray, level: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def _boot_mean(rng: np.random.Generator, values: np.ndarray, n_resamples: int,
               max_cells: int = 1 << 21) -> np.ndarray:
    """Means of ``n_resamples`` resamples (with replacement) of ``values`` (NaN if empty).

    Drawn in blocks of resamples of at most ``max_cells`` indices (16 MB), so memory does not
    grow with resamples x patients; numpy's generator fills consecutive blocks with the same
    stream as one draw of the whole matrix, so the means are those of a single draw.
    """
    if values.size == 0:
        return np.full(n_resamples, np.nan)
    step = max(1, max_cells // values.size)
    return np.concatenate([
        values[rng.integers(0, values.size, size=(min(step, n_resamples - done),
                                                  values.size))].mean(axis=1)
        for done in range(0, n_resamples, step)])


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


# --------------------------------------------------------------------------- results
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


