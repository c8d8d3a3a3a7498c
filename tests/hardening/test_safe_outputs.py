"""Outputs that are safe to open: CSV formula injection neutralised in every CSV (Parquet exact),
strict JSON everywhere, CRM lists with unique file names holding every customer exactly once."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from custlens.cli import app
from custlens.config import Settings
from custlens.datasets import synthetic
from custlens.exports import crm_file_names, segment_slug
from custlens.outputs import json_text, spreadsheet_safe, spreadsheet_safe_text

HOSTILE_IDS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_each_formula_prefix_is_neutralised(value: str) -> None:
    assert spreadsheet_safe_text(value) == "'" + value


def test_harmless_values_are_kept() -> None:
    frame = pd.DataFrame({"id": ["Anna", "12", None], "x": [-1.5, 2.0, 3.0]})
    safe = spreadsheet_safe(frame)
    assert safe["id"].tolist()[:2] == ["Anna", "12"]
    assert safe["x"].tolist() == [-1.5, 2.0, 3.0]  # numbers are never touched


# a sign then a plain number: a spreadsheet reads each as that number, no formula can follow
SIGNED_NUMBERS = ["-42", "+7", "-1.5", "+.5", "-3.", "-3e5", "+2E-4", "-007"]
# a sign and a number, then something a formula could use
NOT_ONLY_NUMBERS = ["-42+1", "-1.5.2", "+7 ", "-e5", "-3e", "-", "+", "-0x1F", "-1,5", "-42%"]


@pytest.mark.parametrize("dtype", ["str", "string[python]", "object"])
def test_signed_plain_numbers_are_kept_and_anything_more_is_guarded(dtype: str) -> None:
    values = [*SIGNED_NUMBERS, *NOT_ONLY_NUMBERS]
    safe = spreadsheet_safe(pd.DataFrame({"id": pd.Series(values, dtype=dtype)}))
    assert safe["id"].tolist() == SIGNED_NUMBERS + ["'" + v for v in NOT_ONLY_NUMBERS]
    assert [spreadsheet_safe_text(v) for v in values] == safe["id"].tolist()


@pytest.mark.parametrize("dtype", ["str", "string[python]", "object"])
def test_text_columns_of_every_dtype_are_guarded(dtype: str) -> None:
    values = [*HOSTILE_IDS, "Anna", None, "a=b"]
    safe = spreadsheet_safe(pd.DataFrame({"id": pd.Series(values, dtype=dtype)}))
    expected = ["'" + v for v in HOSTILE_IDS] + ["Anna", None, "a=b"]
    got = [None if pd.isna(v) else v for v in safe["id"].tolist()]
    assert got == expected


def _hostile_orders(tmp_path: Path) -> Path:
    orders = synthetic(300, seed=5).orders.copy()
    ids = sorted(orders["CustomerID"].dropna().unique())
    rename = {cid: f"{HOSTILE_IDS[i % len(HOSTILE_IDS)]}#{i}" for i, cid in enumerate(ids)}
    orders["CustomerID"] = orders["CustomerID"].map(rename)
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path, index=False)
    return path


def _config_with_segment_names(tmp_path: Path, names: dict[str, str]) -> Path:
    """The default segment table with some names (and actions) replaced."""
    rules = Settings().rfm.model_dump()["segments"]
    lines = []
    for rule in rules:
        name = names.get(rule["name"], rule["name"])
        action = '=HYPERLINK("http://evil")' if rule["name"] == "Champions" else rule["action"]
        lines += [
            "[[rfm.segments]]",
            f"name = {json.dumps(name)}",
            f"r = {list(rule['r'])}",
            f"fm = {list(rule['fm'])}",
            f"description = {json.dumps(rule['description'])}",
            f"action = {json.dumps(action)}",
            "",
        ]
    path = tmp_path / "custlens.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    config = _config_with_segment_names(
        tmp, {"Lost": "-Lost", "Hibernating": "Schläfer Ü", "At Risk": "@Risk"}
    )
    out = tmp / "results"
    result = CliRunner().invoke(
        app,
        ["run", str(_hostile_orders(tmp)), "--out", str(out), "--config", str(config), "-q"],
    )
    assert result.exit_code == 0, (result.stdout or "") + repr(result.exception)
    return out


def test_no_csv_output_holds_a_cell_a_spreadsheet_would_evaluate(hostile_run: Path) -> None:
    csvs = sorted(hostile_run.rglob("*.csv"))
    assert len(csvs) > 20
    checked = 0
    for path in csvs:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            assert not str(column).startswith(_DANGEROUS), (path, column)
            numeric = pd.to_numeric(frame[column], errors="coerce").notna()  # -1.5 is a number
            bad = frame[column].str.startswith(_DANGEROUS) & ~numeric
            assert not bad.any(), (path, column, frame.loc[bad, column].head().tolist())
            checked += len(frame)
    assert checked > 0
    customers = pd.read_csv(hostile_run / "customers.csv", dtype=str)
    assert customers["customer_id"].str.startswith("'=").any()  # neutralised, not dropped
    assert customers["customer_id"].str.startswith("'-2+3").any()
    assert (customers["segment"] == "'-Lost").any() or (customers["segment"] == "'@Risk").any()


def test_parquet_keeps_the_exact_values(hostile_run: Path) -> None:
    customers = pd.read_parquet(hostile_run / "customers.parquet")
    assert customers["customer_id"].str.startswith("=HYPERLINK").any()
    assert customers["customer_id"].str.startswith("-2+3").any()


def test_crm_lists_hold_every_customer_exactly_once(hostile_run: Path) -> None:
    customers = pd.read_parquet(hostile_run / "customers.parquet")
    lists = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((hostile_run / "segments").glob("*.csv"))
    ]
    listed = pd.concat(lists)["customer_id"].str.removeprefix("'")
    assert listed.is_unique
    assert sorted(listed) == sorted(customers["customer_id"])
    names = {p.name for p in (hostile_run / "segments").glob("*.csv")}
    assert "schläfer_ü.csv" in names  # non-ASCII letters are kept
    assert len(names) == customers["segment"].nunique()
    for frame in lists:  # each list: the most valuable first, ties by customer id
        ids = frame["customer_id"].str.removeprefix("'")
        money = customers.set_index("customer_id").loc[ids, "monetary"].to_numpy()
        pairs = list(zip(-money, ids, strict=True))
        assert pairs == sorted(pairs)
        assert frame["segment"].nunique() == 1


def test_every_json_written_is_strict(hostile_run: Path) -> None:
    def strict(token: str):
        raise ValueError(f"non-standard JSON constant {token}")

    files = sorted(hostile_run.rglob("*.json"))
    assert len(files) >= 5
    for path in files:
        json.loads(path.read_text(encoding="utf-8"), parse_constant=strict)


def test_json_text_turns_non_finite_numbers_into_null() -> None:
    import numpy as np

    text = json_text({"a": math.nan, "b": [math.inf, -math.inf], "c": np.float64("nan"), "d": 1.5})
    assert json.loads(text) == {"a": None, "b": [None, None], "c": None, "d": 1.5}


@pytest.mark.parametrize(
    "names",
    [
        ("At Risk", "At-Risk"),
        ("At Risk", "AT RISK"),
        ("At Risk", "at_risk"),
        ("Can't Lose", "Cant Lose"),
        ("Ünter", "ünter"),
    ],
)
def test_segment_names_sharing_a_file_name_are_refused(names: tuple[str, str]) -> None:
    rules = Settings().rfm.model_dump()["segments"]
    rules[0]["name"], rules[1]["name"] = names
    with pytest.raises(ValidationError, match="differ only by case"):
        Settings.model_validate({"rfm": {"segments": rules}})


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Stammkunden", "stammkunden"), ("顧客", "顧客"), ("Größe", "größe"), ("!!!", "segment")],
)
def test_slugs_keep_letters_of_every_script(name: str, slug: str) -> None:
    assert segment_slug(name) == slug


def test_crm_file_names_stay_unique_even_for_names_the_config_never_saw() -> None:
    files = crm_file_names(["At Risk", "At-Risk", "AT RISK", "!!", "??"])
    assert len(set(files.values())) == 5
