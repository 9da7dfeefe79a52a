"""Empty data: a measurement blank wherever a rule or a table row needs it.

A blank cell is a valid missing value, so a column blank in every row passes validation; but
then a criterion of the response rules silently stops counting (or, for CK, counts for
everyone) and a table row is empty. These warnings name what each such gap disables, worded
with the run's parameters (Sharma 2017, Methods, *Response to treatment*: refractory ILD =
FVC down 10%, TLC down 10%, DLCO down 15%, worsening respiratory symptoms; refractory
myositis = worsening weakness, CK neither normalised nor down > 50%; Tables 1-2 at the index
assessment, Table 3 at tacrolimus start).

Checked, for each assessment column and each assessment a rule or table uses: blank in
every row of the file; else blank at every assessment of that time point; else blank for
every patient the comparison uses (included patients; included patients treated with
tacrolimus with sufficient data). Responders and failures are only known after
classification, so a group blank within one response group is the report's to state.
"""

from __future__ import annotations

from analysis.paper.rows import ROWS
from analysis.schema.codebook import Cohort
from analysis.schema.problems import Problem

__all__ = ["empty_data_warnings", "missing_visit_warnings"]

#: Where each assessment is used: role -> (which response, baseline or follow-up).
_ROLES = {"conv_base": ("conventional", "base"), "conv_follow": ("conventional", "follow"),
          "tac_base": ("tacrolimus", "base"), "tac_follow": ("tacrolimus", "follow")}
_PFT = {"fvc": "FVC", "tlc": "TLC", "dlco": "DLCO"}
#: The assessment columns Tables 1-3 show: column -> the row's label without its unit.
_TABLE_ROWS = {row.column: row.label.partition(",")[0] for row in ROWS
               if row.source == "assessments"}
_COLUMNS = ("ck", "aldolase", "fvc", "tlc", "dlco", "worsening_weakness",
            "worsening_resp_symptoms")


def _timepoints(params) -> dict[str, str]:
    return {"conv_base": "index", "conv_follow": params.conventional_followup,
            "tac_base": "tac_start", "tac_follow": params.tacrolimus_followup}


def _cutoff(value: float, params) -> str:
    return f"{value * 100:g}%" if params.decline_scale == "relative" else f"{value * 100:g} points"


def _which(roles: set[str], params) -> str:
    """' for conventional response (index -> month6)' when only one response is affected."""
    responses = {_ROLES[r][0] for r in roles}
    if len(responses) != 1:
        return ""
    tp = _timepoints(params)
    if responses == {"conventional"}:
        return f" for conventional response (index -> {tp['conv_follow']})"
    return f" for tacrolimus response (tac_start -> {tp['tac_follow']})"


def _criterion(column: str, roles: set[str], params) -> str | None:
    """What a blank ``column`` at ``roles`` does to the response rules (None: nothing)."""
    which = _which(roles, params)
    if column in _PFT:
        name = (f"refractory-ILD criterion '{_PFT[column]} down >= "
                f"{_cutoff(getattr(params, column + '_decline'), params)}'")
        if params.pft_missing == "met":
            return f"{name} is met by every patient (pft_missing = met){which}"
        return f"{name} can never be met{which}"
    follow = any(_ROLES[r][1] == "follow" for r in roles)
    if column == "ck":
        name = f"refractory-myositis criterion 'CK not normal and not down > {params.ck_fall:.0%}'"
        rule = "ck_missing_followup" if follow else "ck_missing_baseline"
        if getattr(params, rule) != "refractory":
            return f"{name} can never be met{which}"
        if follow:
            response = which.removeprefix(" for ").replace(" response", " treatment")
            return (f"{name} is met by every patient ({rule} = refractory): nobody can "
                    f"respond{' to ' + response if response else ''}")
        return (f"{name} is met whenever the follow-up CK is above {params.ck_uln:g} U/l "
                f"({rule} = refractory){which}")
    if not follow:
        return None
    if column == "worsening_weakness" and params.count_weakness:
        return f"refractory-myositis criterion 'worsening weakness' can never be met{which}"
    if column == "worsening_resp_symptoms" and params.count_symptoms:
        return ("refractory-ILD criterion 'worsening respiratory symptoms' can never be "
                f"met{which}")
    return None


def _table_rows(column: str, roles: set[str]) -> str | None:
    if column not in _TABLE_ROWS:
        return None
    tables = {"conv_base": "1-2", "tac_base": "3"}
    found = [tables[r] for r in ("conv_base", "tac_base") if r in roles]
    if not found:
        return None
    name = "Tables 1-3" if len(found) == 2 else f"Table{'s' if found[0] == '1-2' else ''} " \
        f"{found[0]}"
    return f"{name} {_TABLE_ROWS[column]} rows will be empty"


def _effects(column: str, roles: set[str], params) -> list[str]:
    return [e for e in (_criterion(column, roles, params), _table_rows(column, roles)) if e]


def _groups(cohort: Cohort, params) -> dict[str, set]:
    """The patients each role's comparison uses, knowable before classification."""
    from analysis.eligibility import apply_eligibility

    p = apply_eligibility(cohort.patients, params)
    included = p["included"].astype(bool)
    tac = included & (p["second_line"] == "tacrolimus").fillna(False).astype(bool) \
        & p["tacrolimus_data_sufficient"].fillna(False).astype(bool)
    conv, tacs = set(p.loc[included, "patient_id"]), set(p.loc[tac, "patient_id"])
    return {"conv_base": conv, "conv_follow": conv, "tac_base": tacs, "tac_follow": tacs}


def empty_data_warnings(cohort: Cohort, params=None,
                        names: dict[str, str] | None = None) -> list[Problem]:
    """Warnings for assessment columns blank where a rule or table row needs them.

    Parameters
    ----------
    cohort : a validated export (:func:`analysis.schema.read_cohort`).
    params : :class:`analysis.params.Params` of the run (default: the paper's); the
        time points, cutoffs and missing-data rules are worded from it.
    names : table -> file name, for the messages (default ``assessments.csv``).

    Returns
    -------
    One warning (``level="warning"``) per column and gap, each naming the criterion and the
    table rows it disables; empty for the bundled cohort.
    """
    if params is None:
        from analysis.params import Params

        params = Params()
    file = (names or {}).get("assessments", "assessments.csv")
    a = cohort.assessments
    timepoints = _timepoints(params)
    groups = _groups(cohort, params)
    fix = ("if the values exist, add them to the export; if they were never measured, "
           "the report's numbers are computed without them")
    out = []
    for column in _COLUMNS:
        used = {r for r in _ROLES if _effects(column, {r}, params)}
        if not used:
            continue
        if len(a) and a[column].isna().all():
            out.append(Problem(file, None, column, "blank in every row: "
                               + "; ".join(_effects(column, used, params)), fix=fix,
                               level="warning"))
            continue
        for role in sorted(used, key=list(_ROLES).index):
            at = a[a["timepoint"] == timepoints[role]]
            mine = at[at["patient_id"].isin(groups[role])]
            if len(at) and at[column].isna().all():
                where = f"blank at every {timepoints[role]} assessment"
            elif len(mine) and mine[column].isna().all():
                who = "included patient" if role.startswith("conv") else \
                    "included patient treated with tacrolimus"
                where = f"blank at the {timepoints[role]} assessment of every {who}"
            else:
                continue
            out.append(Problem(file, None, column, f"{where}: "
                               + "; ".join(_effects(column, {role}, params)), fix=fix,
                               level="warning"))
    return out


def missing_visit_warnings(cohort: Cohort, params=None,
                           names: dict[str, str] | None = None) -> list[Problem]:
    """How many patients' response the data decides, when some lack the follow-up assessment.

    A response is judged between two assessments (Sharma 2017, Methods, *Response to
    treatment*: index and 6 months; tacrolimus start and 1 year). An included patient without
    one of them is counted by the missing-visit rule (``missing_visit``,
    :func:`analysis.cohort.assessable`); this warning says how many, under which rule, and
    what the other rule does. One warning per treatment with such patients; none for the
    bundled cohort.
    """
    if params is None:
        from analysis.params import Params

        params = Params()
    file = (names or {}).get("assessments", "assessments.csv")
    a = cohort.assessments
    groups = _groups(cohort, params)
    out = []
    for treatment, base, follow, who in (
            ("conventional", "index", params.conventional_followup, "included patient"),
            ("tacrolimus", "tac_start", params.tacrolimus_followup,
             "included patient treated with tacrolimus")):
        patients = groups["conv_base" if treatment == "conventional" else "tac_base"]
        if not patients:
            continue
        with_base = set(a.loc[a["timepoint"] == base, "patient_id"])
        with_follow = set(a.loc[a["timepoint"] == follow, "patient_id"])
        lacking = {p for p in patients if p not in with_base or p not in with_follow}
        if not lacking:
            continue
        n, k = len(patients), len(lacking)
        if params.missing_visit == "failed":
            rule = (f"counted as failing {treatment} treatment (missing_visit = failed); with "
                    "missing_visit = excluded they would be left out as not assessable")
        else:
            rule = (f"left out of the {treatment} response split as not assessable "
                    "(missing_visit = excluded); with missing_visit = failed they would be "
                    "counted as failing")
        plural = "s" if n != 1 else ""
        out.append(Problem(file, None, "timepoint",
                           f"{treatment} response decided from both assessments ({base} and "
                           f"{follow}) for {n - k} of {n} {who}{plural}; {k} "
                           f"lack{'s' if k == 1 else ''} one of them and "
                           f"{'is' if k == 1 else 'are'} {rule}",
                           fix=f"add the missing {base} or {follow} assessments if they exist; "
                               "the report's Assumptions section shows the counts under both "
                               "rules", level="warning"))
    return out
