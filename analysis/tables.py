"""Tables 1, 2 and 3 of Sharma 2017, computed from patient rows.

Each table is first built as a long numeric frame (one row per variable, level and group, with
n, value, SD, percent, p and the test's name), so tests can check numbers; formatting into the
paper's layout is a separate last pass (:func:`analysis.report.paper_tables.format_table`), as in
``tableone``.

- Table 1: the 54 included patients, n (%) and mean (SD), values at the index assessment.
- Table 2: conventional responders vs failures, counts and means with p, at the index assessment.
- Table 3: among the patients analysed for tacrolimus, responders vs no response; CK, aldolase
  and PFTs at tacrolimus start (Results: "lower FVC and lower TLC at the time of initiation of
  tacrolimus").
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.paper.rows import MEASURES, ROWS, TABLE, Row, printed_levels
from analysis.params import Params

__all__ = ["MIN_PER_GROUP", "analysis_dataset", "table1", "compare_groups",
           "table2", "table3", "table_results", "add_effects", "EFFECT_COLUMNS", "row_test"]


def analysis_dataset(patients: pd.DataFrame, groups: pd.DataFrame, assessments: pd.DataFrame,
                     timepoint: str) -> pd.DataFrame:
    """Patient characteristics with the measurements of one assessment, one row per patient.

    Parameters
    ----------
    patients : validated patients table.
    groups : output of :func:`analysis.cohort.analysis_groups` (response groups).
    assessments : validated assessments table.
    timepoint : the assessment whose CK, aldolase and PFTs enter the table.
    """
    measures = assessments.loc[assessments["timepoint"] == timepoint,
                               ["patient_id", *MEASURES]]
    group_cols = ["patient_id", "included", "excluded_by", "conv_responder", "tac_analysed",
                  "tac_responder"]
    base = patients.drop(columns=[c for c in group_cols[1:] if c in patients.columns])
    out = (base.merge(groups[group_cols], on="patient_id", how="left")
           .merge(measures, on="patient_id", how="left"))
    return _as_categories(out)


def _as_categories(data: pd.DataFrame) -> pd.DataFrame:
    """The text columns of the tables' categorical rows as pandas categoricals (categories:
    the values seen, sorted), so a table counts integer codes instead of hashing or
    comparing strings per patient; comparisons, ``isna`` and values are as before."""
    for row in ROWS:
        if row.kind == "categorical" and pd.api.types.is_string_dtype(data[row.column]):
            values = data[row.column]
            data[row.column] = pd.Categorical(
                values, categories=sorted(values.dropna().unique().tolist()))
    return data


#: Values a row's denominator leaves out besides missing ones (histology: % of the biopsied).
_NOT_COUNTED = {"biopsied": ("none",), "all": ()}


def _rows(data: pd.DataFrame, rows: object | None) -> np.ndarray | None:
    """The patients a table is computed on, as a bool array (None: all), never a frame copy."""
    if rows is None:
        return None
    if isinstance(rows, str):
        rows = data[rows]
    return pd.Series(rows).to_numpy(dtype=bool, na_value=False)


def _take(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _flags(data: pd.DataFrame, column: str, rows: np.ndarray | None) -> np.ndarray:
    """A boolean column as a bool array (missing: False)."""
    return _take(data[column].to_numpy(dtype=bool, na_value=False), rows)


def _numbers(data: pd.DataFrame, column: str, rows: np.ndarray | None) -> np.ndarray:
    """A numeric column as a float array (missing: NaN)."""
    return _take(data[column].to_numpy(dtype=float, na_value=np.nan), rows)


def _level_codes(data: pd.DataFrame, row: Row, levels: tuple, rows: np.ndarray | None
                 ) -> np.ndarray:
    """Each patient's level of a categorical or binary row as a code: ``0 .. k-1`` the
    levels in order, ``k`` any other value the row's denominator counts, ``-1`` missing or
    left out of the denominator (histology: not biopsied). One hashing pass over the column
    (``pandas.factorize``), then a lookup over its few distinct values: no per-row Python and
    no comparison per level."""
    column = data[row.column]
    if isinstance(column.dtype, pd.CategoricalDtype):  # codes already (analysis_dataset)
        codes, uniques = column.cat.codes.to_numpy(), list(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    values = [value for _, value, _ in levels]
    dropped = _NOT_COUNTED[row.denominator]
    lookup = [-1 if u in dropped else next((i for i, v in enumerate(values) if u == v),
                                           len(values)) for u in uniques]
    return _take(np.asarray([*lookup, -1], dtype=np.int64)[codes], rows)


def _level_counts(codes: np.ndarray, n_levels: int, resp: np.ndarray | None = None
                  ) -> np.ndarray:
    """Counts of each code ``0 .. n_levels`` (levels, then "other counted"), in one pass:
    a vector, or with ``resp`` a ``(n_levels + 1) x 2`` table (responders, others)."""
    known = codes >= 0
    if resp is None:
        return np.bincount(codes[known], minlength=n_levels + 1)
    cells = codes[known] * 2 + (~resp[known]).astype(np.int64)
    return np.bincount(cells, minlength=2 * (n_levels + 1)).reshape(n_levels + 1, 2)


def _groups(values: np.ndarray, resp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-missing values of the responders and of the others, in row order."""
    known = ~np.isnan(values)
    return values[known & resp], values[known & ~resp]


def table1(data: pd.DataFrame, rows: object | None = None) -> pd.DataFrame:
    """Table 1: n (%) and mean (SD) over the included patients.

    Parameters
    ----------
    data : the analysis dataset (:func:`analysis_dataset`).
    rows : the patients to describe (a bool mask or the name of a bool column, e.g.
        ``"included"``); default every row of ``data`` (the caller has selected them).

    Returns
    -------
    Long frame with columns ``table`` ("t1"), ``variable``, ``level`` ("" for continuous and
    binary rows), ``label``, ``n`` (count of the level, or non-missing n for a mean),
    ``denominator``, ``pct``, ``mean``, ``sd``.
    """
    rows = _rows(data, rows)
    n_rows = len(data) if rows is None else int(rows.sum())
    records = []
    for row in ROWS:
        if row.kind == "continuous":
            values = _numbers(data, row.column, rows)
            values = values[~np.isnan(values)]
            records.append({"variable": row.key, "level": "", "label": row.label,
                            "n": len(values), "denominator": n_rows,
                            "mean": values.mean() if len(values) else np.nan,
                            "sd": values.std(ddof=1) if len(values) > 1 else np.nan})
            continue
        levels = row.levels if row.kind == "categorical" else (("", True, row.label),)
        counts = _level_counts(_level_codes(data, row, levels, rows), len(levels))
        denominator = int(counts.sum())
        for (key, _, label), count in zip(levels, counts.tolist(), strict=False):
            records.append({"variable": row.key, "level": key, "label": label, "n": count,
                            "denominator": denominator,
                            "pct": 100 * count / denominator if denominator else np.nan})
    out = pd.DataFrame.from_records(records)
    out.insert(0, "table", "t1")
    return out


#: Patients each group needs for a row's test: two values for a two-sample test of means (a
#: variance in each group), one patient for a test of counts. Below it p is NaN, and the table
#: says "not computable" with the groups' n (:func:`analysis.format.not_computable`).
MIN_PER_GROUP = {"continuous": 2, "categorical": 1, "binary": 1}


def row_test(contingency: np.ndarray, table: str, key: str, params: Params) -> tuple[float, str]:
    """The p-value and test id of one categorical or binary row of Tables 2-3: the test the
    run declares for the row (``params.categorical_tests``), else the run's rule (Pearson
    chi-square, Fisher's exact when counts are small, sided as ``params.fisher_sided``).
    The one place this choice is made: :func:`compare_groups` and the sensitivity sweep
    (:mod:`analysis.sensitivity`) both call it."""
    from analysis import stats

    declared = params.categorical_test(f"{table}.{key}")
    if declared == "rule":
        p, test = stats.choose_categorical_test(
            contingency, rule=params.fisher_rule, threshold=params.fisher_threshold,
            fisher_sided=params.fisher_sided, correction=params.chi2_correction)
        return float(p), str(test)
    return float(stats.categorical_p(contingency, declared)), declared


def compare_groups(data: pd.DataFrame, group: str, table: str, params: Params,
                   rows: object | None = None) -> pd.DataFrame:
    """Tables 2 and 3: per-group counts or means, and p-values under the run's test rules.

    Parameters
    ----------
    data : analysis dataset (the table's patients, or all with ``rows``).
    group : boolean column splitting responders (True) from the others (False).
    table : "t2" or "t3" (selects the labels and the declared continuous tests).
    params : test rules (``fisher_rule``, ``fisher_threshold``, ``fisher_sided``,
        ``chi2_correction``, ``continuous_tests``).
    rows : the table's patients (bool mask or bool column name); default every row.

    Returns
    -------
    Long frame: ``table``, ``variable``, ``level``, ``label``, ``resp``, ``nonresp`` (counts, or
    means for continuous rows), ``n_resp``, ``n_nonresp`` (patients the statistic is based on),
    ``p``, ``test`` (the test that gave ``p``), ``p_two_sided`` (the recommended two-sided test
    where it differs from the paper's choice), ``test_two_sided``.

    Notes
    -----
    Each categorical row is counted in one pass over category codes
    (:func:`_level_codes`, :func:`_level_counts`); no frame is copied.
    """
    from analysis import stats

    rows = _rows(data, rows)
    is_resp = _flags(data, group, rows)
    records = []
    for row in ROWS:
        label = row.t2_label or row.label
        if row.kind == "continuous":
            x, y = _groups(_numbers(data, row.column, rows), is_resp)
            test = params.continuous_test(f"{table}.{row.key}")
            need = MIN_PER_GROUP["continuous"]
            p = stats.two_sample(x, y, test=test) if min(len(x), len(y)) >= need else np.nan
            records.append({"variable": row.key, "level": "", "label": label,
                            "resp": x.mean() if len(x) else np.nan,
                            "nonresp": y.mean() if len(y) else np.nan,
                            "n_resp": len(x), "n_nonresp": len(y), "p": p, "test": test,
                            "p_two_sided": p, "test_two_sided": test})
            continue
        levels = printed_levels(row, table) if row.kind == "categorical" else (("", True, label),)
        table_ = _level_counts(_level_codes(data, row, levels, rows), len(levels), is_resp)
        n_r, n_n = (int(v) for v in table_.sum(axis=0))
        counts = table_[:len(levels)].tolist()
        if row.kind == "categorical":
            contingency = np.array(counts)
        else:
            pos_r, pos_n = counts[0]
            contingency = np.array([[pos_r, pos_n], [n_r - pos_r, n_n - pos_n]])
        p, test = row_test(contingency, table, row.key, params)
        p2, test2 = stats.choose_categorical_test(
            contingency, rule=params.fisher_rule, threshold=params.fisher_threshold,
            fisher_sided="two-sided", correction=params.chi2_correction)
        for i, (key, _, level_label) in enumerate(levels):
            records.append({"variable": row.key, "level": key, "label": level_label,
                            "resp": counts[i][0], "nonresp": counts[i][1],
                            "n_resp": n_r, "n_nonresp": n_n,
                            "p": p if i == 0 else np.nan, "test": test if i == 0 else "",
                            "p_two_sided": p2 if i == 0 else np.nan,
                            "test_two_sided": test2 if i == 0 else ""})
    out = pd.DataFrame.from_records(records)
    out.insert(0, "table", table)
    return out


def _compared(data: pd.DataFrame, params: Params, table: str) -> pd.DataFrame:
    """Table 2 or 3 on its patients and groups (:data:`analysis.paper.rows.TABLES`)."""
    spec = TABLE[table]
    patients = _rows(data, spec.patients)
    return add_effects(compare_groups(data, spec.group, table, params, patients), data,
                       spec.group, patients)


def table2(data: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Table 2: conventional responders vs failures among the included patients."""
    return _compared(data, params, "t2")


def table3(data: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Table 3: tacrolimus responders vs no response among the analysed patients."""
    return _compared(data, params, "t3")


# --------------------------------------------------------------------------- results
def table_results(frame: pd.DataFrame) -> dict[str, float]:
    """Flatten a long table into published keys (``t1.sex.male.pct``, ``t2.myositis.p``).

    >>> f = pd.DataFrame({"table": ["t2"], "variable": ["age"], "level": [""],
    ...     "resp": [46.8], "nonresp": [42.2], "p": [0.34]})
    >>> table_results(f)
    {'t2.age.resp': 46.8, 't2.age.nonresp': 42.2, 't2.age.p': 0.34}
    """
    out: dict[str, float] = {}
    for rec in frame.to_dict("records"):
        stem = ".".join(part for part in (rec["table"], rec["variable"], rec["level"]) if part)
        if rec["table"] == "t1":
            stats_ = ("mean", "sd", "n") if not rec["level"] and not pd.isna(rec.get("mean")) \
                else ("n", "pct")
            for stat in stats_:
                out[f"{stem}.{stat}"] = float(rec[stat])
            if rec["level"]:  # patients a categorical row is based on ("Fourteen ... biopsy")
                out[f"t1.{rec['variable']}.n"] = float(rec["denominator"])
        else:
            for stat in ("resp", "nonresp"):
                out[f"{stem}.{stat}"] = float(rec[stat])
            if not rec["level"] and rec.get("test") in ("t", "welch", "mannwhitney"):
                # patients a mean is based on (below the group size where values are missing)
                out[f"{stem}.n_resp"] = float(rec["n_resp"])
                out[f"{stem}.n_nonresp"] = float(rec["n_nonresp"])
            if not pd.isna(rec.get("p")):
                out[f"{rec['table']}.{rec['variable']}.p"] = float(rec["p"])
            if not pd.isna(rec.get("effect", np.nan)):  # add_effects: the row's effect, 95% CI
                for stat in ("effect", "effect_low", "effect_high"):
                    if not pd.isna(rec[stat]):
                        out[f"{rec['table']}.{rec['variable']}.{stat}"] = float(rec[stat])
    return out


# --------------------------------------------------------------------------- effect sizes
#: Columns :func:`add_effects` appends to Tables 2 and 3 (issue 16), in this order.
EFFECT_COLUMNS = ("effect_measure", "effect", "effect_low", "effect_high", "effect_ci",
                  "odds_ratio", "or_low", "or_high", "or_ci",
                  "mean_diff", "mean_diff_low", "mean_diff_high", "mean_diff_ci")
#: The level whose proportion a two-level row's difference describes (else the first level).
EFFECT_LEVEL = {"honeycomb": "present"}


def _effect_2x2(pos_r: int, n_r: int, pos_n: int, n_n: int) -> dict:
    """The difference in proportions and the exact odds ratio of a 2 x 2 table, both with
    95% CIs (:func:`add_effects`); a new dict per call, the numbers from
    :func:`_effect_2x2_counts`."""
    return dict(_effect_2x2_counts(int(pos_r), int(n_r), int(pos_n), int(n_n)))


# Kept by the four counts: the exact odds ratio's interval is found by root finding (about
# 50 ms a table), and the same tables recur, e.g. 275 tables but 66 distinct ones when the
# Assumptions section recomputes Tables 2 and 3 under each alternative (issue 24). A pure
# function of four integers, so the cache cannot change a number.
@lru_cache(maxsize=4096)
def _effect_2x2_counts(pos_r: int, n_r: int, pos_n: int, n_n: int) -> dict:
    from analysis import effects

    diff = effects.prop_diff_newcombe(pos_r, n_r, pos_n, n_n)
    odds = effects.odds_ratio_exact(np.array([[pos_r, n_r - pos_r], [pos_n, n_n - pos_n]]))
    ok = not np.isnan(diff[0])
    return {"effect_measure": "prop_diff", "effect": diff[0], "effect_low": diff[1],
            "effect_high": diff[2], "effect_ci": "newcombe_wilson" if ok else "not_estimable",
            "odds_ratio": odds[0], "or_low": odds[1], "or_high": odds[2],
            "or_ci": odds[3]}


def _effect_continuous(x: np.ndarray, y: np.ndarray, test: str) -> dict:
    from analysis import effects

    hl = effects.hodges_lehmann(x, y)
    out = {"effect_measure": "hl_shift", "effect": hl[0], "effect_low": hl[1],
           "effect_high": hl[2],
           "effect_ci": "moses_mann_whitney" if not np.isnan(hl[1]) else "not_estimable"}
    if test in ("t", "welch"):
        md = effects.mean_diff_t(x, y, pooled=test == "t")
        out.update(mean_diff=md[0], mean_diff_low=md[1], mean_diff_high=md[2],
                   mean_diff_ci=f"t_{'pooled' if test == 't' else 'welch'}")
    return out


# Kept by the table's counts, as :func:`_effect_2x2_counts` (77 tables, 18 distinct, in the
# Assumptions section): the noncentral chi-square interval is found by root finding.
@lru_cache(maxsize=4096)
def _cramers_v(counts: tuple[tuple[int, ...], ...]) -> tuple[float, float, float]:
    """:func:`analysis.effects.cramers_v_ncp` of the levels x groups ``counts``."""
    from analysis import effects

    return effects.cramers_v_ncp(np.array(counts, dtype=int))


def add_effects(frame: pd.DataFrame, data: pd.DataFrame, group: str,
                rows: object | None = None) -> pd.DataFrame:
    """Tables 2 and 3 with an effect size and its 95% CI beside each p-value (issue 16).

    Appends :data:`EFFECT_COLUMNS` (the existing columns are unchanged), computed by
    :mod:`analysis.effects` on the same patients as the p-value:

    - binary rows, and categorical rows with two non-empty levels: difference in the
      proportion with the level, responders minus nonresponders (``prop_diff``, Newcombe
      score interval) and the odds ratio (conditional MLE, exact interval), on the row of
      the level described (:data:`EFFECT_LEVEL`, else the first non-empty level);
    - categorical rows with three or more non-empty levels: Cramér's V (``cramers_v``) with
      the noncentral chi-square interval (``noncentral_chi2``, :func:`effects.cramers_v_ncp`:
      its lower limit is 0 wherever the chi-square test does not reject), first row;
    - continuous rows: Hodges-Lehmann shift, responders minus nonresponders (``hl_shift``,
      Moses interval); rows tested with a t test also get the mean difference and t CI.

    Empty cells are NaN; ``effect_ci`` / ``or_ci`` / ``mean_diff_ci`` name the interval.
    ``rows`` selects the table's patients in ``data`` as in :func:`compare_groups`.
    """
    rows = _rows(data, rows)
    is_resp = _flags(data, group, rows)
    out = frame.copy()
    cells: dict[str, dict] = {col: {} for col in EFFECT_COLUMNS}
    for row in ROWS:
        lines = out[out["variable"] == row.key]
        if row.kind == "continuous":
            x, y = _groups(_numbers(data, row.column, rows), is_resp)
            values = _effect_continuous(x, y, str(lines["test"].iloc[0]))
            target = lines.index[0]
        else:
            counts = lines[["resp", "nonresp"]].to_numpy(dtype=int)
            n_r, n_n = int(lines["n_resp"].iloc[0]), int(lines["n_nonresp"].iloc[0])
            if row.kind == "binary":
                values = _effect_2x2(counts[0, 0], n_r, counts[0, 1], n_n)
                target = lines.index[0]
            else:
                used = lines[counts.sum(axis=1) > 0]
                if len(used) == 2:
                    pick = used[used["level"] == EFFECT_LEVEL.get(row.key, "")]
                    target = (pick if len(pick) else used).index[0]
                    pos_r, pos_n = (int(v) for v in out.loc[target, ["resp", "nonresp"]])
                    values = _effect_2x2(pos_r, n_r, pos_n, n_n)
                else:
                    est = _cramers_v(tuple(map(tuple, counts.tolist())))
                    ci = ("noncentral_chi2" if not np.isnan(est[1]) else "not_estimable"
                          if np.isnan(est[0]) else "noncentral_chi2_empty")
                    values = {"effect_measure": "cramers_v", "effect": est[0],
                              "effect_low": est[1], "effect_high": est[2], "effect_ci": ci}
                    target = lines.index[0]
        for col, value in values.items():
            cells[col][target] = value
    for col in EFFECT_COLUMNS:  # one assignment per column, not one per cell
        blank = "" if col in ("effect_measure", "effect_ci", "or_ci", "mean_diff_ci") else np.nan
        out[col] = [cells[col].get(i, blank) for i in out.index]
    return out
