"""Eligibility: who the study includes, and the first criterion that excludes each other patient.

Sharma 2017, Materials and Methods, *Patients*: patients older than 18 (``min_age`` read
with ``age_rule``, ">= 18" by default) with definite or probable myositis and ILD were
included; excluded were (1) overlap myositis, (2) inclusion body myositis, (3)
cancer-associated myositis treated with chemotherapy before conventional treatment, (4) other
myopathies, (5) no conventional treatment (prednisone with at least one of AZA, MTX, MMF).
Each excluded patient is counted once, under the first criterion that applies, in that order,
after the age criterion of the inclusion sentence.

Below the response groups (:mod:`analysis.cohort`) and the export's checks
(:mod:`analysis.schema`, whose empty-data warnings need the included patients): it reads
the parameters only.
"""

from __future__ import annotations

import pandas as pd

from analysis.params import Params

__all__ = ["EXCLUSIONS", "apply_eligibility"]

#: Exclusion criteria in the order the Methods list them, with the label Figure 1 shows.
EXCLUSIONS: dict[str, str] = {
    "under_age": "Younger than the minimum age",
    "overlap": "Overlap autoimmune myositis",
    "ibm": "Inclusion body myositis",
    "cancer_chemo": "Cancer-associated myositis, chemotherapy before conventional treatment",
    "other_myopathy": "Other myopathy (not Bohan and Peter)",
    "no_conventional": "No conventional treatment (prednisone + AZA, MTX or MMF)",
}


def _under_age(age: pd.Series, params: Params) -> pd.Series:
    """Methods, Patients: "older than 18". ``age_rule`` ">=" keeps a patient aged exactly
    ``min_age`` (the default), ">" excludes them."""
    return age < params.min_age if params.age_rule == ">=" else age <= params.min_age


def _exclusion_flags(patients: pd.DataFrame, params: Params) -> pd.DataFrame:
    dmard = patients[["aza_conventional", "mtx_conventional", "mmf_conventional"]].any(axis=1)
    conventional = patients["prednisone_conventional"].astype(bool) & dmard
    return pd.DataFrame({
        "under_age": _under_age(patients["age_at_index"], params),
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
