"""End to end: source -> results folder, checked against independent computations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import custlens
from custlens.cli import app
from custlens.exports import segment_slug


def _run_cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 0, text + repr(result.exception)
    return text


@pytest.fixture(scope="module")
def online_retail_minimal(online_retail_path: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("or") / "results"
    # what these tests read (the customer table, segments, CRM lists, run.json) is the same
    # in a full run; the other analyses run on Online Retail in the shared full run's tests
    _run_cli("run", str(online_retail_path), "--out", str(out), "--cleaning", "minimal",
             "--analyses", "rfm", "--figures", "none")  # fmt: skip
    return out


def test_published_online_retail_figures(online_retail_minimal: Path) -> None:
    customers = pd.read_parquet(online_retail_minimal / "customers.parquet")
    # Chen, Sain & Guo (2012) and most published analyses: 4,338 customers, 18,532 orders,
    # revenue 8,911,407.90 after removing missing ids, cancellations/returns and zero prices.
    assert len(customers) == 4338
    assert int(customers["frequency"].sum()) == 18532
    assert round(float(customers["monetary"].sum()), 2) == 8911407.90


def test_recency_matches_an_independent_duckdb_query(
    online_retail_minimal: Path, online_retail_path: Path
) -> None:
    expected = duckdb.sql(
        f"""
        with t as (
          select CAST(CustomerID AS VARCHAR) as c, InvoiceDate as ts
          from read_csv('{online_retail_path}')
          where CustomerID is not null and Quantity > 0 and UnitPrice > 0
            and not starts_with(InvoiceNo, 'C'))
        select c, date_diff('day', max(ts)::date, DATE '2011-12-10') as recency
        from t group by c order by c"""
    ).df()
    got = pd.read_parquet(online_retail_minimal / "customers.parquet")
    merged = expected.merge(got, left_on="c", right_on="customer_id", validate="1:1")
    assert len(merged) == 4338
    assert (merged["recency"] == merged["recency_days"]).all()


def test_run_outputs_are_complete_and_consistent(
    online_retail_minimal: Path, online_retail_path: Path
) -> None:
    out = online_retail_minimal
    run = json.loads((out / "run.json").read_text())
    assert run["input"]["sha256"] == hashlib.sha256(online_retail_path.read_bytes()).hexdigest()
    assert run["as_of"] == "2011-12-10"  # the day after the last order (2011-12-09)
    assert run["rows"]["loaded"] == 541909
    assert run["rows"]["customers"] == 4338
    assert {"load", "clean", "customer table", "segments"} <= set(run["seconds"])
    assert run["settings"]["cleaning"]["mode"] == "minimal"
    assert "duckdb" in run["versions"]

    customers = pd.read_parquet(out / "customers.parquet")
    summary = pd.read_csv(out / "segment_summary.csv")
    assert summary["customers"].sum() == len(customers)
    assert summary["share"].sum() == pytest.approx(1.0, abs=1e-5)
    assert summary["revenue_share"].sum() == pytest.approx(1.0, abs=1e-5)
    for segment, group in customers.groupby("segment"):
        crm = pd.read_csv(out / "segments" / f"{segment_slug(segment)}.csv")
        assert len(crm) == len(group)
        assert {"customer_id", "action"} <= set(crm.columns)
        assert crm["monetary"].is_monotonic_decreasing
    quality = json.loads((out / "quality.json").read_text())
    assert quality["customers_out"] == 4338
    assert (out / "customers.csv").is_file()


def test_api_run_is_deterministic_and_matches_cli(tmp_path: Path):
    orders = custlens.datasets.synthetic(300, seed=3).orders
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path, index=False)
    first = custlens.run(str(path))
    second = custlens.run(str(path))
    pd.testing.assert_frame_equal(first.customers, second.customers)
    out = tmp_path / "res"
    _run_cli("run", str(path), "--out", str(out), "--figures", "none")  # the tables compared
    from_cli = pd.read_parquet(out / "customers.parquet")
    pd.testing.assert_frame_equal(
        from_cli.reset_index(drop=True), first.customers.reset_index(drop=True), check_dtype=False
    )


def test_rerun_into_own_folder_replaces_it(tmp_path: Path) -> None:
    orders = custlens.datasets.synthetic(200, seed=5).orders
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    out = tmp_path / "res"
    _run_cli("run", str(path), "--out", str(out), "--analyses", "predictions")
    assert (out / "figures").is_dir() and (out / "predictions").is_dir()
    _run_cli("run", str(path), "--out", str(out), "--cleaning", "minimal", "--analyses", "rfm",
             "--figures", "none")  # fmt: skip
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["cleaning"]["mode"] == "minimal"
    # the earlier run's files are gone, not mixed with the new ones
    assert not (out / "figures").exists() and not (out / "predictions").exists()


def test_generate_command(tmp_path: Path) -> None:
    path = tmp_path / "syn.parquet"
    _run_cli("generate", "--customers", "100", "--out", str(path), "--seed", "7")
    orders = pd.read_parquet(path)
    again = custlens.datasets.synthetic(100, seed=7).orders
    assert len(orders) == len(again)
