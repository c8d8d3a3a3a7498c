"""The demo customer table: shape, determinism, sanity, and planted misfits that are really there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.datasets.customer_table_demo import SEGMENTS, customer_table_demo
from custlens.errors import ConfigError

EXPECTED_COLUMNS = {
    "customer_id",
    "snapshot_date",
    "profitability_segment",
    "retention_probability",
    "comprehensive_customer_score",
    "transaction_count",
    "avg_transactions_per_month",
    "customer_age_days",
    "total_revenue",
    "avg_transaction_value",
    "transaction_value_std",
    "q1_share",
    "q2_share",
    "q3_share",
    "q4_share",
    "industry",
    "region",
    "_planted_misfit",
    "_planted_persona",
}


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return customer_table_demo(n=1500, seed=3)


def test_columns_rows_and_values_are_sane(demo: pd.DataFrame) -> None:
    assert set(demo.columns) == EXPECTED_COLUMNS
    assert len(demo) == 1500 and demo["customer_id"].is_unique
    assert set(demo["profitability_segment"]) == set(SEGMENTS)
    assert demo["retention_probability"].between(0, 1).all()
    assert demo["comprehensive_customer_score"].between(0, 100).all()
    assert (demo["transaction_count"] >= 1).all()
    quarters = demo[["q1_share", "q2_share", "q3_share", "q4_share"]].sum(axis=1)
    assert np.allclose(quarters, 1.0, atol=5e-4)
    # total revenue = count x average value (rounded to cents)
    assert np.allclose(
        demo["total_revenue"],
        demo["transaction_count"] * demo["avg_transaction_value"],
        atol=0.02 * demo["transaction_count"],
    )
    # a standard deviation needs two transactions
    assert (demo["transaction_value_std"].isna() == (demo["transaction_count"] < 2)).all()
    assert demo["_planted_misfit"].dtype == bool
    assert ((demo["_planted_persona"] != "") == demo["_planted_misfit"]).all()


def test_same_seed_same_table_other_seed_differs() -> None:
    a = customer_table_demo(n=200, seed=11)
    b = customer_table_demo(n=200, seed=11)
    c = customer_table_demo(n=200, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a["retention_probability"].equals(c["retention_probability"])


def test_planted_misfits_deviate_and_ordinary_customers_do_not(demo: pd.DataFrame) -> None:
    seg_mean = demo.groupby("profitability_segment")["retention_probability"].transform("mean")
    deviates = (demo["retention_probability"] - seg_mean).abs() > 0.15
    misfit = demo["_planted_misfit"]
    assert 0.05 < misfit.mean() < 0.14
    assert deviates[misfit].mean() > 0.9
    assert deviates[~misfit].mean() < 0.05


def test_planted_behaviour_explains_the_misfits(demo: pd.DataFrame) -> None:
    persona = demo["_planted_persona"]
    ordinary = persona == ""
    months = demo["customer_age_days"] / 30.4375
    consistency = demo["transaction_count"] / (demo["avg_transactions_per_month"] * months)
    cv = demo["transaction_value_std"] / demo["avg_transaction_value"]
    erratic = persona == "erratic_cadence"
    assert consistency[erratic].median() < 0.6 < 0.8 < consistency[ordinary].median()
    assert cv[erratic].median() > 2 * cv[ordinary].median()
    seasonal = persona == "q4_seasonal"
    assert (
        demo.loc[seasonal, "q4_share"].median()
        > 0.45
        > 0.3
        > demo.loc[ordinary, "q4_share"].median()
    )
    newbie = persona == "new_high_potential"
    assert demo.loc[newbie, "customer_age_days"].max() < 200
    assert set(demo.loc[newbie, "profitability_segment"]) <= {"Low Profit", "Break-Even", "Loss"}
    # their retention is above their segment's level, the other personas' below
    seg_mean = demo.groupby("profitability_segment")["retention_probability"].transform("mean")
    dev = demo["retention_probability"] - seg_mean
    assert (dev[newbie] > 0).all() and (dev[erratic | seasonal] < 0).all()
    # Retail is over-represented among the Q4-seasonal customers; region is independent
    assert (demo.loc[seasonal, "industry"] == "Retail").mean() > 0.4


def test_snapshots_age_and_accumulate() -> None:
    df = customer_table_demo(n=300, seed=5, snapshots=3)
    dates = sorted(df["snapshot_date"].unique())
    assert [str(pd.Timestamp(d).date()) for d in dates] == [
        "2024-10-31",
        "2024-11-30",
        "2024-12-31",
    ]
    assert (df.groupby("snapshot_date")["customer_id"].nunique().loc[dates[-1]]) == 300
    assert df["snapshot_date"].is_monotonic_increasing
    ordered = df.sort_values(["customer_id", "snapshot_date"])
    grew = ordered.groupby("customer_id")["transaction_count"].diff().dropna()
    aged = ordered.groupby("customer_id")["customer_age_days"].diff().dropna()
    assert (grew >= 0).all() and (aged > 0).all()
    # the truth flag is constant per customer
    assert (df.groupby("customer_id")["_planted_misfit"].nunique() == 1).all()


@pytest.mark.parametrize("kwargs", [{"n": 5}, {"n": 100, "snapshots": 0}, {"n": "many"}])
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        customer_table_demo(**kwargs)
