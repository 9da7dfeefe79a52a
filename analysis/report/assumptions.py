"""The report's *Assumptions* section: each choice the paper does not fix, shown and varied.

Sharma 2017 leaves open how a missing CK or PFT value counts, the CK upper limit of normal,
how "> 18 years" is read, and which test produced two of Table 2's p-values (issue 12). The
numbers come from :func:`analysis.assumptions.assumption_table` (computed at run time, under
this run's parameters and under each alternative); this module only lays them out, together
with the values the reconstruction assumes where the paper prints none (the ``assumed`` rows of
``data/published/numbers.csv``). Its tables carry captions but no ``tbl-`` label: the section
comes before the Results, and numbered tables here would renumber the paper's Tables 1-3.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.assumptions import registry
from analysis.files import write_atomic
from analysis.format import en_dash_ranges, format_p
from analysis.report.labels import parameter_label, parameter_value, words_in_text
from analysis.report.markdown import markdown_table

__all__ = ["assumptions_frame", "assumed_values_frame", "assumptions_markdown",
           "save_assumptions"]


def _counts(rec: dict, suffix: str) -> tuple[str, str]:
    """Conventional responders / failures, and tacrolimus responders of those analysed."""
    return (f"{rec['conv_responders' + suffix]} / {rec['conv_failures' + suffix]}",
            f"{rec['tac_responders' + suffix]} of {rec['tac_analysed' + suffix]}")


def _settings(text: str) -> dict[str, str]:
    """``"a=x, b=y"`` (as :func:`analysis.assumptions.assumption_table` writes a setting) ->
    ``{"a": "x", "b": "y"}``."""
    return dict(part.split("=", 1) for part in str(text).split(", ") if "=" in part)


def _value_words(name: str, text: str) -> str:
    """A setting's value (as the table writes it: text) in words."""
    try:
        value: object = float(text)
    except ValueError:
        value = text
    return parameter_value(name, value)


def _change(value: str, alternative: str) -> tuple[str, str]:
    """What this run and the alternative set, in words, shortened to the parameters that
    differ; one value when they all read the same (the combined missing-data reading)."""
    run, alt = _settings(value), _settings(alternative)
    names = [name for name in run if run[name] != alt.get(name)] or list(run)

    def text(values: dict[str, str]) -> str:
        shown = {_value_words(name, values.get(name, "")) for name in names}
        if len(shown) == 1:
            return shown.pop()
        return "; ".join(f"{parameter_label(name).lower()} "
                         f"{_value_words(name, values.get(name, ''))}" for name in names)

    return text(run), text(alt)


def _labels() -> dict[str, str]:
    """Each assumption's name in words: its own label, or its parameter's."""
    return {a.name: a.label or parameter_label(a.name) for a in registry()}


def assumptions_frame(table: pd.DataFrame) -> pd.DataFrame:
    """One displayed row per assumption and alternative, in words.

    Parameters
    ----------
    table : from :func:`analysis.assumptions.assumption_table`.

    Returns
    -------
    DataFrame with columns ``Assumption`` (the parameter's label), ``Kind``, ``This run``,
    ``Alternative`` (values in words), ``Conventional: responded / failed`` and
    ``Tacrolimus: responded of analysed`` (under the alternative), ``p of the row`` (a fitted
    test's p-value, this run -> alternative) and ``Printed numbers lost`` (how many printed
    numbers this run reproduces and the alternative does not).
    """
    labels = _labels()
    rows = []
    for rec in table.to_dict("records"):
        row_p = f"{format_p(rec['p'])} → {format_p(rec['p_alt'])}" if rec["p_key"] else ""
        run, alternative = _change(rec["value"], rec["alternative_values"])
        conv, tac = _counts(rec, "_alt")
        rows.append({
            "Assumption": labels.get(rec["name"], parameter_label(rec["name"])),
            "Kind": rec["kind"],
            "This run": run,
            "Alternative": alternative,
            "Conventional: responded / failed": conv,
            "Tacrolimus: responded of analysed": tac,
            "p of the row": row_p,
            "Printed numbers lost": str(rec["n_forced"]),
        })
    return pd.DataFrame(rows)


def _assumed_label(key: str, label: str) -> str:
    """A printed-number label of ``numbers.csv`` in the report's words: an exclusion by its
    Figure 1 label, ranges with an en dash."""
    from analysis.cohort import EXCLUSIONS

    reason = key.removeprefix("flow.excluded.")
    if reason != key and reason in EXCLUSIONS:
        text = EXCLUSIONS[reason]
        return f"Excluded: {text[0].lower()}{text[1:]}"
    return en_dash_ranges(label)


def assumed_values_frame(published: pd.DataFrame) -> pd.DataFrame:
    """The values the reconstruction assumes where the paper prints none (rows of
    ``numbers.csv`` with ``status`` = assumed): what, and the value assumed."""
    assumed = published[published["status"] == "assumed"]
    return pd.DataFrame({"Assumed value (not printed)": [
                             _assumed_label(k, str(label)) for k, label in
                             zip(assumed["key"], assumed["row_label"], strict=True)],
                         "Value": assumed["printed"].tolist()})


def assumptions_markdown(table: pd.DataFrame, published: pd.DataFrame) -> str:
    """The section, every number generated: a sentence per assumption (what the paper says or
    does not), the table of headline counts under each alternative, and the assumed values."""
    labels = _labels()
    sources = dict.fromkeys(
        f"- **{labels.get(rec['name'], rec['name'])}**: "
        f"{words_in_text(rec['name'], str(rec['source']))}."
        for rec in table.to_dict("records"))
    lost = table[table["n_forced"] > 0]
    decisive = "; ".join(sorted({labels.get(n, n) for n in lost["name"]})) or "none"
    conv, tac = _counts(table.iloc[0].to_dict(), "") if len(table) else ("", "")
    parts = [
        "# Assumptions of this re-analysis",
        "",
        "The paper does not fix every choice its results depend on. Each choice below is a "
        "parameter of the analysis (Appendix C lists them all), set by default to the value "
        "that reproduces the printed numbers; the table recomputes the headline counts under "
        "the alternative, in this run: the conventional responders / failures, and the "
        f"tacrolimus responders of those analysed (this run: {conv}; {tac}). *Printed numbers "
        "lost* counts the printed numbers this run reproduces and the alternative does not, "
        f"which is what forces the choice. Assumptions that decide printed numbers here: "
        f"{decisive}.",
        "",
        *sources,
        "",
        markdown_table(assumptions_frame(table), "Assumptions of the re-analysis and the "
                       "headline counts under each alternative",
                       left_columns=4).rstrip("\n"),
        "",
        "The synthetic cohort also assumes some numbers the paper never prints (how many "
        "patients had a value measured, how Figure 1's exclusions split). They are data of the "
        "reconstruction, chosen so that the printed means and p-values can hold; Appendix A "
        "shows whether this run meets each.",
        "",
        markdown_table(assumed_values_frame(published), "Values the reconstruction assumes "
                       "where the paper prints none").rstrip("\n"),
        "",
    ]
    return "\n".join(parts)


def save_assumptions(run_dir: str | Path, table: pd.DataFrame,
                     published: pd.DataFrame) -> list[Path]:
    """Write ``tables/assumptions.csv`` (numbers) and ``tables/assumptions.md`` (the
    section)."""
    folder = Path(run_dir) / "tables"
    csv_text = table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return [write_atomic(folder / "assumptions.csv", csv_text),
            write_atomic(folder / "assumptions.md", assumptions_markdown(table, published))]
