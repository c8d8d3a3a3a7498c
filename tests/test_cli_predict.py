"""Predictions through the CLI: a run saves models, `score` reuses them, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import custlens
from custlens.cli import app


def _invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result, (result.stdout or "") + (result.stderr or "")


@pytest.fixture(scope="module")
def orders(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pred") / "orders.parquet"
    custlens.datasets.synthetic(1500, seed=11).orders.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_dir(orders: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("predrun") / "results"
    args = ["run", str(orders), "--out", str(out), "--figures", "none"]
    result, text = _invoke(*args, "--analyses", "predictions", "--horizon", "90d")
    assert result.exit_code == 0, text + repr(result.exception)
    return out


def test_run_saves_models_metrics_and_scores(run_dir: Path) -> None:
    customers = pd.read_parquet(run_dir / "customers.parquet")
    assert customers["churn_probability"].between(0, 1).all()
    assert (customers["clv"] >= 0).all()
    one_order = customers["frequency"] == 1
    assert customers.loc[one_order, "low_confidence"].all()
    metrics = json.loads((run_dir / "predictions" / "metrics.json").read_text())
    assert metrics["churn"]["lightgbm"]["roc_auc"] > 0.6
    manifest = json.loads((run_dir / "models" / "manifest.json").read_text())
    assert manifest["horizon_days"] == 90
    card = (run_dir / "models.md").read_text()
    assert "Model card" in card
    assert "Expected calibration error on the future period" in card
    th = metrics["churn"]["threshold"]
    assert set(th["settings"]) == {"contact_cost", "margin", "retention_uplift"}
    assert f"**{th['decision']}**" in card  # "contact nobody" or "contact churn probability >= t"
    assert 0 <= metrics["churn"]["lightgbm"]["ece"] <= 1


def test_score_reproduces_the_run_scores(run_dir: Path, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored"
    result, text = _invoke("score", str(run_dir / "models"), str(orders), "--out", str(out))
    assert result.exit_code == 0, text + repr(result.exception)
    again = pd.read_parquet(out / "customers.parquet").set_index("customer_id")
    first = pd.read_parquet(run_dir / "customers.parquet").set_index("customer_id")
    pd.testing.assert_series_equal(
        again["churn_probability"], first["churn_probability"], check_exact=False, rtol=1e-9
    )


def test_score_maps_renamed_columns(run_dir: Path, orders: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "renamed.parquet"
    pd.read_parquet(orders).rename(
        columns={"CustomerID": "cust", "InvoiceDate": "when"}
    ).to_parquet(renamed, index=False)
    out = tmp_path / "scored"
    plain, text = _invoke("score", str(run_dir / "models"), str(renamed), "--out", str(out))
    assert plain.exit_code == 2 and "--map" in text and not out.exists()
    maps = ["--map", "customer_id=cust", "--map", "order_ts=when"]
    result, text = _invoke("score", str(run_dir / "models"), str(renamed), "--out", str(out), *maps)
    assert result.exit_code == 0, text + repr(result.exception)
    again = pd.read_parquet(out / "customers.parquet").set_index("customer_id")
    first = pd.read_parquet(run_dir / "customers.parquet").set_index("customer_id")
    pd.testing.assert_series_equal(
        again["churn_probability"], first["churn_probability"], check_exact=False, rtol=1e-9
    )


def test_score_refuses_tampered_models(run_dir: Path, orders: Path, tmp_path: Path) -> None:
    bad = tmp_path / "models"
    bad.mkdir()
    for f in (run_dir / "models").iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    with open(bad / "churn.skops", "ab") as fh:
        fh.write(b"tampered")
    out = tmp_path / "scored"
    result, text = _invoke("score", str(bad), str(orders), "--out", str(out))
    assert result.exit_code == 2 and "modified" in text and "Traceback" not in text
    assert not out.exists()


def test_score_given_the_results_folder_points_at_its_models(
    run_dir: Path, orders: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scored"
    result, text = _invoke("score", str(run_dir), str(orders), "--out", str(out))
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert "not a custlens model folder" in text
    assert f"pass the models folder inside it: {str(run_dir / 'models')!r}" in " ".join(
        text.split()
    )
    assert not out.exists()


def test_score_names_the_columns_the_models_were_trained_with(
    run_dir: Path, orders: Path, tmp_path: Path
) -> None:
    # the models learned from product and category columns (product_entropy, category_entropy
    # ...): new data without them cannot give those features, and the message says which
    # columns to map, not which internal features are missing
    source = tmp_path / "no_products.csv"
    frame = pd.read_parquet(orders).drop(columns=["StockCode", "Description", "Category"])
    frame.to_csv(source, index=False)
    out = tmp_path / "scored"
    result, text = _invoke("score", str(run_dir / "models"), str(source), "--out", str(out))
    text = " ".join(text.split())
    assert result.exit_code == 2 and "Traceback" not in text, text
    assert "trained on order lines with the column(s) product_id, category" in text, text
    assert "Where: " + str(source) in text and "customer_id=CustomerID" in text, text
    assert "--map product_id=<column> --map category=<column>" in text, text
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--cutoff", "2001-01-01"], "cutoff"),
        (["--cutoff", "2023-12-01", "--horizon", "90d"], "horizon"),
        (["--horizon", "ninety"], "--horizon"),
    ],
    ids=["cutoff before data", "horizon past data", "bad horizon"],
)
def test_prediction_bad_input(orders: Path, tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "r"
    result, text = _invoke(
        "run", str(orders), "--out", str(out), "--analyses", "predictions", *args
    )
    assert result.exit_code == 2, text
    assert needle in text.lower() and "Traceback" not in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "days"),
    [("90d", 90), ("90", 90), ("90 days", 90), ("39w", 273), ("39 weeks", 273), ("1W", 7)],
)
def test_horizon_in_days_or_weeks(text, days):
    from custlens.cli.flags import parse_horizon

    assert parse_horizon(text) == days


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ninety", "days or weeks"),
        ("0d", "no time at all"),
        ("0w", "no time at all"),
        ("3m", "days or weeks"),
        ("-5d", "days or weeks"),
        ("39 w x", "days or weeks"),
    ],
)
def test_bad_horizons_are_refused(text, said):
    from custlens.cli.flags import parse_horizon
    from custlens.errors import ConfigError

    with pytest.raises(ConfigError, match=said):
        parse_horizon(text)


def test_as_of_within_a_horizon_after_the_data_end_scores_with_a_note(tmp_path: Path) -> None:
    # the pipeline's path (the customer table's rows reused): the final last period is empty
    orders = tmp_path / "orders.parquet"
    data = custlens.datasets.synthetic(300, seed=12).orders
    data.to_parquet(orders, index=False)
    end = pd.Timestamp(data["InvoiceDate"].max()).normalize()
    as_of = (end + pd.Timedelta(days=80)).date()  # 79 days in between: within the 90 days
    out = tmp_path / "r"
    args = ["run", str(orders), "--out", str(out), "--figures", "none"]
    result, text = _invoke(*args, "--analyses", "predictions", "--as-of", as_of.isoformat())
    assert result.exit_code == 0, text + repr(result.exception)
    run = json.loads((out / "run.json").read_text())
    assert "predictions" not in run["skipped"]
    notes = [n for n in run["notes"] if n.startswith(f"predictions: the as-of date {as_of}")]
    assert len(notes) == 1 and "as days without orders" in notes[0]
    customers = pd.read_parquet(out / "customers.parquet")
    assert customers["churn_probability"].between(0, 1).all()
    manifest = json.loads((out / "models" / "manifest.json").read_text())
    assert manifest["train_cutoff"] < as_of.isoformat()
    summary = json.loads((out / "predictions" / "summary.json").read_text())
    assert summary["scores"] == "computed" and summary["days_after_data"] == 79
    assert f"Scores as of {as_of} count the 79 days after the last purchase" in text
    assert "Notes on these predictions" in (out / "report.md").read_text()


def test_as_of_years_after_the_data_end_withholds_the_scores(tmp_path: Path) -> None:
    # three years after the last order: every model number would be an extrapolation that no
    # backtest checked (LightGBM gave some long-gone customers "0-30 days" and a positive CLV)
    orders = tmp_path / "orders.parquet"
    data = custlens.datasets.synthetic(300, seed=12).orders
    data.to_parquet(orders, index=False)
    last = pd.Timestamp(data["InvoiceDate"].max()).date()
    as_of = last.replace(year=last.year + 3)
    gap = (as_of - last).days - 1
    out = tmp_path / "r"
    args = ["run", str(orders), "--out", str(out), "--figures", "none"]
    result, text = _invoke(*args, "--analyses", "predictions", "--as-of", as_of.isoformat())
    assert result.exit_code == 0, text + repr(result.exception)
    assert "Customer scores skipped" in text  # the console says so
    run = json.loads((out / "run.json").read_text())
    assert "predictions" not in run["skipped"]  # the backtest still ran
    notes = [n for n in run["notes"] if n.startswith("predictions: customer scores skipped")]
    assert len(notes) == 1
    assert f"the {gap} days in between" in notes[0] and "90-day horizon" in notes[0]
    summary = json.loads((out / "predictions" / "summary.json").read_text())
    assert summary["scores"] == "skipped"
    metrics = json.loads((out / "predictions" / "metrics.json").read_text())
    assert "lightgbm" in metrics["churn"]  # the backtest's metrics stand
    customers = pd.read_csv(out / "customers.csv")
    for col in ("churn_probability", "p_alive", "expected_purchases", "clv"):
        assert customers[col].isna().all(), col
    assert customers["next_purchase_window"].isna().all()
    assert (customers["churn_source"] == "withheld").all()
    assert (customers["clv_source"] == "withheld").all()
    assert not (out / "models").exists()
    report = (out / "report.md").read_text()
    assert "No customer is scored as of" in report and "Top spenders likely to churn" not in report


def test_score_withholds_scores_far_after_the_new_data(
    run_dir: Path, orders: Path, tmp_path: Path
) -> None:
    last = pd.read_parquet(orders)["InvoiceDate"].max().date()
    as_of = last.replace(year=last.year + 2)
    out = tmp_path / "scored"
    result, text = _invoke(
        "score", str(run_dir / "models"), str(orders), "--out", str(out), "--as-of", str(as_of)
    )
    assert result.exit_code == 0, text + repr(result.exception)
    customers = pd.read_parquet(out / "customers.parquet")
    assert customers["churn_probability"].isna().all() and customers["clv"].isna().all()
    assert (customers["churn_source"] == "withheld").all()
    run = json.loads((out / "run.json").read_text())
    assert any(n.startswith("predictions: customer scores skipped") for n in run["notes"])
    said = " ".join(text.split())  # the console: no claim of scores, and why
    assert "Scored" not in said, said
    assert f"No customer scored as of {as_of}" in said
    assert "Note: predictions: customer scores skipped" in said


def test_score_says_the_as_of_date_and_its_notes(
    run_dir: Path, orders: Path, tmp_path: Path
) -> None:
    frame = pd.read_parquet(orders)
    as_of = frame["InvoiceDate"].max().date() + pd.Timedelta(days=1)  # the day after the data
    out = tmp_path / "scored"
    result, text = _invoke("score", str(run_dir / "models"), str(orders), "--out", str(out))
    assert result.exit_code == 0, text + repr(result.exception)
    customers = len(pd.read_parquet(out / "customers.parquet"))  # every one of them scored
    said = " ".join(text.split())
    assert f"Scored {customers:,} customers as of {as_of}" in said, said
    assert f"Note: predictions: scores as of {as_of} with the models of" in said
    assert "Output: " in said and " purchase lines" in said  # the cleaning, as run prints it


def test_score_takes_the_cleaning_mode(run_dir: Path, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored"
    args = ["score", str(run_dir / "models"), str(orders), "--out", str(out)]
    result, text = _invoke(*args, "--cleaning", "minimal")
    assert result.exit_code == 0, text + repr(result.exception)
    assert json.loads((out / "run.json").read_text())["settings"]["cleaning"]["mode"] == "minimal"
    # the models' run cleaned with the default rules: the console says the scores shift
    assert "Note: predictions: these data were cleaned with other rules" in " ".join(text.split())
