"""Migration on Online Retail between 2011-09-10 and 2011-12-10: the margins agree with the run's
own customer table and segment summary, and the Stuart-Maxwell test with statsmodels."""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import SquareTable

import custlens
from custlens.config import Settings


@pytest.mark.slow
def test_online_retail_migration(online_retail_path):
    settings = Settings(analyses=["migration"], as_of="2011-12-10").with_overrides(
        **{"migration.compare_to": "2011-09-10"}
    )
    results = custlens.run(online_retail_path, settings=settings)
    mig = results.stages["migration"]
    grid = mig.tables["transitions"].pivot(
        index="from_state", columns="to_state", values="customers"
    )
    customers = results.customers
    earlier = customers["first_order"] < pd.Timestamp("2011-09-10")
    assert grid.loc["new"].sum() == int((~earlier).sum())
    assert grid.drop(index="new").to_numpy().sum() == int(earlier.sum())
    lost_now = customers["recency_days"] > 365
    assert grid["lost"].sum() == int(lost_now.sum())
    by_segment = customers.loc[~lost_now, "segment"].value_counts()
    for segment, count in by_segment.items():
        assert grid[segment].sum() == count, segment
    # Stuart-Maxwell on the continuing customers, with statsmodels directly
    square = grid.drop(index="new")
    states = [s for s in square.index if square.loc[s].sum() + square[s].sum() > 0]
    expected = SquareTable(
        square.loc[states, states].to_numpy(float), shift_zeros=False
    ).homogeneity()
    assert mig.summary["stuart_maxwell"]["statistic"] == pytest.approx(expected.statistic)
