"""Eligibility and the study flow of Figure 1.

Sharma 2017, Materials and Methods, *Patients*: patients older than 18 with definite or
probable myositis and ILD were included; excluded were (1) overlap myositis, (2) inclusion
body myositis, (3) cancer-associated myositis treated with chemotherapy before conventional
treatment, (4) other myopathies, (5) no conventional treatment (prednisone with at least one
of AZA, MTX, MMF). Each excluded patient is counted once, under the first criterion that
applies, in that order, after the age criterion of the inclusion sentence.
"""

from __future__ import annotations

import pandas as pd

from analysis.params import Params
from analysis.response import classify

__all__ = ["EXCLUSIONS", "apply_eligibility", "analysis_groups", "flow_table"]

#: Exclusion criteria in the order the Methods list them, with the label Figure 1 shows.
EXCLUSIONS: dict[str, str] = {
    "under_age": "Younger than the minimum age",
    "overlap": "Overlap autoimmune myositis",
    "ibm": "Inclusion body myositis",
    "cancer_chemo": "Cancer-associated myositis, chemotherapy before conventional treatment",
    "other_myopathy": "Other myopathy (not Bohan and Peter)",
    "no_conventional": "No conventional treatment (prednisone + AZA, MTX or MMF)",
}


def _exclusion_flags(patients: pd.DataFrame, params: Params) -> pd.DataFrame:
    dmard = patients[["aza_conventional", "mtx_conventional", "mmf_conventional"]].any(axis=1)
    conventional = patients["prednisone_conventional"].astype(bool) & dmard
    return pd.DataFrame({
        "under_age": patients["age_at_index"] < params.min_age,
        "overlap": patients["myositis_type"] == "overlap",
        "ibm": patients["myositis_type"] == "IBM",
        "cancer_chemo": patients["cancer_chemo_before_conventional"].astype(bool),
        "other_myopathy": patients["myositis_type"] == "other_myopathy",
        "no_conventional": ~conventional,
    }, index=patients.index).fillna(False).astype(bool)


def apply_eligibility(patients: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Add ``excluded_by`` (first criterion that applies, or NA) and ``included``.

    >>> import pandas as pd
    >>> p = pd.DataFrame({"age_at_index": [40, 16, 50], "myositis_type": ["PM", "IBM", "IBM"],
    ...     "cancer_chemo_before_conventional": [False] * 3,
    ...     "prednisone_conventional": [True] * 3, "aza_conventional": [True] * 3,
    ...     "mtx_conventional": [False] * 3, "mmf_conventional": [False] * 3})
    >>> apply_eligibility(p, Params())["excluded_by"].tolist()
    [<NA>, 'under_age', 'ibm']
    """
    flags = _exclusion_flags(patients, params)
    first = flags.idxmax(axis=1).where(flags.any(axis=1))
    out = patients.copy()
    out["excluded_by"] = first.astype("string")
    out["included"] = first.isna()
    return out


def analysis_groups(patients: pd.DataFrame, assessments: pd.DataFrame,
                    params: Params) -> pd.DataFrame:
    """Eligibility plus the response groups of Tables 2 and 3, one row per screened patient.

    Adds to :func:`apply_eligibility`'s output: ``conv_responder`` (bool, included only),
    ``tac_analysed`` (failed conventional treatment, received tacrolimus with sufficient data),
    ``tac_myositis_improved``, ``tac_ild_improved``, ``tac_responder`` (analysed only),
    ``tac_hospitalised`` (hospitalised for an exacerbation in the year after tacrolimus start).
    """
    out = apply_eligibility(patients, params).set_index("patient_id")
    conv = classify(assessments, params, "index", params.conventional_followup)
    included = out.index[out["included"]]
    out["conv_responder"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out.loc[included, "conv_responder"] = conv["responder"].reindex(included).astype("boolean")
    # An included patient without the follow-up assessment cannot show a response.
    out.loc[included, "conv_responder"] = out.loc[included, "conv_responder"].fillna(False)
    failed = out["included"] & ~out["conv_responder"].fillna(False).astype(bool)
    tac_ok = (out["second_line"] == "tacrolimus") & out["tacrolimus_data_sufficient"].fillna(
        False).astype(bool)
    out["tac_analysed"] = failed & tac_ok
    tac = classify(assessments, params, "tac_start", params.tacrolimus_followup)
    analysed = out.index[out["tac_analysed"]]
    for column, source in (("tac_myositis_improved", "myositis_improved"),
                           ("tac_ild_improved", "ild_improved"), ("tac_responder", "responder")):
        out[column] = pd.Series(pd.NA, index=out.index, dtype="boolean")
        out.loc[analysed, column] = tac[source].reindex(analysed).fillna(False).astype("boolean")
    year = assessments[assessments["timepoint"].isin(["tac_month6", "tac_month12"])]
    hospitalised = year.groupby("patient_id")["hospitalised"].any()
    out["tac_hospitalised"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out.loc[analysed, "tac_hospitalised"] = hospitalised.reindex(analysed).fillna(
        False).astype("boolean")
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
