"""Inputs that broke ``custlens profile``: numbers beyond float32, columns named like its own
outputs, a spend total beside its parts, an as-of before the data, blank ids, Markdown specials.

Expected values come from the input tables themselves (pandas sums, the planted labels, dates
counted by hand), never from the profile's own output.
"""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import custlens
from custlens.cli import app
from custlens.config import Settings
from custlens.config.profile import ProfileConfig
from custlens.datasets import customer_profile_table
from custlens.errors import ConfigError, DataError
from custlens.profile.derived import derive_features
from custlens.profile.quality import mask_unusable_numbers
from custlens.profile.roles import assign_roles
from custlens.profile.totals import find_totals
from custlens.report.profile_markdown import write_profile

MNT = [
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return customer_profile_table(300, seed=3).table


def _by_id(result) -> pd.DataFrame:
    return result.customers.set_index(result.id_column)


# -- 1. numbers beyond float32 ------------------------------------------------------------------


def test_infinite_and_beyond_float32_values_are_set_missing_and_counted():
    frame = pd.DataFrame({"a": [1.0, 1e300, -np.inf, 4e38, 3.4e38, np.nan], "b": [1.0] * 6})
    out, report, notes = mask_unusable_numbers(frame, ["a", "b"])
    # 1e300, -inf and 4e38 are beyond float32's 3.40282e38; 3.4e38 is inside it
    assert out["a"].isna().tolist() == [False, True, True, True, False, True]
    assert out.loc[4, "a"] == 3.4e38
    assert report[["column", "rows", "action"]].values.tolist() == [["a", 3, "exclude"]]
    assert len(notes) == 1 and "'a': 3 value(s)" in notes[0]
    assert frame.loc[1, "a"] == 1e300  # the input is not changed


def test_profile_with_a_value_beyond_float32_runs_and_reports_it(table: pd.DataFrame):
    data = table.copy()
    data["NumWebVisitsMonth"] = data["NumWebVisitsMonth"].astype(float)
    data.loc[0, "NumWebVisitsMonth"] = 1e300
    data.loc[1, "Income"] = 1e300  # the income cap used to hide this one
    result = custlens.profile(data, seed=0)
    customers = _by_id(result)
    first, second = str(data.loc[0, "ID"]), str(data.loc[1, "ID"])
    assert np.isnan(customers.loc[first, "NumWebVisitsMonth"])
    assert np.isnan(customers.loc[second, "Income"]) and np.isnan(customers.loc[second, "income"])
    quality = result.tables["quality"].set_index("column")
    assert quality.loc["NumWebVisitsMonth", "rule"] == "not a usable number"
    assert quality.loc["NumWebVisitsMonth", "rows"] == 1
    assert any("'NumWebVisitsMonth': 1 value(s)" in n for n in result.notes)


def test_a_csv_column_starting_with_inf_is_numeric_and_its_infinities_counted(
    table: pd.DataFrame, tmp_path: Path
):
    """DuckDB's sniffer read a column whose first value is inf as text; with more than 5% of
    non-finite values it then became a categorical column with 'inf' and '-inf' as levels."""
    data = table.head(40).copy()
    visits = data["NumWebVisitsMonth"].astype(object)
    visits.iloc[[0, 5, 9]] = ["inf", "-Infinity", "inf"]  # 3 of 40 rows: 7.5%
    data["NumWebVisitsMonth"] = visits
    source = tmp_path / "visits.csv"
    data.to_csv(source, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # once: inf - inf in the totals search
        result = custlens.profile(source, seed=0)
    assert result.roles["columns"]["NumWebVisitsMonth"]["role"] == "numeric"
    quality = result.tables["quality"].set_index("column")
    assert quality.loc["NumWebVisitsMonth", "rule"] == "not a usable number"
    assert quality.loc["NumWebVisitsMonth", "rows"] == 3
    assert any("'NumWebVisitsMonth': 3 value(s) infinite" in n for n in result.notes)
    customers = _by_id(result)
    kept = table.head(40).drop(index=data.index[[0, 5, 9]])
    assert customers["NumWebVisitsMonth"].isna().sum() == 3
    assert customers.loc[kept["ID"].astype(str), "NumWebVisitsMonth"].tolist() == (
        kept["NumWebVisitsMonth"].astype(float).tolist()
    )
    # text that is not from a CSV (a DataFrame, Excel) follows the same rule
    roles = assign_roles(data)
    assert roles.table.set_index("column").loc["NumWebVisitsMonth", "role"] == "numeric"


# -- 2. input columns named like the profile's own ----------------------------------------------


def test_user_columns_named_like_profile_outputs_are_kept(table: pd.DataFrame, tmp_path: Path):
    data = table.copy()
    n = len(data)
    data["persona"] = np.where(np.arange(n) % 2, "a", "b")
    data["cluster"] = np.arange(n) % 3
    data["loyalty_score"] = np.arange(n) * 0.5
    data["age"] = 20.0 + np.arange(n) % 50
    data["total_spend"] = 1000.0 + np.arange(n) % 7
    data["persona_input"] = np.where(np.arange(n) % 3, "x", "y")  # the first new name is taken
    result = custlens.profile(data, seed=0, roles={"persona": "categorical"})
    target = write_profile(result, tmp_path / "out", figures="none")
    written = pd.read_parquet(target / "customers.parquet").set_index("ID")
    assert written.columns.is_unique
    original = data.assign(ID=data["ID"].astype(str)).set_index("ID")
    for column, kept in (
        ("persona", "persona_input2"),
        ("cluster", "cluster_input"),
        ("loyalty_score", "loyalty_score_input"),
        ("age", "age_input"),
        ("total_spend", "total_spend_input"),
    ):
        np.testing.assert_array_equal(
            written.loc[original.index, kept].to_numpy(), original[column].to_numpy()
        )
        assert any(f"'{column}' kept as '{kept}'" in n for n in result.notes)
    assert result.roles["columns"]["persona_input2"]["role"] == "categorical"  # the override
    np.testing.assert_array_equal(
        written.loc[original.index, "persona_input"].to_numpy(), original["persona_input"]
    )
    # the profile's own columns are its values, not the user's
    assert set(written["persona"]) <= {p["persona"] for p in result.summary["personas"]}
    spend = original[MNT].sum(axis=1)
    np.testing.assert_allclose(written.loc[original.index, "total_spend"], spend)
    as_of = pd.Timestamp(result.summary["as_of"])
    born = original["Year_Birth"]
    expected_age = as_of.year - born - (1 if (as_of.month, as_of.day) < (7, 1) else 0)
    expected_age = expected_age.where(expected_age.between(14, 110))  # the quality rules
    np.testing.assert_allclose(written.loc[original.index, "age"], expected_age)


# -- 3. a spend total beside its parts ----------------------------------------------------------


def test_a_total_of_spend_columns_is_found_with_its_parts():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.integers(0, 500, 200).astype(float) for c in MNT})
    frame["MntTotal"] = frame[MNT].sum(axis=1)
    frame["MntRegularProds"] = frame["MntTotal"] - frame["MntGoldProds"]  # as in iFood's table
    spend = [*MNT, "MntTotal", "MntRegularProds"]
    totals = find_totals(frame, spend, spend)
    assert totals == {"MntTotal": MNT, "MntRegularProds": MNT[:5]}


def test_a_total_rounded_to_whole_units_still_counts():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.integers(0, 50000, 300) / 100 for c in MNT[:3]})
    frame["Total"] = frame[MNT[:3]].sum(axis=1).round()
    assert find_totals(frame, [*MNT[:3], "Total"], ["Total"]) == {"Total": MNT[:3]}


def test_columns_that_are_not_totals_are_left_alone():
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame({c: rng.integers(0, 300, n).astype(float) for c in MNT[:3]})
    # the sum on only 95 % of the rows
    frame["Almost"] = frame[MNT[:3]].sum(axis=1)
    frame.loc[: n // 20 - 1, "Almost"] += 7
    # sparse columns: zero on most rows, so "A = B + C" holds wherever all three are zero
    sparse = {c: np.zeros(n) for c in ("A", "B", "C")}
    sparse["A"][:3], sparse["B"][3:6], sparse["C"][6:9] = 5.0, 4.0, 2.0
    frame = frame.assign(**sparse)
    columns = [*MNT[:3], "Almost", "A", "B", "C"]
    assert find_totals(frame, columns, columns) == {}


def test_a_spend_total_is_not_counted_twice(table: pd.DataFrame):
    data = table.copy()
    data["MntTotal"] = data[MNT].sum(axis=1)
    roles = assign_roles(data)
    assert roles.totals == {"MntTotal": MNT}
    row = roles.table.set_index("column").loc["MntTotal"]
    assert row["role"] == "numeric" and "MntWines" in row["reason"]
    assert any("'MntTotal' equals MntWines + " in n for n in roles.notes)
    feats = derive_features(roles, ProfileConfig())
    np.testing.assert_allclose(feats.frame["total_spend"], data[MNT].sum(axis=1))
    np.testing.assert_allclose(
        feats.frame["spend_share_wines"], data["MntWines"] / data[MNT].sum(axis=1)
    )
    # the personas are those of the table without the total
    with_total = custlens.profile(data, seed=0)
    without = custlens.profile(table, seed=0)
    pd.testing.assert_series_equal(with_total.customers["persona"], without.customers["persona"])
    assert "MntTotal" not in with_total.summary["segmentation"]["numeric"]
    assert "MntTotal" not in set(with_total.tables["tests"]["feature"])
    # a user who says it is a separate spend is believed
    forced = assign_roles(data, ProfileConfig(roles={"MntTotal": "spend"}))
    assert forced.totals == {} and "MntTotal" in forced.columns("spend")


# -- 4. an as-of date before the data -----------------------------------------------------------


def _dated() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": range(1, 13),
            "Dt_Customer": [f"2014-{m:02d}-15" for m in range(1, 13)],
            "Income": np.arange(12) * 1000.0 + 30000,
            "MntWines": np.arange(12) * 10.0,
            "MntMeat": (np.arange(12) % 4) * 5.0,
        }
    )


def test_an_as_of_before_every_customer_since_date_is_an_error():
    roles = assign_roles(_dated())
    for as_of in (date(1990, 1, 1), date(2014, 1, 15)):
        with pytest.raises(ConfigError) as info:
            derive_features(roles, ProfileConfig(), as_of)
        error = info.value
        assert "on or before the first customer-since date" in str(error)
        assert "2014-01-15" in error.where and "2014-12-15" in error.where
        assert "after 2014-01-15" in error.fix


def test_customers_who_joined_after_as_of_have_no_tenure():
    feats = derive_features(assign_roles(_dated()), ProfileConfig(), date(2014, 6, 1))
    tenure = feats.frame["tenure_days"].tolist()
    # joined on the 15th of months 1..5 before 1 June 2014; months 6..12 after it
    expected = [(date(2014, 6, 1) - date(2014, m, 15)).days for m in range(1, 6)]
    assert tenure[:5] == expected and all(np.isnan(tenure[5:]))
    assert any("7 customers joined after as_of 2014-06-01" in n for n in feats.notes)


def test_cli_rejects_an_as_of_before_the_data(table: pd.DataFrame, tmp_path: Path):
    source = tmp_path / "base.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["profile", str(source), "--out", str(out), "--as-of", "1990-01-01"]
    )
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 2, text
    assert "Dt_Customer" in text and "Traceback" not in text
    assert not out.exists()


# -- 5. blank ids -------------------------------------------------------------------------------


def test_blank_ids_are_reported_as_rows_without_an_id(table: pd.DataFrame):
    data = table.copy()
    data["ID"] = data["ID"].astype("Int64")
    data.loc[::50, "ID"] = pd.NA  # rows 0, 50, ..., 250: six rows
    with pytest.raises(DataError) as info:
        assign_roles(data)
    error = info.value
    assert str(error).startswith("6 rows have no id in column 'ID' (data rows 1, 51, 101, 151, 201")
    assert "duplicate" not in str(error) and ";" not in str(error)
    assert "drop the rows without an id" in error.fix and "--role COLUMN=id" in error.fix
    assert "snapshot" not in error.fix
    data.loc[3, "ID"] = data.loc[4, "ID"]
    with pytest.raises(DataError) as both:
        assign_roles(data)
    text = str(both.value)
    assert "6 rows have no id" in text and f"include {data.loc[4, 'ID']} (1 duplicate rows)" in text


# -- 6. profile.md ------------------------------------------------------------------------------


def _cells(line: str) -> int:
    return len(line.replace("\\|", "").strip().strip("|").split("|"))


def test_persona_table_escapes_headers_and_names_a_missing_rule(
    table: pd.DataFrame, tmp_path: Path
):
    data = table.rename(columns={"Education": "Edu|cation"})
    settings = Settings(profile=ProfileConfig(persona_rules=[]))  # no rule can match
    result = custlens.profile(data, seed=0, settings=settings)
    md = (write_profile(result, tmp_path / "out", figures="none") / "profile.md").read_text()
    lines = md.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| persona | size"))
    assert "Edu\\|cation_top" in lines[head]
    assert _cells(lines[head]) == _cells(lines[head + 1]) == _cells(lines[head + 2])
    rows = lines[head + 2 : head + 2 + result.summary["k"]]
    assert all(" | (none) | " in row and "None" not in row for row in rows)


# -- 7. an implausible customer-since date ------------------------------------------------------


def test_a_since_date_in_2104_does_not_set_the_default_as_of():
    data = _dated()
    data.loc[11, "Dt_Customer"] = "2104-12-15"  # a typo for 2014-12-15
    # birth dates are older than the window's 1970 start: the age rules judge them, not the window
    data["Birthdate"] = [f"19{40 + i}-11-17" for i in range(12)]
    feats = derive_features(assign_roles(data), ProfileConfig())
    # the latest plausible date is 2014-11-15, so as_of is the day after it
    assert feats.as_of == date(2014, 11, 16)
    tenure = feats.frame["tenure_days"].tolist()
    # 2014-01-15 .. 2014-11-16: 16 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 16 = 305 days;
    # 2014-10-15 .. 2014-11-16: 16 + 16 = 32; 2014-11-15 .. 2014-11-16: 1
    assert (tenure[0], tenure[9], tenure[10]) == (305.0, 32.0, 1.0)
    assert np.isnan(tenure[11])
    # born 17 November 1940 + i: as of 16 November 2014, one day short of 74 - i years
    assert feats.frame["age"].tolist() == [73.0 - i for i in range(12)]
    note = next(n for n in feats.notes if "plausible window" in n)
    assert "'Dt_Customer': 1 date(s)" in note and "2104-12-15" in note
    assert not any("'Birthdate'" in n for n in feats.notes)
    row = feats.quality.loc[feats.quality["rule"] == "implausible date"].iloc[0]
    assert (row["column"], row["rows"], row["examples"]) == ("Dt_Customer", 1, "2104-12-15")
    assert "as of 2014-11-16: the day after the latest Dt_Customer" in feats.notes


def test_cli_profile_takes_the_window_from_the_cleaning_settings(
    table: pd.DataFrame, tmp_path: Path
):
    data = table.copy()
    data.loc[7, "Dt_Customer"] = "04-05-2104"  # dd-mm-yyyy, as the rest of the column
    source = tmp_path / "typo.csv"
    data.to_csv(source, index=False)
    since = pd.to_datetime(table["Dt_Customer"], format="%d-%m-%Y").drop(index=7)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["profile", str(source), "--out", str(out), "--figures", "none"]
    )
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 0, text
    run = json.loads((out / "run.json").read_text())
    assert run["as_of"] == str((since.max() + pd.Timedelta(days=1)).date())
    assert any("'Dt_Customer': 1 date(s) outside the plausible window" in n for n in run["notes"])
    # [cleaning] plausible_to, the window of cleaning's implausible_date rule, applies here too
    cut = since.sort_values().iloc[-10]  # ten plausible dates on or after it
    later = int((since > cut).sum())
    config = tmp_path / "custlens.toml"
    config.write_text(f"[cleaning]\nplausible_to = {cut.date()}\n", encoding="utf-8")
    out2 = tmp_path / "out2"
    result = CliRunner().invoke(
        app,
        ["profile", str(source), "--out", str(out2), "--figures", "none", "--config", str(config)],
    )
    assert result.exit_code == 0, (result.stdout or "") + (result.stderr or "")
    run = json.loads((out2 / "run.json").read_text())
    assert run["as_of"] == str((cut + pd.Timedelta(days=1)).date())
    assert any(f"'Dt_Customer': {later + 1} date(s)" in n for n in run["notes"])


# -- 6. a title row above the column names of a workbook ----------------------------------------


def test_cli_refuses_a_workbook_with_a_group_header_row(tmp_path: Path):
    # "Customer info" merged over the first two columns, "Metrics" over the last two: read as
    # the header, the real column names became a row of data and the profile ran on it
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["Customer info", None, "Metrics", None])
    wb.active.append(["customer_id", "segment", "retention", "spend"])
    for i in range(40):
        wb.active.append([f"{i:05d}", "ABC"[i % 3], i / 40, 2.5 * i])
    wb.active.merge_cells("A1:B1")
    wb.active.merge_cells("C1:D1")
    source = tmp_path / "customers.xlsx"
    wb.save(source)
    before = source.read_bytes()
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["profile", str(source), "--out", str(out)])
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 2, text
    assert "Traceback" not in text and "merged group header" in text, text
    assert "'Customer info', 'Metrics'" in text and "'customer_id'" in text, text
    assert not out.exists()
    assert source.read_bytes() == before
