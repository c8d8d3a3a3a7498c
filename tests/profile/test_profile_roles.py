"""Column roles on several layouts: the marketing export, prefix/suffix families, Excel, German."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custlens.config.profile import ProfileConfig
from custlens.datasets import customer_profile_table
from custlens.errors import DataError, MappingError
from custlens.io.readers import read_table
from custlens.profile.roles import (
    assign_roles,
    looks_like_customer_table,
    parse_dates,
    parse_numbers,
)


def _roles(frame: pd.DataFrame, **config) -> dict[str, str]:
    table = assign_roles(frame, ProfileConfig(**config)).table
    return dict(zip(table["column"], table["role"], strict=True))


def test_marketing_export_layout_gets_the_documented_roles():
    roles = _roles(customer_profile_table(300, seed=4).table)
    expected = {
        "ID": "id",
        "Year_Birth": "birth_year",
        "Education": "categorical",
        "Marital_Status": "categorical",
        "Income": "numeric",
        "Kidhome": "numeric",
        "Teenhome": "numeric",
        "Dt_Customer": "date",
        "Recency": "numeric",
        "NumWebVisitsMonth": "numeric",
        "Complain": "flag",
        "Response": "flag",
        "Z_CostContact": "constant",
        "Z_Revenue": "constant",
    }
    expected |= {c: "spend" for c in roles if c.startswith("Mnt")}
    expected |= {c: "purchases" for c in roles if c.endswith("Purchases")}
    expected |= {f"AcceptedCmp{i}": "flag" for i in range(1, 6)}
    assert roles == expected


def test_prefix_and_suffix_families_free_text_and_yes_no_flags():
    rng = np.random.default_rng(0)
    n = 50
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "spend_books": rng.integers(0, 100, n),
            "spend_music": rng.integers(0, 100, n),
            "web_revenue": rng.random(n) * 10,
            "store_revenue": rng.random(n) * 10,
            "online_orders": rng.integers(0, 5, n),
            "region": rng.choice(["north", "south"], n),
            "newsletter": rng.choice(["yes", "no"], n),
            "comment": [f"free comment number {i}" for i in range(n)],
            "empty": [None] * n,
        }
    )
    roles = _roles(frame, max_categories=30)
    assert roles == {
        "customer_id": "id",
        "spend_books": "spend",
        "spend_music": "spend",
        "web_revenue": "spend",
        "store_revenue": "spend",
        "online_orders": "purchases",
        "region": "categorical",
        "newsletter": "flag",
        "comment": "text",
        "empty": "ignored",
    }


def test_overrides_win_and_bad_overrides_are_clear():
    frame = customer_profile_table(100, seed=1).table
    roles = _roles(frame, roles={"Kidhome": "categorical", "Recency": "spend"})
    assert roles["Kidhome"] == "categorical" and roles["Recency"] == "spend"
    with pytest.raises(MappingError, match="Nope"):
        assign_roles(frame, ProfileConfig(roles={"Nope": "numeric"}))
    with pytest.raises(MappingError, match="Education"):
        assign_roles(frame, ProfileConfig(roles={"Education": "numeric"}))
    with pytest.raises(ValueError, match="not one of"):
        ProfileConfig(roles={"Income": "money"})


def test_duplicated_ids_are_an_error_that_names_them():
    frame = customer_profile_table(100, seed=1).table
    frame.loc[5, "ID"] = frame.loc[7, "ID"]
    with pytest.raises(DataError) as info:
        assign_roles(frame)
    assert str(frame.loc[7, "ID"]) in str(info.value) and "not unique" in str(info.value)


def test_excel_export_reads_with_the_same_roles(tmp_path: Path):
    pytest.importorskip("openpyxl")
    frame = customer_profile_table(120, seed=2).table
    path = tmp_path / "crm.xlsx"
    frame.to_excel(path, index=False)
    raw = read_table(str(path), None).table.to_pandas()
    assert _roles(raw) == _roles(frame)


def test_german_export_with_semicolons_decimal_commas_and_day_first_dates(tmp_path: Path):
    path = tmp_path / "kunden.csv"
    lines = ["Kundennr;Geburtsjahr;Einkommen;Kunde_seit;Umsatz_Wein;Umsatz_Fleisch;Familienstand"]
    rng = np.random.default_rng(3)
    for i in range(30):
        income = f"{rng.integers(20, 90)}.{rng.integers(100, 999)},{rng.integers(10, 99)}"
        day = 1 + i % 28
        lines.append(
            f"{1000 + i};{1950 + i};{income};{day:02d}.{1 + i % 12:02d}.2013;"
            f"{rng.integers(0, 500)},{rng.integers(0, 9)};{rng.integers(0, 300)},5;"
            f"{'verheiratet' if i % 2 else 'ledig'}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_table(str(path), None).table.to_pandas()
    assignment = assign_roles(raw)
    roles = dict(zip(assignment.table["column"], assignment.table["role"], strict=True))
    assert roles == {
        "Kundennr": "id",
        "Geburtsjahr": "birth_year",
        "Einkommen": "numeric",
        "Kunde_seit": "date",
        "Umsatz_Wein": "spend",
        "Umsatz_Fleisch": "spend",
        "Familienstand": "categorical",
    }
    first = lines[1].split(";")
    euros, cents = first[2].replace(".", "").split(",")
    assert assignment.frame["Einkommen"].iloc[0] == pytest.approx(int(euros) + int(cents) / 100)
    assert assignment.frame["Kunde_seit"].iloc[0] == pd.Timestamp("2013-01-01")
    assert assignment.frame["Kunde_seit"].iloc[12] == pd.Timestamp("2013-01-13")


def test_number_and_date_parsing_by_hand():
    assert parse_numbers(pd.Series(["1.234,5", "7,25"]), 0.95).tolist() == [1234.5, 7.25]
    assert parse_numbers(pd.Series(["1,234.5", "-3"]), 0.95).tolist() == [1234.5, -3.0]
    assert parse_numbers(pd.Series(["abc", "1"]), 0.95) is None
    dates, fmt, note = parse_dates(pd.Series(["02/03/2020", "12/25/2020"]), 0.95)
    assert fmt == "%m/%d/%Y" and note is None and dates.iloc[0] == pd.Timestamp("2020-02-03")
    dates, fmt, note = parse_dates(pd.Series(["02/03/2020", "04/05/2020"]), 0.95)
    assert fmt == "%d/%m/%Y" and "day-first" in note
    assert dates.iloc[0] == pd.Timestamp("2020-03-02")


def test_customer_table_is_told_apart_from_an_order_log():
    customers = customer_profile_table(50, seed=1).table
    assert looks_like_customer_table(customers) is not None
    orders = pd.DataFrame(
        {"CustomerID": [1, 1, 2], "InvoiceDate": ["2020-01-01"] * 3, "Amount": [1.0, 2, 3]}
    )
    assert looks_like_customer_table(orders) is None


def _crm_table(seed: int, n: int) -> pd.DataFrame:
    """A CRM export: a unique numeric key, two spend columns and an income."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_ref": rng.permutation(np.arange(10_000, 20_000))[:n],
            "spend_wine": rng.integers(0, 500, n),
            "spend_meat": rng.integers(0, 300, n),
            "annual_income_eur": rng.normal(50_000, 9_000, n).round(),
        }
    )


def test_a_crm_key_is_the_id_not_a_numeric_feature_that_is_clustered_and_tested():
    # before: customer_ref / user_key were 'numeric', customers were numbered by row (row_id)
    # and the key was a segmentation feature with its own Kruskal-Wallis test
    n = 200
    frame = _crm_table(seed=8, n=n)
    assert _roles(frame)["customer_ref"] == "id"
    keyed = frame.rename(columns={"customer_ref": "user_key"})
    assert _roles(keyed)["user_key"] == "id"
    assert assign_roles(keyed, ProfileConfig()).id_column == "user_key"
    # a key-like name is not enough: the values must be unique and present
    repeated = keyed.assign(user_key=np.arange(n) % 50)
    assert _roles(repeated)["user_key"] == "numeric"
    assert assign_roles(repeated, ProfileConfig()).id_column == "row_id"


def test_a_crm_key_is_left_out_of_the_personas_and_tests():
    import custlens

    n = 120
    frame = _crm_table(seed=9, n=n)
    result = custlens.profile(frame, seed=0)
    assert result.id_column == "customer_ref"
    assert "customer_ref" not in result.summary["segmentation"]["numeric"]
    assert "customer_ref" not in result.tables["tests"]["feature"].tolist()
    ids = result.customers["customer_ref"].astype(int).sort_values().tolist()
    assert ids == sorted(frame["customer_ref"].tolist())


def test_codes_with_leading_zeros_are_not_numbers():
    # postcodes and account numbers written with leading zeros: as numbers '01067' and '1067'
    # would be one value and the code's size a feature; they stay text, the reason says why
    n = 60
    frame = pd.DataFrame(
        {
            "ID": range(n),
            "plz": [f"0{1000 + 37 * i}" for i in range(n)],  # 60 distinct codes: above 50
            "branch": ["007", "012", "101"] * (n // 3),  # 3 codes, two zero-padded
            "ratio": ["0", "0.5", "15", "10", "2", "3"] * (n // 6),
        }
    )
    table = assign_roles(frame, ProfileConfig()).table.set_index("column")
    assert table.loc["plz", "role"] == "text"
    assert "leading zeros such as '01000'" in table.loc["plz", "reason"]
    assert table.loc["branch", "role"] == "categorical"
    assert "leading zeros such as '007'" in table.loc["branch", "reason"]
    assert table.loc["ratio", "role"] == "numeric"  # '0' and '0.5' are numbers, not codes
    # an explicit role still reads the codes as numbers
    forced = assign_roles(frame, ProfileConfig(roles={"plz": "numeric"}))
    assert forced.frame["plz"].tolist()[:2] == [1000.0, 1037.0]
