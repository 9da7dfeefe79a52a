"""The reconstructed cohort: regeneration, and independent checks of the committed CSVs.

The checks below do not use the generator's code: they read ``data/raw`` with plain pandas,
compute counts, means, SDs and p-values with pandas and scipy, and compare them with the
numbers printed in Sharma 2017 (``data/published``), "within printed rounding" meaning the
value rounds half away from zero to the printed text (``analysis.printed``, the project's one
rule). Who responded comes from the paper's methods (``analysis.cohort.analysis_groups``),
never from the generator.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis import paths
from analysis.cohort import analysis_groups, flow_table
from analysis.params import Params
from analysis.printed import matches
from analysis.published import load_published
from analysis.schema import read_cohort

ROOT = paths.ROOT
RAW = paths.RAW
TABLES = ("patients", "assessments", "doses")

# Table rows -> patients.csv column and value (written independently of the generator).
LEVELS = {
    "sex": ("sex", {"male": "M", "female": "F"}),
    "race": ("race", {"black": "Black", "white": "White", "hispanic": "Hispanic",
                      "asian": "Asian"}),
    "smoking": ("smoking", {"never": "Never", "former": "Former", "active": "Active"}),
    "myositis": ("myositis_type", {"pm": "PM", "dm": "DM", "cadm": "CADM"}),
    "honeycomb": ("honeycombing", {"absent": "No", "present": "Yes"}),
    "histology": ("biopsy", {"op": "OP", "nsip": "NSIP", "uip": "UIP", "other": "other"}),
}
YES_NO = {"ana": "ana", "jo1": "anti_jo1", "ssa": "ssa", "mi2": "mi2", "pl7": "pl7",
          "srp": "srp", "ku": "ku", "aza": "aza_conventional", "mtx": "mtx_conventional",
          "mmf": "mmf_conventional"}
CONTINUOUS = ("age", "ck", "aldolase", "fvc", "tlc", "dlco")
#: Measured (non-blank) values behind each continuous row: the generator's assumption where a
#: printed mean is impossible at full n (Table 1 CK 2933.4 against Table 2's means; FVC 61.7
#: with integer % predicted; Table 3 CK 1975.7 over 5 integers and p = 0.60; aldolase p = 0.64).
ASSUMED_N = {
    "t1.ck": 44, "t2.ck.resp": 26, "t2.ck.nonresp": 18, "t1.fvc": 53, "t2.fvc.nonresp": 22,
    "t3.ck.resp": 6, "t3.ck.nonresp": 3, "t3.aldolase.resp": 12,
}


# ------------------------------------------------------------------------------ helpers
def rounds_to(x: float, printed: float, decimals: int) -> bool:
    """Whether ``x`` prints as the printed number (the project's one rule, analysis.printed)."""
    return matches(printed, decimals, "=", x)


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_published()


def printed(published: pd.DataFrame, key: str) -> tuple[float, int]:
    rows = published[(published["key"] == key) & (published["consistency"] == "ok")]
    if rows.empty:
        rows = published[published["key"] == key]
    return float(rows["value"].iloc[0]), int(rows["decimals"].iloc[0])


def keys_like(prefix: str, kinds: tuple[str, ...]) -> list[str]:
    frame = load_published()
    rows = frame[frame["key"].str.startswith(prefix) & frame["kind"].isin(kinds)
                 & (frame["consistency"] == "ok") & (frame["relation"] == "=")
                 & (frame["status"] == "printed")]
    return sorted(set(rows["key"]))


def test_assumed_numbers_of_measured_values(patients, text):
    """The assumed n's of data/published (values missing in the cohort) hold."""
    frame = load_published().set_index("key")
    assessments = text["assessments"]
    index = assessments[assessments["timepoint"] == "index"].set_index("patient_id")
    inc = patients[patients["included"]]
    measured = index.loc[inc.index]
    for column in ("ck", "fvc"):
        assert (measured[column] != "").sum() == frame.at[f"t1.{column}.n", "value"]


@pytest.fixture(scope="module")
def text() -> dict[str, pd.DataFrame]:
    """The committed CSVs as text (plain pandas, blanks kept as "")."""
    return {t: pd.read_csv(RAW / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


@pytest.fixture(scope="module")
def groups() -> pd.DataFrame:
    cohort = read_cohort(RAW)
    return analysis_groups(cohort.patients, cohort.assessments, Params()).set_index(
        "patient_id")


@pytest.fixture(scope="module")
def patients(text, groups) -> pd.DataFrame:
    """Patients (text values) with the paper's groups: t2 = resp/nonresp, t3 = resp/nonresp."""
    p = text["patients"].set_index("patient_id")
    g = groups.reindex(p.index)
    p["included"] = g["included"].astype(bool)
    p["t2"] = np.where(g["conv_responder"].fillna(False).astype(bool), "resp", "nonresp")
    p["t3"] = np.where(g["tac_responder"].fillna(False).astype(bool), "resp", "nonresp")
    p["analysed"] = g["tac_analysed"].astype(bool)
    return p


def measurements(text: pd.DataFrame, timepoint: str) -> pd.DataFrame:
    rows = text["assessments"]
    rows = rows[rows["timepoint"] == timepoint].set_index("patient_id")
    return rows[["ck", "aldolase", "fvc", "tlc", "dlco"]].replace("", np.nan).astype(float)


def column(text, patients, var: str, table: str) -> pd.DataFrame:
    """Values of one continuous row with their group, blanks dropped."""
    if table == "t3":
        members = patients[patients["analysed"]]
        values = (members["age_at_onset"].astype(float) if var == "age"
                  else measurements(text, "tac_start")[var].reindex(members.index))
        group = members["t3"]
    else:
        members = patients[patients["included"]]
        values = (members["age_at_onset"].astype(float) if var == "age"
                  else measurements(text, "index")[var].reindex(members.index))
        group = members["t2"]
    return pd.DataFrame({"value": values, "group": group}).dropna()


# -------------------------------------------------------------------------- regeneration
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    from analysis.synth import build, write

    out = tmp_path_factory.mktemp("synth")
    write(build(2017), out)
    return out


@pytest.mark.parametrize("table", TABLES)
def test_seed_2017_regenerates_committed_bytes(regenerated, table):
    assert (regenerated / f"{table}.csv").read_bytes() == (RAW / f"{table}.csv").read_bytes()


def test_other_seed_gives_another_cohort_with_the_same_flow(tmp_path):
    from analysis.synth import build, write

    write(build(7), tmp_path)  # build() itself checks Figure 1 and raises otherwise
    assert (tmp_path / "patients.csv").read_bytes() != (RAW / "patients.csv").read_bytes()
    cohort = read_cohort(tmp_path)
    flow = flow_table(analysis_groups(cohort.patients, cohort.assessments, Params()))
    assert flow.set_index("key").loc["flow.tac_responders", "n"] == 13


def test_files_are_plain_deterministic_csv(text):
    for table in TABLES:
        raw = (RAW / f"{table}.csv").read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        assert b" ," not in raw and b", " not in raw
    bools = ["cancer_chemo_before_conventional", "ana", "anti_jo1", "ssa", "mi2", "pl7", "srp",
             "ku", "honeycombing", "prednisone_conventional", "aza_conventional",
             "mtx_conventional", "mmf_conventional"]
    assert set(np.unique(text["patients"][bools].to_numpy())) == {"Yes", "No"}
    flags = text["assessments"][["worsening_weakness", "worsening_resp_symptoms",
                                 "hospitalised"]]
    assert set(np.unique(flags.to_numpy())) == {"Yes", "No", ""}
    assert text["patients"]["patient_id"].tolist() == [f"MA{i:03d}" for i in range(1, 68)]
    order = {t: i for i, t in enumerate(["index", "month6", "month12", "tac_start",
                                         "tac_month6", "tac_month12"])}
    a = text["assessments"]
    keys = list(zip(a["patient_id"], a["timepoint"].map(order), strict=True))
    assert keys == sorted(keys)


# ---------------------------------------------------------------------------- flow
def test_schema_accepts_the_committed_cohort():
    cohort = read_cohort(RAW)
    assert len(cohort.patients) == 67


@pytest.mark.parametrize("key", [
    "flow.identified", "flow.excluded", "flow.included", "flow.conv_responders",
    "flow.conv_failures", "flow.tac_analysed", "flow.second_line_other",
    "flow.tac_responders", "flow.tac_failures", "flow.excluded.under_age",
    "flow.excluded.overlap", "flow.excluded.ibm", "flow.excluded.cancer_chemo",
    "flow.excluded.other_myopathy", "flow.excluded.no_conventional",
    "flow.second_line.cyclophosphamide", "flow.second_line.tacrolimus_insufficient"])
def test_figure1_flow(groups, published, key):
    flow = flow_table(groups.reset_index()).set_index("key")["n"]
    assert flow[key] == printed(published, key)[0]


def test_each_excluded_patient_meets_exactly_one_criterion(text):
    p = text["patients"]
    dmard = (p[["aza_conventional", "mtx_conventional", "mmf_conventional"]] == "Yes").any(
        axis=1)
    flags = pd.DataFrame({
        "under_age": p["age_at_index"].astype(int) < 18,
        "overlap": p["myositis_type"] == "overlap",
        "ibm": p["myositis_type"] == "IBM",
        "cancer_chemo": p["cancer_chemo_before_conventional"] == "Yes",
        "other_myopathy": p["myositis_type"] == "other_myopathy",
        "no_conventional": ~((p["prednisone_conventional"] == "Yes") & dmard),
    })
    hits = flags.sum(axis=1)
    assert hits.isin([0, 1]).all()
    assert flags[hits == 1].sum().to_dict() == {
        "under_age": 1, "overlap": 4, "ibm": 2, "cancer_chemo": 2, "other_myopathy": 2,
        "no_conventional": 2}


def test_included_patients_had_prednisone_and_a_dmard(patients):
    inc = patients[patients["included"]]
    assert (inc["prednisone_conventional"] == "Yes").all()
    dmards = (inc[["aza_conventional", "mtx_conventional", "mmf_conventional"]] == "Yes")
    assert dmards.any(axis=1).all()


def test_second_line_therapy(patients):
    inc = patients[patients["included"]]
    failures = inc[inc["t2"] == "nonresp"]
    assert (inc.loc[inc["t2"] == "resp", "second_line"] == "none").all()
    assert failures["second_line"].value_counts().to_dict() == {"tacrolimus": 20,
                                                                "cyclophosphamide": 3}
    tac = failures[failures["second_line"] == "tacrolimus"]
    assert tac["tacrolimus_data_sufficient"].value_counts().to_dict() == {"Yes": 18, "No": 2}
    assert (patients.loc[patients["second_line"] != "tacrolimus",
                         "tacrolimus_data_sufficient"] == "").all()


@pytest.mark.parametrize("key", ["tac.myositis_improved", "tac.ild_improved",
                                 "tac.both_improved"])
def test_tacrolimus_improvement(groups, published, key):
    analysed = groups[groups["tac_analysed"]]
    column_ = {"tac.myositis_improved": "tac_myositis_improved",
               "tac.ild_improved": "tac_ild_improved",
               "tac.both_improved": "tac_responder"}[key]
    n = int(analysed[column_].astype(bool).sum())
    assert n == printed(published, f"{key}.n")[0]
    assert rounds_to(100 * n / len(analysed), *printed(published, f"{key}.pct"))


def test_one_hospitalisation_in_the_tacrolimus_year(text, patients):
    a = text["assessments"]
    analysed = patients.index[patients["analysed"]]
    year = a[a["timepoint"].isin(["tac_month6", "tac_month12"]) & a["patient_id"].isin(analysed)]
    assert year.loc[year["hospitalised"] == "Yes", "patient_id"].nunique() == 1


@pytest.mark.parametrize("key", ["conv.response.pct", "conv.pm.response_pct",
                                 "conv.dm.response_pct", "conv.female.response_pct",
                                 "conv.male.response_pct"])
def test_conventional_response_percentages(patients, published, key):
    inc = patients[patients["included"]]
    subset = {"conv.response.pct": inc, "conv.pm.response_pct": inc[inc.myositis_type == "PM"],
              "conv.dm.response_pct": inc[inc.myositis_type == "DM"],
              "conv.female.response_pct": inc[inc.sex == "F"],
              "conv.male.response_pct": inc[inc.sex == "M"]}[key]
    assert rounds_to(100 * (subset["t2"] == "resp").mean(), *printed(published, key))


# ------------------------------------------------------------------------ counts
def count(patients: pd.DataFrame, var: str, level: str | None) -> pd.Series:
    if var in YES_NO:
        return patients[YES_NO[var]] == "Yes"
    col, values = LEVELS[var]
    return patients[col] == values[level]


def split_key(key: str) -> tuple[str, str | None, str]:
    parts = key.split(".")
    return parts[1], (parts[2] if len(parts) == 4 else None), parts[-1]


@pytest.mark.parametrize("key", keys_like("t1.", ("count",)))
def test_table1_counts(patients, published, key):
    var, level, _ = split_key(key)
    inc = patients[patients["included"]]
    if var == "histology" and level is None:
        n = int((inc["biopsy"] != "none").sum())
    else:
        n = int(count(inc, var, level).sum())
    assert n == printed(published, key)[0]


@pytest.mark.parametrize("key", keys_like("t1.", ("percent",)))
def test_table1_percentages(patients, published, key):
    var, level, _ = split_key(key)
    inc = patients[patients["included"]]
    if var == "histology":
        inc = inc[inc["biopsy"] != "none"]
    assert rounds_to(100 * count(inc, var, level).mean(), *printed(published, key))


def test_table1_race_follows_table2(patients):
    """Table 1 prints Hispanic 4 / Asian 2; Table 2 (and Table 3) need 2 / 4."""
    inc = patients[patients["included"]]
    assert inc["race"].value_counts().to_dict() == {"Black": 26, "White": 22, "Asian": 4,
                                                     "Hispanic": 2}


@pytest.mark.parametrize("key", [k for k in keys_like("t2.", ("count",)) + keys_like(
    "t3.", ("count",)) if k.split(".")[1] in {**LEVELS, **YES_NO}])
def test_table2_and_3_counts(patients, published, key):
    table = key.split(".")[0]
    var, level, group = split_key(key)
    members = patients[patients["analysed"] if table == "t3" else patients["included"]]
    members = members[members[table] == group]
    assert int(count(members, var, level).sum()) == printed(published, key)[0]


# -------------------------------------------------------------------- continuous rows
@pytest.mark.parametrize("var", CONTINUOUS)
@pytest.mark.parametrize("stat", ["mean", "sd"])
def test_table1_mean_and_sd(text, patients, published, var, stat):
    values = column(text, patients, var, "t1")["value"]
    got = values.mean() if stat == "mean" else values.std(ddof=1)
    assert rounds_to(got, *printed(published, f"t1.{var}.{stat}")), got
    assert len(values) == ASSUMED_N.get(f"t1.{var}", 54)


@pytest.mark.parametrize("table", ["t2", "t3"])
@pytest.mark.parametrize("var", CONTINUOUS)
def test_table2_and_3_group_means(text, patients, published, table, var):
    frame = column(text, patients, var, table)
    full = {"t2": {"resp": 31, "nonresp": 23}, "t3": {"resp": 13, "nonresp": 5}}[table]
    for group in ("resp", "nonresp"):
        values = frame.loc[frame["group"] == group, "value"]
        assert rounds_to(values.mean(), *printed(published, f"{table}.{var}.{group}"))
        assert len(values) == ASSUMED_N.get(f"{table}.{var}.{group}", full[group])


@pytest.mark.parametrize("table", ["t2", "t3"])
@pytest.mark.parametrize("var", CONTINUOUS)
def test_table2_and_3_p_values_under_mann_whitney(text, patients, published, table, var):
    """Every continuous p of Tables 2 and 3 as Stata's ranksum (normal approximation, tie
    correction, no continuity correction, two-sided)."""
    frame = column(text, patients, var, table)
    p = scipy.stats.mannwhitneyu(frame.loc[frame["group"] == "resp", "value"],
                                 frame.loc[frame["group"] == "nonresp", "value"],
                                 alternative="two-sided", method="asymptotic",
                                 use_continuity=False).pvalue
    assert rounds_to(p, *printed(published, f"{table}.{var}.p")), p


def test_table3_age_rank_statistic_at_its_mean(patients):
    """p = 1.00 means U exactly at n1 n2 / 2 (Table 3, age)."""
    members = patients[patients["analysed"]]
    ages = members["age_at_onset"].astype(int)
    u = scipy.stats.mannwhitneyu(ages[members["t3"] == "resp"],
                                 ages[members["t3"] == "nonresp"]).statistic
    assert u == 13 * 5 / 2


@pytest.mark.parametrize("var", ["age", "fvc", "tlc", "dlco"])
def test_pooled_t_test_cannot_give_table2_p(text, patients, published, var):
    """Under a pooled Student t test Table 2's p is fixed by Table 1's SD and Table 2's means
    (within-group SS = total SS - between-group SS): over the whole printed-rounding box it
    stays far from the printed value, so no data can reproduce it; the cohort's own t-test p
    lies inside that box's range."""
    frame = column(text, patients, var, "t2")
    n1 = int((frame["group"] == "resp").sum())
    n2 = int((frame["group"] == "nonresp").sum())
    m1, m2, sd = (printed(published, k)[0] for k in
                  (f"t2.{var}.resp", f"t2.{var}.nonresp", f"t1.{var}.sd"))
    ps = []
    for d1 in (-0.05, 0.05):
        for d2 in (-0.05, 0.05):
            for ds in (-0.05, 0.05):
                a, b, s = m1 + d1, m2 + d2, sd + ds
                n = n1 + n2
                m = (n1 * a + n2 * b) / n
                within = (n - 1) * s ** 2 - n1 * (a - m) ** 2 - n2 * (b - m) ** 2
                t = (a - b) / math.sqrt(within / (n - 2) * (1 / n1 + 1 / n2))
                ps.append(2 * scipy.stats.t.sf(abs(t), n - 2))
    target = printed(published, f"t2.{var}.p")[0]
    assert not min(ps) - 0.005 <= target <= max(ps) + 0.005
    ours = scipy.stats.ttest_ind(frame.loc[frame["group"] == "resp", "value"],
                                 frame.loc[frame["group"] == "nonresp", "value"]).pvalue
    assert min(ps) - 0.01 <= ours <= max(ps) + 0.01


# ------------------------------------------------------------------------- margins
def conv_responders(params: Params) -> int:
    cohort = read_cohort(RAW)
    g = analysis_groups(cohort.patients, cohort.assessments, params)
    return int(g.loc[g["included"], "conv_responder"].astype(bool).sum())


@pytest.mark.parametrize("override", [{"fvc_decline": 0.05}, {"ild_criteria_required": 1},
                                      {"ck_uln": 150.0}])
def test_stricter_cutoffs_move_some_responders_not_all(override):
    """Responders do not sit on the cutoffs: a stricter reading moves some of them."""
    n = conv_responders(Params(**override))
    assert 15 <= n < 31


def changes(text, baseline: str, followup: str) -> pd.DataFrame:
    """Relative declines (baseline - follow-up) / baseline, follow-up CK, and flags."""
    x, y = measurements(text, baseline), measurements(text, followup)
    rows = text["assessments"]
    flags = rows[rows["timepoint"] == followup].set_index("patient_id")
    both = x.index.intersection(y.index)
    out = ((x.loc[both] - y.loc[both]) / x.loc[both]).drop(columns="aldolase")
    out["ck1"] = y.loc[both, "ck"]
    out["sym"] = flags.loc[both, "worsening_resp_symptoms"] == "Yes"
    out["criteria"] = ((out["fvc"] >= 0.1).astype(int) + (out["tlc"] >= 0.1)
                       + (out["dlco"] >= 0.15) + out["sym"])
    return out


def test_margins_are_spread_over_responders_and_failures(text, patients):
    """Responders near the cutoffs and failures barely refractory, each several times."""
    d = changes(text, "index", "month6")
    inc = patients[patients["included"]]
    resp = d.loc[inc.index[inc["t2"] == "resp"]]
    fail = d.loc[inc.index[inc["t2"] == "nonresp"]]
    assert resp["fvc"].between(0.05, 0.0999).sum() >= 5  # meet a 5% cutoff, not 10%
    assert (resp["criteria"] == 1).sum() >= 5  # one ILD criterion of the two needed
    assert (resp["ck"].between(0.40, 0.50) & (resp["ck1"] <= 200)).sum() >= 2
    assert ((resp["ck"] > 0.50) & (resp["ck1"] > 200)).sum() >= 2
    refractory = fail[fail["criteria"] >= 2]
    barely = ((refractory["fvc"].where(refractory["fvc"] >= 0.1, 0) < 0.12)
              & (refractory["tlc"].where(refractory["tlc"] >= 0.1, 0) < 0.12))
    assert 2 <= barely.sum() < len(refractory)


@pytest.mark.parametrize("override", [{"decline_scale": "absolute"},
                                      {"ild_criteria_required": 3}])
def test_looser_readings_move_some_failures_not_all(override):
    """Failures range from barely to clearly refractory."""
    n = conv_responders(Params(**override))
    assert 31 < n <= 40


def test_followup_readings_classify_everyone(groups):
    for override in ({"conventional_followup": "month12"},
                     {"tacrolimus_followup": "tac_month6"}):
        cohort = read_cohort(RAW)
        g = analysis_groups(cohort.patients, cohort.assessments, Params(**override))
        assert g.loc[g["included"], "conv_responder"].notna().all()


# ---------------------------------------------------------------------- plausibility
def test_ages(patients):
    inc = patients[patients["included"]]
    onset, index = inc["age_at_onset"].astype(int), inc["age_at_index"].astype(int)
    assert onset.between(18, 85).all() and index.between(18, 90).all()
    assert (index - onset).between(0, 10).all()
    everyone = patients["age_at_index"].astype(int) - patients["age_at_onset"].astype(int)
    assert (everyone >= 0).all()


def test_serology_fits_myositis_type(patients):
    inc = patients[patients["included"]]
    msa = (inc[["anti_jo1", "pl7", "mi2", "srp"]] == "Yes").sum(axis=1)
    assert (msa <= 1).all()  # myositis-specific antibodies exclude each other
    assert set(inc.loc[inc["mi2"] == "Yes", "myositis_type"]) <= {"DM", "CADM"}
    assert set(inc.loc[inc["srp"] == "Yes", "myositis_type"]) == {"PM"}
    jo1 = inc[inc["anti_jo1"] == "Yes"]
    assert (jo1["myositis_type"] == "PM").mean() > 0.5


def test_laboratory_values(text, patients):
    a = text["assessments"]
    ck = a["ck"].replace("", np.nan).dropna()
    assert ck.str.fullmatch(r"\d+").all() and ck.astype(int).between(20, 40000).all()
    aldolase = a["aldolase"].replace("", np.nan).dropna()
    assert aldolase.str.fullmatch(r"\d+\.\d").all()
    index = measurements(text, "index")
    cadm = patients.index[patients["myositis_type"] == "CADM"]
    assert (index.loc[cadm, "ck"].dropna() <= 200).all()  # amyopathic: CK in the normal range
    inc = index.loc[patients.index[patients["included"]], "ck"].dropna()
    assert inc.mean() > inc.median() * 1.5  # right-skewed
    for test in ("fvc", "tlc", "dlco"):
        values = a[test].replace("", np.nan).dropna()
        assert values.str.fullmatch(r"\d+").all() and values.astype(int).between(10, 130).all()


def test_assessment_schedule(text, patients):
    a = text["assessments"].assign(month=lambda d: d["month"].astype(float))
    months = a.pivot(index="patient_id", columns="timepoint", values="month")
    assert (months["index"] == 0).all()
    assert months["month6"].dropna().eq(6).all() and months["month12"].dropna().eq(12).all()
    start = months["tac_start"].dropna()
    assert start.between(7, 24).all()
    assert (months.loc[start.index, "month12"].dropna() < start[
        months.loc[start.index, "month12"].notna()]).all()
    assert (months["tac_month6"].dropna() == start[months["tac_month6"].notna()] + 6).all()
    assert (months["tac_month12"].dropna() == start[months["tac_month12"].notna()] + 12).all()
    included = patients.index[patients["included"]]
    assert months.loc[included, "month6"].notna().all()
    analysed = patients.index[patients["analysed"]]
    assert months.loc[analysed, ["tac_start", "tac_month6", "tac_month12"]].notna().all().all()


def test_followups_are_correlated_with_baseline(text):
    index, m6 = measurements(text, "index"), measurements(text, "month6")
    both = index.merge(m6, left_index=True, right_index=True, suffixes=("", "_6"))
    for test in ("fvc", "tlc", "dlco"):
        assert both[test].corr(both[f"{test}_6"]) > 0.8
    pfts = index[["fvc", "tlc", "dlco"]].corr()
    assert (pfts.to_numpy()[np.triu_indices(3, 1)] > 0.3).all()


# ------------------------------------------------------------------ the search itself
def test_mann_whitney_matches_scipy():
    from analysis.synth.fit import mann_whitney_p

    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.integers(0, 12, rng.integers(3, 30)).astype(float)
        b = rng.integers(0, 12, rng.integers(3, 30)).astype(float)
        ref = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False).pvalue
        assert mann_whitney_p(a, b) == pytest.approx(ref, abs=1e-12)


def test_solve_meets_a_mean_sd_and_p_deterministically():
    from analysis.synth.fit import Constraint, solve

    a, b = np.arange(8), np.arange(8, 14)
    constraints = [
        Constraint("mean", "mean", (np.arange(14),), 49.95, 50.05),
        Constraint("sd", "sd", (np.arange(14),), 9.95, 10.05),
        Constraint("p", "p", (a, b), 0.195, 0.205, test="mannwhitney"),
    ]
    cells = np.array(["a"] * 8 + ["b"] * 6)
    runs = [solve(np.full(14, 50), np.full(14, 20), np.full(14, 90), cells, constraints,
                  (1, 2, 5), np.random.default_rng(3)) for _ in range(2)]
    assert (runs[0] == runs[1]).all()
    x = runs[0].astype(float)
    assert rounds_to(x.mean(), 50.0, 1) and rounds_to(x.std(ddof=1), 10.0, 1)
    p = scipy.stats.mannwhitneyu(x[a], x[b], method="asymptotic", use_continuity=False).pvalue
    assert rounds_to(p, 0.20, 2)
