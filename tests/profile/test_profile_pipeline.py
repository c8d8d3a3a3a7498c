"""``custlens.profile`` end to end on planted personas, its files, and bad input through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

import custlens
from custlens.cli import app
from custlens.datasets import customer_profile_table
from custlens.report.profile_markdown import write_profile


@pytest.fixture(scope="module")
def planted():
    data = customer_profile_table(2000, seed=11)
    return data, custlens.profile(data.table, seed=0)


def _dominant(result, truth: pd.DataFrame) -> dict[str, str]:
    """Planted persona -> the found persona holding most of its customers (pandas crosstab)."""
    found = result.customers.set_index(result.id_column)["persona"]
    merged = truth.assign(found=found.loc[truth["ID"].astype(str)].to_numpy())
    return pd.crosstab(merged["persona"], merged["found"]).idxmax(axis=1).to_dict()


def test_planted_personas_are_recovered_and_named(planted):
    data, result = planted
    assert result.summary["k"] == 4
    found = result.customers.set_index(result.id_column).loc[data.truth["ID"].astype(str)]
    assert adjusted_rand_score(data.truth["persona"], found["persona"]) > 0.85
    names = _dominant(result, data.truth)
    assert names["affluent_wine"] == "Affluent Wine Lovers"
    assert names["young_deal"] == "Young Deal Seekers"
    assert len(set(names.values())) == 4
    assert result.summary["stability"] > 0.9


def test_the_planted_campaign_effect_is_detected(planted):
    data, result = planted
    wine = _dominant(result, data.truth)["affluent_wine"]
    best = result.tables["best_campaign_persona"].set_index("campaign")
    assert best.loc["AcceptedCmp5", "persona"] == wine
    assert bool(best.loc["AcceptedCmp5", "clears_base_rate"])
    customers = result.customers
    rates = customers.groupby("persona")["AcceptedCmp5"].mean()
    base = customers["AcceptedCmp5"].mean()
    assert best.loc["AcceptedCmp5", "rate"] == pytest.approx(rates[wine])
    assert best.loc["AcceptedCmp5", "lift"] == pytest.approx(rates[wine] / base)
    assert rates[wine] / base > 2.5
    others = best.drop(index="AcceptedCmp5")
    assert (others["lift"] < 2.5).all()  # no other campaign has a planted effect


def test_statistics_find_planted_differences_and_not_the_null_ones(planted):
    _, result = planted
    tests = result.tables["tests"].set_index("feature")
    assert tests.loc["age", "significant"] and tests.loc["age", "effect_size"] > 0.5
    assert tests.loc["Education", "significant"]
    assert tests.loc["recency_days", "effect_size"] < 0.01  # planted independent of persona
    assert not tests.loc["Complain", "significant"]
    hv = result.summary["high_value"]
    assert hv["fidelity"] > hv["majority_accuracy"]
    assert "total_spend" not in result.tables["high_value_importance"]["feature"].tolist()


def test_scores_and_personas_are_in_the_customer_table(planted):
    data, result = planted
    customers = result.customers
    assert len(customers) == len(data.table)
    assert customers[result.id_column].is_unique
    for col in ("persona", "loyalty_score", "churn_risk", "discount_sensitivity", "age"):
        assert col in customers.columns
    assert customers["loyalty_score"].between(0, 100).all()


def test_outputs_are_written_with_roles_run_and_crm_lists(planted, tmp_path: Path):
    data, result = planted
    out = write_profile(result, tmp_path / "profile", figures="none")
    roles = json.loads((out / "roles.json").read_text())
    assert roles["columns"]["MntWines"]["role"] == "spend"
    assert roles["columns"]["Z_CostContact"]["role"] == "constant"
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == "profile" and run["rows"]["customers"] == 2000
    assert len(pd.read_parquet(out / "customers.parquet")) == 2000
    lists = list((out / "personas").glob("*.csv"))
    assert len(lists) == 4 and sum(len(pd.read_csv(p)) for p in lists) == 2000
    for name in ("quality", "tests", "campaign_response", "k_selection", "feature_catalog"):
        assert (out / "tables" / f"{name}.csv").is_file()
    text = (out / "profile.md").read_text()
    assert "Affluent Wine Lovers" in text and "## Campaigns" in text


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, (result.stdout or "") + (result.stderr or "")


def test_cli_profile_writes_figures_and_prints_roles(tmp_path: Path):
    source = tmp_path / "crm.tsv"
    customer_profile_table(300, seed=5).table.to_csv(source, sep="\t", index=False)
    out = tmp_path / "out"
    result, text = _invoke("profile", str(source), "--out", str(out), "--role", "Kidhome=numeric")
    assert result.exit_code == 0, text
    assert "spend: MntWines" in text.replace("\n", " ") and "Personas: k =" in text
    md = (out / "profile.md").read_text()
    for image in ("persona_radar", "key_features", "campaign_response", "persona_map"):
        assert f"figures/{image}.png" in md
        assert (out / "figures" / f"{image}.png").stat().st_size > 1000


@pytest.mark.slow
def test_profile_html_renders_every_chart_offline(tmp_path: Path):
    """profile.html: the same offline renderer as report.html; every chart drawn in chromium."""
    from tests.report.browser import chromium_or_skip, open_report

    chromium_or_skip()
    source = tmp_path / "crm.csv"
    table = customer_profile_table(300, seed=6).table
    table["Education"] = table["Education"].replace({"PhD": "<img src=x onerror=alert(1)>"})
    table.to_csv(source, index=False)
    out = tmp_path / "out"
    result, text = _invoke("profile", str(source), "--out", str(out), "--figures", "none")
    assert result.exit_code == 0, text
    page = open_report(out / "profile.html", shots=tmp_path / "shots")
    assert page.specified >= 6
    assert page.rendered == page.specified
    assert page.console_errors == [] and page.page_errors == []
    assert page.requests == [] and page.dialogs == []
    for title in ("Column roles", "Personas", "What differs across personas", "Scores"):
        assert title in page.text


def _bad_tables(tmp_path: Path) -> dict[str, Path]:
    good = customer_profile_table(50, seed=1).table
    paths = {}
    paths["few rows"] = tmp_path / "few.csv"
    good.head(8).to_csv(paths["few rows"], index=False)
    paths["no numeric column"] = tmp_path / "text.csv"
    pd.DataFrame({"ID": [f"c{i}" for i in range(20)], "Name": [f"n{i}" for i in range(20)],
                  "City": ["a", "b"] * 10}).to_csv(paths["no numeric column"], index=False)  # fmt: skip
    paths["all-null columns"] = tmp_path / "null.csv"
    pd.DataFrame({"a": [np.nan] * 20, "b": [np.nan] * 20}).to_csv(
        paths["all-null columns"], index=False
    )
    paths["non-unique id"] = tmp_path / "dup.csv"
    pd.concat([good, good.head(3)]).to_csv(paths["non-unique id"], index=False)
    paths["binary file"] = tmp_path / "binary.csv"
    paths["binary file"].write_bytes(bytes(range(256)) * 20)
    return paths


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("few rows", "at least 10"),
        ("no numeric column", "no numeric column"),
        ("all-null columns", "empty"),
        ("non-unique id", "not unique"),
        ("binary file", "Cannot parse"),
    ],
)
def test_bad_input_exits_2_without_output(tmp_path: Path, case: str, message: str):
    source = _bad_tables(tmp_path)[case]
    out = tmp_path / "out"
    result, text = _invoke("profile", str(source), "--out", str(out), "--figures", "none")
    assert result.exit_code == 2, text
    assert message in text and "Traceback" not in text
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_run_on_a_customer_table_points_to_profile(tmp_path: Path):
    source = tmp_path / "crm.csv"
    customer_profile_table(100, seed=2).table.to_csv(source, index=False)
    result, text = _invoke("run", str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "custlens profile" in text and "one row per customer" in text


def test_database_table_and_a_table_without_spend_or_campaigns(tmp_path: Path):
    import sqlite3

    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "client_id": [f"x{i}" for i in range(n)],
            "score": rng.normal(size=n),
            "visits": rng.poisson(3, n),
            "segment": rng.choice(["a", "b", "c"], n),
            "signup": pd.date_range("2020-01-01", periods=n).strftime("%m/%d/%Y"),
        }
    )
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as con:
        frame.to_sql("customers", con, index=False)
    result = custlens.profile(str(path), read=custlens.ReadOptions(table="customers"), seed=1)
    assert result.roles["id_column"] == "client_id"
    assert result.roles["columns"]["signup"]["role"] == "date"
    assert result.customers["tenure_days"].max() == n  # as of the day after the last signup
    assert any("high-value drivers skipped" in note for note in result.notes)
    assert result.tables["campaign_response"].empty
    assert "discount_sensitivity" not in result.customers.columns


def test_profile_csvs_are_safe_to_open_in_a_spreadsheet(tmp_path: Path):
    """A customer id or category that starts like a formula is written with a leading quote."""
    source = tmp_path / "crm.csv"
    table = customer_profile_table(200, seed=2).table
    table["ID"] = "=HYPERLINK(" + table["ID"].astype(str) + ")"
    table.loc[table.index[:50], "Education"] = "@SUM(1+1)"
    table.to_csv(source, index=False)
    out = tmp_path / "out"
    result, text = _invoke("profile", str(source), "--out", str(out), "--figures", "none")
    assert result.exit_code == 0, text
    customers = pd.read_csv(out / "customers.csv", dtype=str)
    assert customers["ID"].str.startswith("'=HYPERLINK(").all()
    for path in out.rglob("*.csv"):
        cells = pd.read_csv(path, dtype=str, header=None).stack()
        text = cells[pd.to_numeric(cells, errors="coerce").isna()]  # -1.5 is a number
        assert not text.str.match(r"[=+\-@\t\r]").any(), path.name
