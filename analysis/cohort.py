"""The response groups and the study flow of Figure 1, from eligibility
(:mod:`analysis.eligibility`, re-exported here: ``EXCLUSIONS``, ``apply_eligibility``; its
docstring cites the Methods' inclusion and exclusion criteria).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.eligibility import EXCLUSIONS, apply_eligibility
from analysis.params import Params
from analysis.response import assessment_changes, evaluate

__all__ = ["EXCLUSIONS", "NOT_ASSESSABLE", "assessable", "apply_eligibility", "response_groups",
           "group_matrices",
           "group_basis", "groups_for", "distinct_basis", "pattern_matrix_chunks",
           "group_matrix_chunks", "MAX_CELLS",
           "analysis_groups", "flow_table"]

#: Figure 1's box for the patients the missing-visit rule leaves out (``missing_visit =
#: excluded``); shown only when there are any, after the exclusion criteria.
NOT_ASSESSABLE = "not_assessable"
NOT_ASSESSABLE_LABEL = "No follow-up assessment: response not assessable"


def assessable(eligible: np.ndarray, conv_pair: np.ndarray, tac_eligible: np.ndarray,
               tac_pair: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The missing-visit rule: who is in the response split, and who in the tacrolimus one.

    Parameters
    ----------
    eligible : bool array, met the eligibility criteria (:func:`apply_eligibility`).
    conv_pair, tac_pair : bool arrays, has both the baseline and the follow-up assessment of
        the conventional (index -> ``conventional_followup``) and the tacrolimus (start ->
        ``tacrolimus_followup``) period.
    tac_eligible : bool array, received tacrolimus with sufficient data.
    params : ``missing_visit``: "failed" (the paper's reading: a patient without the
        follow-up stays in the split and, unable to show a response, fails), or "excluded"
        (not assessable: left out of the conventional split, and a tacrolimus patient
        without the tacrolimus follow-up out of the tacrolimus analysis).

    Returns
    -------
    ``(included, tac_eligible)``: bool arrays for :func:`response_groups`.

    Notes
    -----
    Sharma 2017, Methods, Response to treatment: response is judged "at index time and 6
    months later" and "1 year after the initiation of tacrolimus"; the paper does not say
    what happened to a patient without that assessment. Under "failed" every included patient
    of the bundled cohort has both, so Figure 1 is the same under either rule.

    >>> import numpy as np
    >>> yes, no = np.array([True, True]), np.array([True, False])
    >>> [a.tolist() for a in assessable(yes, no, yes, no, Params())]
    [[True, True], [True, True]]
    >>> [a.tolist() for a in assessable(yes, no, yes, no, Params(missing_visit="excluded"))]
    [[True, False], [True, False]]
    """
    if params.missing_visit == "failed":
        return eligible, tac_eligible
    return eligible & conv_pair, tac_eligible & tac_pair


def _boolean_where(values: np.ndarray, mask: np.ndarray, index: pd.Index) -> pd.Series:
    """A nullable boolean column: ``values`` where ``mask``, NA elsewhere."""
    out = pd.Series(values, index=index, dtype="boolean")
    out[~mask] = pd.NA
    return out


def response_groups(included: np.ndarray, tac_eligible: np.ndarray,
                    conventional: Mapping[str, np.ndarray],
                    tacrolimus: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The response groups of Tables 2 and 3 under every definition at once.

    Parameters
    ----------
    included : bool array (patients), met the eligibility criteria.
    tac_eligible : bool array (patients), received tacrolimus as second-line treatment with
        sufficient data.
    conventional, tacrolimus : :func:`analysis.response.evaluate` for the conventional
        (index to follow-up) and tacrolimus (start to follow-up) assessment pairs, same rows.

    Returns
    -------
    dict of patients x definitions bool matrices: ``conv_responder`` (included and
    responded), ``tac_analysed`` (included, failed conventional treatment under that
    definition, tacrolimus-eligible), ``tac_myositis_improved``, ``tac_ild_improved``,
    ``tac_responder`` (analysed and improved).

    Notes
    -----
    Sharma 2017, Figure 1 and Results: the tacrolimus group is the patients who failed
    conventional treatment and received tacrolimus with sufficient data. An included patient
    without the follow-up assessment cannot show a response.
    """
    conv_responder = included[:, None] & conventional["responder"]
    analysed = included[:, None] & ~conv_responder & tac_eligible[:, None]
    return {"conv_responder": conv_responder, "tac_analysed": analysed,
            "tac_myositis_improved": analysed & tacrolimus["myositis_improved"],
            "tac_ild_improved": analysed & tacrolimus["ild_improved"],
            "tac_responder": analysed & tacrolimus["responder"]}


def group_matrices(patients: pd.DataFrame, assessments: pd.DataFrame, definitions: Any,
                   params: Params) -> dict[str, np.ndarray]:
    """Eligibility (fixed by ``params``) and the response groups under every definition.

    Parameters
    ----------
    patients, assessments : validated tables.
    definitions : response definitions, anything :func:`analysis.response.evaluate` takes
        (one Params, several, or a frame with its columns).
    params : fixes eligibility and the time points.

    Returns
    -------
    dict of arrays, rows in the order of ``patients``: ``ids``, ``included`` (bool),
    ``myositis_type`` (str), ``tac_eligible`` (bool) and the matrices of
    :func:`response_groups`. :func:`group_matrix_chunks` gives the same in slices of the
    definitions, for many patients.
    """
    basis = group_basis(patients, assessments, params)
    return groups_for(basis, definitions)


def group_basis(patients: pd.DataFrame, assessments: pd.DataFrame,
                params: Params) -> dict[str, Any]:
    """What every definition shares: ids, eligibility, myositis type, tacrolimus
    eligibility, and the assessment changes of the conventional and tacrolimus periods."""
    eligible = apply_eligibility(patients, params)
    ids = eligible["patient_id"].astype(str).tolist()
    tac_eligible = ((eligible["second_line"] == "tacrolimus").fillna(False).to_numpy(dtype=bool)
                    & eligible["tacrolimus_data_sufficient"].astype("boolean").fillna(False)
                    .to_numpy(dtype=bool))
    conventional = assessment_changes(assessments, "index", params.conventional_followup, ids)
    tacrolimus = assessment_changes(assessments, "tac_start", params.tacrolimus_followup, ids)
    included, tac_eligible = assessable(eligible["included"].to_numpy(dtype=bool),
                                        conventional.has_pair, tac_eligible,
                                        tacrolimus.has_pair, params)
    return {"ids": np.asarray(ids), "included": included,
            "myositis_type": eligible["myositis_type"].astype(str).to_numpy(),
            "tac_eligible": tac_eligible, "conventional": conventional,
            "tacrolimus": tacrolimus}


def groups_for(basis: Mapping[str, Any], definitions: Any) -> dict[str, np.ndarray]:
    """:func:`group_matrices` of some definitions, from a :func:`group_basis`."""
    conventional = evaluate(basis["conventional"], definitions)
    tacrolimus = evaluate(basis["tacrolimus"], definitions)
    fixed = {k: basis[k] for k in ("ids", "included", "myositis_type", "tac_eligible")}
    return {**fixed, **response_groups(basis["included"], basis["tac_eligible"], conventional,
                                       tacrolimus)}


#: Patients x definitions cells per slice of :func:`group_matrix_chunks`: a float matrix of
#: this size is 16 MB, so the sweep's memory does not grow with the number of definitions
#: (100,000 patients x 7,776 definitions would be 6 GB per float matrix). The paper's 67
#: patients take the whole grid in one slice.
MAX_CELLS = 1 << 21


def _basis_rows(basis: Mapping[str, Any]) -> np.ndarray:
    """Everything :func:`groups_for` reads about each patient, one float64 row per patient:
    included, tacrolimus eligibility, myositis type (code) and, for both periods, has_pair,
    every decline, CK at baseline and follow-up and the three follow-up flags."""
    columns = [basis["included"], basis["tac_eligible"],
               pd.factorize(basis["myositis_type"])[0]]
    for period in ("conventional", "tacrolimus"):
        changes = basis[period]
        columns += [changes.has_pair, *(changes.declines[k] for k in sorted(changes.declines)),
                    changes.ck_0, changes.ck_1, changes.weakness, changes.symptoms,
                    changes.hospitalised]
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])


def distinct_basis(basis: Mapping[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """The :func:`group_basis` of one patient per distinct pattern, and each patient's pattern.

    Two patients whose rows of :func:`_basis_rows` are equal bit for bit (same bytes: NaN is
    NaN, 0.0 and -0.0 differ) read the same inputs, so every rule of
    :func:`analysis.response.evaluate` and :func:`response_groups` gives them the same row
    under every definition: each cell (patient, definition) is computed from that patient's
    inputs and that definition only. Hence ``groups_for(distinct, defs)[name][inverse]`` equals
    ``groups_for(basis, defs)[name]`` element for element (the paper's 67 patients have 59
    patterns; a registry resampled from them at most 67). Patterns keep the order of their
    first patient; with no shared pattern ``distinct`` is ``basis`` itself.

    Returns
    -------
    ``(distinct, inverse)``: ``distinct`` is a basis with one row per pattern (``ids`` of the
    first patient of each), ``inverse[i]`` the pattern of patient ``i``.
    """
    rows = np.ascontiguousarray(_basis_rows(basis))
    keys = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1])))[:, 0]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first)  # patterns in the order of their first patient
    keep = first[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    inverse = rank[np.ravel(inverse)]
    if len(keep) == len(rows):
        return dict(basis), inverse
    out = {k: np.asarray(basis[k])[keep] for k in ("ids", "included", "myositis_type",
                                                    "tac_eligible")}
    for period in ("conventional", "tacrolimus"):
        c = basis[period]
        out[period] = replace(
            c, patient_ids=tuple(c.patient_ids[i] for i in keep), has_pair=c.has_pair[keep],
            declines=MappingProxyType({k: v[keep] for k, v in c.declines.items()}),
            ck_0=c.ck_0[keep], ck_1=c.ck_1[keep], weakness=c.weakness[keep],
            symptoms=c.symptoms[keep], hospitalised=c.hospitalised[keep])
    return out, inverse


def pattern_matrix_chunks(patients: pd.DataFrame, assessments: pd.DataFrame,
                          definitions: pd.DataFrame, params: Params,
                          max_cells: int | None = None):
    """:func:`group_matrix_chunks` with one row per distinct patient pattern
    (:func:`distinct_basis`): yields ``(start, stop, groups)`` where ``groups`` is
    :func:`groups_for` of the patterns plus ``inverse`` (the pattern of each patient),
    ``weights`` (patients per pattern, int64) and ``patient_ids`` (every patient). The slices
    are those of :func:`group_matrix_chunks` (at most ``max_cells`` patients x definitions),
    so a patient-level matrix rebuilt as ``groups[name][inverse]`` has the same shape."""
    basis = group_basis(patients, assessments, params)
    distinct, inverse = distinct_basis(basis)
    extra = {"inverse": inverse, "weights": np.bincount(inverse, minlength=len(distinct["ids"])),
             "patient_ids": basis["ids"]}
    step = max(1, (max_cells or MAX_CELLS) // max(1, len(basis["ids"])))
    for start in range(0, len(definitions), step):
        stop = min(start + step, len(definitions))
        yield start, stop, {**groups_for(distinct, definitions.iloc[start:stop]), **extra}


def group_matrix_chunks(patients: pd.DataFrame, assessments: pd.DataFrame,
                        definitions: pd.DataFrame, params: Params,
                        max_cells: int | None = None):
    """:func:`group_matrices` over consecutive slices of the rows of ``definitions`` (a
    frame), each of at most ``max_cells`` (default :data:`MAX_CELLS`) patients x definitions:
    yields ``(start, stop, groups)``. The eligibility and assessment changes are computed
    once; the rules are evaluated once per distinct patient pattern
    (:func:`pattern_matrix_chunks`; a resampled registry has as many patterns as its source
    has patients) and each patient's row is copied from their pattern's, so the matrices are
    those of :func:`group_matrices`, element for element."""
    for start, stop, g in pattern_matrix_chunks(patients, assessments, definitions, params,
                                                max_cells):
        rows = g["inverse"]
        yield start, stop, {"ids": g["patient_ids"],
                            **{k: np.asarray(g[k])[rows] for k in ("included", "myositis_type",
                                                                   "tac_eligible")},
                            **{k: v[rows] for k, v in g.items() if np.ndim(v) == 2}}


def analysis_groups(patients: pd.DataFrame, assessments: pd.DataFrame,
                    params: Params, basis: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Eligibility plus the response groups of Tables 2 and 3, one row per screened patient.

    Adds to :func:`apply_eligibility`'s output: ``conv_responder`` (bool, included only),
    ``tac_analysed`` (failed conventional treatment, received tacrolimus with sufficient data),
    ``tac_myositis_improved``, ``tac_ild_improved``, ``tac_responder`` (analysed only),
    ``tac_hospitalised`` (hospitalised for an exacerbation in the year after tacrolimus start).
    The one-definition case of :func:`group_matrices`. ``basis``, optional: a
    :func:`group_basis` of the same tables under parameters with ``params``' eligibility and
    time points (``min_age``, ``age_rule``, ``conventional_followup``,
    ``tacrolimus_followup``, ``missing_visit``: all it reads of them), to share it between
    definitions.
    """
    out = apply_eligibility(patients, params).set_index("patient_id")
    basis = group_basis(patients, assessments, params) if basis is None else basis
    groups = {name: np.asarray(value)[:, 0] if np.ndim(value) == 2 else value
              for name, value in groups_for(basis, params).items()}
    included = groups["included"]
    left_out = out["included"].to_numpy(dtype=bool) & ~included  # missing_visit = excluded
    out.loc[left_out, "excluded_by"] = NOT_ASSESSABLE
    out["included"] = included
    out["conv_responder"] = _boolean_where(groups["conv_responder"], included, out.index)
    out["tac_analysed"] = pd.Series(groups["tac_analysed"], index=out.index, dtype="boolean")
    analysed = groups["tac_analysed"]
    for column in ("tac_myositis_improved", "tac_ild_improved", "tac_responder"):
        out[column] = _boolean_where(groups[column], analysed, out.index)
    year = assessments[assessments["timepoint"].isin(["tac_month6", "tac_month12"])]
    hospitalised = year.groupby("patient_id")["hospitalised"].any()
    out["tac_hospitalised"] = _boolean_where(
        hospitalised.reindex(out.index).astype("boolean").fillna(False).to_numpy(dtype=bool),
        analysed, out.index)
    return out.reset_index()


def flow_table(groups: pd.DataFrame) -> pd.DataFrame:
    """Counts of Figure 1, one row per box, in drawing order.

    Returns
    -------
    DataFrame with columns ``key`` (as in ``data/published``), ``label``, ``n``, ``parent``
    (the key of the box it comes from).
    """
    n = len(groups)
    included = groups["included"]
    conv_resp = groups["conv_responder"].fillna(False).astype(bool) & included
    failed = included & ~conv_resp
    analysed = groups["tac_analysed"]
    tac_resp = groups["tac_responder"].fillna(False).astype(bool) & analysed
    rows = [("flow.identified", "Patients with MA-ILD identified", n, "")]
    rows.append(("flow.excluded", "Excluded", int((~included).sum()), "flow.identified"))
    for reason, label in EXCLUSIONS.items():
        rows.append((f"flow.excluded.{reason}", label,
                     int((groups["excluded_by"] == reason).sum()), "flow.excluded"))
    not_assessable = int((groups["excluded_by"] == NOT_ASSESSABLE).sum())
    if not_assessable:  # missing_visit = excluded (the paper's Figure 1 has no such box)
        rows.append((f"flow.excluded.{NOT_ASSESSABLE}", NOT_ASSESSABLE_LABEL, not_assessable,
                     "flow.excluded"))
    rows += [
        ("flow.included", "Met inclusion criteria; conventional treatment (prednisone + DMARD)",
         int(included.sum()), "flow.identified"),
        ("flow.conv_responders", "Responded to conventional treatment", int(conv_resp.sum()),
         "flow.included"),
        ("flow.conv_failures", "Failed conventional treatment", int(failed.sum()),
         "flow.included"),
        ("flow.tac_analysed", "Received tacrolimus, sufficient data", int(analysed.sum()),
         "flow.conv_failures"),
        ("flow.second_line_other", "Not in the tacrolimus analysis",
         int((failed & ~analysed).sum()), "flow.conv_failures"),
        ("flow.second_line.cyclophosphamide", "Cyclophosphamide",
         int((failed & ~analysed & (groups["second_line"] == "cyclophosphamide")).sum()),
         "flow.second_line_other"),
        ("flow.second_line.tacrolimus_insufficient", "Tacrolimus, insufficient data",
         int((failed & ~analysed & (groups["second_line"] == "tacrolimus")).sum()),
         "flow.second_line_other"),
    ]
    # Under other cutoffs, patients who failed may have had no second-line therapy at all
    # (the paper's 23 all had one); they get their own box only when there are any.
    no_second_line = int((failed & ~analysed & (groups["second_line"] == "none")).sum())
    if no_second_line:
        rows.append(("flow.second_line.none", "No second-line therapy recorded",
                     no_second_line, "flow.second_line_other"))
    rows += [
        ("flow.tac_responders", "Responded to tacrolimus", int(tac_resp.sum()),
         "flow.tac_analysed"),
        ("flow.tac_failures", "Failed tacrolimus", int((analysed & ~tac_resp).sum()),
         "flow.tac_analysed"),
    ]
    return pd.DataFrame(rows, columns=["key", "label", "n", "parent"])
