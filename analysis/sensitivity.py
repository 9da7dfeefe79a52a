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
from analysis.response import DEFINITION_FIELDS
from analysis.tables import row_test

__all__ = [
    "DEFAULT_GRID",
    "SWEPT",
    "CLASSIFICATION_FIELDS",
    "definitions",
    "grid_definitions",
    "same_value",
    "sweep",
    "grid_sweep",
    "mark_reference",
    "conclusions",
    "claim_rows",
    "grid_numbers",
    "swept_claims",
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
    marked, extra = _mark(grid_definitions(grid, reference), reference)
    return marked if extra is None else pd.concat([marked, extra], ignore_index=True)


def grid_definitions(grid: Mapping[str, Sequence[Any]] | None = None,
                     reference: Params | None = None) -> pd.DataFrame:
    """The Cartesian product of the grid alone (:func:`definitions` without the run's
    definition marked or added): ``definition``, the fields of :data:`SWEPT` (an axis the
    grid leaves out takes ``reference``'s value), ``in_grid`` (True). It depends on the run's
    parameters only through those axes."""
    values = _grid_values(grid, reference or Params())
    rows = [dict(zip(SWEPT, combo, strict=True))
            for combo in itertools.product(*(values[name] for name in SWEPT))]
    frame = _typed(pd.DataFrame(rows, columns=list(SWEPT)))
    frame["in_grid"] = True
    frame.insert(0, "definition", np.arange(len(frame)))
    return frame


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The swept fields' column types (whole number, decimals, words)."""
    frame["ild_criteria_required"] = frame["ild_criteria_required"].astype(int)
    for name in ("fvc_decline", "tlc_decline", "dlco_decline", "ck_fall", "ck_uln"):
        frame[name] = frame[name].astype(float)
    for name in ("decline_scale", "ck_missing_baseline", "ck_missing_followup", "pft_missing"):
        frame[name] = frame[name].astype(str)
    return frame


def _mark(grid: pd.DataFrame, reference: Params) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``grid`` (rows of :func:`grid_definitions`, any further columns) with
    ``is_reference`` marking the row of ``reference``'s definition, and that definition as a
    one-row frame of :func:`definitions`'s columns (``in_grid`` False, ``is_reference`` True,
    numbered after the grid) when the grid does not contain it (else None)."""
    ref = {name: getattr(reference, name) for name in SWEPT}
    fields = grid[list(SWEPT)].to_dict("records")
    is_ref = np.array([all(same_value(row[n], ref[n]) for n in SWEPT) for row in fields],
                      dtype=bool)
    marked = grid.copy()
    marked.insert(marked.columns.get_loc("in_grid") + 1, "is_reference", is_ref)
    if is_ref.any():
        return marked, None
    extra = _typed(pd.DataFrame([ref], columns=list(SWEPT)))
    extra["in_grid"] = False
    extra["is_reference"] = True
    extra.insert(0, "definition", np.arange(len(grid), len(grid) + 1))
    return marked, extra


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
    return mark_reference(grid_sweep(patients, assessments, params, grid), patients,
                          assessments, params)


def grid_sweep(patients: pd.DataFrame, assessments: pd.DataFrame, params: Params | None = None,
               grid: Mapping[str, Sequence[Any]] | None = None) -> pd.DataFrame:
    """:func:`sweep` over the grid alone, the run's definition neither marked nor added.

    What it reads of ``params``: the fields the grid does not sweep (eligibility, time points,
    the response fields the grid leaves out) and the test rules
    (:func:`analysis.params.step_parameters` ``("sweep")``); not the values of the axes the
    grid names, so runs that differ only in those share it (the step cache keeps it apart,
    :mod:`analysis.steps`). Columns: those of :func:`sweep` but ``is_reference``.
    """
    params = params or Params()
    return _sweep_rows(patients, assessments, grid_definitions(grid, params), params)


def mark_reference(grid: pd.DataFrame, patients: pd.DataFrame, assessments: pd.DataFrame,
                   params: Params | None = None) -> pd.DataFrame:
    """Mark the run's definition in a :func:`grid_sweep` (``is_reference``), computing it as
    one more row (``in_grid`` False, numbered after the grid) when the grid lacks it: the
    frame :func:`sweep` returns."""
    params = params or Params()
    marked, extra = _mark(grid, params)
    if extra is None:
        return marked
    return pd.concat([marked, _sweep_rows(patients, assessments, extra, params)],
                     ignore_index=True)


def _sweep_rows(patients: pd.DataFrame, assessments: pd.DataFrame, defs: pd.DataFrame,
                params: Params) -> pd.DataFrame:
    """The sweep's columns for the definitions ``defs`` (:func:`sweep`'s Returns)."""
    start = (assessments.loc[assessments["timepoint"] == "tac_start"]
             .drop_duplicates("patient_id").set_index("patient_id"))
    caches: dict[str, dict] = {"fisher": {}, "rxc": {}, "binom": {}, "fvc": {}, "tlc": {},
                               "sex": {}, "jo1": {}, "newcombe": {}}
    columns: dict[str, Any] = {}
    values: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    # Slices of the definitions, so memory stays flat at registry scale (MAX_CELLS); p-values
    # are cached across slices, per distinct table or pair of groups. The groups come per
    # distinct patient pattern (rows) with its number of patients (weights): counts are
    # weights @ matrix (exact integers); Table 3's means and tests read patient values.
    for _, _, g in pattern_matrix_chunks(patients, assessments,
                                         _response_definitions(defs, params), params):
        values = values or {m: _floats(start[m].reindex(pd.Index(g["patient_ids"])))
                            for m in _T3_MEASURES}
        codes = codes or _row_codes(patients, g["patient_ids"])
        for part in (_conventional_columns(g, params, caches),
                     _row_columns(g, codes, params, caches), _tacrolimus_columns(g, caches),
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
            rxc_cache[key] = row_test(np.array(key).reshape(3, 2), "t2", "myositis", params)
        pm_dm_p.append(fisher_cache[key[:4]])
        myo_p.append(rxc_cache[key][0])
        myo_test.append(rxc_cache[key][1])
    out.update(pm_dm_p=pm_dm_p, myositis_p=myo_p, myositis_test=myo_test)
    return out


#: Table rows beyond the sweep's own columns that the paper's conclusions read (row of
#: :data:`analysis.tables.ROWS`, the table, the group whose patients it counts).
_CLAIM_ROWS = (("sex", "t2"), ("jo1", "t3"))


def _row_codes(patients: pd.DataFrame, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Each patient's level code of the rows of :data:`_CLAIM_ROWS`, as Tables 2-3 count
    them (:func:`analysis.tables._level_codes`), in the order of ``ids``."""
    from analysis.paper.rows import ROWS, printed_levels
    from analysis.tables import _level_codes

    frame = patients.set_index("patient_id").reindex(pd.Index(ids)).reset_index()
    rows = {row.key: row for row in ROWS}
    out = {}
    for key, table in _CLAIM_ROWS:
        row = rows[key]
        levels = (printed_levels(row, table) if row.kind == "categorical"
                  else (("", True, row.label),))
        out[key] = _level_codes(frame, row, levels, None)
    return out


def _row_columns(g: Mapping[str, np.ndarray], codes: Mapping[str, np.ndarray], params: Params,
                 caches: dict[str, dict]) -> dict[str, Any]:
    """Table 2's sex row (included patients, conventional responders vs failures) and Table
    3's anti-Jo1 row (patients analysed for tacrolimus, responders vs failures) under every
    definition: counts (exact integers, weights @ matrix), the row's p-value and test
    (:func:`analysis.tables.row_test`, Table 2-3's own choice) and, for anti-Jo1, the row's
    effect (:func:`analysis.tables._effect_2x2`), each cached per distinct table."""
    from analysis.tables import _effect_2x2

    inverse, n_patterns = g["inverse"], len(g["weights"])

    def per_pattern(mask: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=mask.astype(float), minlength=n_patterns)

    out: dict[str, Any] = {}
    # sex: levels male (code 0), female (1); Table 2's contingency is levels x (resp, fail)
    sex = codes["sex"]
    conv, included = g["conv_responder"], g["included"]
    cells = {}
    for level, code in (("male", 0), ("female", 1)):
        k = per_pattern(sex == code)
        n_level = int(np.rint(k @ included))
        cells[level] = (np.rint(k @ conv).astype(np.int64), n_level)
    sex_p, sex_test = [], []
    for m_r, f_r in zip(cells["male"][0].tolist(), cells["female"][0].tolist(), strict=True):
        key = (m_r, cells["male"][1] - m_r, f_r, cells["female"][1] - f_r)
        if key not in caches["sex"]:
            caches["sex"][key] = row_test(np.array(key).reshape(2, 2), "t2", "sex", params)
        sex_p.append(caches["sex"][key][0])
        sex_test.append(caches["sex"][key][1])
    out.update(male_n=cells["male"][1], male_responders=cells["male"][0],
               female_n=cells["female"][1], female_responders=cells["female"][0],
               sex_p=sex_p, sex_test=sex_test)
    # anti-Jo1 among the patients analysed for tacrolimus: positive (code 0), negative (1)
    jo1 = codes["jo1"]
    analysed, resp = g["tac_analysed"], g["tac_responder"]
    fail = analysed & ~resp
    pos, known = per_pattern(jo1 == 0), per_pattern(jo1 >= 0)
    counts = [np.rint(a @ b).astype(np.int64) for a in (pos, known) for b in (resp, fail)]
    jo1_p, jo1_test, effect = [], [], {"effect": [], "effect_low": [], "effect_high": []}
    for pos_r, pos_n, n_r, n_n in zip(*(c.tolist() for c in counts), strict=True):
        key = (pos_r, pos_n, n_r, n_n)
        if key not in caches["jo1"]:
            table = np.array([[pos_r, pos_n], [n_r - pos_r, n_n - pos_n]])
            caches["jo1"][key] = (*row_test(table, "t3", "jo1", params),
                                  _effect_2x2(pos_r, n_r, pos_n, n_n))
        p, test, eff = caches["jo1"][key]
        jo1_p.append(p)
        jo1_test.append(test)
        for stat in effect:
            effect[stat].append(eff[stat])
    out.update(jo1_responders=counts[0], jo1_failures=counts[1], jo1_p=jo1_p,
               jo1_test=jo1_test, **{f"jo1_{k}": np.asarray(v, dtype=float)
                                     for k, v in effect.items()})
    return out


def _tacrolimus_columns(g: Mapping[str, np.ndarray], caches: dict[str, dict]) -> dict[str, Any]:
    """Tacrolimus response (the group depends on the definition: failures of conventional
    treatment) and the exact binomial test of the rate against 50%, cached per (k, n)."""
    out: dict[str, Any] = {"tac_n": g["weights"] @ g["tac_analysed"],
                           "tac_responders": g["weights"] @ g["tac_responder"]}
    out["tac_pct"] = _pct(out["tac_responders"], out["tac_n"])
    from analysis.effects import proportion_exact

    binom_cache = caches["binom"]
    cells: dict[str, list] = {"tac_binom_p": [], "tac_pct_low": [], "tac_pct_high": []}
    for k, n in zip(out["tac_responders"].tolist(), out["tac_n"].tolist(), strict=True):
        if (k, n) not in binom_cache:
            binom_cache[k, n] = proportion_exact(int(k), int(n))
        _, low, high, p = binom_cache[k, n]
        cells["tac_binom_p"].append(p)
        cells["tac_pct_low"].append(100 * low)
        cells["tac_pct_high"].append(100 * high)
    out["tac_binom_p"] = cells["tac_binom_p"]
    out["tac_pct_low"] = np.asarray(cells["tac_pct_low"], dtype=float)
    out["tac_pct_high"] = np.asarray(cells["tac_pct_high"], dtype=float)
    return out


def _table3_columns(g: Mapping[str, np.ndarray], start: Mapping[str, np.ndarray],
                    params: Params, caches: dict[str, dict]) -> dict[str, Any]:
    """Table 3: FVC and TLC at tacrolimus start (``start``: measure -> values of each
    patient), responders minus non-responders, and the row's two-sample test, cached per
    distinct pair of groups (the patterns' columns decide the patients'). Means and tests
    are taken over the patients (``g["inverse"]`` rebuilds their rows)."""
    from analysis import stats
    from analysis.tables import MIN_PER_GROUP, _effect_continuous

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
        p_values, effect = [], {"effect": [], "effect_low": [], "effect_high": []}
        for j, key in enumerate(group_keys):
            if key not in cache:
                x = values[tac[:, j] & known]
                y = values[nonresp[:, j] & known]
                enough = len(x) >= MIN_PER_GROUP["continuous"] <= len(y)
                cache[key] = (stats.two_sample(x, y, test=test) if enough else math.nan,
                              _effect_continuous(x, y, test))
            p_values.append(cache[key][0])
            for stat in effect:
                effect[stat].append(cache[key][1][stat])
        out[f"{measure}_resp"] = mean_r
        out[f"{measure}_nonresp"] = mean_n
        out[f"{measure}_diff"] = mean_r - mean_n
        out[f"{measure}_p"] = p_values
        out[f"{measure}_test"] = test
        for stat, column in effect.items():
            out[f"{measure}_{stat}"] = np.asarray(column, dtype=float)
    return out


def _floats(series: pd.Series) -> np.ndarray:
    return series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)



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


def grid_numbers(row: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """One definition of the sweep as a run's numbers: the keys of ``results.json`` that the
    swept claims of :mod:`analysis.paper.claims` read, and the test of each table row.

    The sweep computes these with the functions a run uses (:func:`analysis.tables.row_test`,
    :func:`analysis.stats.fisher_exact`, :func:`analysis.stats.two_sample`, the effects of
    :func:`analysis.tables.add_effects`), so a claim judged on them is the claim a run of that
    definition writes in ``tables/claims.csv`` (tested on sampled definitions).
    """
    def f(name: str) -> float:
        value = row.get(name)
        return math.nan if value is None or pd.isna(value) else float(value)

    n = {"t2.myositis.pm.resp": f("pm_responders"),
         "t2.myositis.pm.nonresp": f("pm_n") - f("pm_responders"),
         "t2.myositis.dm.resp": f("dm_responders"),
         "t2.myositis.dm.nonresp": f("dm_n") - f("dm_responders"),
         "t2.myositis.p": f("myositis_p"), "conv.pm_vs_dm.p_2x2": f("pm_dm_p"),
         "t2.sex.female.resp": f("female_responders"),
         "t2.sex.female.nonresp": f("female_n") - f("female_responders"),
         "t2.sex.male.resp": f("male_responders"),
         "t2.sex.male.nonresp": f("male_n") - f("male_responders"), "t2.sex.p": f("sex_p"),
         "flow.tac_responders": f("tac_responders"), "flow.tac_analysed": f("tac_n"),
         "t3.jo1.resp": f("jo1_responders"), "t3.jo1.nonresp": f("jo1_failures"),
         "t3.jo1.p": f("jo1_p")}
    for stat in ("effect", "effect_low", "effect_high"):
        n[f"t3.jo1.{stat}"] = f(f"jo1_{stat}")
    for measure in _T3_MEASURES:
        for stat, column in (("resp", "resp"), ("nonresp", "nonresp"), ("p", "p"),
                             ("effect", "effect"), ("effect_low", "effect_low"),
                             ("effect_high", "effect_high")):
            n[f"t3.{measure}.{stat}"] = f(f"{measure}_{column}")
    tests = {"t2.myositis": str(row.get("myositis_test", "")),
             "t2.sex": str(row.get("sex_test", "")), "t3.jo1": str(row.get("jo1_test", "")),
             **{f"t3.{m}": str(row.get(f"{m}_test", "")) for m in _T3_MEASURES}}
    return {k: v for k, v in n.items() if not math.isnan(v)}, tests


#: The sweep's columns :func:`grid_numbers` reads.
_CLAIM_INPUTS = ("pm_responders", "pm_n", "dm_responders", "dm_n", "myositis_p", "myositis_test",
                 "pm_dm_p", "female_responders", "female_n", "male_responders", "male_n",
                 "sex_p", "sex_test", "tac_responders", "tac_n", "jo1_responders",
                 "jo1_failures", "jo1_p", "jo1_test", "jo1_effect", "jo1_effect_low",
                 "jo1_effect_high",
                 *(f"{m}_{stat}" for m in _T3_MEASURES
                   for stat in ("resp", "nonresp", "p", "test", "effect", "effect_low",
                                "effect_high")))


def swept_claims() -> tuple:
    """The claims of :mod:`analysis.paper.claims` the grid recomputes (``Claim.swept``)."""
    from analysis.paper.claims import CLAIMS

    return tuple(claim for claim in CLAIMS if claim.swept)


def claim_rows(sweep: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Each swept claim's verdict and numbers in each row of the sweep.

    The judgement is :func:`analysis.paper.claims.judge` on :func:`grid_numbers` of the
    row: the same code that writes a run's ``tables/claims.csv``. Rows with the same numbers
    are judged once.

    Returns
    -------
    DataFrame on ``sweep``'s index: for each swept claim id, ``<id>`` (the verdict),
    ``<id>_detail`` (the numbers in words), ``<id>_p`` and ``<id>_estimate``.
    """
    from analysis.paper.claims import judge, measure

    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must lie between 0 and 1, got {alpha!r}")
    claims = swept_claims()
    columns = [c for claim in claims
               for c in (claim.id, f"{claim.id}_detail", f"{claim.id}_p", f"{claim.id}_estimate")]
    if sweep.empty:
        return pd.DataFrame(index=sweep.index, columns=columns)
    # many definitions give the same numbers: judge each distinct row of the inputs once
    inputs = sweep[[c for c in _CLAIM_INPUTS if c in sweep.columns]]
    which = inputs.groupby(list(inputs.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(which))).groupby(which).first().to_numpy()
    records = []
    for row in inputs.iloc[first].to_dict("records"):
        numbers, tests = grid_numbers(row)
        rec = {}
        for claim in claims:
            m = measure(claim, numbers, tests, alpha)
            rec.update({claim.id: judge(claim, m, alpha), f"{claim.id}_detail": m.detail,
                        f"{claim.id}_p": m.p, f"{claim.id}_estimate": m.estimate})
        records.append(rec)
    distinct = pd.DataFrame.from_records(records, columns=columns)
    return distinct.iloc[which].set_axis(sweep.index)


def conclusions(sweep: pd.DataFrame, alpha: float = 0.05,
                label: str = "paper's definition") -> pd.DataFrame:
    """The share of the grid where each swept claim of the paper is supported.

    Parameters
    ----------
    sweep : from :func:`sweep`.
    alpha : significance level.
    label : how the sentences name the reference definition (:func:`reference_label`).

    Returns
    -------
    DataFrame, one row per swept claim (:func:`swept_claims`): ``conclusion`` (the claim's
    id), ``source`` (where the paper states it), ``claim`` (its label), ``criterion`` (what
    supports it), ``n_definitions`` (rows with ``in_grid``), ``n_holds`` (definitions where
    the verdict is *holds* or *established*), ``share`` (0-1), ``n_direction`` (the paper's
    direction, any p), ``reference_verdict``, ``reference_holds`` (bool),
    ``reference_detail`` and ``sentence``.

    Notes
    -----
    The verdicts are those of :func:`claim_rows` (:func:`analysis.paper.claims.judge`).
    """
    from analysis.paper.claims import SUPPORTING

    grid = sweep[sweep["in_grid"].astype(bool)]
    reference = sweep[sweep["is_reference"].astype(bool)]
    if len(reference) != 1 or grid.empty:
        raise DataValidationError("sensitivity sweep: expected a non-empty grid and exactly "
                                  "one reference definition")
    verdicts = claim_rows(pd.concat([grid, reference]), alpha)
    on_grid, ref = verdicts.iloc[:len(grid)], verdicts.iloc[len(grid)]
    records = []
    for claim in swept_claims():
        column = on_grid[claim.id]
        n, k = len(grid), int(column.isin(SUPPORTING).sum())
        same_way = int(column.isin(SUPPORTING + ("direction only", "not established")).sum())
        criterion = _criterion(claim, alpha)
        verdict = str(ref[claim.id])
        sentence = (f"{claim.label} ({criterion}) in {k} of {n} definitions "
                    f"({_share_text(k, n)}); in the paper's direction in {same_way} "
                    f"({_share_text(same_way, n)}); {label}: {verdict}, "
                    f"{ref[f'{claim.id}_detail']}.")
        records.append({"conclusion": claim.id, "source": claim.where, "claim": claim.label,
                        "criterion": criterion, "n_definitions": n, "n_holds": k,
                        "share": k / n, "n_direction": same_way,
                        "reference_verdict": verdict,
                        "reference_holds": verdict in SUPPORTING,
                        "reference_detail": str(ref[f"{claim.id}_detail"]),
                        "sentence": sentence})
    return pd.DataFrame.from_records(records)


def _criterion(claim: Any, alpha: float) -> str:
    """What supports a claim, in words (the rule of :func:`analysis.paper.claims.judge`)."""
    if claim.kind == "descriptive":
        return f"established: the whole 95% interval above {claim.threshold:g}%"
    test = claim.preferred_test or claim.test
    if claim.significant:
        return f"holds: the paper's direction and p < {alpha:g}, {test.split(' (')[0]}"
    return "holds: the paper's direction (the paper does not claim significance)"


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

    Keys: ``sens.n_definitions``; ``sens.share.<conclusion>`` (percent of the grid where it
    is supported), ``sens.direction.<conclusion>`` (percent in the paper's direction) and
    ``sens.reference.<conclusion>`` (1 or 0: supported under the reference);
    ``sens.conv_responders.min``/``.max``;
    ``sens.tac_pct.min``/``.max``; ``sens.boot.<quantity>.estimate``/``.low``/``.high``.
    """
    grid = sweep[sweep["in_grid"].astype(bool)]
    out: dict[str, float] = {"sens.n_definitions": float(len(grid))}
    for rec in claims.to_dict("records"):
        out[f"sens.share.{rec['conclusion']}"] = 100.0 * rec["share"]
        out[f"sens.direction.{rec['conclusion']}"] = 100.0 * rec["n_direction"] / rec[
            "n_definitions"]
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


